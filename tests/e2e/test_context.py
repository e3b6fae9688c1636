"""What reaches the upstream: probing, related code from other files, exclusions and redaction."""

from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e


SERVER_FIM = ("/v1/completions", "def f():\n    ")  # the server applies the model's template
STARCODER2_FIM = ("/v1/completions", "<file_sep>/work/a.py\n<fim_prefix>def f():\n    <fim_suffix>")
CHAT = ("/v1/chat/completions", "")
NO_CODE_MODEL = pytest.mark.settings(apiStyle="auto", model="some-chat-model")
STARCODER2 = pytest.mark.settings(apiStyle="auto", model="bigcode/starcoder2-3b")
OLLAMA_QWEN = pytest.mark.settings(apiStyle="auto", model="qwen2.5-coder:1.5b")


@pytest.mark.parametrize(
    ("routes", "rejects_suffix", "probes", "expected"),
    [
        pytest.param({"chat"}, False, 0, CHAT, marks=NO_CODE_MODEL, id="chat-only"),
        pytest.param({"completions"}, False, 1, SERVER_FIM, marks=NO_CODE_MODEL, id="fim-only"),
        pytest.param(
            {"chat", "completions"}, False, 1, STARCODER2_FIM, marks=STARCODER2, id="both"
        ),
        pytest.param(
            {"chat", "completions"}, True, 1, STARCODER2_FIM, marks=STARCODER2, id="vllm-starcoder2"
        ),
        pytest.param({"chat", "completions"}, True, 0, CHAT, marks=NO_CODE_MODEL, id="vllm-chat"),
        pytest.param({"chat", "completions"}, False, 1, SERVER_FIM, marks=OLLAMA_QWEN, id="ollama"),
    ],
)
async def test_auto_style_probes_the_endpoint_once(
    client: LanguageClient,
    upstream: ScriptedUpstream,
    routes: set[str],
    rejects_suffix: bool,
    probes: int,
    expected: tuple[str, str],
) -> None:
    """Only the endpoint and the model are set: the probe finds how to ask for completions."""
    upstream.routes, upstream.rejects_suffix = routes, rejects_suffix
    upstream.default = Reply.text("return 1")
    text, pos = cursor("def f():\n    <CURSOR>\n")
    uri = open_doc(client, text, uri="file:///work/a.py")
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
    # refused probes (404 for a missing route, 400 for suffix) are answered before being recorded
    probed = [r for r in upstream.requests if r.body.get("max_tokens") == 1]
    completions = [r for r in upstream.requests if r.body.get("max_tokens") != 1]
    assert len(probed) == probes
    path, prompt_start = expected
    assert [r.path for r in completions] == [path] * 2
    if path == "/v1/completions":
        assert all(str(r.body["prompt"]).startswith(prompt_start) for r in completions)
        with_suffix = prompt_start == SERVER_FIM[1]
        assert all(("suffix" in r.body) == with_suffix for r in completions)
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
    cases = [
        ("file:///work/.env.local", ".env.local looks like a file of secrets"),
        ("file:///work/private/notes.py", "notes.py matches the exclude setting (**/private/*)"),
        ("file:///work/id_rsa", "id_rsa looks like a file of secrets"),
    ]
    for i, (path, why) in enumerate(cases):
        text, pos = cursor("SECRET=<CURSOR>")
        uri = open_doc(client, text, uri=path)
        token = f"wd-excluded-{i}"
        client.progress_reports[token] = []
        result = await request(
            client,
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            inline_params(uri, pos, workDoneToken=token),
        )
        assert result.items == []
        # the editor is told why: the work-done end, and inkstream/status for its status line
        assert client.progress_reports[token][-1].message == f"no completion: {why}"
        status = await request(client, "inkstream/status", {})
        assert status.emptyReason == f"no completion: {why}"
    assert upstream.requests == []
