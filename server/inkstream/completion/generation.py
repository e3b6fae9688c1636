"""One upstream completion stream, shared by the requests that type through it.

A request does not own its model stream: a ``Generation`` does, and requests join it. When the
user types characters that match what the model is writing, the newer request joins the running
generation instead of starting another (type-through for in-flight completions), and sees the
snapshots minus what was typed. A generation that nobody is waiting for any more is cancelled at
once, which closes its upstream stream: a cancelled request still stops the model in milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from inkstream.relay import HangUp, Listener, StreamStats


class Generation(Listener):
    def __init__(
        self,
        uri: str,
        prefix: str,
        suffix: str,
        run: Callable[[Generation], Coroutine[Any, Any, str]],
    ) -> None:
        self.uri, self.prefix, self.suffix = uri, prefix, suffix
        self.snapshot = ""
        #: why the last request left, if the server cancelled it ("superseded"): for usage
        self.stop_reason: str | None = None
        #: why the model's answer is empty (said to the user), when it is
        self.empty_reason = "nothing to suggest here"
        self._joined: dict[Listener, str] = {}  # listener -> what its user typed meanwhile
        self._hang_up: HangUp | None = None
        self.task: asyncio.Task[str] = asyncio.get_running_loop().create_task(run(self))

    def typed_since(self, uri: str, prefix: str, suffix: str) -> str | None:
        """What was typed since this generation started, if a request there can join it."""
        if self.task.done() or self.task.cancelling() or uri != self.uri or suffix != self.suffix:
            return None
        if not prefix.startswith(self.prefix):
            return None
        typed = prefix[len(self.prefix) :]
        if typed and not (self.snapshot.startswith(typed) and len(self.snapshot) > len(typed)):
            return None
        return typed

    def join(self, listener: Listener, typed: str) -> None:
        self._joined[listener] = typed
        if len(self.snapshot) > len(typed):
            listener.on_text(self.snapshot[len(typed) :], line_completed=False)

    def leave(self, listener: Listener) -> None:
        self._joined.pop(listener, None)
        if not self._joined:
            self._stop()

    def cancelled(self, listener: Listener) -> None:
        """The listener's client cancelled its request: if nobody else waits, stop the model in
        the cancel's own step, not one loop turn later when the request's task unwinds."""
        if self._joined.keys() == {listener}:
            self._stop()

    def _stop(self) -> None:
        """Nobody wants it: stop the model now, the socket first, then the task."""
        if not self.task.done():
            if self._hang_up is not None:
                self._hang_up()
            self.task.cancel()

    async def result_for(self, listener: Listener) -> str:
        """The final text, minus what this listener's user typed."""
        typed = self._joined[listener]
        text = await asyncio.shield(self.task)
        return text[len(typed) :] if text.startswith(typed) else ""

    # -- Listener: fan the relay's output out to everyone joined ------------------------------

    def bind_hang_up(self, hang_up: HangUp) -> None:
        self._hang_up = hang_up

    def on_text(self, text: str, *, line_completed: bool) -> None:
        self.snapshot = text
        for listener, typed in list(self._joined.items()):
            if text.startswith(typed) and len(text) > len(typed):
                listener.on_text(text[len(typed) :], line_completed=line_completed)

    def on_stats(self, stats: StreamStats) -> None:
        for listener in list(self._joined):
            listener.on_stats(stats)
