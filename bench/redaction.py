"""Secret redaction: false redactions on real code, and the cost per request (not a test).

Two sections:
  - ``scan``: runs the redaction over every text file under the given trees (default: the Python
    standard library, this environment's site-packages, and this repository) and prints how many
    files and values it redacted, per rule, with examples (file, line, the text around the value).
    Real code holds few real secrets, so nearly every redaction there is a false one; the
    examples say which are documentation samples of real shapes (``AKIAIOSFODNN7EXAMPLE``).
  - ``cost``: the redaction of a typical completion request (a real file's text before and after
    a cursor, plus three 20-line snippets of other files, as ``redact_context`` does it) and of an
    explanation, p50/p95 in microseconds.

    python bench/redaction.py [--sections scan,cost] [--examples 30] [PATH ...]
"""

from __future__ import annotations

import argparse
import collections
import random
import statistics
import sys
import sysconfig
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from inkstream.completion.context import CompletionContext, ExplainRequest, Snippet
from inkstream.completion.privacy import WINDOW_CHARS, find_secrets, redact_around_cursor
from inkstream.providers.openai_compat import (
    redact_context,
    redact_explain_request,
)

REPO = Path(__file__).resolve().parent.parent
SUFFIXES = {
    ".py", ".pyi", ".js", ".ts", ".json", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".md", ".rst",
    ".txt", ".sh", ".el", ".lua", ".c", ".h", ".html", ".lock", ".css",
}  # fmt: skip
SKIP_DIRS = {
    ".git", "site-packages", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".ruff_cache",
}  # fmt: skip
MAX_BYTES = 2_000_000


def default_roots() -> list[Path]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    site = Path(sysconfig.get_paths()["purelib"])
    return [stdlib, site, REPO]


def text_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if any(part in SKIP_DIRS for part in path.relative_to(root).parts):
            continue
        if path.suffix in SUFFIXES and path.is_file() and path.stat().st_size <= MAX_BYTES:
            found.append(path)
    return found


def scan(roots: list[Path], examples: int) -> None:
    for root in roots:
        files = text_files(root)
        chars = 0
        changed = 0
        per_rule: collections.Counter[str] = collections.Counter()
        samples: list[tuple[str, str]] = []
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            chars += len(text)
            findings = find_secrets(text)
            if not findings:
                continue
            changed += 1
            for f in findings:
                per_rule[f.rule] += 1
                line_no = text.count("\n", 0, f.start) + 1
                line_start = text.rfind("\n", 0, f.start) + 1
                line_end = text.find("\n", f.end)
                line = text[line_start : line_end if line_end >= 0 else len(text)].strip()
                where = f"{path.relative_to(root)}:{line_no}"
                samples.append((f.rule, f"  {where} [{f.rule}] {line[:140]}"))
        total = sum(per_rule.values())
        print(f"\n{root}: {len(files)} files, {chars / 1e6:.1f} M chars")
        print(f"  redacted: {total} values in {changed} files")
        for rule, n in per_rule.most_common():
            print(f"    {n:5d}  {rule}")
        # examples spread over the rules, a few files each
        shown: collections.Counter[str] = collections.Counter()
        per = max(2, examples // max(1, len(per_rule)))
        for rule, line in samples:
            if shown[rule] < per:
                shown[rule] += 1
                print(line)


def _percentiles(samples: list[float]) -> str:
    samples = sorted(samples)
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95)]
    return f"p50 {p50 * 1e6:6.0f} µs  p95 {p95 * 1e6:6.0f} µs"


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    """Wall time and this thread's CPU time: on a loaded machine the first counts the waits for
    a core, the second only the work."""
    wall, cpu = time.perf_counter(), time.thread_time()
    call()
    return time.perf_counter() - wall, time.thread_time() - cpu


def cost(runs: int) -> None:
    rng = random.Random(7)
    sources = [p for p in text_files(Path(sysconfig.get_paths()["stdlib"])) if p.suffix == ".py"]
    sources = [p for p in sources if 20_000 < p.stat().st_size < 200_000]
    timings: dict[str, list[float]] = collections.defaultdict(list)
    scanned: list[int] = []
    for _ in range(runs):
        path = rng.choice(sources)
        text = path.read_text(encoding="utf-8", errors="replace")
        cut = rng.randrange(len(text))
        snippets = []
        for other in rng.sample(sources, 3):
            lines = other.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
            start = rng.randrange(max(1, len(lines) - 20))
            snippets.append(Snippet(str(other), "".join(lines[start : start + 20])))
        ctx = CompletionContext(
            uri=path.as_uri(),
            path=str(path),
            language_id="python",
            prefix=text[:cut],
            suffix=text[cut:],
            snippets=tuple(snippets),
        )
        wall, cpu = _timed(partial(redact_context, ctx))
        timings["completion wall"].append(wall)
        timings["completion cpu"].append(cpu)
        # as the inline handler does for an automatic trigger: the text around the cursor is
        # redacted while the debounce waits, and the request finds it done
        redact_around_cursor(ctx.prefix, ctx.suffix)
        wall, cpu = _timed(partial(redact_context, ctx))
        timings["after debounce wall"].append(wall)
        timings["after debounce cpu"].append(cpu)
        sent = redact_context(ctx)
        scanned.append(len(sent.prefix) + len(sent.suffix) + sum(len(s.text) for s in snippets))
        lines = text.splitlines(keepends=True)
        start = rng.randrange(max(1, len(lines) - 30))
        req = ExplainRequest(
            ctx.uri, ctx.path, "python", "".join(lines[start : start + 30]), text, start
        )
        wall, cpu = _timed(partial(redact_explain_request, req))
        timings["explain wall"].append(wall)
        timings["explain cpu"].append(cpu)
    print(
        f"\ncompletion request: prefix + suffix within {WINDOW_CHARS} characters of the "
        f"cursor + 3 snippets (median {statistics.median(scanned) / 1000:.1f} k chars), {runs} runs"
    )
    print(f"  wall: {_percentiles(timings['completion wall'])}")
    print(f"  cpu:  {_percentiles(timings['completion cpu'])}")
    print("  the same request after the debounce redacted the text around the cursor:")
    print(f"  wall: {_percentiles(timings['after debounce wall'])}")
    print(f"  cpu:  {_percentiles(timings['after debounce cpu'])}")
    print("explanation: 30 lines and the file around them")
    print(f"  wall: {_percentiles(timings['explain wall'])}")
    print(f"  cpu:  {_percentiles(timings['explain cpu'])}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--sections", default="scan,cost")
    parser.add_argument("--examples", type=int, default=30)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    sections = args.sections.split(",")
    if "scan" in sections:
        scan(args.paths or default_roots(), args.examples)
    if "cost" in sections:
        cost(args.runs)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
