"""The relay on its own: coalescing, early stop, closing, timeouts (no server, no network)."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from functools import partial

import pytest

from inkstream.completion.context import CompletionContext
from inkstream.completion.generation import Generation
from inkstream.errors import UpstreamTimeout
from inkstream.relay import (
    Coalescer,
    HangUp,
    Listener,
    Timeouts,
    hang_up_all,
    hang_up_cancelled,
    on_hang_up,
    relay_completion,
    relay_explanation,
    relay_next_edit,
    waiting_for,
)

TIMEOUTS = Timeouts(first_token=2.0, idle=2.0)


class Recorder(Listener):
    def __init__(self) -> None:
        self.texts: list[str] = []

    def on_text(self, text: str, *, line_completed: bool) -> None:
        self.texts.append(text)


class Source:
    """An async generator of deltas that records whether it was closed."""

    def __init__(self, deltas: list[str], delay: float = 0.0) -> None:
        self.deltas, self.delay = deltas, delay
        self.sent = 0
        self.closed = False

    async def stream(self):  # type: ignore[no-untyped-def]
        try:
            for delta in self.deltas:
                await asyncio.sleep(self.delay)
                self.sent += 1
                yield delta
        finally:
            self.closed = True


def ctx(prefix: str, suffix: str = "") -> CompletionContext:
    return CompletionContext("file:///a.py", "/a.py", "python", prefix, suffix)


async def test_single_line_completion_stops_and_closes_the_source() -> None:
    source = Source(["1, ", "2)", "\nprint", "(x)\n", "more\n"] * 5)
    text = await relay_completion(
        source.stream(), ctx("f(", ")\n"), style="fim", timeouts=TIMEOUTS, listener=Recorder()
    )
    assert text == "1, 2"
    assert source.closed and source.sent < len(source.deltas)


async def test_explanation_is_the_deltas_joined() -> None:
    source = Source(["a ", "b ", "c"])
    recorder = Recorder()
    text = await relay_explanation(source.stream(), timeouts=TIMEOUTS, listener=recorder)
    assert text == "a b c" == "".join(recorder.texts)
    assert source.closed


async def test_cancelling_the_consumer_closes_the_source() -> None:
    source = Source(["x = 1\n"] * 100, delay=0.01)
    task = asyncio.ensure_future(
        relay_explanation(source.stream(), timeouts=TIMEOUTS, listener=Recorder())
    )
    while source.sent < 3:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.closed and source.sent < 100


async def test_first_token_timeout_closes_the_source() -> None:
    source = Source(["late"], delay=5)
    with pytest.raises(UpstreamTimeout, match="first token"):
        await relay_explanation(source.stream(), timeouts=Timeouts(0.05, 1.0), listener=Recorder())
    assert source.closed


async def test_coalescer_sends_latest_snapshot_and_lines_at_once() -> None:
    sent: list[str] = []
    coalescer = Coalescer(sent.append, interval=10.0)
    coalescer.offer("a", line_completed=False)  # first one goes out at once
    coalescer.offer("ab", line_completed=False)
    coalescer.offer("abc", line_completed=False)
    assert sent == ["a"]
    coalescer.offer("abc\n", line_completed=True)
    assert sent == ["a", "abc\n"]
    coalescer.offer("abc\nd", line_completed=False)
    coalescer.close()
    await asyncio.sleep(0)
    assert sent == ["a", "abc\n"]


async def test_coalescer_joins_deltas_when_accumulating() -> None:
    sent: list[str] = []
    coalescer = Coalescer(sent.append, accumulate=True, interval=0.01)
    for delta in ["a", "b", "c"]:
        coalescer.offer(delta, line_completed=False)
    await asyncio.sleep(0.05)
    assert "".join(sent) == "abc" and len(sent) == 2


class HangUpSource:
    """A provider-like stream that registers a closer, as the openai provider does."""

    def __init__(self) -> None:
        self.dropped = 0
        self.closed = False
        self.sent = 0

    def drop(self) -> None:
        self.dropped += 1

    async def stream(self):  # type: ignore[no-untyped-def]
        try:
            async with on_hang_up(self.drop):
                while True:
                    await asyncio.sleep(0.001)
                    self.sent += 1
                    yield "x = 1\n"
        finally:
            self.closed = True


class Binder(Recorder):
    def __init__(self) -> None:
        super().__init__()
        self.hang_up: HangUp | None = None

    def bind_hang_up(self, hang_up: HangUp) -> None:
        self.hang_up = hang_up


async def test_a_hang_up_drops_the_stream_before_the_task_unwinds() -> None:
    source, binder = HangUpSource(), Binder()
    task = asyncio.ensure_future(
        relay_explanation(source.stream(), timeouts=TIMEOUTS, listener=binder)
    )
    while not binder.texts:
        await asyncio.sleep(0.001)
    assert binder.hang_up is not None
    binder.hang_up()  # what Generation.leave does, synchronously, before task.cancel()
    assert source.dropped == 1 and not source.closed
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    binder.hang_up()
    hang_up_all()
    assert source.dropped == 1 and source.closed  # once, and nothing registered after the end


async def _waiting_request(generation: Generation, listener: Listener) -> str:
    """What ``handlers.inline`` does around a generation it joined."""
    generation.join(listener, "")
    try:
        with waiting_for(partial(generation.cancelled, listener)):
            return await generation.result_for(listener)
    finally:
        generation.leave(listener)


def _generation(source: HangUpSource) -> Generation:
    """A generation whose model writes until stopped (explanation deltas: never complete)."""

    async def run(generation: Generation) -> str:
        return await relay_explanation(source.stream(), timeouts=TIMEOUTS, listener=generation)

    return Generation("file:///a.py", "def f():\n    ", "", run)


async def test_a_clients_cancel_hangs_up_a_completion_before_its_request_unwinds() -> None:
    source = HangUpSource()
    generation, listener = _generation(source), Recorder()
    request = asyncio.ensure_future(_waiting_request(generation, listener))
    while not listener.texts:
        await asyncio.sleep(0.001)
    hang_up_cancelled(request)  # $/cancelRequest: in the cancel's step, before task.cancel()
    assert source.dropped == 1 and not request.done()
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    with pytest.raises(asyncio.CancelledError):
        await generation.task
    assert source.dropped == 1 and source.closed


async def test_a_clients_cancel_leaves_a_completion_another_request_waits_for() -> None:
    source = HangUpSource()
    generation, first, second = _generation(source), Recorder(), Recorder()
    cancelled = asyncio.ensure_future(_waiting_request(generation, first))
    typed_through = asyncio.ensure_future(_waiting_request(generation, second))
    while not second.texts:
        await asyncio.sleep(0.001)
    hang_up_cancelled(cancelled)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    sent = source.sent
    while source.sent == sent:  # the model goes on writing for the other request
        await asyncio.sleep(0.001)
    assert source.dropped == 0 and not source.closed
    typed_through.cancel()  # the last one leaves: now the model stops
    with pytest.raises(asyncio.CancelledError):
        await typed_through
    assert source.dropped == 1


# --- next edits: hunks out of a rewritten region ---------------------------------------------


def _next_edit_relay(source: Source, region: list[str], *, fmt: str = "sweep", cut: bool = False):  # type: ignore[no-untyped-def]
    from functools import partial

    from inkstream.nextedit.converge import Converger
    from inkstream.nextedit.formats import read_region

    converger = Converger(region, start=10, document=[""] * 10 + region)
    relay = relay_next_edit(
        source.stream(),
        read=partial(read_region, fmt),  # type: ignore[arg-type]
        converger=converger,
        timeouts=TIMEOUTS,
        listener=Recorder(),
        cut_short=lambda: cut,
    )
    return relay, converger


REGION = ["def f(xs):", "    total = 0", "    for x in xs:", "        total += x", "    end"]
RENAMED = [line.replace("total", "subtotal") for line in REGION]


async def test_next_edit_hunks_come_out_while_the_model_still_writes() -> None:
    # the model renames line 1 and then writes on, slowly
    source = Source([line + "\n" for line in (REGION[0], RENAMED[1], *REGION[2:])] * 1)
    relay, _ = _next_edit_relay(source, REGION)
    async with aclosing(relay):
        first = await anext(relay)
        assert (first.start, first.end, first.lines) == (11, 12, ("    subtotal = 0",))
        assert source.sent < len(source.deltas)  # final before the answer was
        rest = [h async for h in relay]
    assert rest == [] and source.closed


async def test_next_edit_stops_the_model_at_the_regions_end() -> None:
    answer = "<|editable_region_start|>\n" + "\n".join(RENAMED) + "\n<|editable_region_end|>\n"
    source = Source([answer[i : i + 5] for i in range(0, len(answer), 5)] + ["more"] * 50)
    relay, converger = _next_edit_relay(source, REGION, fmt="zeta")
    hunks = [h async for h in relay]
    assert [(h.start, h.end) for h in hunks] == [(11, 12), (13, 14)]
    assert source.closed and source.sent < len(source.deltas)
    assert converger.rejected is None


async def test_next_edit_cut_short_drops_the_unfinished_edit() -> None:
    answer = [REGION[0] + "\n", RENAMED[1] + "\n", "    for y in xs:\n"]
    relay, converger = _next_edit_relay(Source(answer), REGION, cut=True)
    assert [h async for h in relay] == []
    relay, converger = _next_edit_relay(Source(answer), REGION, cut=False)
    assert [(h.start, h.end) for h in [h async for h in relay]] == [(11, 15)]


async def test_next_edit_unreadable_answer_gives_nothing() -> None:
    source = Source(["Sure! Here is", " the code:\n", "def f(xs):\n"])
    relay, converger = _next_edit_relay(source, REGION, fmt="zeta")
    assert [h async for h in relay] == []
    assert converger.rejected is not None and "editable_region_start" in converger.rejected
