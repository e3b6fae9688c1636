"""What may leave the machine: excluded files are never sent, and secrets are redacted from text.

Pure: the caller supplies the ``.gitignore`` lines; nothing here reads files.
"""

from __future__ import annotations

import fnmatch
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
    found: list[Finding] = []
    for rule in secret_rules.RULES:
        for match in rule.pattern.finditer(text):
            start, end = match.span(rule.group)
            if start < end and (rule.valid is None or rule.valid(match.group(rule.group))):
                found.append(Finding(start, end, rule.name))
    found.extend(
        Finding(s, e, "secret-named value") for s, e in secret_rules.assigned_secret_spans(text)
    )
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

    Everything sent to a model goes through this (or ``redact_around``): completion prompts,
    snippets from other files, explanations, next edits' edit history.
    """
    return _replace(text, find_secrets(text))


def redact_around(prefix: str, suffix: str) -> tuple[str, str]:
    """``redact`` for text cut in two at the cursor, so that a secret the cursor is inside of
    (being typed, or edited) is still seen whole and redacted on both sides."""
    findings = find_secrets(prefix + suffix)
    cut = len(prefix)
    before = [Finding(f.start, min(f.end, cut), f.rule) for f in findings if f.start < cut]
    after = [Finding(max(f.start, cut) - cut, f.end - cut, f.rule) for f in findings if f.end > cut]
    redacted_suffix = _replace(suffix, after)
    if before and before[-1].end == cut and after and after[0].start == 0:
        # one secret across the cursor: its marker goes before the cursor only
        redacted_suffix = redacted_suffix[len(REDACTED) :]
    return _replace(prefix, before), redacted_suffix


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
