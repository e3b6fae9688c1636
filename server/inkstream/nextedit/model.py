"""A next-edit model as a source of hunks for ``service.predict``.

Asked only when one was chosen for next edits (``formats.resolve_format``), never for an excluded
file, never past today's budget. The prompt is built from redacted text; the model's stream goes
through the relay (``relay_next_edit``), which yields each hunk the moment it converges.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from inkstream.completion import documents
from inkstream.completion.privacy import redact
from inkstream.config import Settings
from inkstream.nextedit import formats
from inkstream.nextedit.converge import Converger, LastEdit
from inkstream.nextedit.formats import FileDiff, ModelFormat, NextEditInput
from inkstream.nextedit.hunk import LineHunk
from inkstream.relay import Listener, StreamStats, relay_next_edit
from inkstream.usage.guard import check_budget, metered
from inkstream.usage.meter import RequestMeter

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer
    from inkstream.nextedit.service import NextEditRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelChoice:
    format: ModelFormat
    model: str
    #: None: the completion endpoint
    base_url: str | None


def model_choice(settings: Settings) -> ModelChoice | None:
    """The model asked for next edits, or None: ``nextEdit.model`` (default: the completion
    model) when chosen for next edits (docs/next-edit.md, "Which format")."""
    chosen = settings.next_edit.model
    model = chosen or settings.model
    fmt = formats.resolve_format(
        settings.next_edit.format,
        model=model,
        model_chosen=chosen is not None,
        provider=settings.resolved_provider,
    )
    if fmt == "offline":
        return None
    return ModelChoice(fmt, model, settings.next_edit.base_url)


async def model_hunks(
    ls: InkstreamServer, listener: Listener, request: NextEditRequest
) -> AsyncGenerator[LineHunk, None]:
    """The model's hunks for ``request``, each as soon as it is final."""
    from inkstream.providers.openai_compat import OpenAICompatProvider

    choice = model_choice(ls.settings)
    provider = ls.provider
    if choice is None or not isinstance(provider, OpenAICompatProvider):
        return
    root = next(iter(ls.workspace_roots()), None)
    if ls.exclusion_rules().is_excluded(request.path, root):
        return
    if (budget := check_budget(ls)) is not None:
        logger.info("next edit: no model request: %s", budget)
        return
    text = "\n".join(request.lines)
    if redact(text).count("\n") != text.count("\n"):
        # a secret spanning lines (a private key block) cannot be hidden line by line
        logger.info("next edit: no model request: %s holds a multi-line secret", request.path)
        return
    last = request.edits[-1] if request.edits else None
    last_edit = LastEdit(last.start, last.end, last.old) if last is not None else None
    inp = NextEditInput(
        path=_shown(request.path, root),
        language_id=request.language_id,
        text="\n".join(redact(line) for line in request.lines),
        cursor=request.cursor,
        history=tuple(
            FileDiff(path, edit.unified(path))
            for edit in request.prompt_edits
            for path in (_shown(documents.path_of(edit.uri), root),)
        ),
        last_edit=_redacted_last_edit(last_edit),
    )
    ask = formats.build_request(choice.format, inp, model=choice.model)
    converger = Converger(
        ask.original, start=ask.region.start, document=request.lines, last_edit=last_edit
    )
    stats = StreamStats()
    meter = RequestMeter(
        "nextEdit", choice.base_url or ls.settings.endpoint, choice.model, request.language_id
    )
    logger.debug(
        "next edit: asking %s (%s) to rewrite lines %d-%d",
        choice.model,
        choice.format,
        ask.region.start + 1,
        ask.region.end,
    )
    await provider.next_edit_ready(choice.base_url)
    with metered(ls, meter, stats, ls.registry.reason):
        deltas = provider.next_edit(ask, model=choice.model, base_url=choice.base_url, meter=meter)
        hunks = relay_next_edit(
            deltas,
            read=partial(formats.read_region, choice.format),
            converger=converger,
            timeouts=ls.timeouts,
            listener=listener,
            stats=stats,
            cut_short=lambda: meter.finish_reason == "length",
        )
        async with aclosing(hunks):
            async for hunk in hunks:
                yield hunk


def _redacted_last_edit(edit: LastEdit | None) -> LastEdit | None:
    """The lines before the last edit, for the prompts that show them (Sweep's ``original/``),
    redacted; None (the prompt shows the lines as they are) when a secret spanned lines."""
    if edit is None:
        return None
    old = redact("\n".join(edit.old)).split("\n") if edit.old else []
    if len(old) != len(edit.old):
        return None
    return LastEdit(edit.start, edit.end, tuple(old))


def _shown(path: str, root: str | None) -> str:
    """A path as the model sees it: relative to the workspace (as the models were trained, and
    no home directory in the prompt), absolute outside it."""
    if root:
        try:
            relative = os.path.relpath(path, root)
        except ValueError:  # another drive (Windows)
            return path
        if not relative.startswith(".."):
            return relative.replace(os.sep, "/")
    return path
