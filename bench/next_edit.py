"""Next edits on a repository's history: would inkstream have suggested what the author did next?

Mines ``--repo``'s commits (newest first, merges skipped): each file changed in two or more hunks
(``git diff -U0 --histogram``, at most 30 hunks, code files only) gives cases. Case k replays
hunks 1..k, top to bottom, as the editor's edits (the real server over stdio, one incremental
``didChange`` per hunk, exactly as an editor sends them), puts the cursor at the end of hunk k and
asks ``inkstream/nextEdit``; the remaining hunks are the truth. Files changed in one hunk give
the no-edit cases: after that one hunk, nothing should be suggested.

Prints, over the cases:

- fired: cases with at least one suggestion;
- location hit: a suggested edit overlaps a remaining hunk's lines (share of all cases, and of
  the cases that fired: the precision a user sees);
- exact hunk: a suggested edit, applied alone, gives exactly what a remaining hunk gives;
- similarity: for location hits, difflib's ratio between the suggested new lines and the hunk's;
- no-edit precision: on single-hunk changes, how often nothing is suggested;
- latency p50/p95 of the request (LSP round trip included);

and, in-process, the offline predictor's time on a 5,000-line file (target: under 20 ms).
Without ``--base-url`` next edits come from the offline predictor alone; with it, from the
model chosen for next edits too (see docs/next-edit.md). Nothing leaves 127.0.0.1.

    python bench/next_edit.py --repo DIR [--base-url URL --model M] [--commits 400]
        [--max-cases 600] [--per-file 5]
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkstream.nextedit.history import Edit
from inkstream.nextedit.propagate import propagate
from inkstream.terminal.client import TerminalClient

CODE_SUFFIXES = {
    ".py", ".js", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".c", ".h", ".cpp", ".hpp",
    ".cs", ".rb", ".php", ".kt", ".swift", ".scala", ".lua", ".el", ".sh",
}  # fmt: skip
LANGUAGES = {".py": "python", ".js": "javascript", ".ts": "typescript", ".go": "go",
             ".rs": "rust", ".java": "java", ".c": "c", ".h": "c", ".cpp": "cpp",
             ".rb": "ruby", ".lua": "lua", ".sh": "shellscript"}  # fmt: skip
MAX_HUNKS = 30
HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class Hunk:
    """Old lines ``[old_start, old_start + len(old))`` became ``new`` (0-based)."""

    old_start: int
    old: tuple[str, ...]
    new: tuple[str, ...]


@dataclass(frozen=True)
class FileChange:
    commit: str
    path: str
    before: str
    hunks: tuple[Hunk, ...]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, check=True, timeout=120
    )
    return done.stdout.decode("utf-8", "replace")


def parse_diff(diff: str) -> dict[str, list[Hunk]]:
    """``git diff -U0`` output → hunks per file (new path)."""
    files: dict[str, list[Hunk]] = {}
    path: str | None = None
    hunk: tuple[int, list[str], list[str]] | None = None

    def close() -> None:
        if path is not None and hunk is not None:
            files.setdefault(path, []).append(Hunk(hunk[0], tuple(hunk[1]), tuple(hunk[2])))

    for line in diff.split("\n"):
        if line.startswith("diff --git"):
            close()
            path, hunk = None, None
        elif line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else None
        elif (m := HUNK_HEADER.match(line)) and path is not None:
            close()
            count = 1 if m.group(2) is None else int(m.group(2))
            start = int(m.group(1)) - (1 if count else 0)  # -N,0 means "after line N"
            hunk = (start, [], [])
        elif hunk is not None and line.startswith("-"):
            hunk[1].append(line[1:])
        elif hunk is not None and line.startswith("+"):
            hunk[2].append(line[1:])
    close()
    return files


def mine(repo: Path, commits: int) -> list[FileChange]:
    hashes = git(repo, "log", "--no-merges", f"-{commits}", "--format=%H").split()
    out: list[FileChange] = []
    for commit in hashes:
        try:
            diff = git(repo, "diff", "-U0", "--histogram", "--no-color", f"{commit}^", commit)
        except subprocess.CalledProcessError:
            continue  # the first commit
        for path, hunks in parse_diff(diff).items():
            if Path(path).suffix not in CODE_SUFFIXES or len(hunks) > MAX_HUNKS:
                continue
            if all(_blank(h) for h in hunks):
                continue
            try:
                before = git(repo, "show", f"{commit}^:{path}")
            except subprocess.CalledProcessError:
                continue  # a new file
            out.append(FileChange(commit, path, before, tuple(hunks)))
    return out


def _blank(hunk: Hunk) -> bool:
    return not any(line.strip() for line in (*hunk.old, *hunk.new))


@dataclass
class Case:
    change: FileChange
    shown: int  # hunks replayed as the history (the rest are the truth)


@dataclass
class Outcome:
    fired: bool
    hit: bool
    exact: bool
    similarity: float | None
    latency_ms: float


def _shifted(change: FileChange, shown: int) -> tuple[list[str], list[Hunk]]:
    """The document after the first ``shown`` hunks, and the remaining hunks in its lines."""
    lines = change.before.split("\n")
    shift = 0
    for hunk in change.hunks[:shown]:
        at = hunk.old_start + shift
        lines[at : at + len(hunk.old)] = list(hunk.new)
        shift += len(hunk.new) - len(hunk.old)
    rest = [Hunk(h.old_start + shift, h.old, h.new) for h in change.hunks[shown:]]
    return lines, rest


def _apply(lines: list[str], first: int, last: int, new: list[str]) -> list[str]:
    return lines[:first] + new + lines[last:]


def _edit_lines(lines: list[str], edit: dict[str, Any]) -> tuple[int, int, list[str]]:
    """An LSP edit as (first line, line after the last, the new lines there)."""
    start, end = edit["range"]["start"], edit["range"]["end"]
    first, last = start["line"], end["line"]
    padded = lines + [""] * (last + 1 - len(lines))
    head = _prefix(padded[first], start["character"])
    tail = padded[last][len(_prefix(padded[last], end["character"])) :]
    return first, last + 1, (head + edit["text"] + tail).split("\n")


def _prefix(line: str, units: int) -> str:
    return line.encode("utf-16-le")[: units * 2].decode("utf-16-le", "ignore")


def score(
    lines: list[str], rest: list[Hunk], edits: list[dict[str, Any]]
) -> tuple[bool, bool, float | None]:
    hit = exact = False
    best: float | None = None
    for edit in edits:
        first, stop, new = _edit_lines(lines, edit)
        for hunk in rest:
            h_first, h_stop = hunk.old_start, hunk.old_start + max(1, len(hunk.old))
            if max(first, h_first) >= min(stop, h_stop) and not (first == stop == h_first):
                continue
            hit = True
            mine = [x.rstrip() for x in _apply(lines, first, stop, new)]
            truth = _apply(lines, hunk.old_start, hunk.old_start + len(hunk.old), list(hunk.new))
            exact = exact or mine == [x.rstrip() for x in truth]
            predicted, wanted = "\n".join(new), "\n".join(hunk.new)
            ratio = difflib.SequenceMatcher(None, predicted, wanted).ratio()
            best = ratio if best is None else max(best, ratio)
    return hit, exact, best


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, len(text[start:offset].encode("utf-16-le")) // 2


async def ask(client: TerminalClient, number: int, case: Case, show: bool = False) -> Outcome:
    change = case.change
    uri = f"file:///bench/{number}/{change.path}"
    language = LANGUAGES.get(Path(change.path).suffix, "plaintext")
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": language, "version": 1,
                          "text": change.before}},
    )  # fmt: skip
    text, version, shift = change.before, 1, 0
    cursor = (0, 0)
    for hunk in change.hunks[: case.shown]:
        lines = text.split("\n")
        at = hunk.old_start + shift
        start = sum(len(x) + 1 for x in lines[:at])
        if hunk.old:
            end = start + sum(len(x) + 1 for x in hunk.old)
            new = "".join(x + "\n" for x in hunk.new)
        else:
            end, new = start, "".join(x + "\n" for x in hunk.new)
        if end > len(text):  # the last line has no newline
            end, new = len(text), new.removesuffix("\n")
            if start > len(text):
                start, new = len(text), "\n" + new
        version += 1
        client.change(uri, version, _position(text, start), _position(text, end), new)
        text = text[:start] + new + text[end:]
        shift += len(hunk.new) - len(hunk.old)
        last = at + len(hunk.new) - 1 if hunk.new else at
        cursor = (last, len(text.split("\n")[last].encode("utf-16-le")) // 2)
    started = time.monotonic()
    edits = await client.next_edit(uri, version, cursor[0], cursor[1], lambda _edits: None)
    latency = (time.monotonic() - started) * 1000
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    lines, rest = _shifted(change, case.shown)
    assert lines == text.split("\n"), "replay and truth disagree"
    hit, exact, similarity = score(lines, rest, edits) if rest else (False, False, None)
    if edits and show:
        last = change.hunks[case.shown - 1]
        print(f"-- {change.commit[:8]} {change.path} ({'hit' if hit else 'miss'}) after "
              f"{list(last.old)} -> {list(last.new)}:")  # fmt: skip
        for edit in edits[:3]:
            first, stop, new = _edit_lines(lines, edit)
            print(f"   {lines[first:stop]} -> {new}")
    return Outcome(bool(edits), hit, exact, similarity, latency)


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "0/0"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run(args: argparse.Namespace, changes: list[FileChange]) -> None:
    multi = [c for c in changes if len(c.hunks) >= 2]
    single = [c for c in changes if len(c.hunks) == 1]
    cases = [Case(c, k) for c in multi for k in range(1, min(len(c.hunks), args.per_file + 1))]
    cases = cases[: args.max_cases]
    quiet = [Case(c, 1) for c in single][: args.max_cases]
    options: dict[str, Any] = {"provider": "offline"}
    if args.base_url:
        options = {"baseUrl": args.base_url, "model": args.model, "apiStyle": "auto"}
        if args.next_edit_model:
            options["nextEdit"] = {"model": args.next_edit_model}
    client = TerminalClient()
    await client.spawn()
    with tempfile.TemporaryDirectory() as root:
        await client.initialize(options, Path(root))
        try:
            outcomes = [await ask(client, i, case, args.examples) for i, case in enumerate(cases)]
            quiet_outcomes = [
                await ask(client, len(cases) + i, case) for i, case in enumerate(quiet)
            ]
        finally:
            await client.close()
    fired = sum(o.fired for o in outcomes)
    hits = sum(o.hit for o in outcomes)
    exact = sum(o.exact for o in outcomes)
    sims = [o.similarity for o in outcomes if o.similarity is not None]
    latencies = [o.latency_ms for o in outcomes + quiet_outcomes]
    silent = sum(not o.fired for o in quiet_outcomes)
    print(f"repo {args.repo}: {len(multi)} file changes with >= 2 hunks -> {len(cases)} cases; "
          f"{len(single)} single-hunk changes -> {len(quiet)} no-edit cases")  # fmt: skip
    print(f"  fired              {_pct(fired, len(cases))}")
    print(f"  location hit       {_pct(hits, len(cases))}; of fired {_pct(hits, fired)}")
    print(f"  exact hunk         {_pct(exact, len(cases))}; of fired {_pct(exact, fired)}")
    mean = f"{statistics.mean(sims):.2f}" if sims else "-"
    print(f"  similarity (hits)  {mean} mean over {len(sims)}")
    print(f"  no-edit precision  {_pct(silent, len(quiet))}")
    print(f"  latency            p50 {_percentile(latencies, 0.5):.1f} ms, "
          f"p95 {_percentile(latencies, 0.95):.1f} ms over {len(latencies)} requests")  # fmt: skip


def speed() -> None:
    """The predictor alone on a 5,000-line file made of this project's Python sources."""
    sources = sorted((Path(__file__).parent.parent / "server" / "inkstream").rglob("*.py"))
    lines: list[str] = []
    for path in sources:
        lines += path.read_text(encoding="utf-8").split("\n")
    lines = (lines * (1 + 5000 // max(1, len(lines))))[:5000]
    where = next(i for i, line in enumerate(lines) if re.search(r"\btext\b", line))
    old = lines[where]
    lines[where] = re.sub(r"\btext\b", "body_text", old, count=1)
    edit = Edit("file:///speed.py", where, (old,), (lines[where],), 0.0)
    times = []
    for _ in range(50):
        started = time.perf_counter()
        hunks = propagate(edit, lines, (where, 0), language="python")
        times.append((time.perf_counter() - started) * 1000)
    size = sum(len(line) + 1 for line in lines)
    print(f"predictor on 5,000 lines ({size} chars, rename text -> body_text, "
          f"{len(hunks)} hunks): p50 {_percentile(times, 0.5):.2f} ms, "
          f"p95 {_percentile(times, 0.95):.2f} ms, min {min(times):.2f} ms; "
          f"target 20 ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, required=True, help="a git repository (or .git)")
    parser.add_argument("--commits", type=int, default=400, help="newest commits mined")
    parser.add_argument("--max-cases", type=int, default=600)
    parser.add_argument("--per-file", type=int, default=5, help="cases per file change at most")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint on 127.0.0.1")
    parser.add_argument("--model", default="test-model")
    parser.add_argument("--next-edit-model", help="nextEdit.model")
    parser.add_argument("--examples", action="store_true", help="print every case that fired")
    args = parser.parse_args()
    if args.base_url and not re.match(r"https?://(127\.0\.0\.1|localhost|\[::1\])", args.base_url):
        sys.exit("--base-url must be on this machine (127.0.0.1)")
    os.environ.setdefault("INKSTREAM_DATA_DIR", tempfile.mkdtemp(prefix="inkstream-bench-"))
    started = time.monotonic()
    changes = mine(args.repo, args.commits)
    print(f"mined {len(changes)} file changes from {args.commits} commits "
          f"in {time.monotonic() - started:.1f} s")  # fmt: skip
    speed()
    asyncio.run(run(args, changes))


if __name__ == "__main__":
    main()
