"""The offline model on its own: learns a project, streams, stops, caches, explains."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from inkstream.context import CompletionContext, ExplainRequest
from inkstream.providers.offline import OfflineProvider, index
from inkstream.providers.offline.explainer import NOTICE
from inkstream.providers.offline.tokens import tokenize_code

IDIOM = "    response = make_response(request, status=200)\n    return response\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for i in range(4):
        body = "".join(f"def handler_{i}_{j}(request):\n{IDIOM}\n" for j in range(5))
        (root / f"views_{i}.py").write_text(body)
    (root / ".gitignore").write_text("secret_dir/\n")
    (root / "secret_dir").mkdir()
    (root / "secret_dir" / "hidden.py").write_text("never_learn_this = 1\n")
    (root / "blob.py").write_bytes(b"\0\1\2binary")
    return root


def provider(project: Path, tmp_path: Path, pace: float = 0.0) -> OfflineProvider:
    return OfflineProvider([project], cache_dir=tmp_path / "cache", include_stdlib=False, pace=pace)


def ctx(prefix: str, suffix: str = "") -> CompletionContext:
    return CompletionContext("file:///p/new.py", "/p/new.py", "python", prefix, suffix)


async def collect(p: OfflineProvider, c: CompletionContext, max_tokens: int = 64) -> list[str]:
    return [delta async for delta in p.complete(c, max_tokens)]


def test_python_tokens_round_trip() -> None:
    source = "def f(a, b):\n    x = a + b  # sum\n    return x\n"
    assert "".join(tokenize_code(source, "python")) == source
    assert "".join(tokenize_code("let x = f(1);\n", "javascript")) == "let x = f(1);\n"


def test_gitignore_binaries_and_vendored_dirs_are_skipped(project: Path) -> None:
    (project / "node_modules").mkdir()
    (project / "node_modules" / "lib.js").write_text("x = 1\n")
    names = {p.name for p in index.project_files(project)}
    assert names == {f"views_{i}.py" for i in range(4)}


async def test_learns_and_streams_the_projects_idiom(project: Path, tmp_path: Path) -> None:
    deltas = await collect(provider(project, tmp_path), ctx("def handler_new(request):\n    "))
    assert len(deltas) > 1
    assert "".join(deltas).startswith("response = make_response(request, status=200)")


async def test_completes_the_word_being_typed(project: Path, tmp_path: Path) -> None:
    deltas = await collect(
        provider(project, tmp_path), ctx("def f(request):\n    response = make_re")
    )
    assert "".join(deltas).startswith("sponse(request")


async def test_stops_at_the_end_of_the_line_when_text_follows(
    project: Path, tmp_path: Path
) -> None:
    text = "".join(await collect(provider(project, tmp_path), ctx("    response = ", "\nx = 1\n")))
    assert "\n" not in text and text.startswith("make_response")


async def test_stops_where_the_suffix_begins(project: Path, tmp_path: Path) -> None:
    prefix = "def handler_new(request):\n    "
    suffix = "\n    return response\n"
    text = "".join(await collect(provider(project, tmp_path), ctx(prefix, suffix)))
    assert "return response" not in text


async def test_cancelling_stops_mid_stream(project: Path, tmp_path: Path) -> None:
    p = provider(project, tmp_path, pace=0.05)
    await p.ready()
    seen: list[str] = []

    async def consume() -> None:
        async for delta in p.complete(ctx("def handler_new(request):\n    "), 64):
            seen.append(delta)

    task = asyncio.ensure_future(consume())
    while len(seen) < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    full = await collect(provider(project, tmp_path), ctx("def handler_new(request):\n    "))
    assert 2 <= len(seen) < len(full)


async def test_index_is_cached_and_invalidated(project: Path, tmp_path: Path) -> None:
    await provider(project, tmp_path).ready()
    caches = list((tmp_path / "cache").glob("project-*.pickle"))
    assert len(caches) == 1
    (project / "views_0.py").write_text("def other():\n    return special_value\n")
    await provider(project, tmp_path).ready()
    after = list((tmp_path / "cache").glob("project-*.pickle"))
    assert len(after) == 1 and after != caches


async def test_explains_python_structurally(project: Path, tmp_path: Path) -> None:
    code = (
        "def load(path, retries=3):\n"
        "    for attempt in range(retries):\n"
        "        if exists(path):\n"
        "            return read(path)\n"
        "    raise FileNotFoundError(path)\n"
    )
    req = ExplainRequest("u", "/p/a.py", "python", code, code, 0)
    deltas = [d async for d in provider(project, tmp_path).explain(req, 1000)]
    text = "".join(deltas)
    assert len(deltas) > 5
    for word in (
        "`load`",
        "`path`",
        "`retries`",
        "default `3`",
        "`exists()`",
        "`read()`",
        "FileNotFoundError",
        "loop",
        "branch",
        NOTICE,
    ):
        assert word in text


async def test_outlines_other_languages(project: Path, tmp_path: Path) -> None:
    code = (
        "// totals\nfunction sum(xs) {\n  let t = 0;\n"
        "  for (const x of xs) { t += x; }\n  return t;\n}\n"
    )
    req = ExplainRequest("u", "/p/a.js", "javascript", code, code, 0)
    text = "".join([d async for d in provider(project, tmp_path).explain(req, 1000)])
    assert "function `sum`" in text and "`for`" in text and "offline model" in text
