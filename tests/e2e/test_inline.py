"""Inline completions through the real server and the real openai client, both request styles."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request, wait_until
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

DOC = "def add(a, b):\n    <CURSOR>\n\nprint(add(1, 2))\n"


async def test_standard_method_returns_item_with_range_chat(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b", chunk_size=3))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=pos,
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Invoked
            ),
        )
    )
    assert isinstance(result, types.InlineCompletionList)
    [item] = result.items
    assert item.insert_text == "return a + b"
    assert item.range == types.Range(pos, pos)
    [req] = upstream.requests
    assert req.path == "/v1/chat/completions"
    assert req.body["stream"] is True
    assert "def add(a, b):" in req.prompt_text and "print(add(1, 2))" in req.prompt_text
    assert req.body["max_tokens"] > 0


@pytest.mark.settings(apiStyle="fim", fimTemplate="server")
async def test_fim_style_sends_prefix_and_suffix(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b", chunk_size=3))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    result = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert result.items[0].insertText == "return a + b"
    [req] = upstream.requests
    assert req.path == "/v1/completions"
    assert req.body["prompt"] == "def add(a, b):\n    "
    assert req.body["suffix"] == "\n\nprint(add(1, 2))\n"
    assert req.body["max_tokens"] > 0


async def test_streaming_snapshots_grow_and_final_matches(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    body = "total = 0\n    for x in (a, b):\n        total += x\n    return total"
    upstream.script(Reply.text(body, chunk_size=2, delay=0.02))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    client.progress_reports["wd-1"] = []
    result = await request(
        client,
        "inkstream/inlineCompletion",
        inline_params(uri, pos, partialResultToken="pr-1", workDoneToken="wd-1"),
    )
    snapshots = [v["items"][0]["insertText"] for v in client.partial_results["pr-1"]]
    assert len(snapshots) > 3
    for earlier, later in zip(snapshots, snapshots[1:], strict=False):
        assert later.startswith(earlier) and later != earlier
    assert result.items[0].insertText == body
    assert snapshots[-1] == body
    ranges = {str(v["items"][0]["range"]) for v in client.partial_results["pr-1"]}
    assert len(ranges) == 1
    kinds = [type(r).__name__ for r in client.progress_reports["wd-1"]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert "WorkDoneProgressReport" in kinds
    assert client.progress_reports["wd-1"][0].cancellable is True


async def test_single_line_stops_at_end_of_line_and_closes_upstream(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    doc = "values = compute(<CURSOR>)\nprint(values)\n"
    tail = "".join(f"\nline_{i} = {i}" for i in range(40))
    upstream.script(Reply.text("1, 2, 3" + tail, chunk_size=3, delay=0.02))
    text, pos = cursor(doc)
    uri = open_doc(client, text)
    result = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert result.items[0].insertText == "1, 2, 3"
    req = await upstream.await_hangup(0)
    assert not req.completed
    assert req.hung_up_at is not None


async def test_utf16_positions_with_emoji_and_accents(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text(' + "ü"', chunk_size=2))
    doc = 'greeting = "😋 café"<CURSOR>\nprint(greeting)\n'
    text, pos = cursor(doc)
    assert pos.character == len('greeting = "😋 café"') + 1  # the emoji is two UTF-16 units
    uri = open_doc(client, text)
    result = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    [item] = result.items
    assert item.insertText == ' + "ü"'
    assert item.range.start.character == pos.character
    [req] = upstream.requests
    assert 'greeting = "😋 café"' in req.prompt_text


async def test_disabled_language_asks_no_model(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"inkstream": {"enable": {"markdown": False}}})
    )
    text, pos = cursor("# Title\n<CURSOR>")
    uri = open_doc(client, text, uri="file:///work/notes.md", language="markdown")
    result = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert result.items == []
    assert upstream.requests == []


async def test_no_progress_after_the_answer(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b  # done", chunk_size=1, delay=0.005))
    text, pos = cursor(DOC)
    uri = open_doc(client, text)
    result = await request(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="pr-9")
    )
    count = len(client.partial_results["pr-9"])
    # another full request/response round trip: anything queued before it has arrived
    await request(client, "inkstream/status", {})
    assert len(client.partial_results["pr-9"]) == count
    assert client.partial_results["pr-9"][-1]["items"][0]["insertText"] == (
        result.items[0].insertText
    )
    await wait_until(lambda: upstream.requests and upstream.requests[0].completed)


async def test_typing_through_a_running_completion_reuses_its_stream(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    body = "total = sum(values)\n    return total"
    upstream.script(Reply.text(body, chunk_size=2, delay=0.05))
    text, pos = cursor("def f(values):\n    <CURSOR>\n")
    uri = open_doc(client, text)
    first = asyncio.ensure_future(
        request(
            client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="t1")
        )
    )
    await wait_until(lambda: len(client.partial_results.get("t1", [])) >= 3)
    # the user types "to", which the model already wrote
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text="to")
            ],
        )
    )
    moved = types.Position(pos.line, pos.character + 2)
    second = await request(
        client, "inkstream/inlineCompletion", inline_params(uri, moved, partialResultToken="t2")
    )
    assert second.items[0].insertText == body[2:]
    assert all(v["items"][0]["insertText"].startswith("tal") for v in client.partial_results["t2"])
    assert len(upstream.requests) == 1 and upstream.requests[0].completed
    with pytest.raises(JsonRpcException) as info:
        await first
    assert info.value.code == -32802


async def test_typing_through_a_finished_completion_asks_no_model(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("print(value)", chunk_size=3))
    text, pos = cursor("value = 3\n<CURSOR>\n")
    uri = open_doc(client, text)
    first = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert first.items[0].insertText == "print(value)"
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(range=types.Range(pos, pos), text="pri")
            ],
        )
    )
    moved = types.Position(pos.line, pos.character + 3)
    second = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, moved))
    assert second.items[0].insertText == "nt(value)"
    assert len(upstream.requests) == 1


async def test_an_empty_completion_says_why_and_the_next_one_clears_it(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    """An empty answer is not silence: the work-done end and ``inkstream/status`` say why."""
    text, pos = cursor("def double(x):\n    <CURSOR>\n")
    uri = open_doc(client, text)
    upstream.script(Reply.text(""), Reply.text("return x * 2"))
    client.progress_reports["wd-e"] = []
    client.progress_reports["wd-f"] = []
    params = inline_params(uri, pos, partialResultToken="pr-e", workDoneToken="wd-e")
    result = await request(client, "inkstream/inlineCompletion", params)
    assert result.items == []
    reason = "no completion: the model wrote nothing"
    assert client.progress_reports["wd-e"][-1].message == reason
    assert (await request(client, "inkstream/status", {})).emptyReason == reason
    uri = open_doc(client, text, uri="file:///work/other.py")
    params = inline_params(uri, pos, partialResultToken="pr-f", workDoneToken="wd-f")
    result = await request(client, "inkstream/inlineCompletion", params)
    assert result.items[0].insertText == "return x * 2"
    assert client.progress_reports["wd-f"][-1].message == "done"
    assert (await request(client, "inkstream/status", {})).emptyReason is None
