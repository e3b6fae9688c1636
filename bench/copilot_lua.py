"""First ghost text in copilot.lua (real Neovim, unmodified plugin) after the keystroke that
triggers it, minus the upstream's time to first token.

copilot.lua asks ``getCompletions`` and draws the answer, so what it adds on top of the model is
its own debounce (75 ms by default, kept here as users have it), the server's work, and the
stream's length (it shows nothing before the completion is complete); the figures split those.
The upstream is the scripted one on 127.0.0.1 (``--ttft`` seconds before the first token).

    INKSTREAM_COPILOT_LUA=/path/to/copilot.lua INKSTREAM_NVIM=.venv/bin/nvim \\
        python bench/copilot_lua.py --runs 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "neovim")]

from copilot_lua import CopilotLua, usable  # noqa: E402

from conftest import server_env  # noqa: E402
from upstream import Reply, ScriptedUpstream  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--ttft", type=float, default=0.15, help="upstream's time to first token")
    args = parser.parse_args()
    if (why := usable()) is not None:
        print(f"cannot run: {why}")
        return 2
    with ScriptedUpstream() as upstream, tempfile.TemporaryDirectory() as scratch:
        upstream.default = Reply.text("return a + b", chunk_size=3, first_delay=args.ttft)
        env = server_env(
            INKSTREAM_BASE_URL=upstream.base_url,
            INKSTREAM_API_KEY="sk-bench",
            INKSTREAM_MODEL="test-model",
            INKSTREAM_API_STYLE="chat",
            INKSTREAM_LOG="WARNING",
            INKSTREAM_DATA_DIR=str(Path(scratch) / "usage"),
        )
        exported = {k: v for k, v in env.items() if k.startswith("INKSTREAM_")}
        editor = CopilotLua(Path(scratch), exported, "def add(a, b):\n    pass\n")
        rows = []
        try:
            editor.request("checkStatus", {})
            for run in range(args.runs + 1):  # the first run warms up (not counted)
                before = len(upstream.requests)
                editor.nvim.input("<Esc>Go")
                editor.wait_for(lambda: editor.ghost() == "", what="no ghost text")
                editor.nvim.exec_lua("copilot_test.sample(2)")
                pressed = time.monotonic()
                editor.nvim.input(f"v{run} = ")
                editor.wait_for(editor.ghost, what="the ghost text")
                samples = editor.nvim.exec_lua("return copilot_test.stop()")
                shown = next(s["t"] for s in samples if s["text"])
                req = upstream.requests[-1]
                if len(upstream.requests) == before or not req.chunk_times:
                    continue
                ttft = req.chunk_times[0] - req.received_at
                stream = req.chunk_times[-1] - req.received_at
                if run:
                    rows.append((shown - pressed, ttft, stream, req.received_at - pressed))
        finally:
            editor.close()
    print(f"copilot.lua + inkstream, {len(rows)} runs (scripted upstream, ttft {args.ttft} s)")
    for label, index in (
        ("keystroke -> first ghost text", 0),
        ("upstream time to first token", 1),
        ("upstream time to last token", 2),
        ("keystroke -> request at the upstream", 3),
    ):
        print(f"  {label:38s} median {statistics.median(r[index] for r in rows) * 1000:7.1f} ms")
    for label, values in (
        ("first ghost - upstream ttft", [r[0] - r[1] for r in rows]),
        ("first ghost - upstream last token", [r[0] - r[2] for r in rows]),
    ):
        print(f"  {label:38s} median {statistics.median(values) * 1000:7.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
