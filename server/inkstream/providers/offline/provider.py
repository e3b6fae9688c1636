"""``OfflineProvider``: the offline model behind the same interface as the OpenAI-compatible one.

The event loop never does the heavy work. Indexing runs in a background (daemon) thread, which
loads cached models and has a detached process build the missing ones (tokenizing holds the GIL;
the build must finish even if this server does not: ``index.Builder``).
Models are published as they become ready, project first; a stale cache of a changed project is
used until its new model is built. A small model of the document being edited is built per
request in a worker thread, and reused while the user types on the same line. Streams are paced
with ``asyncio.sleep`` between tokens, so a ``Task.cancel()`` on the consumer lands mid-stream.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from inkstream.completion.context import CompletionContext, ExplainRequest
from inkstream.providers import TextStream
from inkstream.providers.offline.decoder import (
    DOCUMENT_WEIGHT,
    Decoder,
    document_around,
    document_model,
    structure_at,
    structure_key,
)
from inkstream.providers.offline.explainer import explain
from inkstream.providers.offline.ngram import NgramModel
from inkstream.providers.offline.structure import Structure
from inkstream.usage.meter import RequestMeter

if TYPE_CHECKING:
    from inkstream.providers.offline.index import Builder

logger = logging.getLogger(__name__)

PROJECT_WEIGHT = 4.0  # the project's idioms outweigh the standard library's (weight 1)
READY_WAIT = 2.0  # seconds the first request waits for indexing before using what is there
FIRST_MODEL_WAIT = 20.0  # ... unless no model at all is ready yet (a machine's very first run)
#: seconds an invoked completion (a key, ``inkstream complete``) that the models ready so far
#: leave empty waits for the models still being built (a machine's first run: the standard
#: library's takes seconds); typing never waits
BUILD_WAIT = 30.0
MAX_PROBE_TOKENS = 64  # of the completion decoded to see whether the models ready so far answer
REFRESH_EVERY = 120.0  # seconds between checks that the project's files have changed
DOCUMENTS_KEPT = 4  # document models cached (one per recently edited file)
HAND_OFF_WAIT = 5.0  # seconds a closing server waits for its index builds to be handed off
_WORDS = re.compile(r"\S+\s*|\s+")


class OfflineProvider:
    """Completions from back-off n-grams of the project, the standard library and the open
    document; structural explanations. ``start()`` begins indexing; ``ready()`` waits for it
    (boundedly)."""

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
        self._isolated = isolated  # build in a process of its own (off the server's GIL)
        self._lock = threading.Lock()
        self._parts: dict[str, tuple[NgramModel, float]] = {}
        self._sources: dict[str, Path] = {}  # part -> the cache file its model came from
        self._building: set[str] = set()  # parts with no model yet that a build will bring
        self._models: list[tuple[NgramModel, float]] = []
        self._documents: OrderedDict[tuple[str, str, str, str], NgramModel] = OrderedDict()
        self._structures: OrderedDict[tuple[str, ...], Structure | None] = OrderedDict()
        #: document -> the function whose formula the last completion there refused to copy
        self._copied: dict[str, str | None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._indexing: asyncio.Future[None] | None = None  # done when a run has ended
        self._loaded: asyncio.Event | None = None  # every part worth waiting for has a model
        self._builder: Builder | None = None
        self._thread: threading.Thread | None = None  # the indexing run's
        self._closed = False
        self._waited = False
        self._checked = 0.0  # time.monotonic() when the last run began

    # -- indexing ----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin indexing in a background thread; call with the event loop running."""
        if self._indexing is None and not self._closed:
            self._begin(first=True)

    def _begin(self, *, first: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._indexing = self._loop.create_future()
        if self._loaded is None:
            self._loaded = asyncio.Event()
        self._checked = time.monotonic()
        self._thread = threading.Thread(
            target=self._index, args=(first,), name="inkstream-offline-index", daemon=True
        )
        self._thread.start()

    def _index(self, first: bool) -> None:
        """The background thread: load what is cached, then build what is missing or stale."""
        try:
            self._index_parts(first)
        except Exception:  # the thread must always end the run, whatever happened
            logger.exception("offline indexing failed")
        finally:
            self._on_loop(self._ended)

    def _index_parts(self, first: bool) -> None:
        from inkstream.providers.endpoint_cache import cache_dir as default_cache_dir
        from inkstream.providers.offline import index

        cache_dir = self._cache_dir or default_cache_dir() / "offline"
        builder = self._builder = index.Builder(isolated=self._isolated)
        if self._closed:
            builder.stop()  # closed before this run began: hand off what is missing
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
                logger.info("offline model %s: loaded %s", part.name, cache)
                self._publish(part.name, model, part.weight, cache)
                continue
            todo.append((part, cache))
            if part.name in self._sources:
                continue  # a refresh: the model in use stays until the new one is built
            stale = index.latest_cache(part, cache_dir)
            if stale is not None and (model := index.load(stale)) is not None:
                logger.info("offline model %s: using %s until it is rebuilt", part.name, stale)
                self._publish(part.name, model, part.weight, stale)
            else:
                self._building.add(part.name)
        if all(part.name in self._parts for part, _ in todo):
            self._on_loop(self._all_loaded)
        for part, cache in todo:  # project first: it is what the user is writing
            if not part.is_project and self._models:
                # the standard library's build takes seconds and its model is the least
                # specific: requests use what is ready and get it when it is built
                self._on_loop(self._all_loaded)
            model = builder.build(part, cache)  # once stopped: handed off, not waited for
            if model is not None and not builder.stopped:
                self._publish(part.name, model, part.weight, cache)

    def _publish(self, name: str, model: NgramModel, weight: float, source: Path) -> None:
        with self._lock:
            self._building.discard(name)
            self._parts[name] = (model, weight)
            self._sources[name] = source
            self._models = sorted(self._parts.values(), key=lambda m: -m[1])

    def _on_loop(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the event loop (from the indexing thread)."""
        if self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(callback)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass

    def _all_loaded(self) -> None:
        if self._loaded is not None:
            self._loaded.set()

    def _ended(self) -> None:
        self._building.clear()  # built, failed or handed off: nothing more comes in this run
        self._all_loaded()
        if self._indexing is not None and not self._indexing.done():
            self._indexing.set_result(None)

    async def ready(self, ctx: CompletionContext | None = None) -> None:
        """Wait, once, until every part has a model (cached, stale or built), for at most
        READY_WAIT; then use what is there. A standard-library model still to be built is not
        waited for once another model is ready (seconds of work; ``inkstream complete`` run
        again while the first run's build goes on answers at once). Only when nothing at all is
        there yet (a machine's very first run) wait longer, for the first model: an empty model
        would answer nothing.

        With ``ctx`` of an invoked completion (the user asked: ``inkstream complete``, a key)
        that the models ready so far leave empty, wait up to BUILD_WAIT for the ones still
        being built: a machine's first command answers instead of printing nothing."""
        self.start()
        await self._first_wait()
        if ctx is not None and ctx.invoked and self._building and not await self._answers(ctx):
            logger.info("offline model: waiting for %s to be built", ", ".join(self._building))
            deadline = time.monotonic() + BUILD_WAIT
            while self._building and time.monotonic() < deadline:
                await asyncio.sleep(0.05)

    def building(self) -> str | None:
        """The model a completion may lack because it is still being built, or None."""
        if not self._building:
            return None
        if "stdlib" in self._building:
            return "the offline model of the Python standard library"
        return "the offline model of this project"

    async def _answers(self, ctx: CompletionContext) -> bool:
        """Whether the models ready now write anything at ``ctx`` (milliseconds)."""
        models = [*self._models, (await self._document(ctx), DOCUMENT_WEIGHT)]
        decoder = Decoder(models, ctx, await self._structure(ctx))
        return any(token.strip() for token in decoder.tokens(MAX_PROBE_TOKENS))

    async def _first_wait(self) -> None:
        if self._waited or self._loaded is None or self._indexing is None:
            return
        try:
            await asyncio.wait_for(self._loaded.wait(), READY_WAIT)
        except TimeoutError:
            logger.info("offline index still building; completing with what is ready")
            deadline = time.monotonic() + FIRST_MODEL_WAIT
            while not self._models and not self._indexing.done():
                if time.monotonic() > deadline:
                    logger.warning("no offline model after %.0f s", READY_WAIT + FIRST_MODEL_WAIT)
                    break
                await asyncio.sleep(0.05)
        self._waited = True

    async def indexed(self) -> None:
        """Wait until the current indexing run has ended (for tests and benchmarks)."""
        self.start()
        if self._indexing is not None:
            await asyncio.shield(self._indexing)

    def _maybe_refresh(self) -> None:
        """Every REFRESH_EVERY seconds, look for changed project files (and rebuild) off-loop."""
        if self._closed or not self._roots or self._indexing is None:
            return
        if self._indexing.done() and time.monotonic() - self._checked >= REFRESH_EVERY:
            self._begin(first=False)

    @property
    def models(self) -> list[tuple[NgramModel, float]]:
        """The models ready now, heaviest first (the project's, then the standard library's)."""
        return self._models

    async def aclose(self) -> None:
        """Stop indexing (see ``hand_off``), off the event loop."""
        await asyncio.to_thread(self.hand_off)
        self._documents.clear()
        self._structures.clear()

    def hand_off(self, timeout: float = HAND_OFF_WAIT) -> None:
        """Stop indexing: the thread stops waiting for builds, hands the parts not built yet to
        builder processes (milliseconds each) and ends; wait for that, boundedly. A build under
        way finishes on its own (``index.Builder``) and the next server loads it: a server that
        ends, however early, loses no work."""
        self._closed = True
        if self._builder is not None:
            self._builder.stop()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- streams -----------------------------------------------------------------------------

    async def complete(
        self,
        ctx: CompletionContext,
        max_tokens: int,
        meter: RequestMeter | None = None,  # noqa: ARG002  (nothing goes upstream)
        *,
        temperature: float | None = None,  # noqa: ARG002  (the decoder is deterministic)
    ) -> TextStream:
        await self.ready()
        self._maybe_refresh()
        models = [*self._models, (await self._document(ctx), DOCUMENT_WEIGHT)]
        decoder = Decoder(models, ctx, await self._structure(ctx))
        self._copied[ctx.uri] = None
        for token in decoder.tokens(max_tokens):
            yield token
            await asyncio.sleep(self._pace)
        self._copied[ctx.uri] = decoder.copied

    def empty_reason(self, uri: str) -> str | None:
        """Why the last completion in ``uri`` was empty, when the model knows better than
        "nothing confident": its best guess copied another function's formula."""
        if (name := self._copied.get(uri)) is not None:
            return f"the offline model's best guess copies {name}(), which does something else"
        return None

    async def _document(self, ctx: CompletionContext) -> NgramModel:
        """The model of the document around the cursor (its line left out, so it is reused
        while the user types on that line), built in a worker thread."""
        before, after = document_around(ctx)
        key = (ctx.uri, ctx.language_id, before, after)
        model = self._documents.get(key)
        if model is None:
            model = await asyncio.to_thread(document_model, before, after, ctx.language_id)
            self._documents[key] = model
            while len(self._documents) > DOCUMENTS_KEPT:
                self._documents.popitem(last=False)
        self._documents.move_to_end(key)
        return model

    async def _structure(self, ctx: CompletionContext) -> Structure | None:
        """What the file defines around the cursor (names, attributes), parsed in a worker
        thread and reused while the user types on the cursor's line."""
        key = (ctx.uri, *structure_key(ctx))
        if key in self._structures:
            self._structures.move_to_end(key)
            return self._structures[key]
        structure = await asyncio.to_thread(structure_at, ctx)
        self._structures[key] = structure
        while len(self._structures) > DOCUMENTS_KEPT:
            self._structures.popitem(last=False)
        return structure

    async def explain(
        self,
        req: ExplainRequest,
        max_tokens: int,
        meter: RequestMeter | None = None,  # noqa: ARG002  (nothing goes upstream)
    ) -> TextStream:
        text = explain(req.code, req.language_id)
        for i, piece in enumerate(_WORDS.findall(text)):
            if i >= max_tokens:
                return
            yield piece
            await asyncio.sleep(self._pace)
