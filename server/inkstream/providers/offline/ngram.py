"""A back-off n-gram model of code tokens, compact enough to keep in memory and load in a blink.

Training counts every (context, next token) pair for contexts of 1 to ``ORDER - 1`` tokens, then
keeps, per context, only the ``TOP`` most frequent next tokens and how often the context was seen.
Each context length is one ``Table`` of flat integer arrays sorted by a 64-bit hash of the context
(about 50 bytes per context instead of several hundred for dicts of tuples), searched with
``bisect``; arrays pickle as raw bytes, so a cached model loads in milliseconds.

Scoring is "stupid back-off" (Brants et al., 2007): a token's score is its relative frequency after
the longest context in which it was seen, times ``BACKOFF`` per token of context given up. The
frequency is ``count / (seen + EVIDENCE)``: a context seen once is not a certainty, so decoding can
tell a habit from a coincidence.
``rank`` mixes several models (the project's and the standard library's) by weight.
"""

from __future__ import annotations

import bisect
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import Any

from inkstream.providers.offline.lines import LineIndex

ORDER = 6  # contexts of up to 5 tokens (a line's start: the line break, its step and 3 more)
#: next tokens kept per context, by context length: short contexts are followed by many tokens,
#: and decoding filters candidates (indentation, repeats, the word being typed)
TOP = (0, 24, 8, 4, 4, 4)
BACKOFF = 0.4
EVIDENCE = 2.0
_BITS = 24  # token ids < 2**24; the count goes above them in one packed int
_MASK = (1 << _BITS) - 1

Mapper = Callable[[Callable[[Any], "Table"], Iterable[Any]], Iterable["Table"]]
#: ``(model, weight)`` pairs: the project's models weigh more than the standard library's
Models = Sequence[tuple["NgramModel", float]]


def _anything(_token: str) -> bool:
    return True


@dataclass
class Table:
    """The contexts of one length, sorted by hash, with their best next tokens."""

    keys: array[int] = field(default_factory=lambda: array("q"))  # context hashes, sorted
    totals: array[int] = field(default_factory=lambda: array("q"))  # times each context was seen
    starts: array[int] = field(default_factory=lambda: array("q", [0]))  # into ``next``
    next: array[int] = field(default_factory=lambda: array("q"))  # count << _BITS | id, best first

    def lookup(self, key: int) -> tuple[int, array[int]] | None:
        i = bisect.bisect_left(self.keys, key)
        if i == len(self.keys) or self.keys[i] != key:
            return None
        return self.totals[i], self.next[self.starts[i] : self.starts[i + 1]]

    def __len__(self) -> int:
        return len(self.keys)


