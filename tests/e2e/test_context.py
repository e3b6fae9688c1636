"""What reaches the upstream: probing, related code from other files, exclusions and redaction."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("routes", "expected_path"),
    [
        ({"chat"}, "/v1/chat/completions"),
        ({"completions"}, "/v1/completions"),
        ({"chat", "completions"}, "/v1/completions"),
    ],
    ids=["chat-only", "completions-only", "both"],
)
@pytest.mark.settings(apiStyle="auto", fimTemplate="server")
async def test_auto_style_probes_the_endpoint_once(
    client: LanguageClient, upstream: ScriptedUpstream, routes: set[str], expected_path: str
) -> None:
    upstream.routes = routes
    upstream.default = Reply.text("return 1")
    text, pos = cursor("def f():\n    <CURSOR>\n")
    uri = open_doc(client, text)
    for _ in range(2):
        result = await request(
            client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos)
        )
        assert result.items[0].insertText == "return 1"
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text + " ")],
            )
        )
    probes = [r for r in upstream.requests if r.body.get("max_tokens") == 1]
    completions = [r for r in upstream.requests if r.body.get("max_tokens") != 1]
    # a chat-only server answers the probe 404 before it is recorded; others see exactly one
    assert len(probes) == (0 if routes == {"chat"} else 1)
    assert [r.path for r in completions] == [expected_path] * 2
    status = await request(client, "inkstream/status", {})
    assert status.apiStyle == "auto"


async def test_related_code_from_other_open_files_is_sent(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("load_settings(path)"))
    open_doc(
        client,
        "def load_settings(path):\n    return parse_settings_file(path, strict=True)\n",
        uri="file:///work/settings_loader.py",
    )
    open_doc(client, "def unrelated():\n    return 42\n", uri="file:///work/other.py")
    open_doc(client, "API_KEY=sk-live-abcdefghijklmnop0123456789\n", uri="file:///work/.env")
    text, pos = cursor("from settings_loader import load_settings\n\nsettings = <CURSOR>\n")
    uri = open_doc(client, text, uri="file:///work/main.py")
    await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    [req] = upstream.requests
    sent = req.prompt_text
    assert "parse_settings_file(path, strict=True)" in sent
    assert "/work/settings_loader.py" in sent
    assert "sk-live" not in sent and ".env" not in sent


async def test_secrets_in_the_file_are_redacted(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    upstream.script(Reply.text("client = make_client(OPENAI_KEY)"))
    text, pos = cursor(
        'OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwx1234"\n'
        'db_password = "correct-horse-battery"\n<CURSOR>\n'
    )
    uri = open_doc(client, text)
    await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos))
    [req] = upstream.requests
    assert "sk-proj-abcdefghij" not in req.prompt_text
    assert "correct-horse-battery" not in req.prompt_text
    assert "OPENAI_KEY = " in req.prompt_text and "<redacted>" in req.prompt_text


async def test_excluded_files_get_no_completion(
    client: LanguageClient, upstream: ScriptedUpstream
) -> None:
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"inkstream": {"exclude": ["**/private/*"]}})
    )
    for path in ("file:///work/.env.local", "file:///work/private/notes.py", "file:///work/id_rsa"):
        text, pos = cursor("SECRET=<CURSOR>")
        uri = open_doc(client, text, uri=path)
        result = await request(
            client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(uri, pos)
        )
        assert result.items == []
    assert upstream.requests == []
