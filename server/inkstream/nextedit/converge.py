"""A rewritten region's lines, as the model streams them, into hunks that are final at once.

The model writes the whole region again with its edits in it. Compared with the original line by
line, the output first agrees, then diverges (an edit starts), then agrees again: once it agrees
again for long enough, the edit between is final and goes out while the model still writes. The
rule is Copilot's (vscode-copilot-chat ``ResponseProcessor.diff``): the last lines written match
consecutive original lines at or after the divergence, two of them *significant* (holding a
letter or digit) or any three; one line is enough when it lands exactly where a line-for-line
replacement would (a→a, b→b′, c→c′, d→d). A hunk that would remove two or more lines more than it
inserts, while inserting something, waits for a better match. At the end of a complete answer,
a pending divergence replaces the rest of the region, and original lines never reached are
deleted (unless they are all blank: models drop a trailing blank line); an answer cut short
(``max_tokens``, a dropped stream) leaves its pending part unsent.

Hunks are yielded in document coordinates (``LineHunk.start``/``end`` are document lines), in
order, and never revised. An answer that runs past the region (it goes on with the document's
lines after it), undoes the user's last edit, or cannot be read is *rejected*: ``rejected`` says
why, and nothing more is yielded (hunks already yielded stood on their own: final, with the region
agreeing on both sides). A hunk that would touch a line redacted from the prompt is dropped alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from inkstream.completion.privacy import REDACTED
from inkstream.nextedit.hunk import LineHunk

#: Copilot's DEFAULT_DIFF_PARAMS: nSignificantLinesToConverge, nLinesToConverge
SIGNIFICANT_LINES_TO_CONVERGE = 2
LINES_TO_CONVERGE = 3
# Copilot's pattern omits 0 ([a-zA-Z1-9]); a line "0," is as significant as "1,"
_SIGNIFICANT = re.compile(r"[A-Za-z0-9]")


def _significant(line: str) -> bool:
    return bool(_SIGNIFICANT.search(line))


@dataclass(frozen=True)
class LastEdit:
    """The user's last edit in this document: lines ``[start, end)`` were ``old`` before it."""

    start: int
    end: int
    old: tuple[str, ...]