@dataclass
class NgramModel:
    words: list[str] = field(default_factory=list)  # token id -> token
    freq: array[int] = field(default_factory=lambda: array("q"))  # occurrences per token id
    tables: list[Table] = field(default_factory=list)  # [n - 1]: contexts of n tokens
    tokens_seen: int = 0
    lines: LineIndex | None = None  # whole lines and their neighbours (see ``lines``)
    ids: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.ids:
            self.ids = {w: i for i, w in enumerate(self.words)}

    # ``ids`` is derived: leave it out of the pickle (smaller, and as fast to rebuild as to load)
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("ids", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.ids = {w: i for i, w in enumerate(self.words)}

    @property
    def contexts(self) -> int:
        return sum(len(t) for t in self.tables)

    def scores(self, context: Sequence[str]) -> dict[str, float]:
        """Stupid back-off scores of the tokens that may follow ``context``."""
        found: dict[str, float] = {}
        ids: list[int] = []
        for token in reversed(context[-(ORDER - 1) :]):
            token_id = self.ids.get(token)
            if token_id is None:
                break  # an unseen token: no longer context can be known either
            ids.append(token_id)
        ids.reverse()
        for n in range(len(ids), 0, -1):
            hit = self.tables[n - 1].lookup(hash(tuple(ids[-n:])))
            if hit is None:
                continue
            total, best = hit
            factor = BACKOFF ** (ORDER - 1 - n) / (total + EVIDENCE)
            for packed in best:
                word = self.words[packed & _MASK]
                if word not in found:
                    found[word] = (packed >> _BITS) * factor
        return found

    def words_starting(self, partial: str) -> list[tuple[int, str]]:
        """``(frequency, token)`` for the tokens whose text (sans leading space) extends
        ``partial`` or equals it."""
        return [
            (count, word)
            for word, count in zip(self.words, self.freq, strict=True)
            if word.lstrip(" \t").startswith(partial)
        ]


def train(
    documents: Iterable[Sequence[str]],
    *,
    min_count: int = 1,
    top: Sequence[int] = TOP,
    mapper: Mapper = map,
    lines: str | None = None,
) -> NgramModel:
    """Count ``documents`` (token lists). Pairs with a context of 2+ tokens seen fewer than
    ``min_count`` times are dropped: noise in a big corpus, but a small project's only evidence
    (use 1 there). ``mapper`` may count the context lengths in parallel (a process pool's
    ``map``). With ``lines`` (a source's name), the documents' lines are indexed too (see
    ``lines``)."""
    ids: dict[str, int] = {}
    words: list[str] = []
    sequences: list[list[int]] = []
    for tokens in documents:
        sequence = []
        for token in tokens:
            token_id = ids.get(token)
            if token_id is None:
                token_id = ids[token] = len(words)
                words.append(token)
            sequence.append(token_id)
        sequences.append(sequence)
    if len(words) > _MASK:
        raise ValueError(f"vocabulary too large: {len(words)} tokens")
    freq = array("q", bytes(8 * len(words)))
    for sequence in sequences:
        for token_id in sequence:
            freq[token_id] += 1
    # the longest contexts first: they take longest, so a pool finishes sooner
    jobs = [(sequences, n, 1 if n == 1 else min_count, top[n]) for n in range(ORDER - 1, 0, -1)]
    tables = list(mapper(_count_job, jobs))[::-1]
    index = None
    if lines is not None:
        index = LineIndex.build(([words[i] for i in sequence] for sequence in sequences), lines)
    return NgramModel(words, freq, tables, sum(freq), index, ids)


def _count_job(job: tuple[list[list[int]], int, int, int]) -> Table:
    return _count(*job)


def _count(sequences: list[list[int]], n: int, min_count: int, top: int) -> Table:
    """The table of contexts of ``n`` tokens (written for speed: most loops run in C)."""
    grams: Counter[tuple[int, ...]] = Counter()
    for sequence in sequences:  # (context..., next) windows, counted in C by Counter.update
        grams.update(zip(*(sequence[k:] for k in range(n + 1)), strict=False))
    totals: dict[int, int] = {}
    kept: dict[int, list[int]] = {}
    for gram, count in grams.items():
        key = hash(gram[:-1])
        totals[key] = totals.get(key, 0) + count
        if count >= min_count:
            found = kept.get(key)
            if found is None:
                kept[key] = [(count << _BITS) | gram[-1]]
            else:
                found.append((count << _BITS) | gram[-1])
    del grams
    keys = sorted(kept)
    candidates = [kept[key] for key in keys]
    for best in candidates:
        if len(best) > 1:
            best.sort(reverse=True)
            del best[top:]
    return Table(
        keys=array("q", keys),
        totals=array("q", map(totals.__getitem__, keys)),
        starts=array("q", chain((0,), accumulate(map(len, candidates)))),
        next=array("q", chain.from_iterable(candidates)),
    )


def rank(
    models: Models, context: Sequence[str], fits: Callable[[str], bool] = _anything
) -> list[tuple[float, str]]:
    """Candidates for the next token that ``fit``, best first: the weighted mean of the back-off
    scores of the models that know the context (the others abstain), ties broken by the token,
    so decoding is deterministic."""
    mixed: dict[str, float] = {}
    norm = 0.0
    for model, weight in models:
        scores = model.scores(context)
        if scores:
            norm += weight
        for token, score in scores.items():
            if fits(token):
                mixed[token] = mixed.get(token, 0.0) + weight * score
    return sorted(((score / norm, token) for token, score in mixed.items()), key=_best_first)


def _best_first(item: tuple[float, str]) -> tuple[float, str]:
    return -item[0], item[1]


def choose(
    models: Models, context: Sequence[str], fits: Callable[[str], bool] = _anything
) -> str | None:
    """The most likely next token that ``fits``, or None when no model knows the context."""
    ranked = rank(models, context, fits)
    return ranked[0][1] if ranked else None


def complete_word(
    models: Models,
    context: Sequence[str],
    partial: str,
    fits: Callable[[str], bool] | None = None,
) -> str | None:
    """The identifier being typed, finished: ``pri`` -> ``print``; None when ``partial`` is best
    left as it is (it is a whole word the context expects) or nothing extends it. Only words
    that ``fit`` (when given) are chosen."""

    def starts(token: str) -> bool:
        return token.lstrip(" \t").startswith(partial) and (fits is None or fits(token))

    ranked = rank(models, context, starts)
    if not ranked:  # the context does not help: the most frequent word that fits
        counts: dict[str, float] = {}
        for model, weight in models:
            for count, word in model.words_starting(partial):
                if fits is None or fits(word):
                    counts[word] = counts.get(word, 0.0) + weight * count
        ranked = sorted(((c, w) for w, c in counts.items()), key=_best_first)
    if not ranked:
        return None
    word = ranked[0][1].lstrip(" \t")
    return word if word != partial else None
