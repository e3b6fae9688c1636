"""``inkstream serve`` driven over stdio with hand-written JSON-RPC, as any editor would.

``transport`` is how the editor connects the server's stdin and stdout: ``pipe`` (``pipe(2)``,
as Python, Emacs and Vim do) or ``socket`` (a ``socketpair(2)`` per stream, as libuv does for
VS Code's and Neovim's child processes).
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Literal

from conftest import SERVER_COMMAND

DEADLINE = 120.0  # generous: the machine may be busy; every wait polls and ends early


class RawServer:
    def __init__(
        self,
        env: dict[str, str],
        root: Path,
        stderr: Path,
        *,
        init: dict[str, Any],
        editor: int | None = None,
        transport: Literal["pipe", "socket"] = "pipe",
    ) -> None:
        self.stderr_path = stderr
        self._sockets: list[socket.socket] = []
        with stderr.open("wb") as err:
            if transport == "pipe":
                self.proc = subprocess.Popen(
                    SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                    env=env,
                )  # fmt: skip
                assert self.proc.stdin is not None and self.proc.stdout is not None
                self._in_fd, self._out_fd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
            else:
                ours_in, theirs_in = socket.socketpair()
                ours_out, theirs_out = socket.socketpair()
                self.proc = subprocess.Popen(
                    SERVER_COMMAND, stdin=theirs_in.fileno(), stdout=theirs_out.fileno(),
                    stderr=err, env=env,
                )  # fmt: skip
                theirs_in.close()
                theirs_out.close()
                self._sockets = [ours_in, ours_out]
                self._in_fd, self._out_fd = ours_in.fileno(), ours_out.fileno()
        self._buffer = b""
        self.messages: list[dict[str, Any]] = []  # everything the server sent, in order
        self.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "processId": editor or os.getpid(),
                    "rootUri": root.as_uri(),
                    "capabilities": {"window": {"workDoneProgress": True}},
                    "initializationOptions": init,
                },
            }
        )
        assert self.receive(1)["result"]["serverInfo"]["name"] == "inkstream"
        self.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        data = b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        while data:
            data = data[os.write(self._in_fd, data) :]

    def _next(self) -> dict[str, Any]:
        """The next message from the server (bounded: a test must not hang)."""
        deadline = time.monotonic() + DEADLINE
        while True:
            head, sep, rest = self._buffer.partition(b"\r\n\r\n")
            if sep:
                length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
                if len(rest) >= length:
                    message: dict[str, Any] = json.loads(rest[:length])
                    self._buffer = rest[length:]
                    self.messages.append(message)
                    return message
            assert time.monotonic() < deadline, "the server did not answer"
            if select.select([self._out_fd], [], [], 0.1)[0]:
                chunk = os.read(self._out_fd, 65536)
                assert chunk, f"the server closed stdout: {self.stderr()[-2000:]}"
                self._buffer += chunk

    def receive(self, msg_id: int) -> dict[str, Any]:
        """Read messages until the answer to ``msg_id``."""
        while True:
            message = self._next()
            if message.get("id") == msg_id and "method" not in message:
                return message

    def receive_progress(self, token: str) -> dict[str, Any]:
        """Read messages until a ``$/progress`` on ``token``; answer the server's requests."""
        while True:
            message = self._next()
            if message.get("method") == "window/workDoneProgress/create":
                self.send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            elif message.get("method") == "$/progress" and message["params"]["token"] == token:
                return dict(message["params"]["value"])

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def close_stdin(self) -> None:
        if self._sockets:
            self._sockets[0].shutdown(socket.SHUT_WR)
        else:
            assert self.proc.stdin is not None
            self.proc.stdin.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for sock in self._sockets:
            sock.close()
