"""Around one upstream request: the budget check before it, the usage record after it.

Shared by completions and explanations so both classify endings the same way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from inkstream.errors import BudgetReached
from inkstream.relay import StreamStats
from inkstream.usage.meter import Kind, Outcome, RequestMeter

if TYPE_CHECKING:
    from inkstream.app import InkstreamServer


def budget_error(reason: str) -> BudgetReached:
    return BudgetReached(
        f"Daily budget reached: {reason}. Nothing is sent to the model until midnight.",
        hint="Raise or remove the inkstream 'budget' setting (budget.dailyCost, "
        "budget.dailyTokens) to continue today.",
    )


def check_budget(ls: InkstreamServer) -> BudgetReached | None:
    """The error to use if today's budget is spent (upstream requests only)."""
    if ls.settings.resolved_provider != "openai":
        return None
    reason = ls.usage.budget_reached(ls.settings)
    return budget_error(reason) if reason else None


def new_meter(ls: InkstreamServer, kind: Kind, language: str) -> RequestMeter:
    return RequestMeter(kind, ls.settings.endpoint, ls.settings.model, language)


@contextmanager
def metered(
    ls: InkstreamServer,
    meter: RequestMeter,
    stats: StreamStats,
    stop_reason: Callable[[], str | None] = lambda: None,
) -> Iterator[None]:
    """Record the request however it ends; only upstream (openai) requests are recorded."""
    if ls.settings.resolved_provider != "openai":
        yield
        return
    outcome: Outcome = "error"
    shown = 0
    try:
        yield
        outcome = "complete" if meter.stream_ended else "complete-early"
        shown = stats.visible_tokens
    except asyncio.CancelledError:
        outcome = "superseded" if stop_reason() == "superseded" else "cancelled"
        raise
    finally:
        if meter.route:  # the provider got as far as choosing a route
            ls.usage.record(
                meter,
                ls.settings,
                counted=stats.tokens,
                shown=shown,
                outcome=outcome,
                first_token_at=stats.first_token_at,
            )
