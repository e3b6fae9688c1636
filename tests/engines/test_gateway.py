"""The README's team gateway, live: LiteLLM's proxy (``docs/litellm-config.yaml``, as it is) in
front of the real llama.cpp engine of ``test_engines.py``, and the real server in front of both.

The server is set up as every editor of the team would be: ``baseUrl`` (the gateway), ``model``
(the gateway's model name) and a key; ``apiStyle`` stays ``auto``. What reaches the engine is
read from the engine itself: its output (the tiny model writes ``return total_of(values)`` only
after Qwen's FIM middle token, and explains forever after the chat template's assistant turn),
its access log (which route) and its ``Disconnected from client`` lines (hang-ups).

Needs LiteLLM's proxy installed apart from the project (``INKSTREAM_LITELLM``, the ``litellm``
command) and the llama.cpp engine (``INKSTREAM_LLAMACPP_PYTHON``);
``tests/engines/install-engines.sh`` installs both. Without them these tests are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient
from team_gateway import LITELLM_VARIABLE, Gateway, start_gateway
from test_engines import (
    EXPLAIN_MAX_TOKENS,
    Engine,
    _free_port,
    engine,  # noqa: F401  (the fixture, here for llama.cpp only)
)

from conftest import (
    CLIENT_CAPABILITIES,
    SERVER_COMMAND,
    cursor,
    inline_params,
    make_client,
    open_doc,
    request,
    server_env,
    wait_until,
)

pytestmark = [
    pytest.mark.engine,
    pytest.mark.parametrize("engine", ["llama.cpp"], indirect=True),
]

COMPLETION = "return total_of(values)"  # what the model writes after <|fim_middle|>
DOC = "def total(values):\n    <CURSOR>\n"


@pytest.fixture(scope="session")
def litellm() -> str:
    path = os.environ.get(LITELLM_VARIABLE)
    if not path:
        pytest.skip(
            f"LiteLLM's proxy is not installed here (set {LITELLM_VARIABLE}; "
            "tests/engines/install-engines.sh installs it)"
        )
    return path


@dataclass
class Team:
    gateway: Gateway
    engine: Engine  # behind the gateway


@pytest.fixture(scope="session")
def team(
    litellm: str,
    engine: Engine,  # noqa: F811  (the imported fixture)
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Team]:
    work = tmp_path_factory.mktemp("gateway")
    try:
        gateway = start_gateway(litellm, engine.base_url, _free_port(), work)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield Team(gateway, engine)
    finally:
        gateway.stop()


def env_for(home: Path) -> dict[str, str]:
    """A home of the test's own: its usage file, and an endpoint cache with no route in it."""
    return server_env(
        INKSTREAM_DATA_DIR=str(home / "data"), INKSTREAM_CACHE_DIR=str(home / "cache")
    )


@asynccontextmanager
async def editor(home: Path, gateway: Gateway, **settings: Any) -> AsyncIterator[LanguageClient]:
    """A real server set up as a team member's editor: the gateway, its model, a key."""
    config = ClientServerConfig(
        server_command=SERVER_COMMAND, client_factory=make_client, server_env=env_for(home)
    )
    client = await config.start()
    options = {
        "baseUrl": gateway.base_url,
        "apiKey": gateway.master_key,
        "model": gateway.model,
        "firstTokenTimeout": 60.0,
        "idleTimeout": 60.0,
        "explainMaxTokens": EXPLAIN_MAX_TOKENS,
        **settings,
    }
    await client.initialize_session(
        types.InitializeParams(
            capabilities=CLIENT_CAPABILITIES, initialization_options=options, root_uri=None
        )
    )
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


def recorded(home: Path) -> list[dict[str, Any]]:
    db = sqlite3.connect(home / "data" / "usage.sqlite3")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    db.close()
    return rows


def engine_requests(behind: Engine, since: int) -> list[str]:
    """The routes the engine was asked for after log offset ``since`` (its access log)."""
    lines = behind.log_text()[since:].splitlines()
    return [line.split('"')[1] for line in lines if '"POST /v1/' in line]


async def complete(client: LanguageClient, token: str = "g") -> Any:
    text, pos = cursor(DOC)
    uri = open_doc(client, text, uri="file:///team/totals.py")
    return await request(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken=token)
    )


