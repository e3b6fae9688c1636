"""Next edits end to end, with no model: the editor types, the server offers the rest.

The server keeps the edit history from the editor's own didChange notifications (key by key,
incremental), exactly as an editor sends them; the tests then ask as inkstream's editors and as
Copilot's next-edit clients do, and apply the edits as a client would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient

from conftest import (
    CLIENT_CAPABILITIES,
    SERVER_COMMAND,
    make_client,
    open_doc,
    request,
    server_env,
    upstream_options,
)
from upstream import ScriptedUpstream

pytestmark = pytest.mark.e2e

RENAME_DOC = """\
def report(items):
    total = 0
    for item in items:
        total += item.price  # the total so far
    print("total:", total)
    return total
"""


class Editor:
    """One open document, edited as an editor edits it: one incremental change per key."""

    def __init__(self, client: LanguageClient, text: str, uri: str = "file:///work/demo.py"):
        self.client = client
        self.uri = uri
        self.text = text
        self.version = 1
        open_doc(client, text, uri=uri)

    def lines(self) -> list[str]:
        return self.text.split("\n")

    def replace(self, start: tuple[int, int], end: tuple[int, int], new: str) -> None:
        """Replace a range given in (line, UTF-16 unit) positions, as one didChange."""
        lines = self.lines()
        offsets = [
            sum(len(line) + 1 for line in lines[:line]) + _chars(lines[line], units)
            for line, units in (start, end)
        ]
        self.text = self.text[: offsets[0]] + new + self.text[offsets[1] :]
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(
                            types.Position(*start),
                            types.Position(*end),
                        ),
                        text=new,
                    )
                ],
            )
        )

    def type(self, line: int, units: int, text: str) -> None:
        for i, char in enumerate(text):
            self.replace((line, units + i), (line, units + i), char)

    def apply(self, edit: Any) -> None:
        r = edit.range
        self.replace((r.start.line, r.start.character), (r.end.line, r.end.character), edit.text)

    def params(self, line: int, character: int, **extra: Any) -> dict[str, Any]:
        return {
            "textDocument": {"uri": self.uri, "version": self.version},
            "position": {"line": line, "character": character},
            **extra,
        }


def _chars(line: str, units: int) -> int:
    """A UTF-16 column as a str index."""
    count = 0
    for i, char in enumerate(line):
        if count >= units:
            return i
        count += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def changed(edit: Any, editor: Editor) -> tuple[int, str, str]:
    """(line, the text the edit replaces, its new text)."""
    r = edit.range
    assert r.start.line == r.end.line
    line = editor.lines()[r.start.line]
    a, b = _chars(line, r.start.character), _chars(line, r.end.character)
    return r.start.line, line[a:b], edit.text


async def test_a_rename_brings_the_rest_of_it_streamed_one_edit_at_a_time(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    editor = Editor(client, RENAME_DOC)
    editor.type(1, 4, "sub")  # total -> subtotal, key by key
    result = await request(
        client, "inkstream/nextEdit", editor.params(1, 7, partialResultToken="ne")
    )
    assert [changed(e, editor) for e in result.edits] == [
        (3, "total", "subtotal"),
        (4, "total", "subtotal"),
        (5, "total", "subtotal"),
    ]
    for edit in result.edits:
        assert edit.textDocument.uri == editor.uri
        assert edit.textDocument.version == editor.version
        assert edit.command.command == "inkstream.didAccept"
    ids = [e.command.arguments[0] for e in result.edits]
    assert len(set(ids)) == 3
    # each edit came once, as a delta of its own, before the answer; the answer holds them all
    partials = client.partial_results["ne"]  # type: ignore[attr-defined]
    assert [len(p["edits"]) for p in partials] == [1, 1, 1]
    assert [p["edits"][0]["command"]["arguments"][0] for p in partials] == ids
    # nobody chose a model for next edits: nothing went upstream
    assert upstream.requests == []

    for edit in reversed(result.edits):  # the user accepts them all
        editor.apply(edit)
    assert editor.text == RENAME_DOC.replace("total", "subtotal").replace(
        "the subtotal so far", "the total so far"
    ).replace('"subtotal:"', '"total:"')
    again = await request(client, "inkstream/nextEdit", editor.params(5, 0))
    assert again.edits == []


async def test_accepting_one_edit_keeps_the_rest_coming(client: LanguageClient) -> None:
    editor = Editor(client, RENAME_DOC)
    editor.type(1, 4, "sub")
    first = await request(client, "inkstream/nextEdit", editor.params(1, 7))
    editor.apply(first.edits[0])
    second = await request(client, "inkstream/nextEdit", editor.params(3, 0))
    assert [changed(e, editor) for e in second.edits] == [
        (4, "total", "subtotal"),
        (5, "total", "subtotal"),
    ]


async def test_an_argument_added_to_one_call_is_offered_to_the_others(
    client: LanguageClient,
) -> None:
    doc = "a = fetch(url)\nb = fetch(other)\nc = fetch(url, timeout=2)\nd = fetch()\n"
    editor = Editor(client, doc)
    editor.type(0, 13, ", timeout=t")
    result = await request(client, "inkstream/nextEdit", editor.params(0, 24))
    for edit in reversed(result.edits):
        editor.apply(edit)
    assert editor.lines()[:4] == [
        "a = fetch(url, timeout=t)",
        "b = fetch(other, timeout=t)",
        "c = fetch(url, timeout=2)",
        "d = fetch(timeout=t)",
    ]


async def test_typing_new_code_suggests_nothing(client: LanguageClient) -> None:
    editor = Editor(client, "x = compute(a)\ny = compute(b)\n")
    editor.type(2, 0, "z = compute(c) + total")
    result = await request(client, "inkstream/nextEdit", editor.params(2, 22))
    assert result.edits == []
    untouched = Editor(client, "a = 1\n", uri="file:///work/other.py")
    assert (await request(client, "inkstream/nextEdit", untouched.params(0, 0))).edits == []


async def test_positions_are_utf16_units(client: LanguageClient) -> None:
    doc = "total = 1\ns = '😀😀'; t = total\n"
    editor = Editor(client, doc)
    editor.type(0, 0, "sub")
    result = await request(client, "inkstream/nextEdit", editor.params(0, 3))
    (edit,) = result.edits
    assert (edit.range.start.line, edit.range.start.character) == (1, 16)
    assert (edit.range.end.line, edit.range.end.character) == (1, 21)
    editor.apply(edit)
    assert editor.lines()[1] == "s = '😀😀'; t = subtotal"


async def test_windows_line_ends_stay_windows_line_ends(client: LanguageClient) -> None:
    doc = "a = fetch(url)\r\nb = fetch(\r\n    other,\r\n)\r\nc = fetch(x)\r\n"
    editor = Editor(client, doc)
    editor.type(0, 13, ", timeout=t")
    result = await request(client, "inkstream/nextEdit", editor.params(0, 24))
    for edit in reversed(result.edits):
        editor.apply(edit)
    assert editor.text == (
        "a = fetch(url, timeout=t)\r\nb = fetch(\r\n    other, timeout=t,\r\n)\r\n"
        "c = fetch(x, timeout=t)\r\n"
    )


async def test_an_old_version_gets_no_edits(client: LanguageClient) -> None:
    editor = Editor(client, RENAME_DOC)
    editor.type(1, 4, "sub")
    stale = editor.params(1, 7)
    stale["textDocument"]["version"] = editor.version - 1
    assert (await request(client, "inkstream/nextEdit", stale)).edits == []
    copilot = await request(client, "textDocument/copilotInlineEdit", stale)
    assert copilot.edits == []


@pytest.mark.settings(nextEdit={"enable": False})
async def test_next_edits_can_be_turned_off(client: LanguageClient) -> None:
    editor = Editor(client, RENAME_DOC)
    editor.type(1, 4, "sub")
    assert (await request(client, "inkstream/nextEdit", editor.params(1, 7))).edits == []


@pytest.mark.settings(exclude=["*/generated/*"])
async def test_excluded_files_get_no_next_edits(client: LanguageClient) -> None:
    for uri in ("file:///work/.env", "file:///work/generated/demo.py"):
        editor = Editor(client, RENAME_DOC, uri=uri)
        editor.type(1, 4, "sub")
        assert (await request(client, "inkstream/nextEdit", editor.params(1, 7))).edits == []


async def test_copilot_next_edit_clients_get_the_copilot_shape(client: LanguageClient) -> None:
    uri = "file:///work/My%20Project/demo.py"
    editor = Editor(client, RENAME_DOC, uri=uri)
    editor.type(1, 4, "sub")
    # as copilot-lsp and sidekick.nvim send it: extra fields, languageId inside textDocument
    params = {
        "_": True,
        "textDocument": {"uri": uri, "version": editor.version, "languageId": "python"},
        "position": {"line": 1, "character": 7},
        "context": {"triggerKind": 2},
    }
    raw = await raw_request(client, "textDocument/copilotInlineEdit", params)
    assert set(raw) == {"edits"}
    assert [set(e) for e in raw["edits"]] == [{"range", "text", "textDocument", "command"}] * 3
    first = raw["edits"][0]
    assert first["textDocument"] == {"uri": uri, "version": editor.version}
    assert first["text"] == "subtotal"
    assert first["range"] == {
        "start": {"line": 3, "character": 8},
        "end": {"line": 3, "character": 13},
    }
    assert first["command"]["command"] == "github.copilot.didAcceptCompletionItem"
    assert first["command"]["title"] == "Accept next edit"
    assert isinstance(first["command"]["arguments"][0], str)
    # no version: the current one, echoed
    del params["textDocument"]["version"]
    raw = await raw_request(client, "textDocument/copilotInlineEdit", params)
    assert raw["edits"][0]["textDocument"] == {"uri": uri, "version": editor.version}
    # nothing to suggest is still an object
    params["position"] = {"line": 0, "character": 0}
    editor.type(0, 0, "# ")
    params["textDocument"]["version"] = editor.version
    assert await raw_request(client, "textDocument/copilotInlineEdit", params) == {"edits": []}


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """The answer as JSON, exactly as the server wrote it (pygls hands out named tuples)."""
    return as_json(await request(client, method, params))


def as_json(value: Any) -> Any:
    if hasattr(value, "_asdict"):
        return {k: as_json(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    return value


async def test_bad_requests_get_an_error_and_the_server_stays_up(client: LanguageClient) -> None:
    editor = Editor(client, RENAME_DOC)
    bad = [
        {"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}},
        {"textDocument": {"uri": editor.uri}},
        {"textDocument": {"uri": editor.uri}, "position": {"line": 99, "character": 0}},
        {"textDocument": {"uri": editor.uri, "version": "x"}, "position": {"line": 0}},
    ]
    for method in ("inkstream/nextEdit", "textDocument/copilotInlineEdit"):
        for params in bad:
            with pytest.raises(JsonRpcException) as info:
                await request(client, method, params)
            assert info.value.code == -32602, params
    # a malformed command notification is dropped; the server answers the next request
    client.protocol._send_data(
        {"jsonrpc": "2.0", "method": "workspace/executeCommand", "params": {"arguments": 1}}
    )
    editor.type(1, 4, "sub")
    assert len((await request(client, "inkstream/nextEdit", editor.params(1, 7))).edits) == 3


async def test_shown_accepted_and_dismissed_next_edits_are_in_the_usage_figures(
    tmp_path: Path, upstream: ScriptedUpstream
) -> None:
    config = ClientServerConfig(
        server_command=SERVER_COMMAND,
        client_factory=make_client,
        server_env=server_env(
            INKSTREAM_DATA_DIR=str(tmp_path / "data"), INKSTREAM_KEPT_DELAYS="0.2,0.4"
        ),
    )
    client = await config.start()
    await client.initialize_session(
        types.InitializeParams(
            capabilities=CLIENT_CAPABILITIES,
            initialization_options=upstream_options(upstream),
            root_uri=None,
        )
    )
    try:
        doc = "total = 0\n" + "print(total)\n" * 5
        editor = Editor(client, doc)
        editor.type(0, 0, "sub")
        ours = await request(client, "inkstream/nextEdit", editor.params(0, 3))
        ids = [e.command.arguments[0] for e in ours.edits]
        assert len(ids) == 5
        show = {"item": {"command": {"arguments": [ids[0]]}}}
        client.protocol.notify("textDocument/didShowInlineEdit", show)
        # accepted: the client applies the edit, then runs its command (a request here)
        editor.apply(ours.edits[0])
        await request(
            client,
            "workspace/executeCommand",
            {"command": "inkstream.didAccept", "arguments": [ids[0]]},
        )
        client.protocol.notify("inkstream/didDismissNextEdit", {"ids": ids[1:3]})
        # a Copilot client's, accepted with Copilot's command sent as a notification
        copilot = await request(client, "textDocument/copilotInlineEdit", editor.params(1, 0))
        first = copilot.edits[0]
        assert first.command.command == "github.copilot.didAcceptCompletionItem"
        client.protocol.notify(
            "textDocument/didShowInlineEdit", {"item": {"command": first.command._asdict()}}
        )
        editor.apply(first)
        ident = first.command.arguments[0]
        client.protocol._send_data(
            {
                "jsonrpc": "2.0",
                "method": "workspace/executeCommand",
                "params": {"command": first.command.command, "arguments": [ident, "extra"]},
            }
        )
        with pytest.raises(JsonRpcException) as info:
            await request(
                client,
                "workspace/executeCommand",
                {"command": "inkstream.didAccept", "arguments": [3]},
            )
        assert info.value.code == -32602

        async def next_edits() -> dict[str, Any]:
            usage = await request(client, "inkstream/usage", {"days": 1})
            return as_json(usage.totals.nextEdits)

        expected = {"suggested": 5 + 4, "shown": 4, "accepted": 2, "dismissed": 2}
        await wait_until_async(
            lambda figures: {k: figures[k] for k in expected} == expected, next_edits
        )
        assert (await next_edits())["acceptRate"] == 0.5
        # both accepted edits are still in the document when the kept rate is measured
        await wait_until_async(lambda figures: figures["keptRate2m"] == 1.0, next_edits)
        usage = await request(client, "inkstream/usage", {"days": 1})
        assert usage.totals.shown == 0  # completions' figures are completions' only
        env = server_env(INKSTREAM_DATA_DIR=str(tmp_path / "data"))
        stats = subprocess.run(
            [sys.executable, "-m", "inkstream", "stats", "--days", "1", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert json.loads(stats.stdout)["totals"]["nextEdits"]["accepted"] == 2
        table = subprocess.run(
            [sys.executable, "-m", "inkstream", "stats", "--days", "1"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert "Next edits: 9 suggested, 4 shown, 2 accepted, 2 dismissed." in table.stdout
    finally:
        await client.shutdown_session()
        await client.stop()


async def wait_until_async(check: Any, read: Any, timeout: float = 5.0) -> None:
    """Poll ``read()`` until ``check`` accepts it (usage rows are written on a worker thread)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check(await read()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"figures never matched: {await read()}")
        await asyncio.sleep(0.05)
