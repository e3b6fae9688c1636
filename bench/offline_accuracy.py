"""Offline model accuracy on code it never saw (pip's sources), with build time and memory.

Reports top-1 next-token accuracy, exact whole-line match (the model writes a line from its
start), the index build time cold and warm (cache), and peak RSS. No server involved.

    python bench/offline_accuracy.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes import held_out_files, holes  # noqa: E402
from inkstream.providers.offline import index  # noqa: E402
from inkstream.providers.offline.ngram import choose  # noqa: E402
from inkstream.providers.offline.tokens import tokenize_code  # noqa: E402


def main() -> None:
    cache = Path(tempfile.mkdtemp())
    files = index.stdlib_files()
    t0 = time.monotonic()
    model = index.load_or_build(files, cache, "stdlib")
    cold = time.monotonic() - t0
    t0 = time.monotonic()
    model = index.load_or_build(files, cache, "stdlib")
    warm = time.monotonic() - t0
    models = [(model, 1.0)]

    right = total = 0
    for path in held_out_files(20):
        tokens = tokenize_code(path.read_text(encoding="utf-8"), "python")
        for i in range(3, len(tokens)):
            total += 1
            right += choose(models, tokens[max(0, i - 3) : i]) == tokens[i]

    exact = 0
    cases = holes(100)
    for hole in cases:
        context = tokenize_code(hole.prefix, "python")
        line = ""
        for _ in range(40):
            token = choose(models, context)
            if token is None or token == "\n":
                break
            context.append(token)
            line += token
        exact += line.strip() == hole.expected

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"training: {len(files)} stdlib files, {model.tokens_seen} tokens")
    print(f"held out: pip's sources ({total} tokens, {len(cases)} whole lines)")
    print(f"top-1 next-token accuracy   {right / total:6.1%}")
    print(f"exact whole-line match      {exact / len(cases):6.1%}")
    print(f"index build, cold           {cold:6.2f} s")
    print(f"index load, warm (cache)    {warm:6.3f} s")
    print(f"peak RSS                    {rss:6.0f} MB")


if __name__ == "__main__":
    main()
