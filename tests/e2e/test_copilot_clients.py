"""Copilot's editor plugins, replayed message by message against the real server.

Each test speaks as one plugin does, from reading its code (docs/copilot-clients.md names the
versions): copilot.lua puts ``_: true`` in every request and uses the legacy ``getCompletions``
and ``getPanelCompletions``; copilot.el starts with ``--debug``, sends ``null`` settings and
runs an accepted item's command as a request (and a next edit's as a notification); copilot.vim
asks ``textDocument/inlineCompletion`` and ``textDocument/copilotPanelCompletion`` with integer
tokens. The server is started the way the plugins start a server, ``inkstream --stdio``, and
configured from the environment (a plugin has no place for inkstream's settings).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import cursor, make_client, request, server_env, wait_until
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

COPILOT_COMMAND = [sys.executable, "-m", "inkstream", "--stdio"]
DOC = "def add(a, b):\n    <CURSOR>\n\nprint(add(1, 2))\n"
URI = "file:///work/demo.py"

#: what Neovim 0.12's ``make_client_capabilities`` offers that matters here, as copilot.lua
#: changes it (``workspace`` replaced: no ``workspace/configuration``)
NEOVIM_CAPABILITIES = {
    "general": {"positionEncodings": ["utf-8", "utf-16", "utf-32"]},
    "textDocument": {"synchronization": {"didSave": True, "dynamicRegistration": False}},
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
    "workspace": {"workspaceFolders": True},
}

PLUGINS: dict[str, dict[str, Any]] = {
    "copilot.lua": {
        "initializationOptions": {
            "editorInfo": {"name": "Neovim", "version": "0.12.0-dev"},
            "editorPluginInfo": {"name": "copilot.lua", "version": "1.515.0"},
        },
        "capabilities": NEOVIM_CAPABILITIES,
    },
    "copilot.el": {
        "initializationOptions": {
            "editorInfo": {"name": "Emacs", "version": "28.2"},
            "editorPluginInfo": {"name": "copilot.el", "version": "0.9.0"},
        },
        "capabilities": {
            "workspace": {"workspaceFolders": True},
            "textDocument": {"inlineCompletion": {"dynamicRegistration": False}},
            "copilot": {"ipCodeCitation": False, "watchedFiles": False},
        },
    },
    "copilot.vim": {
        "initializationOptions": {
            "editorInfo": {"name": "Vim", "version": "9.0.1378"},
            "editorPluginInfo": {"name": "copilot.vim", "version": "1.59.0"},
        },
        "capabilities": {
            "workspace": {"workspaceFolders": True},
            "window": {"showDocument": {"support": True}},
        },
    },
}


def plain(value: Any) -> Any:
    """pygls gives a client unknown results as namedtuples: back to JSON's shapes."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def upstream_env(upstream: ScriptedUpstream, **extra: str) -> dict[str, str]:
    return server_env(
        INKSTREAM_BASE_URL=upstream.base_url,
        INKSTREAM_API_KEY="sk-test-secret-key-123",
        INKSTREAM_MODEL="test-model",
        INKSTREAM_API_STYLE="chat",
        **extra,
    )


class Plugin:
    """A client that speaks as ``name`` does, recording what the server sends it."""

    def __init__(self, name: str, client: LanguageClient) -> None:
        self.name = name
        self.client = client
        self.initialize_result: dict[str, Any] = {}
        self.notes: list[tuple[str, dict[str, Any]]] = []
        #: at each PanelSolution: which upstream requests had ended (the upstream's record)
        self.ended_at_solution: list[list[bool]] = []

    async def ask(self, method: str, params: Any, *, msg_id: int | None = None) -> Any:
        if self.name == "copilot.lua" and isinstance(params, dict):
            params = {**params, "_": True}
        return plain(await request(self.client, method, params, msg_id=msg_id))

    def tell(self, method: str, params: Any) -> None:
        self.client.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    def notes_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.notes if name == method]

    def open(self, text: str, uri: str = URI, version: int = 1) -> None:
        self.tell(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "python",
                    "version": version,
                    "text": text,
                }
            },
        )


