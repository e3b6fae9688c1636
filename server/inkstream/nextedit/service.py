"""One next-edit request: its inputs, and the hunks of every source merged into one stream.

Sources run in order, fastest first: the offline predictor (milliseconds), then a next-edit model
when one is chosen. A hunk is final when a source yields it; the stream passes each one on once,
at once, and drops hunks that overlap one already passed on (a model re-proposing the rename the
predictor offered adds nothing) or change nothing. No I/O here: a model source brings its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from inkstream.nextedit.history import Edit
from inkstream.nextedit.hunk import LineHunk
from inkstream.nextedit.propagate import propagate


@dataclass(frozen=True)
class NextEditRequest:
    """What every source may read. Positions are lines and ``str`` columns of ``lines``."""

    uri: str
    path: str
    language_id: str
    version: int | None
    #: the document's lines, without line endings
    lines: tuple[str, ...]
    #: (line, column) of the cursor
    cursor: tuple[int, int]
    #: this document's recent edits, oldest first, as typed (for local use only)
    edits: tuple[Edit, ...]
    #: what a prompt may show: recent edits here and in other open files, within the prompt
    #: budget, excluded files left out and secrets redacted (``EditHistory.context``); the
    #: document text itself is not redacted, a model source does that like completions do
    prompt_edits: tuple[Edit, ...] = ()
    #: the document as it was opened (the offline predictor: is a name new to the file?)
    opened: str | None = None


#: A source of hunks for one request. The model source is
#: ``functools.partial(model_hunks, ls, ...)`` with ``async def model_hunks(ls, request, ...)``;
#: it is closed (``aclose``) when the request ends, however it ends.
HunkSource = Callable[[NextEditRequest], AsyncIterator[LineHunk]]


async def offline_hunks(request: NextEditRequest) -> AsyncIterator[LineHunk]:
    """The user's last edit repeated where it applies (``propagate``)."""
    if not request.edits:
        return
    *earlier, last = request.edits
    own = [line for edit in earlier for line in edit.new]
    hunks = propagate(
        last,
        request.lines,
        request.cursor,
        language=request.language_id,
        own_lines=own,
        opened=request.opened,
    )
    for hunk in hunks:
        yield hunk


def after_pause(source: HunkSource, seconds: float) -> HunkSource:
    """``source``, started only after ``seconds``: the debounce before asking a model, so a
    request superseded while the user types costs nothing."""

    async def paused(request: NextEditRequest) -> AsyncIterator[LineHunk]:
        await asyncio.sleep(seconds)
        stream = source(request)
        try:
            async for hunk in stream:
                yield hunk
        finally:
            await _close(stream)

    return paused


async def predict(
    request: NextEditRequest, sources: Sequence[HunkSource]
) -> AsyncGenerator[tuple[int, LineHunk], None]:
    """Every source's hunks in turn, each passed on once, none overlapping another; each with
    the number of its source in ``sources`` (usage records say which one it came from)."""
    taken: list[LineHunk] = []
    for number, source in enumerate(sources):
        stream = source(request)
        try:
            async for hunk in stream:
                if _usable(hunk, request.lines) and not any(_overlap(hunk, t) for t in taken):
                    taken.append(hunk)
                    yield number, hunk
        finally:
            await _close(stream)


async def _close(stream: AsyncIterator[LineHunk]) -> None:
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()


def _usable(hunk: LineHunk, lines: Sequence[str]) -> bool:
    if not 0 <= hunk.start <= hunk.end <= len(lines):
        return False
    return list(hunk.lines) != list(lines[hunk.start : hunk.end])


def _overlap(a: LineHunk, b: LineHunk) -> bool:
    """Sharing a line (an insertion counts as touching the line it goes before): either way
    the second would change text the first already changes, or land ambiguously against it."""
    a_end, b_end = max(a.end, a.start + 1), max(b.end, b.start + 1)
    return max(a.start, b.start) < min(a_end, b_end)
