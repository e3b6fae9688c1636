"""The main job in a terminal: ``inkstream demo``, ``complete`` and ``explain``.

Each command starts the real server as a subprocess and speaks LSP to it (``terminal.client``), so a
terminal run exercises exactly the path editors use. Output streams as it arrives; when stdout is
not a terminal it is plain text. Importing this module is cheap (the client needs only the
standard library; rich loads inside ``demo``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkstream.terminal.client import ServerError, TerminalClient  # the standard library only

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
SAMPLE = Path(__file__).parent / "samples" / "inventory.py"


class UsageError(Exception):
    pass


def add_commands(sub: Any) -> None:
    """Register the terminal subcommands on the ``inkstream`` parser."""
    demo = sub.add_parser("demo", help="watch ghost text and an explanation stream live")
    demo.add_argument("target", nargs="?", help="FILE[:LINE:COL] (default: a bundled sample)")
    complete = sub.add_parser("complete", help="stream the completion at FILE:LINE:COL")
    complete.add_argument("target", help="FILE:LINE:COL, 1-based")
    explain = sub.add_parser("explain", help="stream an explanation of FILE[:START-END]")
    explain.add_argument("target", help="FILE or FILE:START-END (1-based lines)")
    for parser, run in ((demo, _run_demo), (complete, _run_complete), (explain, _run_explain)):
        parser.add_argument("--base-url", help="OpenAI-compatible endpoint (else: offline model)")
        parser.add_argument("--model", help="model name")
        parser.add_argument("--api-style", choices=("chat", "fim", "auto"), help="request style")
        parser.add_argument(
            "--verbose", action="store_true", help="show the server's log messages on stderr"
        )
        parser.set_defaults(run=run)


# -- targets -------------------------------------------------------------------------------------


@dataclass
class Target:
    path: Path
    text: str
    line: int = 0  # 0-based
    character: int = 0  # UTF-16 units, as LSP counts
    end_line: int | None = None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text") from exc


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_position(spec: str) -> Target:
    match = re.fullmatch(r"(.+):(\d+):(\d+)", spec)
    if not match:
        raise UsageError(f"expected FILE:LINE:COL (1-based), got {spec!r}")
    path, line, column = Path(match.group(1)), int(match.group(2)), int(match.group(3))
    text = _read(path)
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        raise UsageError(f"{path} has {len(lines)} lines; line {line} does not exist")
    if not 1 <= column <= len(lines[line - 1]) + 1:
        raise UsageError(f"line {line} of {path} has {len(lines[line - 1])} characters")
    return Target(path, text, line - 1, _utf16(lines[line - 1][: column - 1]))


def parse_range(spec: str) -> Target:
    match = re.fullmatch(r"(.+):(\d+)-(\d+)", spec)
    path = Path(match.group(1)) if match else Path(spec)
    text = _read(path)
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if not match:
        return Target(path, text, 0, 0, count)
    start, end = int(match.group(2)), int(match.group(3))
    if not 1 <= start <= end <= count:
        raise UsageError(f"{path} has {count} lines; {start}-{end} is not a range inside it")
    return Target(path, text, start - 1, 0, end)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options = {"baseUrl": args.base_url, "model": args.model, "apiStyle": args.api_style}
    return {k: v for k, v in options.items() if v is not None}


# -- running a command against the server ---------------------------------------------------------


def _usage_errors(command: Any) -> Any:
    """Bad arguments get one line on stderr and exit code 2, like any command-line tool."""

    def run(args: argparse.Namespace) -> int:
        try:
            result: int = command(args)
            return result
        except UsageError as exc:
            print(f"inkstream: {exc}", file=sys.stderr)
            return EXIT_USAGE

    return run


def _run(args: argparse.Namespace, job: Any) -> int:
    try:
        return asyncio.run(_session(args, job))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


async def _session(args: argparse.Namespace, job: Any) -> int:
    client = TerminalClient(verbose=args.verbose)
    await client.spawn()  # first: the server starts up while this side gets ready
    interrupted: list[float] = []

    def on_sigint() -> None:
        interrupted.append(time.monotonic())
        client.cancel()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        result: int = await job(client, args, interrupted)
        return result
    except ServerError as exc:
        if exc.cancelled:
            return EXIT_INTERRUPTED
        print(f"inkstream: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await client.close()


def _stopped(interrupted: list[float], produced: int) -> str:
    waited = (time.monotonic() - interrupted[0]) * 1000 if interrupted else 0.0
    return (
        f"stopped: the model was cancelled after {produced} tokens; the server confirmed "
        f"that the stream was closed {waited:.1f} ms after Ctrl-C"
    )


# -- complete / explain --------------------------------------------------------------------------


@_usage_errors
def _run_complete(args: argparse.Namespace) -> int:
    target = parse_position(args.target)

    async def job(
        client: TerminalClient, args: argparse.Namespace, interrupted: list[float]
    ) -> int:
        await client.initialize(_options(args), target.path.parent)
        uri = client.open(target.path, target.text)
        printed = ""
        tokens = 0
        client.on_message = _print_waits

        def on_snapshot(text: str) -> None:
            nonlocal printed, tokens
            tokens += 1
            if text.startswith(printed):
                sys.stdout.write(text[len(printed) :])
                sys.stdout.flush()
                printed = text

        try:
            final = await client.complete(uri, target.line, target.character, on_snapshot)
        except ServerError as exc:
            if not exc.cancelled:
                raise
            print(f"\n{_stopped(interrupted, tokens)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        if not final:  # say why, in one line, where a script does not read it as code
            print(f"inkstream: {_empty_reason(client)}", file=sys.stderr)
            return 0
        if final.startswith(printed):
            sys.stdout.write(final[len(printed) :])
        else:  # the server's final clean-up changed what was shown: print it whole
            sys.stdout.write(("\n" if printed else "") + final)
        sys.stdout.write("\n")
        return 0

    return _run(args, job)


@_usage_errors
def _run_explain(args: argparse.Namespace) -> int:
    target = parse_range(args.target)

    async def job(
        client: TerminalClient, args: argparse.Namespace, interrupted: list[float]
    ) -> int:
        await client.initialize(_options(args), target.path.parent)
        uri = client.open(target.path, target.text)
        count = 0

        def on_delta(delta: str) -> None:
            nonlocal count
            count += 1
            sys.stdout.write(delta)
            sys.stdout.flush()

        try:
            text = await client.explain(uri, target.line, target.end_line or 0, on_delta)
        except ServerError as exc:
            if not exc.cancelled:
                raise
            print(f"\n{_stopped(interrupted, count)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        return 0

    return _run(args, job)


# -- demo ----------------------------------------------------------------------------------------


def demo_target(spec: str | None) -> Target:
    if spec:
        if re.fullmatch(r".+:\d+:\d+", spec):
            return parse_position(spec)
        text = _read(Path(spec))
        lines = text.rstrip("\n").split("\n")
        return Target(Path(spec), text, len(lines) - 1, _utf16(lines[-1]))
    # the sample is a whole module; the demo empties the start of ``most_valuable`` (its check
    # for no items and its first candidate: what ``cheapest``, which promises the same
    # ValueError, does too) and puts the cursor there, so the model writes it from the file
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    function = next(i for i, line in enumerate(lines) if line.startswith("def most_valuable"))
    start = function + 2  # after the docstring's line
    end = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("for "))
    indent = len(lines[end]) - len(lines[end].lstrip())
    lines[start:end] = [" " * indent]
    return Target(SAMPLE, "\n".join(lines), start, indent)


def _enclosing_block(lines: list[str], line: int) -> tuple[int, int]:
    """The function (or class) around ``line``: from its ``def`` to the next top-level code."""
    start = line
    while start > 0 and not re.match(
        r"\s*(async\s+def|def|class|function|func|fn)\b", lines[start]
    ):
        start -= 1
    end = line + 1
    while end < len(lines) - 1 and (not lines[end].strip() or lines[end][:1].isspace()):
        end += 1
    return start, end


@_usage_errors
def _run_demo(args: argparse.Namespace) -> int:
    import os

    target = demo_target(args.target)
    os.environ.setdefault("INKSTREAM_OFFLINE_PACE", "0.04")  # slow enough to watch it grow

    async def job(
        client: TerminalClient, args: argparse.Namespace, interrupted: list[float]
    ) -> int:
        from rich.console import Console, Group
        from rich.markdown import Markdown
        from rich.panel import Panel
        from rich.text import Text

        console = Console(highlight=False)
        fancy = console.is_terminal
        await client.initialize(_options(args), target.path.parent)
        uri = client.open(target.path, target.text)
        lines = target.text.split("\n")
        cursor_line = lines[target.line]
        column = len(cursor_line.encode("utf-16-le")[: target.character * 2].decode("utf-16-le"))
        ghost = ""
        printed = ""  # what plain output has written of the ghost text
        counter = {"snapshots": 0, "deltas": 0}

        def editor_view() -> Panel:
            view = Text()
            for text in lines[max(0, target.line - 10) : target.line]:
                view.append(text + "\n")
            view.append(cursor_line[:column])
            view.append(ghost or "▏", style="dim italic")
            view.append(cursor_line[column:] + "\n")
            for text in lines[target.line + 1 : target.line + 4]:
                view.append(text + "\n")
            title = f"{target.path.name}:{target.line + 1}:{column + 1}  ghost text"
            return Panel(view, title=title, subtitle=_status(client))

        def write_plain(text: str) -> None:
            nonlocal printed
            if not fancy and text.startswith(printed):
                sys.stdout.write(text[len(printed) :])
                sys.stdout.flush()
                printed = text

        def on_snapshot(text: str) -> None:
            nonlocal ghost
            counter["snapshots"] += 1
            write_plain(text)
            ghost = text

        if not fancy:
            print(f"== completing {target.path.name}:{target.line + 1}:{column + 1}")
        try:
            with _live(console, fancy, editor_view) as refresh:
                task = asyncio.ensure_future(
                    client.complete(uri, target.line, target.character, on_snapshot)
                )
                while not task.done():
                    refresh()
                    await asyncio.wait([task], timeout=0.05)
                ghost = task.result() or ghost
                refresh()
        except ServerError as exc:
            if not exc.cancelled:
                raise
            console.print(f"[bold red]{_stopped(interrupted, counter['snapshots'])}")
            return EXIT_INTERRUPTED
        write_plain(ghost)
        if not fancy:
            print("" if ghost else f"({_empty_reason(client)})")
        elif not ghost:
            console.print(f"[yellow]{_empty_reason(client)}")

        if args.target is None:  # the sample: a rename at one place, the rest as next edits
            renamed = await _demo_next_edit(client, uri, lines, console, fancy, interrupted)
            if renamed is None:
                return EXIT_INTERRUPTED
            lines = renamed

        start, end = _enclosing_block(lines, target.line)
        explanation = ""

        def on_delta(delta: str) -> None:
            nonlocal explanation
            counter["deltas"] += 1
            explanation += delta
            if not fancy:
                sys.stdout.write(delta)
                sys.stdout.flush()

        if not fancy:
            print(f"\n== explaining lines {start + 1}-{end}")

        def explanation_view() -> Group:
            return Group(Markdown(explanation or "…"), Text(_status(client), style="cyan"))

        try:
            with _live(console, fancy, explanation_view) as refresh:
                task = asyncio.ensure_future(client.explain(uri, start, end, on_delta))
                while not task.done():
                    refresh()
                    await asyncio.wait([task], timeout=0.05)
                explanation = task.result()
                refresh()
        except ServerError as exc:
            if not exc.cancelled:
                raise
            console.print(f"[bold red]{_stopped(interrupted, counter['deltas'])}")
            return EXIT_INTERRUPTED
        if not fancy:
            print(f"\n== {_status(client)}")
        return 0

    return _run(args, job)


#: the demo's rename: the parameter ``minimum`` of ``restock`` becomes ``threshold`` in its ``def``
DEMO_RENAME = ("def restock(", "minimum", "threshold")


def demo_rename(lines: list[str]) -> tuple[int, int] | None:
    """Where the demo renames (line, column of the old name), if the sample still has it."""
    prefix, old, _new = DEMO_RENAME
    for number, line in enumerate(lines):
        if line.startswith(prefix) and (column := line.find(old + ":")) >= 0:
            return number, column
    return None


async def _demo_next_edit(
    client: TerminalClient,
    uri: str,
    lines: list[str],
    console: Any,
    fancy: bool,
    interrupted: list[float],
) -> list[str] | None:
    """Rename at one place as a user would (one ``didChange``), then print the next edits the
    server suggests for the rest, each hunk as it arrives. The new lines, or None if stopped."""
    from inkstream.terminal.nextedit import unified_hunk

    place = demo_rename(lines)
    if place is None:
        return lines
    _prefix, old, new = DEMO_RENAME
    line, column = place
    lines = lines[:]
    lines[line] = lines[line][:column] + new + lines[line][column + len(old) :]
    # the sample is ASCII: str columns are UTF-16 columns
    client.change(uri, 2, (line, column), (line, column + len(old)), new)
    title = f"== next edits after renaming {old} → {new} on line {line + 1}"
    console.print(f"\n[bold]{title}[/bold]" if fancy else f"\n{title}", highlight=False)
    count = 0

    def on_edits(edits: list[dict[str, Any]]) -> None:
        nonlocal count
        for edit in edits:
            hunk = unified_hunk(lines, edit)
            if fancy:
                from rich.syntax import Syntax

                console.print(Syntax(hunk.rstrip("\n"), "diff", theme="ansi_dark"))
            else:
                sys.stdout.write(hunk)
                sys.stdout.flush()
            count += 1

    try:
        final = await client.next_edit(uri, 2, line, column + len(new), on_edits)
    except ServerError as exc:
        if not exc.cancelled:
            raise
        console.print(_stopped(interrupted, count).replace("tokens", "edits"))
        return None
    if len(final) > count:
        on_edits(final[count:])
    if not final:
        console.print("(no next edit)")
    return lines


@contextlib.contextmanager
def _live(console: Any, fancy: bool, view: Any) -> Iterator[Any]:
    """A live-updating region on a terminal; nothing (plain streaming) otherwise."""
    if not fancy:
        yield lambda: None
        return
    from rich.live import Live

    with Live(view(), console=console, refresh_per_second=20) as live:
        yield lambda: live.update(view())


def _print_waits(message: str) -> None:
    """What a slow first answer waits for (a model being built), on stderr."""
    if message.startswith("waiting for"):
        print(f"inkstream: {message}…", file=sys.stderr, flush=True)


def _empty_reason(client: TerminalClient) -> str:
    """Why the server's completion is empty: its work-done ``end`` message says."""
    message = client.progress.message
    return message if message.startswith("no completion") else "no completion"


def _status(client: TerminalClient) -> str:
    elapsed = time.monotonic() - client.progress.started
    message = client.progress.message or "waiting for the model"
    return f"{message} · {elapsed:.1f} s"