@asynccontextmanager
async def plugin(
    name: str, upstream: ScriptedUpstream, *args: str, **env: str
) -> AsyncIterator[Plugin]:
    """Start the server as ``name`` starts it, and go through its start-up sequence."""
    client = make_client()
    speaker = Plugin(name, client)

    for method in ("PanelSolution", "PanelSolutionsDone", "didChangeStatus", "statusNotification"):

        def record(_client: LanguageClient, params: Any, method: str = method) -> None:
            if method == "PanelSolution":
                speaker.ended_at_solution.append([r.ended.is_set() for r in upstream.requests])
            speaker.notes.append((method, plain(params)))

        client.feature(method)(record)

    usage_dir = tempfile.TemporaryDirectory(prefix="inkstream-usage-")  # today's totals: ours
    env.setdefault("INKSTREAM_DATA_DIR", usage_dir.name)
    await client.start_io(*COPILOT_COMMAND, *args, env=upstream_env(upstream, **env))
    try:
        spec = PLUGINS[name]
        speaker.initialize_result = plain(
            await request(
                client,
                "initialize",
                {
                    "processId": None,
                    "capabilities": spec["capabilities"],
                    "initializationOptions": spec["initializationOptions"],
                    "workspaceFolders": [{"uri": "file:///work", "name": "/work"}],
                },
            )
        )
        speaker.tell("initialized", {})
        if name == "copilot.lua":  # on_init: its settings, then the trace level
            speaker.tell(
                "workspace/didChangeConfiguration",
                {
                    "settings": {
                        "github": {"copilot": {"selectedCompletionModel": ""}},
                        "enableAutoCompletions": True,
                        "disabledLanguages": [],
                    }
                },
            )
            speaker.tell("$/setTrace", {"value": "off"})
        elif name == "copilot.el":  # copilot-lsp-settings unset: null
            speaker.tell("workspace/didChangeConfiguration", {"settings": None})
        else:
            speaker.tell("workspace/didChangeConfiguration", {"settings": {"http": {}}})
        yield speaker
        await request(client, "shutdown", None)
    finally:
        speaker.tell("exit", None)
        await client.stop()
        usage_dir.cleanup()


def at(position: Any) -> dict[str, int]:
    return {"line": position.line, "character": position.character}


def legacy_params(uri: str, position: Any, version: int = 1, **extra: Any) -> dict[str, Any]:
    """copilot.lua's ``util.get_doc_params``."""
    pos = {"line": position.line, "character": position.character}
    doc = {
        "uri": uri,
        "version": version,
        "relativePath": "demo.py",
        "insertSpaces": True,
        "tabSize": 4,
        "indentSize": 4,
        "position": pos,
    }
    return {
        "doc": doc,
        "textDocument": {"uri": uri, "version": version, "relativePath": "demo.py"},
        "position": pos,
        **extra,
    }


# -- start-up ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PLUGINS))
async def test_start_up_as_each_plugin(name: str, upstream: ScriptedUpstream) -> None:
    async with plugin(name, upstream, "--debug") as speaker:
        result = speaker.initialize_result
        assert result["serverInfo"]["name"] == "inkstream" and result["serverInfo"]["version"]
        caps = result["capabilities"]
        assert caps["textDocumentSync"]["openClose"] is True
        assert caps["textDocumentSync"]["change"] == 2  # incremental
        assert "inlineCompletionProvider" in caps
        commands = caps["executeCommandProvider"]["commands"]
        assert "github.copilot.didAcceptCompletionItem" in commands
        assert "inkstream.didAccept" in commands
        assert caps["positionEncoding"] == "utf-16"  # even though Neovim prefers utf-8
        # the notifications of their start-up were taken quietly: the server still answers
        speaker.tell("textDocument/didFocus", {"textDocument": {"uri": URI}})
        speaker.tell("textDocument/didFocus", {})
        speaker.tell(
            "workspace/didChangeWorkspaceFolders",
            {"event": {"added": [{"uri": "file:///other", "name": "other"}], "removed": []}},
        )
        version = await speaker.ask("getVersion", {})
        assert version["version"] == result["serverInfo"]["version"]


