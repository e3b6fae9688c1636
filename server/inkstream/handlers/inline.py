"""Inline completions: the standard LSP 3.18 method and inkstream's streaming variant."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
import uuid
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from inkstream.completion import documents
from inkstream.completion.context import CompletionContext
from inkstream.completion.generation import Generation
from inkstream.completion.privacy import ExclusionRules, redact_around_cursor
from inkstream.handlers.streaming import EditorListener, editor_request
from inkstream.protocol import (
    DID_ACCEPT_COMMAND,
    INKSTREAM_INLINE_COMPLETION,
    StreamingInlineCompletionParams,
)
from inkstream.relay import Listener, StreamStats, relay_completion, waiting_for
from inkstream.usage.guard import check_budget, metered, new_meter

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer

#: the panel's other solutions are sampled at least this hot, so they differ from the first
SAMPLE_TEMPERATURE = 0.8
NOTE_AFTER = 1.0  # seconds without an answer before the user is told what it waits for


def register(server: InkstreamServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: InkstreamServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList | dict[str, Any]:
        if ls.copilot.active:  # Copilot's plugins read another item shape (copilot-clients.md)
            from inkstream.handlers.copilot import inline_for_copilot

            return await inline_for_copilot(ls, params)
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
    ctx = dataclasses.replace(ctx, invoked=not _automatic(params))
    root = next(iter(ls.workspace_roots()), None)
    rules = ls.exclusion_rules()
    off = (
        None
        if ls.settings.enabled_for(ctx.language_id)
        else f"completions are off for {ctx.language_id}"
    )
    if (why := off or rules.exclusion(ctx.path, root)) is not None:
        # no model is asked; say why (the work-done end, ``inkstream/status``)
        ls.empty_reason = f"no completion: {why}"
        if params.work_done_token is not None:
            ls.work_done_progress.begin(
                params.work_done_token, types.WorkDoneProgressBegin(title="inkstream: completing")
            )
            ls.work_done_progress.end(
                params.work_done_token, types.WorkDoneProgressEnd(message=ls.empty_reason)
            )
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
        why = "nothing to suggest here (as the last time)"
        if text is None:
            text, why = await _from_model(ls, ctx, listener, _automatic(params), rules, root)
        ls.empty_reason = None if text else f"no completion: {why}"
        listener.end_message = ls.empty_reason
    result = _completion_list(ctx.selected_prefix, text, replace, ident)
    if result.items:
        shown_at = listener.first_text_at or time.monotonic()
        at = (replace.start.line, column)
        item = result.items[0]
        shown = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        track(ls, shown, ident, ctx, at, (shown_at - started) * 1000)
    return result


def track(
    ls: InkstreamServer,
    text: str,
    ident: str,
    ctx: CompletionContext,
    at: tuple[int, int],
    ttft_ms: float | None,
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
        text=text,
        language=ctx.language_id,
        model=s.model if upstream else "offline",
        endpoint=s.endpoint if upstream else "offline",
        ttft_ms=None if ttft_ms is None else round(ttft_ms, 1),
    )


def _automatic(params: types.InlineCompletionParams) -> bool:
    return params.context.trigger_kind == types.InlineCompletionTriggerKind.Automatic


async def _from_model(
    ls: InkstreamServer,
    ctx: CompletionContext,
    listener: EditorListener,
    automatic: bool,
    rules: ExclusionRules,
    root: str | None,
) -> tuple[str, str]:
    """Join the running generation if the user typed into it, else start a new one. The text,
    and why it is empty if it is."""
    generation = ls.generations.get(ctx.uri)
    typed = generation.typed_since(ctx.uri, ctx.prefix, ctx.suffix) if generation else None
    if generation is None or typed is None or not ls.settings.type_through:
        if (budget := check_budget(ls)) is not None:
            ls.report_problem(budget)  # shown once a day
            return "", budget.message
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
    result = asyncio.ensure_future(generation.result_for(listener))
    try:
        with waiting_for(functools.partial(generation.cancelled, listener)):
            await asyncio.wait([result], timeout=NOTE_AFTER)
            if not result.done() and (model := _building(ls)):
                listener.note(f"waiting for {model} to be built (once per machine)")
            return await result, generation.empty_reason
    finally:
        result.cancel()
        generation.stop_reason = ls.registry.reason()
        generation.leave(listener)
        if ls.generations.get(ctx.uri) is generation and generation.task.done():
            del ls.generations[ctx.uri]


async def samples(
    ls: InkstreamServer,
    ctx: CompletionContext,
    count: int,
    rules: ExclusionRules,
    root: str | None,
) -> AsyncGenerator[tuple[int, str], None]:
    """``count`` different completions at once (the Copilot panel): the first at the
    configured temperature, the others sampled hotter. Each is yielded, with its index, the
    moment it is complete; empty and repeated ones are left out. Leaving early closes the
    streams still running (their generations have nobody left)."""
    if (budget := check_budget(ls)) is not None:
        ls.report_problem(budget)
        return
    snippets = documents.related_snippets(ls.workspace, ctx, rules, ls.recent_edits, root)
    full = dataclasses.replace(ctx, snippets=snippets)
    joined: list[tuple[Generation, Listener]] = []
    waits: dict[asyncio.Task[str], int] = {}
    for index in range(count):
        temperature = None if index == 0 else max(ls.settings.temperature, SAMPLE_TEMPERATURE)
        generation = Generation(
            ctx.uri,
            ctx.prefix,
            ctx.suffix,
            functools.partial(_generate, ls, full, temperature=temperature, remember=index == 0),
        )
        listener = Listener()
        generation.join(listener, "")
        joined.append((generation, listener))
        waits[asyncio.ensure_future(generation.result_for(listener))] = index
    seen: set[str] = set()
    try:
        pending = set(waits)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=waits.__getitem__):
                text = task.result()
                if text.strip() and text not in seen:
                    seen.add(text)
                    yield waits[task], text
    finally:
        for generation, listener in joined:
            generation.leave(listener)
        for task in waits:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: the first error was raised already
            task.cancel()


async def _generate(
    ls: InkstreamServer,
    ctx: CompletionContext,
    generation: Generation,
    *,
    temperature: float | None = None,
    remember: bool = True,
) -> str:
    """Ask the model, learn its latency, remember the answer, record the usage."""
    await ls.provider.ready(ctx)
    stats = StreamStats()
    meter = new_meter(ls, "completion", ctx.language_id)
    with metered(ls, meter, stats, lambda: generation.stop_reason):
        text = await relay_completion(
            ls.provider.complete(ctx, ls.settings.max_tokens, meter, temperature=temperature),
            ctx,
            style=await ls.completion_style(),
            timeouts=ls.timeouts,
            listener=generation,
            stats=stats,
        )
    if stats.first_token_at is not None:
        ls.debounce.observe(stats.first_token_at - stats.started)
    if not text:
        generation.empty_reason = _why_empty(ls, stats, ctx.uri)
        if _building(ls):
            return text  # not remembered: asked again, the model being built may answer
    if remember:
        ls.completions.put(ctx.uri, ctx.prefix, ctx.suffix, text)
    return text


def _building(ls: InkstreamServer) -> str | None:
    """The offline model still being built, if any."""
    building = getattr(ls.provider, "building", None)
    return str(building()) if callable(building) and building() else None


def _why_empty(ls: InkstreamServer, stats: StreamStats, uri: str) -> str:
    """One line for the user: why the model's answer is empty."""
    if model := _building(ls):
        return f"{model} is still being built (once per machine); try again in a few seconds"
    offline = ls.provider.name == "offline"
    if stats.tokens == 0:
        known = getattr(ls.provider, "empty_reason", None)
        if callable(known) and (reason := known(uri)):
            return str(reason)
        return (
            "the offline model has nothing confident here" if offline else "the model wrote nothing"
        )
    return "what the model wrote repeats the code around the cursor or leaves its block"


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
