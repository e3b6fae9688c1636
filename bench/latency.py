"""Latency benchmark for the streaming server (not part of the test run).

Prints medians and p99 for:
  - cancel -> upstream hang-up, per path ($/cancelRequest, workDone cancel, superseding, shutdown);
  - upstream chunk -> client $/progress;
  - spawn -> initialize response, and spawn -> first chunk at the client;
  - first visible text streamed vs waiting for the whole answer (200-token explain), as a ratio.

Everything runs on 127.0.0.1: the real server as a subprocess over stdio, driven by pygls's client,
and the scripted OpenAI-compatible upstream from tests/upstream.py.

    python bench/latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from upstream import Reply, ScriptedUpstream  # noqa: E402

SERVER = [sys.executable, "-m", "inkstream", "serve"]
DOC_URI = "file:///bench/demo.py"
DOC = "def slow():\n    \n"
SLOW = Reply.text("x = 1\n    " * 400, chunk_size=4, delay=0.03)


class BenchClient(LanguageClient):
    """Records the arrival time of every partial result."""

    def __init__(self) -> None:
        super().__init__("inkstream-bench", "1")
        self.partials: dict[Any, list[tuple[float, Any]]] = {}

        @self.feature(types.PROGRESS)
        def on_progress(params: types.ProgressParams) -> None:
            value = params.value
            if isinstance(value, dict) and value.get("kind") in ("begin", "report", "end"):
                return
            self.partials.setdefault(params.token, []).append((time.monotonic(), value))

        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_create(_params: types.WorkDoneProgressCreateParams) -> None:
            return None


async def start(upstream: ScriptedUpstream | None, **options: Any) -> tuple[BenchClient, float]:
    """Spawn a server and initialize it; returns the client and spawn->initialize seconds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "INKSTREAM_"))}
    env["INKSTREAM_LOG"] = "WARNING"
    init: dict[str, Any] = {"apiStyle": "chat", "model": "bench"}
    if upstream is not None:
        init["baseUrl"] = upstream.base_url
    init.update(options)
    client = BenchClient()
    spawned = time.monotonic()
    await client.start_io(*SERVER, env=env)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            initialization_options=init,
        )
    )
    ready = time.monotonic() - spawned
    client.initialized(types.InitializedParams())
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(DOC_URI, "python", 1, DOC)
        )
    )
    return client, ready


async def stop(client: BenchClient) -> None:
    try:
        await asyncio.wait_for(client.shutdown_async(None), 5)
        client.exit(None)
    except (JsonRpcException, TimeoutError, RuntimeError):
        pass
    await client.stop()


def inline_params(token: str, wd: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "textDocument": {"uri": DOC_URI},
        "position": {"line": 1, "character": 4},
        "context": {"triggerKind": 1},
        "partialResultToken": token,
    }
    if wd:
        params["workDoneToken"] = wd
    return params


async def first_partial(client: BenchClient, token: str) -> None:
    while not client.partials.get(token):
        await asyncio.sleep(0.002)


def summary(name: str, values_ms: list[float]) -> str:
    values = sorted(values_ms)
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return (
        f"{name:<50} median {statistics.median(values):8.2f} ms   p99 {p99:8.2f} ms   "
        f"min {values[0]:7.2f}   n={len(values)}"
    )


