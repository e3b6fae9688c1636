"""Whole lines seen elsewhere: which lines stood after (and before) a given line in the project
and in the document, used to write the line at the cursor whole.

Code repeats itself in lines more than an n-gram model of 5 tokens can see: the same field list
in two files, ``dist = ...`` followed by ``if dist is None:``, the line that always precedes
``raise NotImplementedError``. On held-out code, a line that was written before somewhere in the
project or the file is a third of all lines; greedy decoding of a 6-gram writes a tenth of them.
So the decoder first recalls: lines that followed the line before the cursor (alone, with the
one before it, and with the line after the cursor as a sandwich), lines that preceded the line
after the cursor, and lines that followed a line of the same shape with the names swapped
(``$0 = ...`` then ``if $0 is None:``). Each way a candidate is found counts, the document's
own lines more than the project's; the best one wins if the evidence is enough.

Pure and synchronous; built with the n-gram model from the same tokens (``ngram.train``), and
pickled with it.
"""

from __future__ import annotations

import bisect
import math
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from inkstream.providers.offline.structure import BUILTINS, KEYWORDS
from inkstream.providers.offline.tokens import MAX_TOKEN_CHARS, is_break, step_of

#: what speaks for a candidate, and how much (``source:way``: how often that way found it, as
#: log(1 + count); see ``LineIndex.evidence``). Tuned on held-out code (see bench).
WEIGHTS = {
    "project:after": 1.0, "project:after2": 2.0, "project:before": 2.0,
    "project:sandwich": 8.0, "project:shape": 2.0, "project:shape_before": 1.0,
    "project:imports": 4.0,  # an import line of a name the code below reads and nothing binds
    "project:starts": 1.0,  # a line that starts with what is typed on the cursor's line
    "document:after": 3.0, "document:after2": 6.0, "document:before": 6.0,
    "document:sandwich": 24.0, "document:shape": 6.0, "document:shape_before": 3.0,
    "document:imports": 12.0, "document:starts": 3.0,
    "binds wanted": 3.0,  # it binds a name the code below reads, unbound
    "suggested": 3.0,  # the file's structure expects it (``self.x = x`` in ``__init__``)
    "repeats": 0.0,  # it is the line before the cursor's again
}  # fmt: skip
MAX_PREFIXED = 40  # lines looked at that start with what is typed
MIN_TYPED = 3  # ... when that is at least this long
MAX_WANTED = 8  # names (and import lines per name) looked up
MIN_EVIDENCE = 0.5  # a candidate's score below this: the n-gram model writes the line
MAX_OCCURRENCES = 400  # rows of a common line (``)``, ``else:``) looked at per query
_WORD = re.compile(r"[A-Za-z_]\w*")
_IMPORT = re.compile(r"(?:from\s+[\w.]+\s+)?import\s+([\w\s,.]+)$")
_NAME = re.compile(r"\$(\d+)")
_UNUSABLE = ""  # a line that cannot be written back from its tokens (a cut or multi-line token)
_KEEP = KEYWORDS | BUILTINS  # not names of the code: kept as they are in a shape


def shape(line: str) -> tuple[str, list[str]]:
    """The line with its names numbered in order (``$0 = $1.get($0)``), and the names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        word = match.group(0)
        if word in _KEEP:
            return word
        if word not in names:
            names.append(word)
        return f"${names.index(word)}"

    return _WORD.sub(number, line), names


def lines_of(tokens: Iterable[str]) -> Iterator[tuple[str, int]]:
    """``(code, indentation change)`` for each line with code in a model's token list."""
    words: list[str] = []
    shift = 0
    usable = True
    for token in tokens:
        if is_break(token):
            code = "".join(words).strip()
            if code:
                yield (code if usable else _UNUSABLE), shift
                shift = 0
            words, usable = [], True
        elif (delta := step_of(token)) is not None:
            shift += delta
        else:
            words.append(token)
            usable = usable and len(token) < MAX_TOKEN_CHARS and "\n" not in token
    code = "".join(words).strip()
    if code:
        yield (code if usable else _UNUSABLE), shift


@dataclass
class _Groups:
    """Row numbers grouped by an id: the rows of id ``k`` are ``rows[starts[k]:starts[k+1]]``."""

    rows: array[int]
    starts: array[int]

    @classmethod
    def of(cls, ids: Sequence[int], count: int) -> _Groups:
        order = sorted(range(len(ids)), key=ids.__getitem__)
        starts = array("q", bytes(8 * (count + 1)))
        for i in ids:
            if i >= 0:
                starts[i + 1] += 1
        for k in range(count):
            starts[k + 1] += starts[k]
        return cls(array("q", (r for r in order if ids[r] >= 0)), starts)

    def get(self, key: int) -> array[int]:
        start = self.starts[key]
        return self.rows[start : min(self.starts[key + 1], start + MAX_OCCURRENCES)]


