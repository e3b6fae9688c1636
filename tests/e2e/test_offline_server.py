"""The offline model through the real server: the default when no endpoint and no key are set."""

from __future__ import annotations

import pytest
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from offline_samples import SHAPES, STATS
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


async def ghost_text(client: LanguageClient, document: str, uri: str) -> str:
    text, pos = cursor(document)
    result = await request(
        client, "inkstream/inlineCompletion", inline_params(open_doc(client, text, uri=uri), pos)
    )
    return str(result.items[0].insertText) if result.items else ""


@pytest.mark.settings(provider="offline")
async def test_offline_does_not_copy_another_method_into_the_one_being_written(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    """Issue 12: at the first line of ``mean``'s body the ghost text was ``add`` again."""
    text = await ghost_text(client, STATS, "file:///work/stats.py")
    assert "def add" not in text  # no second definition of add, inside mean
    assert "a + b" not in text and "return a" not in text  # add's names; mean has none such
    assert upstream.requests == []


@pytest.mark.settings(provider="offline")
async def test_offline_uses_only_attributes_the_class_sets(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    """Issue 12: ``Square.area`` was completed with a ``Circle`` body (``self.radius``)."""
    text = await ghost_text(client, SHAPES, "file:///work/shapes.py")
    assert "radius" not in text
    assert upstream.requests == []


@pytest.mark.settings(provider="offline")
async def test_offline_says_it_would_have_copied_another_function(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    """``double`` is not ``area``: the model's only answer there was ``area``'s formula with
    the parameter renamed (``return 3.14159 * x * x``); it shows nothing and says why."""
    text, pos = cursor(
        "def area(r):\n    return 3.14159 * r * r\n\n\ndef double(x):\n    <CURSOR>\n"
    )
    uri = open_doc(client, text)
    client.progress_reports["wd-copy"] = []
    params = inline_params(uri, pos, partialResultToken="pr-copy", workDoneToken="wd-copy")
    result = await request(client, "inkstream/inlineCompletion", params)
    assert result.items == []
    reason = (
        "no completion: the offline model's best guess copies area(), which does something else"
    )
    assert client.progress_reports["wd-copy"][-1].message == reason
    assert (await request(client, "inkstream/status", {})).emptyReason == reason
    assert upstream.requests == []
