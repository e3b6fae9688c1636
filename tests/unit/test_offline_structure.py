"""Structural checks of the offline model's guesses: names the scope has, attributes the class
sets, no second definition of a name the file already defines (issue 12, section 6)."""

from __future__ import annotations

import pytest

from inkstream.completion.context import CompletionContext
from inkstream.providers.offline.decoder import (
    Decoder,
    decode,
    document_around,
    document_model,
    misfit,
    structure_at,
)
from inkstream.providers.offline.ngram import Models
from inkstream.providers.offline.structure import Guard, Structure
from inkstream.providers.offline.tokens import model_tokens, tokenize_code

from offline_samples import STATS

SHAPES = """\
import math


class Shape:
    def area(self):
        raise NotImplementedError


class Circle(Shape):
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        return math.pi * self.radius ** 2

    def perimeter(self):
        return 2 * math.pi * self.radius


class Square(Shape):
    def __init__(self, side):
        self.side = side

    def area(self):
        <CURSOR>
"""


def ctx(text: str, language: str = "python") -> CompletionContext:
    prefix, suffix = text.split("<CURSOR>")
    return CompletionContext("file:///p/x.py", "/p/x.py", language, prefix, suffix)


def guard(text: str) -> Guard:
    context = ctx(text)
    structure = structure_at(context)
    assert structure is not None
    return Guard(structure, context.line_prefix)


def check(text: str, line: str, *, previous: str = "") -> str | None:
    """The verdict on ``line`` written as the first line at the cursor of ``text``."""
    g = guard(text)
    column = len(g.typed) - len(g.typed.lstrip())
    return g.check_line((g.typed + line).strip(), column, first=True, previous=previous)


def document_only(text: str) -> tuple[CompletionContext, Models]:
    """The model of the open document alone: the one that copies ``add`` into ``mean``."""
    context = ctx(text)
    return context, [(document_model(*document_around(context), "python"), 1.0)]


# -- the two cases from the issue ------------------------------------------------------------


def test_a_method_of_the_class_written_again_in_another_is_rejected() -> None:
    assert check(STATS, "def add(self, a, b):") == "redefines add"
    assert check(STATS, "return a + b") == "unknown name a"  # add's parameters, not mean's
    assert check(STATS, "return sum(values) / len(values)") is None


def test_an_attribute_the_class_never_sets_is_rejected() -> None:
    assert check(SHAPES, "return 2 * math.pi * self.radius") == "unknown attribute radius"
    assert check(SHAPES, "return self.side ** 2") is None


def test_the_decoder_no_longer_copies_add_into_mean() -> None:
    context, models = document_only(STATS)
    unchecked = "".join(Decoder(models, context).tokens(100))
    assert unchecked.startswith("def add(self, a, b):")  # what the issue saw
    checked = "".join(Decoder(models, context, structure_at(context)).tokens(100))
    assert "def add" not in checked and "a + b" not in checked
    assert misfit(context, unchecked, structure_at(context)) == "redefines add"
    assert misfit(context, checked, structure_at(context)) is None


def test_the_decoder_writes_an_attribute_square_has() -> None:
    context, models = document_only(SHAPES)
    unchecked = "".join(Decoder(models, context).tokens(100))
    assert "self.radius" in unchecked  # a Circle method's body
    checked = "".join(Decoder(models, context, structure_at(context)).tokens(100))
    assert checked and "radius" not in checked
    assert misfit(context, checked, structure_at(context)) is None


# -- more cases -------------------------------------------------------------------------------


def test_setting_a_new_attribute_is_allowed_and_then_known() -> None:
    text = SHAPES.replace(
        "    def area(self):\n        <CURSOR>", "    def grow(self, by):\n        <CURSOR>"
    )
    g = guard(text)
    assert g.check_line("self.scale = by", 8, first=True) is None
    assert g.check_line("return self.side * self.scale", 8, first=False) is None
    assert g.check_line("return self.radius", 8, first=False) == "unknown attribute radius"


def test_attributes_of_a_base_class_in_the_file_count() -> None:
    text = SHAPES.replace("class Square(Shape):", "class Square(Circle):")
    assert check(text, "return self.radius ** 2") is None


@pytest.mark.parametrize(
    "header",
    [
        "class Handler(BaseHTTPRequestHandler):",  # a base the file does not define
        "class Handler(http.server.BaseHTTPRequestHandler):",
    ],
)
def test_a_class_with_a_base_from_elsewhere_may_use_any_attribute(header: str) -> None:
    text = f"{header}\n    def do_GET(self):\n        <CURSOR>\n"
    assert check(text, "self.wfile.write(b'ok')") is None


