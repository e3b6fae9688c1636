"""Decoding at the cursor: where completions start, and where they stop (FIM, natural ends)."""

from __future__ import annotations

import pytest

from inkstream.completion.context import CompletionContext
from inkstream.providers.offline.decoder import (
    Decoder,
    decode,
    document_around,
    document_model,
    mode_of,
)
from inkstream.providers.offline.ngram import Models, train
from inkstream.providers.offline.tokens import model_tokens, tokenize_code

PY = """\
def handler(request):
    response = make_response(request, status=200)
    response.headers["X-Trace"] = trace_id()
    return response


def other(request):
    response = make_response(request, status=200)
    response.headers["X-Trace"] = trace_id()
    return response
"""

JS = """\
function total(items) {
  let sum = 0;
  if (items.length === 0) {
    return 0;
  } else {
    sum = items.reduce(add);
  }
  return sum;
}
"""


def models(source: str = PY, language: str = "python", copies: int = 3) -> Models:
    tokens = model_tokens(tokenize_code(source, language), language)
    return [(train([tokens] * copies), 1.0)]


def ctx(prefix: str, suffix: str = "", language: str = "python") -> CompletionContext:
    return CompletionContext("file:///p/x", "/p/x", language, prefix, suffix)


def complete(prefix: str, suffix: str = "", *, language: str = "python", source: str = PY) -> str:
    return "".join(decode(models(source, language), ctx(prefix, suffix, language), 200))


@pytest.mark.parametrize(
    ("prefix", "suffix", "mode"),
    [
        ("x = foo(", ")\n", "line"),
        ("    response = ", "\n", "statement"),
        ("def f():", "\n", "block"),
        ("def f():\n    ", "\n", "block"),
        ("function f() {", "\n}", "block"),
        ("", "", "block"),
    ],
)
def test_modes(prefix: str, suffix: str, mode: str) -> None:
    assert mode_of(ctx(prefix, suffix, "javascript" if "{" in prefix else "python")) == mode


def test_writes_a_block_on_an_empty_indented_line_and_stops_at_the_blank_line() -> None:
    text = complete("def new(request):\n    ")
    assert text == (
        "response = make_response(request, status=200)\n"
        '    response.headers["X-Trace"] = trace_id()\n'
        "    return response"
    )  # no trailing line break, and nothing after the blank line that ends the function


def test_a_block_header_gets_its_body_indented() -> None:
    text = complete("def new(request):")
    assert text.startswith("\n    response = make_response(")


def test_column_zero_gets_the_indentation_the_model_expects() -> None:
    text = complete("def new(request):\n")
    assert text.startswith("    response = make_response(")


def test_stops_at_the_end_of_the_statement() -> None:
    text = complete("def new(request):\n    response = ", "\n    return response\n")
    assert text == "make_response(request, status=200)"


def test_stops_before_the_text_after_the_cursor_on_its_line() -> None:
    text = complete("def new(request):\n    response = make_response(request, ", ")\n")
    assert text == "status=200"


def test_stops_where_the_code_after_the_cursor_begins() -> None:
    prefix = "def new(request):\n    response = make_response(request, status=200)\n    "
    text = complete(prefix, "\n    return response\n")
    assert "return response" not in text
    assert text.startswith('response.headers["X-Trace"]')


def test_the_cursor_line_itself_may_not_repeat_the_next_line() -> None:
    prefix = "def new(request):\n    response = make_response(request, status=200)\n    "
    suffix = '\n    response.headers["X-Trace"] = trace_id()\n    return response\n'
    assert complete(prefix, suffix) == ""


def test_a_dedent_ends_the_block_but_a_needed_closer_is_written() -> None:
    prefix = "function f(items) {\n  if (items.length === 0) {\n    return 0;\n  } else {"
    text = complete(prefix, "", language="javascript", source=JS)
    assert text == "\n    sum = items.reduce(add);\n  }"
    # when the editor already closed the brace, it is not written again
    text = complete(prefix, "\n  }\n}\n", language="javascript", source=JS)
    assert text == "\n    sum = items.reduce(add);"


def test_finishes_the_word_being_typed() -> None:
    text = complete("def new(request):\n    response = make_res")
    assert text.startswith("ponse(request, status=200)")


def test_no_completion_inside_a_comment() -> None:
    assert complete("def new(request):\n    # make_response") == ""


def test_respects_max_tokens_and_never_ends_with_a_line_break() -> None:
    for limit in range(1, 30):
        deltas = list(decode(models(), ctx("def new(request):\n    "), limit))
        assert len(deltas) <= limit
        assert not "".join(deltas).endswith("\n")


def test_nothing_known_means_nothing_written() -> None:
    assert complete("totally_unknown_name") == ""
    assert list(Decoder([], ctx("def f():\n    ")).tokens(50)) == []


def test_re_indents_code_known_at_another_depth() -> None:
    prefix = "class C:\n    def new(self, request):\n            "  # 12: deeper than learned
    text = complete(prefix)
    assert text.startswith("response = make_response(")
    assert "\n            response.headers" in text  # the next line at the user's depth


def test_the_document_itself_is_learned_around_the_cursor() -> None:
    prefix = "def helper(value):\n    return value\n\n\ndef f(x):\n    result = help"
    context = ctx(prefix, "\n\nresult = compute_total(x)\n")
    before, after = document_around(context)
    assert before.endswith("def f(x):\n") and after.startswith("\nresult = compute_total")
    document = document_model(before, after, "python")
    text = "".join(Decoder([(document, 1.0)], context).tokens(20))
    assert text.startswith("er(")


def test_a_string_the_model_never_saw_does_not_cut_the_context() -> None:
    source = 'FIELDS = [\n    ("Name", False),\n    ("", False),\n]\n'
    # the model knows what follows a string (the empty one, as any model of code does) here
    assert complete('FIELDS = [\n    ("Summary"', source=source) == ", False),"
    # ... but inside a string the user is still typing, it writes none of that
    assert not complete('FIELDS = [\n    ("Summ', source=source).startswith(",")


def test_at_the_end_of_a_finished_statement_the_next_line_is_written() -> None:
    text = complete("def new(request):\n    response = make_response(request, status=200)")
    assert text.startswith('\n    response.headers["X-Trace"] = trace_id()')
    # ... but not the line that already follows
    suffix = '\n    response.headers["X-Trace"] = trace_id()\n    return response\n'
    assert (
        complete("def new(request):\n    response = make_response(request, status=200)", suffix)
        == ""
    )
