"""Record a real ``inkstream demo`` run (offline model) as the README's picture: two frames of
the editor view (while the ghost text streams, and complete), the next edits after a rename, then
the explanation.

    python bench/record_demo.py docs/img/demo.svg
"""

import asyncio
import os
import sys

from rich.console import Console, Group
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from inkstream.terminal.client import TerminalClient
from inkstream.terminal.commands import (
    DEMO_RENAME,
    _enclosing_block,
    _status,
    demo_rename,
    demo_target,
)
from inkstream.terminal.nextedit import unified_hunk

os.environ["INKSTREAM_OFFLINE_PACE"] = "0.04"


async def main() -> None:
    target = demo_target(None)
    client = TerminalClient()
    await client.spawn()
    await client.initialize({}, target.path.parent)
    uri = client.open(target.path, target.text)
    lines = target.text.split("\n")
    cursor_line = lines[target.line]
    column = target.character
    frames = []

    def view(ghost: str) -> Panel:
        v = Text()
        for t in lines[max(0, target.line - 10) : target.line]:
            v.append(t + "\n")
        v.append(cursor_line[:column])
        v.append(ghost or "▏", style="dim italic")
        v.append(cursor_line[column:] + "\n")
        for t in lines[target.line + 1 : target.line + 4]:
            v.append(t + "\n")
        return Panel(
            v,
            title=f"{target.path.name}:{target.line + 1}:{column + 1}  ghost text",
            subtitle=_status(client),
        )

    def on_snapshot(text: str) -> None:
        if not frames and "\n" in text:  # mid-stream: the first line is written
            frames.append(view(text))

    final = await client.complete(uri, target.line, target.character, on_snapshot)
    frames.append(view(final))
    # the demo's rename at one place; the rest of it comes as next edits
    line, at = demo_rename(lines)  # type: ignore[misc]
    _prefix, old, new = DEMO_RENAME
    lines[line] = lines[line][:at] + new + lines[line][at + len(old) :]
    client.change(uri, 2, (line, at), (line, at + len(old)), new)
    edits = await client.next_edit(uri, 2, line, at + len(new), lambda _edits: None)
    diff = "".join(unified_hunk(lines, edit) for edit in edits)
    start, end = _enclosing_block(lines, target.line)
    explanation = await client.explain(uri, start, end, lambda _delta: None)
    status = _status(client)
    await client.close()
    console = Console(record=True, width=100, force_terminal=True, color_system="truecolor")
    console.print(
        "[bold]$ inkstream demo[/]        [dim]# the ghost text grows while the model writes …[/]"
    )
    console.print(frames[0])
    console.print("[dim]… then it is complete:[/]")
    console.print(frames[-1])
    console.print(
        f"[dim]… then {old} is renamed to {new} on line {line + 1}, and the rest of the rename"
        " streams in as next edits:[/]"
    )
    console.print(Syntax(diff.rstrip("\n"), "diff", theme="ansi_dark"))
    console.print("[dim]… and the explanation streams (tokens, tokens/s, elapsed):[/]")
    console.print(Group(Markdown(explanation), Text(status, style="cyan")))
    console.save_svg(sys.argv[1], title="inkstream demo (offline model)")


asyncio.run(main())
