"""The pure parts of usage: prices, the budget, the kept rate, the figures, the file."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from inkstream import config
from inkstream.usage import pricing, stats
from inkstream.usage.acceptance import kept_ratio, utf16_prefix
from inkstream.usage.budget import Budget, DayTotals
from inkstream.usage.store import StoreError, UsageStore

PRICES = {"gpt-4o-mini": (0.15, 0.6), "claude-*": (3.0, 15.0)}


def test_cost_per_million_tokens_exact_name_then_glob() -> None:
    url = "https://api.example.com/v1"
    assert pricing.cost(PRICES, url, "gpt-4o-mini", 1_000_000, 0) == pytest.approx(0.15)
    assert pricing.cost(PRICES, url, "claude-3-haiku", 1000, 2000) == pytest.approx(0.033)


def test_no_price_means_no_cost_not_zero_except_on_loopback() -> None:
    assert pricing.cost(PRICES, "https://api.example.com/v1", "mystery", 10, 10) is None
    for local in ("http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://[::1]:80/v1"):
        assert pricing.cost(PRICES, local, "mystery", 10, 10) == 0.0
    # a priced model behind a local gateway still costs money
    assert pricing.cost(PRICES, "http://127.0.0.1:4000", "gpt-4o-mini", 10**6, 0) == 0.15
    assert not pricing.is_loopback("http://127.0.0.1.example.com/v1")


def test_budget_in_money_or_tokens() -> None:
    spent = DayTotals(day="2026-01-01", requests=3, tokens=900, cost=0.5)
    assert Budget().exceeded(spent) is None and Budget().view(spent) is None
    assert Budget(daily_cost=1.0).exceeded(spent) is None
    reason = Budget(daily_cost=0.5).exceeded(spent)
    assert reason is not None and "dailyCost" in reason
    tokens = Budget(daily_tokens=800)
    view = tokens.view(spent)
    assert view is not None and view["reached"] is True and view["tokensLeft"] == 0
    left = Budget(daily_cost=2.0).view(spent)
    assert left is not None and left["costLeft"] == pytest.approx(1.5)


def test_settings_take_pricing_and_budget_and_reject_nonsense() -> None:
    s = config.merge(
        {},
        {
            "pricing": {"m": {"input": 1, "output": 2.5}},
            "budget": {"dailyCost": 3, "dailyTokens": 1000},
        },
    )
    assert s.pricing == {"m": (1.0, 2.5)}
    assert (s.budget_daily_cost, s.budget_daily_tokens) == (3.0, 1000)
    assert config.merge({}, {"budget": None}).budget_daily_cost is None
    for bad in (
        {"pricing": {"m": {"input": 1}}},
        {"pricing": {"m": {"input": -1, "output": 1}}},
        {"budget": {"daily": 3}},
        {"budget": {"dailyTokens": "lots"}},
    ):
        with pytest.raises(config.SettingsError):
            config.merge({}, bad)
    # not a way around the budget object's validation
    assert config.merge({}, {"budgetDailyCost": "x"}).budget_daily_cost is None


def test_kept_ratio_follows_the_text_not_the_offset() -> None:
    accepted = "total = sum(values)\n    return total"
    doc = f"def f(values):\n    {accepted}\n"
    assert kept_ratio(accepted, doc, 1, 4) == 1.0
    moved = "# a comment\n# another\n" + doc  # lines added above
    assert kept_ratio(accepted, moved, 1, 4) == 1.0
    edited = doc.replace("return total", "return total / 2")
    assert kept_ratio(accepted, edited, 1, 4) == 1.0
    renamed = doc.replace("total", "acc")
    assert 0.3 < kept_ratio(accepted, renamed, 1, 4) < 0.9
    assert kept_ratio(accepted, "def f(values):\n    pass\n", 1, 4) == 0.0


def test_kept_ratio_column_is_in_characters_after_emoji() -> None:
    before = '    say = "🎉🎉🎉" + '  # 19 characters, 22 UTF-16 units
    accepted = '"done " + name'
    doc = f"def f(name):\n{before}{accepted}\n"
    assert kept_ratio(accepted, doc, 1, len(before)) == 1.0
    # the client's UTF-16 column would start the search inside the suggestion
    assert kept_ratio(accepted, doc, 1, len(before.encode("utf-16-le")) // 2) < 0.9


def test_kept_ratio_lines_are_those_of_the_server_positions() -> None:
    """pygls splits lines on \\r and \\r\\n as well: line 1 is the same line for both."""
    accepted = "return total"
    for newline in ("\n", "\r\n", "\r"):
        doc = newline.join(["def f(total):", "    " + accepted, "x = 1", ""])
        assert kept_ratio(accepted, doc, 1, 4) == 1.0
        assert kept_ratio(accepted, doc, 2, 0) == 0.0  # it is above line 2


def test_utf16_prefix_counts_surrogate_pairs_as_one_character() -> None:
    text = "a🚀b\n😀"
    units = [utf16_prefix(text, n) for n in range(len(text.encode("utf-16-le")) // 2 + 2)]
    # a | 🚀 (two units: half of it is not a character) | b | \n | 😀 (two units) | past the end
    assert units == [0, 1, 1, 2, 3, 4, 4, 5, 5]
    assert utf16_prefix(text, -3) == 0
    assert utf16_prefix("plain ascii", 5) == 5


def _request(day: str, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "ts": 0.0,
        "day": day,
        "endpoint": "e",
        "model": "m",
        "route": "chat",
        "kind": "completion",
        "language": "python",
        "prompt_tokens": 100,
        "generated_tokens": 20,
        "shown_tokens": 20,
        "usage_source": "reported",
        "outcome": "complete",
        "ttft_ms": 50.0,
        "duration_ms": 90.0,
        "cost": None,
    }
    row.update(kw)
    return row


def test_store_figures_and_retention(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    store = UsageStore(path)
    today = dt.date.today()
    old = (today - dt.timedelta(days=100)).isoformat()
    store.add_request(_request(old))
    totals = store.add_request(_request(today.isoformat(), cost=0.25))
    store.add_request(
        _request(today.isoformat(), outcome="superseded", shown_tokens=0, usage_source="counted")
    )
    store.add_suggestion(
        {
            "id": "a",
            "ts": 0.0,
            "day": today.isoformat(),
            "endpoint": "e",
            "model": "m",
            "language": "python",
            "chars": 10,
            "ttft_ms": 40.0,
        }
    )
    store.update_suggestion("a", shown=1, accepted=1, accepted_chars=10, kept_30s=0.8)
    assert totals.requests == 1 and totals.tokens == 120 and totals.cost == 0.25
    store.close()

    store = UsageStore(path, retention_days=90)  # reopening prunes the 100-day-old row
    rows = store.rows_since(old)
    store.close()
    report = stats.report(rows, days=3, today=today.isoformat())
    t = report["totals"]
    assert t["requests"] == 2 and t["stoppedEarly"] == 1 and t["neverShownTokens"] == 20
    assert (t["reportedRequests"], t["countedRequests"]) == (1, 1)
    assert t["cost"] == 0.25 and t["unpricedRequests"] == 1
    assert (t["shown"], t["accepted"], t["acceptRate"], t["charsAccepted"]) == (1, 1, 1.0, 10)
    assert t["keptRate30s"] == 0.8 and t["keptRate2m"] is None
    assert [d["requests"] for d in report["days"]] == [0, 0, 2]
    assert report["byLanguage"][0]["language"] == "python"


def test_a_newer_schema_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    UsageStore(path).close()
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.close()
    with pytest.raises(StoreError, match="newer inkstream"):
        UsageStore(path)


def test_next_edits_are_counted_apart_and_old_files_get_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    db = sqlite3.connect(path)  # a file from before next edits: no kind, no dismissed
    db.executescript(
        "CREATE TABLE suggestions (id TEXT PRIMARY KEY, ts REAL NOT NULL, day TEXT NOT NULL,"
        " endpoint TEXT NOT NULL, model TEXT NOT NULL, language TEXT NOT NULL,"
        " chars INTEGER NOT NULL, ttft_ms REAL, shown INTEGER NOT NULL DEFAULT 0,"
        " accepted INTEGER NOT NULL DEFAULT 0, accepted_chars INTEGER NOT NULL DEFAULT 0,"
        " kept_30s REAL, kept_2m REAL);"
    )
    db.close()
    store = UsageStore(path)
    day = dt.date.today().isoformat()
    row = {"ts": 0.0, "day": day, "endpoint": "offline", "model": "offline", "language": "py"}
    store.add_suggestion({**row, "id": "c", "chars": 5, "ttft_ms": 30.0})
    for ident in ("n1", "n2", "n3"):
        store.add_suggestion({**row, "id": ident, "chars": 8, "ttft_ms": 2.0, "kind": "nextEdit"})
    store.update_suggestion("c", shown=1)
    store.update_suggestion("n1", shown=1, accepted=1, kept_2m=0.5)
    store.update_suggestion("n2", shown=1, dismissed=1)
    rows = store.rows_since(day)
    store.close()
    totals = stats.report(rows, days=1, today=day)["totals"]
    assert (totals["shown"], totals["accepted"], totals["medianTimeToFirstGhostMs"]) == (1, 0, 30.0)
    assert totals["nextEdits"] == {
        "suggested": 3,
        "shown": 2,
        "accepted": 1,
        "dismissed": 1,
        "acceptRate": 0.5,
        "keptRate2m": 0.5,
    }
