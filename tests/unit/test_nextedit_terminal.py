"""``inkstream next-edit``'s pure parts: replaying a diff as edits, printing an edit as a hunk."""

from __future__ import annotations

import pytest

from inkstream.terminal.nextedit import replay, unified_hunk

OLD = "a = 1\nb = 2\nc = 3\nd = 4\ne = 5"


def play(old: str, changes: list) -> str:
    for change in changes:
        old = old[: change.start] + change.text + old[change.end :]
    return old


@pytest.mark.parametrize(
    "new",
    [
        "a = 1\nB = 2\nc = 3\nd = 4\nE = 5",  # two replacements, no final newline
        "x = 0\na = 1\nc = 3\nd = 4\nd2 = 4\ne = 5\n",  # insert, delete, insert, newline
        "",
        OLD,
    ],
)
def test_replaying_the_changes_in_any_order_gives_the_new_text(new: str) -> None:
    for cursor in (None, 0, 2, 4):
        changes, _ = replay(OLD, new, cursor)
        assert play(OLD, changes) == new


def test_the_hunk_at_the_cursor_comes_last_and_the_cursor_ends_it() -> None:
    new = "a = 1\nB = 2\nc = 3\nd = 4\nEE = 5"
    changes, cursor = replay(OLD, new, None)
    assert [c.text for c in changes] == ["B = 2\n", "EE = 5"] and cursor == (4, 6)
    changes, cursor = replay(OLD, new, 1)
    assert [c.text for c in changes] == ["EE = 5", "B = 2\n"] and cursor == (1, 5)


def test_an_edit_prints_as_its_lines() -> None:
    lines = ["x = total", "y = '😀' + total", ""]
    rename = {
        "range": {"start": {"line": 1, "character": 11}, "end": {"line": 1, "character": 16}},
        "text": "subtotal",
    }
    assert (
        unified_hunk(lines, rename) == "@@ -2,1 +2,1 @@\n-y = '😀' + total\n+y = '😀' + subtotal\n"
    )
    insert = {
        "range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
        "text": "w = 0\n",
    }
    assert unified_hunk(lines, insert) == "@@ -1,0 +2,1 @@\n+w = 0\n"
    delete = {
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}},
        "text": "",
    }
    assert unified_hunk(lines, delete) == "@@ -1,1 +0,0 @@\n-x = total\n"
