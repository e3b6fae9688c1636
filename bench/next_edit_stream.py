"""How early a next-edit model's hunks reach the editor: first hunk versus the whole answer.

For each prompt format, the scripted upstream (127.0.0.1) answers a next-edit request with the
format's rewrite of the region, paced like a small local model (first token after
``--first-token`` seconds, then 4 characters every ``--pace`` seconds). The edit is the one of
``tests/e2e/test_next_edit_model.py``: the user typed ``count = 0``; the model adds
``count += 1`` in the loop (final once two unchanged lines follow it) and divides by the count
near the region's end. Printed per format, medians over ``--rounds`` requests:

  - time from the request to the first hunk (a ``$/progress`` delta) and to the answer;
  - the share of the upstream's chunks it had sent when the first hunk arrived (its own record).

    python bench/next_edit_stream.py [--rounds 5] [--pace 0.01] [--first-token 0.15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from latency import BenchClient, start, stop  # noqa: E402
from upstream import Reply, ScriptedUpstream  # noqa: E402

URI = "file:///bench/stats.py"
BEFORE = [
    "def mean(xs):",
    "    total = 0",
    "    for x in xs:",
    "        total += x",
    "        print(x)",
    '    print("done")',
    "    return total / len(xs)",
    "",
]
TYPED = "    count = 0"
NOW = [*BEFORE[:2], TYPED, *BEFORE[2:]]
REWRITE = [*NOW[:5], "        count += 1", *NOW[5:7], "    return total / count", ""]


def _text(region: list[str]) -> str:
    return "".join(line + "\n" for line in region)


ANSWERS: dict[str, tuple[str, str]] = {
    "zeta": (
        "zed-industries/zeta",
        "<|editable_region_start|>\n" + _text(REWRITE) + "<|editable_region_end|>\n```",
    ),
    "instinct": ("nate/instinct", _text(REWRITE[1:8]) + REWRITE[8]),
    "sweep": ("sweep-next-edit-1.5b", _text(REWRITE) + "<|file_sep|>"),
    "chat": ("qwen2.5-coder-7b-instruct", "```python\n" + _text(REWRITE[:9]) + "```\n"),
}


async def run_format(fmt: str, rounds: int, pace: float, first_token: float) -> dict[str, Any]:
    model, answer = ANSWERS[fmt]
    with ScriptedUpstream() as upstream:
        upstream.default = Reply.text(answer, chunk_size=4, first_delay=first_token, delay=pace)
        client, _ = await start(upstream.base_url, nextEdit={"model": model})
        try:
            await _edit_history(client)
            first: list[float] = []
            whole: list[float] = []
            sent_share: list[float] = []
            for i in range(rounds):
                token = f"{fmt}{i}"
                params = {
                    "textDocument": {"uri": URI, "version": 2},
                    "position": {"line": 2, "character": len(TYPED)},
                    "partialResultToken": token,
                }
                t0 = time.monotonic()
                result = await client.protocol.send_request_async("inkstream/nextEdit", params)
                done = time.monotonic()
                edits = result.edits if hasattr(result, "edits") else result["edits"]
                if len(edits) != 2 or not client.partials.get(token):
                    raise SystemExit(f"{fmt}: expected 2 edits streamed, got {edits}")
                arrived = client.partials[token][0][0]
                req = upstream.requests[-1]
                chunks = len(req.chunk_times)
                before = sum(1 for t in req.chunk_times if t <= arrived)
                first.append((arrived - t0) * 1000)
                whole.append((done - t0) * 1000)
                sent_share.append(before / chunks)
        finally:
            await stop(client)
    return {
        "first hunk (ms)": statistics.median(first),
        "answer (ms)": statistics.median(whole),
        "upstream chunks sent at first hunk": statistics.median(sent_share),
    }


async def _edit_history(client: BenchClient) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(URI, "python", 1, "\n".join(BEFORE)))
    )
    position = types.Position(line=2, character=0)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=2, uri=URI),
            [
                types.TextDocumentContentChangePartial(
                    range=types.Range(position, position), text=TYPED + "\n"
                )
            ],
        )
    )
    await asyncio.sleep(0.2)  # let the server take the change before the first request


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pace", type=float, default=0.01, help="seconds between chunks")
    parser.add_argument("--first-token", type=float, default=0.15)
    args = parser.parse_args()
    print(
        f"scripted upstream: first token {args.first_token * 1000:.0f} ms, then 4 characters "
        f"every {args.pace * 1000:.0f} ms; medians of {args.rounds} requests"
    )
    print(f"{'format':<10} {'first hunk':>12} {'answer':>10} {'upstream sent at 1st hunk':>27}")
    for fmt in ANSWERS:
        figures = await run_format(fmt, args.rounds, args.pace, args.first_token)
        print(
            f"{fmt:<10} {figures['first hunk (ms)']:>9.0f} ms {figures['answer (ms)']:>7.0f} ms "
            f"{figures['upstream chunks sent at first hunk']:>26.0%}"
        )


if __name__ == "__main__":
    asyncio.run(main())