def _binds_nothing(_code: str) -> set[str]:
    return set()


@dataclass(frozen=True)
class Spot:
    """Where a line is to be written: its neighbours (``before`` is the line above
    ``previous``), what is typed of it, and what the file expects there: names the code below
    reads that nothing binds (``wanted``; ``binds`` says what a line binds) and lines its
    structure calls for (``suggested``: ``self.x = x`` in ``__init__``)."""

    previous: str
    following: str = ""
    before: str = ""
    typed: str = ""
    wanted: frozenset[str] = frozenset()
    suggested: tuple[str, ...] = ()
    binds: Callable[[str], set[str]] = _binds_nothing


@dataclass
class LineIndex:
    """The lines of a corpus in order (documents apart), with where each line and each line
    shape stands. ``source`` names where the lines come from (the document's own lines count
    more than the project's: see ``WEIGHTS``)."""

    texts: list[str] = field(default_factory=list)  # line id -> code
    rows: array[int] = field(
        default_factory=lambda: array("q")
    )  # per line: its id; -1 between documents
    shifts: array[int] = field(default_factory=lambda: array("q"))  # per line: indentation change
    shapes: list[str] = field(default_factory=list)  # shape id -> shape
    row_shapes: array[int] = field(default_factory=lambda: array("q"))  # per line: its shape id
    by_line: _Groups | None = None
    by_shape: _Groups | None = None
    ordered: array[int] = field(default_factory=lambda: array("q"))  # line ids by their text
    importers: dict[str, list[int]] = field(default_factory=dict)  # name -> import lines
    source: str = "project"  # or "document": the features it gives are named after it
    ids: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    shape_ids: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def build(cls, documents: Iterable[Sequence[str]], source: str = "project") -> LineIndex:
        index = cls(source=source)
        rows, shifts, row_shapes = index.rows, index.shifts, index.row_shapes
        for tokens in documents:
            for code, shift in lines_of(tokens):
                rows.append(index._id(code, index.texts, index.ids))
                shifts.append(shift)
                row_shapes.append(index._id(shape(code)[0], index.shapes, index.shape_ids))
            rows.append(-1)
            shifts.append(0)
            row_shapes.append(-1)
        index.by_line = _Groups.of(rows, len(index.texts))
        index.by_shape = _Groups.of(row_shapes, len(index.shapes))
        texts = index.texts
        index.ordered = array("q", sorted(range(len(texts)), key=texts.__getitem__))
        for i, text in enumerate(texts):
            for name in imported(text):
                index.importers.setdefault(name, []).append(i)
        return index

    @staticmethod
    def _id(text: str, texts: list[str], ids: dict[str, int]) -> int:
        found = ids.get(text)
        if found is None:
            found = ids[text] = len(texts)
            texts.append(text)
        return found

    # ``ids`` and ``shape_ids`` are derived: left out of the pickle
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("ids", None)
        state.pop("shape_ids", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.ids = {text: i for i, text in enumerate(self.texts)}
        self.shape_ids = {text: i for i, text in enumerate(self.shapes)}

    def _line(self, row: int) -> int:
        return self.rows[row] if 0 <= row < len(self.rows) else -1

    def evidence(self, spot: Spot) -> dict[tuple[str, int | None], dict[str, int]]:
        """Candidates for the line at ``spot``, each with how often each way found it:
        ``{(code, indentation change, None when not known): {way: count}}``."""
        before, previous, following = spot.before, spot.previous, spot.following
        found: dict[tuple[str, int | None], dict[str, int]] = {}
        assert self.by_line is not None and self.by_shape is not None

        def add(row: int, way: str, code: str | None = None) -> None:
            line = self._line(row)
            if line >= 0 and (text := code or self.texts[line]):
                add_text(text, self.shifts[row], way, 1)

        def add_text(text: str, shift: int | None, way: str, count: int) -> None:
            counts = found.setdefault((text, shift), {})
            counts[way] = counts.get(way, 0) + count

        previous_id = self.ids.get(previous, -1)
        if previous_id >= 0 and previous:
            before_id = self.ids.get(before, -2)
            following_id = self.ids.get(following, -2)
            for row in self.by_line.get(previous_id):
                add(row + 1, "after")
                if self._line(row - 1) == before_id:
                    add(row + 1, "after2")
                if self._line(row + 2) == following_id:
                    add(row + 1, "sandwich")
        following_id = self.ids.get(following, -1)
        if following_id >= 0 and following:
            for row in self.by_line.get(following_id):
                add(row - 1, "before")
        for name in sorted(spot.wanted)[:MAX_WANTED]:
            for line in self.importers.get(name, ())[:MAX_WANTED]:
                count = self.by_line.starts[line + 1] - self.by_line.starts[line]
                add_text(self.texts[line], None, "imports", count)
        typed = spot.typed
        if len(typed.strip()) >= MIN_TYPED:
            start = bisect.bisect_left(self.ordered, typed, key=self.texts.__getitem__)
            for line in self.ordered[start : start + MAX_PREFIXED]:
                text = self.texts[line]
                if not text.startswith(typed):
                    break
                count = self.by_line.starts[line + 1] - self.by_line.starts[line]
                add_text(text, None, "starts", count)
        for neighbour, step, way in ((previous, 1, "shape"), (following, -1, "shape_before")):
            form, names = shape(neighbour)
            shape_id = self.shape_ids.get(form, -1)
            if shape_id < 0 or not names:
                continue
            for row in self.by_shape.get(shape_id):
                line = self._line(row + step)
                if line < 0 or not self.texts[line]:
                    continue
                _, theirs = shape(self.texts[self.rows[row]])
                renamed = _rename(self.texts[line], theirs, names)
                if renamed is not None:
                    add(row + step, way, renamed)
        return found


def imported(line: str) -> list[str]:
    """The names an import line binds (``from a import b as c, d`` -> ``c``, ``d``)."""
    found = _IMPORT.fullmatch(line)
    if found is None:
        return []
    names = []
    for item in found.group(1).split(","):
        words = item.split()
        if words and not (len(words) == 2 or (len(words) > 2 and words[-2] != "as")):
            names.append(words[-1].split(".")[0])
    return names


def _rename(line: str, theirs: list[str], ours: list[str]) -> str | None:
    """``line``, written after a line with the names ``theirs``, with ``ours`` in their place;
    None if it uses none of them (then it is no evidence of the shape)."""
    mapping = dict(zip(theirs, ours, strict=False))
    used = False

    def swap(match: re.Match[str]) -> str:
        nonlocal used
        word = match.group(0)
        if word in mapping and word not in _KEEP:
            used = True
            return mapping[word]
        return word

    text = _WORD.sub(swap, line)
    return text if used else None


@dataclass(frozen=True)
class Recalled:
    code: str  # the whole line, without indentation
    shift: int | None  # its indentation change from the line before it, if known


@dataclass
class Candidate:
    features: dict[str, float] = field(default_factory=dict)  # see ``WEIGHTS``
    shift: int | None = None  # its indentation change, where it was found with its neighbours
    shift_score: float = -1.0


def candidates(indexes: Sequence[LineIndex], spot: Spot) -> dict[str, Candidate]:
    """The lines that may stand at ``spot`` (starting with what is typed, and going on), with
    what speaks for each (``WEIGHTS`` says how much)."""
    found: dict[str, Candidate] = {}

    def candidate(code: str) -> Candidate | None:
        typed = spot.typed
        if code == spot.following or not code.startswith(typed) or len(code) <= len(typed):
            return None
        return found.setdefault(code, Candidate())

    for index in indexes:
        for (code, shift), ways in index.evidence(spot).items():
            if (item := candidate(code)) is None:
                continue
            strength = 0.0
            for way, count in ways.items():
                feature = f"{index.source}:{way}"
                value = math.log1p(count)
                item.features[feature] = item.features.get(feature, 0.0) + value
                strength += WEIGHTS.get(feature, 0.0) * value
            if shift is not None and strength > item.shift_score:
                item.shift, item.shift_score = shift, strength
    for code in spot.suggested:
        if (item := candidate(code)) is not None:
            item.features["suggested"] = 1.0
    for code, item in found.items():
        if spot.wanted and spot.binds(code) & spot.wanted:
            item.features["binds wanted"] = 1.0
        if code == spot.previous:
            item.features["repeats"] = 1.0
    return found


def score(features: dict[str, float]) -> float:
    return sum(WEIGHTS.get(name, 0.0) * value for name, value in features.items())


def recall(
    indexes: Sequence[LineIndex],
    spot: Spot,
    fits: Callable[[str, int | None], bool] = lambda _code, _shift: True,
) -> Recalled | None:
    """The best of the ``candidates`` that ``fits`` the file; None when the evidence is too
    thin."""
    found = candidates(indexes, spot)
    ranked = sorted(((score(c.features), code, c.shift) for code, c in found.items()), key=_best)
    for total, code, shift in ranked:
        if total < MIN_EVIDENCE:
            return None
        if fits(code, shift):
            return Recalled(code, shift)
    return None


def _best(item: tuple[float, str, int | None]) -> tuple[float, str]:
    return -item[0], item[1]
