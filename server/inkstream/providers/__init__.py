"""Providers turn a context into a stream of text deltas.

A provider method is an async generator: the caller iterates it inside ``contextlib.aclosing``,
so leaving early (cancel, early stop) closes the generator, and the generator closes its upstream
stream in its own ``async with``/``finally``. A bare ``break`` would leave the model generating.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from inkstream.completion.context import CompletionContext, ExplainRequest
from inkstream.usage.meter import RequestMeter

#: Text deltas; an async generator, so it can be closed.
TextStream = AsyncGenerator[str, None]


class Provider(Protocol):
    """The one interface the relay consumes; openai_compat and offline implement it."""

    #: "openai" or "offline"; shown to users so they know which model answered.
    name: str

    def complete(
        self,
        ctx: CompletionContext,
        max_tokens: int,
        meter: RequestMeter | None = None,
        *,
        temperature: float | None = None,
    ) -> TextStream:
        """Stream the code that goes at the cursor, as text deltas; note usage in ``meter``.
        ``temperature`` overrides the setting (the panel samples several different ones)."""
        ...

    def explain(
        self, req: ExplainRequest, max_tokens: int, meter: RequestMeter | None = None
    ) -> TextStream:
        """Stream a Markdown explanation of ``req.code``, as text deltas."""
        ...

    async def ready(self, ctx: CompletionContext | None = None) -> None:
        """Wait until streaming can start (client built, index loaded): not model latency.
        With the completion's ``ctx``, what that completion needs (see ``OfflineProvider``)."""
        ...

    async def aclose(self) -> None:
        """Release connections and background work."""
        ...
