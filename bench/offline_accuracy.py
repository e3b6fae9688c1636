"""Offline model: accuracy on held-out code, index build time, memory and readiness.

First, functions written next to a look-alike sibling (``holes.SIBLING_CASES``: ``most_valuable``
next to ``cheapest``, ``Square.area`` after ``Circle``): is the answer right, the sibling's
formula copied, or none (``--only-siblings``: only these); the held-out holes below also count
answers that copy a formula only functions of other names in the file write ("sibling copies").

Then, as a user sees it, on a held-out project (pip's sources, see ``holes.py``): the model
learns the standard library and pip minus 20 held-out files (as the server does for a
workspace), then fills ``--holes`` lines removed from the held-out files: with the cursor at the
line's indentation (the whole line to write), and part-way through it (the rest of the line, as
at any keystroke). The server's clean-up is applied as ``relay.py`` does. It reports how many
holes get an answer, how many answers are exactly the removed line (both as shares of all
holes), how many answers fail the structural checks of ``structure.py`` ("misfits": a
redefinition, a name or attribute the scope lacks), and the CPU time per request
(``--no-structure``: the same without those checks). Then it replays typing ``--typed-lines`` of
those lines a character at a time, as an editor asks at every keystroke: how many of those
requests get an answer, and how many get exactly the rest of the line.

Then it trains on the standard-library sample the server uses minus ``--held-out`` files (default
20), and on the held-out files reports:

- top-1 next-token accuracy (the model's best guess after each token of real code);
- exact whole-line match: the decoder writes a line from its indentation (from line start), and
  from its first token; the completion's first line must equal the real one;

and the index build time cold (child process, as the server does it) and warm (from the cache),
peak RSS, and how soon a server is ready on a ~50k-line project (cold, warm, after an edit).
No server involved; not part of the test suite.

    python bench/offline_accuracy.py [--holes 300] [--typed-lines 100] [--project DIR]
        [--only-siblings] [--held-out 20] [--lines 300]
        [--project-lines 50000] [--only-holes] [--no-structure] [--cache DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from inkstream.completion.context import CompletionContext
from inkstream.completion.postprocess import clean_completion
from inkstream.providers.offline import index
from inkstream.providers.offline.decoder import (
    DOCUMENT_WEIGHT,
    Decoder,
    decode,
    document_around,
    document_model,
    misfit,
    structure_at,
)
from inkstream.providers.offline.ngram import Models, NgramModel, choose
from inkstream.providers.offline.provider import PROJECT_WEIGHT
from inkstream.providers.offline.tokens import NEWLINE, model_tokens, tokenize_code

sys.path.insert(0, str(Path(__file__).resolve().parent))
import holes as held_out_project  # noqa: E402

MAX_TOKENS = 256  # the server's default maxTokens


@dataclass
class HoleScores:
    holes: int = 0
    answered: int = 0  # a non-blank completion
    exact: int = 0  # its first line is the removed line
    decode_ms: list[float] = field(default_factory=list)  # per request (CPU time), models ready
    document_ms: list[float] = field(default_factory=list)  # the document's model
    structure_ms: list[float] = field(default_factory=list)  # its structure
    misfits: int = 0  # answers that redefine a name, or read a name or attribute the scope lacks
    copies: int = 0  # answers that copy a formula only functions of other names write


@dataclass
class Project:
    """The held-out project: the models a server has for it, its held-out and learned files."""

    models: Models
    held: list[Path]
    training: list[Path]
    language: str


def project_holes(
    count: int, project: Project, *, kind: held_out_project.Kind = "line", checks: bool = True
) -> HoleScores:
    """Answered rate, exact matches and time per request on the held-out project's holes."""
    models, language = project.models, project.language
    scores = HoleScores()
    for n, hole in enumerate(held_out_project.holes(count, files=project.held, kind=kind)):
        ctx = CompletionContext(
            f"file:///held/{n}/{hole.path.name}", str(hole.path), language, hole.prefix, hole.suffix
        )
        started = time.process_time()
        document = document_model(*document_around(ctx), language)
        parsed = time.process_time()
        structure = structure_at(ctx) if checks else None
        built = time.process_time()
        decoder = Decoder([*models, (document, DOCUMENT_WEIGHT)], ctx, structure)
        text = shown(decoder.tokens(MAX_TOKENS), ctx)
        scores.document_ms.append((parsed - started) * 1000)
        scores.structure_ms.append((built - parsed) * 1000)
        scores.decode_ms.append((time.process_time() - built) * 1000)
        scores.holes += 1
        scores.misfits += misfit(ctx, text, structure or structure_at(ctx)) is not None
        scores.answered += bool(text.strip())
        lines = text.split(NEWLINE)
        scores.copies += _sibling_copy(hole, lines, kind) is not None
        if kind == "next":  # a line break, then the line
            scores.exact += len(lines) > 1 and not lines[0] and lines[1].rstrip() == hole.expected
        else:
            scores.exact += (lines[0] if kind == "typed" else lines[0].strip()) == hole.expected
    return scores


