"""Explain code: the streaming custom method, and a command for editors that only run commands."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

# a real import: pygls reads the command handler's annotations at run time
from inkstream.app import InkstreamServer
from inkstream.completion import documents
from inkstream.errors import InvalidParams
from inkstream.handlers.streaming import editor_request
from inkstream.protocol import (
    EXPLAIN_COMMAND,
    INKSTREAM_EXPLAIN,
    ExplainParams,
    execute_command_params,
)
from inkstream.relay import StreamStats, relay_explanation
from inkstream.usage.guard import check_budget, metered, new_meter


def register(server: InkstreamServer) -> None:
    @server.feature(INKSTREAM_EXPLAIN)
    async def explain(ls: InkstreamServer, params: ExplainParams) -> dict[str, str]:
        return await run_explain(
            ls,
            params.text_document.uri,
            params.range,
            work_done_token=params.work_done_token,
            partial_token=params.partial_result_token,
        )

    @server.command(EXPLAIN_COMMAND)
    async def explain_command(ls: InkstreamServer, *args: Any) -> dict[str, str]:
        uri, range_ = _command_arguments(ls, args)
        params = execute_command_params.get()
        token = params.work_done_token if params is not None else None
        return await run_explain(ls, uri, range_, work_done_token=token, partial_token=None)


def _command_arguments(ls: InkstreamServer, args: tuple[Any, ...]) -> tuple[str, types.Range]:
    if len(args) != 2 or not isinstance(args[0], str):
        raise InvalidParams(
            f"{EXPLAIN_COMMAND} takes two arguments, [uri, range].",
            hint='For example ["file:///a.py", {"start": {...}, "end": {...}}].',
        )
    try:
        range_ = ls.protocol._converter.structure(args[1], types.Range)
    except Exception as exc:
        raise InvalidParams(f"{EXPLAIN_COMMAND}: the second argument is not a Range.") from exc
    return args[0], range_


async def run_explain(
    ls: InkstreamServer,
    uri: str,
    range_: types.Range,
    *,
    work_done_token: types.ProgressToken | None,
    partial_token: types.ProgressToken | None,
) -> dict[str, str]:
    req = documents.explain_request(ls.workspace, uri, range_)
    provider = ls.provider
    async with editor_request(
        ls,
        title="inkstream: explaining",
        document=None,
        work_done_token=work_done_token,
        partial_token=partial_token,
        to_value=lambda delta: {"delta": delta},
        accumulate=True,
        create_token=True,
    ) as listener:
        if (budget := check_budget(ls)) is not None:
            raise budget
        await provider.ready()
        stats = StreamStats()
        meter = new_meter(ls, "explain", req.language_id)
        with metered(ls, meter, stats):
            text = await relay_explanation(
                provider.explain(req, ls.settings.explain_max_tokens, meter),
                timeouts=ls.timeouts,
                listener=listener,
                stats=stats,
            )
    return {"text": text}
