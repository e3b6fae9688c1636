"""Usage figures per day, language, model and endpoint, from the stored rows. Pure.

One shape serves ``inkstream/usage``, ``inkstream stats --json`` and the VS Code view
(docs/protocol.md). Rates are ``None`` when there is nothing to divide by; cost is ``None`` when
no request of the group had a price, so a missing price never shows as a cost of 0.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from inkstream.usage.store import Rows

EARLY = ("complete-early", "cancelled", "superseded", "error")


def first_day(days: int, today: str) -> str:
    return (dt.date.fromisoformat(today) - dt.timedelta(days=max(1, days) - 1)).isoformat()


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(sum(known) / len(known), 4) if known else None


def _kind(suggestion: dict[str, Any]) -> str:
    return str(suggestion.get("kind") or "completion")


def next_edit_figures(suggestions: list[dict[str, Any]]) -> dict[str, Any]:
    """Next edits offered, shown, accepted and dismissed (each edit counts once), and how much
    of the accepted ones' text is still there after 2 minutes."""
    edits = [s for s in suggestions if _kind(s) == "nextEdit"]
    shown = [s for s in edits if s["shown"] or s["accepted"] or s.get("dismissed")]
    accepted = [s for s in edits if s["accepted"]]
    return {
        "suggested": len(edits),
        "shown": len(shown),
        "accepted": len(accepted),
        "dismissed": sum(1 for s in edits if s.get("dismissed")),
        "acceptRate": _rate(len(accepted), len(shown)),
        "keptRate2m": _mean(s["kept_2m"] for s in accepted),
    }


def summarize(requests: list[dict[str, Any]], suggestions: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures for one group of rows (suggestion figures: completions; next edits apart)."""
    next_edits = next_edit_figures(suggestions)
    suggestions = [s for s in suggestions if _kind(s) == "completion"]
    generated = sum(r["generated_tokens"] for r in requests)
    shown_tokens = sum(r["shown_tokens"] for r in requests)
    costs = [r["cost"] for r in requests if r["cost"] is not None]
    ttfts = [s["ttft_ms"] for s in suggestions if s["ttft_ms"] is not None]
    shown = [s for s in suggestions if s["shown"] or s["accepted"] or s["accepted_chars"]]
    accepted = [s for s in suggestions if s["accepted"] or s["accepted_chars"]]
    chars = sum(s["chars"] if s["accepted"] else s["accepted_chars"] for s in accepted)
    return {
        "requests": len(requests),
        "promptTokens": sum(r["prompt_tokens"] for r in requests),
        "generatedTokens": generated,
        "shownTokens": shown_tokens,
        "neverShownTokens": max(0, generated - shown_tokens),
        "stoppedEarly": sum(1 for r in requests if r["outcome"] in EARLY),
        "reportedRequests": sum(1 for r in requests if r["usage_source"] == "reported"),
        "countedRequests": sum(1 for r in requests if r["usage_source"] == "counted"),
        "cost": round(sum(costs), 6) if costs else None,
        "unpricedRequests": len(requests) - len(costs),
        "shown": len(shown),
        "accepted": len(accepted),
        "acceptRate": _rate(len(accepted), len(shown)),
        "charsAccepted": chars,
        "keptRate30s": _mean(s["kept_30s"] for s in accepted),
        "keptRate2m": _mean(s["kept_2m"] for s in accepted),
        "medianTimeToFirstGhostMs": round(statistics.median(ttfts), 1) if ttfts else None,
        "nextEdits": next_edits,
    }


def _grouped(rows: Rows, key: Callable[[dict[str, Any]], str], name: str) -> list[dict[str, Any]]:
    requests: dict[str, list[dict[str, Any]]] = defaultdict(list)
    suggestions: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows.requests:
        requests[key(r)].append(r)
    for s in rows.suggestions:
        suggestions[key(s)].append(s)
    return [
        {name: k, **summarize(requests[k], suggestions[k])}
        for k in sorted(set(requests) | set(suggestions))
    ]


def report(rows: Rows, *, days: int, today: str) -> dict[str, Any]:
    """Everything a view shows: totals, one entry per day (empty days included), breakdowns."""
    start = first_day(days, today)
    by_day = {d["day"]: d for d in _grouped(rows, lambda r: r["day"], "day")}
    all_days = [
        (dt.date.fromisoformat(start) + dt.timedelta(days=i)).isoformat() for i in range(days)
    ]
    return {
        "from": start,
        "to": today,
        "totals": summarize(rows.requests, rows.suggestions),
        "days": [by_day.get(d) or {"day": d, **summarize([], [])} for d in all_days],
        "byLanguage": _grouped(rows, lambda r: r["language"] or "unknown", "language"),
        "byModel": _grouped(rows, lambda r: r["model"], "model"),
        "byEndpoint": _grouped(rows, lambda r: r["endpoint"], "endpoint"),
    }
