"""Post-processing rules, on the final text and on every snapshot of the stream (pure)."""

from __future__ import annotations

import pytest

from inkstream.completion.context import CompletionContext
from inkstream.completion.postprocess import SPECIAL_TOKENS, Cleaned, clean_completion


def ctx(doc: str, language: str = "python") -> CompletionContext:
    prefix, _, suffix = doc.partition("<C>")
    return CompletionContext("u", "/p/f", language, prefix, suffix)


CASES = [
    # (name, document, raw output, style, expected)
    ("clean passes", "def f(a, b):\n    <C>\n", "return a + b", "fim", "return a + b"),
    ("end token", "x = 1\n<C>", "print(x)<|endoftext|>junk", "fim", "print(x)"),
    ("qwen im_end", "x = 1\n<C>", "print(x)<|im_end|>", "fim", "print(x)"),
    ("deepseek eos", "x = 1\n<C>", "y = 2<｜end▁of▁sentence｜>", "fim", "y = 2"),
    ("single line", "v = f(<C>)\nprint(v)\n", "1, 2\nmore()", "fim", "1, 2"),
    ("suffix closer", "v = f(<C>)\n", "1, 2)", "fim", "1, 2"),
    (
        "python block end",
        "def f():\n    <C>\n\nprint(1)\n",
        "return 1\n\nprint(1)",
        "fim",
        "return 1",
    ),
    ("brace closer in suffix", "function f() {\n  <C>\n}\n", "return 1;\n}", "fim", "return 1;"),
    (
        "brace closer needed",
        "function f() {<C>",
        "\n  return 1;\n}\n\nf();",
        "fim",
        "\n  return 1;\n}",
    ),
    (
        "nested block kept",
        "if (x) {\n    <C>\n}",
        "a();\n    if (y) {\n        b();\n    }\n}",
        "fim",
        "a();\n    if (y) {\n        b();\n    }",
    ),
    ("repetition", "x = 1\n<C>", "a = 1\na = 1\na = 1\na = 1", "fim", "a = 1"),
    ("whitespace only", "x = 1\n<C>", "   \n  ", "fim", ""),
    (
        "suffix repeat",
        "def f():\n    <C>\n    return total\n",
        "total = 0\n    return total",
        "fim",
        "total = 0",
    ),
    (
        "fence",
        "def f(x):\n    <C>",
        "```python\nreturn x * 2\n```\nThis doubles x.",
        "chat",
        "return x * 2",
    ),
    ("prose then fence", "x = <C>", "Here is the code:\n```python\n41 + 1\n```", "chat", "41 + 1"),
    ("echo of line", "def f(x):\n    return <C>", "return x * 2", "chat", "x * 2"),
    ("hole marker", "x = <C>", "5<|CURSOR|>", "chat", "5"),
    ("chat indentation", "def f(x):\n    <C>", "    return x", "chat", "return x"),
    # What the rules of issue 12 §5 must leave alone.
    (
        "statement after a block",
        "function get(x) {\n  <C>\n}\n",
        "if (!x) {\n    return null;\n  }\n  return x.value;\n}",
        "fim",
        "if (!x) {\n    return null;\n  }\n  return x.value;",
    ),
    (
        "multi-line signature",
        "class A:\n    <C>\n",
        "def add(\n        self, item\n    ):\n        self.items.append(item)\n\n    def b(self):",
        "fim",
        "def add(\n        self, item\n    ):\n        self.items.append(item)",
    ),
    (
        "comment ending a body",
        "class A:\n    <C>\n",
        "def f(self):\n        x = 1\n        # done\n\n    def g(self):\n        pass",
        "fim",
        "def f(self):\n        x = 1\n        # done",
    ),
    (
        "ruby end closes the method",
        "class Cart\n  <C>\nend\n",
        "def add(item)\n    @items << item\n  end\n\n  def remove(item)\n    @items.delete(item)",
        "fim",
        "def add(item)\n    @items << item\n  end",
    ),
    (
        "arrow function then the next",
        "<C>\n",
        "const add = (a: number): number => {\n  return a;\n};\n\nconst sub = (a: number) => {",
        "fim",
        "const add = (a: number): number => {\n  return a;\n};",
    ),
    (
        "two calls",
        "def f(s):\n    <C>\n",
        "s.pop()\n    s.pop()\n    return s",
        "fim",
        "s.pop()\n    s.pop()\n    return s",
    ),
    (
        "three calls",
        "def f(s):\n    <C>\n",
        "s.pop()\n    s.pop()\n    s.pop()\n    s.pop()",
        "fim",
        "s.pop()",
    ),
    (
        "augmented twice",
        "def f(i):\n    i += 1\n    <C>\n",
        "i += 1\n    return i",
        "fim",
        "i += 1\n    return i",
    ),
    (
        "deeper copy below",
        "def f(x):\n    <C>\n    if x:\n        log(x)\n",
        "log(x)",
        "fim",
        "log(x)",
    ),
    ("space after a comment", "x = 1 <C>\n", "  # one", "fim", "# one"),
    (
        "chat closer without indentation",
        "class G {\n    String greet(String name) {\n        <C>\n    }\n}\n",
        "```java\nreturn name;\n}\n```",
        "chat",
        "return name;",
    ),
]


