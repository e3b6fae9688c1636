"""`inkstream complete` run after run on a cold cache: time per run, processes left behind.

Each run is the real command (client + server subprocess, offline model) on the bundled sample,
with a fresh ``INKSTREAM_CACHE_DIR``; every process carrying that directory in its environment is
the run's (server, index builder, pool workers). Prints, per run, the wall time (and the CPU time
of the command and its server, which a busy machine does not inflate) and the processes
still alive when the command returned; at the end, those alive once every build has had
``--settle`` seconds to finish. ``--back-to-back`` starts each run as soon as the previous one
returned (a build the first run started may still be under way); otherwise each run waits until
the previous run's processes have ended, as a user coming back later would.

    python bench/processes.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from cache_processes import processes_using  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "server/inkstream/terminal/samples/inventory.py"


def settle(cache: Path, timeout: float) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while (left := processes_using(cache)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds builds may take")
    parser.add_argument("--back-to-back", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inkstream-bench-"))
    cache = work / "cache"
    project = work / "project"
    project.mkdir()
    shutil.copy(SAMPLE, project / SAMPLE.name)
    from inkstream.terminal.commands import _demo_target

    demo = _demo_target(None)  # the demo's hole: the loop of ``most_valuable`` emptied
    (project / SAMPLE.name).write_text(demo.text)
    target = f"{project / SAMPLE.name}:{demo.line + 1}:{demo.character + 1}"
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env.update(
        INKSTREAM_CACHE_DIR=str(cache),
        INKSTREAM_DATA_DIR=str(cache / "usage"),
        INKSTREAM_PROVIDER="offline",
    )
    times, left_after = [], []
    try:
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                [sys.executable, "-m", "inkstream", "complete", target],
                capture_output=True,
                text=True,
                env=env,
                timeout=120,
            )
            elapsed = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu_s = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
            alive = len(processes_using(cache))
            times.append(elapsed)
            left_after.append(alive)
            answer = done.stdout.strip().splitlines()[0] if done.stdout.strip() else "(empty)"
            print(
                f"run {run}: {elapsed:5.2f} s (CPU {cpu_s:.2f} s: command + server)  exit "
                f"{done.returncode}  processes alive after it: "
                f"{alive}  answer: {answer[:50]!r}"
            )
            if not args.back_to_back:
                settle(cache, args.settle)
        left = settle(cache, args.settle)
        if len(times) > 1:
            warm = statistics.median(times[1:])
            print(
                f"cold {times[0]:.2f} s; warm median {warm:.2f} s, max {max(times[1:]):.2f} s "
                f"(cold/warm {times[0] / warm:.1f}x)"
            )
        print(f"processes alive {args.settle:.0f} s after the last run: {len(left)}")
        for proc in left:
            print(f"  left behind: pid {proc.pid} {' '.join(proc.cmdline())[:100]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
