"""``inkstream next-edit FILE[:LINE:COL]``: the next edits for a file's uncommitted changes.

The file's changes (against git's HEAD, or ``--before OLDFILE``) become the edit history the way
an editor's would: the server is sent the old text, then each changed hunk as an incremental
``didChange``, the hunk at the cursor last (the "last edit"). The suggested edits print as a
unified diff, hunk by hunk as the server makes each final; ``--json`` prints each LSP edit as a
JSON line instead. Ctrl-C cancels the request, and with it the model.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkstream.terminal.client import ServerError, TerminalClient
from inkstream.terminal.commands import (
    EXIT_INTERRUPTED,
    UsageError,
    _options,
    _read,
    _run,
    _stopped,
    _usage_errors,
)


def add_command(sub: Any) -> None:
    parser = sub.add_parser(
        "next-edit", help="suggest the next edits from FILE's uncommitted changes"
    )
    parser.add_argument(
        "target", help="FILE or FILE:LINE:COL, 1-based (default: the end of the last change)"
    )
    parser.add_argument(
        "--before", metavar="OLDFILE", help="FILE before the changes (default: git's HEAD)"
    )
    parser.add_argument("--json", action="store_true", help="print each LSP edit as a JSON line")
    parser.add_argument("--base-url", help="OpenAI-compatible endpoint (else: offline)")
    parser.add_argument("--model", help="model name")
    parser.add_argument("--api-style", choices=("chat", "fim", "auto"), help="request style")
    parser.add_argument(
        "--verbose", action="store_true", help="show the server's log messages on stderr"
    )
    parser.set_defaults(run=_run_next_edit)


@dataclass(frozen=True)
class Change:
    """Replace ``[start, end)`` (str offsets in the text as it is then) with ``text``."""

    start: int
    end: int
    text: str


def replay(old: str, new: str, cursor_line: int | None) -> tuple[list[Change], tuple[int, int]]:
    """The changes that turn ``old`` into ``new``, one per hunk, the hunk nearest
    ``cursor_line`` (a line of ``new``; None: the last hunk) last; and the cursor (line, str
    column in ``new``), by default at the end of that last hunk."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    hunks = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not hunks:
        return [], (cursor_line or 0, 0)
    if cursor_line is not None:
        nearest = min(hunks, key=lambda op: _distance(cursor_line, op[3], op[4]))
        hunks.remove(nearest)
        hunks.append(nearest)
    changes: list[Change] = []
    current = list(old_lines)
    applied: list[tuple[int, int]] = []  # (first old line, lines added) of the hunks sent
    for _tag, i1, i2, j1, j2 in hunks:
        at = i1 + sum(delta for first, delta in applied if first < i1)
        start = sum(len(line) for line in current[:at])
        end = start + sum(len(line) for line in old_lines[i1:i2])
        changes.append(Change(start, end, "".join(new_lines[j1:j2])))
        current[at : at + (i2 - i1)] = new_lines[j1:j2]
        applied.append((i1, (j2 - j1) - (i2 - i1)))
    _tag, _i1, _i2, j1, j2 = hunks[-1]
    if j2 > j1:
        last = new_lines[j2 - 1].rstrip("\r\n")
        cursor = (j2 - 1, len(last))
    else:
        cursor = (j1, 0)
    return changes, cursor


def _distance(line: int, first: int, stop: int) -> int:
    if first <= line < max(stop, first + 1):
        return 0
    return min(abs(line - first), abs(line - stop))


