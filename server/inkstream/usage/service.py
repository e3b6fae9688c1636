"""The server's side of usage: record requests, enforce the budget, follow suggestions.

All database work runs on one worker thread (FIFO), so the event loop never waits for SQLite and
a read queued after a write sees it. Today's totals are kept in memory for the budget check that
precedes every completion; each write refreshes them from the file, which also counts what other
inkstream servers on this machine spent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from inkstream.config import Settings
from inkstream.usage import pricing, stats
from inkstream.usage.acceptance import kept_ratio, utf16_prefix
from inkstream.usage.budget import Budget, DayTotals, today
from inkstream.usage.meter import Outcome, RequestMeter
from inkstream.usage.store import Rows, UsageStore

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: seconds after an acceptance at which the kept rate is measured (``kept_30s``, ``kept_2m``)
KEPT_DELAYS = (30.0, 120.0)
MAX_TRACKED = 500


def kept_delays() -> tuple[float, float]:
    """``INKSTREAM_KEPT_DELAYS=0.5,1`` lets tests measure without waiting two minutes."""
    raw = os.environ.get("INKSTREAM_KEPT_DELAYS")
    if raw:
        try:
            first, second = (float(x) for x in raw.split(","))
            return first, second
        except ValueError:
            logger.warning("ignoring INKSTREAM_KEPT_DELAYS=%r (want two numbers)", raw)
    return KEPT_DELAYS


@dataclass
class Suggestion:
    """A completion item the server returned, until its kept rate is measured."""

    id: str
    uri: str
    line: int
    #: in characters (an index into the line's str), not the client's position units
    column: int
    text: str
    accepted_chars: int = 0
    accepted: bool = False
    checking: bool = False


class UsageService:
    def __init__(self, document_text: Callable[[str], str | None]) -> None:
        self._document_text = document_text
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="inkstream-usage")
        self._store: UsageStore | None = None
        self._broken = False
        self._closed = False
        self._retention_days = 90
        self._today = DayTotals(day=today())
        self._suggestions: OrderedDict[str, Suggestion] = OrderedDict()
        self._early: dict[str, list[Callable[[], None]]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._budget_noticed: str | None = None

    # -- the worker thread -------------------------------------------------------------------

    def _with_store(self, fn: Callable[[UsageStore], T]) -> T | None:
        """Runs on the worker thread; a broken file disables usage, it never breaks requests."""
        if self._broken or self._closed:
            return None
        try:
            if self._store is None:
                self._store = UsageStore(retention_days=self._retention_days)
            return fn(self._store)
        except Exception as exc:  # StoreError, OSError, sqlite3's own
            logger.warning("usage is not recorded: %s", exc)
            self._broken = True
            return None

    def _submit(self, fn: Callable[[UsageStore], T]) -> asyncio.Future[T | None]:
        loop = asyncio.get_running_loop()
        if self._closed:
            done: asyncio.Future[T | None] = loop.create_future()
            done.set_result(None)
            return done
        return loop.run_in_executor(self._executor, self._with_store, fn)

    def configure(self, settings: Settings) -> None:
        self._retention_days = settings.usage_retention_days

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._closed:
            return
        # after every queued write (FIFO); a file never opened is not created just to close it
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close_store)
        self._closed = True  # requests cancelled by the shutdown are not recorded
        self._executor.shutdown(wait=False)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- requests and the budget -------------------------------------------------------------

    def record(
        self,
        meter: RequestMeter,
        settings: Settings,
        *,
        counted: int,
        shown: int,
        outcome: Outcome,
        first_token_at: float | None,
    ) -> None:
        """Store one upstream request (fire and forget) and count it towards today at once."""
        # a request refused before any token was never billed
        failed = outcome == "error" and counted == 0 and not meter.reported
        prompt = 0 if failed else meter.prompt_tokens()
        generated = meter.generated_tokens(counted)
        cost = pricing.cost(settings.pricing, settings.base_url, meter.model, prompt, generated)
        row: dict[str, Any] = {
            "ts": time.time(),
            "day": today(),
            "endpoint": meter.endpoint,
            "model": meter.model,
            "route": meter.route,
            "kind": meter.kind,
            "language": meter.language,
            "prompt_tokens": prompt,
            "generated_tokens": generated,
            "shown_tokens": min(shown, generated),
            "usage_source": "reported" if meter.reported else "counted",
            "outcome": outcome,
            "ttft_ms": None if first_token_at is None else (first_token_at - meter.started) * 1000,
            "duration_ms": (time.monotonic() - meter.started) * 1000,
            "cost": cost,
        }
        totals = self.today_totals()
        self._today = DayTotals(
            totals.day,
            totals.requests + 1,
            totals.tokens + prompt + generated,
            totals.cost + (cost or 0.0),
        )
        future = self._submit(lambda store: store.add_request(row))
        future.add_done_callback(self._refreshed)

    def _refreshed(self, future: asyncio.Future[DayTotals | None]) -> None:
        if not future.cancelled() and future.exception() is None:
            totals = future.result()
            if totals is not None and totals.day == today():
                self._today = totals

    def today_totals(self) -> DayTotals:
        """Today's totals; a new local day starts from zero (the budget resets at midnight)."""
        if self._today.day != today():
            self._today = DayTotals(day=today())
        return self._today

    async def refresh(self) -> DayTotals:
        """Re-read today's totals from the file (other servers count too)."""
        day = today()
        totals = await self._submit(lambda store: store.day_totals(day))
        if totals is not None:
            self._today = totals
        return self.today_totals()

    def budget_reached(self, settings: Settings) -> str | None:
        budget = Budget(settings.budget_daily_cost, settings.budget_daily_tokens)
        return budget.exceeded(self.today_totals()) if budget.limited else None

    def first_budget_notice(self) -> bool:
        """True once per day: the one message about a reached budget."""
        day = today()
        if self._budget_noticed == day:
            return False
        self._budget_noticed = day
        return True

    async def status(self, settings: Settings) -> dict[str, Any]:
        """The ``usage`` and ``budget`` fields of ``inkstream/status``."""
        totals = await self.refresh()
        day = (await self.report(1))["totals"]
        budget = Budget(settings.budget_daily_cost, settings.budget_daily_tokens)
        usage = {
            "day": totals.day,
            "requests": totals.requests,
            "tokens": totals.tokens,
            "promptTokens": day["promptTokens"],
            "generatedTokens": day["generatedTokens"],
            "neverShownTokens": day["neverShownTokens"],
            "cost": day["cost"],
            "shown": day["shown"],
            "accepted": day["accepted"],
            "acceptRate": day["acceptRate"],
        }
        return {"usage": usage, "budget": budget.view(totals)}

    async def report(self, days: int) -> dict[str, Any]:
        """The ``inkstream/usage`` result; ``recording`` is false if the file is unusable."""
        day = today()
        start = stats.first_day(days, day)
        rows = await self._submit(lambda store: store.rows_since(start))
        figures = stats.report(rows or Rows([], []), days=days, today=day)
        return {**figures, "recording": rows is not None}

    # -- suggestions -------------------------------------------------------------------------

    def new_suggestion(
        self,
        ident: str,
        *,
        uri: str,
        line: int,
        column: int,
        text: str,
        language: str,
        model: str,
        endpoint: str,
        ttft_ms: float | None,
        kind: str = "completion",
    ) -> None:
        """A suggestion returned: a completion item, or one next edit (``kind="nextEdit"``;
        ``line``/``column`` are where its new text starts, for the kept rate)."""
        self._suggestions[ident] = Suggestion(ident, uri, line, column, text)
        while len(self._suggestions) > MAX_TRACKED:
            self._suggestions.popitem(last=False)
        row = {
            "id": ident,
            "ts": time.time(),
            "day": today(),
            "endpoint": endpoint,
            "model": model,
            "language": language,
            "chars": len(text),
            "ttft_ms": ttft_ms,
            "kind": kind,
        }
        self._submit(lambda store: store.add_suggestion(row))
        # accepted while it was still streaming: the report came before the row
        for report in self._early.pop(ident, []):
            report()

    def _unknown(self, ident: str, report: Callable[[], None]) -> None:
        """A report for an id not (yet) tracked: the item may still be streaming (replay it
        once it is returned) or be from before a restart (its row is updated anyway)."""
        self._early.setdefault(ident, []).append(report)
        while len(self._early) > MAX_TRACKED:
            self._early.pop(next(iter(self._early)))

    def shown(self, ident: str) -> None:
        if ident not in self._suggestions:
            self._unknown(ident, lambda: self.shown(ident))
        self._submit(lambda store: store.update_suggestion(ident, shown=1))

    def dismissed(self, ident: str) -> None:
        """The user turned the suggestion down (a next edit dismissed with Esc, say)."""
        if ident not in self._suggestions:
            self._unknown(ident, lambda: self.dismissed(ident))
        self._submit(lambda store: store.update_suggestion(ident, shown=1, dismissed=1))

    def accepted(self, ident: str, length: int | None = None) -> None:
        """The whole item (``length`` None) or its first ``length`` UTF-16 code units (Copilot's
        ``acceptedLength``) were accepted; what is stored and measured is characters."""
        known = self._suggestions.get(ident)
        if known is None:
            self._unknown(ident, lambda: self.accepted(ident, length))
        if length is None:
            fields: dict[str, Any] = {"shown": 1, "accepted": 1}
            if known is not None:
                known.accepted, known.accepted_chars = True, len(known.text)
                fields["accepted_chars"] = len(known.text)
        else:
            if known is not None:
                chars = utf16_prefix(known.text, length)
                if chars >= len(known.text):  # all of it, word by word or as one edit
                    self.accepted(ident)
                    return
                known.accepted_chars = max(known.accepted_chars, chars)
                length = known.accepted_chars
            # else: the text is gone (a restart), so the units are stored as they came
            fields = {"shown": 1, "accepted_chars": max(0, length)}
        self._submit(lambda store: store.update_suggestion(ident, **fields))
        if known is not None and not known.checking:
            known.checking = True
            self._schedule_kept(known)

    def _schedule_kept(self, suggestion: Suggestion) -> None:
        loop = asyncio.get_running_loop()
        for delay, column in zip(kept_delays(), ("kept_30s", "kept_2m"), strict=True):
            self._timers.add(loop.call_later(delay, self._measure_kept, suggestion, column))

    def _measure_kept(self, suggestion: Suggestion, column: str) -> None:
        self._timers = {
            t
            for t in self._timers
            if not t.cancelled() and t.when() > asyncio.get_running_loop().time()
        }
        document = self._document_text(suggestion.uri)
        accepted = suggestion.text[: suggestion.accepted_chars]
        ratio = (
            0.0
            if document is None
            else kept_ratio(accepted, document, suggestion.line, suggestion.column)
        )
        logger.debug("suggestion %s: %s = %.2f", suggestion.id, column, ratio)
        self._submit(lambda store: store.update_suggestion(suggestion.id, **{column: ratio}))
