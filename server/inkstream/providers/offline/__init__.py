"""The built-in offline model: works with no network and no key, through the same interface.

It is a real (small) statistical model of code: back-off n-grams learned from the project and from
the Python standard library, decoded greedily, FIM-aware (it stops where its output runs into the
code after the cursor) and stopping at natural ends. Explanations are structural (``explainer``).
Indexing runs in a worker thread and is cached on disk, so the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from inkstream.context import CompletionContext, ExplainRequest
from inkstream.endpoint_cache import cache_dir as default_cache_dir
from inkstream.providers import TextStream
from inkstream.providers.offline import index
from inkstream.providers.offline.explainer import explain
from inkstream.providers.offline.ngram import NgramModel, choose, complete_word
from inkstream.providers.offline.tokens import tokenize_code

logger = logging.getLogger(__name__)

PROJECT_WEIGHT = 5.0
READY_WAIT = 2.0  # seconds the first request waits for indexing before using what is there
FIRST_MODEL_WAIT = 20.0  # ... unless nothing at all is indexed yet
MAX_LINE = 160  # seconds a request waits for indexing before using what is there
_PARTIAL_WORD = re.compile(r"[A-Za-z_]\w*$")

__all__ = ["OfflineProvider"]


class OfflineProvider:
    name = "offline"

    def __init__(
        self,
        roots: Sequence[str | Path],
        *,
        cache_dir: Path | None = None,
        include_stdlib: bool = True,
        pace: float = 0.01,
        isolated: bool = True,
    ) -> None:
        self._roots = [Path(r) for r in roots]
        self._cache_dir = cache_dir or default_cache_dir() / "offline"
        self._include_stdlib = include_stdlib
        self._pace = pace
        self._isolated = isolated  # index in a child process, off the server's GIL
        self._models: list[tuple[NgramModel, float]] = []
        self._indexing: asyncio.Future[None] | None = None
        self._waited = False

    # -- indexing ----------------------------------------------------------------------------

    def start(self) -> None:
        """Begin indexing in a worker thread; needs a running event loop."""
        if self._indexing is None:
            self._indexing = asyncio.get_running_loop().run_in_executor(None, self._build)

    def _build(self) -> None:
        parts: list[tuple[list[Path], str, int, float]] = []
        for root in self._roots:  # the project first: it is what the user is writing
            if root.is_dir():
                files = list(index.project_files(root))
                parts.append((files, index.project_key(root), 1, PROJECT_WEIGHT))
        if self._include_stdlib:
            parts.append((index.stdlib_files(), "stdlib", 2, 1.0))
        # whatever is cached is usable at once; then build the rest
        cached = [p for p in parts if index.cache_file(p[0], self._cache_dir, p[1]).exists()]
        for files, name, min_count, weight in cached + [p for p in parts if p not in cached]:
            model = index.load_or_build(
                files, self._cache_dir, name, min_count=min_count, isolated=self._isolated
            )
            self._models.append((model, weight))
            self._models.sort(key=lambda m: -m[1])

    async def ready(self) -> None:
        """Wait for the index once, for at most READY_WAIT; after that, use what is there."""
        self.start()
        assert self._indexing is not None
        if self._waited:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._indexing), READY_WAIT)
        except TimeoutError:
            logger.info("offline index still building; completing with what is ready")
        # on a machine's very first run nothing is cached yet: an empty model would answer
        # nothing at all, so wait (a while longer) for the first part to be ready
        deadline = time.monotonic() + FIRST_MODEL_WAIT
        while not self._models and not self._indexing.done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self._waited = True

    async def aclose(self) -> None:
        return None

    # -- completion --------------------------------------------------------------------------

    async def complete(self, ctx: CompletionContext, max_tokens: int) -> TextStream:
        await self.ready()
        models = list(self._models)
        start = ctx.prefix.rfind("\n", 0, max(0, len(ctx.prefix) - 1500)) + 1
        context = tokenize_code(ctx.prefix[start:], ctx.language_id)
        partial = _PARTIAL_WORD.search(ctx.prefix)
        if partial and context and context[-1].strip() == partial.group(0):
            word = complete_word(models, context[:-1], partial.group(0))
            if word:
                yield word[len(partial.group(0)) :]
                context[-1] = context[-1][: len(context[-1]) - len(partial.group(0))] + word
        # text after the cursor, or a statement under way: end with the line
        line = ctx.line_prefix.rstrip()
        single_line = bool(ctx.line_suffix.strip()) or bool(
            line.strip() and not line.endswith((":", "{", "(", "[", "=>"))
        )
        following = _first_code_line(ctx.suffix)
        indent = len(ctx.line_prefix) - len(ctx.line_prefix.lstrip())
        lines: list[str] = [""]
        seen: set[tuple[str, ...]] = set()
        # the user already typed the space (or indentation) this token would start with
        typed_space: int | None = len(ctx.line_prefix) - len(ctx.line_prefix.rstrip(" \t"))
        shift = 0  # re-indent the model's lines to where the cursor is
        for _ in range(max_tokens):
            # at the cursor's own line start, only tokens indented as the user already is
            at_indent = typed_space is not None and not ctx.line_prefix.strip()
            shape = _indented(ctx.line_prefix) if at_indent else _any
            recent = tuple(context[-3:])

            def fresh(
                token: str,
                shape: Callable[[str], bool] = shape,
                recent: tuple[str, ...] = recent,
            ) -> bool:
                # greedy decoding loves circles: never write the same 4 tokens twice
                return shape(token) and (*recent, token) not in seen

            token = choose(models, context, fresh)
            if token is None:
                return
            seen.add((*recent, token))
            context.append(token)
            if typed_space is not None:
                if not ctx.line_prefix.strip():
                    shift = typed_space - _leading_space(token)
                token, typed_space = token[min(typed_space, _leading_space(token)) :], None
            elif not lines[-1] and token != "\n":
                token = " " * max(0, _leading_space(token) + shift) + token.lstrip(" \t")
            if _ends_here(token, lines, single_line, following, ctx, indent):
                return
            if len(lines[-1]) > MAX_LINE:
                return
            lines[-1] += token if token != "\n" else ""
            if token == "\n":
                lines.append("")
            yield token
            await asyncio.sleep(self._pace)

    # -- explanation -------------------------------------------------------------------------

    async def explain(self, req: ExplainRequest, max_tokens: int) -> TextStream:
        text = explain(req.code, req.language_id)
        for i, piece in enumerate(re.findall(r"\S+\s*|\s+", text)):
            if i >= max_tokens:
                return
            yield piece
            await asyncio.sleep(self._pace)


def _any(_token: str) -> bool:
    return True


def _indented(indent: str) -> Callable[[str], bool]:
    return lambda token: (
        token.startswith(indent) and not token[len(indent) : len(indent) + 1].isspace()
    )


def _leading_space(token: str) -> int:
    return len(token) - len(token.lstrip(" \t"))


def _first_code_line(suffix: str) -> str:
    for line in suffix.split("\n")[1:]:
        if line.strip():
            return line.strip()
    return ""


def _ends_here(
    token: str,
    lines: list[str],
    single_line: bool,
    following: str,
    ctx: CompletionContext,
    indent: int,
) -> bool:
    """Natural ends: the line (single-line mode), a blank line, a dedent, the suffix, a loop."""
    current = lines[-1]
    if token == "\n":
        if single_line or not current.strip():
            return True
        if following and current.strip() == following:
            return True  # ran into the code after the cursor
        return len(lines) > 2 and current == lines[-2] == lines[-3]
    if single_line and ctx.line_suffix.lstrip().startswith(token.strip()) and token.strip():
        return True  # the rest of the line is already there
    if not current and len(lines) > 1 and token.strip():
        if following and following.startswith(token.strip()):
            return True  # about to write the code that follows the cursor
        return len(token) - len(token.lstrip()) < indent  # dedent: the block ended
    return False