async def test_auto_finds_fim_through_the_gateway(tmp_path: Path, team: Team) -> None:
    """LiteLLM passes ``/v1/completions`` of an ``openai/`` model on to the engine's own
    ``/v1/completions``, so the probe settles on FIM (with the prompt written here, the model
    name naming the Qwen family): the engine is asked by completions, never by chat, and the
    model's FIM answer reaches the editor, streamed as partial results first."""
    since = len(team.engine.log_text())
    async with editor(tmp_path, team.gateway) as client:
        result = await complete(client)
    assert [item.insertText for item in result.items] == [COMPLETION]
    partials = [p["items"][0]["insertText"] for p in client.partial_results["g"] if p["items"]]
    assert partials, "nothing was streamed before the answer"
    assert all(COMPLETION.startswith(p) for p in partials)
    asked = engine_requests(team.engine, since)
    assert asked and set(asked) == {"POST /v1/completions HTTP/1.1"}, asked
    [row] = recorded(tmp_path)
    assert row["route"] == "template" and row["outcome"] == "complete"


@pytest.mark.parametrize("method", ["inkstream/inlineCompletion", "inkstream/explain"])
async def test_text_streams_and_a_cancel_reaches_the_engine(
    tmp_path: Path, team: Team, method: str
) -> None:
    """Ghost text by chat (the model then writes for as long as it may) and an explanation: the
    text grows in several partial results while the engine is still writing, and the cancel
    that follows reaches the engine through the gateway (it logs the hang-up)."""
    async with editor(tmp_path, team.gateway, apiStyle="chat", maxTokens=4000) as client:
        text, pos = cursor(DOC)
        uri = open_doc(client, text, uri="file:///team/totals.py")
        if method == "inkstream/explain":
            params: dict[str, Any] = {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
                "partialResultToken": "s",
            }
        else:
            params = inline_params(uri, pos, partialResultToken="s")
        hang_ups = team.engine.log_text().count("Disconnected from client")
        task = asyncio.ensure_future(request(client, method, params, msg_id=91))
        await wait_until(lambda: len(client.partial_results.get("s", [])) >= 3, timeout=120)
        assert not task.done(), "the answer came before the text had streamed"
        client.cancel_request(types.CancelParams(id=91))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(task, 10)
        # a fresh gateway's first hang-up took up to 20 s on 2 loaded cores (later ones: ms)
        await wait_until(
            lambda: team.engine.log_text().count("Disconnected from client") > hang_ups, timeout=120
        )
    shown = [_shown(method, p) for p in client.partial_results["s"]]
    assert "adds up" in "".join(shown)  # the model's chat answer, through the gateway
    if method == "inkstream/inlineCompletion":  # each partial is the whole ghost text so far
        assert all(
            b.startswith(a) and len(b) > len(a) for a, b in zip(shown, shown[1:], strict=False)
        )
    [row] = recorded(tmp_path)
    assert row["outcome"] == "cancelled"


def _shown(method: str, partial: dict[str, Any]) -> str:
    if method == "inkstream/explain":
        return str(partial["delta"])
    return str(partial["items"][0]["insertText"]) if partial["items"] else ""


async def test_the_gateways_usage_chunk_is_recorded_and_reaches_stats(
    tmp_path: Path, team: Team
) -> None:
    """llama-cpp-python sends no usage chunk; LiteLLM counts the tokens and sends one when asked
    (``stream_options.include_usage``): the record says "reported", not "counted"."""
    async with editor(tmp_path, team.gateway) as client:
        result = await complete(client)
        assert [item.insertText for item in result.items] == [COMPLETION]
    [row] = recorded(tmp_path)
    assert row["usage_source"] == "reported"
    assert row["prompt_tokens"] > 0 and row["generated_tokens"] > 0
    assert row["endpoint"] == team.gateway.base_url and row["model"] == team.gateway.model

    done = subprocess.run(
        [sys.executable, "-m", "inkstream", "stats", "--json"],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout)["totals"]
    assert totals["requests"] == 1
    assert (totals["reportedRequests"], totals["countedRequests"]) == (1, 0)
    assert totals["promptTokens"] == row["prompt_tokens"]


async def test_a_key_the_gateway_refuses_is_an_authentication_error(
    tmp_path: Path, team: Team
) -> None:
    """Without a database LiteLLM knows its master key only, and refuses any other with
    400 ``no_db_connection``: the editor says the key was rejected, never shows the key, and the
    refused probe is not remembered as "this gateway has no FIM" (the right key gets FIM)."""
    key = "sk-alice-0123456789abcdef"
    async with editor(tmp_path, team.gateway, apiKey=key) as client:
        with pytest.raises(JsonRpcException) as raised:
            await complete(client)
    error = raised.value
    assert error.data["kind"] == "auth"  # type: ignore[attr-defined]
    assert "rejected the API key" in error.message and team.gateway.base_url in error.message
    assert "master key" in error.message
    assert key not in error.message

    async with editor(tmp_path, team.gateway) as client:
        result = await complete(client)
    assert [item.insertText for item in result.items] == [COMPLETION]
    assert recorded(tmp_path)[-1]["route"] == "template"
