"""Malformed requests get a -32602 answer to their id, and the server carries on."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

URI = "file:///work/bad.py"
TEXT = "a = 1\nb = 2\n"

RANGE = {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 5}}


@pytest.mark.parametrize(
    ("method", "params", "words"),
    [
        (types.TEXT_DOCUMENT_INLINE_COMPLETION, {"textDocument": {"uri": URI}}, ["position"]),
        (
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            inline_params(URI, types.Position(0, 0)) | {"position": {"line": "x", "character": 0}},
            ["line"],
        ),
        ("inkstream/inlineCompletion", {"position": 3}, ["textDocument"]),
        ("inkstream/explain", {"textDocument": {"uri": URI}}, ["range"]),
        ("inkstream/explain", {"textDocument": 5, "range": RANGE}, ["textDocument"]),
        (
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            inline_params("file:///never/opened.py", types.Position(0, 0)),
            ["not open"],
        ),
        (
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            inline_params(URI, types.Position(7, 0)),
            ["past the end"],
        ),
        (
            "inkstream/inlineCompletion",
            inline_params(URI, types.Position(0, 40)),
            ["past the end of its line"],
        ),
        (
            "inkstream/explain",
            {"textDocument": {"uri": URI}, "range": {"start": RANGE["end"], "end": RANGE["start"]}},
            ["starts after it ends"],
        ),
        (
            types.WORKSPACE_EXECUTE_COMMAND,
            {"command": "inkstream.explain", "arguments": [URI]},
            ["two arguments"],
        ),
        (
            types.WORKSPACE_EXECUTE_COMMAND,
            {"command": "inkstream.explain", "arguments": [URI, {"start": 1}]},
            ["not a Range"],
        ),
    ],
    ids=[
        "missing-fields",
        "wrong-type",
        "custom-missing",
        "explain-missing-range",
        "explain-wrong-type",
        "unknown-document",
        "line-past-end",
        "character-past-end",
        "inverted-range",
        "command-arity",
        "command-bad-range",
    ],
)
async def test_bad_requests_get_invalid_params(
    client: LanguageClient,
    upstream: ScriptedUpstream,
    method: str,
    params: dict,
    words: list[str],
) -> None:
    open_doc(client, TEXT, uri=URI)
    with pytest.raises(JsonRpcException) as info:
        await request(client, method, params)
    assert info.value.code == -32602
    for word in words:
        assert word in info.value.message
    assert upstream.requests == []
    # still serving
    upstream.script(Reply.text("c = 3"))
    text, pos = cursor("a = 1\n<CURSOR>")
    uri = open_doc(client, text, uri="file:///work/good.py")
    result = await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    assert result.items[0].insertText == "c = 3"
    assert not [m for m in client.messages if "Invalid Params" in m.message]
