"""The one shape every next-edit source produces, and its narrowing to an LSP edit.

Sources think in lines (a model rewrites a region line by line, a propagated rename replaces a
line); editors draw best what changed and nothing more, so the edit sent is the hunk with the
characters both sides share trimmed away.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineHunk:
    """Replace lines ``[start, end)`` of the document with ``lines`` (``start == end``: insert)."""

    start: int
    end: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CharEdit:
    """A replacement in (line, character) coordinates, characters as ``str`` indices."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


def narrow(hunk: LineHunk, document_lines: list[str]) -> CharEdit:
    """The smallest character range whose replacement turns the old lines into the new ones,
    widened to whole words where it starts or ends inside one."""
    old = "\n".join(document_lines[hunk.start : hunk.end])
    new = "\n".join(hunk.lines)
    if hunk.start == hunk.end:  # a pure insertion of whole lines before line ``start``
        return CharEdit((hunk.start, 0), (hunk.start, 0), new + "\n")
    if not hunk.lines:  # a pure deletion of whole lines
        if hunk.end < len(document_lines):
            return CharEdit((hunk.start, 0), (hunk.end, 0), "")
        if hunk.start == 0:
            return CharEdit((0, 0), (hunk.end - 1, len(document_lines[hunk.end - 1])), "")
        prev = hunk.start - 1
        return CharEdit(
            (prev, len(document_lines[prev])),
            (hunk.end - 1, len(document_lines[hunk.end - 1])),
            "",
        )
    head = 0
    limit = min(len(old), len(new))
    while head < limit and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < limit - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    head, tail = _whole_words(old, new, head, tail)
    return CharEdit(
        _position(old, head, hunk.start),
        _position(old, len(old) - tail, hunk.start),
        new[head : len(new) - tail],
    )


def _word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _whole_words(old: str, new: str, head: int, tail: int) -> tuple[int, int]:
    """Widen a change that starts or ends inside a word to the whole word, so a rename reads
    as ``total`` → ``subtotal`` rather than ``sub`` inserted before ``tal``."""

    def inside_at_head() -> bool:
        edge = [s[head] for s in (old, new) if head < len(s) - tail]
        return head > 0 and _word(old[head - 1]) and any(_word(c) for c in edge)

    def inside_at_tail() -> bool:
        edge = [s[len(s) - tail - 1] for s in (old, new) if len(s) - tail - 1 >= head]
        return tail > 0 and _word(old[len(old) - tail]) and any(_word(c) for c in edge)

    if head < len(old) - tail or head < len(new) - tail:  # something changed
        while inside_at_head():
            head -= 1
        while inside_at_tail():
            tail -= 1
    return head, tail


def _position(text: str, offset: int, first_line: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n")
    column = offset - (before.rfind("\n") + 1)
    return first_line + line, column
