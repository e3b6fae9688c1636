"""The smallest pygls relay, for ``bench/latency.py`` to measure inkstream's cancels against.

It answers ``inkstream/inlineCompletion`` by streaming the upstream's chat completion as partial
results (the whole text so far), and stops when cancelled: ``$/cancelRequest`` (pygls cancels the
task), ``window/workDoneProgress/cancel`` (the token's task is cancelled) and ``exit`` (pygls
exits the process). The stream is closed by ``async with``, nothing else: no hang-up of its own,
pygls's own stdin reader thread, no clean-up, usage or registry. The floor a server can have.

    python bench/pygls_relay.py    (over stdio; initializationOptions: baseUrl, model)
"""

from __future__ import annotations

import asyncio
from typing import Any

import openai
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = LanguageServer("pygls-relay", "1")
clients: list[openai.AsyncOpenAI] = []
options: dict[str, Any] = {}
running: dict[Any, asyncio.Task[Any]] = {}


def _get(params: Any, name: str) -> Any:
    return params.get(name) if isinstance(params, dict) else getattr(params, name, None)


@server.feature(types.INITIALIZE)
def initialize(_ls: LanguageServer, params: types.InitializeParams) -> None:
    options.update(params.initialization_options or {})
    clients.append(openai.AsyncOpenAI(api_key="x", base_url=options["baseUrl"], max_retries=0))


@server.feature("inkstream/inlineCompletion")
async def complete(ls: LanguageServer, params: Any) -> dict[str, Any]:
    token, work_done = _get(params, "partialResultToken"), _get(params, "workDoneToken")
    task = asyncio.current_task()
    if work_done is not None and task is not None:
        running[work_done] = task
    text = ""
    try:
        stream = await clients[0].chat.completions.create(
            model=options.get("model", "bench"),
            messages=[{"role": "user", "content": "go"}],
            stream=True,
            max_tokens=4000,
        )
        async with stream:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    text += chunk.choices[0].delta.content
                    value = {"items": [{"insertText": text}]}
                    ls.progress(types.ProgressParams(token=token, value=value))
    finally:
        running.pop(work_done, None)
    return {"items": [{"insertText": text}]}


@server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
def cancel(_ls: LanguageServer, params: types.WorkDoneProgressCancelParams) -> None:
    if (task := running.get(params.token)) is not None:
        task.cancel()


if __name__ == "__main__":
    server.start_io()
