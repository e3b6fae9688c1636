"""The smallest streaming relay (bench/vscode_first.py's baseline): one pygls request that streams
the model's chat completion to the editor as partial results (each the whole text so far), and
closes the stream when cancelled. No prompt building, no post-processing, no cache. A second one,
``mini/explain``, streams deltas for bench/vscode_explain_stop.py's baseline panel."""

from __future__ import annotations

import os
import sys
from typing import Any

from lsprotocol import types
from openai import AsyncOpenAI
from pygls.lsp.server import LanguageServer

server = LanguageServer("mini-relay", "0.1")
model = AsyncOpenAI(base_url=os.environ["MINI_BASE_URL"], api_key="sk-mini-not-a-key")


async def relay(ls: LanguageServer, token: Any, prompt: str, value: Any) -> dict[str, str]:
    """Streams the model's answer to ``prompt`` as partial results, ``value(text, delta)`` each."""
    stream = await model.chat.completions.create(
        model="mini", stream=True, messages=[{"role": "user", "content": prompt}]
    )
    text = ""
    async with stream:  # closed (the upstream sees the hang-up) when the request is cancelled
        async for chunk in stream:
            delta = chunk.choices[0].delta.content if chunk.choices else None
            if delta:
                text += delta
                ls.progress(types.ProgressParams(token=token, value=value(text, delta)))
    return {"text": text}


@server.feature("mini/complete")
async def complete(ls: LanguageServer, params: Any) -> dict[str, str]:
    prompt = f"Continue at <CURSOR>:\n{params.prefix}<CURSOR>"
    return await relay(ls, params.partialResultToken, prompt, lambda text, _: {"text": text})


@server.feature("mini/explain")
async def explain(ls: LanguageServer, params: Any) -> dict[str, str]:
    """The explain baseline (bench/vscode_explain_stop.py): each partial result is a delta."""
    prompt = f"Explain this code:\n{params.text}"
    return await relay(ls, params.partialResultToken, prompt, lambda _, delta: {"delta": delta})


if __name__ == "__main__":
    print("mini relay ready", file=sys.stderr)
    server.start_io()
