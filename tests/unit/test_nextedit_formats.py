"""Next-edit prompt formats and the reading of their answers (pure)."""

from __future__ import annotations

import dataclasses

import pytest

from inkstream.completion.context import Snippet
from inkstream.nextedit.converge import LastEdit
from inkstream.nextedit.formats import (
    REGION_SIZES,
    FileDiff,
    ModelFormat,
    NextEditInput,
    RegionSize,
    build_request,
    editable_region,
    read_region,
    resolve_format,
)

TEXT = "def f(xs):\n    subtotal = 0\n    for x in xs:\n        total += x\n    return total\n"
DIFF = "--- a/src/a.py\n+++ b/src/a.py\n@@ -2 +2 @@\n-    total = 0\n+    subtotal = 0\n"
INPUT = NextEditInput(
    "src/a.py",
    "python",
    TEXT,
    (1, 12),
    (FileDiff("src/a.py", DIFF),),
    last_edit=LastEdit(1, 2, ("    total = 0",)),
)
REGION = ("def f(xs):", "    subtotal = 0", "    for x in xs:", "        total += x")
REWRITTEN = ("def f(xs):", "    subtotal = 0", "    for x in xs:", "        subtotal += x")


# --- which format ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "model", "chosen", "provider", "expected"),
    [
        ("auto", "zed-industries/zeta", False, "openai", "zeta"),
        ("auto", "lmstudio-community/zeta-GGUF", True, "openai", "zeta"),
        ("auto", "nate/instinct:latest", False, "openai", "instinct"),
        ("auto", "continuedev/instinct", True, "openai", "instinct"),
        ("auto", "sweepai/sweep-next-edit-1.5B", False, "openai", "sweep"),
        ("auto", "sweep-next-edit-v2-7b-q4", True, "openai", "sweep"),
        # a model chosen for next edits whose name shows no format: asked as a chat model
        ("auto", "qwen2.5-coder:7b-instruct", True, "openai", "chat"),
        # the completion model, not chosen for next edits: no model is asked
        ("auto", "qwen2.5-coder:7b", False, "openai", "offline"),
        ("chat", "qwen2.5-coder:7b", False, "openai", "chat"),
        ("zeta", "my-finetune", True, "openai", "zeta"),
        ("offline", "zed-industries/zeta", True, "openai", "offline"),
        ("auto", "zed-industries/zeta", True, "offline", "offline"),
        ("zeta", "zeta", True, "offline", "offline"),
    ],
)
def test_format_choice(
    setting: str, model: str, chosen: bool, provider: str, expected: str
) -> None:
    got = resolve_format(setting, model=model, model_chosen=chosen, provider=provider)  # type: ignore[arg-type]
    assert got == expected


# --- the editable region --------------------------------------------------------------------------

LINES = [f"line {i:03d}" for i in range(100)]  # 8 characters + newline each


@pytest.mark.parametrize(
    ("fmt", "cursor", "region"),
    [
        ("chat", 50, (48, 56)),  # Copilot: 2 above, 5 below
        ("chat", 0, (0, 6)),
        ("chat", 99, (97, 100)),
        ("instinct", 50, (49, 56)),  # Continue: 1 above, 5 below
        ("sweep", 50, (40, 61)),  # 21 lines
        ("sweep", 3, (0, 14)),
        # Zed: ~1,050 characters, alternating sides: 116 lines of 9 would do, 20 + 20 cap it
        ("zeta", 50, (30, 71)),
    ],
)
def test_region_sizes(fmt: ModelFormat, cursor: int, region: tuple[int, int]) -> None:
    got = editable_region(LINES, cursor, REGION_SIZES[fmt])
    assert (got.start, got.end) == region
    assert got.start <= cursor < got.end


def test_a_character_budget_grows_the_region_on_both_sides_until_full() -> None:
    lines = ["x" * 99] * 40  # 100 characters a line with its newline
    got = editable_region(lines, 20, RegionSize(above=20, below=20, context=3, budget_chars=500))
    assert (got.start, got.end) == (18, 23)  # the cursor's line, then 2 above and 2 below
    assert (got.context_start, got.context_end) == (15, 26)


# --- prompts ------------------------------------------------------------------------------------

ZETA_PROMPT = """\
### Instruction:
You are a code completion assistant and your task is to analyze user edits and then rewrite an \
excerpt that the user provides, suggesting the appropriate edits within the excerpt, taking into \
account the cursor location.

### User Edits:

User edited src/a.py:
```diff
@@ -2 +2 @@
-    total = 0
+    subtotal = 0
```

### User Excerpt:

```src/a.py
<|start_of_file|>
<|editable_region_start|>
def f(xs):
    subtotal<|user_cursor_is_here|> = 0
    for x in xs:
        total += x
    return total

<|editable_region_end|>
```

### Response:

"""


def test_zeta_prompt_is_zeds_layout() -> None:
    req = build_request("zeta", INPUT)
    assert req.prompt == ZETA_PROMPT
    assert req.messages is None
    assert req.stop == ("\n<|editable_region_end|>",)
    assert req.original == (*REGION, "    return total", "")