def _sibling_copy(
    hole: held_out_project.Hole, lines: list[str], kind: held_out_project.Kind
) -> str | None:
    """The function of another name whose formula the answer's line copies (see
    ``holes.sibling_copy``), or None."""
    typed = hole.prefix[hole.prefix.rfind("\n") + 1 :].lstrip()
    row = hole.prefix.count("\n") + 1
    if kind == "next":
        if len(lines) < 2 or lines[0]:
            return None
        line, expected, row = lines[1], hole.expected, row + 1
    else:
        line, expected = typed + lines[0], typed + hole.expected
    return held_out_project.sibling_copy(_text(hole.path), row, line, expected)


_TEXTS: dict[Path, str] = {}


def _text(path: Path) -> str:
    if path not in _TEXTS:
        _TEXTS[path] = path.read_text(encoding="utf-8")
    return _TEXTS[path]


def sibling_cases(models: Models) -> list[tuple[held_out_project.SiblingCase, str, str]]:
    """Each sibling-copy case (see ``holes.SIBLING_CASES``): the answer and its verdict."""
    found = []
    for case in held_out_project.SIBLING_CASES:
        prefix, _, suffix = case.text.partition("<CURSOR>")
        ctx = CompletionContext(
            "file:///siblings/case.py", "/siblings/case.py", "python", prefix, suffix
        )
        document = document_model(*document_around(ctx), "python")
        decoder = Decoder([*models, (document, DOCUMENT_WEIGHT)], ctx, structure_at(ctx))
        text = shown(decoder.tokens(MAX_TOKENS), ctx)
        found.append((case, text, held_out_project.sibling_verdict(case, text)))
    return found


def print_sibling_cases(models: Models) -> None:
    results = sibling_cases(models)
    print(f"sibling copies: {len(results)} functions written next to a look-alike sibling")
    for case, text, verdict in results:
        print(f"  {verdict:5}  {case.name}: {text.split(NEWLINE)[0].strip()!r}")
    counts = {v: sum(verdict == v for *_, verdict in results) for v in ("right", "copy", "none")}
    wrong = sum(case.copy is not None for case, *_ in results)
    print(
        f"  copies {counts['copy']} of {wrong}, right {counts['right']} of {len(results)}, "
        f"no answer {counts['none']}"
    )


def held_out(root: Path | None, cache_dir: Path) -> Project:
    """pip (or the project at ``root``) with 20 files held out, and the models a server has."""
    held, training, language = held_out_project.project_split(root)
    stdlib_files = index.stdlib_files()
    assert not set(held) & set(training) and not set(held) & set(stdlib_files)
    stdlib = _cached(index.stdlib_part(1.0), cache_dir)
    project = _cached(
        index.Part("project", index.fixed(training), index.PROJECT_MIN_COUNT, 1.0), cache_dir
    )
    return Project([(project, PROJECT_WEIGHT), (stdlib, 1.0)], held, training, language)


def keystrokes(count: int, project: Project) -> HoleScores:
    """What an editor asks while the user types ``count`` held-out lines: a request at every
    character of each line (at its indentation, then after each character typed), each to
    be answered with the rest of the line. The document's model and structure are made once
    per line, as the server caches them while the user types on it."""
    models, language = project.models, project.language
    scores = HoleScores()
    for n, hole in enumerate(held_out_project.holes(count, files=project.held, kind="line")):
        line, document, structure = hole.expected, None, None
        for cut in range(len(line)):
            ctx = CompletionContext(
                f"file:///held/{n}/{hole.path.name}",
                str(hole.path),
                language,
                hole.prefix + line[:cut],
                hole.suffix,
            )
            document = document or document_model(*document_around(ctx), language)
            structure = structure or structure_at(ctx)
            started = time.process_time()
            decoder = Decoder([*models, (document, DOCUMENT_WEIGHT)], ctx, structure)
            text = shown(decoder.tokens(MAX_TOKENS), ctx)
            scores.decode_ms.append((time.process_time() - started) * 1000)
            first = text.split(NEWLINE)[0]
            scores.holes += 1
            scores.answered += bool(text.strip())
            scores.exact += (first.strip() if cut == 0 else first) == line[cut:]
            scores.misfits += misfit(ctx, text, structure) is not None
    return scores


