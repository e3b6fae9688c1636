"""What may leave the machine: excluded files are never sent, and secrets are redacted from text.

Pure: the caller supplies the ``.gitignore`` lines; nothing here reads files.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

import pathspec

from inkstream.completion import secret_rules

#: Files that look like they hold secrets, whatever the settings say.
SECRET_FILE_GLOBS = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".npmrc",
    ".pypirc",
    "credentials",
    "credentials.json",
    "*.secret",
    "secrets.*",
)

REDACTED = "<redacted>"


@dataclass(frozen=True)
class Finding:
    """A secret found in text: where, and which rule saw it."""

    start: int
    end: int
    rule: str


def find_secrets(text: str) -> list[Finding]:
    """Every secret in ``text``, in order, overlapping findings merged (the first rule's name)."""
    found = [Finding(start, end, rule) for start, end, rule in secret_rules.rule_spans(text)]
    found.sort(key=lambda f: (f.start, -f.end))
    merged: list[Finding] = []
    for f in found:
        if merged and f.start <= merged[-1].end:
            last = merged[-1]
            if f.end > last.end:
                merged[-1] = Finding(last.start, f.end, last.rule)
        else:
            merged.append(f)
    return merged


def redact(text: str) -> str:
    """The text that may go upstream: each secret replaced by ``REDACTED``, the code around kept.

    Everything sent to a model goes through this (or ``redact_parts``): completion prompts,
    snippets from other files, explanations, next edits' edit history.
    """
    return _replace(text, find_secrets(text))


def redact_parts(*parts: str) -> tuple[str, ...]:
    """``redact`` for one text cut in pieces (before and after the cursor; before, in and after a
    selection): a secret cut by a boundary is still seen whole, and goes from every piece (its
    marker stands where it began)."""
    joined = "".join(parts)
    findings = find_secrets(joined)
    out: list[str] = []
    offset = 0
    for part in parts:
        end = offset + len(part)
        pieces: list[str] = []
        at = offset
        for f in findings:
            if f.end <= offset or f.start >= end:
                continue
            pieces.append(joined[at : max(f.start, offset)])
            if f.start >= offset:
                pieces.append(REDACTED)
            at = min(f.end, end)
        pieces.append(joined[at:end])
        out.append("".join(pieces))
        offset = end
    return tuple(out)


#: how much of the document either side of the cursor is redacted, and so may be sent: more than
#: a prompt takes (1,500 tokens of about 4 characters), so the prompt builders cut exactly as they
#: would from the whole text, and the cost stays that of a prompt, not of the whole file
WINDOW_CHARS = 8_000


def redact_around_cursor(prefix: str, suffix: str) -> tuple[str, str]:
    """The text near the cursor (``near_cursor``) as it may be sent. Remembered for the last few
    cursors, so that the inline handler can pay for it while its debounce waits anyway, and the
    request that follows finds it done."""
    return _redact_window(*near_cursor(prefix, suffix, WINDOW_CHARS))


@functools.lru_cache(maxsize=8)
def _redact_window(prefix: str, suffix: str) -> tuple[str, str]:
    before, after = redact_parts(prefix, suffix)
    return before, after


def near_cursor(prefix: str, suffix: str, window: int) -> tuple[str, str]:
    """The last and first ``window`` characters of the text either side, widened to whole lines
    so no secret is cut in two (unless one line is longer than the window)."""
    if len(prefix) > window:
        start = len(prefix) - window
        line_start = prefix.rfind("\n", 0, start) + 1
        prefix = prefix[line_start if start - line_start < window else start :]
    if len(suffix) > window:
        line_end = suffix.find("\n", window)
        suffix = suffix[: line_end if 0 <= line_end < 2 * window else window]
    return prefix, suffix


def _replace(text: str, findings: list[Finding]) -> str:
    if not findings:
        return text
    parts: list[str] = []
    at = 0
    for f in findings:
        parts.append(text[at : f.start])
        parts.append(REDACTED)
        at = f.end
    parts.append(text[at:])
    return "".join(parts)


class ExclusionRules:
    """Decides whether a file may be sent upstream at all."""

    def __init__(self, exclude_globs: Iterable[str] = (), gitignore_lines: Iterable[str] = ()):
        self._globs = tuple(exclude_globs)
        self._gitignore = pathspec.GitIgnoreSpec.from_lines(list(gitignore_lines))

    def is_excluded(self, path: str, root: str | None = None) -> bool:
        return self.exclusion(path, root) is not None

    def exclusion(self, path: str, root: str | None = None) -> str | None:
        """Why nothing of ``path`` may be sent (said to the user), or None."""
        posix = PurePosixPath(path.replace("\\", "/"))
        name = posix.name
        if any(fnmatch.fnmatch(name, glob) for glob in SECRET_FILE_GLOBS):
            return f"{name} looks like a file of secrets"
        relative = _relative(posix, root)
        for glob in self._globs:
            if fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(str(posix), glob):
                return f"{name} matches the exclude setting ({glob})"
            if "/" not in glob and fnmatch.fnmatch(name, glob):
                return f"{name} matches the exclude setting ({glob})"
        if relative and self._gitignore.match_file(relative):
            return f"{name} is ignored by the workspace's .gitignore"
        return None


def _relative(path: PurePosixPath, root: str | None) -> str:
    if root:
        try:
            return str(path.relative_to(PurePosixPath(root.replace("\\", "/"))))
        except ValueError:
            return ""
    return str(path).lstrip("/")
