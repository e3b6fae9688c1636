"""The real server against real inference engines: vLLM and llama.cpp (llama-cpp-python's server).

Each engine serves a tiny model made on the spot (``tiny_models.py``) whose output is scripted
by its weights: after its family's FIM middle token it writes ``return total_of(values)``, and
after the chat template's assistant turn it explains forever. Only ``baseUrl`` and ``model`` are
set, as in the README's recipes: the probe must find the route by itself.

Needs engines installed apart from the project (they are big): the Python interpreters that have
them come from ``INKSTREAM_VLLM_PYTHON`` and ``INKSTREAM_LLAMACPP_PYTHON`` (``.ci/run`` installs
both). Without them these tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import LanguageClient

from conftest import SERVER, cursor, inline_params, lsp_session, open_doc, request

pytestmark = pytest.mark.engine

HERE = Path(__file__).parent
EXPLAIN_MAX_TOKENS = 4000  # tens of seconds of generation: a cancel always lands mid-stream
STARTUP_TIMEOUT = 300.0


@dataclass
class EngineSpec:
    python_variable: str
    model_kind: str  # what tiny_models.py writes
    model_file: str
    served_as: str  # the model name clients send: it names the family, as the recipes say

    def command(self, python: str, model: Path, port: int) -> list[str]:
        raise NotImplementedError


class VllmSpec(EngineSpec):
    def command(self, python: str, model: Path, port: int) -> list[str]:
        return [
            python, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
            "--served-model-name", self.served_as, "--host", "127.0.0.1", "--port", str(port),
            "--dtype", "float32", "--max-model-len", "4096", "--enforce-eager",
            "--gpu-memory-utilization", "0.15",
        ]  # fmt: skip


class LlamaCppSpec(EngineSpec):
    def command(self, python: str, model: Path, port: int) -> list[str]:
        return [
            python, "-m", "llama_cpp.server", "--model", str(model), "--model_alias",
            self.served_as, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
        ]  # fmt: skip


SPECS: dict[str, EngineSpec] = {
    "vllm": VllmSpec("INKSTREAM_VLLM_PYTHON", "starcoder2-hf", "starcoder2", "tiny-starcoder2"),
    "llama.cpp": LlamaCppSpec(
        "INKSTREAM_LLAMACPP_PYTHON", "qwen-gguf", "qwen.gguf", "qwen2.5-coder-tiny"
    ),
}


@dataclass
class Engine:
    name: str
    base_url: str
    model: str
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def metrics(self) -> dict[str, float]:
        """vLLM's Prometheus counters, keyed by name and finish reason."""
        with urllib.request.urlopen(self.base_url.removesuffix("/v1") + "/metrics") as r:
            text = r.read().decode()
        found: dict[str, float] = {}
        for m in re.finditer(r"^(vllm:\w+)\{([^}]*)\} ([0-9.e+]+)$", text, re.M):
            reason = re.search(r'finished_reason="(\w+)"', m.group(2))
            key = m.group(1) + (f":{reason.group(1)}" if reason else "")
            found[key] = found.get(key, 0.0) + float(m.group(3))
        return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_serving(engine: Engine) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            pytest.fail(f"{engine.name} exited:\n{engine.log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(engine.base_url + "/models", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    pytest.fail(f"{engine.name} did not start in {STARTUP_TIMEOUT:.0f} s")


@pytest.fixture(scope="session", params=list(SPECS))
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    name: str = request.param
    spec = SPECS[name]
    python = os.environ.get(spec.python_variable)
    if not python:
        pytest.skip(f"{name} is not installed here (set {spec.python_variable})")
    work = tmp_path_factory.mktemp(name)
    model = work / spec.model_file
    subprocess.run([python, str(HERE / "tiny_models.py"), spec.model_kind, str(model)], check=True)
    port = _free_port()
    log = work / "engine.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(
            spec.command(python, model, port), stdout=out, stderr=subprocess.STDOUT, env=env
        )
    running = Engine(name, f"http://127.0.0.1:{port}/v1", spec.served_as, log, process)
    try:
        _wait_until_serving(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest_lsp.fixture(config=SERVER)
async def client(
    lsp_client: LanguageClient, engine: Engine, request: pytest.FixtureRequest
) -> AsyncIterator[LanguageClient]:
    options: dict[str, Any] = {
        "baseUrl": engine.base_url,
        "model": engine.model,
        "firstTokenTimeout": 60.0,
        "idleTimeout": 60.0,
        "explainMaxTokens": EXPLAIN_MAX_TOKENS,
    }
    async for session in lsp_session(lsp_client, options, request):
        yield session


async def engine_stopped(engine: Engine, log_before: int) -> dict[str, float]:
    """Waits until the engine itself stopped generating: vLLM runs nothing (its metrics then are
    returned), llama.cpp logs the hang-up (after ``log_before`` such lines)."""
    after: dict[str, float] = {}
    for _ in range(600):
        if engine.name == "vllm":
            after = engine.metrics()
            if after.get("vllm:num_requests_running", 1) == 0:
                return after
        elif engine.log_text().count("Disconnected from client") > log_before:
            return after
        await asyncio.sleep(0.1)
    pytest.fail(f"the engine went on generating: {engine.log_text()[-2000:]}")


async def test_ghost_text_streams_from_the_engine(client: LanguageClient, engine: Engine) -> None:
    """The model writes ``return total_of(values)`` only after its own FIM middle token: the
    right text on screen means the right template reached the engine."""
    text, pos = cursor("def total(values):\n    <CURSOR>\n")
    uri = open_doc(client, text, uri="file:///work/totals.py")
    result = await request(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="g")
    )
    assert [item.insertText for item in result.items] == ["return total_of(values)"]
    partials = [p["items"][0]["insertText"] for p in client.partial_results["g"] if p["items"]]
    assert partials, "nothing was streamed before the answer"
    assert all("return total_of(values)".startswith(p) for p in partials)

    standard = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert [item.insertText for item in standard.items] == ["return total_of(values)"]