def shown(deltas: Iterator[str], ctx: CompletionContext) -> str:
    """What the server shows of the model's deltas: cleaned as ``relay.py`` does, which stops
    reading when the clean-up says the completion is done."""
    raw = ""
    for delta in deltas:
        raw += delta
        if clean_completion(raw, ctx, style="fim").done:
            break
    return clean_completion(raw, ctx, style="fim", final=True).text


def _cached(part: index.Part, cache_dir: Path) -> NgramModel:
    cache = index.cache_file(part, cache_dir)
    model = index.load(cache) or index.Builder().build(part, cache)
    assert model is not None, "the indexer failed"
    return model


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered):5.1f} ms, p90 {p90:5.1f} ms"


_KINDS: dict[held_out_project.Kind, str] = {
    "line": "at a line's indentation (a line to write)",
    "typed": "typed part-way (the rest of the line to write)",
    "next": "at the end of the line before (a line break and the line to write)",
}


def print_project_holes(
    count: int, project: Project, name: str, checks: bool, typed_lines: int
) -> None:
    every = HoleScores()
    print(
        f"held-out project: {name} ({project.language}), {len(project.training)} files learned, "
        f"{len(project.held)} others hold the holes"
    )
    for kind, where in _KINDS.items():
        scores = project_holes(count, project, kind=kind, checks=checks)
        print(f"{scores.holes} holes {where}")
        print_scores(scores, checks)
        every.holes += scores.holes
        every.answered += scores.answered
        every.exact += scores.exact
        every.copies += scores.copies
    print(f"all {every.holes} holes: answered {every.answered / every.holes:.1%}, "
          f"exact {every.exact / every.holes:.1%}, sibling copies {every.copies}")  # fmt: skip
    if typed_lines and checks:
        scores = keystrokes(typed_lines, project)
        print(
            f"every keystroke while {typed_lines} of these lines are typed: {scores.holes} requests"
        )
        print(f"  answered (non-empty)           {scores.answered / scores.holes:6.1%} of requests")
        print(f"  exact rest of the line         {scores.exact / scores.holes:6.1%} of requests")
        print(f"  misfits (see structure.py)     {scores.misfits / scores.holes:6.1%} of requests")
        print(f"  per request: decode            {_ms(scores.decode_ms)}")


def print_scores(scores: HoleScores, checks: bool) -> None:
    print(f"  answered (non-empty)           {scores.answered / scores.holes:6.1%} of holes")
    print(f"  exact first line               {scores.exact / scores.holes:6.1%} of holes   "
          f"({scores.exact / max(1, scores.answered):.1%} of answers)")  # fmt: skip
    print(f"  misfits (see structure.py)     {scores.misfits / scores.holes:6.1%} of holes")
    print(f"  sibling copies (wrong)         {scores.copies / scores.holes:6.1%} of holes   "
          f"({scores.copies})")  # fmt: skip
    print(f"  per request: decode            {_ms(scores.decode_ms)}")
    print(f"  per line: document model       {_ms(scores.document_ms)} (cached while typing)")
    if checks:
        print(f"  per line: structure (ast)      {_ms(scores.structure_ms)} (cached while typing)")


