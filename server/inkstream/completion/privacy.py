"""What may leave the machine: excluded files are never sent, and secrets are redacted from text.

Pure: the caller supplies the ``.gitignore`` lines; nothing here reads files.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from pathlib import PurePosixPath

import pathspec

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

_SECRET_PATTERNS = [
    # private key blocks, whole
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S),
    # well-known token shapes
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"),  # OpenAI / Anthropic
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),  # GitHub
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bAKIA[0-9A-Z]{16}\b"),  # AWS access key id
    re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"),  # Google API key
    re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}"),  # GitLab
    re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),  # JWT
]

# NAME = "value" where NAME says it is a secret; only the value is replaced
_ASSIGNED_SECRET = re.compile(
    r"""(?ix)
    (\b[\w.-]*(?:password|passwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|token|private[_-]?key)
     [\w.-]*\b\s*[:=]\s*)
    (["'])([^"'\s]{8,})\2
    """
)


def redact(text: str) -> str:
    """Replace secrets in ``text`` with a marker, keeping the code around them."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _ASSIGNED_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)


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
