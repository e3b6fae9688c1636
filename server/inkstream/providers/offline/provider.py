"""``OfflineProvider``: the offline model behind the same interface as the OpenAI-compatible one.

The event loop never does the heavy work: indexing runs in a background (daemon) thread, which
loads cached models and has a child process build the missing ones (tokenizing holds the GIL).
Models are published as they become ready, project first; a stale cache of a changed project is
used until its new model is built. Streams are paced with ``asyncio.sleep`` between tokens, so a
``Task.cancel()`` on the consumer lands mid-stream.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inkstream.context import CompletionContext, ExplainRequest
from inkstream.providers import TextStream
from inkstream.providers.offline.decoder import Decoder
from inkstream.providers.offline.explainer import explain
from inkstream.providers.offline.ngram import NgramModel

if TYPE_CHECKING:
    from inkstream.providers.offline.index import Builder

logger = logging.getLogger(__name__)

PROJECT_WEIGHT = 4.0  # the project's idioms outweigh the standard library's
READY_WAIT = 2.0  # seconds the first request waits for indexing before using what is there
FIRST_MODEL_WAIT = 20.0  # ... unless no model at all is ready yet (a cold machine)
REFRESH_EVERY = 120.0  # seconds between checks that the project's files have changed
_WORDS = re.compile(r"\S+\s*|\s+")


class OfflineProvider:
    """Completions from back-off n-grams of the project and the standard library; structural
    explanations. ``start()`` begins indexing; ``ready()`` waits (boundedly) for it."""

    name = "offline"

    def __init__(
        self,
        roots: Sequence[str | Path],
        *,
        cache_dir: str | Path | None = None,
        include_stdlib: bool = True,
        pace: float = 0.01,
        isolated: bool = True,
    ) -> None:
        self._roots = [Path(r) for r in roots]
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._include_stdlib = include_stdlib
        self._pace = pace
        self._isolated = isolated  # build in a child process (off the server's GIL)
        self._lock = threading.Lock()
        self._parts: dict[str, tuple[NgramModel, float]] = {}
        self._models: list[tuple[NgramModel, float]] = []
        self._indexing: asyncio.Future[None] | None = None
        self._first_model: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sources: dict[str, Path] = {}  # part -> the cache file its model came from
        self._builder: Builder | None = None
        self._closed = False
        self._waited = False
        self._checked = 0.0  # time.monotonic() of the last index run

    # -- indexing ----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin indexing in a background thread; call with the event loop running."""
        if self._indexing is None and not self._closed:
            self._begin(first=True)

    def _begin(self, *, first: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._indexing = self._loop.create_future()
        if self._first_model is None:
            self._first_model = asyncio.Event()
        self._checked = time.monotonic()
        thread = threading.Thread(
            target=self._index, args=(first,), name="inkstream-offline-index", daemon=True
        )
        thread.start()

    def _index(self, first: bool) -> None:
        """The background thread: load what is cached, then build what is missing or stale."""
        try:
            self._index_parts(first)
        except Exception:  # the thread must always resolve the future
            logger.exception("offline indexing failed")
        finally:
            self._signal(done=True)

    def _index_parts(self, first: bool) -> None:
        from inkstream.endpoint_cache import cache_dir as default_cache_dir
        from inkstream.providers.offline import index

        cache_dir = self._cache_dir or default_cache_dir() / "offline"
        builder = self._builder = index.Builder()
        if self._closed:
            return
        parts = index.iter_parts(
            self._roots,
            include_stdlib=self._include_stdlib and first,  # a refresh: the project only
            project_weight=PROJECT_WEIGHT,
        )
        todo = []
        for part in parts:  # whatever is cached is usable at once
            cache = index.cache_file(part, cache_dir)
            if self._sources.get(part.name) == cache:
                continue  # unchanged since it was loaded
            if (model := index.load(cache)) is not None:
                self._publish(part.name, model, part.weight, cache)
                continue
            todo.append((part, cache))
            stale = index.latest_cache(part, cache_dir) if part.name not in self._sources else None
            if stale is not None and (model := index.load(stale)) is not None:
                logger.info("offline model %s: using %s until it is rebuilt", part.name, stale)
                self._publish(part.name, model, part.weight, stale)
        for part, cache in todo:  # project first: it is what the user is writing
            model = builder.build(part, cache) if self._isolated else None
            if model is None and not builder.stopped:
                model = index.build_and_save(part, cache)  # no child process: build here
            if builder.stopped or model is None:
                return
            self._publish(part.name, model, part.weight, cache)

    def _publish(self, name: str, model: NgramModel, weight: float, source: Path) -> None:
        with self._lock:
            self._parts[name] = (model, weight)
            self._sources[name] = source
            self._models = sorted(self._parts.values(), key=lambda m: -m[1])
        self._signal(done=False)

    def _signal(self, *, done: bool) -> None:
        """Tell the event loop (from the indexing thread) that a model, or all, is ready."""

        def on_loop() -> None:
            if self._first_model is not None and self._models:
                self._first_model.set()
            if done and self._indexing is not None and not self._indexing.done():
                self._indexing.set_result(None)

        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(on_loop)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    async def ready(self) -> None:
        """Wait for the index once, for at most READY_WAIT; after that, use what is there."""
        self.start()
        if self._waited or self._indexing is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._indexing), READY_WAIT)
        except TimeoutError:
            logger.info("offline index still building; completing with what is ready")
            if not self._models and self._first_model is not None:
                # on a machine's very first run nothing is cached yet: an empty model would
                # answer nothing at all, so wait (a while longer) for the first part
                try:
                    await asyncio.wait_for(self._first_model.wait(), FIRST_MODEL_WAIT)
                except TimeoutError:
                    logger.warning("no offline model after %.0f s", READY_WAIT + FIRST_MODEL_WAIT)
        self._waited = True

    def _maybe_refresh(self) -> None:
        """Every REFRESH_EVERY seconds, look for changed project files (and rebuild) off-loop."""
        if self._closed or self._indexing is None or not self._indexing.done():
            return
        if time.monotonic() - self._checked >= REFRESH_EVERY and self._roots:
            self._begin(first=False)

    @property
    def models(self) -> list[tuple[NgramModel, float]]:
        """The models ready now, heaviest first (the project's, then the standard library)."""
        return self._models

    async def aclose(self) -> None:
        """Stop indexing: the child process is killed and the thread ends after its step."""
        self._closed = True
        if self._builder is not None:
            self._builder.stop()

    # -- streams -----------------------------------------------------------------------------

    async def complete(self, ctx: CompletionContext, max_tokens: int) -> TextStream:
        await self.ready()
        self._maybe_refresh()
        decoder = Decoder(self._models, ctx)
        for token in decoder.tokens(max_tokens):
            yield token
            await asyncio.sleep(self._pace)

    async def explain(self, req: ExplainRequest, max_tokens: int) -> TextStream:
        text = explain(req.code, req.language_id)
        for i, piece in enumerate(_WORDS.findall(text)):
            if i >= max_tokens:
                return
            yield piece
            await asyncio.sleep(self._pace)
