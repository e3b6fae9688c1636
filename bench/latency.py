"""Latency benchmark for the streaming server (not part of the test run).

Prints medians and p99 for:
  - cancel -> upstream hang-up, per path ($/cancelRequest, workDone cancel, superseding, shutdown,
    exit), and the same for a bare relay (the openai stream and ``task.cancel()``, no server), in
    this process and in a child process told over a pipe, so the ratios mean something;
  - upstream chunk -> client $/progress;
  - spawn -> initialize response, and spawn -> first chunk at the client;
  - the first completion after start-up: its first partial result minus the model's time to
    first token, with the endpoint probe to run (first start) or cached (later starts);
  - first visible text streamed vs waiting for the whole answer (200-token explain), as a ratio;
  - side by side (section ``side``): inkstream, the smallest pygls relay (bench/pygls_relay.py)
    and a bare relay round by round, median and worst of N as ratios to the bare relay
    (``--before CHECKOUT`` adds another checkout's server: an A/B in one run; ``--client vscode``
    drives the servers with Microsoft's client library in Node instead of pygls's client).

Everything runs on 127.0.0.1: the real server as a subprocess over stdio, driven by pygls's client,
and the scripted OpenAI-compatible upstream from tests/upstream.py. With ``--engine URL --model M``
the cancel paths run against a real engine (e.g. llama.cpp serving tests/engines' tiny model)
through a proxy here that records when the server hangs up; those paths use ``inkstream/explain``,
which streams for as long as the model writes. ``--gateway LITELLM`` (the ``litellm`` command)
also runs them through LiteLLM's proxy (docs/litellm-config.yaml) put between the server and that
recording proxy: cancel -> the engine's side of the gateway hanging up, beside the direct figures.

    python bench/latency.py [--runs 30] [--sections cancel,bare,first]
    chrt -f 50 python bench/latency.py --sections side --runs 40 [--before ../main]
    python bench/latency.py --sections side --runs 15 --client vscode    (needs node and
        client-extension's node_modules: cd client-extension && npm ci)
    python bench/latency.py --engine http://127.0.0.1:8080/v1 --model qwen2.5-coder-tiny \
        [--sections bare,cancel] [--lifecycle-runs 30] [--gateway $INKSTREAM_LITELLM]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "engines"))
from team_gateway import start_gateway  # noqa: E402

from upstream import Reply, ScriptedUpstream  # noqa: E402

#: usage records of benchmark runs never go to the user's own usage file
BENCH_DATA_DIR = tempfile.mkdtemp(prefix="inkstream-bench-usage-")

SERVER = [sys.executable, "-m", "inkstream", "serve"]
#: the smallest pygls relay, measured side by side with the server (section "side")
PYGLS_RELAY = [sys.executable, str(Path(__file__).resolve().with_name("pygls_relay.py"))]
DOC_URI = "file:///bench/demo.py"
DOC = "def slow():\n    \n"
SLOW = Reply.text("x = 1\n    " * 400, chunk_size=4, delay=0.03)
EXPLAIN_URI = "file:///bench/area.py"
EXPLAIN_DOC = "def area(r):\n    return 3.14159 * r * r\n"
#: how long after a stop that nobody answers the upstream is asked when it saw the hang-up
SETTLE = 0.05
DOCS = ((DOC_URI, DOC), (EXPLAIN_URI, EXPLAIN_DOC))
TTFT = 0.3  # the model's time to first token in the start-up section, as measured in VS Code


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


def server_env(env_extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "INKSTREAM_"))}
    env["INKSTREAM_LOG"] = "WARNING"
    env["INKSTREAM_DATA_DIR"] = BENCH_DATA_DIR
    env.update(env_extra or {})
    return env


def init_options(base_url: str | None, **options: Any) -> dict[str, Any]:
    init: dict[str, Any] = {"apiStyle": "chat", "model": "bench"}
    if base_url is not None:
        init["baseUrl"] = base_url
    init.update(options)
    return init


async def start(
    base_url: str | None,
    *,
    env_extra: dict[str, str] | None = None,
    command: list[str] | None = None,
    **options: Any,
) -> tuple[BenchClient, float]:
    """Spawn a server and initialize it; returns the client and spawn->initialize seconds."""
    client = BenchClient()
    spawned = time.monotonic()
    await client.start_io(*(command or SERVER), env=server_env(env_extra))
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            initialization_options=init_options(base_url, **options),
        )
    )
    ready = time.monotonic() - spawned
    client.initialized(types.InitializedParams())
    for uri, text in DOCS:
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri, "python", 1, text)
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


def explain_params(token: str, wd: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "textDocument": {"uri": EXPLAIN_URI},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
        "partialResultToken": token,
    }
    if wd:
        params["workDoneToken"] = wd
    return params


async def first_partial(client: BenchClient, token: str, timeout: float = 30.0) -> float:
    deadline = time.monotonic() + timeout
    while not client.partials.get(token):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no partial result for {token}")
        await asyncio.sleep(0.002)
    return client.partials[token][0][0]


def summary(name: str, values_ms: list[float]) -> str:
    values = sorted(values_ms)
    p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
    return (
        f"{name:<58} median {statistics.median(values):8.2f} ms   p99 {p99:8.2f} ms   "
        f"min {values[0]:7.2f}   max {values[-1]:7.2f}   n={len(values)}"
    )


# -- where the hang-up is seen -----------------------------------------------------------------


class Target:
    """The model end: scripts a long stream, and tells when the server hung up on it."""

    base_url: str
    api_key = "x"
    method = "inkstream/inlineCompletion"

    def params(self, token: str, wd: str | None = None) -> dict[str, Any]:
        return inline_params(token, wd)

    def prepare(self) -> int:
        raise NotImplementedError

    def hung_up_at(self, mark: int, t0: float) -> float:
        raise NotImplementedError


class Scripted(Target):
    """The scripted upstream in a child process of its own.

    Its hang-up clock must not wait for this process: here the client parses the server's
    answers on another thread at the very moment of the hang-up, and a thread waiting for the
    GIL can wait 5 ms (the switch interval) before it may note the time.
    """

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve_upstream, args=(child,), daemon=True)
        self._process.start()
        self.base_url = self._call("base_url")
        self._lock = threading.Lock()

    def _call(self, *command: Any) -> Any:
        self._conn.send(command)
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._call("script", *replies)

    def prepare(self) -> int:
        with self._lock:
            return int(self._call("prepare"))

    def hung_up_at(self, mark: int, t0: float) -> float:  # noqa: ARG002  (the request says)
        with self._lock:
            return float(self._call("hung_up_at", mark))

    def close(self) -> None:
        self._conn.send(("stop",))
        self._process.join(5)


def _serve_upstream(conn: Any) -> None:
    with ScriptedUpstream() as upstream:
        while True:
            command, *args = conn.recv()
            try:
                if command == "stop":
                    return
                if command == "base_url":
                    conn.send(upstream.base_url)
                elif command == "script":
                    upstream.script(*args)
                    conn.send(None)
                elif command == "prepare":
                    upstream.script(SLOW)
                    conn.send(len(upstream.requests))
                elif command == "hung_up_at":
                    conn.send(upstream.wait_for_hangup(args[0], 5.0).hung_up_at)
            except Exception as exc:
                conn.send(exc)


class HangupProxy(Target):
    """A TCP proxy in front of a real engine that notes when the server's side closes.

    It runs in a child process, for the same reason as ``Scripted``.
    """

    method = "inkstream/explain"

    def __init__(self, engine_url: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve_proxy, args=(child, engine_url), daemon=True)
        self._process.start()
        self.base_url = self._conn.recv()

    def params(self, token: str, wd: str | None = None) -> dict[str, Any]:
        return explain_params(token, wd)

    def prepare(self) -> int:
        self._conn.send(("prepare",))
        return int(self._conn.recv())

    def hung_up_at(self, mark: int, t0: float) -> float:
        self._conn.send(("hung_up_at", mark, t0))
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return float(answer)


def _serve_proxy(conn: Any, engine_url: str) -> None:
    host_port, path = engine_url.split("//", 1)[1].split("/", 1)
    host, port = host_port.rsplit(":", 1)
    closed: list[float] = []
    changed = threading.Condition()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    listening: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, mark: bool) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
            if mark:  # the server (our client side) hung up
                with changed:
                    closed.append(time.monotonic())
                    changed.notify_all()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))

    def run() -> None:
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(asyncio.start_server(serve, "127.0.0.1", 0))
        listening.append(server.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(5)
    conn.send(f"http://127.0.0.1:{listening[0]}/{path}")
    while True:
        try:
            command, *args = conn.recv()
        except EOFError:  # the benchmark is over
            return
        with changed:
            if command == "prepare":
                conn.send(len(closed))
            elif command == "hung_up_at":
                mark, t0 = args

                def after_cancel(mark: int = mark, t0: float = t0) -> list[float]:
                    return [t for t in closed[mark:] if t > t0]

                if changed.wait_for(after_cancel, timeout=10):
                    conn.send(after_cancel()[0])
                else:
                    conn.send(TimeoutError("the server did not hang up"))


class ThroughGateway(Target):
    """LiteLLM's proxy in front of a ``HangupProxy``: the hang-up seen is the gateway's."""

    method = "inkstream/explain"

    def __init__(self, litellm: str, behind: HangupProxy) -> None:
        self._behind = behind
        self._work = tempfile.mkdtemp(prefix="inkstream-bench-litellm-")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        self.gateway = start_gateway(litellm, behind.base_url, port, Path(self._work))
        self.base_url = self.gateway.base_url
        self.api_key = self.gateway.master_key
        self.first_hang_up_ms = self._first_hang_up()

    def _first_hang_up(self) -> float:
        """A fresh gateway's first hang-up is slow (seconds, once): not what the runs measure."""
        import openai

        client = openai.OpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0)
        mark = self.prepare()
        messages: Any = [{"role": "user", "content": "go"}]
        stream = client.chat.completions.create(
            model=self.gateway.model, messages=messages, stream=True, max_tokens=4000
        )
        for _ in zip(range(3), stream, strict=False):
            pass
        t0 = time.monotonic()
        stream.close()
        for _ in range(12):
            try:
                return (self.hung_up_at(mark, t0) - t0) * 1000
            except TimeoutError:
                continue
        raise SystemExit("LiteLLM never hung up on the engine")

    def params(self, token: str, wd: str | None = None) -> dict[str, Any]:
        return explain_params(token, wd)

    def prepare(self) -> int:
        return self._behind.prepare()

    def hung_up_at(self, mark: int, t0: float) -> float:
        return self._behind.hung_up_at(mark, t0)

    def close(self) -> None:
        self.gateway.stop()


