"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for tests and benchmarks.

It streams the OpenAI SSE format to the real ``openai`` client, one scripted ``Reply`` per request
(text, pacing, faults), and records what each request asked and when the client hung up. It runs
its own asyncio loop in a daemon thread, so synchronous and asynchronous callers can both use it.

Hang-ups are seen the moment they happen: while a reply is being streamed, a concurrent read on
the socket returns EOF when the client closes the connection, and that time is recorded.
Streams use ``Transfer-Encoding: chunked`` on keep-alive HTTP/1.1 connections, as real servers do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass
class Reply:
    chunks: list[str] = field(default_factory=list)
    first_delay: float = 0.0
    delay: float = 0.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_message: str = "scripted error"
    error_type: str = "scripted"  # the error body's ``type``
    fault: str | None = None  # drop | garbled | error_event | hang | no_headers
    # hang: after ``fault_after`` chunks, keep the stream open, sending nothing, until hung up
    fault_after: int = 0
    finish_reason: str = "stop"
    prompt_tokens: int = 10  # what the usage chunk reports, when the client asks for one

    @staticmethod
    def text(s: str, *, chunk_size: int = 4, **kw: Any) -> Reply:
        return Reply(chunks=[s[i : i + chunk_size] for i in range(0, len(s), chunk_size)], **kw)


@dataclass
class RecordedRequest:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float
    chunks_sent: int = 0
    chunk_times: list[float] = field(default_factory=list)
    completed: bool = False
    hung_up_at: float | None = None
    ended: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def prompt_text(self) -> str:
        """Everything the client sent as text: prompt and suffix, or all message contents."""
        if "messages" in self.body:
            return "\n".join(str(m.get("content", "")) for m in self.body["messages"])
        return str(self.body.get("prompt", "")) + str(self.body.get("suffix") or "")


class _HungUp(Exception):
    pass


