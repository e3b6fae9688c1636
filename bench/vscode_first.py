"""The first ghost text in real VS Code: inkstream against the smallest streaming extension.

Not part of the test run; nothing is asserted. Two code-servers (VS Code 1.100 in headless
Chromium, driven by playwright-core, as in tests/vscode) run at once: one with the inkstream VSIX
and the real server, one with a baseline extension built here from ``bench/vscode_first/`` (a
few lines of inline-completion provider over a bare pygls relay that streams the model's text as
partial results; the same vscode-languageclient). Both talk to the scripted upstream on
127.0.0.1, whose first chunk comes 300 ms after each request. Per run each opens a fresh file,
triggers a suggestion at the end of its first line (``Trigger Inline Suggestion``) and records
the first frame that painted ghost text. Runs alternate (AB, BA, ...); run 0 is a warm-up.

Prints, per extension, median / min / max of: trigger -> request at the upstream, the upstream's
first chunk -> first painted ghost text, and trigger -> first ghost text; then inkstream minus
the baseline.

    client-extension/scripts/install-e2e-deps.sh client-extension/.e2e
    (cd client-extension && npm ci && npm run package)
    nice -n -19 python bench/vscode_first.py [--runs 10] [--growth lines]

Environment: as tests/vscode (``INKSTREAM_E2E_DIR``, ``INKSTREAM_CODE_SERVER``,
``INKSTREAM_CHROMIUM``, ``INKSTREAM_PLAYWRIGHT_CORE``, ``INKSTREAM_VSIX``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

from upstream import RecordedRequest, Reply, ScriptedUpstream  # noqa: E402

EXTENSION = ROOT / "client-extension"
HERE = ROOT / "bench" / "vscode_first"
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
CHROMIUM = os.environ.get("INKSTREAM_CHROMIUM", "/usr/lib/chromium/chromium")
VSIX = Path(os.environ.get("INKSTREAM_VSIX", EXTENSION / "dist" / "inkstream.vsix"))
# The model: the first chunk 300 ms after the request, then 4 characters every 50 ms.
SUGGESTION = "  # recursive, slow for large n"
REPLY = Reply.text(SUGGESTION, chunk_size=4, delay=0.05, first_delay=0.3)
SETTINGS: dict[str, Any] = {
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
RESTART = {"inkstream": "inkstream: Restart Server", "baseline": "mini: Restart Relay"}
WALL = time.time() - time.monotonic()  # the upstream stamps with time.monotonic()


def source(name: str, run: int) -> str:
    """Each run's file: a different function, so no cache anywhere can answer it."""
    return f'def {name}_{run}(n):\n    """Return the n-th Fibonacci number ({run})."""\n    \n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_baseline(out: Path) -> Path:
    """The baseline VSIX: extension.js bundled with the client library inkstream uses."""
    pkg = out / "mini"
    pkg.mkdir()
    shutil.copy(HERE / "package.json", pkg / "package.json")
    (pkg / "README.md").write_text("Benchmark baseline for bench/vscode_first.py.\n")
    (pkg / "LICENSE").write_text("MIT\n")
    bin_dir = EXTENSION / "node_modules" / ".bin"
    subprocess.run(
        [str(bin_dir / "esbuild"), str(HERE / "extension.js"), "--bundle", "--platform=node",
         "--format=cjs", "--external:vscode", f"--outfile={pkg / 'extension.js'}"],
        check=True, cwd=EXTENSION, capture_output=True,
        env={**os.environ, "NODE_PATH": str(EXTENSION / "node_modules")},
    )  # fmt: skip
    vsix = out / "mini.vsix"
    subprocess.run(
        [str(bin_dir / "vsce"), "package", "--allow-missing-repository", "--no-dependencies",
         "--out", str(vsix)],
        check=True, cwd=pkg, capture_output=True, input=b"y\n",
    )  # fmt: skip
    return vsix