# -- cancel -> hang-up ------------------------------------------------------------------------


CANCEL = "$/cancelRequest"
WORK_DONE_CANCEL = "window/workDoneProgress/cancel"
SUPERSEDED = "superseded by a newer request"


async def cancel_once(client: BenchClient, target: Target, path: str, n: int) -> float:
    """One request streamed, then stopped by ``path`` once its first partial result is in:
    milliseconds from the client's stop to the upstream seeing the hang-up."""
    token, wd, msg_id = f"p{n}", f"w{n}", f"req-{n}"
    mark = target.prepare()
    newer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    newer.set_result(None)
    task = asyncio.ensure_future(
        client.protocol.send_request_async(target.method, target.params(token, wd), msg_id=msg_id)
    )
    await first_partial(client, token)
    t0 = time.monotonic()
    if path == CANCEL:
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
    elif path == WORK_DONE_CANCEL:
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=wd))
    else:
        # a request elsewhere in the document (one at the same spot would join the stream)
        elsewhere = inline_params(f"n{n}")
        elsewhere["position"] = {"line": 0, "character": 3}
        assert isinstance(target, Scripted)
        target.script(Reply.text("return 1"))
        newer = asyncio.ensure_future(
            client.protocol.send_request_async("inkstream/inlineCompletion", elsewhere)
        )
    # the upstream is asked when it saw the hang-up only once the request is answered (after
    # the hang-up): asked sooner, the thread answering wakes with the one noting the time, and
    # they take turns with the GIL (its switch interval is 5 ms) at the very moment measured
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(task, newer, return_exceptions=True), 5)
    try:
        hung_up = await asyncio.to_thread(target.hung_up_at, mark, t0)
    except TimeoutError as exc:
        raise SystemExit(f"{path} #{n}: {exc}") from exc
    return (hung_up - t0) * 1000