async def cancel_paths(upstream: ScriptedUpstream, runs: int) -> list[str]:
    lines = []
    client, _ = await start(upstream, typeThrough=False)  # every request must reach the model
    results: dict[str, list[float]] = {"$/cancelRequest": [], "window/workDoneProgress/cancel": []}
    results["superseded by a newer request"] = []
    n = 0
    for i in range(runs):
        for path in list(results):
            token, wd = f"p{n}", f"w{n}"
            n += 1
            upstream.script(SLOW)
            before = len(upstream.requests)
            msg_id = f"req-{n}"
            newer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            newer.set_result(None)
            task = asyncio.ensure_future(
                client.protocol.send_request_async(
                    "inkstream/inlineCompletion", inline_params(token, wd), msg_id=msg_id
                )
            )
            await first_partial(client, token)
            t0 = time.monotonic()
            if path == "$/cancelRequest":
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            elif path == "window/workDoneProgress/cancel":
                client.window_work_done_progress_cancel(
                    types.WorkDoneProgressCancelParams(token=wd)
                )
            else:
                # a request elsewhere in the document (one at the same spot would join the stream)
                elsewhere = inline_params(f"n{n}")
                elsewhere["position"] = {"line": 0, "character": 3}
                upstream.script(Reply.text("return 1"))
                newer = asyncio.ensure_future(
                    client.protocol.send_request_async("inkstream/inlineCompletion", elsewhere)
                )
            try:
                req = await asyncio.to_thread(upstream.wait_for_hangup, before, 5.0)
            except TimeoutError as exc:
                seen = [(r.prompt_text[:12], r.chunks_sent, r.completed) for r in upstream.requests]
                raise SystemExit(f"{path} #{n}: {exc} {seen[before - 3 :]}") from exc
            results[path].append((req.hung_up_at - t0) * 1000)
            await asyncio.gather(task, newer, return_exceptions=True)
        del i
    await stop(client)
    for path, values in results.items():
        lines.append(summary(f"cancel -> hang-up: {path}", values))

    shutdown: list[float] = []
    for _ in range(max(3, runs // 4)):
        client, _ = await start(upstream)
        upstream.script(SLOW)
        before = len(upstream.requests)
        task = asyncio.ensure_future(
            client.protocol.send_request_async("inkstream/inlineCompletion", inline_params("s"))
        )
        await first_partial(client, "s")
        t0 = time.monotonic()
        shut = asyncio.ensure_future(client.shutdown_async(None))
        req = await asyncio.to_thread(upstream.wait_for_hangup, before, 5.0)
        assert req.hung_up_at is not None
        shutdown.append((req.hung_up_at - t0) * 1000)
        await asyncio.gather(task, shut, return_exceptions=True)
        client.exit(None)
        await client.stop()
    lines.append(summary("cancel -> hang-up: shutdown", shutdown))
    return lines


async def chunk_to_progress(upstream: ScriptedUpstream, runs: int) -> list[str]:
    """Each upstream chunk's send time vs the arrival of the $/progress that carries it."""
    client, _ = await start(upstream)
    code = "def area(r):\n    return 3.14159 * r * r\n"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem("file:///bench/area.py", "python", 1, code)
        )
    )
    latencies: list[float] = []
    for i in range(max(1, runs // 5)):
        upstream.script(Reply(chunks=[f"word{j} " for j in range(40)], delay=0.03))
        token = f"e{i}"
        await client.protocol.send_request_async(
            "inkstream/explain",
            {
                "textDocument": {"uri": "file:///bench/area.py"},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
                "partialResultToken": token,
            },
        )
        req = upstream.requests[-1]
        sent = req.chunk_times
        received = client.partials[token]
        # with 30 ms between chunks (> the 15 ms coalescing window) each chunk is its own $/progress
        for (arrived, value), chunk_at in zip(received, sent, strict=False):
            assert value["delta"]
            latencies.append((arrived - chunk_at) * 1000)
    await stop(client)
    return [summary("upstream chunk -> client $/progress", latencies)]


async def startup(upstream: ScriptedUpstream, runs: int) -> list[str]:
    init_times: list[float] = []
    first_chunk: list[float] = []
    for i in range(max(3, runs // 2)):
        upstream.script(Reply.text("return 42", chunk_size=3))
        spawned = time.monotonic()
        client, ready = await start(upstream)
        init_times.append(ready * 1000)
        token = f"s{i}"
        await client.protocol.send_request_async("inkstream/inlineCompletion", inline_params(token))
        first_chunk.append((client.partials[token][0][0] - spawned) * 1000)
        await stop(client)
    return [
        summary("spawn -> initialize response", init_times),
        summary("spawn -> first chunk at the client", first_chunk),
    ]


async def streamed_vs_whole(upstream: ScriptedUpstream, runs: int) -> list[str]:
    """200 tokens at 40 tok/s after 300 ms: time to first text when streamed vs when whole."""
    client, _ = await start(upstream)
    code = "def area(r):\n    return 3.14159 * r * r\n"
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem("file:///bench/area.py", "python", 1, code)
        )
    )
    first: list[float] = []
    whole: list[float] = []
    await client.protocol.send_request_async("inkstream/status", {})
    await asyncio.sleep(2)  # let the server finish its warm-up: measure streaming, not start-up
    for i in range(max(3, runs // 4)):
        upstream.script(Reply(chunks=[f"t{j} " for j in range(200)], first_delay=0.3, delay=0.025))
        token = f"x{i}"
        t0 = time.monotonic()
        await client.protocol.send_request_async(
            "inkstream/explain",
            {
                "textDocument": {"uri": "file:///bench/area.py"},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
                "partialResultToken": token,
            },
        )
        whole.append((time.monotonic() - t0) * 1000)
        first.append((client.partials[token][0][0] - t0) * 1000)
    await stop(client)
    ratio = statistics.median(whole) / statistics.median(first)
    return [
        summary("200-token explain: first visible text, streamed", first),
        summary("200-token explain: whole answer (no streaming)", whole),
        f"{'ratio whole / streamed first text':<50} {ratio:8.1f}x sooner",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with ScriptedUpstream() as upstream:
        for section in (startup, chunk_to_progress, cancel_paths, streamed_vs_whole):
            for line in await section(upstream, args.runs):
                print(line, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