def test_a_dynamic_class_may_use_any_attribute() -> None:
    text = (
        "class Proxy:\n    def __getattr__(self, name):\n        return 1\n\n"
        "    def run(self):\n        <CURSOR>\n"
    )
    assert check(text, "return self.anything") is None


def test_a_builtin_base_brings_its_attributes() -> None:
    text = "class Failure(Exception):\n    def describe(self):\n        <CURSOR>\n"
    assert check(text, "return self.args[0]") is None
    assert check(text, "return self.radius") == "unknown attribute radius"


def test_the_same_method_name_in_another_class_is_fine() -> None:
    text = SHAPES.replace("    def area(self):\n        <CURSOR>", "    <CURSOR>")
    assert check(text, "def area(self):") is None  # Circle has one; Square does not yet
    assert check(text, "def __init__(self, side):") == "redefines __init__"


def test_a_property_setter_or_an_overload_may_reuse_the_name() -> None:
    text = (
        "class Box:\n    @property\n    def size(self):\n        return self._size\n\n"
        "    <CURSOR>\n"
    )
    assert check(text, "def size(self, value):", previous="@size.setter") is None
    assert check(text, "def size(self, value):") == "redefines size"


def test_module_level_names_and_imports() -> None:
    text = "import os\n\n\ndef load(path):\n    return path\n\n\n<CURSOR>\n"
    assert check(text, "def load(name):") == "redefines load"
    # harmless to Python, but a suggestion that only imports what is imported is noise
    assert check(text, "import os") == "imports os again"
    assert check(text, "import os, sys") is None
    assert check(text, "print(os.getcwd())") is None


def test_self_outside_a_method_is_rejected() -> None:
    text = "def helper(x):\n    <CURSOR>\n\n\nclass A:\n    def f(self):\n        return 1\n"
    assert check(text, "return self.value") == "unknown name self"
    assert check(text, "return x") is None


def test_names_the_completion_binds_count_on_later_lines() -> None:
    g = guard(STATS)
    assert g.check_line("for value in values:", 8, first=True) is None
    assert g.check_line("total = value", 12, first=False) is None
    assert g.check_line("print(total, value)", 12, first=False) is None


def test_names_from_outside_the_file_are_left_alone() -> None:
    # a project's or library's name the file does not mention yet (an import still to add)
    assert check(STATS, "return statistics.fmean(values)") is None


def test_keyword_arguments_and_comprehensions_are_not_reads() -> None:
    assert check(STATS, "return sorted(values, key=len, reverse=True)") is None
    assert check(STATS, "return [v * 2 for v in values]") is None
    assert check(STATS, "return {k: v for k, v in values}") is None


def test_a_line_that_is_not_python_is_rejected() -> None:
    assert check(SHAPES, "return 2 * self.side = self.side") == "not a statement"
    assert check(SHAPES, "return (self.side") is None  # left open: may go on


def test_star_imports_make_any_name_possible() -> None:
    text = "from shapes import *\n\n\ndef f(a):\n    return a\n\n\ndef g(v):\n    <CURSOR>\n"
    assert check(text, "return a") is None


def test_a_file_that_does_not_parse_still_catches_redefinitions() -> None:
    broken = STATS.replace('"""Small statistics."""', "total = (")
    prefix, suffix = broken.split("<CURSOR>")
    structure = Structure.of(prefix, suffix, "python")
    assert structure is not None
    assert check(broken, "def add(self, a, b):") == "redefines add"
    assert check(broken, "return values") is None


def test_typing_on_the_line_is_part_of_the_check() -> None:
    typed = STATS.replace("<CURSOR>", "return a +<CURSOR>")
    g = guard(typed)
    # the user's own ``a`` is theirs; only what the completion adds is vetted
    assert g.check_line("return a + b", 8, first=True) == "unknown name b"


def test_other_languages_have_no_structure() -> None:
    assert Structure.of("function f() {\n  ", "\n}", "javascript") is None


def test_the_token_guard_steers_names_and_attributes() -> None:
    g = guard(SHAPES)
    tokens = model_tokens(tokenize_code("        return 2 * self.", "python"), "python")
    assert not g.allows(tokens, "radius") and g.allows(tokens, "side")
    tokens = model_tokens(tokenize_code("        return", "python"), "python")
    assert g.allows(tokens, " math") and not g.allows(tokens, " radius")
    start = model_tokens(tokenize_code("        self.", "python"), "python")
    assert g.allows(start, "radius")  # ``self.radius = ...`` may be set here; the line decides


def test_decode_applies_the_structure() -> None:
    context, models = document_only(STATS)
    assert "def add" not in "".join(decode(models, context, 100))


