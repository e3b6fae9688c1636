"""Offline model tokens: exact round trips, unfinished code, and what the model sees."""

from __future__ import annotations

import pytest

from inkstream.providers.offline.tokens import (
    MAX_TOKEN_CHARS,
    model_tokens,
    step,
    tokenize_code,
)

ROUND_TRIPS = [
    ("python", "def f(a, b):\n    x = a + b  # sum\n\n    return x\n"),
    ("python", "class A:\n    def f(self):\n        return {'k': [1, 2]}\n"),
    ("python", "x = foo(a,\n        b)\ny = 1 + \\\n    2\n"),
    ("python", 's = """doc\nstring"""\nt = f"{s!r}"\n'),
    ("python", "def f():\n\tif x:\n\t\treturn 1\n"),
    ("javascript", "let x = f(1);\nconst y = a?.b ?? 0x1F; /* c */\n  // hi\n"),
    ("go", 'func main() {\n\tfmt.Println("hi")\n}\n'),
    ("rust", "fn f(x: &str) -> Option<u8> {\n    x.parse().ok()\n}\n"),
]


@pytest.mark.parametrize(("language", "source"), ROUND_TRIPS)
def test_tokens_give_the_text_back(language: str, source: str) -> None:
    assert "".join(tokenize_code(source, language)) == source


UNFINISHED = [
    "def f():\n    ",  # the cursor on an indented empty line
    "x = foo(a,\n    b",  # an open bracket
    "s = '''unterminated\nstill",  # a string that does not end
    "if x:\n  a\n b\n",  # inconsistent dedent
    "s = 'abc\nx = 1\n",  # unterminated one-line string
    "a $ b ? c",  # not Python at all
]


@pytest.mark.parametrize("source", UNFINISHED)
def test_unfinished_python_never_raises_and_keeps_the_text(source: str) -> None:
    assert "".join(tokenize_code(source, "python")) == source


def test_spaces_belong_to_the_token_after_them() -> None:
    tokens = tokenize_code("def f(a, b):\n    return a\n", "python")
    assert tokens == [
        "def",
        " f",
        "(",
        "a",
        ",",
        " b",
        ")",
        ":",
        "\n",
        "    ",
        "return",
        " a",
        "\n",
    ]


def test_long_tokens_are_cut() -> None:
    tokens = tokenize_code("x = '" + "a" * 200 + "'\n", "python")
    assert max(len(t) for t in tokens) == MAX_TOKEN_CHARS


def test_the_model_sees_indentation_steps_and_no_comments() -> None:
    source = (
        "class A:\n"
        "    def f(self):  # note\n"
        "        # a line of its own\n"
        "        return 1\n"
        "\n"
        "    def g(self):\n"
        "        pass\n"
        "x = 1\n"
    )
    tokens = model_tokens(tokenize_code(source, "python"), "python")
    assert tokens == [
        "class", " A", ":", "\n",
        step(4), "def", " f", "(", "self", ")", ":", "\n",
        step(4), "return", " 1", "\n",
        "\n",
        step(-4), "def", " g", "(", "self", ")", ":", "\n",
        step(4), "pass", "\n",
        step(-8), "x", " =", " 1", "\n",
    ]  # fmt: skip


def test_typed_indentation_ends_the_context_as_a_step() -> None:
    assert model_tokens(tokenize_code("if x:\n    ", "python"), "python")[-2:] == ["\n", step(4)]
    # the same depth as the line before: no step at all
    assert model_tokens(tokenize_code("if x:\n    a\n    ", "python"), "python")[-1] == "\n"


def test_hash_is_a_comment_only_where_it_is_one() -> None:
    c_source = "#include <stdio.h>\nint x; // counter\n"
    assert "#include" in "".join(model_tokens(tokenize_code(c_source, "c"), "c"))
    assert "counter" not in "".join(model_tokens(tokenize_code(c_source, "c"), "c"))
    py = model_tokens(tokenize_code("x = 1  # one\n", "python"), "python")
    assert py == ["x", " =", " 1", "\n"]
