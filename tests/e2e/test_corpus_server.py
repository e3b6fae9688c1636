"""The whole corpus through the real server and the scripted upstream, in FIM and chat style.

One server per style; each case opens its own document, so nothing is answered from the cache.
Each case also checks the snapshots streamed as partial results: the ghost text only grows.
"""

from __future__ import annotations

from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from corpus import load

from conftest import inline_params, open_doc, request
from upstream import Reply, ScriptedUpstream

pytestmark = pytest.mark.e2e

CASES = load()


def _text(partial: dict[str, Any]) -> str:
    items = partial.get("items") or []
    return str(items[0]["insertText"]) if items else ""


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def _run_corpus(client: LanguageClient, upstream: ScriptedUpstream, style: str) -> None:
    failures = []
    for n, case in enumerate(CASES):
        upstream.script(Reply.text(case.raw[style], chunk_size=3))
        uri = open_doc(
            client,
            case.prefix + case.suffix,
            uri=f"file:///corpus/{n}{case.path}",
            language=case.language,
        )
        line = case.prefix.count("\n")
        column = _utf16(case.prefix[case.prefix.rfind("\n") + 1 :])
        context: dict[str, object] = {"triggerKind": 1}
        if case.selected:
            start = column - case.selected["replace"]
            context["selectedCompletionInfo"] = {
                "range": {
                    "start": {"line": line, "character": start},
                    "end": {"line": line, "character": column},
                },
                "text": case.selected["text"],
            }
        token = f"corpus-{style}-{n}"
        params = inline_params(uri, types.Position(line, column)) | {
            "context": context,
            "partialResultToken": token,
        }
        result = await request(client, "inkstream/inlineCompletion", params)
        shown = result.items[0].insertText if result.items else ""
        if shown != case.expected:
            failures.append(f"{case.name}: {shown!r} != {case.expected!r}")
        snapshots = [_text(v) for v in client.partial_results.get(token, [])] + [shown]  # type: ignore[attr-defined]
        for earlier, later in zip(snapshots, snapshots[1:], strict=False):
            if not later.startswith(earlier):
                failures.append(f"{case.name}: ghost text {earlier!r} became {later!r}")
    assert not failures, "\n".join(failures)
    assert len(upstream.requests) == len(CASES)


@pytest.mark.settings(apiStyle="fim", fimTemplate="server")
async def test_corpus_fim(client: LanguageClient, upstream: ScriptedUpstream) -> None:
    await _run_corpus(client, upstream, "fim")
    assert all(r.path == "/v1/completions" for r in upstream.requests)


@pytest.mark.settings(apiStyle="chat")
async def test_corpus_chat(client: LanguageClient, upstream: ScriptedUpstream) -> None:
    await _run_corpus(client, upstream, "chat")
    assert all(r.path == "/v1/chat/completions" for r in upstream.requests)
