"""The user's recent edits, per document, as line hunks: what a next edit is predicted from.

Pure. The server feeds it each document's whole text after every ``didChange`` (incremental or
full); the changed span is found by comparing with the previous text, so both kinds of change
and multi-change notifications look the same here. Consecutive changes on the same lines (typing
a word, renaming an identifier key by key) merge into one edit, so a rename is one
``total`` → ``subtotal`` edit and not eight one-character ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

#: edits kept per document (older ones drop off)
MAX_EDITS = 10
#: seconds an edit stays relevant
MAX_AGE = 300.0
#: compare texts this many characters at a time before narrowing down (memcmp speed)
_BLOCK = 4096


@dataclass(frozen=True)
class Edit:
    """Lines ``[start, start + len(old))`` became ``new`` (``start`` counts in the new text)."""

    uri: str
    start: int
    old: tuple[str, ...]
    new: tuple[str, ...]
    #: when it was last extended (seconds, any monotonic clock)
    at: float

    @property
    def end(self) -> int:
        """One past its last line in the document after it."""
        return self.start + len(self.new)

    def unified(self, path: str) -> str:
        """As a unified diff hunk, the form every next-edit model was trained on."""
        header = (
            f"--- a/{path}\n+++ b/{path}\n"
            f"@@ -{self.start + 1},{len(self.old)} +{self.start + 1},{len(self.new)} @@\n"
        )
        body = [f"-{line}\n" for line in self.old] + [f"+{line}\n" for line in self.new]
        return header + "".join(body)


@dataclass
class _Document:
    text: str
    edits: list[Edit] = field(default_factory=list)
    #: the text when it was opened: names the user brought in since are new to the file
    opened: str = ""


class EditHistory:
    """Every open document's text as last seen and its recent edits, oldest first."""

    def __init__(self, *, max_edits: int = MAX_EDITS, max_age: float = MAX_AGE) -> None:
        self._documents: dict[str, _Document] = {}
        self._max_edits = max_edits
        self._max_age = max_age

    def open(self, uri: str, text: str) -> None:
        self._documents[uri] = _Document(text, opened=text)

    def close(self, uri: str) -> None:
        self._documents.pop(uri, None)

    def change(self, uri: str, text: str, now: float) -> Edit | None:
        """The document's text is now ``text``; record what changed. Returns the document's
        newest edit (merged with the one before when the user kept typing on the same lines)."""
        document = self._documents.get(uri)
        if document is None:  # opened before we listened: start from here
            self._documents[uri] = _Document(text, opened=text)
            return None
        edit = diff(document.text, text, uri, now)
        document.text = text
        if edit is None:
            return None
        edits = document.edits
        if edits and (merged := merge(edits[-1], edit)) is not False:
            edits.pop()
            if merged is None:  # typed and deleted again: nothing happened
                return None
            edit = merged
        edits.append(edit)
        del edits[: -self._max_edits]
        return edit

    def opened(self, uri: str) -> str | None:
        """The document's text as it was opened."""
        document = self._documents.get(uri)
        return None if document is None else document.opened

    def edits(self, uri: str, now: float) -> tuple[Edit, ...]:
        """The document's edits of the last few minutes, oldest first."""
        document = self._documents.get(uri)
        if document is None:
            return ()
        return tuple(e for e in document.edits if now - e.at <= self._max_age)

    def context(
        self,
        uri: str,
        now: float,
        *,
        excluded: Callable[[str], bool],
        redact: Callable[[str], str],
        budget_chars: int,
    ) -> tuple[Edit, ...]:
        """What a prompt may show: this document's recent edits, then other documents' newest
        first while they fit ``budget_chars``; excluded files left out, secrets redacted.
        Oldest first, as a model reads a history."""
        if excluded(uri):
            return ()
        chosen: list[Edit] = []
        spent = 0
        own = [e for e in reversed(self.edits(uri, now))]
        others = sorted(
            (
                e
                for u in self._documents
                if u != uri and not excluded(u)
                for e in self.edits(u, now)
            ),
            key=lambda e: e.at,
            reverse=True,
        )
        for edit in [*own, *others]:
            cost = sum(len(line) + 1 for line in (*edit.old, *edit.new))
            if spent + cost > budget_chars:
                if edit.uri == uri and not chosen:
                    continue  # one huge edit must not hide the rest
                break
            spent += cost
            chosen.append(_redacted(edit, redact))
        return tuple(sorted(chosen, key=lambda e: e.at))


