"""A back-off n-gram model of code tokens, small enough to keep in memory and cache on disk.

Greedy decoding only needs the most likely next token per context, so training counts every
(context, next) pair and then keeps, per context, just the winner and its count: three dicts of
ints (contexts of 3, 2 and 1 tokens). Prediction backs off from the longest context that was seen
("stupid back-off"); the project's model outweighs the standard library's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

ORDER = 4  # contexts of up to 3 tokens
TOP = 3  # candidates kept per context
_BITS = 21  # token ids < 2**21
_MASK = (1 << _BITS) - 1


@dataclass
class Vocabulary:
    ids: dict[str, int] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)

    def id(self, token: str) -> int:
        found = self.ids.get(token)
        if found is None:
            found = self.ids[token] = len(self.words)
            self.words.append(token)
        return found


def _key(context: Sequence[int]) -> int:
    key = len(context)
    for token in context:
        key = (key << _BITS) | token
    return key


@dataclass
class NgramModel:
    vocab: Vocabulary = field(default_factory=Vocabulary)
    #: per context length: packed context -> packed (count << _BITS | next token), best first
    best: list[dict[int, tuple[int, ...]]] = field(
        default_factory=lambda: [{} for _ in range(ORDER)]
    )
    tokens_seen: int = 0
    freq: list[int] = field(default_factory=list)  # occurrences per token id

    def train(self, documents: Iterable[list[str]], *, min_count: int = 2) -> None:
        """Count the documents; longer contexts seen fewer than ``min_count`` times are dropped
        (noise in a big corpus, but a small project's only evidence: use 1 there)."""
        counts: list[Counter[tuple[int, ...]]] = [Counter() for _ in range(ORDER)]
        for tokens in documents:
            ids = [self.vocab.id(t) for t in tokens]
            self.tokens_seen += len(ids)
            self.freq.extend([0] * (len(self.vocab.words) - len(self.freq)))
            for token_id in ids:
                self.freq[token_id] += 1
            for n in range(1, ORDER):
                # (context..., next) windows, counted in C by Counter.update
                counts[n].update(zip(*(ids[k:] for k in range(n + 1)), strict=False))
        for n in range(1, ORDER):
            grouped: dict[int, list[int]] = {}
            for gram, count in counts[n].items():
                if n > 1 and count < min_count:
                    continue
                grouped.setdefault(_key(gram[:-1]), []).append((count << _BITS) | gram[-1])
            self.best[n] = {k: tuple(sorted(v, reverse=True)[:TOP]) for k, v in grouped.items()}
            counts[n].clear()

    def predict(
        self, context: Sequence[str], fits: Callable[[str], bool] = lambda _: True
    ) -> list[tuple[int, int, str]]:
        """Candidates ``(context length, count, token)`` that ``fit``, longest context first."""
        found = []
        for n in range(ORDER - 1, 0, -1):
            if len(context) < n:
                continue
            ids = [self.vocab.ids.get(t) for t in context[-n:]]
            if any(i is None for i in ids):
                continue
            for packed in self.best[n].get(_key([i for i in ids if i is not None]), ()):
                token = self.vocab.words[packed & _MASK]
                if fits(token):
                    found.append((n, packed >> _BITS, token))
                    break
        return found


def choose(
    models: Sequence[tuple[NgramModel, float]],
    context: Sequence[str],
    fits: Callable[[str], bool] = lambda _: True,
) -> str | None:
    """The next token by back-off: the longest known context wins; on a tie, the weightier model
    (the project's), so a big general corpus cannot drown the user's own idioms."""
    best: tuple[int, float, str] | None = None
    for model, weight in models:
        found = model.predict(context, fits)
        if found:
            n, _count, token = found[0]
            if best is None or (n, weight) > best[:2]:
                best = (n, weight, token)
    return best[2] if best else None


def complete_word(
    models: Sequence[tuple[NgramModel, float]], context: Sequence[str], partial: str
) -> str | None:
    """A token that finishes the identifier being typed, e.g. ``pri`` -> ``print``."""

    def extends(token: str) -> bool:
        word = token.strip()
        return word.startswith(partial) and len(word) > len(partial)

    if found := choose(models, context, extends):
        return found.strip()
    best: tuple[float, str] | None = None
    for model, weight in models:
        for word, count in zip(model.vocab.words, model.freq, strict=False):
            stripped = word.strip()
            if stripped.startswith(partial) and len(stripped) > len(partial):
                if best is None or count * weight > best[0]:
                    best = (count * weight, stripped)
    return best[1] if best else None