SWEEP_V2_PROMPT = """\
<|file_sep|>src/util.py
def add(a, b):
    return a + b
<|file_sep|>src/a.py.diff
original:
    total = 0
updated:
    subtotal = 0
<|file_sep|>original/src/a.py:1:6
def f(xs):
    total = 0
    for x in xs:
        total += x
    return total

<|file_sep|>current/src/a.py:1:6
def f(xs):
    subtotal<|cursor|> = 0
    for x in xs:
        total += x
    return total

<|file_sep|>updated/src/a.py:1:6
"""


def test_sweep_prompt_shows_the_region_before_and_after_the_last_edit() -> None:
    inp = dataclasses.replace(
        INPUT, snippets=(Snippet("src/util.py", "def add(a, b):\n    return a + b\n"),)
    )
    v2 = build_request("sweep", inp, model="sweepai/sweep-next-edit-v2-7B")
    assert v2.prompt == SWEEP_V2_PROMPT
    assert v2.stop == ("<|file_sep|>", "</s>")
    # the 0.5B/1.5B models were trained without line ranges and cursor (Sweep's cursortab.nvim)
    v1 = build_request("sweep", inp, model="sweep-next-edit-1.5b")
    assert v1.prompt is not None
    assert "<|file_sep|>updated/src/a.py\n" in v1.prompt
    assert "<|cursor|>" not in v1.prompt and ":1:6" not in v1.prompt


@pytest.mark.parametrize(
    ("edit_at", "old", "new"),
    [
        (2, ["v2"], ["n2a", "n2b"]),  # above the region: one line became two
        (30, ["v30"], ["n30"]),  # inside it
        (25, ["v25", "v26"], []),  # two lines deleted inside it
        (5, [], ["new5"]),  # a line added above it
    ],
)
def test_sweep_original_block_is_the_same_window_before_the_last_edit(
    edit_at: int, old: list[str], new: list[str]
) -> None:
    before = [f"v{i}" for i in range(60)]
    after = [*before[:edit_at], *new, *before[edit_at + len(old) :]]
    cursor = 30 + len(new) - len(old) if edit_at < 30 else 30
    last = LastEdit(edit_at, edit_at + len(new), tuple(old))
    inp = NextEditInput("a.txt", "plaintext", "\n".join(after), (cursor, 0), last_edit=last)
    req = build_request("sweep", inp, model="sweep-next-edit-1.5b")
    assert req.prompt is not None
    original = req.prompt.split("<|file_sep|>original/a.txt\n")[1].split("<|file_sep|>")[0]
    current = req.prompt.split("<|file_sep|>current/a.txt\n")[1].split("<|file_sep|>")[0]
    assert current.split("\n")[:-1] == after[cursor - 10 : cursor + 11]
    # the same stretch of code, as it was: from the line the window starts at to where it ends
    first = after[cursor - 10]
    last_line = after[cursor + 10]
    assert original.split("\n")[:-1] == before[before.index(first) : before.index(last_line) + 1]


def test_instinct_messages_follow_continues_template() -> None:
    inp = NextEditInput(
        INPUT.path,
        INPUT.language_id,
        INPUT.text,
        INPUT.cursor,
        INPUT.history,
        (Snippet("src/util.py", "def add(a, b):\n    return a + b\n"),),
    )
    req = build_request("instinct", inp)
    assert req.prompt is None and req.messages is not None
    system, user = req.messages
    assert system["role"] == "system" and system["content"].startswith("You are Instinct")
    content = user["content"]
    sections = ["### Context:", "### User Edits:", "### User Excerpt:", "### Response:"]
    assert [content.index(s) for s in sections] == sorted(content.index(s) for s in sections)
    assert "<|context_file|>: src/util.py\n<|snippet|>\ndef add(a, b):" in content
    assert 'User edited file "src/a.py"\n\n```diff\n@@ -2 +2 @@\n' in content
    assert "    subtotal<|user_cursor_is_here|> = 0" in content
    assert content.endswith("<|editable_region_end|>```\n### Response:")
    assert (req.region.start, req.region.end) == (0, 6)  # 1 above, 5 below: the file ends


def test_chat_prompt_marks_the_region_and_asks_for_it_alone() -> None:
    req = build_request("chat", INPUT)
    assert req.messages is not None and req.stop == ()
    user = req.messages[1]["content"]
    assert "```diff\n@@ -2 +2 @@\n-    total = 0\n+    subtotal = 0\n```" in user
    assert "<|editable_region_start|>\ndef f(xs):\n    subtotal<|user_cursor_is_here|> = 0" in user
    assert "fenced code block" in req.messages[0]["content"]


# --- reading answers, as they stream --------------------------------------------------------------

