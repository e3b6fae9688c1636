"""Drive an inkstream server subprocess over stdio, exactly as an editor does.

The terminal commands (``demo``, ``complete``, ``explain``) go through this client, so what they
show is what editors get: partial results, work-done progress, ``$/cancelRequest``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from inkstream.providers.offline.index import LANGUAGES

OnText = Callable[[str], None]


@dataclass
class Progress:
    """What the server reported about the running request (work-done progress)."""

    message: str = ""
    started: float = field(default_factory=time.monotonic)


class TerminalClient:
    def __init__(self) -> None:
        self._client = LanguageClient("inkstream-terminal", "1")
        self._partials: dict[str, OnText] = {}
        self._ids = itertools.count(1)
        self.progress = Progress()
        self.running: str | None = None  # id of the request under way
        client = self._client

        @client.feature(types.PROGRESS)  # type: ignore[untyped-decorator]
        def on_progress(params: types.ProgressParams) -> None:
            value = params.value
            if isinstance(value, dict) and value.get("kind") in ("begin", "report", "end"):
                if value.get("message"):
                    self.progress.message = str(value["message"])
                return
            callback = self._partials.get(str(params.token))
            if callback is not None:
                callback_value(callback, value)

        @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)  # type: ignore[untyped-decorator]
        def on_create(_params: types.WorkDoneProgressCreateParams) -> None:
            return None

        @client.feature(types.WINDOW_SHOW_MESSAGE)  # type: ignore[untyped-decorator]
        def on_message(_params: types.ShowMessageParams) -> None:
            return None  # errors also come back as error responses; those are what we print

    async def start(self, options: dict[str, Any], root: Path) -> None:
        await self._client.start_io(
            sys.executable, "-m", "inkstream", "serve", env=dict(os.environ)
        )
        await self._client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    window=types.WindowClientCapabilities(work_done_progress=True)
                ),
                root_uri=root.resolve().as_uri(),
                initialization_options=options,
            )
        )
        self._client.initialized(types.InitializedParams())

    def open(self, path: Path, text: str) -> str:
        uri = path.resolve().as_uri()
        language = LANGUAGES.get(path.suffix, "plaintext")
        self._client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, language, 1, text))
        )
        return uri

    async def complete(self, uri: str, line: int, character: int, on_snapshot: OnText) -> str:
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": 1},
        }
        result = await self._request("inkstream/inlineCompletion", params, on_snapshot)
        items = getattr(result, "items", None) or []
        return str(items[0].insertText) if items else ""

    async def explain(self, uri: str, start: int, end: int, on_delta: OnText) -> str:
        params = {
            "textDocument": {"uri": uri},
            "range": {
                "start": {"line": start, "character": 0},
                "end": {"line": end, "character": 0},
            },
        }
        result = await self._request("inkstream/explain", params, on_delta)
        return str(result.text)

    async def _request(self, method: str, params: dict[str, Any], on_text: OnText) -> Any:
        msg_id = f"term-{next(self._ids)}"
        params = {**params, "partialResultToken": msg_id, "workDoneToken": f"{msg_id}-wd"}
        self._partials[msg_id] = on_text
        self.progress = Progress()
        self.running = msg_id
        try:
            return await self._client.protocol.send_request_async(method, params, msg_id=msg_id)
        finally:
            self.running = None
            self._partials.pop(msg_id, None)

    def cancel(self) -> None:
        """Ask the server to stop the running request (``$/cancelRequest``)."""
        if self.running is not None:
            self._client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=self.running))

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self._client.shutdown_async(None), 5)
            self._client.exit(None)
        except Exception:  # the server may already be gone; stopping it is what matters
            pass
        await self._client.stop()  # type: ignore[no-untyped-call]


def callback_value(callback: OnText, value: Any) -> None:
    """Partial results: an InlineCompletionList snapshot, or an explanation ``{delta}``."""
    if isinstance(value, dict) and "delta" in value:
        callback(str(value["delta"]))
    elif isinstance(value, dict) and "items" in value:
        items = value["items"]
        callback(str(items[0]["insertText"]) if items else "")
