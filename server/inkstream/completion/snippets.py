"""Context beyond the file: the most similar code from other open documents and recent edits.

Pure ranking, after the approach of Copilot-style "neighbouring tabs": cut candidates into windows
of lines, score each by Jaccard similarity of identifier sets against the code around the cursor,
and keep the best that fit the budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from inkstream.completion.context import Snippet

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")
WINDOW_LINES = 20
STEP_LINES = 10


@dataclass(frozen=True)
class Candidate:
    """A source of snippets: another open document or a recently edited range."""

    path: str
    text: str


def identifiers(text: str) -> frozenset[str]:
    return frozenset(_IDENT.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _windows(text: str) -> Iterable[str]:
    lines = text.splitlines(keepends=True)
    if len(lines) <= WINDOW_LINES:
        yield text
        return
    for start in range(0, len(lines) - WINDOW_LINES + STEP_LINES, STEP_LINES):
        yield "".join(lines[start : start + WINDOW_LINES])


def rank_snippets(
    around_cursor: str,
    candidates: Iterable[Candidate],
    *,
    budget_chars: int,
    max_snippets: int = 3,
    min_score: float = 0.05,
) -> tuple[Snippet, ...]:
    """Best windows first, at most one per path, within ``budget_chars`` in total."""
    query = identifiers(around_cursor)
    scored: list[tuple[float, str, str]] = []
    for candidate in candidates:
        best = max(
            ((jaccard(query, identifiers(w)), w) for w in _windows(candidate.text) if w.strip()),
            default=(0.0, ""),
        )
        if best[0] >= min_score:
            scored.append((best[0], candidate.path, best[1]))
    scored.sort(key=lambda item: item[0], reverse=True)
    chosen: list[Snippet] = []
    used = 0
    for _, path, window in scored:
        if len(chosen) == max_snippets:
            break
        if used + len(window) > budget_chars:
            continue
        chosen.append(Snippet(path=path, text=window))
        used += len(window)
    return tuple(chosen)
