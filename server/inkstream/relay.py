"""The only consumer of provider streams.

It turns text deltas into what the editor sees while the model writes (coalesced partial results
and work-done reports), stops early once the completion is complete, enforces the first-token and
idle timeouts, and closes the upstream stream on every way out: the ``aclosing`` block runs on
return, error and cancellation alike, so the model stops generating.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import aclosing, asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from inkstream.completion import postprocess
from inkstream.completion.context import CompletionContext
from inkstream.errors import UpstreamTimeout
from inkstream.providers import TextStream

if TYPE_CHECKING:
    from inkstream.nextedit.converge import Converger
    from inkstream.nextedit.formats import RegionRead
    from inkstream.nextedit.hunk import LineHunk

logger = logging.getLogger(__name__)

SNAPSHOT_INTERVAL = 0.015
REPORT_INTERVAL = 0.1


@dataclass
class StreamStats:
    """Tokens seen and their pace; each delta counts as one token."""

    started: float = field(default_factory=time.monotonic)
    tokens: int = 0
    first_token_at: float | None = None
    #: tokens up to the last one that changed the text the editor sees (usage: shown tokens)
    visible_tokens: int = 0

    def count(self) -> None:
        self.tokens += 1
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - (self.first_token_at or self.started)
        return self.tokens / elapsed if elapsed > 0 else 0.0

    def summary(self) -> str:
        return f"{self.tokens} tokens, {self.rate:.0f} tok/s"


@dataclass(frozen=True)
class Timeouts:
    first_token: float
    idle: float


class HangUp:
    """Drops the upstream connection now, synchronously, before any other clean-up runs.

    Closing a stream the ordinary way takes the consumer task's next step, the unwinding of the
    openai and httpx layers, and one more loop iteration before the socket closes. A canceller
    calls this first (``Generation.leave``, shutdown, exit), so the model hears the hang-up in
    the same step as the cancel; the unwinding that follows only tidies up. Providers put their
    closers in while a stream is open (``on_hang_up``); each runs at most once.
    """

    def __init__(self) -> None:
        self._closers: list[Callable[[], None]] = []
        _live.add(self)

    def add(self, closer: Callable[[], None]) -> None:
        self._closers.append(closer)

    def discard(self, closer: Callable[[], None]) -> None:
        if closer in self._closers:
            self._closers.remove(closer)

    def __call__(self) -> None:
        closers, self._closers = self._closers, []
        for closer in closers:
            try:
                closer()
            except Exception:  # the ordinary close still follows
                logger.debug("hang-up failed", exc_info=True)


_live: weakref.WeakSet[HangUp] = weakref.WeakSet()
#: the hang-up of the stream each task consumes, for cancellers that know only the task
_by_task: weakref.WeakKeyDictionary[asyncio.Task[object], HangUp] = weakref.WeakKeyDictionary()
#: for a client's cancel: the shared stream each task waits for (a completion's ``Generation``)
_waited_by: weakref.WeakKeyDictionary[asyncio.Task[object], Callable[[], None]] = (
    weakref.WeakKeyDictionary()
)
#: the hang-up of the stream the current task consumes; set by the relay for the provider
_current_hang_up: ContextVar[HangUp | None] = ContextVar("inkstream_hang_up", default=None)


@asynccontextmanager
async def on_hang_up(closer: Callable[[], None]) -> AsyncIterator[None]:
    """For providers: while the block runs, a hang-up of this stream calls ``closer``."""
    hang_up = _current_hang_up.get()
    if hang_up is None:
        yield
        return
    hang_up.add(closer)
    try:
        yield
    finally:
        hang_up.discard(closer)


def hang_up_task(task: asyncio.Task[object]) -> None:
    """The stream ``task`` itself consumes, if any (an explanation; a completion's stream
    belongs to its ``Generation``, which hangs up when its last request leaves)."""
    hang_up = _by_task.get(task)
    if hang_up is not None:
        hang_up()


@contextmanager
def waiting_for(stop: Callable[[], None]) -> Iterator[None]:
    """While the block runs, a client's cancel of the current task (``hang_up_cancelled``)
    calls ``stop``: the request waits for a stream it does not consume (a ``Generation``)."""
    task = asyncio.current_task()
    if task is None:
        yield
        return
    _waited_by[task] = stop
    try:
        yield
    finally:
        _waited_by.pop(task, None)


def hang_up_cancelled(task: asyncio.Task[object]) -> None:
    """The client cancelled ``task`` (``$/cancelRequest``, work-done cancel): drop its stream
    now, in the cancel's own step, whether the task consumes it or waits for it. Not for the
    server's own cancels: a superseded request's stream may be about to gain a new reader."""
    hang_up_task(task)
    stop = _waited_by.get(task)
    if stop is not None:
        stop()


def hang_up_all() -> None:
    """Every upstream stream still open: the server is going away."""
    for hang_up in list(_live):
        hang_up()


@asynccontextmanager
async def _consuming(listener: Listener) -> AsyncIterator[None]:
    hang_up = HangUp()
    token = _current_hang_up.set(hang_up)
    task = asyncio.current_task()
    if task is not None:
        _by_task[task] = hang_up
    listener.bind_hang_up(hang_up)
    try:
        yield
    finally:
        _current_hang_up.reset(token)
        if task is not None:
            _by_task.pop(task, None)


class Listener:
    """What the relay tells the outside world; handlers plug partial results and progress in."""

    def bind_hang_up(self, hang_up: HangUp) -> None:
        """The stream about to start can be dropped at once with ``hang_up()``."""

    def on_text(self, text: str, *, line_completed: bool) -> None:
        """The visible text changed (a snapshot for completions, a delta for explanations)."""

    def on_stats(self, stats: StreamStats) -> None:
        """Called after each token; implementations throttle."""


class Coalescer:
    """Sends at most one message per interval, plus one whenever a line completes.

    Snapshots replace each other, so only the newest pending one is sent; deltas
    (``accumulate=True``) are joined so none is lost. A pending message is flushed by a timer;
    ``close()`` drops it, so nothing is sent after the request has been answered.
    """

    def __init__(
        self,
        send: Callable[[str], None],
        *,
        accumulate: bool = False,
        interval: float = SNAPSHOT_INTERVAL,
    ) -> None:
        self._send = send
        self._accumulate = accumulate
        self._interval = interval
        self._last_sent_at = 0.0
        self._pending: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closed = False

    def offer(self, snapshot: str, *, line_completed: bool) -> None:
        if self._closed:
            return
        if self._accumulate and self._pending is not None:
            self._pending += snapshot
        else:
            self._pending = snapshot
        wait = self._last_sent_at + self._interval - time.monotonic()
        if line_completed or wait <= 0:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(wait, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending is not None and not self._closed:
            snapshot, self._pending = self._pending, None
            self._last_sent_at = time.monotonic()
            self._send(snapshot)

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


async def _deltas_with_timeouts(
    deltas: TextStream, timeouts: Timeouts, stats: StreamStats
) -> AsyncGenerator[str, None]:
    """Yield deltas, failing if the first one or any later one takes too long."""
    iterator = aiter(deltas)
    while True:
        limit = timeouts.first_token if stats.tokens == 0 else timeouts.idle
        try:
            async with asyncio.timeout(limit):
                delta = await anext(iterator)
        except StopAsyncIteration:
            return
        except TimeoutError:
            what = "the first token" if stats.tokens == 0 else "the next token"
            raise UpstreamTimeout(
                f"The model sent nothing for {limit:g} s while waiting for {what}.",
                hint="Check that the model is loaded, or raise firstTokenTimeout/idleTimeout.",
            ) from None
        stats.count()
        yield delta
        # a backlog (a fast engine, or chunks that piled up during a pause) would otherwise be
        # consumed in one step of this task, and a cancel would wait for all of it
        await asyncio.sleep(0)


async def relay_completion(
    deltas: TextStream,
    ctx: CompletionContext,
    *,
    style: Literal["fim", "chat"],
    timeouts: Timeouts,
    listener: Listener,
    stats: StreamStats | None = None,
) -> str:
    """Stream a completion, showing cleaned snapshots as they grow; return the final text."""
    stats = stats or StreamStats()
    raw = ""
    shown = ""
    timed = _deltas_with_timeouts(deltas, timeouts, stats)
    async with _consuming(listener), aclosing(deltas), aclosing(timed):
        async for delta in timed:
            raw += delta
            cleaned = postprocess.clean_completion(raw, ctx, style=style)
            if cleaned.text != shown:
                line_completed = cleaned.text.count("\n") > shown.count("\n")
                shown = cleaned.text
                stats.visible_tokens = stats.tokens
                listener.on_text(shown, line_completed=line_completed)
            listener.on_stats(stats)
            if cleaned.done:
                logger.debug("completion complete after %d tokens; closing stream", stats.tokens)
                break
    return postprocess.clean_completion(raw, ctx, style=style, final=True).text


async def relay_explanation(
    deltas: TextStream,
    *,
    timeouts: Timeouts,
    listener: Listener,
    stats: StreamStats | None = None,
) -> str:
    """Stream an explanation delta by delta; return the whole text (the deltas joined)."""
    stats = stats or StreamStats()
    parts: list[str] = []
    timed = _deltas_with_timeouts(deltas, timeouts, stats)
    async with _consuming(listener), aclosing(deltas), aclosing(timed):
        async for delta in timed:
            if delta:
                parts.append(delta)
                stats.visible_tokens = stats.tokens
                listener.on_text(delta, line_completed="\n" in delta)
            listener.on_stats(stats)
    return "".join(parts)


async def relay_next_edit(
    deltas: TextStream,
    *,
    read: Callable[[str, bool], RegionRead],
    converger: Converger,
    timeouts: Timeouts,
    listener: Listener,
    stats: StreamStats | None = None,
    cut_short: Callable[[], bool] = lambda: False,
) -> AsyncGenerator[LineHunk, None]:
    """Stream a rewritten region, yielding each hunk the moment it is final.

    ``read(raw, final)`` turns the text so far into the region's complete lines (a format's
    reader); ``converger`` turns lines into hunks. The stream closes as soon as the region's end
    is seen or the answer is rejected. ``cut_short()`` (asked once the stream ended by itself)
    says the model stopped at ``max_tokens``: then no pending edit is sent. The caller iterates
    this inside ``aclosing``, like any stream.
    """
    stats = stats or StreamStats()
    raw = ""
    fed = 0
    stopped_early = False
    timed = _deltas_with_timeouts(deltas, timeouts, stats)
    async with _consuming(listener), aclosing(deltas), aclosing(timed):
        async for delta in timed:
            raw += delta
            region = read(raw, False)
            for line in region.lines[fed:]:
                for hunk in converger.feed(line):
                    stats.visible_tokens = stats.tokens
                    yield hunk
            fed = len(region.lines)
            listener.on_stats(stats)
            if region.done or converger.rejected is not None:
                logger.debug("next edit: region read after %d tokens; closing stream", stats.tokens)
                stopped_early = True
                break
    region = read(raw, True)
    if region.error is not None:
        converger.reject(region.error)
    for line in region.lines[fed:]:
        for hunk in converger.feed(line):
            stats.visible_tokens = stats.tokens
            yield hunk
    complete = stopped_early or not cut_short()
    for hunk in converger.finish(complete=complete):
        stats.visible_tokens = stats.tokens
        yield hunk
    if converger.rejected is not None:
        logger.info("next edit: no edit from the model: %s", converger.rejected)
    elif converger.unchanged:
        logger.info("next edit: no edit from the model: it repeated the region unchanged")
    elif not complete:
        logger.info("next edit: the model stopped at max_tokens; its unfinished edit is dropped")