class ScriptedUpstream:
    def __init__(
        self, *, routes: set[str] | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self.routes = routes if routes is not None else {"chat", "completions", "models"}
        self.tls = tls  # serve HTTPS with this server-side context
        self.rejects_suffix = False  # as vLLM: /v1/completions answers 400 to ``suffix``
        self.rejects_stream_options = False  # as some older servers and proxies: 400
        self.default = Reply.text("pass")
        self._queue: list[Reply] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedUpstream:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
            )
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="scripted-upstream", daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> ScriptedUpstream:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- scripting and observation -----------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= n, timeout):
                raise TimeoutError(f"expected {n} requests, got {len(self._requests)}")
            return list(self._requests)

    def _request_at(self, index: int, timeout: float) -> RecordedRequest:
        need = index + 1 if index >= 0 else 1
        return self.wait_for_requests(need, timeout)[index]

    def wait_for_end(self, index: int = -1, timeout: float = 5.0) -> RecordedRequest:
        req = self._request_at(index, timeout)
        if not req.ended.wait(timeout):
            raise TimeoutError("the stream did not end")
        return req

    def wait_for_hangup(self, index: int = -1, timeout: float = 5.0) -> RecordedRequest:
        req = self.wait_for_end(index, timeout)
        if req.hung_up_at is None:
            raise TimeoutError("the stream ended without the client hanging up")
        return req

    async def await_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        return await asyncio.to_thread(self.wait_for_requests, n, timeout)

    async def await_hangup(self, index: int = -1, timeout: float = 5.0) -> RecordedRequest:
        return await asyncio.to_thread(self.wait_for_hangup, index, timeout)

    async def await_end(self, index: int = -1, timeout: float = 5.0) -> RecordedRequest:
        return await asyncio.to_thread(self.wait_for_end, index, timeout)

    # -- HTTP ------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in header_lines:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                body = json.loads(raw) if raw else {}
                keep_open = await self._respond(method, path, body, headers, reader, writer)
                if not keep_open:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, _HungUp, asyncio.CancelledError):
            pass  # client gone, or the upstream is stopping
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _respond(
        self,
        method: str,
        path: str,
        body: dict[str, Any],
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        route = {
            "/v1/chat/completions": "chat",
            "/v1/completions": "completions",
            "/v1/models": "models",
        }.get(path.split("?")[0])
        if route is None or route not in self.routes:
            await self._json(writer, 404, _error("Not found", "not_found"))
            return True
        if route == "completions" and self.rejects_suffix and body.get("suffix") is not None:
            await self._json(writer, 400, _error("suffix is not currently supported", "BadRequest"))
            return True
        if self.rejects_stream_options and "stream_options" in body:
            message = "Unrecognized request argument supplied: stream_options"
            await self._json(writer, 400, _error(message, "invalid_request_error"))
            return True
        if route == "models":
            await self._json(writer, 200, {"object": "list", "data": [{"id": "test-model"}]})
            return True
        req = RecordedRequest(path, body, headers, time.monotonic())
        with self._changed:
            reply = self._queue.pop(0) if self._queue else self.default
            self._requests.append(req)
            self._changed.notify_all()
        try:
            return await self._stream_reply(route, reply, req, body, reader, writer)
        finally:
            req.ended.set()
            with self._changed:
                self._changed.notify_all()

    async def _stream_reply(
        self,
        route: str,
        reply: Reply,
        req: RecordedRequest,
        body: dict[str, Any],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        if reply.fault == "no_headers":
            await self._until_hangup(reader, req, None)
            return False
        if reply.status != 200:
            await self._json(
                writer, reply.status, _error(reply.error_message, reply.error_type), reply.headers
            )
            req.completed = True
            return True
        chunks = list(reply.chunks)
        finish = reply.finish_reason
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and len(chunks) > max_tokens:
            chunks, finish = chunks[:max_tokens], "length"
        if not body.get("stream"):
            await self._json(writer, 200, _whole(route, body, "".join(chunks), finish))
            req.chunks_sent = len(chunks)
            req.completed = True
            return True

        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items()).encode()
            + b"\r\n"
        )
        await writer.drain()
        watcher = asyncio.ensure_future(self._until_hangup(reader, req, None))
        try:
            if reply.fault == "hang" and reply.fault_after == 0:
                await watcher
                return False
            await self._pause(reply.first_delay, watcher)
            ident = f"cmpl-{uuid.uuid4().hex[:12]}"
            for i, text in enumerate(chunks):
                if i > 0:
                    await self._pause(reply.delay, watcher)
                if reply.fault == "hang" and i == reply.fault_after:
                    await watcher
                    return False
                if reply.fault and i == reply.fault_after:
                    return await self._fault(reply.fault, writer)
                await self._event(writer, _chunk(route, ident, body, text, None, first=i == 0))
                req.chunks_sent += 1
                req.chunk_times.append(time.monotonic())
            if reply.fault and reply.fault_after >= len(chunks):
                return await self._fault(reply.fault, writer)
            await self._event(writer, _chunk(route, ident, body, None, finish, first=False))
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": len(chunks)}
                usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
                await self._event(
                    writer, {"id": ident, "object": _object(route), "choices": [], "usage": usage}
                )
            self._send(writer, b"data: [DONE]\n\n")
            self._send(writer, b"")  # last chunk of the chunked body
            await writer.drain()
            req.completed = True
            return True
        except (ConnectionError, _HungUp):
            if req.hung_up_at is None:
                req.hung_up_at = time.monotonic()
            return False
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher  # so the next request on this connection can read

    async def _until_hangup(
        self, reader: asyncio.StreamReader, req: RecordedRequest, _: object
    ) -> None:
        """Completes when the client closes the connection, recording when."""
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        req.hung_up_at = time.monotonic()

    async def _pause(self, seconds: float, watcher: asyncio.Future[None]) -> None:
        if seconds > 0:
            await asyncio.wait([watcher], timeout=seconds)
        if watcher.done():
            raise _HungUp

    async def _fault(self, fault: str, writer: asyncio.StreamWriter) -> bool:
        if fault == "drop":
            transport = writer.transport
            transport.abort()
            return False
        if fault == "garbled":
            self._send(writer, b"data: {not json\n\n")
        elif fault == "error_event":
            payload = {"error": {"message": "the model crashed", "type": "server_error"}}
            self._send(writer, f"data: {json.dumps(payload)}\n\n".encode())
        await writer.drain()
        writer.close()  # flushes, then FIN: the client reads the bad event first
        return False

    def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    async def _event(self, writer: asyncio.StreamWriter, payload: dict[str, Any]) -> None:
        self._send(writer, f"data: {json.dumps(payload)}\n\n".encode())
        await writer.drain()

    async def _json(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n{extra}\r\n".encode()
            + data
        )
        await writer.drain()


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
_REASONS |= {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": kind}}


def _object(route: str) -> str:
    return "chat.completion.chunk" if route == "chat" else "text_completion"


def _chunk(
    route: str,
    ident: str,
    body: dict[str, Any],
    text: str | None,
    finish: str | None,
    *,
    first: bool,
) -> dict[str, Any]:
    if route == "chat":
        delta: dict[str, Any] = {"role": "assistant"} if first else {}
        if text is not None:
            delta["content"] = text
        choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
    else:
        choice = {"index": 0, "text": text or "", "finish_reason": finish, "logprobs": None}
    return {
        "id": ident,
        "object": _object(route),
        "created": int(time.time()),
        "model": body.get("model", "test-model"),
        "choices": [choice],
    }


def _whole(route: str, body: dict[str, Any], text: str, finish: str) -> dict[str, Any]:
    ident = f"cmpl-{uuid.uuid4().hex[:12]}"
    usage = {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}
    if route == "chat":
        message = {"role": "assistant", "content": text}
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
        obj = "chat.completion"
    else:
        choice = {"index": 0, "text": text, "finish_reason": finish, "logprobs": None}
        obj = "text_completion"
    created = int(time.time())
    model = body.get("model", "test-model")
    return {
        "id": ident,
        "object": obj,
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage,
    }