def _redacted(edit: Edit, redact: Callable[[str], str]) -> Edit:
    def clean(lines: Iterable[str]) -> tuple[str, ...]:
        return tuple(redact("\n".join(lines)).split("\n")) if lines else ()

    return replace(edit, old=clean(edit.old), new=clean(edit.new))


def _common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    i = 0
    while i + _BLOCK <= limit and a[i : i + _BLOCK] == b[i : i + _BLOCK]:
        i += _BLOCK
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    n = 0
    la, lb = len(a), len(b)
    while n + _BLOCK <= limit and a[la - n - _BLOCK : la - n] == b[lb - n - _BLOCK : lb - n]:
        n += _BLOCK
    while n < limit and a[la - 1 - n] == b[lb - 1 - n]:
        n += 1
    return n


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.removesuffix("\r") for line in text.split("\n"))


def diff(old: str, new: str, uri: str, now: float) -> Edit | None:
    """The one line hunk that turns ``old`` into ``new`` (None if they are equal)."""
    if old == new:
        return None
    head = _common_prefix(old, new)
    tail = _common_suffix(old, new, min(len(old), len(new)) - head)
    first = old.rfind("\n", 0, head) + 1  # start of the first changed line (same in both)
    old_stop = old.find("\n", len(old) - tail)
    new_stop = new.find("\n", len(new) - tail)
    old_lines = _lines(old[first : len(old) if old_stop < 0 else old_stop])
    new_lines = _lines(new[first : len(new) if new_stop < 0 else new_stop])
    start = old.count("\n", 0, first)
    return _trimmed(Edit(uri, start, old_lines, new_lines, now))


def _trimmed(edit: Edit) -> Edit | None:
    """Lines equal at both ends are not part of the edit."""
    old, new, start = list(edit.old), list(edit.new), edit.start
    while old and new and old[-1] == new[-1]:
        old.pop()
        new.pop()
    lead = 0
    while lead < min(len(old), len(new)) and old[lead] == new[lead]:
        lead += 1
    if lead == len(old) == len(new):
        return None
    return replace(edit, start=start + lead, old=tuple(old[lead:]), new=tuple(new[lead:]))


def merge(before: Edit, after: Edit) -> Edit | None | Literal[False]:
    """``before`` then ``after`` as one edit when ``after`` touches the lines ``before`` wrote;
    ``False`` when they are apart, ``None`` when together they change nothing."""
    if before.uri != after.uri:
        return False
    s1, n1 = before.start, len(before.new)
    s2, o2 = after.start, len(after.old)
    overlap = s2 < s1 + n1 and s1 < s2 + o2
    touching = (o2 == 0 and s1 <= s2 <= s1 + n1) or (n1 == 0 and s2 <= s1 <= s2 + o2)
    if not (overlap or touching):
        return False
    # the lines in between, as they were after ``before`` (known from either edit)
    lo, hi = min(s1, s2), max(s1 + n1, s2 + o2)
    middle: list[str] = []
    for line in range(lo, hi):
        if s1 <= line < s1 + n1:
            middle.append(before.new[line - s1])
        else:
            middle.append(after.old[line - s2])
    old = (*middle[: s1 - lo], *before.old, *middle[s1 + n1 - lo :])
    new = (*middle[: s2 - lo], *after.new, *middle[s2 + o2 - lo :])
    return _trimmed(Edit(after.uri, lo, tuple(old), tuple(new), after.at))