class Converger:
    """Feed it the region's lines as they stream; it returns each hunk the moment it is final.

    ``original``: the region's lines as the model saw them (redacted); ``document``: the whole
    document as it is (its lines ``[start, start + len(original))`` are the region, unredacted).
    """

    def __init__(
        self,
        original: Sequence[str],
        *,
        start: int,
        document: Sequence[str],
        last_edit: LastEdit | None = None,
    ) -> None:
        self._original = list(original)
        self._start = start
        self._document = document
        self._last_edit = last_edit
        self._after = [line for line in document[start + len(original) :][:2]]
        self._where: dict[str, list[int]] = {}
        for i, line in enumerate(self._original):
            self._where.setdefault(line, []).append(i)
        self._at = 0  # next original line to match while aligned
        self._diverged_at: int | None = None  # where the pending edit starts
        self._pending: list[str] = []
        self._finished = False
        self.rejected: str | None = None
        self.hunks: list[LineHunk] = []  # all yielded so far
        self.dropped = 0  # hunks left out because they touched redacted lines

    # -- the stream --------------------------------------------------------------------------

    def feed(self, line: str) -> list[LineHunk]:
        """One more complete line of the rewritten region; the hunks now final (0 or 1)."""
        if self.rejected is not None or self._finished:
            return []
        if self._diverged_at is None:
            if self._at < len(self._original) and self._original[self._at] == line:
                self._at += 1
                return []
            self._diverged_at = self._at
        self._pending.append(line)
        if self._runs_past_region():
            self.reject("the answer goes on past the region with the lines after it")
            return []
        if self._at >= len(self._original):
            return []  # past the region's end nothing can match again: wait for the end
        found = self._convergence()
        if found is None:
            return []
        until, resume = found
        inserted = self._pending[: len(self._pending) - (resume - until)]
        hunk = self._hunk(self._diverged_at, until, inserted)
        self._at = resume
        self._diverged_at = None
        self._pending = []
        return self._emit(hunk)

    def finish(self, *, complete: bool) -> list[LineHunk]:
        """The stream ended; ``complete``: the answer ended where the model meant it to."""
        if self.rejected is not None or self._finished:
            return []
        self._finished = True
        if not complete:
            return []  # a cut-off answer says nothing about the lines it did not reach
        if self._diverged_at is not None:
            hunk = self._hunk(self._diverged_at, len(self._original), self._pending)
        elif self._at < len(self._original):
            if not any(line.strip() for line in self._original[self._at :]):
                return []  # only blank lines not written again: a model's sloppy ending
            hunk = self._hunk(self._at, len(self._original), [])
        else:
            return []
        return self._emit(hunk)

    @property
    def unchanged(self) -> bool:
        """The answer repeated the region as it was (after ``finish``)."""
        return self._finished and not self.hunks and not self.dropped and self.rejected is None

    # -- convergence ---------------------------------------------------------------------------

    def _convergence(self) -> tuple[int, int] | None:
        """``(until, resume)``: the pending edit replaces original lines up to ``until``; the
        output agrees again with original lines ``[until, resume)``."""
        assert self._diverged_at is not None
        pending = self._pending
        newest = pending[-1]
        # a match must lie at or after where the edit started
        candidates = [i for i in self._where.get(newest, ()) if i >= self._diverged_at]
        if not candidates or len(pending) < SIGNIFICANT_LINES_TO_CONVERGE:
            return None
        # each candidate: (the original line the newest output line matched, how far back the
        # match reaches)
        runs = [(i, i) for i in candidates]
        best: tuple[int, int] | None = None
        if runs[0][0] - self._diverged_at == len(pending) - 1:
            best = runs[0]  # a line-for-line replacement, then one line that agrees again
        matched, significant = 1, int(_significant(newest))
        for back in range(len(pending) - 2, -1, -1):
            line = pending[back]
            runs = [
                (end, first - 1)
                for end, first in runs
                if first - 1 >= self._diverged_at and self._original[first - 1] == line
            ]
            if not runs:
                break
            matched += 1
            significant += _significant(line)
            if significant == SIGNIFICANT_LINES_TO_CONVERGE:
                best = runs[0]
            if matched == LINES_TO_CONVERGE:
                best = runs[0]
                break
        if best is None:
            return None
        end, first = best
        removed = first - self._diverged_at
        inserted = len(pending) - (end - first + 1)
        if removed - inserted > 1 and inserted > 0:
            return None  # rather a later match than a big deletion with a small insertion
        return first, end + 1

    # -- checks ----------------------------------------------------------------------------

    def _runs_past_region(self) -> bool:
        """The pending lines end with the document's lines after the region: the model did not
        stop at the region's end (Zeta and Instinct misplace the end marker, a chat model may
        write on). Two lines, one of them significant, or the file's last line if significant;
        an edit that copies exactly those lines into the region is not worth the risk."""
        after = self._after
        if not after or not any(_significant(line) for line in after):
            return False
        return self._pending[-len(after) :] == after

    def _hunk(self, first: int, until: int, lines: Sequence[str]) -> LineHunk:
        return LineHunk(self._start + first, self._start + until, tuple(lines))

    def _emit(self, hunk: LineHunk) -> list[LineHunk]:
        if self._undoes_last_edit(hunk):
            self.reject("the answer undoes the user's last edit")
            return []
        if self._touches_redacted(hunk):
            self.dropped += 1
            return []
        self.hunks.append(hunk)
        return [hunk]

    def reject(self, why: str) -> None:
        """Nothing more comes of this answer (also for one the format reader cannot read)."""
        if self.rejected is None:
            self.rejected = why
        self._pending = []

    def _touches_redacted(self, hunk: LineHunk) -> bool:
        """The model saw ``<redacted>`` there, not the real text: never write it back."""
        first, until = hunk.start - self._start, hunk.end - self._start
        seen = self._original[first:until]
        real = self._document[hunk.start : hunk.end]
        return list(seen) != list(real) or any(REDACTED in line for line in hunk.lines)

    def _undoes_last_edit(self, hunk: LineHunk) -> bool:
        """Applied, the hunk would give the document back as it was before the user's last
        edit (compared whole: the edit may be recorded with more lines around it than the
        hunk touches)."""
        edit = self._last_edit
        if edit is None:
            return False
        doc = self._document
        if hunk.end < edit.start or hunk.start > edit.end:
            return False  # it does not reach the lines the edit changed
        before = [*doc[: edit.start], *edit.old, *doc[edit.end :]]
        if before == list(doc):
            return False  # the edit changed nothing
        after = [*doc[: hunk.start], *hunk.lines, *doc[hunk.end :]]
        return after == before