async def test_inkstream_own_clients_keep_their_encoding(upstream: ScriptedUpstream) -> None:
    """Not a Copilot plugin (no editorPluginInfo): the client's preferred encoding, as before."""
    client = make_client()
    await client.start_io(*COPILOT_COMMAND, env=upstream_env(upstream))
    try:
        result = plain(
            await request(
                client,
                "initialize",
                {"processId": None, "capabilities": NEOVIM_CAPABILITIES},
            )
        )
        assert result["capabilities"]["positionEncoding"] == "utf-8"
        await request(client, "shutdown", None)
        client.protocol._send_data({"jsonrpc": "2.0", "method": "exit"})
    finally:
        await client.stop()


# -- signed in, always -------------------------------------------------------------------------


async def test_sign_in_answers_name_the_model(upstream: ScriptedUpstream) -> None:
    user = "inkstream (test-model @ 127.0.0.1)"
    async with plugin("copilot.lua", upstream) as lua:
        assert await lua.ask("checkStatus", {}) == {"status": "OK", "user": user}
        assert await lua.ask("checkStatus", {"options": {"localChecksOnly": True}}) == {
            "status": "OK",
            "user": user,
        }
        assert await lua.ask("signInInitiate", {}) == {"status": "AlreadySignedIn", "user": user}
        assert await lua.ask("signInConfirm", {"userCode": "X"}) == {"status": "OK", "user": user}
        signed_out = await lua.ask("signOut", {})
        assert signed_out["user"] == user and "no sign-in" in signed_out["message"]
        # signing out changes nothing: still signed in (the plugin keeps completing)
        assert (await lua.ask("checkStatus", {}))["status"] == "OK"
    async with plugin("copilot.el", upstream) as el:
        assert await el.ask("signIn", {}) == {"status": "AlreadySignedIn", "user": user}
        assert (await el.ask("checkStatus", {"dummy": "checkStatus"}))["user"] == user


async def test_offline_user_says_offline(upstream: ScriptedUpstream) -> None:
    async with plugin("copilot.vim", upstream, INKSTREAM_PROVIDER="offline") as vim:
        status = await vim.ask("checkStatus", {})
        assert status == {"status": "OK", "user": "inkstream (offline model)"}
        [model] = await vim.ask("copilot/models", {})
        assert model["id"] == "offline" and model["scopes"] == ["completion"]


