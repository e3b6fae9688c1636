"""Explain's Stop in real VS Code: inkstream against the smallest streaming explain panel.

Not part of the test run; nothing is asserted. Two code-servers run at once, as in
bench/vscode_first.py (whose pieces this reuses): one with the inkstream VSIX and the real server,
one with the baseline extension of ``bench/vscode_first/`` (its ``mini: Explain Selection`` opens a
webview with a Stop button, sends one request to a bare pygls relay that streams the model's deltas
as partial results, appends them to the page, and cancels on Stop or when the panel closes; the
same vscode-languageclient). Both talk to the scripted upstream on 127.0.0.1, which streams a long
markdown explanation slowly. Per run each explains two fresh files, lets the panel stream until it
shows ``--stop-after`` characters, then clicks the panel's Stop (the first file) or closes the
panel's tab (the second), with the same playwright clicks. Runs rotate the order (AB, BA, ...);
run 0 is a warm-up and not counted.

Prints, per extension, median / min / max of: click -> the upstream sees the hang-up, for Stop and
for closing; for Stop the part until the webview's click handler ran (the harness's own click
latency, most of the total); for inkstream the part until its extension began cancelling (its
output channel); and how busy the window's thread (the workbench and its webviews, the renderer's
counters) was while the explanation streamed, in ms per second. Then inkstream minus the baseline
(medians). ``--also OLD.vsix`` adds a third code-server with another inkstream build, for a
before/after in the same run.

What it found (issue 20 §5): the status bar's spinning streaming icon restyled the window every
frame while the model wrote (+20 ms/s of style recalculation, +50-80 ms/s busy in all), and Stop
and close waited behind that. (The panel also replaced its whole HTML every 50 ms; it now sends
only the blocks that changed, though the counters did not show that cost apart.)

    client-extension/scripts/install-e2e-deps.sh client-extension/.e2e
    (cd client-extension && npm ci && npm run package)
    python bench/vscode_explain_stop.py [--runs 10] [--stop-after 1000]

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
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from vscode_first import (
    EXTENSION,
    VSIX,
    WALL,
    CodeServer,
    baseline_server,
    build_baseline,
    drive_events,
    run_drive,
    summary,
)

from upstream import RecordedRequest, Reply, ScriptedUpstream

# A long markdown explanation (paragraphs, lists, inline code, code blocks), 8 characters every
# 40 ms: the panel renders it while it grows.
SECTION = (
    "The function `{name}` computes the *n*-th Fibonacci number **recursively**.\n\n"
    "- For `n < 2` it returns `n` itself (the base cases 0 and 1).\n"
    "- Otherwise it adds the two previous numbers: `fib(n - 1) + fib(n - 2)`.\n\n"
    "This takes exponential time, because the same values are computed again and again; "
    "memoising with `functools.lru_cache` makes it linear:\n\n"
    "```python\nfrom functools import lru_cache\n\n@lru_cache(maxsize=None)\n"
    "def fib(n: int) -> int:\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n```\n\n"
    "An iterative version keeps only the last two values, in constant space. "
    "For very large `n`, the matrix form or fast doubling needs only *O(log n)* steps.\n\n"
)
EXPLANATION = "".join(SECTION.format(name=f"part_{i}") for i in range(12))
REPLY = Reply.text(EXPLANATION, chunk_size=8, delay=0.04, first_delay=0.2)
INKSTREAM = {"explain": "inkstream: Explain Selection", "panel": "inkstream: Explain"}
BASELINE = {"explain": "mini: Explain Selection", "panel": "mini: Explain"}


def target(server: CodeServer) -> dict[str, str]:
    """What explain.mjs needs to drive one code-server."""
    panel = BASELINE if server.name == "baseline" else INKSTREAM
    return {"name": server.name, "url": f"http://127.0.0.1:{server.port}",
            "workspace": str(server.ws), **panel}  # fmt: skip


def cancel_marks(user_data: Path) -> list[float]:
    """When inkstream's extension began cancelling an explanation (its output channel, ms since the
    epoch): splits the click -> hang-up time at the extension."""
    pattern = re.compile(r"^(\S+ \S+) \[info\] \[explain\] cancelling")
    return sorted(
        dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S.%f").timestamp() * 1000
        for log in user_data.rglob("inkstream.log")
        for line in log.read_text(errors="replace").splitlines()
        if (match := pattern.match(line))
    )


def figures(
    run: dict[str, Any], requests: list[RecordedRequest], marks: list[float]
) -> dict[str, float]:
    """Milliseconds from the click to the upstream seeing the hang-up (and to the click handler)."""
    marker = f"{run['target']}_fib_{run['file'].removeprefix('run').removesuffix('.py')}("
    [req] = [r for r in requests if marker in json.dumps(r.body)]
    if req.hung_up_at is None:
        raise RuntimeError(f"{run['target']} {run['how']} run {run['run']}: no hang-up")
    hung_up = (WALL + req.hung_up_at) * 1000
    out = {f"{run['how']}: click -> hang-up": hung_up - run["clickAt"]}
    if run["clickedAt"] is not None:
        out["stop:   click -> handler ran"] = run["clickedAt"] - run["clickAt"]
        out["stop:   handler -> hang-up"] = hung_up - run["clickedAt"]
    for key, value in run["busy"].items():
        out[f"busy while streaming, ms/s: {key.removesuffix('Duration')}"] = value
    if mark := next((m for m in marks if run["clickAt"] <= m <= hung_up + 1), None):
        out[f"{run['how']}:   click -> extension cancels"] = mark - run["clickAt"]
        out[f"{run['how']}:   extension cancels -> hang-up"] = hung_up - mark
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--stop-after", type=int, default=1000, help="characters shown first")
    parser.add_argument(
        "--also", type=Path, help="a third code-server with this inkstream VSIX (an earlier build)"
    )
    parser.add_argument("--keep", action="store_true", help="print the scratch dir and keep it")
    args = parser.parse_args()
    if not VSIX.exists():
        sys.exit(f"{VSIX} is missing: run `npm run package` in {EXTENSION}")
    base = Path(tempfile.mkdtemp(prefix="inkve-"))  # short: code-server puts sockets there
    servers: list[CodeServer] = []
    files = 2 * (args.runs + 1)
    try:
        baseline = build_baseline(base)
        with ScriptedUpstream() as upstream:
            upstream.default = REPLY
            python = sys.executable
            for name, vsix in (("inkstream", VSIX), ("also", args.also)):
                if vsix is None:
                    continue
                servers.append(CodeServer(base, name, vsix, {
                    "inkstream.baseUrl": upstream.base_url, "inkstream.model": "bench",
                    "inkstream.apiStyle": "chat",
                    "inkstream.serverCommand": [python, "-m", "inkstream", "serve"],
                }, {"INKSTREAM_API_KEY": "sk-bench-not-a-key",
                    "INKSTREAM_DATA_DIR": str(base / f"usage-{name}")}, files))  # fmt: skip
            servers.append(baseline_server(base, baseline, upstream.base_url, files))
            drive = run_drive(
                "explain.mjs", base, [target(s) for s in servers], args.runs, 3600,
                DRIVE_STOP_AFTER=str(args.stop_after),
            )  # fmt: skip
            deadline = time.monotonic() + 5  # the last hang-up may still be on its way
            while time.monotonic() < deadline and any(
                r.hung_up_at is None and not r.completed for r in upstream.requests
            ):
                time.sleep(0.05)
            requests = upstream.requests
            marks = cancel_marks(servers[0].user)
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            if "drive" in locals():
                (base / "events.jsonl").write_text(drive.stdout)
            print(f"scratch dir: {base} (the drive's observations: events.jsonl)")
        else:
            shutil.rmtree(base, ignore_errors=True)
    events = drive_events("explain.mjs", drive)
    results: dict[str, dict[str, list[float]]] = {}
    for run in events:
        if run["event"] == "stop" and run["run"] > 0:  # run 0 is the warm-up
            for key, value in figures(run, requests, marks).items():
                results.setdefault(run["target"], {}).setdefault(key, []).append(value)
    load = os.getloadavg()
    print(
        f"VS Code Explain: Stop / close -> upstream hang-up, {args.runs} runs each, ms "
        f"(load {load[0]:.1f} {load[1]:.1f}, stopped after {args.stop_after} characters)"
    )
    for name, values in results.items():
        for key, series in sorted(values.items()):
            print(f"  {name:<10} {key:<40} {summary(series)}  (n={len(series)})")
    mini = results.get("baseline", {})
    for name in ("inkstream", "also"):
        ink = results.get(name, {})
        for key in sorted(k for k in mini if k in ink):
            diff = statistics.median(ink[key]) - statistics.median(mini[key])
            print(f"  {name} - baseline: {key:<40} {diff:+6.0f} ms (medians)")


if __name__ == "__main__":
    main()
