"""Prompt building (pure)."""

from __future__ import annotations

import pytest

from inkstream.completion.context import CompletionContext, ExplainRequest, Snippet
from inkstream.completion.prompts import (
    HOLE,
    TEMPLATES,
    build_chat_prompt,
    build_explain_prompt,
    build_fim_prompt,
    estimate_tokens,
    fim_routes,
    fit_window,
    resolve_template,
)

CTX = CompletionContext("file:///p/a.py", "/p/a.py", "python", "def f(x):\n    ", "\nprint(f(2))\n")


@pytest.mark.parametrize(
    ("model", "setting", "family"),
    [
        ("qwen2.5-coder:7b", "auto", "qwen"),
        ("Qwen/Qwen2.5-Coder-1.5B", "auto", "qwen"),
        ("bigcode/starcoder2-3b", "auto", "starcoder2"),
        ("starcoder", "auto", "starcoder"),
        ("deepseek-coder-6.7b-base", "auto", "deepseek"),
        ("codellama:7b-code", "auto", "codellama"),
        ("codestral-latest", "auto", "codestral"),
        ("codegemma:2b", "auto", "codegemma"),
        ("granite-code:3b", "auto", "granite"),
        ("gpt-4o-mini", "auto", "server"),
        ("anything", "qwen", "qwen"),
        ("qwen2.5-coder", "server", "server"),
        ("x", "<pre>{prefix}<hole>{suffix}<post>", "custom"),
    ],
)
def test_template_selection(model: str, setting: str, family: str) -> None:
    assert resolve_template(model, setting) == family


@pytest.mark.parametrize(
    ("family", "expected"),
    [
        ("qwen", "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\nprint(f(2))\n<|fim_middle|>"),
        ("starcoder", "<fim_prefix>def f(x):\n    <fim_suffix>\nprint(f(2))\n<fim_middle>"),
        ("codellama", "<PRE> def f(x):\n     <SUF>\nprint(f(2))\n <MID>"),
        ("deepseek", "<｜fim▁begin｜>def f(x):\n    <｜fim▁hole｜>\nprint(f(2))\n<｜fim▁end｜>"),
        ("codestral", "[SUFFIX]\nprint(f(2))\n[PREFIX]def f(x):\n    "),
    ],
)
def test_fim_templates_render_exactly(family: str, expected: str) -> None:
    prompt = build_fim_prompt(CTX, model="m", fim_template=family)
    assert prompt.prompt == expected
    assert prompt.suffix is None
    assert 0 < len(prompt.stop) <= 4


@pytest.mark.parametrize(
    ("model", "setting", "base_url", "routes"),
    [
        ("bigcode/starcoder2-3b", "auto", "http://127.0.0.1:8000/v1", ("template",)),
        ("qwen2.5-coder-1.5b", "auto", "http://127.0.0.1:8080/v1", ("template",)),
        ("qwen2.5-coder:1.5b", "auto", "http://127.0.0.1:11434/v1", ("server", "template")),
        ("codellama", "auto", "http://gpu-box:11434/v1", ("server", "template")),
        ("my-model", "auto", "http://127.0.0.1:8000/v1", ("server",)),
        ("my-model", "starcoder", "http://127.0.0.1:8000/v1", ("template",)),
        ("qwen2.5-coder:7b", "server", "http://127.0.0.1:11434/v1", ("server",)),
    ],
)
def test_fim_routes_put_the_exact_one_first(
    model: str, setting: str, base_url: str, routes: tuple[str, ...]
) -> None:
    assert fim_routes(model, setting, base_url) == routes


def test_every_family_has_at_most_four_stops() -> None:
    assert all(1 <= len(t.stop) <= 4 for t in TEMPLATES.values())


def test_server_style_sends_prefix_and_suffix_raw() -> None:
    prompt = build_fim_prompt(CTX, model="llama3", fim_template="auto")
    assert (prompt.prompt, prompt.suffix, prompt.stop) == (CTX.prefix, CTX.suffix, ())


def test_server_style_puts_other_files_before_the_prefix_as_comments() -> None:
    helper = Snippet("/p/h.py", "def helper(x):\n    return x * 2\n")
    ctx = CompletionContext("u", "/p/a.py", "python", "y = hel", "\n", snippets=(helper,))
    prompt = build_fim_prompt(ctx, model="qwen2.5-coder:1.5b", fim_template="server")
    assert prompt.prompt == ("# Path: /p/h.py\n# def helper(x):\n#     return x * 2\n\ny = hel")
    go = CompletionContext("u", "/p/a.go", "go", "x := ", "\n", snippets=(helper,))
    assert build_fim_prompt(go, model="m").prompt.startswith("// Path: /p/h.py\n// def helper")
    as_json = CompletionContext("u", "/p/a.json", "json", "{", "}", snippets=(helper,))
    assert build_fim_prompt(as_json, model="m").prompt == "{"  # no comments to hide them in


def test_custom_template_keeps_braces_in_code() -> None:
    ctx = CompletionContext("u", "/p/a.js", "javascript", "const o = {a: 1, ", "};\n")
    prompt = build_fim_prompt(ctx, model="m", fim_template="<P>{prefix}<S>{suffix}<M>")
    assert prompt.prompt == "<P>const o = {a: 1, <S>};\n<M>"


def test_qwen_repository_form_with_other_files() -> None:
    ctx = CompletionContext(
        "u",
        "/p/a.py",
        "python",
        "x = hel",
        "\n",
        snippets=(Snippet("/p/h.py", "def helper(): ..."),),
    )
    prompt = build_fim_prompt(ctx, model="qwen2.5-coder", fim_template="auto")
    assert prompt.prompt.startswith("<|file_sep|>/p/h.py\ndef helper(): ...\n<|fim_prefix|>")


def test_window_keeps_end_of_prefix_and_start_of_suffix() -> None:
    prefix = "".join(f"line {i}\n" for i in range(1000))
    suffix = "".join(f"after {i}\n" for i in range(1000))
    p, s = fit_window(prefix, suffix, budget_tokens=200)
    assert prefix.endswith(p) and suffix.startswith(s)
    assert p.startswith("line ") and s.endswith("\n")
    assert estimate_tokens(p + s) <= 200
    assert len(p) > len(s)


def test_chat_hole_filler() -> None:
    chat = build_chat_prompt(CTX)
    system, user = chat.messages
    assert system["role"] == "system" and "only the code" in system["content"]
    assert f"def f(x):\n    {HOLE}\nprint(f(2))" in user["content"]
    assert "/p/a.py" in user["content"] and "python" in user["content"]


def test_explain_prompt_has_code_and_context() -> None:
    full = "import math\n\ndef area(r):\n    return math.pi * r * r\n\nprint(area(2))\n"
    code = "def area(r):\n    return math.pi * r * r\n"
    req = ExplainRequest("u", "/p/geo.py", "python", code, full, 2)
    system, user = build_explain_prompt(req).messages
    assert "Markdown" in system["content"]
    assert code in user["content"] and "import math" in user["content"]
    assert "line 3" in user["content"]
