"""Completion quality on holes in code no model here has learned from (pip's sources).

Each hole is a whole line removed from a file; the completion requested at its start is compared
with the line: exact match of the first line, edit similarity (difflib ratio), and latency from
request to answer. Runs through the real server over stdio: the offline model by default, or any
OpenAI-compatible endpoint with --base-url (the key from INKSTREAM_API_KEY).

    python bench/quality.py [--holes 60]
    python bench/quality.py --base-url http://127.0.0.1:11434/v1 --model qwen2.5-coder:1.5b
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from holes import holes  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holes", type=int, default=60)
    parser.add_argument("--base-url")
    parser.add_argument("--model")
    parser.add_argument("--api-style", choices=("auto", "fim", "chat"))
    args = parser.parse_args()
    options: dict[str, Any] = {"typeThrough": False}
    for key, value in (
        ("baseUrl", args.base_url),
        ("model", args.model),
        ("apiStyle", args.api_style),
    ):
        if value:
            options[key] = value
    workspace = Path(tempfile.mkdtemp())  # an empty project: nothing of pip is learned
    client = LanguageClient("inkstream-quality", "1")
    env = {k: v for k, v in os.environ.items() if k != "INKSTREAM_BASE_URL" or args.base_url}
    env["INKSTREAM_DATA_DIR"] = tempfile.mkdtemp(prefix="inkstream-bench-usage-")
    await client.start_io(sys.executable, "-m", "inkstream", "serve", env=env)
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(),
            root_uri=workspace.as_uri(),
            initialization_options=options,
        )
    )
    client.initialized(types.InitializedParams())
    status = await client.protocol.send_request_async("inkstream/status", {})
    exact, similarity, latency = 0, [], []
    cases = holes(args.holes)
    for n, hole in enumerate(cases):
        uri = f"file:///quality/{n}/{hole.path.name}"
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(uri, "python", 1, hole.prefix + hole.suffix)
            )
        )
        line = hole.prefix.count("\n")
        column = len(hole.prefix) - hole.prefix.rfind("\n") - 1
        t0 = time.monotonic()
        result = await client.protocol.send_request_async(
            types.TEXT_DOCUMENT_INLINE_COMPLETION,
            types.InlineCompletionParams(
                context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
                text_document=types.TextDocumentIdentifier(uri),
                position=types.Position(line, column),
            ),
        )
        latency.append((time.monotonic() - t0) * 1000)
        text = result.items[0].insert_text if result and result.items else ""
        first = str(text).split("\n", 1)[0].strip()
        exact += first == hole.expected
        similarity.append(difflib.SequenceMatcher(None, first, hole.expected).ratio())
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    print(
        f"model: {status.provider} {status.baseUrl or ''} {status.model if status.baseUrl else ''}"
    )
    print(f"holes: {len(cases)} whole lines in pip's sources")
    print(f"exact line match     {exact / len(cases):6.1%}")
    print(f"edit similarity      {statistics.mean(similarity):6.2f} (mean difflib ratio)")
    print(
        f"latency              median {statistics.median(latency):.0f} ms, "
        f"p90 {sorted(latency)[int(0.9 * (len(latency) - 1))]:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
