"""Real VS Code end to end: code-server + headless Chromium (playwright-core) + the built VSIX + the
real server + the scripted upstream.

Shows, with screenshots in ``artifacts/vscode/``: the first suggestion after start-up; ghost text
appearing in a Python file and growing while the upstream is still sending; typing through it
without a new upstream request; Tab inserting it; Explain streaming into its panel; Stop making the
upstream see the client hang up. Prints figures (not asserted): the first suggestion's time beyond
the model's time to first token, and, sampled every frame, the ghost text's growth steps and the
frames in which it blinked out or shrank.

Opt-in (it needs code-server, Chromium and playwright-core; see
``client-extension/scripts/install-e2e-deps.sh``)::

    client-extension/scripts/install-e2e-deps.sh client-extension/.e2e
    (cd client-extension && npm ci && npm run package)
    . client-extension/.e2e/env.sh
    INKSTREAM_VSCODE_E2E=1 pytest -m vscode tests/vscode -v

Environment: ``INKSTREAM_VSCODE_E2E`` (required), ``INKSTREAM_E2E_DIR`` (install dir, default
``client-extension/.e2e``), ``INKSTREAM_CODE_SERVER`` / ``INKSTREAM_CHROMIUM`` /
``INKSTREAM_PLAYWRIGHT_CORE`` (override the paths), ``INKSTREAM_PYTHON`` (interpreter with
inkstream installed; default: this one), ``INKSTREAM_VSIX`` (default
``client-extension/dist/inkstream.vsix``, built with ``npm run package`` when missing),
``INKSTREAM_ARTIFACTS`` (default ``artifacts/vscode``), ``INKSTREAM_E2E_GROWTH`` (sets
``inkstream.ghostTextGrowth``, to compare the modes' figures).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

pytestmark = pytest.mark.vscode

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "client-extension"
DRIVE = EXTENSION / "test" / "e2e" / "drive.mjs"

if not os.environ.get("INKSTREAM_VSCODE_E2E"):
    pytest.skip(
        "VS Code e2e is opt-in: run client-extension/scripts/install-e2e-deps.sh, then set "
        "INKSTREAM_VSCODE_E2E=1 (needs code-server, chromium and playwright-core)",
        allow_module_level=True,
    )

from forward_proxy import ForwardProxy  # noqa: E402
from upstream import Reply, ScriptedUpstream  # noqa: E402 (only once the e2e is enabled)

E2E_DIR = Path(os.environ.get("INKSTREAM_E2E_DIR", EXTENSION / ".e2e"))
CODE_SERVER = Path(
    os.environ.get(
        "INKSTREAM_CODE_SERVER", E2E_DIR / "code-server" / "node_modules" / ".bin" / "code-server"
    )
)
PLAYWRIGHT_CORE = Path(
    os.environ.get(
        "INKSTREAM_PLAYWRIGHT_CORE", E2E_DIR / "playwright" / "node_modules" / "playwright-core"
    )
)
CHROMIUM = os.environ.get("INKSTREAM_CHROMIUM") or (
    "/usr/lib/chromium/chromium"
    if Path("/usr/lib/chromium/chromium").exists()
    else shutil.which("chromium") or ""
)
PYTHON = os.environ.get("INKSTREAM_PYTHON", sys.executable)
VSIX = Path(os.environ.get("INKSTREAM_VSIX", EXTENSION / "dist" / "inkstream.vsix"))
ARTIFACTS = Path(os.environ.get("INKSTREAM_ARTIFACTS", ROOT / "artifacts" / "vscode"))
GROWTH = os.environ.get("INKSTREAM_E2E_GROWTH", "")  # inkstream.ghostTextGrowth; empty: the default

_missing = [
    name
    for name, path in (
        ("code-server", CODE_SERVER),
        ("playwright-core", PLAYWRIGHT_CORE),
        ("chromium", Path(CHROMIUM or "/nonexistent")),
    )
    if not path.exists()
]
if _missing:
    pytest.skip(
        f"VS Code e2e: {', '.join(_missing)} not installed "
        f"(run client-extension/scripts/install-e2e-deps.sh {E2E_DIR})",
        allow_module_level=True,
    )

# What the scripted model says. The inline body is sent in 3-character chunks 80 ms apart after
# 300 ms (about 2.3 s in all), so a client that only shows the final answer cannot pass.
CODE = 'def fibonacci(n):\n    """Return the n-th Fibonacci number."""\n    '
BODY = "if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)"
INLINE_CHUNK = 3
EXPLANATION = (
    "`fibonacci` computes the *n*-th Fibonacci number **recursively**.\n\n"
    "- For `n < 2` it returns `n` itself (the base cases 0 and 1).\n"
    "- Otherwise it adds the two previous numbers: `fibonacci(n - 1) + fibonacci(n - 2)`.\n\n"
    "This takes exponential time, because the same values are computed again and again; "
    "memoising with `functools.lru_cache` makes it linear.\n\n"
    "```python\nfrom functools import lru_cache\n```\n"
    + "Each call waits for two more calls. "
    * 20
)
# The first suggestion after start-up, at the end of the first line: a short one, with the same
# time to first token.
STARTUP = "  # recursive"
STARTUP_TTFT = 0.3
API_KEY = "sk-e2e-not-a-real-key"


@dataclass
class Watch:
    """Records (on a thread) when each upstream request completed: the drive script's ghost-text
    timestamps are compared with these, on the same wall clock."""

    upstream: ScriptedUpstream
    seen_at: dict[int, float] = field(default_factory=dict)
    completed_at: dict[int, float] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for index, req in enumerate(list(self.upstream.requests)):
                now = time.time()
                self.seen_at.setdefault(index, now)
                if index not in self.completed_at and req.completed:
                    self.completed_at[index] = now
            time.sleep(0.005)


def wall_clock(t: float) -> float:
    """The upstream may stamp with time.monotonic(); the drive script stamps with the wall clock."""
    return t if t > 1e9 else t - time.monotonic() + time.time()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scratch_env(base: Path) -> dict[str, str]:
    """code-server and Chromium write under HOME, XDG_* and TMPDIR: keep it all in the test dir."""
    home = base / "home"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "INKSTREAM_BASE_URL", "INKSTREAM_API_KEY")
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        TMPDIR=str(base / "tmp"),
    )
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "TMPDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def ensure_vsix() -> Path:
    if VSIX.exists():
        return VSIX
    if not (EXTENSION / "node_modules").exists():
        pytest.fail(f"{VSIX} is missing: run `npm ci && npm run package` in {EXTENSION}")
    subprocess.run(["npm", "run", "package"], cwd=EXTENSION, check=True, stdin=subprocess.DEVNULL)
    return VSIX


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """Chromium and code-server put Unix sockets under TMPDIR: pytest's tmp_path is too long."""
    path = Path(tempfile.mkdtemp(prefix="inkvs-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def code_server(short_tmp: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A code-server with the VSIX installed, not yet started (the test sets its user settings)."""
    tmp_path = short_tmp
    env = scratch_env(tmp_path)
    user_data, ext_dir, ws = tmp_path / "user", tmp_path / "ext", tmp_path / "ws"
    for d in (user_data / "User", ext_dir, ws):
        d.mkdir(parents=True)
    (ws / "demo.py").write_text(CODE)
    vsix = ensure_vsix()
    installed = subprocess.run(
        [
            str(CODE_SERVER),
            "--user-data-dir",
            str(user_data),
            "--extensions-dir",
            str(ext_dir),
            "--install-extension",
            str(vsix),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert "successfully installed" in installed.stdout, installed.stdout + installed.stderr
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")
    name = request.node.name.removeprefix("test_").split("_")[0]  # "ghost", "missing"
    state: dict[str, Any] = {
        "usage_dir": tmp_path / "usage",
        "env": env,
        "user_data": user_data,
        "ws": ws,
        "port": port,
        "name": name,
    }

    def start(settings: dict[str, Any], extra_env: dict[str, str]) -> None:
        (user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
        log = open(tmp_path / "code-server.log", "w")  # noqa: SIM115 (closed below)
        state["log"] = log
        state["proc"] = subprocess.Popen(
            [
                str(CODE_SERVER),
                "--config",
                str(config),
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--auth",
                "none",
                "--user-data-dir",
                str(user_data),
                "--extensions-dir",
                str(ext_dir),
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                str(ws),
            ],
            env={**env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                return
            except OSError:
                if time.monotonic() > deadline or state["proc"].poll() is not None:
                    log_text = (tmp_path / "code-server.log").read_text()
                    raise RuntimeError(f"code-server did not come up:\n{log_text}") from None
                time.sleep(0.2)

    state["start"] = start
    yield state
    proc = state.get("proc")
    if proc is not None:
        # The extension host (and the language server under it) outlive the browser: stop the group.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        state["log"].close()
    # Keep the extension's output channel (it holds the server's stderr) with the screenshots.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for log_file in (user_data / "logs").rglob("*inkstream*.log"):
        shutil.copy(log_file, ARTIFACTS / f"{name}-output-{log_file.name}")
    if (tmp_path / "code-server.log").exists():
        shutil.copy(tmp_path / "code-server.log", ARTIFACTS / f"{name}-code-server.log")


def run_drive(cs: dict[str, Any], **extra: str) -> list[dict[str, Any]]:
    env = {
        **cs["env"],
        "INKSTREAM_PLAYWRIGHT_CORE": str(PLAYWRIGHT_CORE),
        "INKSTREAM_CHROMIUM": CHROMIUM,
        "DRIVE_URL": f"http://127.0.0.1:{cs['port']}",
        "DRIVE_WORKSPACE": str(cs["ws"]),
        "DRIVE_FILE": "demo.py",
        "DRIVE_ARTIFACTS": str(ARTIFACTS),
        **extra,
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["node", str(DRIVE)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    (ARTIFACTS / f"{cs['name']}-observations.jsonl").write_text(proc.stdout)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    errors = [e for e in events if e["event"] == "error"]
    assert proc.returncode == 0 and not errors, (
        f"drive.mjs failed (rc={proc.returncode}): {errors}\n{proc.stderr[-3000:]}"
    )
    return events


VSCODE_SETTINGS: dict[str, Any] = {
    "workbench.startupEditor": "none",
    "security.workspace.trust.enabled": False,
    "telemetry.telemetryLevel": "off",
    "extensions.autoUpdate": False,
    "extensions.ignoreRecommendations": True,
    "update.mode": "none",
    "files.hotExit": "off",
    "workbench.tips.enabled": False,
    "editor.inlineSuggest.enabled": True,
    "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
}
STOP_WAYS = ("stop", "close")  # the panel's Stop button, closing the panel
TYPED = "if n"


def running_max_steps(ghosts: list[dict[str, Any]], typed_at: float) -> list[dict[str, Any]]:
    """The ghost-text readings that made the visible suggestion longer than ever before.

    After type-through the ghost text is the rest after what was typed, so its length is counted
    from the anchor. Reading the DOM between VS Code's two ghost-text parts (first line, view zone)
    can catch half a suggestion: a running maximum ignores those.
    """
    steps, best = [], -1
    for g in ghosts:
        length = len(g["text"]) + (len(TYPED) if g["t"] > typed_at else 0)
        if length > best:
            best = length
            steps.append({**g, "absolute": length})
    return steps


def streams(requests: list[Any]) -> list[Any]:
    """The completion and explanation streams, without the endpoint probe."""
    return [r for r in requests if r.body.get("stream")]


def frame_report(frames: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """Blinks, from the page's per-frame samples (drive.mjs ``startFrameSampler``).

    Each record is a change of the ghost text and the frame it first showed in; it lasts until the
    next record. Between the first frame with ghost text and the frame that first showed its final
    length, a frame is a blink when the ghost text is absent or shorter than the longest shown so
    far (lengths count from the start of the anchor line, so type-through does not shorten them).
    """
    shown = [r for r in frames if r["length"] > 0]
    if not shown:
        return {"frames": 0, "blink_frames": 0, "vanished_frames": 0, "shrunk_frames": 0}
    final = max(r["length"] for r in shown)
    start = shown[0]["frame"]
    end = next(r["frame"] for r in shown if r["length"] == final)
    vanished = shrunk = episodes = steps = 0
    best, in_blink = 0, False
    for record, following in zip(frames, [*frames[1:], None], strict=True):
        first = max(record["frame"], start)
        last = min((following["frame"] if following else total + 1) - 1, end)
        if last < first:
            continue
        count = last - first + 1
        if record["length"] == 0:
            vanished += count
        elif record["length"] < best:
            shrunk += count
        if record["length"] > best:
            best, steps = record["length"], steps + 1
        blink = record["length"] < best or record["length"] == 0
        episodes += blink and not in_blink
        in_blink = blink
    seconds = (next(r["t"] for r in shown if r["length"] == final) - shown[0]["t"]) / 1000
    return {
        "frames": end - start + 1,
        "growth_steps": steps,
        "updates_per_s": round((steps - 1) / seconds, 1) if seconds > 0 else None,
        "blink_frames": vanished + shrunk,
        "vanished_frames": vanished,
        "shrunk_frames": shrunk,
        "blinks": episodes,
        "frame_ms": round(seconds * 1000 / max(1, end - start), 1),
    }


def seed_usage_history(usage_dir: Path, endpoint: str) -> None:
    """Six earlier days of made-up history, only so the usage view's screenshot (README) shows
    a chart over several days; today's figures all come from this test's real run."""
    import datetime as dt

    from inkstream.usage.store import UsageStore

    store = UsageStore(usage_dir / "usage.sqlite3")
    today = dt.date.today()
    for back, (requests, accepted) in enumerate(
        [(9, 4), (14, 6), (6, 2), (11, 7), (16, 9), (8, 3)]
    ):
        day = (today - dt.timedelta(days=6 - back)).isoformat()
        for i in range(requests):
            generated = 40 + 7 * i
            store.add_request(
                {
                    "ts": 0.0, "day": day, "endpoint": endpoint, "model": "e2e-model",
                    "route": "chat", "kind": "completion", "language": "python",
                    "prompt_tokens": 900, "generated_tokens": generated,
                    "shown_tokens": generated - (i % 3) * 10, "usage_source": "reported",
                    "outcome": "complete" if i % 3 else "superseded", "ttft_ms": 180.0,
                    "duration_ms": 900.0, "cost": (900 * 0.5 + generated * 1.5) / 1e6,
                }
            )  # fmt: skip
            ident = f"seed-{day}-{i}"
            store.add_suggestion(
                {
                    "id": ident, "ts": 0.0, "day": day, "endpoint": endpoint,
                    "model": "e2e-model", "language": "python", "chars": 60, "ttft_ms": 200.0,
                }
            )  # fmt: skip
            if i < accepted:
                kept = 0.7 + 0.05 * (i % 4)
                store.update_suggestion(
                    ident, shown=1, accepted=1, accepted_chars=60, kept_30s=kept, kept_2m=kept
                )
            else:
                store.update_suggestion(ident, shown=1)
    store.close()


def test_ghost_text_grows_tab_accepts_explain_streams_and_stop_hangs_up(code_server):
    with ScriptedUpstream() as upstream:
        upstream.script(
            # The endpoint probe (apiStyle "auto", the default: one /v1/completions call with
            # max_tokens=1, made once before the first completion, or at start-up).
            Reply.text("pass"),
            # 0. The first suggestion after start-up.
            Reply.text(STARTUP, chunk_size=4, delay=0.05, first_delay=STARTUP_TTFT),
            # 1-3. Explain, long and slow so that each way of stopping lands mid-stream.
            *[
                Reply.text(EXPLANATION, chunk_size=6, delay=0.12, first_delay=0.2)
                for _ in STOP_WAYS
            ],
            # 4. The growing inline suggestion.
            Reply.text(BODY, chunk_size=INLINE_CHUNK, delay=0.08, first_delay=0.3),
            # 5+. Whatever VS Code asks after Tab (the next suggestion) gets a short answer.
            *[Reply.text("\n", chunk_size=1) for _ in range(5)],
        )
        watch = Watch(upstream)
        watcher = threading.Thread(target=watch.run, daemon=True)
        watcher.start()
        seed_usage_history(code_server["usage_dir"], upstream.base_url)
        code_server["start"](
            {
                **VSCODE_SETTINGS,
                "inkstream.baseUrl": upstream.base_url,
                "inkstream.model": "e2e-model",
                "inkstream.serverCommand": [PYTHON, "-m", "inkstream", "serve"],
                **({"inkstream.ghostTextGrowth": GROWTH} if GROWTH else {}),
                "inkstream.pricing": {"e2e-model": {"input": 0.5, "output": 1.5}},
            },
            # The key comes from the environment here ("Set API Key" stores it in SecretStorage).
            {
                "INKSTREAM_API_KEY": API_KEY,
                "INKSTREAM_LOG": "DEBUG",
                "INKSTREAM_DATA_DIR": str(code_server["usage_dir"]),
                "INKSTREAM_KEPT_DELAYS": "0.5,1",
            },
        )
        events = run_drive(
            code_server,
            DRIVE_TYPE_THROUGH=TYPED,
            DRIVE_EXPECT_FINAL=BODY.split("\n")[-1].strip(),
            # "final" shows the first words until the stream ends (about 2 s later).
            DRIVE_IDLE_MS="3000" if GROWTH == "final" else "1500",
        )
        # Let the upstream notice the last hang-ups before the server goes away.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not all(
            r.hung_up_at for r in streams(upstream.requests)[1 : len(STOP_WAYS) + 1]
        ):
            time.sleep(0.05)
        watch.stop.set()
        requests = list(upstream.requests)
        base_url = upstream.base_url

    by_kind: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_kind.setdefault(e["event"], []).append(e)
    report: dict[str, Any] = {}

    # -- The first suggestion after start-up showed (figures: how long it took beyond the model's
    # own time to first token).
    [startup] = by_kind["startup"]
    # Requests by index in ``requests`` (the Watch's keys): the probe is not a stream.
    order = [i for i, r in enumerate(requests) if r.body.get("stream")]
    first = requests[order[0]]
    assert "fibonacci" in first.prompt_text
    assert startup["firstGhostAt"] is not None and STARTUP.strip() in startup["text"], startup
    [opened] = by_kind["file-open"]
    ttft_ms = (first.chunk_times[0] - first.received_at) * 1000
    first_ghost_ms = startup["firstGhostAt"] - startup["triggeredAt"]
    report["startup"] = {
        "file_open_to_trigger_ms": startup["triggeredAt"] - opened["t"],
        "first_ghost_ms": round(first_ghost_ms),
        "upstream_ttft_ms": round(ttft_ms),
        "beyond_ttft_ms": round(first_ghost_ms - ttft_ms),
        "trigger_to_upstream_ms": round(
            wall_clock(first.received_at) * 1000 - startup["triggeredAt"]
        ),
        "first_token_to_ghost_ms": round(
            startup["firstGhostAt"] - wall_clock(first.chunk_times[0]) * 1000
        ),
    }

    # -- Explain streamed into the panel; Stop and closing the panel each made the upstream see the
    # client hang up before it had finished. Its pace showed in the status bar, and no notification
    # toast came up while it streamed (the panel has Stop; a toast's Cancel was a third copy).
    for index, how in zip(order[1:], STOP_WAYS, strict=False):
        [streaming] = [e for e in by_kind["explain-streaming"] if e["how"] == how]
        assert streaming["toasts"] == [], streaming
        assert any("tok/s" in s for s in streaming["status"]), streaming
        req = requests[index]
        assert "fibonacci" in req.prompt_text
        lengths = [e["length"] for e in by_kind["explain"] if e["how"] == how and e["length"]]
        assert len(lengths) >= 3 and lengths == sorted(lengths), (how, lengths)
        [ended] = [e for e in by_kind["explain-ended"] if e["how"] == how]
        assert ended["state"] in ("stopped", "closed"), ended
        assert not req.completed, f"{how}: the upstream finished before the client hung up"
        assert req.hung_up_at is not None, f"{how}: the upstream never saw the client hang up"
        [stop] = [e for e in by_kind["explain-stop"] if e["how"] == how]
        report[f"{how}_to_hangup_ms"] = round(wall_clock(req.hung_up_at) * 1000 - stop["t"])
        if stop.get("clickedAt"):  # the harness's part: until the webview's click handler ran
            report[f"{how}_click_handler_ms"] = stop["clickedAt"] - stop["t"]
            report[f"{how}_handler_to_hangup_ms"] = round(
                wall_clock(req.hung_up_at) * 1000 - stop["clickedAt"]
            )
        assert report[f"{how}_to_hangup_ms"] < 3000, report

    # -- Ghost text appeared and grew while the upstream was still sending.
    inline_index = order[len(STOP_WAYS) + 1]
    assert "fibonacci" in requests[inline_index].prompt_text
    inline_done = watch.completed_at.get(inline_index)
    assert inline_done is not None, "the inline upstream request never completed"
    ghosts = [e for e in by_kind["ghost"] if e["label"] == "inline" and e["text"]]
    [summary] = by_kind["inline-summary"]
    assert ghosts, "no ghost text was shown"
    assert summary["typedAt"] is not None, "the suggestion never showed its first word"
    assert summary["toasts"] == [], f"a toast showed while ghost text streamed: {summary}"
    [typed] = by_kind["typed"]
    steps = running_max_steps(ghosts, typed["t"])
    before_done = [g for g in steps if g["t"] / 1000 < inline_done]
    report["first_ghost_ms"] = summary["firstGhostAt"] - summary["triggeredAt"]
    report["ghost_updates_seen"] = summary["steps"]
    report["growth_steps"] = len(steps)
    report["growth_steps_before_upstream_finished"] = len(before_done)
    report["upstream_ms"] = round((inline_done - watch.seen_at[inline_index]) * 1000)
    report["first_ghost_before_upstream_done_ms"] = round(inline_done * 1000 - ghosts[0]["t"])
    [sampled] = [e for e in by_kind["frames"] if e["label"] == "inline"]
    report["per_frame"] = frame_report(sampled["frames"], sampled["total"])
    # The first words show when they arrive, whatever the growth mode: not once the first line is
    # complete (painted before the upstream sent the chunk with the first newline).
    first_painted = next(r["t"] for r in sampled["frames"] if r["length"] > 0)
    newline_chunk = BODY.index("\n") // INLINE_CHUNK
    newline_sent = wall_clock(requests[inline_index].chunk_times[newline_chunk]) * 1000
    assert first_painted < newline_sent, (first_painted, newline_sent, report)
    if GROWTH != "final":
        # The first ghost text and at least one longer one while the model was still writing.
        assert len(before_done) >= 2, f"no growth before the upstream finished: {report}"

    # -- Type-through: typing the start of the suggestion while it streamed kept the same upstream
    # request (no hang-up, no new request) and the ghost text went on from the extension's cache.
    [tab] = by_kind["tab"]
    assert not requests[inline_index].hung_up_at, "type-through must not cancel the stream"
    started_before_tab = sorted(i for i, t in watch.seen_at.items() if t * 1000 < tab["t"])
    assert started_before_tab == list(range(inline_index + 1)), (
        f"type-through sent a new request: {started_before_tab}"
    )
    after_typing = [g for g in ghosts if g["t"] > typed["t"]]
    assert after_typing and after_typing[-1]["text"].startswith(" < 2:"), after_typing[-1:]
    if GROWTH != "final":
        assert any(g["t"] / 1000 < inline_done for g in after_typing), "no growth after typing"
    assert summary["finalGhost"].rstrip() == BODY[len(TYPED) :], summary

    # -- Tab inserted the whole suggestion.
    [accepted] = by_kind["accepted"]
    assert accepted["ok"], accepted["text"]

    # -- Clicking the status bar item shows the active endpoint and model.
    [pick] = by_kind["status-pick"]
    shown = " | ".join(pick["items"])
    assert base_url in shown and "e2e-model" in shown and "openai" in shown, shown

    # -- Usage: the extension's reports reached the server's stats (shown when the provider
    # returned the item, accepted by the item's inkstream.didAccept command on Tab), the tooltip
    # has today's figures and inkstream: Show Usage draws the chart.
    db = sqlite3.connect(code_server["usage_dir"] / "usage.sqlite3")
    rows = db.execute(
        "SELECT shown, accepted, accepted_chars, chars FROM suggestions WHERE id NOT LIKE 'seed-%'"
    ).fetchall()
    requests_recorded = db.execute(
        "SELECT COUNT(*) FROM requests WHERE day = date('now', 'localtime')"
    ).fetchone()[0]
    db.close()
    assert any(shown and accepted and chars == n for shown, accepted, chars, n in rows), rows
    assert requests_recorded >= len(STOP_WAYS) + 1
    [tooltip] = by_kind["usage-tooltip"]
    assert "Today:" in tooltip["tooltip"] and "tokens" in tooltip["tooltip"], tooltip
    [view] = by_kind["usage-view"]
    assert view["bars"] >= 30 and any("accepted" in c for c in view["cards"]), view

    (ARTIFACTS / "report.json").write_text(json.dumps(report, indent=2))
    print("vscode e2e:", json.dumps(report))  # noqa: T201


def test_missing_server_gives_one_actionable_message(code_server, tmp_path):
    """An interpreter without inkstream: one error message naming the install command."""
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = str(bare / "bin" / "python")
    code_server["start"](
        {**VSCODE_SETTINGS, "inkstream.serverCommand": [python, "-m", "inkstream", "serve"]},
        {"PYTHONPATH": ""},
    )
    events = run_drive(code_server, DRIVE_ORDER="missing")
    [missing] = [e for e in events if e["event"] == "missing"]
    ours = [m for m in missing["messages"] if "inkstream" in m]
    assert len(ours) == 1, missing["messages"]
    assert f"{python} -m pip install inkstream" in ours[0], ours[0]
    assert "Install in Terminal" in missing["buttons"], missing["buttons"]


def startup_suggestion(
    code_server: dict[str, Any], base_url: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """Starts VS Code with these user settings and returns the first suggestion's observation."""
    code_server["start"](
        {
            **VSCODE_SETTINGS,
            "inkstream.baseUrl": base_url,
            "inkstream.model": "e2e-model",
            "inkstream.apiStyle": "chat",
            "inkstream.serverCommand": [PYTHON, "-m", "inkstream", "serve"],
            **settings,
        },
        {"INKSTREAM_API_KEY": API_KEY, "INKSTREAM_DATA_DIR": str(code_server["usage_dir"])},
    )
    events = run_drive(code_server, DRIVE_ORDER="startup")
    [startup] = [e for e in events if e["event"] == "startup"]
    return startup


def output_logs(code_server: dict[str, Any]) -> str:
    logs = (code_server["user_data"] / "logs").rglob("*.log")
    return "\n".join(f.read_text(errors="replace") for f in logs)


def test_proxy_from_vscode_settings_carries_completions(code_server):
    """Behind a corporate proxy set once for all of VS Code: the user's ``http.proxy`` (with its
    credentials) and no ``inkstream.proxy``. The endpoint's name resolves only at the proxy, so the
    suggestion can only have come through it. The output channel names the proxy, never the
    password."""
    user, password = "inkstream", "s3cret/with:odd@chars"
    with ScriptedUpstream() as upstream:
        upstream.script(*[Reply.text(STARTUP, chunk_size=4, delay=0.05) for _ in range(4)])
        port = urlsplit(upstream.base_url).port
        proxy = ForwardProxy(auth=f"{user}:{password}", hosts={"llm.corp.invalid": "127.0.0.1"})
        try:
            credentials = f"//{user}:{quote(password, safe='')}@"
            startup = startup_suggestion(
                code_server,
                f"http://llm.corp.invalid:{port}/v1",
                {"http.proxy": proxy.url.replace("//", credentials)},
            )
        finally:
            proxy.close()
        requests = list(upstream.requests)

    assert STARTUP.strip() in startup["text"], startup
    assert requests, "no request reached the endpoint"
    for req in requests:
        assert "proxy.py" in req.headers.get("via", ""), req.headers
        assert req.headers["host"] == f"llm.corp.invalid:{port}"
    logs = output_logs(code_server)
    assert f"proxy: VS Code's http.proxy http://127.0.0.1:{proxy.port} with credentials" in logs
    assert password not in logs and quote(password, safe="") not in logs


def test_local_endpoint_stays_direct_with_a_vscode_proxy(code_server):
    """A local model and a corporate ``http.proxy``: as in VS Code, 127.0.0.1 is reached directly
    (this proxy would refuse the request: it wants other credentials)."""
    with ScriptedUpstream() as upstream:
        upstream.script(*[Reply.text(STARTUP, chunk_size=4, delay=0.05) for _ in range(4)])
        proxy = ForwardProxy(auth="someone:else")
        try:
            startup = startup_suggestion(code_server, upstream.base_url, {"http.proxy": proxy.url})
        finally:
            proxy.close()
        requests = list(upstream.requests)

    assert STARTUP.strip() in startup["text"], startup
    assert requests and not any("via" in req.headers for req in requests)
    assert f"proxy: VS Code's http.proxy {proxy.url}" in output_logs(code_server)


# -- Next edits (issue 18). The user renames or changes code at one place; the rest shows as next
# edits drawn with decorations, Tab jumps, Tab applies.
NES_RENAME = """\
def scale(total, factor):
    scaled = total * factor
    return round(total + scaled, 2)
"""
NES_NO_GHOST = {**VSCODE_SETTINGS, "editor.inlineSuggest.enabled": False}


def next_edit_drive(code_server: dict[str, Any], name: str, text: str, **spec: Any) -> list[Any]:
    (code_server["ws"] / name).write_text(text)
    events = run_drive(
        code_server, DRIVE_FILE=name, DRIVE_ORDER="nextedit", DRIVE_NES=json.dumps(spec)
    )
    return events


def drawn_count(drawn: dict[str, list[Any]]) -> int:
    return sum(len(drawn.get(k, [])) for k in ("hints", "lines", "deleted", "pictures"))


def offline_next_edits(code_server: dict[str, Any]) -> None:
    code_server["start"](
        {**NES_NO_GHOST, "inkstream.serverCommand": [PYTHON, "-m", "inkstream", "serve"]},
        {"INKSTREAM_DATA_DIR": str(code_server["usage_dir"])},
    )


def test_next_edit_offline_rename_tab_jumps_tab_applies(code_server):
    """Offline (no endpoint, no key): renaming ``total`` at its definition shows the two other
    places as next edits (the old name marked, the new line beside it, "Tab to jump" at the
    cursor); Tab jumps to the first, Tab applies it, and so on; the saved file is exactly the
    renamed one."""
    offline_next_edits(code_server)
    events = next_edit_drive(
        code_server, "scale.py", NES_RENAME,
        line=1, column=11, length=5, type="subtotal", then="accept", shot="nextedit-1-shown",
    )  # fmt: skip
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for e in events:
        by_kind.setdefault(e["event"], []).append(e)
    [shown] = by_kind["nes-shown"]
    drawn = shown["drawn"]
    assert [(d["line"], d["text"]) for d in drawn["lines"]] == [
        (2, "scaled = subtotal * factor"),
        (3, "return round(subtotal + scaled, 2)"),
    ], drawn
    assert [d["line"] for d in drawn["deleted"]] == [2, 3], drawn
    assert [(h["line"], h["text"]) for h in drawn["hints"]] == [(1, "↓ Tab to jump (line 2)")]
    # Tab 1 jumps to line 2, Tab 2 applies there (line 3's edit stays drawn), Tab 3 jumps to
    # line 3, Tab 4 applies: nothing left.
    tabs = by_kind["nes-tab"]
    assert [t["cursor"]["line"] for t in tabs] == [2, 2, 3, 3], tabs
    assert [d["line"] for d in tabs[1]["drawn"]["lines"]] == [3], tabs[1]
    assert drawn_count(tabs[-1]["drawn"]) == 0, tabs[-1]
    assert (code_server["ws"] / "scale.py").read_text() == NES_RENAME.replace("total", "subtotal")


def test_next_edit_typing_elsewhere_hides_it(code_server):
    offline_next_edits(code_server)
    events = next_edit_drive(
        code_server, "scale.py", NES_RENAME,
        line=1, column=11, length=5, type="subtotal", then="elsewhere", elsewhere="#",
    )  # fmt: skip
    [shown] = [e for e in events if e["event"] == "nes-shown"]
    assert drawn_count(shown["drawn"]) > 0, shown
    [after] = [e for e in events if e["event"] == "nes-after"]
    assert drawn_count(after["drawn"]) == 0, after


# A next-edit model (format "chat") answering slowly, a line at a time: the user added a
# parameter; the model replaces the two 100s with it, two hunks apart (lines 3 and 6).
NES_LIMIT = (
    "def scale(total, factor):\n"
    "    scaled = total * factor\n"
    "    if scaled > 100:\n"
    '        print("clamped")\n'
    "        scaled = scaled - 1\n"
    "    return min(scaled, 100)\n"
)
NES_LIMIT_ANSWER = [
    "```python\n",
    "def scale(total, factor, limit):\n",
    "    scaled = total * factor\n",
    "    if scaled > limit:\n",
    '        print("clamped")\n',
    "        scaled = scaled - 1\n",
    "    return min(scaled, limit)\n",
    "```",
]
NES_LINE_DELAY = 0.8
MODEL_PATH_MISSING = (
    "needs the server's next-edit model path (streamed hunks from an upstream: branch nes-model, "
    "inkstream.nextedit.converge), not merged here"
)


def needs_model_path() -> None:
    import importlib.util

    if importlib.util.find_spec("inkstream.nextedit.converge") is None:
        pytest.skip(MODEL_PATH_MISSING)


def model_next_edits(
    code_server: dict[str, Any], upstream: ScriptedUpstream, answer: list[str] = NES_LIMIT_ANSWER
) -> None:
    needs_model_path()
    # The same answer to each request: on a loaded machine a pause in the typing can ask early
    # (that request is cancelled by the next keystroke); the last request is the one shown.
    upstream.script(*[Reply(chunks=answer, delay=NES_LINE_DELAY, first_delay=0.2)] * 3)
    code_server["start"](
        {
            **NES_NO_GHOST,
            "inkstream.baseUrl": upstream.base_url,
            "inkstream.model": "e2e-model",
            "inkstream.apiStyle": "chat",
            "inkstream.nextEdit.model": "e2e-nes",
            "inkstream.nextEdit.format": "chat",
            "inkstream.serverCommand": [PYTHON, "-m", "inkstream", "serve"],
        },
        {"INKSTREAM_API_KEY": API_KEY, "INKSTREAM_DATA_DIR": str(code_server["usage_dir"])},
    )


def nes_request(upstream: ScriptedUpstream) -> Any:
    """The model request made after the whole edit was typed (earlier ones were cancelled)."""
    asked = [r for r in upstream.requests if r.body.get("stream") and ", limit)" in r.prompt_text]
    assert asked, [r.prompt_text[-300:] for r in upstream.requests]
    return asked[-1]


def test_next_edit_hunks_are_drawn_as_the_model_writes(code_server):
    """Each hunk is drawn when the server sends it: the first (line 3) before the upstream has
    sent the second (line 6), and it stays drawn, in the same place, while the second arrives."""
    with ScriptedUpstream() as upstream:
        model_next_edits(code_server, upstream)
        events = next_edit_drive(
            code_server, "limit.py", NES_LIMIT,
            line=1, column=24, length=0, type=", limit", then="none", idleMs=3000,
            sampleFrames=True,
        )  # fmt: skip
        req = nes_request(upstream)
    records = [e for e in events if e["event"] == "nes"]
    # Sampled in every frame from the first drawing on: nothing drawn went missing or moved.
    [frames] = [e for e in events if e["event"] == "nes-frames"]
    assert frames["frames"] > 0 and frames["missing"] == frames["moved"] == 0, frames
    first = next(e for e in records if any(d["line"] == 3 for d in e["drawn"]["lines"]))
    second = NES_LIMIT_ANSWER.index("    return min(scaled, limit)\n")
    second_sent = wall_clock(req.chunk_times[second])
    assert first["t"] < second_sent * 1000, (first, second_sent)
    [drawn_first] = [d for d in first["drawn"]["lines"] if d["line"] == 3]
    assert drawn_first["text"] == "if scaled > limit:"
    for later in records[records.index(first) :]:
        assert drawn_first in later["drawn"]["lines"], later
    report = {
        "first_hunk_drawn_before_second_sent_ms": round(second_sent * 1000 - first["t"]),
        "frames_sampled": frames["frames"],
    }
    print("vscode next edits:", json.dumps(report))  # noqa: T201
    last = records[-1]["drawn"]
    assert [(d["line"], d["text"]) for d in last["lines"]] == [
        (3, "if scaled > limit:"),
        (6, "return min(scaled, limit)"),
    ], last


def test_next_edit_escape_stops_the_model(code_server):
    """Escape while the model is still writing hides the edits and the upstream sees the hang-up."""
    with ScriptedUpstream() as upstream:
        model_next_edits(code_server, upstream)
        events = next_edit_drive(
            code_server, "limit.py", NES_LIMIT,
            line=1, column=24, length=0, type=", limit", then="escape", idleMs=300,
        )  # fmt: skip
        req = nes_request(upstream)
        req.ended.wait(5)
    [after] = [e for e in events if e["event"] == "nes-after"]
    assert drawn_count(after["drawn"]) == 0, after
    assert not req.completed, "the upstream finished before Escape"
    assert req.hung_up_at is not None, "the upstream never saw the client hang up"


NES_STATS = """\
def mean(xs):
    total = 0
    for x in xs:
        total += x
        print(x)
    print("done")
    return total / len(xs)
"""
NES_STATS_ANSWER = [
    "```python\n",
    "def mean(xs):\n",
    "    total = 0\n",
    "    count = 0\n",
    "    for x in xs:\n",
    "        total += x\n",
    "        count += 1\n",
    "        print(x)\n",
    '    print("done")\n',
    "    return total / count\n",
    "```",
]


def test_next_edit_new_lines_are_drawn_as_a_picture(code_server):
    """The user adds ``count = 0``; the model puts in a line (drawn as a picture of the new line,
    in the editor's font, beside the place it goes) and changes the return (drawn beside it)."""
    with ScriptedUpstream() as upstream:
        model_next_edits(code_server, upstream, NES_STATS_ANSWER)
        events = next_edit_drive(
            code_server, "stats.py", NES_STATS,
            line=2, column=14, length=0, type="\ncount = 0", then="none", idleMs=3000,
            endShot="nextedit-2-picture",
        )  # fmt: skip
    [shown] = [e for e in events if e["event"] == "nes-shown"]
    drawn = shown["drawn"]
    assert [(p["line"], p["lines"]) for p in drawn["pictures"]] == [(6, ["count += 1"])], drawn
    assert [(d["line"], d["text"]) for d in drawn["lines"]] == [(8, "return total / count")]
    # the picture sits right of the text it is beside, not over it
    [hint] = drawn["hints"]
    assert hint["line"] == 3 and drawn["pictures"][0]["x"] > hint["x"] - 200, drawn


NES_GHOST = """\
def mean(xs):
    total = 0
    for x in xs:
        total += x
    return total / len(xs)
"""
NES_GHOST_ANSWER = [
    "```python\n",
    "def mean(xs):\n",
    "    total = 0\n",
    "    count = 0  # items seen\n",
    "    for x in xs:\n",
    "        total += x\n",
    "    return total / len(xs)\n",
    "```",
]


def test_next_edit_at_the_cursor_is_ghost_text(code_server):
    """With ghost text on: the user adds ``count = 0``; the model's edit is an insertion right at
    the cursor, so it shows as ghost text (not a decoration), and Tab inserts it. Completions go to
    another endpoint, which answers nothing."""
    needs_model_path()
    with ScriptedUpstream() as completions, ScriptedUpstream() as model:
        completions.default = Reply.text("")
        model.script(*[Reply(chunks=NES_GHOST_ANSWER, delay=0.2, first_delay=0.2)] * 3)
        code_server["start"](
            {
                **VSCODE_SETTINGS,
                "inkstream.baseUrl": completions.base_url,
                "inkstream.model": "e2e-model",
                "inkstream.apiStyle": "chat",
                "inkstream.nextEdit.baseUrl": model.base_url,
                "inkstream.nextEdit.model": "e2e-nes",
                "inkstream.nextEdit.format": "chat",
                "inkstream.serverCommand": [PYTHON, "-m", "inkstream", "serve"],
            },
            {"INKSTREAM_API_KEY": API_KEY, "INKSTREAM_DATA_DIR": str(code_server["usage_dir"])},
        )
        events = next_edit_drive(
            code_server, "mean.py", NES_GHOST,
            line=2, column=14, length=0, type="\ncount = 0", then="accept-ghost",
            ghost="  # items seen", idleMs=500,
        )  # fmt: skip
    [shown] = [e for e in events if e["event"] == "nes-shown"]
    assert shown["drawn"]["ghost"] == "  # items seen", shown
    assert drawn_count(shown["drawn"]) == 0, shown  # ghost text only, no decoration
    assert (code_server["ws"] / "mean.py").read_text() == NES_GHOST.replace(
        "    total = 0\n", "    total = 0\n    count = 0  # items seen\n"
    )


NES_FAR = (
    "def scale(total, factor):\n"
    + "".join(f"    step_{i} = factor + {i}\n" for i in range(60))
    + "    return total * factor\n"
)


def test_next_edit_off_screen_tab_jumps_there(code_server):
    """The other place is off screen: only "Tab to jump" shows at the cursor; Tab scrolls to it
    (now drawn there), Tab applies it."""
    offline_next_edits(code_server)
    events = next_edit_drive(
        code_server, "far.py", NES_FAR,
        line=1, column=11, length=5, type="subtotal", then="accept",
    )  # fmt: skip
    [shown] = [e for e in events if e["event"] == "nes-shown"]
    drawn = shown["drawn"]
    assert [(h["line"], h["text"]) for h in drawn["hints"]] == [(1, "↓ Tab to jump (line 62)")]
    assert drawn["lines"] == [] and drawn["deleted"] == [], drawn  # line 62 is not on screen
    jump, apply = [e for e in events if e["event"] == "nes-tab"]
    assert jump["cursor"]["line"] == 62, jump
    assert [(d["line"], d["text"]) for d in jump["drawn"]["lines"]] == [
        (62, "return subtotal * factor")
    ], jump
    assert drawn_count(apply["drawn"]) == 0, apply
    assert (code_server["ws"] / "far.py").read_text() == NES_FAR.replace("total", "subtotal")
