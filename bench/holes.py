"""Held-out code for the quality benchmarks: pip's own sources (installed everywhere, and not
something inkstream depends on or trains on), with deterministic "holes" (whole lines to fill).

``holes()`` draws from the first files (the server benchmark, ``quality.py``, on an empty
workspace). ``project_split()`` treats pip (or any other project) as the user's project: most
files are the project the offline model learns, a few held-out files are the ones being edited
(``offline_accuracy.py``).
"""

from __future__ import annotations

import ast
import hashlib
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pip

from inkstream.providers.offline.index import LANGUAGES


@dataclass(frozen=True)
class Hole:
    path: Path
    prefix: str  # the file up to the hole, ending with the line's indentation
    suffix: str  # from the end of the removed line
    expected: str  # the removed line, without its indentation


def project_root() -> Path:
    return Path(pip.__file__).parent / "_internal"


def held_out_files(limit: int = 40) -> list[Path]:
    files = sorted(p for p in project_root().rglob("*.py") if 2_000 < p.stat().st_size < 40_000)
    return files[:limit]


def project_split(
    root: Path | None = None, held_out: int = 20
) -> tuple[list[Path], list[Path], str]:
    """``(held out, training, language)`` for a project (pip's sources unless ``root`` is given;
    its language is that of most of its code files): ``held_out`` mid-sized files chosen by a
    hash of their path (the same on every run), and every other file of the project in that
    language. No file is in both, and no held-out file's text is in the training files
    (checked: pip has a few identical files)."""
    root = root or project_root()
    suffixes = Counter(p.suffix for p in root.rglob("*") if p.suffix in LANGUAGES and p.is_file())
    suffix = suffixes.most_common(1)[0][0] if suffixes else ".py"
    files = sorted(p for p in root.rglob(f"*{suffix}") if p.is_file())
    sized = [p for p in files if 2_000 < p.stat().st_size < 40_000]
    sized.sort(key=lambda p: hashlib.sha256(p.relative_to(root).as_posix().encode()).digest())
    held = sized[:held_out]
    training = [p for p in files if p not in held]
    texts = {p.read_bytes() for p in training}
    held = [p for p in held if p.read_bytes() not in texts]
    return sorted(held), training, LANGUAGES[suffix]


Kind = Literal["line", "typed", "next"]
_OPEN_ENDS = ("\\", ",", "(", "[", "{", ":", "#")


def holes(
    count: int = 60, seed: int = 7, files: list[Path] | None = None, *, kind: Kind = "line"
) -> list[Hole]:
    """Lines removed from ``files``. ``kind`` says where the cursor is:

    - ``line``: at the line's indentation; ``expected`` is the line without it;
    - ``typed``: at a random character of the line (the user typed that much of it, as at any
      keystroke); ``expected`` is the rest of the line;
    - ``next``: at the end of the line before, a finished statement (the user just wrote it);
      ``expected`` is the removed line with its indentation, to be written after a line break.
    """
    rng = random.Random(seed)
    files = files or held_out_files()
    found: list[Hole] = []
    while len(found) < count:
        path = rng.choice(files)
        lines = path.read_text(encoding="utf-8").split("\n")
        i = rng.randrange(10, len(lines) - 1)
        line = lines[i]
        stripped = line.strip()
        if len(stripped) < 8 or stripped.startswith(("#", '"', "'")):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        prefix = "\n".join(lines[:i]) + "\n" + indent
        suffix = "\n" + "\n".join(lines[i + 1 :])
        if kind == "typed":
            cut = rng.randrange(1, len(stripped))
            prefix, stripped = prefix + stripped[:cut], stripped[cut:]
        elif kind == "next":
            before = lines[i - 1].strip()
            if not before or before.endswith(_OPEN_ENDS) or before.startswith(("#", "@")):
                continue  # not a finished statement (a block's header is another case)
            prefix, stripped = "\n".join(lines[:i]), line.rstrip()
        found.append(Hole(path, prefix, suffix, stripped))
    return found


# -- sibling copies ------------------------------------------------------------------------------
#
# A function written next to a sibling whose body looks like what it needs but does something
# else (its name says so): an n-gram model copies the sibling's formula (``cheapest``'s
# condition into ``most_valuable``, ``Circle.perimeter``'s body into ``Square.area``). A right
# answer, none, or a shorter one beats such a copy.


@dataclass(frozen=True)
class SiblingCase:
    name: str
    text: str  # the file, ``<CURSOR>`` where the completion goes
    right: tuple[str, ...]  # first lines that are right (without indentation)
    copy: str | None  # the sibling's line that a copy writes (None: a same-named sibling,
    # copying it is right: a case the rule must not break)


_INVENTORY = '''\
from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def total_value(items: list[Item]) -> float:
    """What the whole stock is worth."""
    total = 0.0
    for item in items:
        total += item.price * item.quantity
    return total


def most_valuable(items: list[Item]) -> Item:
    """The item whose stock is worth the most; ValueError when there are no items."""
    if not items:
        raise ValueError("no items")
    best = items[0]
    for item in items:
        <CURSOR>
    return best


def cheapest(items: list[Item]) -> Item:
    """The item with the lowest price; ValueError when there are no items."""
    if not items:
        raise ValueError("no items")
    best = items[0]
    for item in items:
        if item.price < best.price:
            best = item
    return best
'''

