"""The offline model through the real server: the default when no endpoint and no key are set."""

from __future__ import annotations

import pytest
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from upstream import ScriptedUpstream

pytestmark = pytest.mark.e2e


@pytest.mark.settings(provider="offline")
async def test_offline_completion_streams_without_any_endpoint(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    status = await request(client, "inkstream/status", {})
    assert status.provider == "offline" and status.baseUrl is None
    text, pos = cursor(
        "import os\n\n\ndef main():\n    for name in os.listdir('.'):\n        <CURSOR>"
    )
    uri = open_doc(client, text)
    result = await request(
        client, "inkstream/inlineCompletion", inline_params(uri, pos, partialResultToken="off")
    )
    assert result.items and result.items[0].insertText.strip()
    assert client.partial_results["off"]
    assert upstream.requests == []


@pytest.mark.settings(provider="offline")
async def test_offline_explain_says_it_is_offline(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    code = "def twice(x):\n    return helper(x) * 2\n"
    uri = open_doc(client, code)
    result = await request(
        client,
        "inkstream/explain",
        {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
            "partialResultToken": "ex",
        },
    )
    deltas = [v["delta"] for v in client.partial_results["ex"]]
    assert len(deltas) > 1 and "".join(deltas) == result.text
    assert "`twice`" in result.text and "`helper()`" in result.text
    assert "offline model" in result.text and "INKSTREAM_BASE_URL" in result.text
    assert upstream.requests == []
