"""Usage end to end: what the model reported, what it cost, the daily cap, and acceptance.

Each test gets its own usage file and cache directory, so figures are exact; a restart is a new
server process on the same file.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import (
    CLIENT_CAPABILITIES,
    SERVER_COMMAND,
    cursor,
    inline_params,
    make_client,
    open_doc,
    request,
    server_env,
    wait_until,
)
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

DOC = "def add(a, b):\n    <CURSOR>\n\nprint(add(1, 2))\n"
PRICES = {"test-model": {"input": 3.0, "output": 15.0}}


def env_for(home: Path) -> dict[str, str]:
    return server_env(
        INKSTREAM_DATA_DIR=str(home / "data"),
        INKSTREAM_CACHE_DIR=str(home / "cache"),
        INKSTREAM_KEPT_DELAYS="0.2,0.4",
    )


@asynccontextmanager
async def server(
    home: Path, upstream: ScriptedUpstream, **settings: Any
) -> AsyncIterator[LanguageClient]:
    """A real server process with its own usage file under ``home``."""
    config = ClientServerConfig(
        server_command=SERVER_COMMAND, client_factory=make_client, server_env=env_for(home)
    )
    client = await config.start()
    options = {
        "baseUrl": upstream.base_url,
        "apiKey": "sk-test-secret-key-123",
        "model": "test-model",
        "apiStyle": "chat",
        **settings,
    }
    result = await client.initialize_session(
        types.InitializeParams(
            capabilities=CLIENT_CAPABILITIES, initialization_options=options, root_uri=None
        )
    )
    client.server_capabilities = result.capabilities  # type: ignore[attr-defined]
    try:
        yield client
    finally:
        await client.shutdown_session()
        await client.stop()


async def complete(client: LanguageClient, uri: str, pos: types.Position) -> Any:
    return await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))


def recorded(home: Path) -> list[dict[str, Any]]:
    """The request rows, read from the file as a user could with sqlite3."""
    db = sqlite3.connect(home / "data" / "usage.sqlite3")
    db.row_factory = sqlite3.Row
    rows = [dict(r) for r in db.execute("SELECT * FROM requests ORDER BY id")]
    db.close()
    return rows


async def test_reported_usage_is_recorded_with_its_cost(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b", chunk_size=3, prompt_tokens=1200))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream, pricing=PRICES) as client:
        uri = open_doc(client, text)
        result = await complete(client, uri, pos)
        assert result.items[0].insertText == "return a + b"
        status = await request(client, "inkstream/status", {})
    [req] = upstream.requests
    assert req.body["stream_options"] == {"include_usage": True}
    generated = req.chunks_sent  # the scripted upstream reports one token per chunk
    expected_cost = (1200 * 3.0 + generated * 15.0) / 1_000_000
    assert status.usage.requests == 1
    assert status.usage.tokens == 1200 + generated
    assert status.usage.cost == pytest.approx(expected_cost)
    assert status.budget is None
    [row] = recorded(tmp_path)
    assert row["usage_source"] == "reported"
    assert (row["prompt_tokens"], row["generated_tokens"]) == (1200, generated)
    assert row["kind"] == "completion" and row["route"] == "chat" and row["language"] == "python"
    assert row["endpoint"] == upstream.base_url and row["model"] == "test-model"
    assert row["outcome"] == "complete"
    assert row["ttft_ms"] is not None and row["duration_ms"] >= row["ttft_ms"]
    assert row["cost"] == pytest.approx(expected_cost)


async def test_stats_survive_a_restart_and_reach_the_terminal(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script(
        Reply.text("return a + b", chunk_size=3, prompt_tokens=500),
        Reply.text("A function that adds two numbers.", prompt_tokens=700),
    )
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream, pricing=PRICES) as client:
        uri = open_doc(client, text)
        await complete(client, uri, pos)
        rng = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
        await request(client, "inkstream/explain", {"textDocument": {"uri": uri}, "range": rng})
    generated = sum(r.chunks_sent for r in upstream.requests)
    async with server(tmp_path, upstream, pricing=PRICES) as client:
        usage = await request(client, "inkstream/usage", {"days": 7})
    assert usage.recording is True
    assert len(usage.days) == 7 and usage.days[-1].day == usage.to
    today = usage.days[-1]
    assert today.requests == 2
    assert today.promptTokens == 1200 and today.generatedTokens == generated
    assert today.cost == pytest.approx((1200 * 3.0 + generated * 15.0) / 1_000_000)
    assert [r["kind"] for r in recorded(tmp_path)] == ["completion", "explain"]

    done = subprocess.run(
        [sys.executable, "-m", "inkstream", "stats", "--days", "3", "--json"],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["totals"]["requests"] == 2
    assert figures["totals"]["promptTokens"] == 1200
    assert [d["day"] for d in figures["days"]][-1] == usage.to
    table = subprocess.run(
        [sys.executable, "-m", "inkstream", "stats"],
        capture_output=True,
        text=True,
        env=env_for(tmp_path),
        timeout=60,
    )
    assert table.returncode == 0, table.stderr
    assert usage.to in table.stdout and "█" in table.stdout


async def test_endpoint_refusing_stream_options_is_counted_from_the_stream(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.rejects_stream_options = True
    upstream.script(Reply.text("return a + b", chunk_size=3), Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream) as client:
        uri = open_doc(client, text)
        result = await complete(client, uri, pos)
        assert result.items[0].insertText == "return a + b"
    [req] = upstream.requests
    assert "stream_options" not in req.body
    [row] = recorded(tmp_path)
    assert row["usage_source"] == "counted"
    assert row["generated_tokens"] == req.chunks_sent
    assert row["prompt_tokens"] > 0  # estimated from the prompt's length
    assert row["cost"] == 0.0  # loopback, no price: free, not unknown

    upstream.rejects_stream_options = False  # remembered: not even tried after a restart
    async with server(tmp_path, upstream) as client:
        uri = open_doc(client, text)
        await complete(client, uri, pos)
    assert "stream_options" not in upstream.requests[-1].body


async def test_budget_in_tokens_stops_upstream_requests(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b", chunk_size=3, prompt_tokens=40))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream, budget={"dailyTokens": 41}) as client:
        uri = open_doc(client, text)
        first = await complete(client, uri, pos)
        assert first.items[0].insertText == "return a + b"
        status = await request(client, "inkstream/status", {})
        assert status.budget.reached is True and status.budget.tokensLeft == 0

        client.messages.clear()
        other, other_pos = cursor("def sub(a, b):\n    <CURSOR>\n")
        uri2 = open_doc(client, other, uri="file:///work/other.py")
        assert (await complete(client, uri2, other_pos)).items == []
        assert (await complete(client, uri2, other_pos)).items == []
        await wait_until(lambda: len(client.messages) > 0)
        rng = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}
        with pytest.raises(JsonRpcException) as raised:
            await request(
                client, "inkstream/explain", {"textDocument": {"uri": uri2}, "range": rng}
            )
    assert len(upstream.requests) == 1  # nothing went upstream once the budget was spent
    [message] = [m for m in client.messages if "budget" in m.message.lower()]
    assert "dailyTokens" in message.message and "Raise or remove" in message.message
    assert raised.value.data["kind"] == "budget"  # type: ignore[attr-defined]


async def test_budget_in_money_is_raised_by_a_setting(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b", prompt_tokens=10_000), Reply.text("return a - b"))
    text, pos = cursor(DOC)
    budget = {"dailyCost": 0.01}
    async with server(tmp_path, upstream, pricing=PRICES, budget=budget) as client:
        uri = open_doc(client, text)
        await complete(client, uri, pos)  # 10k tokens at 3 per million: 0.03
        assert (await complete(client, uri, types.Position(0, 0))).items == []
    assert len(upstream.requests) == 1
    # the same day, a higher limit lets completions through again
    async with server(tmp_path, upstream, pricing=PRICES, budget={"dailyCost": 1.0}) as client:
        uri = open_doc(client, text)
        status = await request(client, "inkstream/status", {})
        assert status.budget.reached is False and status.budget.costLeft < 1.0
        result = await complete(client, uri, pos)
        assert result.items[0].insertText == "return a - b"


async def test_superseded_request_is_recorded_as_stopped_early(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    slow = Reply.text("total = 0\n    for x in (a, b):\n        total += x\n", delay=0.05)
    upstream.script(slow, Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream, typeThrough=False) as client:
        uri = open_doc(client, text)
        first = asyncio.ensure_future(complete(client, uri, pos))
        await upstream.await_requests(1)
        await wait_until(lambda: upstream.requests[0].chunks_sent >= 2)
        second = await complete(client, uri, pos)
        with pytest.raises(JsonRpcException):
            await first
        assert second.items[0].insertText == "return a + b"
        await upstream.await_hangup(0)
        usage = await request(client, "inkstream/usage", {"days": 1})
    outcomes = sorted(r["outcome"] for r in recorded(tmp_path))
    assert outcomes == ["complete", "superseded"]
    superseded = next(r for r in recorded(tmp_path) if r["outcome"] == "superseded")
    assert superseded["usage_source"] == "counted" and superseded["shown_tokens"] == 0
    assert usage.totals.stoppedEarly == 1
    assert usage.totals.neverShownTokens >= superseded["generated_tokens"] >= 2


async def test_accept_show_and_partial_accept_feed_the_stats(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("return a + b"), Reply.text("return a * b"))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream) as client:
        caps = client.server_capabilities  # type: ignore[attr-defined]
        assert caps.execute_command_provider is not None
        assert "inkstream.didAccept" in caps.execute_command_provider.commands
        uri = open_doc(client, text)
        item = (await complete(client, uri, pos)).items[0]
        assert item.command.command == "inkstream.didAccept"
        [ident] = item.command.arguments
        wire_item = {"insertText": item.insertText, "command": item.command._asdict()}
        client.protocol.notify("textDocument/didShowCompletion", {"item": wire_item})
        # the editor inserts the text, then runs the item's command
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(pos, pos), text="return a + b"
                    )
                ],
            )
        )
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="inkstream.didAccept", arguments=[ident])
        )

        # a second suggestion: shown, then its first word accepted, then deleted
        uri2 = open_doc(client, text, uri="file:///work/second.py")
        item2 = (await complete(client, uri2, pos)).items[0]
        wire_item2 = {"insertText": item2.insertText, "command": item2.command._asdict()}
        client.protocol.notify("textDocument/didShowCompletion", {"item": wire_item2})
        client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion", {"item": wire_item2, "acceptedLength": 7}
        )

        def measured() -> bool:
            """Both suggestions have both kept rates (the file is written off the event loop)."""
            db = sqlite3.connect(tmp_path / "data" / "usage.sqlite3")
            try:
                query = "SELECT COUNT(*) FROM suggestions WHERE kept_2m IS NOT NULL"
                return bool(db.execute(query).fetchone()[0] == 2)
            except sqlite3.OperationalError:  # not created yet
                return False
            finally:
                db.close()

        await wait_until(measured)
        totals = (await request(client, "inkstream/usage", {"days": 1})).totals
        bad = await _expect_error(client, "inkstream.didAccept", [42])
    assert totals.shown == 2 and totals.accepted == 2
    assert totals.acceptRate == 1.0
    assert totals.charsAccepted == len("return a + b") + 7
    # the first is still in its document, the second was never inserted
    assert totals.keptRate30s == pytest.approx(0.5) and totals.keptRate2m == pytest.approx(0.5)
    assert totals.medianTimeToFirstGhostMs is not None
    assert bad == -32602


async def _expect_error(client: LanguageClient, command: str, arguments: list[Any]) -> int:
    try:
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=arguments)
        )
    except JsonRpcException as exc:
        return int(exc.code)  # type: ignore[attr-defined]
    return 0


async def test_reports_during_streaming_count_once_the_item_is_returned(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    body = "total = sum(values)\n    return total"
    upstream.script(Reply.text(body, chunk_size=2, delay=0.03))
    text, pos = cursor("def f(values):\n    <CURSOR>\n")
    async with server(tmp_path, upstream) as client:
        uri = open_doc(client, text)
        params = inline_params(uri, pos, partialResultToken="p1")
        final = asyncio.ensure_future(request(client, "inkstream/inlineCompletion", params))
        await wait_until(lambda: len(client.partial_results.get("p1", [])) >= 2)  # type: ignore[attr-defined]
        snapshot = client.partial_results["p1"][-1]["items"][0]  # type: ignore[attr-defined]
        # shown and partly accepted while the model is still writing
        client.protocol.notify("textDocument/didShowCompletion", {"item": snapshot})
        client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion", {"item": snapshot, "acceptedLength": 3}
        )
        result = await final
        assert result.items[0].command.arguments == snapshot["command"]["arguments"]
        totals = (await request(client, "inkstream/usage", {"days": 1})).totals
    assert (totals.shown, totals.accepted, totals.charsAccepted) == (1, 1, 3)


async def test_yesterdays_spending_does_not_count_against_today(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    """The budget is per local day: a day over the limit is forgotten at midnight."""
    import datetime as dt

    from inkstream.usage.store import UsageStore

    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    store = UsageStore(tmp_path / "data" / "usage.sqlite3")
    store.add_request(
        {
            "ts": 0.0, "day": yesterday, "endpoint": upstream.base_url, "model": "test-model",
            "route": "chat", "kind": "completion", "language": "python",
            "prompt_tokens": 5000, "generated_tokens": 500, "shown_tokens": 500,
            "usage_source": "reported", "outcome": "complete", "ttft_ms": 10.0,
            "duration_ms": 20.0, "cost": None,
        }
    )  # fmt: skip
    store.close()
    upstream.script(Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream, budget={"dailyTokens": 1000}) as client:
        status = await request(client, "inkstream/status", {})
        assert status.usage.tokens == 0 and status.budget.reached is False
        uri = open_doc(client, text)
        result = await complete(client, uri, pos)
        usage = await request(client, "inkstream/usage", {"days": 2})
    assert result.items[0].insertText == "return a + b"
    assert [d.requests for d in usage.days] == [1, 1]


def suggestion_rows(home: Path) -> dict[str, dict[str, Any]]:
    """The suggestion rows by id, read from the file as a user could with sqlite3."""
    path = home / "data" / "usage.sqlite3"
    if not path.exists():  # the server's first write has not happened yet
        return {}
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return {r["id"]: dict(r) for r in db.execute("SELECT * FROM suggestions")}
    except sqlite3.OperationalError:  # not created yet
        return {}
    finally:
        db.close()


def utf16(text: str) -> int:
    """The length an LSP client counts by default (and VS Code, and JavaScript)."""
    return len(text.encode("utf-16-le")) // 2


def change(client: LanguageClient, uri: str, version: int, rng: types.Range, text: str) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=rng, text=text)],
        )
    )


async def test_kept_rate_after_emoji_counts_what_the_user_kept(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    """Emoji before the cursor and in the suggestion, positions and acceptedLength in UTF-16
    units: the figures are the share of accepted characters the user left in place."""
    accepted = '"🚀 launch the rockets " + name'
    removed = "the rockets "
    upstream.script(Reply.text(accepted), Reply.text(accepted + ' + " now"'))
    text, pos = cursor('def greet(name):\n    banner = "🎉🎉🎉"; msg = <CURSOR>\n')
    start = pos.character + utf16(accepted[: accepted.index(removed)])
    cut = types.Range(
        types.Position(pos.line, start), types.Position(pos.line, start + utf16(removed))
    )
    async with server(tmp_path, upstream) as client:
        # accepted whole: the editor inserts the item, then runs its command
        uri = open_doc(client, text)
        whole = (await complete(client, uri, pos)).items[0]
        assert whole.insertText == accepted
        change(client, uri, 2, types.Range(pos, pos), accepted)
        # the user's edit is sent before the report, so the measurement cannot come first
        change(client, uri, 3, cut, "")
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="inkstream.didAccept", arguments=whole.command.arguments
            )
        )

        # accepted up to `name` (a word accept), the rest of the item left out, then the same edit
        uri2 = open_doc(client, text, uri="file:///work/second.py")
        part = (await complete(client, uri2, pos)).items[0]
        assert part.insertText.startswith(accepted) and part.insertText != accepted
        change(client, uri2, 2, types.Range(pos, pos), accepted)
        change(client, uri2, 3, cut, "")
        wire = {"insertText": part.insertText, "command": part.command._asdict()}
        client.protocol.notify(
            "textDocument/didPartiallyAcceptCompletion",
            {"item": wire, "acceptedLength": utf16(accepted)},  # UTF-16 units, as Copilot's
        )
        ids = [whole.command.arguments[0], part.command.arguments[0]]
        await wait_until(
            lambda: all(
                suggestion_rows(tmp_path).get(i, {}).get("kept_2m") is not None for i in ids
            )
        )
        totals = (await request(client, "inkstream/usage", {"days": 1})).totals
    kept = (len(accepted) - len(removed)) / len(accepted)  # characters, an emoji counts one
    rows = suggestion_rows(tmp_path)
    for ident in ids:
        assert rows[ident]["kept_30s"] == pytest.approx(kept, abs=1e-4)
        assert rows[ident]["kept_2m"] == pytest.approx(kept, abs=1e-4)
    assert rows[ids[1]]["accepted_chars"] == len(accepted)
    assert totals.charsAccepted == 2 * len(accepted)
    assert totals.keptRate30s == pytest.approx(kept, abs=1e-4)
    assert totals.keptRate2m == pytest.approx(kept, abs=1e-4)


async def test_accepting_every_word_is_accepting_the_suggestion(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    """A partial accept that covers the whole text (word by word to the end, or an editor
    that reports Tab's insertion as one edit before the item's command arrives) is an accept."""
    upstream.script(Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with server(tmp_path, upstream) as client:
        uri = open_doc(client, text)
        item = (await complete(client, uri, pos)).items[0]
        [ident] = item.command.arguments
        wire_item = {"insertText": item.insertText, "command": item.command._asdict()}
        client.protocol.notify("textDocument/didShowCompletion", {"item": wire_item})
        for length in (7, 9, len("return a + b")):
            client.protocol.notify(
                "textDocument/didPartiallyAcceptCompletion",
                {"item": wire_item, "acceptedLength": length},
            )
        await wait_until(lambda: suggestion_rows(tmp_path).get(ident, {}).get("accepted") == 1)
        row = suggestion_rows(tmp_path)[ident]
    assert (row["shown"], row["accepted"], row["accepted_chars"]) == (1, 1, len("return a + b"))