async def test_errors_reach_the_status_line_once(upstream: ScriptedUpstream) -> None:
    upstream.script(*[Reply(status=401, error_message="bad key")] * 3, Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with plugin("copilot.el", upstream) as el:
        el.open(text)
        params = {
            "textDocument": {"uri": URI},
            "position": {"line": pos.line, "character": pos.character},
            "context": {"triggerKind": 1},
            "formattingOptions": {"tabSize": 4, "insertSpaces": True},
        }
        for _ in range(3):
            with pytest.raises(JsonRpcException, match="rejected the API key"):
                await el.ask("textDocument/inlineCompletion", params)
        await wait_until(lambda: el.notes_of("didChangeStatus"))
        [error] = el.notes_of("didChangeStatus")  # once, not once per request
        assert error["kind"] == "Error" and "rejected the API key" in error["message"]
        assert "sk-test" not in error["message"]
        assert "not signed into" not in error["message"]
        assert el.notes_of("statusNotification")[0]["message"] == error["message"]
        # the next success puts the status line back to normal
        result = await el.ask("textDocument/inlineCompletion", params)
        assert result["items"][0]["insertText"] == "    return a + b"
        await wait_until(lambda: len(el.notes_of("didChangeStatus")) == 2)
        assert el.notes_of("didChangeStatus")[1] == {
            "kind": "Normal",
            "status": "Normal",
            "busy": False,
            "message": "",
        }


# -- completions -------------------------------------------------------------------------------


async def test_copilot_lua_get_completions_show_accept(upstream: ScriptedUpstream) -> None:
    """copilot.lua: getCompletions, then notifyShown and notifyAccepted (requests)."""
    upstream.script(Reply.text("return a + b\n", chunk_size=3))
    text, pos = cursor("def add(a, b):\n    ret<CURSOR>\n")
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        result = await lua.ask("getCompletions", legacy_params(URI, pos, version=7))
        [completion] = result["completions"]
        assert completion["text"].startswith("    ret")  # from the line's start
        assert completion["displayText"] == completion["text"][len("    ret") :]
        assert completion["range"] == {
            "start": {"line": 1, "character": 0},
            "end": {"line": 1, "character": 7},
        }
        assert completion["position"] == {"line": 1, "character": 7}
        assert completion["docVersion"] == 7
        assert completion["uuid"]
        ident = completion["uuid"]
        assert await lua.ask("notifyShown", {"uuid": ident}) == "OK"
        accepted_length = len(completion["text"])  # copilot.lua: strutf16len(suggestion.text)
        assert (
            await lua.ask("notifyAccepted", {"uuid": ident, "acceptedLength": accepted_length})
            == "OK"
        )
        assert await lua.ask("notifyRejected", {"uuids": []}) == "OK"
        usage = await lua.ask("inkstream/usage", {"days": 1})
        assert usage["totals"]["accepted"] >= 1
        assert usage["totals"]["charsAccepted"] >= len(completion["displayText"])


async def test_copilot_el_inline_completion_and_accept_command(
    upstream: ScriptedUpstream,
) -> None:
    upstream.script(Reply.text("return a + b", chunk_size=3))
    text, pos = cursor("def add(a, b):\n    re<CURSOR>\n")
    async with plugin("copilot.el", upstream) as el:
        el.open(text)
        result = await el.ask(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": URI},
                "position": {"line": pos.line, "character": pos.character},
                "context": {"triggerKind": 2},
                "formattingOptions": {"tabSize": 4, "insertSpaces": True},
            },
        )
        [item] = result["items"]
        assert isinstance(item["insertText"], str)
        assert item["insertText"].startswith("    re")  # line[:range.start] + insertText
        assert item["range"]["start"] == {"line": 1, "character": 0}
        assert item["range"]["end"] == {"line": 1, "character": 6}
        command = item["command"]
        assert command["command"] == "github.copilot.didAcceptCompletionItem"
        el.tell("textDocument/didShowCompletion", {"item": {"command": command}})
        # copilot.el: the accepted item's command, as a request
        assert await el.ask("workspace/executeCommand", command) is None
        usage = await el.ask("inkstream/usage", {"days": 1})
        assert usage["totals"]["accepted"] == 1 and usage["totals"]["shown"] == 1


async def test_copilot_vim_inline_with_language_id_and_partial_accept(
    upstream: ScriptedUpstream,
) -> None:
    """copilot.vim on Vim: ``languageId`` in textDocument, full-text didChange, word accept."""
    upstream.script(Reply.text("return a + b", chunk_size=3))
    async with plugin("copilot.vim", upstream) as vim:
        vim.open("def add(a, b):\n    \n")
        text, pos = cursor("def add(a, b):\n    r<CURSOR>\n")
        vim.tell(
            "textDocument/didChange",
            {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": text}]},
        )
        result = await vim.ask(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": URI, "version": 2, "languageId": "python"},
                "position": {"line": pos.line, "character": pos.character},
                "formattingOptions": {"insertSpaces": True, "tabSize": 4},
                "context": {"triggerKind": 2},
            },
        )
        [item] = result["items"]
        assert item["insertText"] == "    return a + b"
        # "return " accepted word-wise: acceptedLength counts from the start of insertText
        vim.tell(
            "textDocument/didPartiallyAcceptCompletion",
            {"item": item, "acceptedLength": len("    return ")},
        )
        usage = await vim.ask("inkstream/usage", {"days": 1})
        assert usage["totals"]["charsAccepted"] == len("eturn ")


