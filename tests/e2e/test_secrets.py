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
    "style",
    [
        pytest.param("chat", marks=pytest.mark.settings(apiStyle="chat")),
        pytest.param("fim", marks=pytest.mark.settings(apiStyle="fim", model="qwen2.5-coder")),
    ],
)
async def test_no_secret_reaches_the_model_and_the_code_still_does(
    client: LanguageClient, upstream: ScriptedUpstream, style: str
) -> None:
    upstream.script(
        Reply.text("slack.chat_postMessage(channel='#ops', text=message)"),
        Reply.text("`connect_all` builds the service clients from hard-coded credentials."),
    )
    clients = _clients_module()
    clients_uri = open_doc(client, clients, uri="file:///work/shop/clients.py")
    text, pos = cursor(_settings_module())
    settings_uri = open_doc(client, text, uri="file:///work/shop/settings.py")

    await request(client, types.TEXT_DOCUMENT_INLINE_COMPLETION, inline_params(settings_uri, pos))
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
