"""``inkstream stats [--days N] [--json]``: what the model cost and what was kept, per day.

Reads the usage file directly (no server needed), with the same figures as ``inkstream/usage``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

BAR_WIDTH = 30


def add_command(sub: Any) -> None:
    stats = sub.add_parser("stats", help="tokens, cost and acceptance per day (local usage data)")
    stats.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    stats.add_argument("--json", action="store_true", help="print the figures as JSON")
    stats.set_defaults(run=_run_stats)


def _run_stats(args: argparse.Namespace) -> int:
    from inkstream.usage import stats
    from inkstream.usage.budget import today
    from inkstream.usage.store import StoreError, UsageStore, default_path

    if not 1 <= args.days <= 366:
        print("inkstream: --days must be between 1 and 366", file=sys.stderr)
        return 2
    path = default_path()
    try:
        store = UsageStore(path)
        day = today()
        rows = store.rows_since(stats.first_day(args.days, day))
        store.close()
    except StoreError as exc:
        print(f"inkstream: {exc}", file=sys.stderr)
        return 1
    figures = stats.report(rows, days=args.days, today=day)
    if args.json:
        print(json.dumps({**figures, "file": str(path)}, indent=2))
        return 0
    _print_report(figures, str(path))
    return 0


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"


def _cost(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}ms"


def _print_report(figures: dict[str, Any], path: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # piped: rich would assume 80 columns and squeeze the table
        console = Console(width=120)
    table = Table(
        title=f"inkstream usage {figures['from']} … {figures['to']}", title_justify="left"
    )
    columns = (
        "day",
        "req",
        "in",
        "out",
        "unseen",
        "early",
        "cost",
        "shown",
        "acc",
        "kept",
        "ghost",
        "next",
        "n.acc",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "day" else "right", no_wrap=True)
    for d in [*figures["days"], {"day": "total", **figures["totals"]}]:
        table.add_row(
            d["day"],
            str(d["requests"]),
            str(d["promptTokens"]),
            str(d["generatedTokens"]),
            str(d["neverShownTokens"]),
            str(d["stoppedEarly"]),
            _cost(d["cost"]),
            str(d["shown"]),
            _pct(d["acceptRate"]),
            _pct(d["keptRate2m"]),
            _ms(d["medianTimeToFirstGhostMs"]),
            str(d["nextEdits"]["shown"]),
            _pct(d["nextEdits"]["acceptRate"]),
            end_section=d is figures["days"][-1],
        )
    console.print(table)
    console.print(
        "[dim]in/out: prompt and generated tokens; unseen: generated but never shown; early: "
        "requests stopped before the model finished; acc: accepted/shown; kept: share of "
        "accepted text still there after 2 min; ghost: median time to first ghost text; "
        "next: next edits shown; n.acc: next edits accepted/shown[/dim]"
    )
    edits = figures["totals"]["nextEdits"]
    if edits["suggested"]:
        console.print(
            f"Next edits: {edits['suggested']} suggested, {edits['shown']} shown, "
            f"{edits['accepted']} accepted, {edits['dismissed']} dismissed."
        )
    _print_bars(console, figures["days"])
    if figures["totals"]["unpricedRequests"]:
        console.print(
            f"[dim]{figures['totals']['unpricedRequests']} requests have no price "
            "(set 'pricing' for their model); their cost is not counted.[/dim]"
        )
    console.print(f"[dim]data: {path}[/dim]")


def _print_bars(console: Any, days: list[dict[str, Any]]) -> None:
    """Tokens per day as a bar each; the cost beside it when known."""
    tokens = [d["promptTokens"] + d["generatedTokens"] for d in days]
    top = max(tokens, default=0)
    if not top:
        console.print("No requests recorded in this period.")
        return
    for d, total in zip(days, tokens, strict=True):
        bar = "█" * round(BAR_WIDTH * total / top) if total else ""
        cost = "" if d["cost"] is None else f"  {d['cost']:.4f}"
        console.print(f"{d['day']}  [cyan]{bar:<{BAR_WIDTH}}[/cyan] {total} tokens{cost}")