def held_out_split(files: list[Path], count: int) -> tuple[list[Path], list[Path]]:
    """``count`` mid-sized files chosen by a hash of their name (stable), and the rest."""
    sized = [p for p in files if 3_000 < p.stat().st_size < 60_000]
    sized.sort(key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
    held = set(sized[:count])
    return sorted(held), [p for p in files if p not in held]


def next_token_accuracy(models: Models, files: list[Path]) -> tuple[int, int, int]:
    right = total = known = 0
    for path in files:
        tokens = model_tokens(tokenize_code(path.read_text(encoding="utf-8"), "python"), "python")
        for i in range(1, len(tokens)):
            guess = choose(models, tokens[max(0, i - 4) : i])
            total += 1
            known += guess is not None
            right += guess == tokens[i]
    return right, known, total


HOLE = 3  # lines cut out of the file at each case: the user is writing them


def line_cases(files: list[Path], count: int) -> list[tuple[str, list[str], str]]:
    """``(prefix, lines, suffix)``: ``HOLE`` lines cut out of a file, the first of them a
    one-line statement of real code (not a comment, docstring or decorator); spread evenly over
    the held-out files. The suffix is the file after the hole: what a completion must not
    repeat, as when code is written in the middle of a file."""
    cases = []
    per_file = max(1, count // len(files))
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        usable = []
        first_row, kinds = 0, []
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT):
                continue
            if tok.type == tokenize.NEWLINE:
                row = tok.start[0]
                if row == first_row and kinds[0] != tokenize.STRING and len(kinds) >= 2:
                    usable.append(row - 1)
                kinds = []
                continue
            if not kinds:
                first_row = tok.start[0]
            kinds.append(tok.type)
        usable = [i for i in usable if i > 5 and not lines[i].lstrip().startswith("@")]
        step = max(1, len(usable) // per_file)
        for i in usable[step // 2 :: step][:per_file]:
            prefix = "\n".join(lines[:i]) + "\n"
            suffix = "\n" + "\n".join(lines[i + HOLE :])
            cases.append((prefix, lines[i : i + HOLE], suffix))
    return cases[:count]


def written(models: Models, prefix: str, suffix: str, document: bool) -> list[str]:
    """The completion's lines."""
    ctx = CompletionContext("file:///held.py", "/held.py", "python", prefix, suffix)
    if document:  # what the server does: the document itself is a model too
        models = [*models, (document_model(*document_around(ctx), "python"), DOCUMENT_WEIGHT)]
    return "".join(decode(models, ctx, 64)).split(NEWLINE)


@dataclass
class LineScores:
    cases: int = 0
    from_start: int = 0  # the line written from its indentation is exactly right
    from_token: int = 0  # ... from its first token
    extra: int = 0  # further lines written after the first (from the indentation)
    extra_right: int = 0  # ... that are the lines that really follow (in the hole)


def line_match(
    models: Models, cases: list[tuple[str, list[str], str]], *, document: bool = True
) -> LineScores:
    scores = LineScores(cases=len(cases))
    for prefix, hole, suffix in cases:
        line, truth = hole[0], hole[1:]
        indent = line[: len(line) - len(line.lstrip())]
        lines = written(models, prefix + indent, suffix, document)
        scores.from_start += (indent + lines[0]).rstrip() == line.rstrip()
        scores.extra += len(lines) - 1
        pairs = zip(lines[1:], truth, strict=False)
        scores.extra_right += sum(a.rstrip() == b.rstrip() for a, b in pairs)
        head = tokenize_code(line.lstrip(), "python")[0]
        first = written(models, prefix + indent + head, suffix, document)[0]
        scores.from_token += (indent + head + first).rstrip() == line.rstrip()
    return scores


def build(files: list[Path], cache_dir: Path) -> tuple[NgramModel, float, float, float]:
    """Cold build in a detached process (as the server does), then a warm load from its cache."""
    part = index.Part("stdlib", index.fixed(files), index.STDLIB_MIN_COUNT, 1.0)
    cache = index.cache_file(part, cache_dir)
    started = time.monotonic()
    model = index.Builder().build(part, cache)
    cold = time.monotonic() - started
    assert model is not None, "the indexer failed"
    # the builder is detached (not our child): it logs its peak memory
    peaks = re.findall(
        r"peak memory of a process of this build: (\d+) MB", index.build_log(cache_dir).read_text()
    )
    child_rss = float(peaks[-1]) if peaks else float("nan")
    started = time.monotonic()
    warm_model = index.load(cache)
    warm = time.monotonic() - started
    assert warm_model is not None
    return warm_model, cold, warm, child_rss


# -- readiness on a project, in a fresh process (like a server starting) --------------------------


def make_project(root: Path, lines: int) -> int:
    """A ~``lines``-line Python project: standard-library packages copied as they are."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    total = 0
    packages = ["asyncio", "email", "http", "logging", "json", "urllib", "concurrent"]
    packages += ["importlib", "xml", "multiprocessing", "unittest", "ctypes", "collections"]
    for package in packages:
        for path in sorted((stdlib / package).rglob("*.py")):
            if "test" in path.relative_to(stdlib).parts[1:-1] or total >= lines:
                continue
            target = root / path.relative_to(stdlib)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            total += path.read_text(encoding="utf-8").count("\n")
    return total


async def _readiness(project: str, cache: str) -> dict[str, float]:
    from inkstream.providers.offline import OfflineProvider

    started = time.monotonic()
    provider = OfflineProvider([project], cache_dir=cache, pace=0.0)
    provider.start()
    await provider.ready()
    ready = time.monotonic() - started
    ctx = CompletionContext(
        "file:///x.py", "/x.py", "python", "import os\n\ndef f(path):\n    ", ""
    )
    text = "".join([d async for d in provider.complete(ctx, 32)])
    first = time.monotonic() - started
    while provider._indexing is not None and not provider._indexing.done():
        await asyncio.sleep(0.02)
    everything = time.monotonic() - started
    await provider.aclose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"ready": ready, "first": first, "all": everything, "rss": rss, "chars": len(text)}


def readiness(project: Path, cache: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--readiness", str(project), str(cache)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--holes", type=int, default=300, help="holes in the held-out project")
    parser.add_argument("--only-holes", action="store_true", help="only the held-out project")
    parser.add_argument("--only-siblings", action="store_true", help="only the sibling-copy cases")
    parser.add_argument("--project", type=Path, help="the held-out project (default: pip)")
    parser.add_argument(
        "--typed-lines", type=int, default=100, help="lines typed a keystroke at a time (0: none)"
    )
    parser.add_argument("--cache", type=Path, help="keep the models here between runs")
    parser.add_argument(
        "--no-structure", action="store_true", help="without the structural checks (as before)"
    )
    parser.add_argument("--held-out", type=int, default=20)
    parser.add_argument("--lines", type=int, default=300, help="whole-line cases")
    parser.add_argument("--project-lines", type=int, default=50_000)
    parser.add_argument("--stdlib-lines", type=int, default=index.STDLIB_LINES)
    parser.add_argument("--no-project", action="store_true", help="skip the readiness runs")
    parser.add_argument("--readiness", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.readiness:
        print(json.dumps(asyncio.run(_readiness(*args.readiness))))
        return

    work = Path(tempfile.mkdtemp(prefix="inkstream-bench-"))
    try:
        cache = args.cache or work / "cache"
        name = str(args.project) if args.project else "pip"
        project = held_out(args.project, cache)
        stdlib = project.models[-1:]  # a small file in a new folder: the library and the file
        print_sibling_cases(stdlib)
        if args.only_siblings:
            return
        print_project_holes(args.holes, project, name, not args.no_structure, args.typed_lines)
        if args.only_holes:
            return
        files = index.stdlib_files(args.stdlib_lines)
        held, training = held_out_split(files, args.held_out)
        model, cold, warm, child_rss = build(training, work / "cache")
        models = [(model, 1.0)]
        self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        started = time.monotonic()
        right, known, total = next_token_accuracy(models, held)
        per_token = (time.monotonic() - started) / total
        cases = line_cases(held, args.lines)
        lines = line_match(models, cases)
        alone = line_match(models, cases, document=False)

        print(f"training: {len(training)} stdlib files, {model.tokens_seen:,} tokens, "
              f"{len(model.words):,} distinct, {model.contexts:,} contexts")  # fmt: skip
        print(f"held out: {len(held)} stdlib files, {total:,} tokens, {len(cases)} lines")
        print(
            f"top-1 next-token accuracy        {right / total:6.1%}   "
            f"(a guess for {known / total:.0%} of tokens; {per_token * 1e6:.0f} µs each)"
        )
        print(
            f"whole line from its indentation  {lines.from_start / lines.cases:6.1%}   "
            f"(without the document model: {alone.from_start / lines.cases:.1%})"
        )
        print(
            f"whole line from its first token  {lines.from_token / lines.cases:6.1%}   "
            f"(without the document model: {alone.from_token / lines.cases:.1%})"
        )
        print(
            f"further lines of a block         {lines.extra_right / max(1, lines.extra):6.1%}"
            " right  "
            f"({lines.extra / lines.cases:.1f} per completion)"
        )
        print(f"index build, cold (child)        {cold:6.2f} s")
        print(f"index load, warm (cache)         {warm * 1000:6.0f} ms")
        print(f"peak RSS: indexer process        {child_rss:6.0f} MB")
        print(f"peak RSS: this process (model)   {self_rss:6.0f} MB")

        if args.no_project:
            return
        project = work / "project"
        lines = make_project(project, args.project_lines)
        cache = work / "server-cache"
        stdlib_cache = readiness(work / "empty", cache)  # a machine's first run: stdlib only
        cold_run = readiness(project, cache)
        warm_run = readiness(project, cache)
        edited = next(project.rglob("*.py"))
        edited.write_text(edited.read_text(encoding="utf-8") + "\nEDITED = True\n")
        stale_run = readiness(project, cache)
        print(f"project: {lines:,} lines; server start to ready / first completion / all built")
        for label, run in (
            ("first run ever, no project", stdlib_cache),
            ("project cold (stdlib cached)", cold_run),
            ("project warm (cached)", warm_run),
            ("after editing a file", stale_run),
        ):
            print(f"  {label:30} {run['ready']:5.2f} s / {run['first']:5.2f} s / "
                  f"{run['all']:5.2f} s   RSS {run['rss']:4.0f} MB")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