def test_a_method_called_with_self_twice_is_rejected() -> None:
    assert check(STATS, "return self.add(self, values)") == "passes self twice"
    assert check(STATS, "return self.add(values, 0)") is None


def test_a_line_cut_back_is_a_finished_statement() -> None:
    context, models = document_only(STATS)
    text = "".join(Decoder(models, context, structure_at(context)).tokens(100))
    assert not text.rstrip().endswith(("(", ",", "."))  # never ``return self.add(``


def test_a_huge_file_gets_the_tolerant_scan() -> None:
    filler = "".join(f"def f{i}(x):\n    return x\n\n\n" for i in range(7000))
    prefix, suffix = (filler + STATS).split("<CURSOR>")
    structure = Structure.of(prefix, suffix, "python")
    assert structure is not None and structure.attributes() is None  # attributes unknown
    g = Guard(structure, "        ")
    assert g.check_line("def add(self, a, b):", 8, first=True) == "redefines add"


def test_the_attribute_offered_when_none_fits_is_data_not_a_method() -> None:
    after_self = model_tokens(tokenize_code("        return self.", "python"), "python")
    assert guard(SHAPES).attribute_names(after_self) == {"side"}
    assert guard(STATS).attribute_names(after_self) == set()  # add and mean are methods


def test_a_word_finished_into_a_name_the_scope_lacks_is_not_given_alone() -> None:
    text = "class A:\n    def f(self):\n        return self.v\n\n\ndef helper(x):\n    se<CURSOR>\n"
    context, models = document_only(text)
    assert "".join(Decoder(models, context).tokens(50)).startswith("lf")  # unchecked: self
    assert "".join(Decoder(models, context, structure_at(context)).tokens(50)) == ""


# -- sibling copies (issue 20, section 2) --------------------------------------------------------

INVENTORY = '''\
def cheapest(items):
    """The item with the lowest price; ValueError when there are no items."""
    if not items:
        raise ValueError("no items")
    best = items[0]
    for item in items:
        if item.price < best.price:
            best = item
    return best


def most_valuable(items):
    """The item whose stock is worth the most; ValueError when there are no items."""
    if not items:
        raise ValueError("no items")
    best = items[0]
    for item in items:
        <CURSOR>
    return best
'''

TEMPERATURES = """\
def celsius_to_fahrenheit(celsius):
    return celsius * 9 / 5 + 32


def fahrenheit_to_celsius(fahrenheit):
    <CURSOR>
"""


@pytest.mark.parametrize(
    ("text", "line", "verdict"),
    [
        # another function's formula: what it computes, not what this one does
        (INVENTORY, "if item.price < best.price:", "copies cheapest"),
        (SHAPES, "return 2 * math.pi * self.side", "copies perimeter"),  # attribute renamed
        (TEMPERATURES, "return fahrenheit * 9 / 5 + 32", "copies celsius_to_fahrenheit"),
        (SHAPES, "return 2 * math.pi * self", "copies perimeter"),  # a copy cut short
        # plumbing both functions share, a same-named method's formula, a new formula: fine
        (INVENTORY, "best = item", None),
        (SHAPES, "return math.pi * self.side ** 2", None),
        (SHAPES, "return self.side ** 2", None),
        (INVENTORY, "if item.price * item.quantity > best.price * best.quantity:", None),
    ],
)
def test_a_formula_copied_from_a_function_of_another_name_is_rejected(
    text: str, line: str, verdict: str | None
) -> None:
    assert check(text, line) == verdict


def test_a_formula_this_function_already_writes_is_its_own() -> None:
    text = INVENTORY.replace(
        "    for item in items:\n        <CURSOR>",
        "    item = items[0]\n    if item.price < best.price:\n        pass\n"
        "    for item in items:\n        <CURSOR>",
    )
    assert check(text, "if item.price < best.price:") is None


@pytest.mark.parametrize(
    ("text", "copy"),
    [
        (INVENTORY, "if item.price < best.price:"),
        (TEMPERATURES, "return fahrenheit * 9 / 5 + 32"),  # the names swapped
    ],
)
def test_the_model_writes_no_sibling_copy_where_it_used_to(text: str, copy: str) -> None:
    """With the document's model alone, these wrote the sibling's formula (``cheapest``'s
    condition, ``celsius_to_fahrenheit``'s): now nothing, rather than a wrong body."""
    context, models = document_only(text)
    unchecked = "".join(Decoder(models, context, None).tokens(100))
    assert unchecked.split("\n")[0] == copy
    assert "".join(decode(models, context, 100)) == ""
