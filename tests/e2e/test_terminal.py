"""The terminal commands, run as a user runs them: a subprocess that drives the real server."""

from __future__ import annotations

import importlib.util
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inkstream.terminal.commands import SAMPLE, demo_target

from cache_processes import processes_using
from conftest import server_env
from offline_samples import SHAPES
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

CLI = [sys.executable, "-m", "inkstream"]
CODE = "def area(r):\n    return 3.14159 * r * r\n\n\ndef double(x):\n    \n"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "geometry.py"
    path.write_text(CODE)
    return path


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=server_env()
    )


def test_complete_against_the_upstream(source: Path, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("return x * 2", chunk_size=3, delay=0.01))
    done = run("complete", f"{source}:6:5", "--base-url", upstream.base_url, "--api-style", "chat")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "return x * 2\n"
    [req] = upstream.requests
    assert "def double(x):" in req.prompt_text


def test_explain_range_against_the_upstream(source: Path, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("Computes the area of a circle.", chunk_size=4, delay=0.01))
    done = run(
        "explain",
        f"{source}:1-2",
        "--base-url",
        upstream.base_url,
        "--model",
        "m",
        "--api-style",
        "chat",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Computes the area of a circle.\n"
    [req] = upstream.requests
    assert (
        "return 3.14159 * r * r" in req.prompt_text
        and "def double" not in req.body["messages"][-1]["content"].split("Surrounding")[0]
    )
    assert req.body["model"] == "m"


def test_complete_and_explain_offline(source: Path) -> None:
    done = run("complete", f"{source}:6:5")
    assert done.returncode == 0, done.stderr
    done = run("explain", str(source))
    assert done.returncode == 0, done.stderr
    assert "`area`" in done.stdout and "`double`" in done.stdout and "offline model" in done.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["complete", "missing.py:1:1"], 2, "cannot read missing.py"),
        (["complete", "{src}:99:1"], 2, "line 99 does not exist"),
        (["complete", "{src}"], 2, "expected FILE:LINE:COL"),
        (["explain", "{src}:5-2"], 2, "not a range"),
    ],
)
def test_bad_arguments(source: Path, args: list[str], code: int, message: str) -> None:
    done = run(*(a.replace("{src}", str(source)) for a in args))
    assert done.returncode == code
    assert message in done.stderr and done.stdout == ""


def test_upstream_error_is_reported(source: Path, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply(status=401))
    done = run("complete", f"{source}:6:5", "--base-url", upstream.base_url, "--api-style", "chat")
    assert done.returncode == 1
    assert "rejected the API key" in done.stderr and upstream.base_url in done.stderr


@pytest.mark.parametrize("verbose", [False, True])
def test_the_servers_log_messages_show_only_with_verbose(
    source: Path, upstream: ScriptedUpstream, verbose: bool
) -> None:
    upstream.script(Reply(status=401))  # the server logs it and sends window/logMessage
    args = ["complete", f"{source}:6:5", "--base-url", upstream.base_url, "--api-style", "chat"]
    done = run(*args, *(["--verbose"] if verbose else []))
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert "Ignoring notification" not in done.stderr
    error = [line for line in lines if line.startswith("inkstream: ")]
    assert len(error) == 1 and "rejected the API key" in error[0]
    if verbose:  # window/logMessage, and the server's own log
        assert any(
            line.startswith("inkstream server: ") and "rejected the API key" in line
            for line in lines
        )
        assert any("inkstream.app: settings:" in line for line in lines)
    else:
        assert lines == error


def test_a_short_command_on_a_cold_cache_loses_no_work(source: Path, tmp_path: Path) -> None:
    """The first ``complete`` may end before the standard library's model is built; the build
    goes on, is saved and ends, and the next command loads it instead of building it again."""
    cache = tmp_path / "cache"
    env = server_env(INKSTREAM_CACHE_DIR=str(cache), INKSTREAM_PROVIDER="offline")

    def complete() -> subprocess.CompletedProcess[str]:
        args = [*CLI, "complete", f"{source}:6:5", "--verbose"]
        return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)

    first = complete()
    assert first.returncode == 0, first.stderr
    assert "offline model stdlib: building it in the background" in first.stderr
    deadline = time.monotonic() + 300
    while processes_using(cache):  # the builder finishes and ends on its own
        assert time.monotonic() < deadline, "a process outlived the command for minutes"
        time.sleep(0.1)
    assert list((cache / "offline").glob("stdlib-*.pickle"))
    second = complete()
    assert second.returncode == 0, second.stderr
    assert "offline model stdlib: loaded" in second.stderr
    assert "building" not in second.stderr
    assert not processes_using(cache)