async def cancel_paths(target: Target, runs: int, lifecycle_runs: int | None = None) -> list[str]:
    lines = []
    client, _ = await start(target.base_url, typeThrough=False, explainMaxTokens=4000)
    paths = [CANCEL, WORK_DONE_CANCEL]
    if isinstance(target, Scripted):
        paths.append(SUPERSEDED)
    results: dict[str, list[float]] = {path: [] for path in paths}
    n = 0
    for _ in range(runs):
        for path in paths:
            n += 1
            results[path].append(await cancel_once(client, target, path, n))
    await stop(client)
    for path, values in results.items():
        lines.append(summary(f"cancel -> hang-up: {path}", values))

    for how in ("shutdown", "exit"):
        values: list[float] = []
        missed = 0
        for i in range(lifecycle_runs or max(3, runs // 3)):
            if (ms := await lifecycle_once(target, how, f"{how}{i}")) is None:
                missed += 1
            else:
                values.append(ms)
        note = f"   ({missed} not hung up within 5 s)" if missed else ""
        lines.append(summary(f"cancel -> hang-up: {how}", values or [float("nan")]) + note)
    return lines


async def lifecycle_once(
    target: Target,
    how: str,
    token: str,
    command: list[str] | None = None,
    env_extra: dict[str, str] | None = None,
) -> float | None:
    """A server started for one request, stopped by ``shutdown`` or ``exit`` mid-stream:
    milliseconds to the upstream hang-up (None: no hang-up within 5 s)."""
    client, _ = await start(
        target.base_url, env_extra=env_extra, command=command, explainMaxTokens=4000
    )
    await asyncio.sleep(1.0)  # let the warm-up finish: measure the cancel, not start-up
    mark = target.prepare()
    task = asyncio.ensure_future(
        client.protocol.send_request_async(target.method, target.params(token))
    )
    await first_partial(client, token)
    t0 = time.monotonic()
    if how == "shutdown":
        ended: asyncio.Future[Any] = asyncio.ensure_future(client.shutdown_async(None))
    else:
        client.exit(None)
        ended = asyncio.ensure_future(asyncio.sleep(0))
    if how == "shutdown":  # asked once the stop settled (see ``cancel_once``)
        await asyncio.gather(task, ended, return_exceptions=True)
    else:  # an exiting server answers nothing
        await asyncio.sleep(SETTLE)
    ms: float | None = None
    with contextlib.suppress(TimeoutError):
        ms = (await asyncio.to_thread(target.hung_up_at, mark, t0) - t0) * 1000
    if how == "shutdown":
        client.exit(None)
    else:
        task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.stop(), 10)
    return ms


# -- the bare relay baseline ------------------------------------------------------------------

_BARE_CHILD = r"""
import asyncio, sys, openai
async def main():
    client = openai.AsyncOpenAI(api_key=sys.argv[3], base_url=sys.argv[1], max_retries=0)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async def relay():
        stream = await client.chat.completions.create(
            model=sys.argv[2], messages=[{"role": "user", "content": "go"}], stream=True,
            max_tokens=4000)
        async with stream:
            async for chunk in stream:
                sys.stdout.write("chunk\n"); sys.stdout.flush()
    while await reader.readline():          # "start"
        task = asyncio.ensure_future(relay())
        await reader.readline()             # "cancel"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
asyncio.run(main())
"""


class BareChild:
    """A bare relay in a child process, told to start and to cancel over a pipe."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._process, self._stdin, self._stdout = process, process.stdin, process.stdout

    @classmethod
    async def start(cls, target: Target, model: str = "bench") -> BareChild:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _BARE_CHILD,
            target.base_url,
            model,
            target.api_key,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        return cls(process)

    async def once(self, target: Target) -> float:
        mark = target.prepare()
        self._stdin.write(b"start\n")
        await self._stdout.readline()
        t0 = time.monotonic()
        self._stdin.write(b"cancel\n")
        await asyncio.sleep(SETTLE)  # asked once the stop settled (see ``cancel_once``)
        ms = (await asyncio.to_thread(target.hung_up_at, mark, t0) - t0) * 1000
        while True:  # drop the chunks that came before the cancel
            try:
                await asyncio.wait_for(self._stdout.readline(), 0.01)
            except TimeoutError:
                break
        return ms

    async def close(self) -> None:
        self._stdin.close()
        await self._process.wait()


async def bare_relay(target: Target, runs: int, model: str = "bench") -> list[str]:
    """The floor: an openai stream cancelled with ``task.cancel()``, no server around it.

    Against an engine it runs under the same load as the server's paths (the engine writing).
    """
    import openai

    client = openai.AsyncOpenAI(api_key=target.api_key, base_url=target.base_url, max_retries=0)
    in_process: list[float] = []
    for _ in range(runs):
        mark = target.prepare()
        first = asyncio.Event()

        async def relay(first: asyncio.Event = first) -> None:
            stream = await client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": "go"}],
                stream=True,
                max_tokens=4000,
            )
            async with stream:
                async for _chunk in stream:
                    first.set()

        task = asyncio.ensure_future(relay())
        await first.wait()
        t0 = time.monotonic()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.sleep(SETTLE)
        in_process.append((await asyncio.to_thread(target.hung_up_at, mark, t0) - t0) * 1000)
    await client.close()

    child = await BareChild.start(target, model)
    over_pipe = [await child.once(target) for _ in range(runs)]
    await child.close()
    return [
        summary("bare relay: task.cancel() -> hang-up, in process", in_process),
        summary("bare relay: cancel over a pipe -> hang-up, child process", over_pipe),
    ]


# -- Microsoft's client library as the editor ----------------------------------------------

NODE_CLIENT = Path(__file__).resolve().with_name("lsp_client_node.mjs")


class VSCodeClient:
    """One server driven by vscode-languageserver-protocol (``bench/lsp_client_node.mjs``), the
    library under VS Code's vscode-languageclient: its own cancellation tokens, its own writer.
    The Node process stops each request itself at the first partial result and says when (on
    CLOCK_MONOTONIC, the clock of ``time.monotonic()`` and of the upstream's record)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._process, self._stdin, self._stdout = process, process.stdin, process.stdout
        self.last_stop = float("nan")  # when the last stop was sent (time.monotonic())

    @classmethod
    async def start(
        cls,
        base_url: str,
        *,
        env_extra: dict[str, str] | None = None,
        command: list[str] | None = None,
        **options: Any,
    ) -> VSCodeClient:
        process = await asyncio.create_subprocess_exec(
            "node", str(NODE_CLIENT), stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        client = cls(process)
        await client._call(
            op="start",
            command=command or SERVER,
            env=server_env(env_extra),
            init=init_options(base_url, **options),
            docs=DOCS,
        )
        return client

    async def _call(self, **message: Any) -> dict[str, Any]:
        self._stdin.write(json.dumps(message).encode() + b"\n")
        line = await asyncio.wait_for(self._stdout.readline(), 60)
        if not line:
            raise SystemExit(f"{NODE_CLIENT.name} ended (is node installed, and npm ci run in "
                             "client-extension/?)")  # fmt: skip
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise SystemExit(f"{NODE_CLIENT.name}: {answer['error']}")
        return answer

    async def cancel_once(self, target: Target, path: str, n: int) -> float:
        """As ``cancel_once``: the stop sent at the first partial result -> upstream hang-up."""
        token, wd = f"p{n}", f"w{n}"
        mark = target.prepare()
        answer = await self._call(
            op="run", path=path, method=target.method, params=target.params(token, wd)
        )
        t0 = self.last_stop = float(answer["t0"])
        if path == "exit":
            await asyncio.sleep(SETTLE)  # an exiting server answers nothing
        try:
            hung_up = await asyncio.to_thread(target.hung_up_at, mark, t0)
        except TimeoutError as exc:
            raise SystemExit(f"{path} #{n} ({answer}): {exc}") from exc
        if hung_up < t0:  # not a cancel's figure: say so rather than count it
            print(f"  (#{n} {path}: the stream ended {(t0 - hung_up) * 1000:.1f} ms before "
                  f"the stop, {answer['outcome']})", file=sys.stderr)  # fmt: skip
        return (hung_up - t0) * 1000

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self._call(op="stop")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), 10)
        if self._process.returncode is None:
            self._process.kill()
            await self._process.wait()


# -- side by side: inkstream, the smallest pygls relay, a bare relay --------------------------

CLIENTS = {
    "pygls": "pygls's LanguageClient (Python, this process)",
    "vscode": "vscode-languageserver-protocol (Node; VS Code's vscode-languageclient uses it)",
}
BLOCK = 15
WARM_UP = 2  # runs of each not counted: a young process builds its hooks in its first requests


def worst(values: list[float]) -> float:
    return max(values) if values else float("nan")


async def side_by_side(
    target: Target,
    runs: int,
    lifecycle_runs: int | None = None,
    before: str | None = None,
    client: str = "pygls",
) -> list[str]:
    """inkstream against the smallest pygls relay (``bench/pygls_relay.py``), run for run.

    Same client, upstream and paths; the servers' order rotates from run to run, and a bare
    relay (a child process cancelled over a pipe) runs once per round between them, so the
    machine's load falls on all alike. The first ``WARM_UP`` rounds are not counted. ``before``
    (another checkout) adds its server, run the same way: an A/B in one run. ``client``: the
    editor's side is pygls's client in this process, or ``vscode``: Microsoft's client library
    in Node (``VSCodeClient``).
    """
    envs: dict[str, dict[str, str] | None] = {"inkstream": None}
    if before is not None:
        envs["inkstream (before)"] = {"PYTHONPATH": str(Path(before).resolve() / "server")}
    commands = {name: SERVER for name in envs} | {"pygls relay": PYGLS_RELAY}

    async def open_server(name: str) -> tuple[Any, Callable[[str, int], Awaitable[float]]]:
        """A started server and its ``cancel(path, n) -> ms``."""
        options = {"typeThrough": False} if commands[name] is SERVER else {}
        if client == "vscode":
            node = await VSCodeClient.start(
                target.base_url, env_extra=envs.get(name), command=commands[name], **options
            )
            return node, lambda path, n: node.cancel_once(target, path, n)
        bench, _ = await start(
            target.base_url, env_extra=envs.get(name), command=commands[name], **options
        )
        return bench, lambda path, n: cancel_once(bench, target, path, n)

    async def close_server(server: Any) -> None:
        await (server.stop() if isinstance(server, VSCodeClient) else stop(server))

    servers = {name: await open_server(name) for name in commands}
    await asyncio.sleep(1.0)  # let inkstream's warm-up finish: measure the cancel, not start-up
    bare_child = await BareChild.start(target)
    paths = [CANCEL, WORK_DONE_CANCEL]
    results: dict[tuple[str, str], list[float]] = {}
    bare: list[float] = []
    n = 0
    for run in range(WARM_UP + runs):
        order = list(servers)[run % len(servers) :] + list(servers)[: run % len(servers)]
        for path in paths:
            for name in order:
                n += 1
                ms = await servers[name][1](path, n)
                if run >= WARM_UP:
                    results.setdefault((path, name), []).append(ms)
        ms = await bare_child.once(target)
        if run >= WARM_UP:
            bare.append(ms)
    for server, _ in servers.values():
        await close_server(server)
    await bare_child.close()
    for i in range(lifecycle_runs or max(3, runs // 3)):
        order = list(commands)[i % len(commands) :] + list(commands)[: i % len(commands)]
        for name in order:
            if client == "vscode":
                node, cancel = await open_server(name)
                await asyncio.sleep(1.0)  # as lifecycle_once: the cancel, not start-up
                ms: float | None = await cancel("exit", i)
                await close_server(node)
            else:
                ms = await lifecycle_once(
                    target, "exit", f"exit{i}", commands[name], envs.get(name)
                )
            if ms is not None:
                results.setdefault(("exit", name), []).append(ms)
    floor_median, floor_worst = statistics.median(bare), worst(bare)
    lines = [f"side by side, the editor's client: {CLIENTS[client]}"]
    lines.append(summary("side by side: bare relay, cancel over a pipe", bare))
    for (path, name), values in results.items():
        lines.append(summary(f"side by side: {name}, {path}", values))
    lines.append(
        f"ratios to the bare relay (median {floor_median:.2f} ms, worst {floor_worst:.2f} ms):"
    )
    lines.append(f"  {'path':<34}{'server':<20}{'median':>10}{'worst':>10}")
    for (path, name), values in results.items():
        median_ratio = statistics.median(values) / floor_median
        worst_ratio = worst(values) / floor_worst
        lines.append(f"  {path:<34}{name:<20}{median_ratio:>9.2f}x{worst_ratio:>9.2f}x")
    if runs >= 2 * BLOCK:  # the worst of each 15 consecutive runs, as the issue measured it
        lines.append(f"worst of each {BLOCK} runs in a row, ms:")
        for (path, name), values in results.items():
            blocks = [
                worst(values[i : i + BLOCK]) for i in range(0, len(values) - BLOCK + 1, BLOCK)
            ]
            if blocks:
                shown = " / ".join(f"{b:.2f}" for b in blocks)
                lines.append(f"  {path:<34}{name:<20}{shown}")
    return lines


# -- streaming and start-up -------------------------------------------------------------------


async def chunk_to_progress(upstream: ScriptedUpstream, runs: int) -> list[str]:
    """Each upstream chunk's send time vs the arrival of the $/progress that carries it."""
    client, _ = await start(upstream.base_url)
    latencies: list[float] = []
    for i in range(max(1, runs // 5)):
        upstream.script(Reply(chunks=[f"word{j} " for j in range(40)], delay=0.03))
        token = f"e{i}"
        await client.protocol.send_request_async("inkstream/explain", explain_params(token))
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
    for i in range(max(3, runs // 3)):
        upstream.script(Reply.text("return 42", chunk_size=3))
        spawned = time.monotonic()
        client, ready = await start(upstream.base_url)
        init_times.append(ready * 1000)
        token = f"s{i}"
        await client.protocol.send_request_async("inkstream/inlineCompletion", inline_params(token))
        first_chunk.append((client.partials[token][0][0] - spawned) * 1000)
        await stop(client)
    return [
        summary("spawn -> initialize response", init_times),
        summary("spawn -> first chunk at the client", first_chunk),
    ]


async def first_completion(upstream: ScriptedUpstream, runs: int) -> list[str]:
    """The first completion after start-up, minus the model's own time to first token.

    ``apiStyle`` auto, so the server must know how to ask the endpoint: the first start probes
    it (an empty cache), later starts read the probe's result from the cache. The user's first
    trigger comes either at once after ``initialized`` or three seconds later (they open a file
    and type); the figure is what the server adds to the model's TTFT on that first request.
    """
    lines = []
    for delay in (0.0, 3.0):
        for cache in ("cold", "warm"):
            request_to_first: list[float] = []
            spawn_to_first: list[float] = []
            with tempfile.TemporaryDirectory() as cache_dir:
                for i in range(max(3, runs // 3)):
                    if cache == "warm" and i == 0:  # fill the cache: one start that probes
                        client, _ = await start(
                            upstream.base_url,
                            env_extra={"INKSTREAM_CACHE_DIR": cache_dir},
                            apiStyle="auto",
                        )
                        await client.protocol.send_request_async(
                            "inkstream/inlineCompletion", inline_params("fill")
                        )
                        await stop(client)
                    fresh = cache_dir if cache == "warm" else f"{cache_dir}/{i}"
                    env = {"INKSTREAM_CACHE_DIR": fresh}
                    upstream.default = Reply.text("return 42", chunk_size=3, first_delay=TTFT)
                    spawned = time.monotonic()
                    client, _ = await start(upstream.base_url, env_extra=env, apiStyle="auto")
                    await asyncio.sleep(delay)
                    token = f"f{i}"
                    sent = time.monotonic()
                    await client.protocol.send_request_async(
                        "inkstream/inlineCompletion", inline_params(token)
                    )
                    arrived = client.partials[token][0][0]
                    request_to_first.append((arrived - sent - TTFT) * 1000)
                    spawn_to_first.append((arrived - spawned - TTFT) * 1000)
                    await stop(client)
            upstream.default = Reply.text("pass")
            when = "at once" if delay == 0 else f"{delay:g} s after initialized"
            probe = "probe to run" if cache == "cold" else "probe cached"
            lines.append(summary(f"first completion {when}, {probe}: request->", request_to_first))
            lines.append(summary("    ...first partial minus TTFT; spawn->", spawn_to_first))
    return lines


async def streamed_vs_whole(upstream: ScriptedUpstream, runs: int) -> list[str]:
    """200 tokens at 40 tok/s after 300 ms: time to first text when streamed vs when whole."""
    client, _ = await start(upstream.base_url)
    first: list[float] = []
    whole: list[float] = []
    await client.protocol.send_request_async("inkstream/status", {})
    await asyncio.sleep(2)  # let the server finish its warm-up: measure streaming, not start-up
    for i in range(max(3, runs // 4)):
        upstream.script(Reply(chunks=[f"t{j} " for j in range(200)], first_delay=0.3, delay=0.025))
        token = f"x{i}"
        t0 = time.monotonic()
        await client.protocol.send_request_async("inkstream/explain", explain_params(token))
        whole.append((time.monotonic() - t0) * 1000)
        first.append((client.partials[token][0][0] - t0) * 1000)
    await stop(client)
    ratio = statistics.median(whole) / statistics.median(first)
    return [
        summary("200-token explain: first visible text, streamed", first),
        summary("200-token explain: whole answer (no streaming)", whole),
        f"{'ratio whole / streamed first text':<58} {ratio:8.1f}x sooner",
    ]


SECTIONS = ("startup", "first", "progress", "bare", "cancel", "side", "streamed")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sections", default=",".join(SECTIONS), help=",".join(SECTIONS))
    parser.add_argument("--engine", help="a real engine's base URL (cancel paths only)")
    parser.add_argument("--model", default="bench", help="the model name the engine serves")
    parser.add_argument(
        "--lifecycle-runs", type=int, help="runs of the shutdown and exit paths (runs // 3)"
    )
    parser.add_argument("--gateway", help="the litellm command: also run through LiteLLM's proxy")
    parser.add_argument(
        "--before", help="another checkout: its server runs beside this one (section side)"
    )
    parser.add_argument(
        "--client",
        choices=sorted(CLIENTS),
        default="pygls",
        help="the editor's side in section side (vscode: Microsoft's client library in Node)",
    )
    args = parser.parse_args()
    chosen = args.sections.split(",")
    if args.engine:
        global start
        plain_start = start

        async def engine_start(base_url: str | None, **kw: Any) -> tuple[BenchClient, float]:
            kw.setdefault("model", args.model)
            kw.setdefault("firstTokenTimeout", 60.0)
            return await plain_start(base_url, **kw)

        start = engine_start
        proxy = HangupProxy(args.engine)
        targets: list[tuple[str, Target]] = [("direct to the engine", proxy)]
        if args.gateway:
            gateway = ThroughGateway(args.gateway, proxy)
            up = f"up in {gateway.gateway.started_in:.1f} s"
            first = f"its first hang-up {gateway.first_hang_up_ms:.0f} ms, not counted"
            targets.append((f"through LiteLLM ({up}; {first})", gateway))
            api_key = gateway.api_key  # the engine takes any key
            plain_engine_start = start

            async def keyed_start(base_url: str | None, **kw: Any) -> tuple[BenchClient, float]:
                return await plain_engine_start(base_url, apiKey=api_key, **kw)

            start = keyed_start
        try:
            for label, target in targets:
                print(f"== {label}", flush=True)
                if "bare" in chosen:
                    for line in await bare_relay(target, args.runs, args.model):
                        print(line, flush=True)
                if "cancel" in chosen:
                    for line in await cancel_paths(target, args.runs, args.lifecycle_runs):
                        print(line, flush=True)
        finally:
            if args.gateway:
                gateway.close()
        return
    scripted = Scripted()
    try:
        with ScriptedUpstream() as upstream:
            sections: dict[str, Callable[[], Awaitable[list[str]]]] = {
                "startup": lambda: startup(upstream, args.runs),
                "first": lambda: first_completion(upstream, args.runs),
                "progress": lambda: chunk_to_progress(upstream, args.runs),
                "bare": lambda: bare_relay(scripted, args.runs),
                "cancel": lambda: cancel_paths(scripted, args.runs, args.lifecycle_runs),
                "side": lambda: side_by_side(
                    scripted, args.runs, args.lifecycle_runs, args.before, args.client
                ),
                "streamed": lambda: streamed_vs_whole(upstream, args.runs),
            }
            for name in SECTIONS:
                if name in chosen:
                    for line in await sections[name]():
                        print(line, flush=True)
    finally:
        scripted.close()


if __name__ == "__main__":
    asyncio.run(main())
