"""Explain code: streamed deltas, the command form, and work-done progress."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import open_doc, request
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

CODE = "def area(r):\n    return 3.14159 * r * r\n"
EXPLANATION = "`area` computes the area of a circle of radius `r`.\n\nIt returns `pi * r^2`."
RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}}


async def test_explain_streams_deltas_that_join_to_the_result(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text(EXPLANATION, chunk_size=3, delay=0.01))
    uri = open_doc(client, CODE)
    client.progress_reports["wd"] = []
    result = await request(
        client,
        "inkstream/explain",
        {
            "textDocument": {"uri": uri},
            "range": RANGE,
            "partialResultToken": "p",
            "workDoneToken": "wd",
        },
    )
    deltas = [v["delta"] for v in client.partial_results["p"]]
    assert len(deltas) > 1
    assert "".join(deltas) == result.text == EXPLANATION
    [req] = upstream.requests
    assert req.path == "/v1/chat/completions"
    assert "return 3.14159 * r * r" in req.prompt_text
    reports = client.progress_reports["wd"]
    assert type(reports[0]).__name__ == "WorkDoneProgressBegin" and reports[0].cancellable
    assert type(reports[-1]).__name__ == "WorkDoneProgressEnd"


async def test_execute_command_returns_text_with_server_progress(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text(EXPLANATION, chunk_size=5, delay=0.01))
    uri = open_doc(client, CODE)
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="inkstream.explain", arguments=[uri, RANGE])
    )
    assert result["text"] == EXPLANATION
    # the server created its own work-done token, since the client sent none
    [token] = [t for t in client.progress_reports if str(t).startswith("inkstream-")]
    kinds = [type(r).__name__ for r in client.progress_reports[token]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"


async def test_execute_command_with_client_token(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text(EXPLANATION, chunk_size=5, delay=0.02))
    uri = open_doc(client, CODE)
    client.progress_reports["cmd"] = []
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="inkstream.explain", arguments=[uri, RANGE], work_done_token="cmd"
        )
    )
    assert result["text"] == EXPLANATION
    kinds = [type(r).__name__ for r in client.progress_reports["cmd"]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