def test_the_first_command_on_a_machine_answers_or_says_why(tmp_path: Path) -> None:
    """A new machine (an empty cache): ``complete`` in an empty method body of a small file
    answers, or says why not in one line on stderr. It used to print nothing, twice."""
    shapes = tmp_path / "shapes.py"
    shapes.write_text(SHAPES.replace("<CURSOR>", ""))  # the cursor: line 20, column 9
    cache = tmp_path / "cache"
    env = server_env(INKSTREAM_CACHE_DIR=str(cache), INKSTREAM_PROVIDER="offline")
    args = [*CLI, "complete", f"{shapes}:20:9"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    reasons = [line for line in done.stderr.splitlines() if "no completion" in line]
    if done.stdout.strip():
        assert reasons == []
    else:
        assert done.stdout == ""
        [reason] = reasons
        assert reason.startswith("inkstream: no completion: ")
    deadline = time.monotonic() + 300
    while processes_using(cache):  # a build handed off ends on its own
        assert time.monotonic() < deadline, "a process outlived the command for minutes"
        time.sleep(0.1)


def test_a_completion_in_an_excluded_file_says_why(tmp_path: Path) -> None:
    secrets = tmp_path / ".env"
    secrets.write_text("API_TOKEN=\n")
    done = run("complete", f"{secrets}:1:11")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == "inkstream: no completion: .env looks like a file of secrets\n"


def test_demo_runs_without_a_terminal() -> None:
    done = run("demo")
    assert done.returncode == 0, done.stderr
    assert "== completing inventory.py" in done.stdout
    assert "most_valuable" in done.stdout and "offline model" in done.stdout


def test_the_demos_completion_is_a_correct_body_for_its_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the demo completes (live, by the offline model) is put where the demo's cursor is,
    and the function then does what its docstring says."""
    done = run("demo")
    assert done.returncode == 0, done.stderr
    shown = done.stdout.split("\n", 1)[1].split("\n\n== ")[0]
    assert shown.strip() and "(no completion" not in shown
    target = demo_target(None)
    at = sum(len(line) + 1 for line in target.text.split("\n")[: target.line]) + target.character
    completed = tmp_path / "completed_inventory.py"
    completed.write_text(target.text[:at] + shown + target.text[at:])
    spec = importlib.util.spec_from_file_location("completed_inventory", completed)
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "completed_inventory", sample)  # dataclasses look it up
    spec.loader.exec_module(sample)
    items = [sample.Item("nut", 0.1, 500), sample.Item("saw", 25.0, 4), sample.Item("axe", 30.0, 1)]
    assert sample.most_valuable(items) is items[1]
    assert sample.most_valuable(items[::-1]) is items[1]
    assert sample.most_valuable([items[2]]) is items[2]
    with pytest.raises(ValueError, match="no items"):
        sample.most_valuable([])


def test_the_demos_next_edits_finish_its_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the completion the demo renames a parameter at its ``def``; the next edits it
    prints (a unified diff, offline) are the rest of the rename: applied, the function works."""
    done = run("demo")
    assert done.returncode == 0, done.stderr
    section = done.stdout.split("== next edits after renaming minimum → threshold on line ")[1]
    diff = section.split("\n\n== explaining")[0].split("\n", 1)[1]
    assert diff.startswith("@@ ")
    lines = SAMPLE.read_text().split("\n")
    [def_line] = [i for i, line in enumerate(lines) if line.startswith("def restock(")]
    lines[def_line] = lines[def_line].replace("minimum:", "threshold:")
    for hunk in filter(None, re.split(r"(?m)^(?=@@ )", diff.strip())):
        head, *body = hunk.strip("\n").split("\n")
        start = int(re.match(r"@@ -(\d+)", head).group(1)) - 1  # type: ignore[union-attr]
        old = [line[1:] for line in body if line.startswith("-")]
        new = [line[1:] for line in body if line.startswith("+")]
        assert lines[start : start + len(old)] == old
        lines[start : start + len(old)] = new
    renamed = tmp_path / "renamed_inventory.py"
    renamed.write_text("\n".join(lines))
    spec = importlib.util.spec_from_file_location("renamed_inventory", renamed)
    assert spec is not None and spec.loader is not None
    sample = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "renamed_inventory", sample)
    spec.loader.exec_module(sample)
    items = [sample.Item("nut", 0.1, 500), sample.Item("saw", 25.0, 4)]
    assert sample.restock(items, threshold=10) == [items[1]]


def test_ctrl_c_stops_the_model(source: Path, upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("word " * 400, chunk_size=5, delay=0.05))
    proc = subprocess.Popen(
        [*CLI, "explain", str(source), "--base-url", upstream.base_url, "--api-style", "chat"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=server_env(),
    )
    try:
        upstream.wait_for_requests(1, timeout=30)
        assert proc.stdout is not None
        proc.stdout.read(10)  # the explanation is streaming
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "stopped" in err and "ms after Ctrl-C" in err
    assert not upstream.wait_for_hangup(0).completed


def test_serve_over_tcp() -> None:
    """``inkstream serve --tcp HOST:PORT`` answers LSP on a socket, for editors that prefer it."""
    import json
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [*CLI, "serve", "--tcp", f"127.0.0.1:{port}"], env=server_env(), stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with conn:
            body = json.dumps(
                {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
            ).encode()
            conn.sendall(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            data = b""
            while b"serverInfo" not in data or not data.rstrip().endswith(b"}"):
                chunk = conn.recv(65536)
                assert chunk, "the server closed the connection"
                data += chunk
        reply = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert reply["id"] == 1 and reply["result"]["serverInfo"]["name"] == "inkstream"
        assert "inlineCompletionProvider" in reply["result"]["capabilities"]
    finally:
        proc.kill()