_SHAPES = """\
import math


class Circle:
    def __init__(self, radius):
        self.radius = radius

    def area(self):
        return math.pi * self.radius ** 2

    def perimeter(self):
        return 2 * math.pi * self.radius


class Square:
    def __init__(self, side):
        self.side = side

    def area(self):
        <CURSOR>
"""

_RECTANGLE = """\
class Rectangle:
    def __init__(self, width, height):
        self.width = width
        self.height = height

    def area(self):
        return self.width * self.height

    def perimeter(self):
        <CURSOR>
"""

_TEMPERATURES = '''\
def celsius_to_fahrenheit(celsius):
    """Degrees Celsius in Fahrenheit."""
    return celsius * 9 / 5 + 32


def fahrenheit_to_celsius(fahrenheit):
    """Degrees Fahrenheit in Celsius."""
    <CURSOR>
'''

_EXTREMES = """\
def largest(values):
    best = values[0]
    for value in values:
        if value > best:
            best = value
    return best


def smallest(values):
    best = values[0]
    for value in values:
        <CURSOR>
    return best
"""

_AGES = """\
def is_adult(age):
    return age >= 18


def is_minor(age):
    <CURSOR>
"""

_COUNTER = """\
class Counter:
    def __init__(self):
        self.count = 0

    def increment(self):
        self.count += 1

    def decrement(self):
        <CURSOR>
"""

_TOTALS = """\
class Cart:
    def __init__(self, items):
        self.items = items

    def total(self):
        return sum(item.price * item.quantity for item in self.items)


class Order:
    def __init__(self, items):
        self.items = items

    def total(self):
        <CURSOR>
"""

SIBLING_CASES = [
    SiblingCase(
        "inventory: most_valuable after cheapest",
        _INVENTORY,
        ("if item.price * item.quantity > best.price * best.quantity:",),
        "if item.price < best.price:",
    ),
    SiblingCase(
        "shapes: Square.area after Circle",
        _SHAPES,
        ("return self.side ** 2", "return self.side * self.side"),
        "return 2 * math.pi * self.side",
    ),
    SiblingCase(
        "Rectangle.perimeter after area",
        _RECTANGLE,
        ("return 2 * (self.width + self.height)", "return 2 * self.width + 2 * self.height"),
        "return self.width * self.height",
    ),
    SiblingCase(
        "fahrenheit_to_celsius after celsius_to_fahrenheit",
        _TEMPERATURES,
        ("return (fahrenheit - 32) * 5 / 9",),
        "return fahrenheit * 9 / 5 + 32",
    ),
    SiblingCase("smallest after largest", _EXTREMES, ("if value < best:",), "if value > best:"),
    SiblingCase("is_minor after is_adult", _AGES, ("return age < 18",), "return age >= 18"),
    SiblingCase(
        "Counter.decrement after increment", _COUNTER, ("self.count -= 1",), "self.count += 1"
    ),
    SiblingCase(
        "Order.total after Cart.total (same name: copying is right)",
        _TOTALS,
        ("return sum(item.price * item.quantity for item in self.items)",),
        None,
    ),
]

Verdict = Literal["right", "copy", "none", "other"]
_FORMULA = re.compile(r"[<>]=?|[!=]=|\*|/|[-+%]")  # a line that computes or compares
_STRINGS = re.compile(r"(\"|').*?(\1|$)")


def _shape(line: str) -> str:
    """A line without its spaces, ``self``'s attributes as one (``self.side`` is a copy of
    ``self.radius``)."""
    return re.sub(r"\s+", "", re.sub(r"\bself\.\w+", "self.@", line))


def sibling_verdict(case: SiblingCase, answer: str) -> Verdict:
    """What the answer's first line is: right, the sibling's (or its start: a copy cut short),
    nothing, or something else."""
    first = answer.split("\n")[0].strip()
    if not first:
        return "none"
    if first in case.right:
        return "right"
    copied = case.copy is not None and _shape(case.copy).startswith(_shape(first))
    if copied and _FORMULA.search(_STRINGS.sub("", first)):
        return "copy"
    return "other"


def sibling_copy(text: str, row: int, line: str, expected: str) -> str | None:
    """For a held-out hole: the function of another name in the file (``text``, the hole's
    line ``row``, 1-based, still in it) whose line ``line`` copies when that is a line
    computing or comparing something that only functions of other names write, and it is not
    the removed line; else None. (Independent of the model's own check, so that a version
    without it can be measured.)"""
    if not _FORMULA.search(_STRINGS.sub("", line)):
        return None
    shape = _shape(line.strip())
    if not shape or shape == _shape(expected.strip()):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    lines = text.split("\n")
    functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    around = [f for f in functions if f.lineno < row <= (f.end_lineno or f.lineno)]
    if not around:
        return None
    mine = max(around, key=lambda f: f.lineno)
    owners: set[str] = set()
    for function in functions:
        if function in around and function is not mine:
            continue
        for number in range(function.body[0].lineno, (function.end_lineno or 0) + 1):
            if number != row and _shape(lines[number - 1].strip()) == shape:
                owners.add(function.name)
    if not owners or mine.name in owners:
        return None
    return min(owners)
