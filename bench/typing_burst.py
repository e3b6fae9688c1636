"""Typing-burst benchmark: what debounce, cancel-on-supersede, the LRU and type-through save.

A simulated editor types 30 keystrokes, 60 ms apart, into a Python file while inkstream completes.
The user first pauses at the start of a function body (the suggestion appears), then types:
the first half of the keystrokes follow the suggestion (type-through), the second half type
something else. Like VS Code, each keystroke sends didChange, cancels the previous inline request
($/cancelRequest) and sends a new one (triggerKind Automatic). The upstream is the scripted
OpenAI-compatible server on 127.0.0.1, pacing tokens like a small local model.

Reported, for the "before" configuration (no debounce, no cache or type-through) and "after"
(defaults) side by side:
  - upstream requests, and the prompt tokens they carried (billed input, estimated at 4 chars);
  - tokens generated but never shown: chunks the upstream sent, minus those that reached the
    screen (the longest ghost text shown that is part of what the request generated);
  - time from keystroke to first ghost text, for keystrokes that got one.

    python bench/typing_burst.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from latency import BENCH_DATA_DIR, BenchClient, stop  # noqa: E402
from upstream import Reply, ScriptedUpstream  # noqa: E402

URI = "file:///bench/burst.py"
START = "def total_price(items):\n    "
SUGGESTION = "total = sum(item.price * item.quantity for item in items)\n    return total"
OTHER = "result = [x for x in items if x.ok]"
CHUNK = 3
KEYSTROKES = 30
INTERVAL = 0.06
FIRST_TOKEN = 0.08  # a small local model: 80 ms to the first token, then about 100 tokens/s


def reply_for(_: Any = None) -> Reply:
    return Reply.text(SUGGESTION, chunk_size=CHUNK, first_delay=FIRST_TOKEN, delay=0.01)


async def run(config: dict[str, Any]) -> dict[str, Any]:
    with ScriptedUpstream() as upstream:
        upstream.default = reply_for()
        client = BenchClient()
        await client.start_io(
            sys.executable,
            "-m",
            "inkstream",
            "serve",
            env={**os.environ, "INKSTREAM_DATA_DIR": BENCH_DATA_DIR},
        )
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                initialization_options={
                    "baseUrl": upstream.base_url,
                    "apiStyle": "fim",
                    "fimTemplate": "server",
                    "model": "bench",
                    **config,
                },
            )
        )
        client.initialized(types.InitializedParams())
        text = START
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "python", 1, text))
        )
        typed = SUGGESTION[: KEYSTROKES // 2] + OTHER[: KEYSTROKES - KEYSTROKES // 2]
        first_ghost: list[float] = []
        shown: dict[str, list[str]] = {}  # document text at the request -> ghost texts shown
        errors: list[str] = []
        # the user pauses at the start of the body: the suggestion appears; then they type
        pending: asyncio.Task[Any] | None = asyncio.ensure_future(
            ask(client, text, "start", first_ghost, shown, errors)
        )
        await pending
        for i, ch in enumerate(typed):
            line, col = text.count("\n"), len(text) - text.rfind("\n") - 1
            text += ch
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    types.VersionedTextDocumentIdentifier(version=i + 2, uri=URI),
                    [
                        types.TextDocumentContentChangePartial(
                            range=types.Range(types.Position(line, col), types.Position(line, col)),
                            text=ch,
                        )
                    ],
                )
            )
            if pending is not None and not pending.done():
                # VS Code cancels the request it no longer wants
                previous = f"k{i - 1}" if i else "start"
                client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=previous))
            pending = asyncio.ensure_future(ask(client, text, f"k{i}", first_ghost, shown, errors))
            await asyncio.sleep(INTERVAL)
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)
        await asyncio.sleep(0.2)
        requests = list(upstream.requests)
        await stop(client)
    if errors:
        raise SystemExit(f"unexpected errors: {errors[:3]}")
    generated = sum(r.chunks_sent for r in requests)
    wasted = 0
    for r in requests:
        # what this request's own answer put on screen (the prompt is the text up to the cursor)
        sent_text = SUGGESTION[: r.chunks_sent * CHUNK]
        seen = [s for s in shown.get(str(r.body.get("prompt")), []) if s and s in sent_text]
        used = max((sent_text.find(s) + len(s) for s in seen), default=0)
        wasted += r.chunks_sent - math.ceil(used / CHUNK)
    return {
        "upstream requests": len(requests),
        "prompt tokens sent (est.)": sum(len(r.prompt_text) // 4 for r in requests),
        "tokens generated": generated,
        "tokens never shown": wasted,
        "keystrokes with ghost text": len(first_ghost),
        "first ghost text median (ms)": statistics.median(first_ghost) if first_ghost else math.nan,
    }


async def ask(
    client: BenchClient,
    text: str,
    token: str,
    first_ghost: list[float],
    shown: dict[str, list[str]],
    errors: list[str],
) -> None:
    t0 = time.monotonic()
    line, col = text.count("\n"), len(text) - text.rfind("\n") - 1
    params = {
        "textDocument": {"uri": URI},
        "position": {"line": line, "character": col},
        "context": {"triggerKind": 2},
        "partialResultToken": token,
    }
    try:
        result = await client.protocol.send_request_async(
            "inkstream/inlineCompletion", params, msg_id=token
        )
    except JsonRpcException as exc:
        if exc.code not in (-32800, -32802):
            errors.append(exc.message)
        result = None
    partials = client.partials.get(token, [])
    texts = [v["items"][0]["insertText"] for _, v in partials if v.get("items")]
    if result is not None and result.items:
        texts.append(result.items[0].insertText)
    shown.setdefault(text, []).extend(texts)
    if texts:
        arrived = partials[0][0] if partials else time.monotonic()
        first_ghost.append((arrived - t0) * 1000)


async def main() -> None:
    global FIRST_TOKEN
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--first-token-ms",
        type=float,
        default=FIRST_TOKEN * 1000,
        help="the scripted model's time to first token (a fast one writes during a keystroke)",
    )
    args = parser.parse_args()
    FIRST_TOKEN = args.first_token_ms / 1000
    configs = {
        "before (no debounce, no cache/type-through)": {
            "debounceMin": 0,
            "debounceMax": 0,
            "typeThrough": False,
        },
        "after (defaults)": {},
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in configs}
    for _ in range(args.rounds):
        for name, config in configs.items():
            results[name].append(await run(config))
    names = list(configs)
    print(
        f"{KEYSTROKES} keystrokes, {INTERVAL * 1000:.0f} ms apart, model's first token after "
        f"{FIRST_TOKEN * 1000:.0f} ms, {args.rounds} rounds (medians)"
    )
    print(f"{'':34}" + "".join(f"{n[:26]:>28}" for n in names))
    for metric in results[names[0]][0]:
        row = [statistics.median(r[metric] for r in results[n]) for n in names]
        print(f"{metric:34}" + "".join(f"{v:28.1f}" for v in row))


if __name__ == "__main__":
    asyncio.run(main())
