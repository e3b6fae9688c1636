"""Drive an inkstream server subprocess over stdio, exactly as an editor does.

The terminal commands (``demo``, ``complete``, ``explain``) go through this client, so what they
show is what editors get: partial results, work-done progress, ``$/cancelRequest``.

It speaks JSON-RPC with the standard library only. A command's time is mostly start-up, and
``lsprotocol`` (which pygls's client imports) takes half a second of CPU to import: the server
starts first and this client needs none of it, so a warm ``inkstream complete`` answers within
a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OnText = Callable[[str], None]
OnEdits = Callable[[list[dict[str, Any]]], None]
REQUEST_CANCELLED = -32800
SERVER_ENDED = -32099  # JSON-RPC's range for implementation errors
CLOSE_WAIT = 5.0  # seconds for the server to shut down and exit before it is killed


class ServerError(Exception):
    """An error response from the server (``code`` as JSON-RPC gives it)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def cancelled(self) -> bool:
        return self.code == REQUEST_CANCELLED


@dataclass
class Progress:
    """What the server reported about the running request (work-done progress)."""

    message: str = ""
    started: float = field(default_factory=time.monotonic)


class TerminalClient:
    """One server subprocess and the requests sent to it.

    With ``verbose``, the server's log (its stderr) and its ``window/logMessage`` notifications
    are shown on stderr; otherwise both are dropped (the stderr pipe is always drained, so a
    chatty server can never block on it)."""

    def __init__(self, *, verbose: bool = False) -> None:
        self.verbose = verbose
        self.progress = Progress()
        self.running: str | None = None  # id of the request under way
        self._process: asyncio.subprocess.Process | None = None
        self._pending: dict[str | int, asyncio.Future[Any]] = {}
        self._partials: dict[str, OnText] = {}
        self._edit_partials: dict[str, OnEdits] = {}
        self._ids = itertools.count(1)
        self._tasks: list[asyncio.Task[None]] = []
        self._ended = False  # the server's stdout closed
        #: called with each work-done message of the running request (what it waits for)
        self.on_message: OnText | None = None

    async def start(self, options: dict[str, Any], root: Path) -> None:
        await self.spawn()
        await self.initialize(options, root)

    async def spawn(self) -> None:
        """Start the server process (it imports while this side gets ready)."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "inkstream",
            "serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(os.environ),
        )
        assert self._process.stdout is not None and self._process.stderr is not None
        self._tasks = [
            asyncio.create_task(self._read(self._process.stdout)),
            asyncio.create_task(self._drain(self._process.stderr)),
        ]

    async def initialize(self, options: dict[str, Any], root: Path) -> None:
        await self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "clientInfo": {"name": "inkstream-terminal"},
                "rootUri": root.resolve().as_uri(),
                "capabilities": {"window": {"workDoneProgress": True}},
                "initializationOptions": options,
            },
        )
        self.notify("initialized", {})

    def open(self, path: Path, text: str) -> str:
        from inkstream.providers.offline.index import LANGUAGES

        uri = path.resolve().as_uri()
        language = LANGUAGES.get(path.suffix, "plaintext")
        item = {"uri": uri, "languageId": language, "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})
        return uri

    async def complete(self, uri: str, line: int, character: int, on_snapshot: OnText) -> str:
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        }
        result = await self._stream("inkstream/inlineCompletion", params, on_snapshot)
        items = (result or {}).get("items") or []
        return str(items[0]["insertText"]) if items else ""

    async def explain(self, uri: str, start: int, end: int, on_delta: OnText) -> str:
        params = {
            "textDocument": {"uri": uri},
            "range": {
                "start": {"line": start, "character": 0},
                "end": {"line": end, "character": 0},
            },
        }
        result = await self._stream("inkstream/explain", params, on_delta)
        return str(result["text"])

    def change(
        self, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str
    ) -> None:
        """One incremental ``didChange``: the range (line, UTF-16 column) becomes ``text``."""
        change = {
            "range": {
                "start": {"line": start[0], "character": start[1]},
                "end": {"line": end[0], "character": end[1]},
            },
            "text": text,
        }
        self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )

    async def next_edit(
        self, uri: str, version: int, line: int, character: int, on_edits: OnEdits
    ) -> list[dict[str, Any]]:
        """``inkstream/nextEdit``: ``on_edits`` gets each batch of new edits as it is final."""
        msg_id = f"term-{next(self._ids)}"
        params = {
            "textDocument": {"uri": uri, "version": version},
            "position": {"line": line, "character": character},
            "partialResultToken": msg_id,
            "workDoneToken": f"{msg_id}-wd",
        }
        self._edit_partials[msg_id] = on_edits
        self.progress = Progress()
        self.running = msg_id
        try:
            result = await self.request("inkstream/nextEdit", params, msg_id=msg_id)
        finally:
            self.running = None
            self._edit_partials.pop(msg_id, None)
        return list((result or {}).get("edits") or [])

    async def _stream(self, method: str, params: dict[str, Any], on_text: OnText) -> Any:
        msg_id = f"term-{next(self._ids)}"
        params = {**params, "partialResultToken": msg_id, "workDoneToken": f"{msg_id}-wd"}
        self._partials[msg_id] = on_text
        self.progress = Progress()
        self.running = msg_id
        try:
            return await self.request(method, params, msg_id=msg_id)
        finally:
            self.running = None
            self._partials.pop(msg_id, None)

    def cancel(self) -> None:
        """Ask the server to stop the running request (``$/cancelRequest``)."""
        if self.running is not None:
            self.notify("$/cancelRequest", {"id": self.running})

    async def close(self) -> None:
        """``shutdown`` and ``exit``, as editors end a server; killed if it does not end."""
        process = self._process
        if process is None:
            return
        with contextlib.suppress(Exception):  # the server may already be gone
            await asyncio.wait_for(self.request("shutdown", None), CLOSE_WAIT)
            self.notify("exit", None)
        try:
            await asyncio.wait_for(process.wait(), CLOSE_WAIT)
        except TimeoutError:
            process.kill()
            await process.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, CLOSE_WAIT)

    # -- JSON-RPC ------------------------------------------------------------------------------

    async def request(self, method: str, params: Any, *, msg_id: str | int | None = None) -> Any:
        msg_id = next(self._ids) if msg_id is None else msg_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            self._send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})
            return await future
        finally:
            self._pending.pop(msg_id, None)

    def notify(self, method: str, params: Any) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def _send(self, message: dict[str, Any]) -> None:
        if self._process is None or self._process.stdin is None or self._ended:
            raise ServerError(SERVER_ENDED, "the server is not running")
        body = json.dumps(message).encode()
        self._process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        try:
            while True:
                length = 0
                while (header := await stdout.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("ascii").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                if not header:
                    break
                self._dispatch(json.loads(await stdout.readexactly(length)))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:  # the server is gone: nothing pending will be answered
            self._ended = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ServerError(SERVER_ENDED, "the server ended unexpectedly"))

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:  # a response
            future = self._pending.get(message.get("id", ""))
            if future is not None and not future.done():
                if "error" in message:
                    error = message["error"]
                    future.set_exception(ServerError(int(error["code"]), str(error["message"])))
                else:
                    future.set_result(message.get("result"))
        elif "id" in message:  # a request from the server
            self._answer(message["id"], method, message.get("params"))
        elif method == "$/progress":
            self._on_progress(message.get("params") or {})
        elif method in ("window/logMessage", "window/showMessage") and self.verbose:
            params = message.get("params") or {}
            sys.stderr.write(f"inkstream server: {params.get('message', '')}\n")
            sys.stderr.flush()
        # other notifications (and errors shown as messages: they also come back as error
        # responses, which are what the commands print) need nothing here

    def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        if method == "workspace/configuration":
            items = params.get("items", []) if isinstance(params, dict) else []
            self._send({"jsonrpc": "2.0", "id": msg_id, "result": [None] * len(items)})
        elif method in ("window/workDoneProgress/create", "client/registerCapability"):
            self._send({"jsonrpc": "2.0", "id": msg_id, "result": None})
        else:
            error = {"code": -32601, "message": f"{method} is not supported here"}
            self._send({"jsonrpc": "2.0", "id": msg_id, "error": error})

    def _on_progress(self, params: dict[str, Any]) -> None:
        value = params.get("value")
        if isinstance(value, dict) and value.get("kind") in ("begin", "report", "end"):
            if value.get("message"):
                self.progress.message = str(value["message"])
                if self.on_message is not None:
                    self.on_message(self.progress.message)
            return
        on_edits = self._edit_partials.get(str(params.get("token")))
        if on_edits is not None and isinstance(value, dict):
            on_edits(list(value.get("edits") or []))
            return
        callback = self._partials.get(str(params.get("token")))
        if callback is not None:
            callback_value(callback, value)

    async def _drain(self, stderr: asyncio.StreamReader) -> None:
        """The server's log: shown with ``verbose``, else read and dropped."""
        while line := await stderr.readline():
            if self.verbose:
                sys.stderr.write(line.decode("utf-8", "replace"))
                sys.stderr.flush()


def callback_value(callback: OnText, value: Any) -> None:
    """Partial results: an InlineCompletionList snapshot, or an explanation ``{delta}``."""
    if isinstance(value, dict) and "delta" in value:
        callback(str(value["delta"]))
    elif isinstance(value, dict) and "items" in value:
        items = value["items"]
        callback(str(items[0]["insertText"]) if items else "")