async def test_get_completions_cycling_adds_alternatives(upstream: ScriptedUpstream) -> None:
    upstream.script(
        Reply.text("return a + b"), Reply.text("return b + a"), Reply.text("return a + b")
    )
    text, pos = cursor(DOC)
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        result = await lua.ask("getCompletionsCycling", legacy_params(URI, pos))
        texts = sorted(c["displayText"] for c in result["completions"])
        assert texts == ["return a + b", "return b + a"]  # the repeat left out
        temperatures = sorted(r.body["temperature"] for r in upstream.requests)
        assert temperatures[0] < temperatures[-1]  # sampled, not asked three times alike


async def test_copilot_lua_cancel_reaches_the_upstream(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("x = 1\n    " * 200, chunk_size=4, delay=0.05))
    text, pos = cursor("def slow():\n    <CURSOR>\n")
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        asking = asyncio.ensure_future(
            lua.ask("getCompletions", legacy_params(URI, pos), msg_id=77)
        )
        await upstream.await_requests(1)
        lua.tell("$/cancelRequest", {"id": 77})
        req = await upstream.await_hangup(0)
        assert not req.completed
        with pytest.raises(JsonRpcException):
            await asyncio.wait_for(asking, 5)


async def test_newer_get_completions_supersedes(upstream: ScriptedUpstream) -> None:
    """copilot.lua sends a new getCompletions while the old one runs: the old stream stops,
    and the old request gets an empty answer rather than an error its logger would show."""
    upstream.script(Reply.text("x = 1\n    " * 200, chunk_size=4, delay=0.05), Reply.text("pass"))
    text, pos = cursor("def slow():\n    <CURSOR>\n")
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        first = asyncio.ensure_future(lua.ask("getCompletions", legacy_params(URI, pos)))
        await upstream.await_requests(1)
        lua.tell(
            "textDocument/didChange",
            {
                "textDocument": {"uri": URI, "version": 2},
                "contentChanges": [
                    {
                        "range": {"start": at(pos), "end": at(pos)},
                        "text": "y",
                    }
                ],
            },
        )
        after = type(pos)(line=pos.line, character=pos.character + 1)
        second = await lua.ask("getCompletions", legacy_params(URI, after, version=2))
        assert await asyncio.wait_for(first, 5) == {"completions": []}
        assert not (await upstream.await_hangup(0)).completed
        assert [c["displayText"] for c in second["completions"]] == ["pass"]


# -- the panel ---------------------------------------------------------------------------------

SLOW_SOLUTION = {"chunk_size": 2, "delay": 0.25}


async def test_panel_streams_solutions_as_they_complete(upstream: ScriptedUpstream) -> None:
    """copilot.lua's panel: {solutionCountTarget}, then a PanelSolution per solution, the
    first while the model is still writing the others, then PanelSolutionsDone."""
    upstream.script(
        Reply.text("return a + b"),
        Reply.text("total = a + b\n    return total", **SLOW_SOLUTION),
        Reply.text("return sum((a, b))", **SLOW_SOLUTION),
    )
    text, pos = cursor(DOC)
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        answer = await lua.ask("getPanelCompletions", legacy_params(URI, pos, panelId="1:panel"))
        assert answer == {"solutionCountTarget": 3}
        await wait_until(lambda: lua.notes_of("PanelSolutionsDone"), timeout=30)
        solutions = lua.notes_of("PanelSolution")
        assert len({s["completionText"] for s in solutions}) == 3
        assert {s["panelId"] for s in solutions} == {"1:panel"}
        assert all(isinstance(s["score"], float) and s["solutionId"] for s in solutions)
        assert solutions[0]["completionText"] == "return a + b"
        assert solutions[0]["displayText"] == "    return a + b"
        assert solutions[0]["range"] == {
            "start": {"line": 1, "character": 4},
            "end": {"line": 1, "character": 4},
        }
        # the first solution was out while the upstream still streamed the others
        first_seen = lua.ended_at_solution[0]
        assert len(first_seen) == 3 and not all(first_seen)
        assert lua.notes_of("PanelSolutionsDone") == [{"panelId": "1:panel", "status": "OK"}]
        # accepting a solution (copilot.lua: notifyAccepted with the solutionId)
        await lua.ask("notifyAccepted", {"uuid": solutions[1]["solutionId"]})
        usage = await lua.ask("inkstream/usage", {"days": 1})
        assert usage["totals"]["accepted"] == 1


