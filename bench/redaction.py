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
from pathlib import Path

from inkstream.completion.context import CompletionContext, Snippet
from inkstream.completion.privacy import find_secrets, redact
from inkstream.providers.openai_compat import redact_context

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
    return f"p50 {p50 * 1e6:7.0f} µs   p95 {p95 * 1e6:7.0f} µs"


def cost(runs: int) -> None:
    rng = random.Random(7)
    sources = [p for p in text_files(Path(sysconfig.get_paths()["stdlib"])) if p.suffix == ".py"]
    sources = [p for p in sources if 20_000 < p.stat().st_size < 200_000]
    timings: list[float] = []
    explain: list[float] = []
    prompt_chars: list[int] = []
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
        started = time.perf_counter()
        sent = redact_context(ctx)
        timings.append(time.perf_counter() - started)
        prompt_chars.append(
            len(sent.prefix) + len(sent.suffix) + sum(len(s.text) for s in sent.snippets)
        )
        lines = text.splitlines(keepends=True)
        start = rng.randrange(max(1, len(lines) - 30))
        code = "".join(lines[start : start + 30])
        started = time.perf_counter()
        redact(code)
        redact(text)
        explain.append(time.perf_counter() - started)
    print(
        f"\ncompletion request (prefix + suffix + 3 snippets, median "
        f"{statistics.median(prompt_chars) / 1000:.1f} k chars scanned): {_percentiles(timings)}"
    )
    print(f"explanation (30 lines + the whole file):  {_percentiles(explain)}")


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
