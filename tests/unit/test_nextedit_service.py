"""The stream of hunks for one request: every source in turn, no overlaps, sources closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from inkstream.nextedit.history import Edit
from inkstream.nextedit.hunk import LineHunk
from inkstream.nextedit.service import NextEditRequest, offline_hunks, predict

LINES = ("total = 0", "x = total", "y = 1", "z = total")
REQUEST = NextEditRequest(
    uri="file:///a.py",
    path="/a.py",
    language_id="python",
    version=3,
    lines=("subtotal = 0", *LINES[1:]),
    cursor=(0, 3),
    edits=(Edit("file:///a.py", 0, ("total = 0",), ("subtotal = 0",), 0.0),),
)


def collect(sources: list) -> list[LineHunk]:
    async def run() -> list[LineHunk]:
        return [h async for _, h in predict(REQUEST, sources)]

    return asyncio.run(run())


def test_later_sources_add_only_what_does_not_overlap() -> None:
    closed: list[str] = []

    async def model(request: NextEditRequest) -> AsyncIterator[LineHunk]:
        try:
            yield LineHunk(1, 2, ("x = subtotal",))  # the predictor's already
            yield LineHunk(2, 3, ("y = 2",))
            yield LineHunk(2, 2, ("w = 0",))  # touches the line just taken
            yield LineHunk(3, 3, ("",) * 0)  # an empty insertion changes nothing
            yield LineHunk(9, 10, ("out of range",))
        finally:
            closed.append("model")

    hunks = collect([offline_hunks, model])
    assert hunks == [
        LineHunk(1, 2, ("x = subtotal",)),
        LineHunk(3, 4, ("z = subtotal",)),
        LineHunk(2, 3, ("y = 2",)),
    ]
    assert closed == ["model"]


def test_a_source_is_closed_when_the_consumer_stops() -> None:
    closed: list[bool] = []

    async def model(request: NextEditRequest) -> AsyncIterator[LineHunk]:
        try:
            for i in range(4):
                yield LineHunk(i, i + 1, (f"line {i}",))
        finally:
            closed.append(True)

    async def first_only() -> LineHunk:
        stream = predict(REQUEST, [model])
        try:
            return (await anext(stream))[1]
        finally:
            await stream.aclose()

    assert asyncio.run(first_only()) == LineHunk(0, 1, ("line 0",))
    assert closed == [True]


def test_no_history_no_offline_hunks() -> None:
    request = NextEditRequest("u", "/u", "python", 1, LINES, (0, 0), ())

    async def run() -> list[LineHunk]:
        return [h async for h in offline_hunks(request)]

    assert asyncio.run(run()) == []
