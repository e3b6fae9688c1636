"""Inline completions: the standard LSP 3.18 method and inkstream's streaming variant."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from inkstream import documents
from inkstream.handlers.streaming import editor_request
from inkstream.protocol import INKSTREAM_INLINE_COMPLETION, StreamingInlineCompletionParams
from inkstream.relay import relay_completion

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
    settings = ls.settings
    if not settings.enabled_for(ctx.language_id):
        return types.InlineCompletionList(items=[])

    replace = selected.range if selected else types.Range(params.position, params.position)

    def completion_list(text: str) -> types.InlineCompletionList:
        if not text:
            return types.InlineCompletionList(items=[])
        return types.InlineCompletionList(
            items=[types.InlineCompletionItem(insert_text=text, range=replace)]
        )

    provider = ls.provider
    async with editor_request(
        ls,
        title="inkstream: completing",
        document=uri,
        work_done_token=params.work_done_token,
        partial_token=partial_token,
        to_value=completion_list,
    ) as listener:
        text = await relay_completion(
            provider.complete(ctx, settings.max_tokens),
            ctx,
            style=ls.completion_style,
            timeouts=ls.timeouts,
            listener=listener,
        )
    return completion_list(text)
