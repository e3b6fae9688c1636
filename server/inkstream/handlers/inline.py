"""Inline completions: the standard LSP 3.18 method and inkstream's streaming variant."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

from inkstream.completion import documents
from inkstream.completion.context import CompletionContext
from inkstream.completion.generation import Generation
from inkstream.completion.privacy import ExclusionRules, redact_around_cursor
from inkstream.handlers.streaming import editor_request
from inkstream.protocol import (
    DID_ACCEPT_COMMAND,
    INKSTREAM_INLINE_COMPLETION,
    StreamingInlineCompletionParams,
)
from inkstream.relay import Listener, StreamStats, relay_completion
from inkstream.usage.guard import check_budget, metered, new_meter

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer


def register(server: InkstreamServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: InkstreamServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        return await complete(ls, params, partial_token=None)

    @server.feature(INKSTREAM_INLINE_COMPLETION)
    async def streaming_inline_completion(
        ls: InkstreamServer, params: StreamingInlineCompletionParams
    ) -> types.InlineCompletionList:
        return await complete(ls, params, partial_token=params.partial_result_token)


async def complete(
    ls: InkstreamServer,
    params: types.InlineCompletionParams,
    *,
    partial_token: types.ProgressToken | None,
) -> types.InlineCompletionList:
    uri = params.text_document.uri
    selected = params.context.selected_completion_info
    ctx = documents.completion_context(ls.workspace, uri, params.position, selected)
    replace = selected.range if selected else types.Range(params.position, params.position)
    root = next(iter(ls.workspace_roots()), None)
    rules = ls.exclusion_rules()
    if not ls.settings.enabled_for(ctx.language_id) or rules.is_excluded(ctx.path, root):
        return _completion_list("", "", replace)
    # where the item goes, as a str index into the line: the kept rate looks there later
    column = documents.column_of(documents.open_document(ls.workspace, uri), replace.start)
    started = time.monotonic()
    ident = uuid.uuid4().hex  # the same id in every snapshot: a client may accept mid-stream
    async with editor_request(
        ls,
        title="inkstream: completing",
        document=uri,
        work_done_token=params.work_done_token,
        partial_token=partial_token,
        to_value=lambda text: _completion_list(ctx.selected_prefix, text, replace, ident),
    ) as listener:
        text = (
            ls.completions.lookup(uri, ctx.prefix, ctx.suffix) if ls.settings.type_through else None
        )
        if text is None:
            text = await _from_model(ls, ctx, listener, _automatic(params), rules, root)
    result = _completion_list(ctx.selected_prefix, text, replace, ident)
    if result.items:
        shown_at = listener.first_text_at or time.monotonic()
        at = (replace.start.line, column)
        _track(ls, result.items[0], ident, ctx, at, (shown_at - started) * 1000)
    return result


def _track(
    ls: InkstreamServer,
    item: types.InlineCompletionItem,
    ident: str,
    ctx: CompletionContext,
    at: tuple[int, int],
    ttft_ms: float,
) -> None:
    """Follow the returned item: acceptance reports and the kept rate refer to its id.
    ``at`` is where it goes in: line, and column in characters (not the client's units)."""
    s = ls.settings
    upstream = s.resolved_provider == "openai"
    ls.usage.new_suggestion(
        ident,
        uri=ctx.uri,
        line=at[0],
        column=at[1],
        text=item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value,
        language=ctx.language_id,
        model=s.model if upstream else "offline",
        endpoint=s.endpoint if upstream else "offline",
        ttft_ms=round(ttft_ms, 1),
    )


def _automatic(params: types.InlineCompletionParams) -> bool:
    return params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic


async def _from_model(
    ls: InkstreamServer,
    ctx: CompletionContext,
    listener: Listener,
    automatic: bool,
    rules: ExclusionRules,
    root: str | None,
) -> str:
    """Join the running generation if the user typed into it, else start a new one."""
    generation = ls.generations.get(ctx.uri)
    typed = generation.typed_since(ctx.uri, ctx.prefix, ctx.suffix) if generation else None
    if generation is None or typed is None or not ls.settings.type_through:
        if (budget := check_budget(ls)) is not None:
            ls.report_problem(budget)  # shown once a day
            return ""
        if automatic:
            started = time.perf_counter()
            if ls.settings.resolved_provider == "openai":
                # what may be sent, redacted while the debounce waits anyway (the request reuses it)
                redact_around_cursor(ctx.prefix, ctx.suffix)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(max(0.0, ls.debounce.delay - elapsed))  # typing on supersedes us
        snippets = documents.related_snippets(ls.workspace, ctx, rules, ls.recent_edits, root)
        full = dataclasses.replace(ctx, snippets=snippets)
        generation = Generation(
            ctx.uri, ctx.prefix, ctx.suffix, lambda out: _generate(ls, full, out)
        )
        ls.generations[ctx.uri] = generation
        typed = ""
    generation.join(listener, typed)
    try:
        return await generation.result_for(listener)
    finally:
        generation.stop_reason = ls.registry.reason()
        generation.leave(listener)
        if ls.generations.get(ctx.uri) is generation and generation.task.done():
            del ls.generations[ctx.uri]


async def _generate(ls: InkstreamServer, ctx: CompletionContext, generation: Generation) -> str:
    """Ask the model, learn its latency, remember the answer, record the usage."""
    await ls.provider.ready()
    stats = StreamStats()
    meter = new_meter(ls, "completion", ctx.language_id)
    with metered(ls, meter, stats, lambda: generation.stop_reason):
        text = await relay_completion(
            ls.provider.complete(ctx, ls.settings.max_tokens, meter),
            ctx,
            style=await ls.completion_style(),
            timeouts=ls.timeouts,
            listener=generation,
            stats=stats,
        )
    if stats.first_token_at is not None:
        ls.debounce.observe(stats.first_token_at - stats.started)
    ls.completions.put(ctx.uri, ctx.prefix, ctx.suffix, text)
    return text


def _completion_list(
    selected: str, text: str, replace: types.Range, ident: str = ""
) -> types.InlineCompletionList:
    """One item, or none; a selected suggest item's text leads, as VS Code requires.

    The item's command is what editors run when the user accepts it (``inkstream.didAccept``).
    """
    if not text:
        return types.InlineCompletionList(items=[])
    command = types.Command(
        title="inkstream: suggestion accepted", command=DID_ACCEPT_COMMAND, arguments=[ident]
    )
    item = types.InlineCompletionItem(insert_text=selected + text, range=replace, command=command)
    return types.InlineCompletionList(items=[item])
