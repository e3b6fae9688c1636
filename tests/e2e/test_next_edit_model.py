"""Next edits from a model: each format's answer streams in as hunks, every way of stopping hangs
up on the model, and an answer that is no edit gives none.

The scripted upstream answers in each format with outputs written here. "Before the upstream
finished" is read from the upstream's own record (it holds the stream open after a given chunk),
never from wall time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcRequestCancelled
from pytest_lsp import LanguageClient
from test_usage import recorded
from test_usage import server as usage_server

from conftest import open_doc, request, wait_until
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

URI = "file:///work/stats.py"
BEFORE = [
    "def mean(xs):",
    "    total = 0",
    "    for x in xs:",
    "        total += x",
    "        print(x)",
    '    print("done")',
    "    return total / len(xs)",
    "",
]
TYPED = "    count = 0"  # the user's edit: a new line after line 1 (no substitution to repeat)
NOW = [*BEFORE[:2], TYPED, *BEFORE[2:]]
CURSOR = {"line": 2, "character": len(TYPED)}
# what the model means: count each x, and divide by the count
REWRITE = [*NOW[:5], "        count += 1", *NOW[5:7], "    return total / count", ""]
INSERT_COUNT = {
    "range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}},
    "text": "        count += 1\n",
}
RETURN_COUNT = {
    "range": {"start": {"line": 7, "character": 19}, "end": {"line": 7, "character": 26}},
    "text": "count",
}


def _lines(region: list[str]) -> list[str]:
    return [line + "\n" for line in region]


# Each format's answer, one chunk a line. The regions differ: Zeta and Sweep rewrite the whole
# (short) file, Instinct lines 1-7 (1 above the cursor, 5 below), chat lines 0-7 (2 above, 5
# below); the rewrite of lines 1-7 is REWRITE[1:9] (it gained a line).
ANSWERS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "zeta": (
        {"model": "zed-industries/zeta"},
        ["```stats.py\n", "<|editable_region_start|>\n", *_lines(REWRITE),
         "<|editable_region_end|>\n", "```"],
    ),
    "instinct": (
        {"model": "nate/instinct"},
        [*_lines(REWRITE[1:8]), REWRITE[8]],
    ),
    "sweep": (
        {"model": "sweep-next-edit-1.5b"},
        [*_lines(REWRITE), "<|file_sep|>", "other.py\n"],
    ),
    "chat": (
        {"model": "qwen2.5-coder-7b-instruct"},
        ["Here is the region:\n", "```python\n", *_lines(REWRITE[:9]), "```\n",
         "I added a counter."],
    ),
}  # fmt: skip
ROUTES = {"zeta": "/v1/completions", "sweep": "/v1/completions"}
# each format's model, given at start-up as an editor would (initializationOptions)
FORMATS = [
    pytest.param(fmt, marks=pytest.mark.settings(nextEdit=settings), id=fmt)
    for fmt, (settings, _) in ANSWERS.items()
]
CHAT_MODEL = pytest.mark.settings(nextEdit=ANSWERS["chat"][0])


def _hold_after_first_hunk(chunks: list[str]) -> int:
    """The chunk after the line that makes the first hunk final (two lines agreeing again)."""
    return chunks.index('    print("done")\n') + 1


async def _edit_history(client: LanguageClient) -> None:
    """Open the file and type the new line, as an editor reports it."""
    open_doc(client, "\n".join(BEFORE), uri=URI)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=2, character=0),
                        end=types.Position(line=2, character=0),
                    ),
                    text=TYPED + "\n",
                )
            ],
        )
    )


def _params(token: str = "p", **extra: Any) -> dict[str, Any]:
    return {
        "textDocument": {"uri": URI, "version": 2},
        "position": CURSOR,
        "partialResultToken": token,
        **extra,
    }


def _strip(edits: list[Any]) -> list[dict[str, Any]]:
    """Range and text of each edit (ids differ run to run)."""
    return [{"range": e["range"], "text": e["text"]} for e in map(_plain, edits)]


def _plain(value: Any) -> Any:
    """pygls's result objects (named tuples) and lists of them as plain JSON."""
    if hasattr(value, "_asdict"):
        return {k: _plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _partials(client: LanguageClient, token: str) -> list[dict[str, Any]]:
    values = client.partial_results.get(token, [])  # type: ignore[attr-defined]
    return [edit for value in values for edit in _strip(_plain(value)["edits"])]


@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_format_streams_its_first_hunk_before_the_model_has_finished(
    client: LanguageClient, upstream: ScriptedUpstream, fmt: str
) -> None:
    settings, chunks = ANSWERS[fmt]
    hold = _hold_after_first_hunk(chunks)
    upstream.script(Reply(chunks=chunks, fault="hang", fault_after=hold))
    await _edit_history(client)
    task = asyncio.ensure_future(request(client, "inkstream/nextEdit", _params(), msg_id=7001))
    # the first request builds the HTTP client (importing openai: seconds on a loaded machine)
    await wait_until(lambda: bool(_partials(client, "p")), timeout=20)
    req = upstream.requests[0]
    # the upstream is holding the rest of its answer back: the hunk came from what it had sent
    assert not req.completed and req.chunks_sent == hold < len(chunks)
    assert _partials(client, "p") == [INSERT_COUNT]
    assert req.path == ROUTES.get(fmt, "/v1/chat/completions")
    assert req.body["model"] == settings["model"]
    assert TYPED in req.prompt_text
    client.cancel_request(types.CancelParams(id=7001))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 5)
    assert (await upstream.await_hangup(0)).hung_up_at is not None


