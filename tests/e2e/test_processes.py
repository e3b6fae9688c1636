"""No process outlives the server, and no index build is thrown away or done twice.

Each test runs real servers (``inkstream serve`` over stdio) on a cold cache of its own and finds
every process that belongs to it by its environment (``INKSTREAM_CACHE_DIR`` is unique per
test): the server, the detached index builder and the builder's pool workers. The builder waits
at a test gate (``INKSTREAM_INDEX_TEST_GATE``) with its workers up, so "during indexing" is sure.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from cache_processes import processes_using
from conftest import server_env
from raw_server import DEADLINE, RawServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project big enough (over 300 KB) that the builder tokenizes it with pool workers."""
    root = tmp_path / "project"
    root.mkdir()
    for f in range(24):
        body = "".join(
            f"def handler_{f}_{i}(request, value_{i}):\n"
            f"    result = compute_{i % 7}(request.data, value_{i})\n"
            f"    if result is None:\n        return default_{i % 5}\n"
            f"    return result + {i}\n\n\n"
            for i in range(110)
        )
        (root / f"module_{f}.py").write_text(body)
    return root


class Env:
    """One test's cold cache, gate and environment, and the processes that carry it."""

    def __init__(self, tmp_path: Path) -> None:
        self.cache = tmp_path / "cache"
        self.gate = tmp_path / "gate"
        self.env = server_env(
            INKSTREAM_CACHE_DIR=str(self.cache),
            INKSTREAM_INDEX_TEST_GATE=str(self.gate),
            INKSTREAM_LOG="INFO",
            INKSTREAM_PROVIDER="offline",
        )
        self.build_log = self.cache / "offline" / "build.log"

    def processes(self) -> list[psutil.Process]:
        return processes_using(self.cache)

    def building(self, cache_name: str) -> list[psutil.Process]:
        """The builder processes (and their workers) writing a cache file named so."""
        found = []
        for proc in self.processes():
            try:
                if cache_name in " ".join(proc.cmdline()):
                    found.append(proc)
            except psutil.NoSuchProcess:
                continue
        return found

    def log(self) -> str:
        try:
            return self.build_log.read_text()
        except FileNotFoundError:
            return ""

    def builds(self, part: str) -> int:
        return sum(
            f"offline model {part}" in line and "built in" in line
            for line in self.log().splitlines()
        )


def wait_for(what: str, condition: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def end(server: RawServer, how: str) -> None:
    if how == "shutdown, exit":
        server.send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        server.receive(2)
        server.send({"jsonrpc": "2.0", "method": "exit"})
    elif how == "exit":
        server.send({"jsonrpc": "2.0", "method": "exit"})
    elif how == "stdin closed":
        server.close_stdin()
    elif how == "SIGTERM":
        server.proc.send_signal(signal.SIGTERM)
    elif how == "SIGKILL":
        server.proc.kill()
    server.proc.wait(timeout=DEADLINE)


def start_server(env: Env, root: Path, stderr: Path, editor: int | None = None) -> RawServer:
    return RawServer(env.env, root, stderr, init={"provider": "offline"}, editor=editor)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    env = Env(tmp_path)
    yield env
    env.gate.touch()  # whatever happened, let builders finish; then nothing may be left
    for proc in env.processes():
        if proc.pid != os.getpid():
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.mark.parametrize("how", ["shutdown, exit", "exit", "stdin closed", "SIGTERM", "SIGKILL"])
def test_no_process_outlives_a_server_ended_during_indexing(
    env: Env, project: Path, tmp_path: Path, how: str
) -> None:
    server = start_server(env, project, tmp_path / "server.err")
    try:
        wait_for("the build to be under way", lambda: "waiting for the test gate" in env.log())
        during = env.processes()
        assert server.proc.pid in [p.pid for p in during]
        assert len(during) >= 2, "a builder runs beside the server"
        end(server, how)
    finally:
        server.kill()
    # a server that ends runs no more, but hands the part it had not started on to a builder
    handed_off = env.building("stdlib-")
    assert bool(handed_off) == (how != "SIGKILL")
    for proc in handed_off:
        proc.kill()  # seconds of work that this test does not need
    env.gate.touch()
    wait_for("every process to end", lambda: not env.processes())
    # the build under way was not thrown away: the next server loads it
    assert env.builds("project-") == 1
    assert list((env.cache / "offline").glob("project-*.pickle"))


def test_a_builder_killed_mid_build_takes_its_workers_with_it(
    env: Env, project: Path, tmp_path: Path
) -> None:
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: the builder has no pool workers")
    server = start_server(env, project, tmp_path / "server.err")
    try:
        wait_for("the build to be under way", lambda: "waiting for the test gate" in env.log())
        end(server, "SIGKILL")
    finally:
        server.kill()
    [builder] = [p for p in env.processes() if p.children()]
    workers = builder.children()
    assert workers, "the builder tokenizes with pool workers"
    builder.kill()
    wait_for("the workers to end", lambda: not env.processes())
    assert not list((env.cache / "offline").glob("project-*.pickle"))


def test_two_servers_on_a_cold_cache_build_once(env: Env, project: Path, tmp_path: Path) -> None:
    first = start_server(env, project, tmp_path / "first.err")
    second = start_server(env, project, tmp_path / "second.err")
    try:
        wait_for("the build to be under way", lambda: "waiting for the test gate" in env.log())
        wait_for(
            "one server to wait for the other's build",
            lambda: "another inkstream is building it" in first.stderr() + second.stderr(),
        )
        env.gate.touch()
        for server in (first, second):
            wait_for(
                "both servers to load the one build",
                lambda server=server: (
                    "offline model project-" in server.stderr() and ": loaded " in server.stderr()
                ),
            )
        # the same holds for the standard library's model: one builds it, the other waits
        wait_for(
            "one server to wait for the other's standard library build",
            lambda: (
                "offline model stdlib: another inkstream is building it"
                in first.stderr() + second.stderr()
            ),
        )
        builders = wait_for("the standard library's builder", lambda: env.building("stdlib-"))
        assert "offline model stdlib: building" in first.stderr() + second.stderr()
        for proc in builders:
            proc.kill()  # seconds of work that this test does not need
        end(first, "shutdown, exit")
        end(second, "stdin closed")
    finally:
        first.kill()
        second.kill()
    wait_for("every process to end", lambda: not env.processes())
    assert env.builds("project-") == 1


def test_the_server_exits_when_its_editor_is_gone(env: Env, project: Path, tmp_path: Path) -> None:
    """LSP's ``processId``: the editor died but the server's stdin is still open."""
    editor = subprocess.Popen(["sleep", "600"])
    server = start_server(env, project, tmp_path / "server.err", editor=editor.pid)
    try:
        wait_for("the build to be under way", lambda: "waiting for the test gate" in env.log())
        editor.kill()
        editor.wait()
        server.proc.wait(timeout=DEADLINE)
        assert f"the editor (pid {editor.pid}) is gone" in server.stderr()
    finally:
        server.kill()
        editor.kill()
    for proc in env.building("stdlib-"):
        proc.kill()  # handed off on the way out; seconds of work that this test does not need
    env.gate.touch()
    wait_for("every process to end", lambda: not env.processes())
