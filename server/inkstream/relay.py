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
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Literal

from inkstream.completion import postprocess
from inkstream.completion.context import CompletionContext
from inkstream.errors import UpstreamTimeout
from inkstream.providers import TextStream

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


class Listener:
    """What the relay tells the outside world; handlers plug partial results and progress in."""

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
    async with aclosing(deltas), aclosing(timed):
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
    async with aclosing(deltas), aclosing(timed):
        async for delta in timed:
            if delta:
                parts.append(delta)
                stats.visible_tokens = stats.tokens
                listener.on_text(delta, line_completed="\n" in delta)
            listener.on_stats(stats)
    return "".join(parts)