class CodeServer:
    """One code-server with one extension, its own user data, HOME and workspace."""

    def __init__(self, base: Path, name: str, vsix: Path, settings: dict[str, Any],
                 env: dict[str, str], runs: int) -> None:  # fmt: skip
        self.name, self.base = name, base / name
        home = self.base / "home"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "INKSTREAM_"))
        }
        self.env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                        XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / "share"),
                        TMPDIR=str(self.base / "tmp"))  # fmt: skip
        for key in ("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "TMPDIR"):
            Path(self.env[key]).mkdir(parents=True, exist_ok=True)
        self.user, self.exts, self.ws = self.base / "user", self.base / "ext", self.base / "ws"
        for d in (self.user / "User", self.exts, self.ws):
            d.mkdir(parents=True)
        for run in range(runs + 1):
            (self.ws / f"run{run}.py").write_text(source(f"{name}_fib", run))
        (self.user / "User" / "settings.json").write_text(json.dumps({**SETTINGS, **settings}))
        common = ["--user-data-dir", str(self.user), "--extensions-dir", str(self.exts)]
        installed = subprocess.run(
            [str(CODE_SERVER), *common, "--install-extension", str(vsix)],
            env=self.env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        if "successfully installed" not in installed.stdout:
            raise RuntimeError(installed.stdout + installed.stderr)
        self.port = free_port()
        config = self.base / "config.yaml"
        config.write_text(f"bind-addr: 127.0.0.1:{self.port}\nauth: none\ncert: false\n")
        self.log = open(self.base / "code-server.log", "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [str(CODE_SERVER), "--config", str(config), *common, "--disable-telemetry",
             "--disable-update-check", "--disable-workspace-trust",
             "--disable-getting-started-override", str(self.ws)],
            env={**self.env, **env}, stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"code-server {name} did not come up") from None
                time.sleep(0.2)

    def target(self) -> dict[str, str]:
        return {
            "name": self.name,
            "restart": RESTART[self.name],
            "url": f"http://127.0.0.1:{self.port}",
            "workspace": str(self.ws),
        }

    def stop(self) -> None:
        # The extension host (and the language server under it) outlive the browser: stop the group.
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.close()


def baseline_server(base: Path, vsix: Path, upstream_url: str, files: int) -> CodeServer:
    """The code-server with the baseline extension, its relay pointed at the upstream."""
    return CodeServer(base, "baseline", vsix, {}, {
        "MINI_PYTHON": sys.executable, "MINI_RELAY": str(HERE / "relay.py"),
        "MINI_BASE_URL": upstream_url,
    }, files)  # fmt: skip


def run_drive(
    script: str, base: Path, targets: list[dict[str, str]], runs: int, timeout: float, **env: str
) -> subprocess.CompletedProcess[str]:
    """One of ``bench/vscode_first/``'s playwright drives, over every code-server at once."""
    return subprocess.run(
        ["node", str(HERE / script)],
        env={**os.environ, "INKSTREAM_PLAYWRIGHT_CORE": str(PLAYWRIGHT_CORE),
             "INKSTREAM_CHROMIUM": CHROMIUM, "HOME": str(base / "browser"), "TMPDIR": str(base),
             "DRIVE_RUNS": str(runs), "DRIVE_FILE_PATTERN": "run{i}.py",
             "DRIVE_TARGETS": json.dumps(targets), **env},
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout,
    )  # fmt: skip


def drive_events(script: str, drive: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    """The drive's observations (one JSON line each); exits if it failed."""
    events = [json.loads(line) for line in drive.stdout.splitlines() if line.startswith("{")]
    errors = [e for e in events if e["event"] == "error"]
    if drive.returncode or errors:
        sys.exit(f"{script} failed: {drive.stdout[-3000:]}{errors or drive.stderr[-3000:]}")
    return events


def output_marks(user_data: Path) -> list[dict[str, float]]:
    """Per inkstream stream, from its output channel: when it started, when the extension got
    its first text, and when the provider first handed it to VS Code (ms since the epoch)."""
    marks: list[dict[str, float]] = []
    pattern = re.compile(
        r"^(\S+ \S+) \[info\] \[inline\] stream \d+ (start|first text|first shown)"
    )
    for log in sorted(user_data.rglob("inkstream.log")):
        for line in log.read_text(errors="replace").splitlines():
            if match := pattern.match(line):
                at = dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000
                if match[2] == "start":
                    marks.append({"start": at})
                elif marks:
                    marks[-1][match[2]] = at
    return marks


def figures(
    run: dict[str, Any], requests: list[RecordedRequest], marks: list[dict[str, float]]
) -> dict[str, float]:
    name = run["target"]
    [req] = [r for r in requests if f"{name}_fib_{run['run']}(" in json.dumps(r.body)]
    sent = (WALL + req.received_at) * 1000
    first_chunk = (WALL + req.chunk_times[0]) * 1000
    ghost = run["firstGhostAt"]
    out = {
        "trigger_to_upstream": sent - run["triggeredAt"],
        "first_chunk_to_ghost": ghost - first_chunk,
        "trigger_to_ghost": ghost - run["triggeredAt"],
    }
    mark = next((m for m in marks if run["triggeredAt"] <= m["start"] <= sent + 1), None)
    if mark and "first text" in mark and "first shown" in mark:
        out["  chunk_to_extension"] = mark["first text"] - first_chunk
        out["  extension_to_provider_answer"] = mark["first shown"] - mark["first text"]
        out["  provider_answer_to_painted"] = ghost - mark["first shown"]
    return out


def summary(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):6.0f}  min {min(values):6.0f}  max {max(values):6.0f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--growth", help="inkstream.ghostTextGrowth (default: the default)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="restart both language servers before each run (every run is the first after a start)",
    )
    parser.add_argument("--keep", action="store_true", help="print the scratch dir and keep it")
    args = parser.parse_args()
    if not VSIX.exists():
        sys.exit(f"{VSIX} is missing: run `npm run package` in {EXTENSION}")
    base = Path(tempfile.mkdtemp(prefix="inkvf-"))  # short: code-server puts sockets there
    servers: list[CodeServer] = []
    try:
        baseline = build_baseline(base)
        with ScriptedUpstream() as upstream:
            upstream.default = REPLY
            python = sys.executable
            servers.append(CodeServer(base, "inkstream", VSIX, {
                "inkstream.baseUrl": upstream.base_url, "inkstream.model": "bench",
                "inkstream.apiStyle": "chat",
                "inkstream.serverCommand": [python, "-m", "inkstream", "serve"],
                **({"inkstream.ghostTextGrowth": args.growth} if args.growth else {}),
            }, {"INKSTREAM_API_KEY": "sk-bench-not-a-key",
                "INKSTREAM_DATA_DIR": str(base / "usage")}, args.runs))  # fmt: skip
            servers.append(baseline_server(base, baseline, upstream.base_url, args.runs))
            drive = run_drive(
                "drive.mjs", base, [s.target() for s in servers], args.runs, 1800,
                DRIVE_RESTART="4000" if args.cold else "",
            )  # fmt: skip
            requests = upstream.requests
            marks = output_marks(servers[0].user)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            print(f"scratch dir: {base}")  # noqa: T201
        else:
            shutil.rmtree(base, ignore_errors=True)
    events = drive_events("drive.mjs", drive)
    results: dict[str, dict[str, list[float]]] = {}
    for run in events:
        if run["event"] != "run" or run["firstGhostAt"] is None:
            continue
        # Run 0 is the first suggestion after VS Code started: reported on its own.
        name = run["target"] if run["run"] else f"{run['target']}, first after start-up"
        if args.cold and run["run"]:
            name += ", first after a server restart"
        for key, value in figures(run, requests, marks).items():
            results.setdefault(name, {}).setdefault(key, []).append(value)
    load = os.getloadavg()
    print(
        f"VS Code first ghost text, {args.runs} runs each, ms (nice {os.nice(0)}, "  # noqa: T201
        f"load {load[0]:.1f} {load[1]:.1f}, growth {args.growth or 'default'}"
        f"{', --cold' if args.cold else ''})"
    )
    for name, values in results.items():
        for key, series in values.items():
            print(f"  {name:<10} {key:<30} {summary(series)}  (n={len(series)})")  # noqa: T201
    for suffix in ("", ", first after a server restart", ", first after start-up"):
        ink, mini = results.get(f"inkstream{suffix}", {}), results.get(f"baseline{suffix}", {})
        for key in (k for k in mini if k in ink):
            diff = statistics.median(ink[key]) - statistics.median(mini[key])
            print(f"  inkstream - baseline{suffix}: {key:<22} {diff:+6.0f} ms (medians)")  # noqa: T201


if __name__ == "__main__":
    main()
