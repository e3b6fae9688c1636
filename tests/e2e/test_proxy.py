"""A corporate network: a real forward proxy (proxy.py) in front of an HTTPS endpoint whose
certificate comes from a throwaway certificate authority (trustme). Two settings make it work;
without them the user is told which one to set. Streaming and cancel go through the proxy."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
import trustme
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import (
    SERVER_COMMAND,
    cursor,
    inline_params,
    lsp_session,
    make_client,
    open_doc,
    request,
    server_env,
    upstream_options,
)
from forward_proxy import ForwardProxy, free_port
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

DOC = "def area(r):\n    <CURSOR>\n"
USER, PASSWORD = "inkstream", "s3cret/with:odd@chars"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[trustme.CA, Path]]:
    authority = trustme.CA()
    path = tmp_path_factory.mktemp("ca") / "company-ca.pem"
    authority.cert_pem.write_to_path(str(path))
    yield authority, path


@pytest.fixture
def upstream(ca: tuple[trustme.CA, Path]) -> Iterator[ScriptedUpstream]:
    """Overrides conftest's: the endpoint speaks HTTPS with a certificate from the private CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca[0].issue_cert("127.0.0.1").configure_cert(context)
    with ScriptedUpstream(tls=context) as server:
        yield server


@pytest.fixture(scope="module")
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy(auth=f"{USER}:{PASSWORD}")
    yield server
    server.close()


PROXY_ENV = server_env(INKSTREAM_PROXY_USER=USER, INKSTREAM_PROXY_PASSWORD=PASSWORD)
for _name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
    PROXY_ENV.pop(_name, None)


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=SERVER_COMMAND, client_factory=make_client, server_env=PROXY_ENV
    )
)
async def client(
    lsp_client: LanguageClient, upstream: ScriptedUpstream, request: pytest.FixtureRequest
) -> AsyncIterator[LanguageClient]:
    """The server with proxy credentials in its environment, as a user would export them."""
    options = {**upstream_options(upstream), "firstTokenTimeout": 10.0, "idleTimeout": 10.0}
    async for session in lsp_session(lsp_client, options, request):
        yield session


def _configure(client: LanguageClient, **settings: str) -> None:
    """The two values a user sets, through workspace settings as an editor pushes them."""
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"inkstream": settings})
    )


async def _complete(client: LanguageClient, **extra: Any) -> Any:
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    return await request(
        client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos, **extra)
    )


async def test_streams_through_proxy_with_private_ca(
    client: LanguageClient, upstream: ScriptedUpstream, proxy: ForwardProxy, ca: Any
) -> None:
    _configure(client, proxy=proxy.url, caFile=str(ca[1]))
    upstream.script(Reply.text("return 3.14 * r * r", delay=0.02))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    result = await request(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="p")
    )
    assert result.items[0].insertText == "return 3.14 * r * r"
    assert len(client.partial_results["p"]) >= 2  # it grew while the model wrote
    assert upstream.requests[-1].path.endswith("/chat/completions")


async def test_cancel_through_proxy_reaches_upstream(
    client: LanguageClient, upstream: ScriptedUpstream, proxy: ForwardProxy, ca: Any
) -> None:
    _configure(client, proxy=proxy.url, caFile=str(ca[1]))
    upstream.script(Reply.text("x = 1\n    " * 300, delay=0.05))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    params = inline_params(uri, pos, partialResultToken="p")
    task = asyncio.ensure_future(request(client, "inkstream/inlineCompletion", params, msg_id=77))
    for _ in range(1000):
        if client.partial_results.get("p"):
            break
        await asyncio.sleep(0.01)
    client.cancel_request(types.CancelParams(id=77))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 10)
    hung_up = await upstream.await_hangup(0)
    assert not hung_up.completed


async def test_untrusted_certificate_says_set_ca_file(
    client: LanguageClient, upstream: ScriptedUpstream, proxy: ForwardProxy
) -> None:
    _configure(client, proxy=proxy.url)
    with pytest.raises(JsonRpcException) as info:
        await _complete(client)
    error = info.value
    assert error.data["kind"] == "certificate"
    assert "127.0.0.1" in error.message and "caFile" in error.message
    assert not upstream.requests  # nothing was sent over an untrusted connection


async def test_proxy_asking_for_credentials_says_so(
    client: LanguageClient, upstream: ScriptedUpstream, ca: Any
) -> None:
    other = ForwardProxy(auth="someone:else")  # our credentials are not its credentials
    try:
        _configure(client, proxy=other.url, caFile=str(ca[1]))
        with pytest.raises(JsonRpcException) as info:
            await _complete(client)
    finally:
        other.close()
    error = info.value
    assert error.data["kind"] == "proxy" and error.data["status"] == 407
    assert "credentials" in error.message and "INKSTREAM_PROXY_USER" in error.message
    assert PASSWORD not in error.message


async def test_proxy_that_is_down_is_named(
    client: LanguageClient, upstream: ScriptedUpstream, ca: Any
) -> None:
    port = free_port()
    _configure(client, proxy=f"http://127.0.0.1:{port}", caFile=str(ca[1]))
    with pytest.raises(JsonRpcException) as info:
        await _complete(client)
    assert info.value.data["kind"] == "proxy"
    assert f"127.0.0.1:{port}" in info.value.message


async def test_workspace_settings_cannot_carry_proxy_credentials(
    client: LanguageClient, upstream: ScriptedUpstream, proxy: ForwardProxy, ca: Any
) -> None:
    _configure(client, proxy=f"http://{USER}:leaked@127.0.0.1:{proxy.port}", caFile=str(ca[1]))
    status = await request(client, "inkstream/status", {})
    assert status.baseUrl == upstream.base_url  # the earlier settings stay in force
    messages = [m.message for m in client.messages]
    assert any("proxy credentials are not read from workspace settings" in m for m in messages)
    assert not any("leaked" in m for m in messages)


def _complete_in_terminal(tmp_path: Path, base_url: str, **env: str) -> Any:
    """``inkstream complete`` as a user runs it in a shell with proxy variables exported."""
    path = tmp_path / "geometry.py"
    path.write_text("def area(r):\n    \n")
    return subprocess.run(
        [sys.executable, "-m", "inkstream", "complete", f"{path}:2:5", "--base-url", base_url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**PROXY_ENV, "INKSTREAM_API_STYLE": "chat", **env},
    )


def test_https_proxy_from_the_environment_still_works(
    tmp_path: Path, upstream: ScriptedUpstream, proxy: ForwardProxy, ca: Any
) -> None:
    upstream.script(Reply.text("return 3.14 * r * r", delay=0.01))
    with_credentials = proxy.url.replace("http://", f"http://{USER}:s3cret%2Fwith%3Aodd%40chars@")
    done = _complete_in_terminal(
        tmp_path, upstream.base_url, HTTPS_PROXY=with_credentials, INKSTREAM_CA_FILE=str(ca[1])
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "return 3.14 * r * r\n"


def test_https_proxy_from_the_environment_is_the_one_used(
    tmp_path: Path, upstream: ScriptedUpstream, ca: Any
) -> None:
    strict = ForwardProxy(auth="someone:else")
    try:
        done = _complete_in_terminal(
            tmp_path, upstream.base_url, HTTPS_PROXY=strict.url, INKSTREAM_CA_FILE=str(ca[1])
        )
    finally:
        strict.close()
    assert done.returncode != 0
    assert "asks for credentials (HTTP 407)" in done.stderr
    assert not upstream.requests
