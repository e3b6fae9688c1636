"""Upstream failures become errors a user can act on; one popup per problem; the server stays up."""

from __future__ import annotations

import socket

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

DOC = "def f():\n    <CURSOR>\n"
BODY = "".join(f"x{i} = {i}\n    " for i in range(50))  # a long body that never ends early
KEY = "sk-test-secret-key-123"  # what the client fixture sends as apiKey


async def _complete(client: LanguageClient) -> object:
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    return await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))


async def _error_of(client: LanguageClient) -> JsonRpcException:
    with pytest.raises(JsonRpcException) as info:
        await _complete(client)
    return info.value


async def _still_serving(client: LanguageClient, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("return 1"))
    result = await _complete(client)
    assert result.items[0].insertText == "return 1"


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (Reply(status=401), "auth", ["rejected the API key", "401"]),
        (Reply(status=403), "auth", ["rejected the API key", "403"]),
        (Reply(status=404, error_message="model 'x' not found"), "not_found", ["404", "model"]),
        (Reply(status=429, headers={"Retry-After": "30"}), "rate_limited", ["429", "30 s"]),
        (Reply(status=500), "upstream", ["HTTP 500"]),
        (Reply(status=503), "upstream", ["HTTP 503"]),
        (Reply.text(BODY, fault="drop", fault_after=3), "stream", ["cut off"]),
        (Reply.text(BODY, fault="garbled", fault_after=2), "stream", ["garbled"]),
        (Reply.text(BODY, fault="error_event", fault_after=2), "stream", ["error"]),
    ],
    ids=["401", "403", "404", "429", "500", "503", "dropped", "garbled", "error-event"],
)
async def test_upstream_failures(
    client: LanguageClient, upstream: ScriptedUpstream, reply: Reply, kind: str, words: list[str]
) -> None:
    upstream.script(reply)
    error = await _error_of(client)
    assert error.code == -32803
    assert error.data["kind"] == kind
    assert error.data["hint"]
    for word in words:
        assert word in error.message
    assert KEY not in error.message
    if kind == "auth":
        assert upstream.base_url in error.message  # names the endpoint, never the key
    await _still_serving(client, upstream)


async def test_a_litellm_gateway_without_a_database_refusing_the_key(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    """LiteLLM's proxy without a database answers any key but its master key with 400
    ``no_db_connection``: a refused key, not a bad request (tests/engines/test_gateway.py
    meets it live)."""
    upstream.script(
        Reply(status=400, error_message="No connected db.", error_type="no_db_connection")
    )
    error = await _error_of(client)
    assert error.data["kind"] == "auth" and error.data["status"] == 400
    assert "rejected the API key" in error.message and "master key" in error.message
    assert KEY not in error.message
    await _still_serving(client, upstream)


async def test_a_gateway_budget_spent_says_so(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    """LiteLLM's proxy answers a key whose budget is spent with 422 ``budget_exceeded``: the
    gateway's limit, said as such (not "check model, apiStyle and maxTokens")."""
    message = "Budget has been exceeded! Current cost: 5.1, Max budget: 5.0"
    upstream.script(Reply(status=422, error_message=message, error_type="budget_exceeded"))
    error = await _error_of(client)
    assert error.data["kind"] == "rate_limited" and error.data["status"] == 422
    assert "budget for this key is spent" in error.message and "Max budget: 5.0" in error.message
    assert "gateway" in error.data["hint"]
    await _still_serving(client, upstream)


async def test_short_retry_after_is_waited_for_once(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(status=429, headers={"Retry-After": "0.2"}), Reply.text("return 7"))
    result = await _complete(client)
    assert result.items[0].insertText == "return 7"
    assert len(upstream.requests) == 2


@pytest.mark.settings(firstTokenTimeout=0.5)
async def test_first_token_timeout(client: LanguageClient, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("late", fault="hang"))
    error = await _error_of(client)
    assert error.data["kind"] == "timeout"
    assert "first token" in error.message
    assert not (await upstream.await_hangup(0)).completed


@pytest.mark.settings(idleTimeout=0.5)
async def test_idle_timeout(client: LanguageClient, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(chunks=["a = ", "1", " + 2"], delay=3.0))
    error = await _error_of(client)
    assert error.data["kind"] == "timeout"
    assert "next token" in error.message


async def test_connection_refused(client: LanguageClient) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"inkstream": {"baseUrl": url}})
    )
    error = await _error_of(client)
    assert error.data["kind"] == "connection"
    assert url in error.message


async def test_one_popup_per_distinct_problem(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(status=401), Reply(status=401), Reply(status=401), Reply(status=500))
    for _ in range(3):
        await _error_of(client)
    error = await _error_of(client)
    assert error.data["kind"] == "upstream"
    await request(client, "inkstream/status", {})
    popups = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert len(popups) == 2
    assert "401" in popups[0] and "500" in popups[1]
    assert all(KEY not in m for m in popups)
    assert all(KEY not in m.message for m in client.log_messages)
    status = await request(client, "inkstream/status", {})
    assert "500" in status.lastError