@pytest.mark.parametrize("fmt", FORMATS)
async def test_each_format_answers_every_hunk_once(
    client: LanguageClient, upstream: ScriptedUpstream, fmt: str
) -> None:
    settings, chunks = ANSWERS[fmt]
    upstream.script(Reply(chunks=chunks))
    await _edit_history(client)
    result = await request(client, "inkstream/nextEdit", _params())
    edits = _strip(_plain(result)["edits"])
    assert edits == [INSERT_COUNT, RETURN_COUNT]
    assert _partials(client, "p") == edits  # each sent once, as it became final
    for edit in _plain(result)["edits"]:
        assert edit["textDocument"] == {"uri": URI, "version": 2}
        assert edit["command"]["command"] == "inkstream.didAccept"


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("I cannot help with that request.", id="prose, no region"),
        pytest.param("<|editable_region_start|>\n" + "\n".join(NOW) + "\n<|editable_region_end|>",
                     id="the region unchanged"),
        pytest.param("<|editable_region_start|>\n" + "\n".join([*BEFORE[:-1], ""])
                     + "\n<|editable_region_end|>", id="the user's edit undone"),
    ],
)  # fmt: skip
@pytest.mark.settings(nextEdit={"model": "zed-industries/zeta"})
async def test_an_answer_that_is_no_edit_gives_none_and_no_popup(
    client: LanguageClient, upstream: ScriptedUpstream, answer: str
) -> None:
    upstream.script(Reply.text(answer))
    await _edit_history(client)
    result = await request(client, "inkstream/nextEdit", _params())
    assert _plain(result) == {"edits": []}
    assert len(upstream.requests) == 1
    assert client.messages == []  # no window/showMessage


@pytest.mark.settings(budget={"dailyTokens": 0}, nextEdit=ANSWERS["chat"][0])
async def test_no_model_request_once_the_budget_is_reached(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=ANSWERS["chat"][1]))
    await _edit_history(client)
    result = await request(client, "inkstream/nextEdit", _params())
    assert _plain(result) == {"edits": []}
    await request(client, "inkstream/status", {})
    assert upstream.requests == []


async def test_no_model_is_asked_unless_one_is_chosen_for_next_edits(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    # the completion model's name ("test-model") shows no next-edit format, nextEdit.model unset
    await _edit_history(client)
    result = await request(client, "inkstream/nextEdit", _params())
    assert _plain(result) == {"edits": []}
    assert upstream.requests == []


# --- every way of stopping hangs up on the model ---------------------------------------------


async def _held(client: LanguageClient, upstream: ScriptedUpstream, **extra: Any) -> asyncio.Future:
    _, chunks = ANSWERS["chat"]
    upstream.script(Reply(chunks=chunks, fault="hang", fault_after=_hold_after_first_hunk(chunks)))
    await _edit_history(client)
    msg_id = extra.pop("msg_id", 7100)
    task = asyncio.ensure_future(
        request(client, "inkstream/nextEdit", _params(**extra), msg_id=msg_id)
    )
    # the first request builds the HTTP client (importing openai: seconds on a loaded machine)
    await wait_until(lambda: bool(_partials(client, "p")), timeout=20)
    assert not upstream.requests[0].completed
    return task


@CHAT_MODEL
async def test_work_done_cancel_hangs_up(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    client.progress_reports["wd"] = []
    task = await _held(client, upstream, workDoneToken="wd")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="wd"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(task, 5)
    assert (await upstream.await_hangup(0)).hung_up_at is not None


@CHAT_MODEL
async def test_a_newer_request_for_the_document_hangs_up_the_older(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    older = await _held(client, upstream)
    upstream.script(Reply(chunks=ANSWERS["chat"][1]))
    newer = asyncio.ensure_future(request(client, "inkstream/nextEdit", _params("q")))
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(older, 5)
    assert raised.value.code == -32802
    assert (await upstream.await_hangup(0)).hung_up_at is not None
    assert _strip(_plain(await asyncio.wait_for(newer, 5))["edits"]) == [
        INSERT_COUNT,
        RETURN_COUNT,
    ]


@CHAT_MODEL
async def test_an_edit_that_makes_the_version_stale_hangs_up(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    task = await _held(client, upstream)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=3),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(
                        start=types.Position(line=0, character=0),
                        end=types.Position(line=0, character=0),
                    ),
                    text="# stats\n",
                )
            ],
        )
    )
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(task, 5)
    assert raised.value.code == -32802
    assert (await upstream.await_hangup(0)).hung_up_at is not None


