"""The server behaves the same whichever way the editor connects its stdio.

VS Code and Neovim start servers through libuv, which gives the child a ``socketpair(2)`` per
stream; Python, Emacs and Vim give it ``pipe(2)``s. pytest-lsp uses pipes, so this module runs the
user-visible cancel paths over both: a cancel still reaches the model, and ``exit`` while a
model streams ends the server quietly (its stderr is the editor's log).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from conftest import server_env, upstream_options
from raw_server import DEADLINE, RawServer
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

Transport = Literal["pipe", "socket"]
TRANSPORTS: list[Transport] = ["pipe", "socket"]
SLOW = Reply.text("The function adds numbers. " * 200, chunk_size=6, delay=0.05)
URI = "file:///project/area.py"
TEXT = "def area(r):\n    return 3.14159 * r * r\n"


@pytest.fixture
def server(
    request: pytest.FixtureRequest, upstream: ScriptedUpstream, tmp_path: Path
) -> Iterator[RawServer]:
    transport: Transport = request.param
    raw = RawServer(
        server_env(INKSTREAM_LOG="INFO"),
        tmp_path,
        tmp_path / "server.err",
        init=upstream_options(upstream),
        transport=transport,
    )
    raw.send(
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {
                "textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}
            },
        }
    )
    yield raw
    raw.kill()


def explain(server: RawServer, msg_id: int, token: str) -> None:
    """Starts an explanation and returns once its first words arrived."""
    server.send(
        {
            "jsonrpc": "2.0",
            "id": msg_id,
            "method": "inkstream/explain",
            "params": {
                "textDocument": {"uri": URI},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
                "partialResultToken": token,
            },
        }
    )
    assert server.receive_progress(token)["delta"]


@pytest.mark.parametrize("server", TRANSPORTS, indirect=True)
def test_a_cancel_reaches_the_model(server: RawServer, upstream: ScriptedUpstream) -> None:
    upstream.script(SLOW)
    explain(server, 7, "words")
    server.send({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": 7}})
    assert server.receive(7)["error"]["code"] == -32800
    assert not upstream.wait_for_hangup(0).completed
    # and the server goes on serving
    upstream.script(Reply.text("Area of a circle."))
    explain(server, 8, "again")
    assert "Area of a circle." in server.receive(8)["result"]["text"]


@pytest.mark.parametrize("server", TRANSPORTS, indirect=True)
def test_exit_while_the_model_streams_ends_quietly(
    server: RawServer, upstream: ScriptedUpstream
) -> None:
    upstream.script(SLOW)
    explain(server, 7, "words")
    server.send({"jsonrpc": "2.0", "method": "exit"})
    server.proc.wait(timeout=DEADLINE)
    assert not upstream.wait_for_hangup(0).completed
    log = server.stderr()
    # the request still unwinding has nowhere to answer: that is not an error to log, once or
    # (as it was over a socket) hundreds of times, each with a longer chained traceback
    assert "Traceback" not in log, log[-3000:]
    assert "Error sending data" not in log
