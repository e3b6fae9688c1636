"""Every way of saying "stop" closes the upstream stream, and nothing follows the answer."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from conftest import SERVER_COMMAND, cursor, inline_params, open_doc, request, server_env
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

DOC = "def slow():\n    <CURSOR>\n"
SLOW = Reply.text("x = 1\n    " * 200, chunk_size=4, delay=0.05)


def _start(client: LanguageClient, method: str, params: dict, msg_id: int) -> asyncio.Future:
    """Send a request with an id of our own, so the test can cancel it by id."""
    return asyncio.ensure_future(request(client, method, params, msg_id=msg_id))


async def _streaming_started(client: LanguageClient, token: str) -> None:
    for _ in range(500):
        if client.partial_results.get(token):
            return
        await asyncio.sleep(0.01)
    raise TimeoutError("no partial result arrived")


async def test_cancel_request_closes_upstream(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(SLOW)
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    task = _start(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="p"), 41
    )
    await _streaming_started(client, "p")
    client.cancel_request(types.CancelParams(id=41))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 5)
    req = await upstream.await_hangup(0)
    assert not req.completed
    seen = len(client.partial_results["p"])
    await request(client, "inkstream/status", {})
    assert len(client.partial_results["p"]) == seen


async def test_work_done_cancel_closes_upstream(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(SLOW)
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    client.progress_reports["wd"] = []
    task = _start(
        client,
        "inkstream/inlineCompletion",
        inline_params(uri, pos, partialResultToken="p", workDoneToken="wd"),
        42,
    )
    await _streaming_started(client, "p")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="wd"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 5)
    req = await upstream.await_hangup(0)
    assert not req.completed
    assert type(client.progress_reports["wd"][-1]).__name__ == "WorkDoneProgressEnd"


async def test_work_done_cancel_stops_explain(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("word " * 400, chunk_size=5, delay=0.05))
    uri = open_doc(client, "def f():\n    return 1\n")
    client.progress_reports["wd-x"] = []
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 12}},
        "workDoneToken": "wd-x",
        "partialResultToken": "px",
    }
    task = _start(client, "inkstream/explain", params, 43)
    await _streaming_started(client, "px")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="wd-x"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 5)
    assert not (await upstream.await_hangup(0)).completed


async def test_newer_request_supersedes_older(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(SLOW, Reply.text("return 2"))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    first = _start(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="a"), 51
    )
    await _streaming_started(client, "a")
    # the user typed something the model did not write: the old stream is worthless
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text="z")
            ],
        )
    )
    moved = types.Position(pos.line, pos.character + 1)
    second = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, moved))
    assert second.items[0].insertText == "return 2"
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wait_for(first, 5)
    assert info.value.code == -32802
    assert not (await upstream.await_hangup(0)).completed


async def test_shutdown_cancels_running_requests(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(SLOW)
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    running = _start(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="s"), 61
    )
    await _streaming_started(client, "s")
    await client.shutdown_session()
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wait_for(running, 5)
    assert info.value.code in (-32800, -32802)
    assert not (await upstream.await_hangup(0)).completed


def _frame(payload: str) -> bytes:
    body = payload.encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def _send(proc: subprocess.Popen[bytes], messages: list[dict]) -> None:
    assert proc.stdin is not None
    for message in messages:
        proc.stdin.write(_frame(json.dumps(message)))
    proc.stdin.flush()


def _streaming_session(upstream: ScriptedUpstream) -> list[dict]:
    """Initialize, open a file and ask for a completion: the model is streaming once it is read."""
    return [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "capabilities": {},
                "initializationOptions": {"baseUrl": upstream.base_url, "apiStyle": "chat"},
            },
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {
                    "uri": "file:///x.py",
                    "languageId": "python",
                    "version": 1,
                    "text": "def slow():\n    \n",
                }
            },
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "textDocument/inlineCompletion",
            "params": inline_params("file:///x.py", types.Position(1, 4)),
        },
    ]


def _spawn_server(stdout: int) -> subprocess.Popen[bytes]:
    """The server on raw pipes, without a client: the test writes its frames itself."""
    return subprocess.Popen(
        SERVER_COMMAND,
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        env=server_env(),
    )


def test_stdin_closing_stops_stream_and_exits(upstream: ScriptedUpstream, tmp_path) -> None:
    """An editor that dies closes our stdin: the upstream must hear about it, and we must exit."""
    upstream.script(SLOW)
    proc = _spawn_server(subprocess.PIPE)
    _send(proc, _streaming_session(upstream))
    upstream.wait_for_requests(1, timeout=10)
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        code = proc.wait(timeout=10)
    finally:
        proc.kill()
    assert code is not None
    req = upstream.wait_for_hangup(0, timeout=5)
    assert not req.completed


def test_exit_without_shutdown_stops_stream_and_exits(upstream: ScriptedUpstream) -> None:
    """An editor that sends ``exit`` straight away: the model hears it, and the server ends."""
    upstream.script(SLOW)
    proc = _spawn_server(subprocess.DEVNULL)
    try:
        _send(proc, _streaming_session(upstream))
        upstream.wait_for_requests(1, timeout=30)
        _send(proc, [{"jsonrpc": "2.0", "method": "exit"}])
        req = upstream.wait_for_hangup(0, timeout=10)
        assert not req.completed
        proc.wait(timeout=10)  # raises if the server is still running
    finally:
        proc.kill()


def test_exit_during_an_explanation_ends_quietly(upstream: ScriptedUpstream) -> None:
    """``exit`` while an explanation streams: the server ends, and writes no error about it.

    pygls closes stdout on ``exit`` while the request still unwinds; its late answer must be
    dropped. Each failed send used to log a longer chained traceback, until a stderr the editor
    does not read (pygls's own client never reads it) filled and the server hung for ever.
    """
    upstream.script(SLOW)
    session = _streaming_session(upstream)
    session[-1] = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "inkstream/explain",
        "params": {
            "textDocument": {"uri": "file:///x.py"},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
            "partialResultToken": "explain-1",
        },
    }
    proc = subprocess.Popen(
        SERVER_COMMAND,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=server_env(INKSTREAM_LOG="WARNING"),
    )
    assert proc.stderr is not None
    try:
        _send(proc, session)
        upstream.wait_for_requests(1, timeout=30)
        _send(proc, [{"jsonrpc": "2.0", "method": "exit"}])
        req = upstream.wait_for_hangup(0, timeout=10)
        assert not req.completed
        proc.wait(timeout=15)  # stderr unread, as by pygls's client: raises if the server hangs
        errors = proc.stderr.read().decode(errors="replace")
        assert "closed file" not in errors
        assert "Error sending data" not in errors
    finally:
        proc.kill()
        proc.stderr.close()
        if proc.stdin is not None:
            proc.stdin.close()