@CHAT_MODEL
async def test_shutdown_hangs_up(client: LanguageClient, upstream: ScriptedUpstream) -> None:
    task = await _held(client, upstream)
    await client.shutdown_session()
    with pytest.raises(JsonRpcException) as raised:
        await asyncio.wait_for(task, 5)
    assert raised.value.code in (-32800, -32802)
    assert (await upstream.await_hangup(0)).hung_up_at is not None


# --- usage: next-edit requests are recorded and count toward the budget ---------------------


async def test_a_model_next_edit_is_recorded_and_counts_toward_the_budget(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=ANSWERS["zeta"][1], prompt_tokens=30))
    settings = {"nextEdit": {"model": "zed-industries/zeta"}, "budget": {"dailyTokens": 31}}
    async with usage_server(tmp_path, upstream, **settings) as client:
        await _edit_history(client)
        result = await request(client, "inkstream/nextEdit", _params())
        assert len(_plain(result)["edits"]) == 2
        for _ in range(200):  # the record is written on the usage thread
            status = await request(client, "inkstream/status", {})
            if status.usage.requests:
                break
            await asyncio.sleep(0.05)
        assert status.usage.requests == 1 and status.budget.reached is True
        # spent: the next request asks no model (the offline predictor still answers)
        again = await request(client, "inkstream/nextEdit", _params("q"))
        assert _plain(again) == {"edits": []}
    assert len(upstream.requests) == 1
    [row] = recorded(tmp_path)
    assert (row["kind"], row["model"]) == ("nextEdit", "zed-industries/zeta")
    # the stream was closed at the region's end, before the endpoint's usage chunk: counted here
    assert row["prompt_tokens"] > 0 and row["generated_tokens"] > 0


@pytest.mark.settings(nextEdit={"model": "zed-industries/zeta"})
async def test_copilots_method_gets_the_models_edits(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply(chunks=ANSWERS["zeta"][1]))
    await _edit_history(client)
    params = {"textDocument": {"uri": URI, "version": 2}, "position": CURSOR}
    result = _plain(await request(client, "textDocument/copilotInlineEdit", params))
    assert _strip(result["edits"]) == [INSERT_COUNT, RETURN_COUNT]
    for edit in result["edits"]:
        assert edit["textDocument"] == {"uri": URI, "version": 2}
        assert edit["command"]["command"] == "github.copilot.didAcceptCompletionItem"
    assert upstream.requests[0].path == "/v1/completions"


async def test_a_next_edit_model_on_its_own_endpoint(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    with ScriptedUpstream() as other:
        other.script(Reply(chunks=ANSWERS["sweep"][1]))
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={
                    "inkstream": {
                        "nextEdit": {"model": "sweep-next-edit-1.5b", "baseUrl": other.base_url}
                    }
                }
            )
        )
        await _edit_history(client)
        for _ in range(100):  # the configuration change applies on its own time
            result = _plain(await request(client, "inkstream/nextEdit", _params()))
            if other.requests:
                break
            await asyncio.sleep(0.05)
        assert _strip(result["edits"]) == [INSERT_COUNT, RETURN_COUNT]
        [asked] = other.requests
        assert asked.path == "/v1/completions" and "<|file_sep|>updated/" in asked.prompt_text
        assert asked.headers["authorization"] == "Bearer sk-test-secret-key-123"
    assert upstream.requests == []  # the completion endpoint was not asked