@pytest.mark.parametrize(
    ("name", "doc", "raw", "style", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_final_text(name: str, doc: str, raw: str, style: str, expected: str) -> None:
    assert clean_completion(raw, ctx(doc), style=style, final=True).text == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "doc", "raw", "style", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_snapshots_never_show_partial_markers(
    name: str, doc: str, raw: str, style: str, expected: str
) -> None:
    c = ctx(doc)
    shown = [clean_completion(raw[:i], c, style=style).text for i in range(1, len(raw) + 1)]  # type: ignore[arg-type]
    for text in shown:
        assert "```" not in text and "<|" not in text and "<｜" not in text
        assert not any(text.endswith(t[:k]) for t in SPECIAL_TOKENS for k in range(2, len(t)))
    for earlier, later in zip(shown, shown[1:], strict=False):
        assert later.startswith(earlier), f"{earlier!r} then {later!r}"
    assert expected.startswith(shown[-1]) or shown[-1] == expected


def test_done_once_the_completion_is_complete() -> None:
    c = ctx("v = f(<C>)\n")
    assert not clean_completion("1, 2", c, style="fim").done
    assert clean_completion("1, 2\n", c, style="fim").done
    assert clean_completion("x<|endoftext|>", ctx("<C>"), style="fim").done


def test_done_only_once_the_line_decides() -> None:
    """The next definition is seen once it cannot be a closing word; ``end`` is waited for."""
    c = ctx("class Cart\n  <C>\nend\n")
    body = "def add(item)\n    @items << item\n  "
    assert not clean_completion(body + "en", c, style="fim").done
    assert not clean_completion(body + "end", c, style="fim").done
    assert not clean_completion(body + "end\n\n  d", c, style="fim").done  # "done"?
    assert clean_completion(body + "end\n\n  de", c, style="fim").done
    c = ctx("services:\n  web:\n    image: nginx\n    <C>\n    restart: always\n")
    held = clean_completion("restart: alw", c, style="fim")
    assert (held.text, held.done) == ("", False)
    assert clean_completion("restart: always\n", c, style="fim") == Cleaned("", done=True)
    assert clean_completion("restart: on-failure", c, style="fim").text == "restart: on-failure"


def test_space_before_the_bracket_the_line_has() -> None:
    c = ctx("import { <C>} from 'react';\n", "javascript")
    assert clean_completion("useState }", c, style="fim").text == "useState "
    assert clean_completion("useState ", c, style="fim").text == "useState"
    assert clean_completion("useState", c, style="fim", final=True).text == "useState"
    c = ctx("import { <C> } from 'react';\n", "javascript")
    assert clean_completion("useState }", c, style="fim", final=True).text == "useState"


def test_growing_clean_output_is_monotone() -> None:
    raw = "total = 0\n    for x in xs:\n        total += x\n    return total"
    c = ctx("def f(xs):\n    <C>\n")
    shown = [clean_completion(raw[:i], c, style="fim").text for i in range(1, len(raw) + 1)]
    assert all(b.startswith(a) for a, b in zip(shown, shown[1:], strict=False))
    assert shown[-1] == raw


def test_a_completion_that_ends_on_a_repeated_line() -> None:
    """The stream ends right after a line written twice: the repeat is dropped (it used to raise
    IndexError, so the completion failed)."""
    c = ctx("def f(fp):\n    <C>\n")
    raw = "fp.readline()\n    fp.readline()"
    assert clean_completion(raw, c, style="fim", final=True).text == "fp.readline()"