async def test_panel_refresh_cancels_the_old_solutions(upstream: ScriptedUpstream) -> None:
    """copilot.lua's refresh: $/cancelRequest for the answered getPanelCompletions, then a
    new one. The old streams stop; only the new panel gets solutions."""
    slow = Reply.text("x = 1\n    " * 100, chunk_size=4, delay=0.05)
    upstream.script(slow, slow, slow)
    text, pos = cursor("def slow():\n    <CURSOR>\n")
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        await lua.ask("getPanelCompletions", legacy_params(URI, pos, panelId="1:p"), msg_id=90)
        await upstream.await_requests(3)
        lua.tell("$/cancelRequest", {"id": 90})
        for index in range(3):
            assert not (await upstream.await_hangup(index)).completed
        upstream.script(Reply.text("pass"), Reply.text("return None"), Reply.text("..."))
        await lua.ask("getPanelCompletions", legacy_params(URI, pos, panelId="2:p"))
        await wait_until(lambda: lua.notes_of("PanelSolutionsDone"), timeout=30)
        assert {s["panelId"] for s in lua.notes_of("PanelSolution")} == {"2:p"}
        assert [d["panelId"] for d in lua.notes_of("PanelSolutionsDone")] == ["2:p"]


async def test_copilot_el_panel_with_doc_only(upstream: ScriptedUpstream) -> None:
    """copilot.el sends ``doc`` alone (no textDocument/position) and formats the target %d."""
    upstream.script(Reply.text("return a + b"), Reply.text("return b + a"), Reply.text("pass"))
    text, pos = cursor(DOC)
    async with plugin("copilot.el", upstream) as el:
        el.open(text)
        doc = legacy_params(URI, pos)["doc"] | {"languageId": "python", "path": "/work/demo.py"}
        answer = await el.ask("getPanelCompletions", {"doc": doc, "panelId": "copilot-panel"})
        assert isinstance(answer["solutionCountTarget"], int)
        await wait_until(lambda: el.notes_of("PanelSolutionsDone"), timeout=30)
        texts = {s["completionText"] for s in el.notes_of("PanelSolution")}
        assert texts == {"return a + b", "return b + a", "pass"}


async def test_panel_error_says_so_in_done(upstream: ScriptedUpstream) -> None:
    upstream.script(*[Reply(status=401)] * 3)
    text, pos = cursor(DOC)
    async with plugin("copilot.lua", upstream) as lua:
        lua.open(text)
        await lua.ask("getPanelCompletions", legacy_params(URI, pos, panelId="p"))
        await wait_until(lambda: lua.notes_of("PanelSolutionsDone"), timeout=30)
        [done] = lua.notes_of("PanelSolutionsDone")
        assert done["status"] == "Error" and "rejected the API key" in done["message"]


async def test_copilot_vim_panel_partial_results(upstream: ScriptedUpstream) -> None:
    """copilot.vim 1.59: textDocument/copilotPanelCompletion with integer tokens; solutions
    come as partial results, the final answer is empty (it is appended to them)."""
    upstream.script(
        Reply.text("return a + b"),
        Reply.text("return b + a", **SLOW_SOLUTION),
        Reply.text("return sum((a, b))", **SLOW_SOLUTION),
    )
    text, pos = cursor(DOC)
    async with plugin("copilot.vim", upstream) as vim:
        vim.open(text)
        result = await vim.ask(
            "textDocument/copilotPanelCompletion",
            {
                "textDocument": {"uri": URI, "version": 1},
                "position": {"line": pos.line, "character": pos.character},
                "partialResultToken": 5,
                "workDoneToken": 6,
            },
        )
        assert result == {"items": []}
        partial = vim.client.partial_results[5]  # type: ignore[attr-defined]
        items = [item for value in partial for item in value["items"]]
        assert sorted(i["insertText"] for i in items) == [
            "    return a + b",
            "    return b + a",
            "    return sum((a, b))",
        ]
        assert all(
            i["command"]["command"] == "github.copilot.didAcceptCompletionItem" for i in items
        )
        assert items[0]["insertText"] == "    return a + b"  # the fast one came first