ANSWERS: list[tuple[ModelFormat, str]] = [
    # Zeta repeats the context before the region, then the region between its markers
    ("zeta", "```src/a.py\n<|editable_region_start|>\n" + "\n".join(REWRITTEN)
     + "\n<|editable_region_end|>\n    return total\n```"),
    # stopped by the server at "\n<|editable_region_end|>"
    ("zeta", "<|editable_region_start|>\n" + "\n".join(REWRITTEN)),
    ("zeta", "<|editable_region_start|>\n" + "\n".join(REWRITTEN).replace(
        "subtotal +=", "sub<|user_cursor_is_here|>total +=") + "\n<|editable_region_end|>"),
    ("sweep", "\n".join(REWRITTEN) + "\n<|file_sep|>src/b.py\n"),
    ("sweep", "\n".join(REWRITTEN) + "\n"),
    ("sweep", "\n".join(REWRITTEN) + "<|endoftext|>"),
    ("instinct", "\n".join(REWRITTEN)),
    ("instinct", "<|editable_region_start|>\n" + "\n".join(REWRITTEN)
     + "\n<|editable_region_end|>"),
    ("instinct", "```python\n" + "\n".join(REWRITTEN) + "\n```"),
    ("chat", "```python\n" + "\n".join(REWRITTEN) + "\n```\nI renamed the accumulator."),
    ("chat", "Here is the updated region:\n```\n" + "\n".join(REWRITTEN) + "\n```"),
    ("chat", "```python\n<|editable_region_start|>\n" + "\n".join(REWRITTEN)
     + "\n<|editable_region_end|>\n```"),
    ("chat", "\n".join(REWRITTEN)),
]  # fmt: skip


@pytest.mark.parametrize(("fmt", "answer"), ANSWERS)
def test_answers_read_as_the_region_lines_growing_line_by_line(
    fmt: ModelFormat, answer: str
) -> None:
    seen: tuple[str, ...] = ()
    done_at = None
    for i in range(1, len(answer) + 1):
        read = read_region(fmt, answer[:i], final=False)
        assert read.error is None
        assert read.lines[: len(seen)] == seen, "a line once read is never taken back"
        seen = read.lines
        if read.done and done_at is None:
            done_at = i
    final = read_region(fmt, answer, final=True)
    assert final.lines == REWRITTEN
    assert final.lines[: len(seen)] == seen
    if done_at is not None:  # after the region's end, nothing more is read
        assert read_region(fmt, answer[:done_at], final=False).lines == REWRITTEN


def test_lines_are_complete_only_once_their_newline_arrives() -> None:
    partial = "<|editable_region_start|>\ndef f(xs):\n    subto"
    assert read_region("zeta", partial, final=False).lines == ("def f(xs):",)
    assert read_region("sweep", "def f(xs):\n    subto", final=False).lines == ("def f(xs):",)
    # a closing fence may follow, but the line before it has ended either way
    for tail in ("\n", "\n`", "\n``"):
        read = read_region("chat", "```python\na\nb" + tail, final=False)
        assert read.lines == ("a", "b") and not read.done


@pytest.mark.parametrize(
    ("fmt", "answer", "error"),
    [
        ("zeta", "def f(xs):\n    subtotal = 0\n", "no <|editable_region_start|>"),
        ("zeta", "<|editable_region_start|>\na\n<|editable_region_start|>\nb\n", "a second"),
    ],
)
def test_unreadable_answers_say_why(fmt: ModelFormat, answer: str, error: str) -> None:
    read = read_region(fmt, answer, final=True)
    assert read.error is not None and error in read.error
    assert read.lines == ()


def test_a_zeta_answer_before_its_start_marker_reads_nothing_yet() -> None:
    read = read_region("zeta", "```src/a.py\ndef f(xs):\n", final=False)
    assert read == read_region("zeta", "", final=False)
    assert read.lines == () and not read.done and read.error is None


# --- the settings' choice (nextEdit.model, baseUrl, format) ---------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, None),  # offline provider: no model
        ({"baseUrl": "http://127.0.0.1:8000/v1", "model": "qwen2.5-coder:7b"}, None),
        (
            {"baseUrl": "http://127.0.0.1:8000/v1", "model": "sweep-next-edit-1.5b"},
            ("sweep", "sweep-next-edit-1.5b", None),
        ),
        (
            {
                "baseUrl": "http://127.0.0.1:8000/v1",
                "nextEdit": {"model": "gpt-4o-mini", "baseUrl": "http://127.0.0.1:9/v1"},
            },
            ("chat", "gpt-4o-mini", "http://127.0.0.1:9/v1"),
        ),
        (
            {"baseUrl": "http://127.0.0.1:8000/v1", "nextEdit": {"format": "chat"}},
            ("chat", "gpt-4o-mini", None),
        ),
        (
            {
                "baseUrl": "http://127.0.0.1:8000/v1",
                "nextEdit": {"model": "zeta", "format": "offline"},
            },
            None,
        ),
    ],
)
def test_which_model_is_asked(values: dict[str, object], expected: tuple[str, ...] | None) -> None:
    from inkstream.config import merge
    from inkstream.nextedit.model import model_choice

    choice = model_choice(merge({}, values))
    got = None if choice is None else (choice.format, choice.model, choice.base_url)
    assert got == expected
