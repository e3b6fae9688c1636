"""Fixtures: the real server over stdio (pytest-lsp) and a scripted upstream on 127.0.0.1.

Per-test settings go in ``@pytest.mark.settings(apiStyle="fim", ...)``; they reach the server as
``initializationOptions``, exactly as an editor sends them. The upstream's ``baseUrl`` is added
unless the marker sets ``provider="offline"``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pygls.protocol
import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pytest_lsp.client import progress as default_progress

sys.path.insert(0, str(Path(__file__).parent))

from upstream import ScriptedUpstream  # noqa: E402

SERVER_COMMAND = [sys.executable, "-m", "inkstream", "serve"]
_SCRUBBED = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INKSTREAM_API_KEY", "INKSTREAM_BASE_URL")


def server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env.setdefault("INKSTREAM_LOG", "DEBUG")
    env["INKSTREAM_CACHE_DIR"] = str(_CACHE_DIR)
    env["INKSTREAM_DATA_DIR"] = str(_CACHE_DIR / "data")  # usage records: never the user's
    env.update(extra)
    return env


_CACHE_DIR = Path(os.environ.get("INKSTREAM_TEST_CACHE", "/tmp/inkstream-test-cache"))

CLIENT_CAPABILITIES = types.ClientCapabilities(
    window=types.WindowClientCapabilities(work_done_progress=True),
    workspace=types.WorkspaceClientCapabilities(configuration=False),
    text_document=types.TextDocumentClientCapabilities(
        inline_completion=types.InlineCompletionClientCapabilities()
    ),
    general=types.GeneralClientCapabilities(position_encodings=[types.PositionEncodingKind.Utf16]),
)


def make_client() -> LanguageClient:
    """A pytest-lsp client that also records partial results ($/progress without ``kind``)."""
    client = LanguageClient(converter_factory=pygls.protocol.default_converter)
    client.partial_results = {}  # type: ignore[attr-defined]
    client.partial_times = {}  # type: ignore[attr-defined]

    def on_progress(client: LanguageClient, params: types.ProgressParams) -> Any:
        value = params.value
        if isinstance(value, dict) and value.get("kind") in ("begin", "report", "end"):
            return default_progress(client, params)
        client.partial_results.setdefault(params.token, []).append(value)  # type: ignore[attr-defined]
        client.partial_times.setdefault(params.token, []).append(time.monotonic())  # type: ignore[attr-defined]
        return None

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.PROGRESS: on_progress})
    return client


@pytest.fixture
def upstream() -> Iterator[ScriptedUpstream]:
    with ScriptedUpstream() as server:
        yield server


SERVER = ClientServerConfig(
    server_command=SERVER_COMMAND, client_factory=make_client, server_env=server_env()
)


async def lsp_session(
    lsp_client: LanguageClient, options: dict[str, Any], request: pytest.FixtureRequest
) -> AsyncIterator[LanguageClient]:
    """Initialize as an editor would, with ``options`` and the test's settings marker on top."""
    marker = request.node.get_closest_marker("settings")
    options = {**options, **(marker.kwargs if marker else {})}
    if options.get("provider") == "offline":
        options.pop("baseUrl", None)
        options.pop("apiKey", None)
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=CLIENT_CAPABILITIES,
            initialization_options=options,
            root_uri=None,
        )
    )
    yield lsp_client
    try:
        await lsp_client.shutdown_session()
    except RuntimeError:  # the test shut the server down itself
        pass


def upstream_options(upstream: ScriptedUpstream) -> dict[str, Any]:
    """The initializationOptions that point the server at the scripted upstream."""
    return {
        "baseUrl": upstream.base_url,
        "apiKey": "sk-test-secret-key-123",
        "model": "test-model",
        "apiStyle": "chat",
        "firstTokenTimeout": 5.0,
        "idleTimeout": 5.0,
    }


@pytest_lsp.fixture(config=SERVER)
async def client(
    lsp_client: LanguageClient, upstream: ScriptedUpstream, request: pytest.FixtureRequest
) -> AsyncIterator[LanguageClient]:
    async for session in lsp_session(lsp_client, upstream_options(upstream), request):
        yield session


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "settings(**options): initializationOptions for the server")
    _CACHE_DIR.mkdir(parents=True, exist_ok=True)


# -- helpers shared by the end-to-end tests ---------------------------------------------------


def open_doc(
    client: LanguageClient,
    text: str,
    *,
    uri: str = "file:///work/demo.py",
    language: str = "python",
) -> str:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )
    return uri


def cursor(text: str, marker: str = "<CURSOR>") -> tuple[str, types.Position]:
    """Remove the marker; return the text and the marker's UTF-16 position."""
    before, _, after = text.partition(marker)
    line = before.count("\n")
    column_text = before[before.rfind("\n") + 1 :]
    character = len(column_text.encode("utf-16-le")) // 2
    return before + after, types.Position(line=line, character=character)


def inline_params(uri: str, position: types.Position, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "textDocument": {"uri": uri},
        "position": {"line": position.line, "character": position.character},
        "context": {"triggerKind": 1},
    }
    params.update(extra)
    return params


_ids = iter(range(10_000, 10**9))


async def request(
    client: LanguageClient, method: str, params: Any, *, msg_id: int | None = None
) -> Any:
    """Send a request with plain-JSON params, as any editor could, and await its answer.

    pygls's client insists on typed params for standard methods; raw JSON also lets tests send
    malformed requests. Results arrive as pygls's generic objects (attribute access).
    """
    msg_id = next(_ids) if msg_id is None else msg_id
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
    return await future


async def wait_until(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)
