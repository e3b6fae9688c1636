"""Issue 20 §6 reproduced: twenty secrets in two open files, one completion, one explanation.

The real server over stdio, the scripted upstream recording every request body. None of the
twenty values may reach the upstream; the code around each must (the model still sees the code).
"""

from __future__ import annotations

import json

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import cursor, inline_params, open_doc, request
from secret_samples import SAMPLES
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

HALF = len(SAMPLES) // 2


def _settings_module() -> str:
    """The file being edited: ten of the secrets, then the function the cursor is in."""
    lines = ["import discord", "from sqlalchemy import create_engine", ""]
    lines += [s.line for s in SAMPLES[:HALF]]
    lines += ["", "", "def notify_on_call(message):", "    <CURSOR>", ""]
    return "\n".join(lines)


def _clients_module() -> str:
    """Another open file: the other ten, explained as a whole."""
    lines = ["import boto3", "import stripe", "", "", "def connect_all():"]
    for sample in SAMPLES[HALF:]:
        lines += ["    " + line for line in sample.line.split("\n")]
    lines += ["    return gh, gl, s3, slack", ""]
    return "\n".join(lines)


def _explain_range(text: str) -> dict[str, object]:
    return {"start": {"line": 0, "character": 0}, "end": {"line": text.count("\n"), "character": 0}}


@pytest.mark.parametrize(
    "trigger",
    [
        # typing: the text around the cursor is redacted while the debounce waits
        pytest.param(2, marks=pytest.mark.settings(apiStyle="chat"), id="chat-automatic"),
        pytest.param(
            1, marks=pytest.mark.settings(apiStyle="fim", model="qwen2.5-coder"), id="fim-invoked"
        ),
    ],
)
async def test_no_secret_reaches_the_model_and_the_code_still_does(
    client: LanguageClient, upstream: ScriptedUpstream, trigger: int
) -> None:
    upstream.script(
        Reply.text("slack.chat_postMessage(channel='#ops', text=message)"),
        Reply.text("`connect_all` builds the service clients from hard-coded credentials."),
    )
    clients = _clients_module()
    clients_uri = open_doc(client, clients, uri="file:///work/shop/clients.py")
    text, pos = cursor(_settings_module())
    settings_uri = open_doc(client, text, uri="file:///work/shop/settings.py")

    params = inline_params(settings_uri, pos, context={"triggerKind": trigger})
    await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, params)
    explained = await request(
        client,
        "inkstream/explain",
        {"textDocument": {"uri": clients_uri}, "range": _explain_range(clients)},
    )
    assert explained.text.startswith("`connect_all`")

    sent = [r for r in upstream.requests if "prompt" in r.body or "messages" in r.body]
    assert len(sent) == 2
    bodies = "\n".join(json.dumps(r.body) for r in sent)
    prompts = "\n".join(r.prompt_text for r in sent)
    leaked = [s.name for s in SAMPLES if s.secret in bodies or s.secret in prompts]
    assert not leaked, f"reached the model: {leaked}"
    unseen = [s.name for s in SAMPLES if s.kept not in prompts]
    assert not unseen, f"code around these never reached the model: {unseen}"
    assert "def notify_on_call(message):" in sent[0].prompt_text
    assert "def connect_all():" in sent[1].prompt_text


NEXT_EDIT_URI = "file:///work/shop/signing.py"


@pytest.mark.parametrize(
    "model", ["zed-industries/zeta", "sweep-next-edit-1.5b", "qwen2.5-coder-7b-instruct"]
)
async def test_next_edits_edit_history_is_redacted(
    client: LanguageClient, upstream: ScriptedUpstream, model: str
) -> None:
    # The user moves a hard-coded key out of the file and pastes a token on another line: the
    # first is gone from the text but not from the edit history, the second is in both.
    signing, stripe = SAMPLES[10], SAMPLES[14]
    before = ["import os", "", signing.line, "", "def sign(data):", "    return data", ""]
    upstream.script(Reply.text("I cannot help with that request."))
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"inkstream": {"nextEdit": {"model": model}}})
    )
    open_doc(client, "\n".join(before), uri=NEXT_EDIT_URI)
    moved = 'SIGNING_KEY = os.environ["SIGNING_KEY"]'
    end = types.Position(line=4, character=0)
    line = types.Range(
        start=types.Position(line=2, character=0), end=types.Position(line=3, character=0)
    )
    for version, where, text in ((2, types.Range(start=end, end=end), stripe.line + "\n"),
                                 (3, line, moved + "\n")):  # fmt: skip
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=NEXT_EDIT_URI, version=version
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=where, text=text)],
            )
        )
    params = {
        "textDocument": {"uri": NEXT_EDIT_URI, "version": 3},
        "position": {"line": 2, "character": len(moved)},
    }
    await request(client, "inkstream/nextEdit", params)
    [sent] = upstream.requests
    body = json.dumps(sent.body) + sent.prompt_text
    assert signing.secret not in body and stripe.secret not in body
    assert moved in sent.prompt_text and stripe.kept in sent.prompt_text
