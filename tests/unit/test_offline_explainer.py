"""Offline explanations: structural for Python, an outline elsewhere, always marked offline."""

from __future__ import annotations

import pytest

from inkstream.providers.offline.explainer import NOTICE, explain

PYTHON = '''\
"""Loading files."""
import os
from pathlib import Path


def load(path: str, retries: int = 3, *, strict=False) -> bytes:
    """Read a file, retrying."""
    for attempt in range(retries):
        if os.path.exists(path):
            return read(path)
    raise FileNotFoundError(path)


class Store(Base):
    """A key-value store."""

    limit: int = 3

    def get(self, key):
        try:
            return self.data[key]
        except KeyError:
            raise

    async def fetch(self, url):
        async with session() as s:
            return await s.get(url)

    def keys(self):
        for k in self.data:
            yield k
'''


@pytest.mark.parametrize(
    "expected",
    [
        "> Loading files.",  # the module docstring's summary
        "**Imports:** `os`, `pathlib.Path`.",
        "### Function `load`",
        "`def load(path: str, retries: int=3, *, strict=False) -> bytes`",
        "> Read a file, retrying.",
        "`path` (`str`)",
        "`retries` (`int`), default `3`",
        "`strict`, default `False` (keyword only)",
        "- **Returns:** `bytes`, e.g. `read(path)`.",
        "`range()`, `os.path.exists()`, `read()`",
        "- **Raises:** `FileNotFoundError`.",
        "1 loop, 1 branch",
        "### Class `Store` (based on `Base`)",
        "> A key-value store.",
        "- **Attributes:** `limit: int`.",
        "- **Methods:** `get()`, `fetch()`, `keys()`.",
        "#### Function `get`",
        "- **Takes:** `key`.",
        "- **Catches:** `KeyError`.",
        "re-raises the exception it caught",
        "#### Async function `fetch`",
        "- **Awaits** 1 time.",
        "1 `with` block",
        "- **Takes:** no arguments besides `self`.",
        "- **Yields** values (`k`): it is a generator.",
    ],
)
def test_python_is_explained_from_its_syntax_tree(expected: str) -> None:
    assert expected in explain(PYTHON, "python")


def test_a_selection_from_inside_a_function_is_explained_too() -> None:
    text = explain(
        "        total = compute(a)\n        if total:\n            send(total)\n", "python"
    )
    assert "- **Sets:** `total`." in text
    assert "`compute()`, `send()`" in text and "1 branch" in text


def test_a_function_being_written_still_parses() -> None:
    assert "### Function `todo`" in explain("def todo(x):\n", "python")


def test_python_that_does_not_parse_gets_an_outline() -> None:
    text = explain("def broken(:\n    pass\n", "python")
    assert "### Outline (python" in text and "`broken`" in text


JAVASCRIPT = """\
// Totals of a cart.
import { sum } from "./math.js";
const fs = require("fs");

export function total(items) {
  let t = 0;
  for (const x of items) { t += x.price; }
  if (t > 10) throw new Error("too big");
  return fs.readFileSync(t);
}

const double = (x) => x * 2;
"""


@pytest.mark.parametrize(
    "expected",
    [
        "### Outline (javascript, 12 lines: 9 of code, 1 of comments, 2 blank)",
        "function `total`",
        "function `double`",
        "`./math.js`, `fs`",
        "`fs.readFileSync()`",
        "`for` ×1",
        "`throw` ×1",
        "**Comments say:** Totals of a cart.",
    ],
)
def test_other_languages_get_an_outline(expected: str) -> None:
    assert expected in explain(JAVASCRIPT, "javascript")


def test_c_functions_are_found_by_their_shape() -> None:
    text = explain("#include <stdio.h>\nint main(int argc, char **argv) {\n  return 0;\n}\n", "c")
    assert "function `main`" in text and "`stdio.h`" in text


@pytest.mark.parametrize(
    ("code", "language"),
    [(PYTHON, "python"), (JAVASCRIPT, "javascript"), ("", "go"), ("# only\n", "python")],
)
def test_every_explanation_says_it_is_offline_and_how_to_use_an_llm(
    code: str, language: str
) -> None:
    text = explain(code, language)
    assert text.rstrip().endswith(NOTICE)
    assert "offline model" in NOTICE and "INKSTREAM_BASE_URL" in NOTICE
