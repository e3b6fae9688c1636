"""The daily budget: a limit in money and/or tokens, counted per local calendar day. Pure.

"Today" is the local date, so the limit resets at local midnight without a timer: every record
carries its day, and today's totals are the sum over today's day key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


def today() -> str:
    """The local date, ``YYYY-MM-DD``: the key records are summed by."""
    return dt.datetime.now().astimezone().date().isoformat()


@dataclass(frozen=True)
class DayTotals:
    day: str = ""
    requests: int = 0
    tokens: int = 0  # prompt + generated
    cost: float = 0.0  # priced requests only


@dataclass(frozen=True)
class Budget:
    daily_cost: float | None = None
    daily_tokens: int | None = None

    @property
    def limited(self) -> bool:
        return self.daily_cost is not None or self.daily_tokens is not None

    def exceeded(self, totals: DayTotals) -> str | None:
        """Which limit today's usage reached, as words for the user; None while under it."""
        if self.daily_cost is not None and totals.cost >= self.daily_cost:
            return f"today's cost {totals.cost:.4g} reached budget.dailyCost {self.daily_cost:g}"
        if self.daily_tokens is not None and totals.tokens >= self.daily_tokens:
            return f"today's {totals.tokens} tokens reached budget.dailyTokens {self.daily_tokens}"
        return None

    def view(self, totals: DayTotals) -> dict[str, Any] | None:
        """The ``budget`` field of ``inkstream/status`` (docs/protocol.md)."""
        if not self.limited:
            return None
        out: dict[str, Any] = {"dailyCost": self.daily_cost, "dailyTokens": self.daily_tokens}
        out["costLeft"] = (
            None if self.daily_cost is None else max(0.0, self.daily_cost - totals.cost)
        )
        out["tokensLeft"] = (
            None if self.daily_tokens is None else max(0, self.daily_tokens - totals.tokens)
        )
        out["reached"] = self.exceeded(totals) is not None
        return out
