"""The offline provider as the relay uses it: learns a project, streams, cancels, caches."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import threading
from pathlib import Path

import pytest

from inkstream.completion.context import CompletionContext, ExplainRequest
from inkstream.providers import Provider
from inkstream.providers.offline import OfflineProvider, index
from inkstream.providers.offline import provider as provider_module
from inkstream.providers.offline.explainer import NOTICE

IDIOM = "    response = make_response(request, status=200)\n    return response\n"
AT_IDIOM = "def handler_new(request):\n    "


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for i in range(4):
        body = "".join(f"def handler_{i}_{j}(request):\n{IDIOM}\n\n" for j in range(5))
        (root / f"views_{i}.py").write_text(body)
    (root / ".gitignore").write_text("secret_dir/\n")
    (root / "secret_dir").mkdir()
    (root / "secret_dir" / "hidden.py").write_text("response = secret_value_never_seen\n" * 9)
    return root


def offline(
    project: Path, tmp_path: Path, *, pace: float = 0.0, isolated: bool = False
) -> OfflineProvider:
    return OfflineProvider(
        [project], cache_dir=tmp_path / "cache", include_stdlib=False, pace=pace, isolated=isolated
    )


def ctx(prefix: str, suffix: str = "") -> CompletionContext:
    return CompletionContext("file:///p/new.py", "/p/new.py", "python", prefix, suffix)


async def collect(p: OfflineProvider, c: CompletionContext, max_tokens: int = 64) -> list[str]:
    async with contextlib.aclosing(p.complete(c, max_tokens)) as stream:
        return [delta async for delta in stream]


def test_it_is_a_provider() -> None:
    p: Provider = OfflineProvider([], include_stdlib=False)
    assert p.name == "offline"


async def test_learns_the_projects_idiom_and_streams_it(project: Path, tmp_path: Path) -> None:
    deltas = await collect(offline(project, tmp_path), ctx(AT_IDIOM))
    assert len(deltas) > 1
    assert "".join(deltas) == "response = make_response(request, status=200)\n    return response"


async def test_gitignored_files_are_not_learned(project: Path, tmp_path: Path) -> None:
    text = "".join(await collect(offline(project, tmp_path), ctx("x = 1\nresponse = ")))
    assert "secret_value_never_seen" not in text


async def test_stops_where_the_code_after_the_cursor_begins(project: Path, tmp_path: Path) -> None:
    text = "".join(
        await collect(offline(project, tmp_path), ctx(AT_IDIOM, "\n    return response\n"))
    )
    assert text == "response = make_response(request, status=200)"


async def test_max_tokens_is_respected(project: Path, tmp_path: Path) -> None:
    assert len(await collect(offline(project, tmp_path), ctx(AT_IDIOM), max_tokens=3)) == 3


async def test_cancelling_the_consumer_stops_the_stream_mid_way(
    project: Path, tmp_path: Path
) -> None:
    p = offline(project, tmp_path, pace=0.05)
    await p.ready()
    full = await collect(offline(project, tmp_path), ctx(AT_IDIOM))
    seen: list[str] = []
    stream = p.complete(ctx(AT_IDIOM), 64)
    two = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(stream):
            async for delta in stream:
                seen.append(delta)
                if len(seen) == 2:
                    two.set()

    task = asyncio.create_task(consume())
    await two.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert 2 <= len(seen) < len(full)
    assert stream.ag_frame is None  # the generator was closed, not left suspended


async def test_the_index_is_cached_and_rebuilt_when_a_file_changes(
    project: Path, tmp_path: Path
) -> None:
    first = offline(project, tmp_path, isolated=True)  # the real child process
    await first.indexed()
    caches = list((tmp_path / "cache").glob("project-*.pickle"))
    assert len(caches) == 1

    again = offline(project, tmp_path)
    await again.ready()
    assert list((tmp_path / "cache").glob("project-*.pickle")) == caches  # loaded, not rebuilt

    (project / "views_0.py").write_text("def other():\n    return special_value\n")
    changed = offline(project, tmp_path)
    await changed.indexed()
    after = list((tmp_path / "cache").glob("project-*.pickle"))
    assert len(after) == 1 and after != caches
    assert any(" special_value" in model.ids for model, _ in changed.models)


async def test_a_stale_cache_answers_while_the_new_index_builds(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await offline(project, tmp_path).indexed()
    (project / "views_0.py").write_text("def other():\n    return special_value\n")
    release = threading.Event()
    real_build = index.build_and_save

    def slow_build(part: index.Part, cache: Path, *, workers: int = 1) -> object:
        release.wait(10)
        return real_build(part, cache, workers=workers)

    monkeypatch.setattr(index, "build_and_save", slow_build)
    p = offline(project, tmp_path)
    await p.ready()  # does not wait for the build
    text = "".join(await collect(p, ctx(AT_IDIOM)))
    assert text.startswith("response = make_response(")
    assert not any(" special_value" in model.ids for model, _ in p.models)
    release.set()
    await p.indexed()
    assert any(" special_value" in model.ids for model, _ in p.models)


async def test_waiting_for_the_index_is_bounded(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real_build = index.build_and_save

    def stuck(part: index.Part, cache: Path, *, workers: int = 1) -> object:
        release.wait(10)
        return real_build(part, cache, workers=workers)

    monkeypatch.setattr(index, "build_and_save", stuck)
    monkeypatch.setattr(provider_module, "READY_WAIT", 0.05)
    monkeypatch.setattr(provider_module, "FIRST_MODEL_WAIT", 0.05)
    p = offline(project, tmp_path)
    await p.ready()
    assert p.models == []
    assert await collect(p, ctx(AT_IDIOM)) == []  # nothing learned yet: nothing to say
    release.set()
    await p.indexed()
    assert "".join(await collect(p, ctx(AT_IDIOM))).startswith("response = make_response(")


async def test_aclose_stops_waiting_and_the_build_is_kept(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    monkeypatch.setenv("INKSTREAM_INDEX_TEST_GATE", str(gate))
    p = offline(project, tmp_path, isolated=True)
    p.start()
    log = index.build_log(tmp_path / "cache")
    while not (log.exists() and "waiting for the test gate" in log.read_text()):
        await asyncio.sleep(0.02)  # a detached process is building
    await p.aclose()
    await p.indexed()  # ends promptly: it stops waiting for the build
    assert p.models == []
    gate.touch()
    again = offline(project, tmp_path, isolated=True)
    await again.indexed()  # waits for that build and loads it: nothing was built twice
    assert again.models and log.read_text().count("built in") == 1


async def test_the_cache_directory_comes_from_the_environment(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INKSTREAM_CACHE_DIR", str(tmp_path / "env-cache"))
    p = OfflineProvider([project], include_stdlib=False, isolated=False)
    await p.indexed()
    assert list((tmp_path / "env-cache" / "offline").glob("project-*.pickle"))


async def test_the_open_document_is_learned_too(project: Path, tmp_path: Path) -> None:
    prefix = "def compute_checksum(data):\n    return 1\n\n\ndef f(data):\n    total = compute_"
    text = "".join(await collect(offline(project, tmp_path), ctx(prefix)))
    assert text.startswith("checksum(")


async def test_explains_python_structurally_in_small_deltas(project: Path, tmp_path: Path) -> None:
    code = (
        "def load(path: str, retries=3):\n"
        "    for attempt in range(retries):\n"
        "        if exists(path):\n"
        "            return read(path)\n"
        "    raise FileNotFoundError(path)\n"
    )
    req = ExplainRequest("u", "/p/a.py", "python", code, code, 0)
    p = offline(project, tmp_path)
    deltas = [d async for d in p.explain(req, 1000)]
    text = "".join(deltas)
    assert len(deltas) > 5
    for word in ("`load`", "`path` (`str`)", "default `3`", "`exists()`", "`read()`"):
        assert word in text
    for word in ("FileNotFoundError", "loop", "branch", NOTICE):
        assert word in text
    assert len([d async for d in p.explain(req, 4)]) == 4


async def test_explains_other_languages_with_an_outline(project: Path, tmp_path: Path) -> None:
    code = "// totals\nfunction sum(xs) {\n  let t = 0;\n  for (const x of xs) { t += x; }\n}\n"
    req = ExplainRequest("u", "/p/a.js", "javascript", code, code, 0)
    text = "".join([d async for d in offline(project, tmp_path).explain(req, 1000)])
    assert "function `sum`" in text and "`for`" in text and "offline model" in text


async def test_the_first_request_does_not_wait_for_the_standard_librarys_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await offline(project, tmp_path).indexed()  # the project's model is cached
    gate = tmp_path / "gate"
    monkeypatch.setenv("INKSTREAM_INDEX_TEST_GATE", str(gate))  # the stdlib build never ends
    monkeypatch.setattr(provider_module, "READY_WAIT", 600.0)
    p = OfflineProvider([project], cache_dir=tmp_path / "cache", pace=0.0)
    log = index.build_log(tmp_path / "cache")
    try:
        await asyncio.wait_for(p.ready(), 120)  # not READY_WAIT: the stdlib is not waited for
        assert [weight for _, weight in p.models] == [provider_module.PROJECT_WEIGHT]
        text = "".join(await collect(p, ctx(AT_IDIOM)))
        assert text.startswith("response = make_response(")
    finally:
        await p.aclose()
        while "waiting for the test gate" not in (log.read_text() if log.exists() else ""):
            await asyncio.sleep(0.02)
        builder = int(log.read_text().split(" pid ")[-1].split()[0])
        os.kill(builder, signal.SIGKILL)  # this test's builder, held at the gate


async def test_an_invoked_completion_the_project_cannot_answer_waits_for_the_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine's first run: the project's model is ready, the standard library's is being
    built. Typing gets what is there (nothing here) at once; an invoked completion (a key,
    ``inkstream complete``) waits for the build and then has every model."""
    await offline(project, tmp_path).indexed()  # the project's model is cached
    small = index.stdlib_part
    monkeypatch.setattr(index, "stdlib_part", lambda weight: small(weight, 3_000))
    gate = tmp_path / "gate"
    monkeypatch.setenv("INKSTREAM_INDEX_TEST_GATE", str(gate))  # the build waits for the test
    p = OfflineProvider([project], cache_dir=tmp_path / "cache", pace=0.0)
    log = index.build_log(tmp_path / "cache")
    unknown = "x = 1\n# in a comment, no model here writes anything "
    try:
        await p.ready()
        while "waiting for the test gate" not in (log.read_text() if log.exists() else ""):
            await asyncio.sleep(0.02)
        assert p.building() == "the offline model of the Python standard library"
        typed = ctx(unknown)
        await asyncio.wait_for(p.ready(typed), 60)  # typing does not wait for the build
        assert await collect(p, typed) == []
        asked = dataclasses.replace(typed, invoked=True)
        waiting = asyncio.ensure_future(p.ready(asked))
        await asyncio.sleep(0.3)
        assert not waiting.done()  # held: the build cannot end before the gate opens
        gate.touch()
        await asyncio.wait_for(waiting, 300)
        assert p.building() is None and len(p.models) == 2
    finally:
        gate.touch()
        await p.aclose()


async def test_an_invoked_completion_the_project_answers_does_not_wait(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await offline(project, tmp_path).indexed()
    gate = tmp_path / "gate"
    monkeypatch.setenv("INKSTREAM_INDEX_TEST_GATE", str(gate))  # the stdlib build never ends
    p = OfflineProvider([project], cache_dir=tmp_path / "cache", pace=0.0)
    log = index.build_log(tmp_path / "cache")
    try:
        asked = dataclasses.replace(ctx(AT_IDIOM), invoked=True)
        await asyncio.wait_for(p.ready(asked), 120)  # gate closed: no build can end meanwhile
        assert p.building() is not None
        text = "".join(await collect(p, asked))
        assert text.startswith("response = make_response(")
    finally:
        await p.aclose()
        while "waiting for the test gate" not in (log.read_text() if log.exists() else ""):
            await asyncio.sleep(0.02)
        builder = int(log.read_text().split(" pid ")[-1].split()[0])
        os.kill(builder, signal.SIGKILL)  # this test's builder, held at the gate