def _position(text: str, offset: int) -> tuple[int, int]:
    """(line, UTF-16 column) of a str offset."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    return line, len(text[start:offset].encode("utf-16-le")) // 2


def _chars(line: str, units: int) -> int:
    """A UTF-16 column of ``line`` as a str index."""
    return len(line.encode("utf-16-le")[: units * 2].decode("utf-16-le", "ignore"))


def unified_hunk(lines: list[str], edit: dict[str, Any]) -> str:
    """One LSP edit against ``lines`` (the file as it is) as a unified diff hunk."""
    start, end = edit["range"]["start"], edit["range"]["end"]
    first, last = start["line"], end["line"]
    padded = lines + [""] * (last + 1 - len(lines))
    head = padded[first][: _chars(padded[first], start["character"])]
    tail = padded[last][_chars(padded[last], end["character"]) :]
    old = padded[first : last + 1]
    new = (head + edit["text"] + tail).split("\n")
    while old and new and old[-1] == new[-1]:
        old.pop()
        new.pop()
    while old and new and old[0] == new[0]:
        old.pop(0)
        new.pop(0)
        first += 1
    old_start = first + 1 if old else first
    new_start = first + 1 if new else first
    body = [f"-{line}\n" for line in old] + [f"+{line}\n" for line in new]
    return f"@@ -{old_start},{len(old)} +{new_start},{len(new)} @@\n" + "".join(body)


def _committed(path: Path) -> str:
    """The file as git's HEAD has it."""
    try:
        done = subprocess.run(
            ["git", "-C", str(path.parent.resolve()), "show", f"HEAD:./{path.name}"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git for {path}: {exc}; give --before OLDFILE") from exc
    if done.returncode != 0:
        raise UsageError(
            f"{path} has no version in git's HEAD ({done.stderr.decode(errors='replace').strip()}"
            "); give --before OLDFILE"
        )
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} in HEAD is not UTF-8 text") from exc


def _target(spec: str) -> tuple[Path, int | None, int | None]:
    match = re.fullmatch(r"(.+):(\d+):(\d+)", spec)
    if match and not Path(spec).exists():
        return Path(match.group(1)), int(match.group(2)), int(match.group(3))
    return Path(spec), None, None


@_usage_errors
def _run_next_edit(args: argparse.Namespace) -> int:
    path, line, column = _target(args.target)
    new = _read(path)
    old = _read(Path(args.before)) if args.before else _committed(path)
    new_lines = new.split("\n")
    if line is not None and column is not None:
        if not 1 <= line <= len(new_lines):
            raise UsageError(f"{path} has {len(new_lines)} lines; line {line} does not exist")
        if not 1 <= column <= len(new_lines[line - 1]) + 1:
            raise UsageError(f"line {line} of {path} has {len(new_lines[line - 1])} characters")
    changes, (cursor_line, cursor_column) = replay(old, new, None if line is None else line - 1)
    if line is not None and column is not None:
        cursor_line, cursor_column = line - 1, column - 1
    if not changes:
        print(f"inkstream: {path} has no changes to go on", file=sys.stderr)
    character = len(new_lines[cursor_line][:cursor_column].encode("utf-16-le")) // 2

    async def job(
        client: TerminalClient, args: argparse.Namespace, interrupted: list[float]
    ) -> int:
        await client.initialize(_options(args), path.parent)
        uri = client.open(path, old)
        text, version = old, 1
        for change in changes:
            version += 1
            start, end = _position(text, change.start), _position(text, change.end)
            client.change(uri, version, start, end, change.text)
            text = text[: change.start] + change.text + text[change.end :]
        shown = 0

        def on_edits(edits: list[dict[str, Any]]) -> None:
            nonlocal shown
            for edit in edits:
                if args.json:
                    sys.stdout.write(json.dumps(edit) + "\n")
                else:
                    if shown == 0:
                        sys.stdout.write(f"--- a/{path.name}\n+++ b/{path.name}\n")
                    sys.stdout.write(unified_hunk(new_lines, edit))
                shown += 1
            sys.stdout.flush()

        try:
            final = await client.next_edit(uri, version, cursor_line, character, on_edits)
        except ServerError as exc:
            if not exc.cancelled:
                raise
            print(_stopped(interrupted, shown).replace("tokens", "edits"), file=sys.stderr)
            return EXIT_INTERRUPTED
        if len(final) > shown:  # a client without partial results would get them here
            on_edits(final[shown:])
        if not final:
            print("inkstream: no next edit to suggest", file=sys.stderr)
        return 0

    return _run(args, job)
