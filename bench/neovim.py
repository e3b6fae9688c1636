"""Neovim plugin figures, in real Neovim (not part of the test run; nothing is asserted).

Prints medians and p90 over ``--runs`` for:
  - first ghost text after the trigger, minus the upstream's time to first token (what the plugin
    and the server add): after ``require('inkstream').trigger()`` (no debounce anywhere), and after
    typing (client debounce + the server's adaptive debounce for automatic triggers);
  - growth: visible ghost-text steps per second while the upstream streams, against the upstream's
    chunks per second, and the longest wait between two steps;
  - dismiss (``<C-]>``) -> the upstream sees the hang-up.

Same set-up as tests/neovim: pynvim drives ``nvim --embed --headless --clean`` with the plugin,
the real server over stdio, and the scripted upstream on 127.0.0.1. Neovim's ``vim.loop.hrtime``
and Python's ``time.monotonic`` are the same clock, so times compare across processes.

    python bench/neovim.py [--runs 10] [--nvim PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "neovim")]

from upstream import Reply, ScriptedUpstream  # noqa: E402

DOC = "def report(rows):\n    \n"
BODY = " row in rows:\n        total += row.amount\n        count += 1\n    return total / count"
SLOW = Reply.text("print('" + "abc " * 300 + "')", chunk_size=2, delay=0.03)


def stats(label: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> None:
    values = sorted(v * scale for v in values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    print(f"  {label:<58} median {statistics.median(values):7.1f} {unit}   p90 {p90:7.1f} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--nvim", help="the nvim binary (default: nvim on PATH)")
    args = parser.parse_args()
    if args.nvim:
        os.environ["INKSTREAM_NVIM"] = args.nvim
    from nvim_editor import Editor, Sample

    manual, typed, steps, upstream_rate, gaps, hangups = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp, ScriptedUpstream() as upstream:
        work = Path(tmp)
        path = f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
        editor = Editor(work / "home", env={"INKSTREAM_API_KEY": "sk-bench", "PATH": path})
        editor.setup({"baseUrl": upstream.base_url, "model": "bench", "apiStyle": "chat"})
        version = editor.lua(
            "local v = vim.version() return ('%d.%d.%d'):format(v.major, v.minor, v.patch)"
        )

        def done() -> bool:
            return bool(editor.lua("return next(require('inkstream.client').streams) == nil"))

        kinds = ["warm-up"] + ["manual", "typed", "dismiss"] * args.runs  # warm-up: not counted
        for i, kind in enumerate(kinds):
            editor.nvim.input("<Esc>")
            editor.open(work / f"run{i}.py", DOC)
            editor.nvim.input("2GA")
            editor.wait(lambda: editor.mode() == "i")
            n = len(upstream.requests)
            if kind == "dismiss":
                upstream.script(SLOW)
                editor.lua("require('inkstream').trigger()")
                editor.wait(lambda: editor.ghost())
                t0 = time.monotonic()
                editor.nvim.input("<C-]>")
                hangups.append(upstream.wait_for_hangup(n).hung_up_at - t0)  # type: ignore[operator]
                continue
            upstream.script(Reply.text(BODY, chunk_size=3, first_delay=0.3, delay=0.03))
            editor.sample(2)
            if kind in ("manual", "warm-up"):
                start = editor.lua(
                    "local t = vim.loop.hrtime() / 1e9 require('inkstream').trigger() return t"
                )
            else:
                start = time.monotonic()
                editor.nvim.input("for")
            req = upstream.wait_for_end(n, timeout=15)
            editor.wait(lambda: done() and editor.ghost())
            samples: list[Sample] = editor.samples()
            shown = [s for s in samples if s.text]
            if kind == "warm-up":
                continue
            ttft = req.chunk_times[0] - req.received_at
            (manual if kind == "manual" else typed).append(shown[0].t - start - ttft)
            changes = [s.t for a, s in zip(shown, shown[1:], strict=False) if s.text != a.text]
            streaming = req.chunk_times[-1] - req.chunk_times[0]
            steps.append((1 + len([t for t in changes if t <= req.chunk_times[-1]])) / streaming)
            upstream_rate.append(len(req.chunk_times) / streaming)
            times = [shown[0].t, *changes]
            gaps.append(max(b - a for a, b in zip(times, times[1:], strict=False)))
        editor.close()

    print(f"Neovim plugin, Neovim {version}, {args.runs} runs each (scripted upstream, 127.0.0.1)")
    stats("first ghost after trigger() - upstream time to first token", manual)
    stats("first ghost after typing - upstream time to first token", typed)
    stats("ghost-text steps per second while streaming", steps, "/s", 1.0)
    stats("upstream chunks per second (for comparison)", upstream_rate, "/s", 1.0)
    stats("longest wait between two visible steps", gaps)
    stats("<C-]> -> upstream hang-up", hangups)


if __name__ == "__main__":
    main()
