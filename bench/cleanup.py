"""Cost of the clean-up, which runs on every token: time per snapshot, small and large documents.

Each corpus case's raw output is fed one character at a time (every snapshot the relay could see),
in its own document and again with 200 KB of code above and below the cursor, since the clean-up
reads the lines around the cursor. Prints the median and worst (over streams) time per snapshot.

    python bench/cleanup.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from corpus import load  # noqa: E402
from inkstream.completion.context import CompletionContext  # noqa: E402
from inkstream.completion.postprocess import clean_completion  # noqa: E402

REPEATS = 3  # the best of three per stream: the machine is shared
FILLER = "".join(f"def f{i}(x):\n    y = x + {i}\n    return y\n\n" for i in range(2_500))


def per_snapshot(padding: str) -> list[float]:
    """Seconds per snapshot, per case and style (the mean over the stream's snapshots)."""
    times = []
    for case in load():
        selected = case.selected["text"] if case.selected else ""
        prefix, suffix = padding + case.model_prefix, case.suffix + "\n" + padding
        ctx = CompletionContext("u", case.path, case.language, prefix, suffix, selected)
        for style in ("fim", "chat"):
            raw = case.raw[style]
            best = float("inf")
            for _ in range(REPEATS):
                start = time.perf_counter()
                for i in range(1, len(raw) + 1):
                    clean_completion(raw[:i], ctx, style=style)  # type: ignore[arg-type]
                best = min(best, (time.perf_counter() - start) / len(raw))
            times.append(best)
    return times


def main() -> None:
    for label, padding in (("corpus documents", ""), ("with 200 KB around", FILLER)):
        times = per_snapshot(padding)
        print(
            f"{label:20} {len(times)} streams: median {statistics.median(times) * 1e6:.0f} µs, "
            f"worst {max(times) * 1e6:.0f} µs per snapshot"
        )


if __name__ == "__main__":
    main()
