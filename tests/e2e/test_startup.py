"""The first suggestion does not wait for set-up: the endpoint is probed right after start-up.

With ``apiStyle: auto`` the server must learn how to ask the endpoint for completions (a probe
request), and it builds the openai client (a second of imports). Both happen in the background
from ``initialize`` on, so the probe reaches the model before the editor asks for anything; a
later start reads the probe's answer from the on-disk endpoint cache and sends no probe at all.
Each test starts its own servers with a cache directory of its own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import (
    CLIENT_CAPABILITIES,
    SERVER_COMMAND,
    cursor,
    inline_params,
    make_client,
    open_doc,
    request,
    server_env,
)
from upstream import RecordedRequest, Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

MODEL = "bigcode/starcoder2-3b"  # a FIM model: the probe decides between its template and chat
STARCODER2_PROMPT = "<file_sep>/work/a.py\n<fim_prefix>def f():\n    <fim_suffix>"


@asynccontextmanager
async def started(upstream: ScriptedUpstream, cache: Path) -> AsyncIterator[LanguageClient]:
    """A server started as an editor starts it: initialize, then initialized, and nothing else."""
    client = make_client()
    await client.start_io(*SERVER_COMMAND, env=server_env(INKSTREAM_CACHE_DIR=str(cache)))
    options: dict[str, Any] = {"baseUrl": upstream.base_url, "model": MODEL, "apiStyle": "auto"}
    try:
        await client.initialize_session(
            types.InitializeParams(capabilities=CLIENT_CAPABILITIES, initialization_options=options)
        )
        yield client
        await client.shutdown_session()
    finally:
        await client.stop()


async def complete(client: LanguageClient, name: str = "a") -> str:
    text, pos = cursor("def f():\n    <CURSOR>\n")
    uri = open_doc(client, text, uri=f"file:///work/{name}.py")
    result = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    return "".join(item.insertText for item in result.items)


def probes(upstream: ScriptedUpstream) -> list[RecordedRequest]:
    return [r for r in upstream.requests if r.body.get("max_tokens") == 1]


def completions(upstream: ScriptedUpstream) -> list[RecordedRequest]:
    return [r for r in upstream.requests if r.body.get("max_tokens") != 1]


async def test_the_endpoint_is_probed_before_the_first_request(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.default = Reply.text("return 1")
    async with started(upstream, tmp_path) as client:
        # nothing has been asked yet: the server probes on its own, right after initialized
        [probe] = await upstream.await_requests(1, timeout=30)
        assert probe.path == "/v1/completions"
        sent_at = time.monotonic()
        assert await complete(client) == "return 1"
    assert probe.received_at < sent_at
    # the first completion needed no probe round-trip of its own
    assert probes(upstream) == [probe]
    [completion] = completions(upstream)
    assert completion.path == "/v1/completions"
    assert str(completion.body["prompt"]).startswith(STARCODER2_PROMPT)


async def test_the_warm_up_starts_at_initialize(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    """An editor's ``initialized`` can come late (Neovim under load): the client's import and the
    probe start as soon as ``initialize`` brings the settings, not one round trip later."""
    upstream.default = Reply.text("return 1")
    client = make_client()
    await client.start_io(*SERVER_COMMAND, env=server_env(INKSTREAM_CACHE_DIR=str(tmp_path)))
    options: dict[str, Any] = {"baseUrl": upstream.base_url, "model": MODEL, "apiStyle": "auto"}
    try:
        # raw JSON: pytest-lsp's client would send `initialized` at once
        params = {"capabilities": {}, "initializationOptions": options}
        await request(client, types.INITIALIZE, params)
        # no `initialized` yet: the probe (which needs the built openai client) still arrives
        [probe] = await upstream.await_requests(1, timeout=30)
        assert probe.path == "/v1/completions"
        client.protocol._send_data({"jsonrpc": "2.0", "method": types.INITIALIZED, "params": {}})
        assert await complete(client) == "return 1"
        assert probes(upstream) == [probe]
        await request(client, types.SHUTDOWN, None)
        client.protocol._send_data({"jsonrpc": "2.0", "method": types.EXIT})
    finally:
        await client.stop()


async def test_a_later_start_reads_the_probe_from_the_cache(
    upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.default = Reply.text("return 1")
    async with started(upstream, tmp_path) as client:
        assert await complete(client) == "return 1"
    assert len(probes(upstream)) == 1
    async with started(upstream, tmp_path) as client:
        assert await complete(client) == "return 1"
    assert len(probes(upstream)) == 1
    second = completions(upstream)[-1]
    assert second.path == "/v1/completions"
    assert str(second.body["prompt"]).startswith(STARCODER2_PROMPT)


async def test_a_failed_probe_is_tried_again(upstream: ScriptedUpstream, tmp_path: Path) -> None:
    """An engine still loading when the editor starts must not leave the session on chat."""
    upstream.script(Reply(status=503, error_message="model is loading"))
    async with started(upstream, tmp_path) as client:
        await upstream.await_end(0, timeout=30)
        upstream.default = Reply.text("return 1")
        assert await complete(client) == "return 1"  # by chat, or after a second probe
        assert await complete(client, "b") == "return 1"
    assert len(probes(upstream)) == 2
    last = completions(upstream)[-1]
    assert last.path == "/v1/completions"
    assert "<file_sep>/work/b.py\n<fim_prefix>def f():" in str(last.body["prompt"])
