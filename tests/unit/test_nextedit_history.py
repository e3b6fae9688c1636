"""The edit history: what changed, consecutive typing merged, limits, what prompts may see."""

from __future__ import annotations

from inkstream.completion.privacy import redact
from inkstream.nextedit.history import Edit, EditHistory, diff, merge

URI = "file:///a.py"
DOC = "def f(total):\n    x = total + 1\n    return x\n"


def type_into(history: EditHistory, text: str, at: int, typed: str, now: float = 0.0) -> str:
    """Type ``typed`` key by key at offset ``at``, as an editor sends didChange."""
    for i, char in enumerate(typed):
        text = text[: at + i] + char + text[at + i :]
        history.change(URI, text, now)
    return text


def test_a_change_is_the_changed_lines() -> None:
    edit = diff(DOC, DOC.replace("x = total", "x = subtotal"), URI, 0.0)
    assert edit == Edit(URI, 1, ("    x = total + 1",), ("    x = subtotal + 1",), 0.0)


def test_inserted_and_deleted_lines_are_pure() -> None:
    inserted = diff(DOC, DOC.replace("    return", "    y = 2\n    return"), URI, 0.0)
    assert inserted == Edit(URI, 2, (), ("    y = 2",), 0.0)
    deleted = diff(DOC, DOC.replace("    x = total + 1\n", ""), URI, 0.0)
    assert deleted == Edit(URI, 1, ("    x = total + 1",), (), 0.0)
    assert diff(DOC, DOC, URI, 0.0) is None


def test_crlf_documents_keep_clean_lines() -> None:
    old = DOC.replace("\n", "\r\n")
    edit = diff(old, old.replace("total +", "subtotal +"), URI, 0.0)
    assert edit is not None and edit.new == ("    x = subtotal + 1",)


def test_typing_a_rename_key_by_key_is_one_edit() -> None:
    history = EditHistory()
    history.open(URI, DOC)
    at = DOC.index("total):")
    type_into(history, DOC, at, "sub")
    assert history.edits(URI, 0.0) == (
        Edit(URI, 0, ("def f(total):",), ("def f(subtotal):",), 0.0),
    )


def test_typing_new_lines_merges_with_the_line_it_started_on() -> None:
    history = EditHistory()
    history.open(URI, DOC)
    end_of_first = DOC.index("\n")
    type_into(history, DOC, end_of_first, "\n    y = 2")
    assert history.edits(URI, 0.0) == (Edit(URI, 1, (), ("    y = 2",), 0.0),)


def test_edits_elsewhere_stay_apart_and_undoing_removes_the_edit() -> None:
    history = EditHistory()
    history.open(URI, DOC)
    text = DOC.replace("x = total", "x = subtotal")
    history.change(URI, text, 1.0)
    text2 = text.replace("return x", "return x * 2")
    history.change(URI, text2, 2.0)
    assert [e.start for e in history.edits(URI, 2.0)] == [1, 2]
    history.change(URI, text, 3.0)  # the last edit undone
    assert [e.start for e in history.edits(URI, 3.0)] == [1]


def test_merge_refuses_edits_that_do_not_touch() -> None:
    first = Edit(URI, 0, ("a",), ("b",), 0.0)
    assert merge(first, Edit(URI, 5, ("c",), ("d",), 1.0)) is False
    assert merge(first, Edit("file:///b.py", 0, ("b",), ("c",), 1.0)) is False
    assert merge(first, Edit(URI, 0, ("b",), ("c",), 1.0)) == Edit(URI, 0, ("a",), ("c",), 1.0)
    assert merge(first, Edit(URI, 0, ("b",), ("a",), 1.0)) is None


def test_only_recent_and_only_the_last_few() -> None:
    history = EditHistory(max_edits=3, max_age=60.0)
    text = "\n".join(f"line{i}" for i in range(20))
    history.open(URI, text)
    for i in range(0, 10, 2):
        text = text.replace(f"line{i}\n", f"LINE{i}\n")
        history.change(URI, text, float(i))
    assert [e.start for e in history.edits(URI, 8.0)] == [4, 6, 8]
    assert history.edits(URI, 100.0) == ()


def test_context_redacts_secrets_leaves_out_excluded_files_and_keeps_a_budget() -> None:
    history = EditHistory()
    history.open(URI, DOC)
    history.change(URI, DOC + 'API_KEY = "sk-abcdefghijklmnopqrstuvwx"\n', 1.0)
    other, secret = "file:///b.py", "file:///.env"
    history.open(other, "a = 1\n")
    history.change(other, "a = 2\n", 2.0)
    history.open(secret, "TOKEN=1\n")
    history.change(secret, "TOKEN=2\n", 3.0)

    def excluded(uri: str) -> bool:
        return uri.endswith(".env")

    shown = history.context(URI, 5.0, excluded=excluded, redact=redact, budget_chars=1000)
    assert [e.uri for e in shown] == [URI, other]
    assert "sk-abcdefghijklmnopqrstuvwx" not in shown[0].new[0]
    assert "<redacted>" in shown[0].new[0]
    small = history.context(URI, 5.0, excluded=excluded, redact=redact, budget_chars=50)
    assert [e.uri for e in small] == [URI]
    assert history.context(secret, 5.0, excluded=excluded, redact=redact, budget_chars=1000) == ()


def test_unified_diff_form() -> None:
    edit = Edit(URI, 1, ("    x = total + 1",), ("    x = subtotal + 1",), 0.0)
    assert edit.unified("a.py") == (
        "--- a/a.py\n+++ b/a.py\n@@ -2,1 +2,1 @@\n-    x = total + 1\n+    x = subtotal + 1\n"
    )