async def test_stopping_an_explanation_stops_the_engine(
    client: LanguageClient, engine: Engine
) -> None:
    before = engine.metrics() if engine.name == "vllm" else {}
    log_before = engine.log_text().count("Disconnected from client")
    uri = open_doc(client, "def total(values):\n    return sum(values)\n")
    params = {
        "textDocument": {"uri": uri},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 22}},
        "partialResultToken": "x",
    }
    task = asyncio.ensure_future(request(client, "inkstream/explain", params, msg_id=77))
    for _ in range(6000):
        if client.partial_results.get("x"):
            break
        await asyncio.sleep(0.01)
    assert client.partial_results["x"][0]["delta"].startswith("The code")
    client.cancel_request(types.CancelParams(id=77))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 10)

    # the engine itself stopped; vLLM wrote far fewer tokens than asked for (had it gone on, it
    # would write them all)
    after = await engine_stopped(engine, log_before)
    if engine.name == "vllm":
        written = after["vllm:generation_tokens_total"] - before["vllm:generation_tokens_total"]
        assert 0 < written < EXPLAIN_MAX_TOKENS / 4


@pytest.mark.settings(model="no-such-model")
async def test_a_wrong_model_name_gets_a_clear_error(
    client: LanguageClient, engine: Engine, only_vllm: None
) -> None:
    text, pos = cursor("x = <CURSOR>\n")
    uri = open_doc(client, text)
    with pytest.raises(JsonRpcException) as raised:
        await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert "no-such-model" in str(raised.value)


@pytest.fixture
def only_vllm(engine: Engine) -> None:
    if engine.name != "vllm":
        pytest.skip("llama-cpp-python serves its one model under any name")


@pytest.mark.settings(nextEdit={"format": "chat"})  # the engine's model, asked as a chat model
async def test_stopping_a_next_edit_stops_the_engine(
    client: LanguageClient, engine: Engine
) -> None:
    """A next edit from a chat model: the tiny model writes its explanation loop (no region, no
    hunk) for some 850 tokens; the request is cancelled once tokens flow, and the engine must
    see the hang-up. Its text is gibberish for a next edit, so nothing is asserted about it.

    The tiny model writes those tokens in about a second: on a loaded machine the answer may be
    complete before the cancel lands (then there is nothing to hang up on), so up to three
    requests are made; each cancelled one must be a hang-up the engine saw."""
    # long lines: the region and its context make max_tokens about 850, inside the
    # engine's 4,096-token context with the prompt
    lines = [f"    value_{i} = compute(" + ", ".join(["argument"] * 6) + ")" for i in range(18)]
    uri = open_doc(client, "def f():\n" + "\n".join(lines) + "\n", uri="file:///work/next.py")
    for attempt in range(3):
        log_before = engine.log_text().count("Disconnected from client")
        before = engine.metrics() if engine.name == "vllm" else {}
        token = f"ne{attempt}"
        client.progress_reports[token] = []
        params = {
            "textDocument": {"uri": uri, "version": 1},
            "position": {"line": 16, "character": 4},
            "partialResultToken": f"n{attempt}",
            "workDoneToken": token,
        }
        msg_id = 78 + attempt
        task = asyncio.ensure_future(request(client, "inkstream/nextEdit", params, msg_id=msg_id))
        for _ in range(6000):  # tokens are flowing once work-done progress reports them
            reports = client.progress_reports[token]
            if task.done() or any(type(r).__name__ == "WorkDoneProgressReport" for r in reports):
                break
            await asyncio.sleep(0.01)
        client.cancel_request(types.CancelParams(id=msg_id))
        try:
            await asyncio.wait_for(task, 10)
            continue  # answered before the cancel landed: the model had finished
        except JsonRpcRequestCancelled:
            break
    else:
        pytest.fail("the engine finished every answer before its cancel landed")

    after = await engine_stopped(engine, log_before)
    if engine.name == "vllm":
        written = after["vllm:generation_tokens_total"] - before["vllm:generation_tokens_total"]
        assert 0 < written < 1000