async def test_copilot_panel_cancel_reaches_the_upstream(upstream: ScriptedUpstream) -> None:
    slow = Reply.text("x = 1\n    " * 100, chunk_size=4, delay=0.05)
    upstream.script(slow, slow, slow)
    text, pos = cursor("def slow():\n    <CURSOR>\n")
    async with plugin("copilot.vim", upstream) as vim:
        vim.open(text)
        asking = asyncio.ensure_future(
            vim.ask(
                "textDocument/copilotPanelCompletion",
                {"textDocument": {"uri": URI}, "position": at(pos)},
                msg_id=55,
            )
        )
        await upstream.await_requests(3)
        vim.tell("$/cancelRequest", {"id": 55})
        for index in range(3):
            assert not (await upstream.await_hangup(index)).completed
        with pytest.raises(JsonRpcException):
            await asyncio.wait_for(asking, 5)


async def test_offline_panel_gives_what_it_honestly_can(upstream: ScriptedUpstream) -> None:
    text, pos = cursor("def add(a, b):\n    return a<CURSOR>\n")
    async with plugin("copilot.lua", upstream, INKSTREAM_PROVIDER="offline") as lua:
        lua.open(text)
        answer = await lua.ask("getPanelCompletions", legacy_params(URI, pos, panelId="p"))
        assert answer == {"solutionCountTarget": 1}  # the offline model is deterministic
        await wait_until(lambda: lua.notes_of("PanelSolutionsDone"), timeout=60)
        assert len(lua.notes_of("PanelSolution")) <= 1
        assert upstream.requests == []


# -- models, settings, malformed input ---------------------------------------------------------


async def test_models_list_and_choice(upstream: ScriptedUpstream) -> None:
    upstream.script(Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with plugin("copilot.el", upstream) as el:
        [model] = await el.ask("copilot/models", {})
        assert model == {
            "id": "test-model",
            "modelName": "test-model",
            "scopes": ["completion"],
            "default": True,
            "preview": False,
        }
        # a GitHub model left in the plugin's configuration is not sent upstream
        el.tell(
            "workspace/didChangeConfiguration",
            {"settings": {"github": {"copilot": {"selectedCompletionModel": "gpt-4o-copilot"}}}},
        )
        el.open(text)
        await el.ask("getCompletions", legacy_params(URI, pos))
        assert upstream.requests[-1].body["model"] == "test-model"


async def test_settings_pushed_under_inkstream_apply(upstream: ScriptedUpstream) -> None:
    """copilot.el's ``copilot-lsp-settings`` (and copilot.vim's ``g:copilot_lsp_settings``)
    reach the server in didChangeConfiguration: inkstream's settings go under ``inkstream``."""
    upstream.script(Reply.text("return a + b"))
    text, pos = cursor(DOC)
    async with plugin("copilot.el", upstream) as el:
        el.tell("workspace/didChangeConfiguration", {"settings": {"inkstream": {"model": "m2"}}})
        assert (await el.ask("checkStatus", {}))["user"] == "inkstream (m2 @ 127.0.0.1)"
        el.open(text)
        await el.ask("getCompletions", legacy_params(URI, pos))
        assert upstream.requests[-1].body["model"] == "m2"


async def test_malformed_copilot_requests_get_errors(upstream: ScriptedUpstream) -> None:
    async with plugin("copilot.lua", upstream) as lua:
        with pytest.raises(JsonRpcException, match="doc.uri"):
            await lua.ask("getCompletions", {"doc": {}})
        with pytest.raises(JsonRpcException, match="not open"):
            await lua.ask("getCompletions", legacy_params("file:///nope.py", cursor("<CURSOR>")[1]))
        with pytest.raises(JsonRpcException, match="uuid"):
            await lua.ask("notifyShown", {})
        # an accept command sent as a notification (copilot.el's next edits) is taken quietly
        lua.tell(
            "workspace/executeCommand",
            {"command": "github.copilot.didAcceptCompletionItem", "arguments": ["unknown"]},
        )
        assert (await lua.ask("checkStatus", {}))["status"] == "OK"
