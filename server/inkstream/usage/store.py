"""The usage database: one SQLite file in the user data directory, shared by every server.

WAL mode lets several servers (one per editor window) write at once while ``inkstream stats``
reads. The server never touches it from the event loop: ``UsageService`` runs every call on one
worker thread. Rows older than the retention period are deleted when the file is opened.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkstream.usage.budget import DayTotals

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
FILE_NAME = "usage.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    route TEXT NOT NULL,
    kind TEXT NOT NULL,
    language TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    generated_tokens INTEGER NOT NULL,
    shown_tokens INTEGER NOT NULL,
    usage_source TEXT NOT NULL,
    outcome TEXT NOT NULL,
    ttft_ms REAL,
    duration_ms REAL NOT NULL,
    cost REAL
);
CREATE INDEX IF NOT EXISTS requests_day ON requests (day);
CREATE TABLE IF NOT EXISTS suggestions (
    id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    day TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    language TEXT NOT NULL,
    chars INTEGER NOT NULL,
    ttft_ms REAL,
    shown INTEGER NOT NULL DEFAULT 0,
    accepted INTEGER NOT NULL DEFAULT 0,
    accepted_chars INTEGER NOT NULL DEFAULT 0,
    kept_30s REAL,
    kept_2m REAL,
    kind TEXT NOT NULL DEFAULT 'completion',
    dismissed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS suggestions_day ON suggestions (day);
"""

REQUEST_FIELDS = (
    "ts day endpoint model route kind language prompt_tokens generated_tokens shown_tokens "
    "usage_source outcome ttft_ms duration_ms cost"
).split()
SUGGESTION_FIELDS = "id ts day endpoint model language chars ttft_ms kind".split()
SUGGESTION_UPDATES = {"shown", "accepted", "accepted_chars", "kept_30s", "kept_2m", "dismissed"}
#: columns added after schema 1 (files from before get them; older servers leave them default)
_ADDED_COLUMNS = {
    "kind": "TEXT NOT NULL DEFAULT 'completion'",  # completion or nextEdit
    "dismissed": "INTEGER NOT NULL DEFAULT 0",
}


class StoreError(Exception):
    """The usage file cannot be used (unwritable, or written by a newer inkstream)."""


def data_dir() -> Path:
    override = os.environ.get("INKSTREAM_DATA_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_data_dir("inkstream"))


def default_path() -> Path:
    return data_dir() / FILE_NAME


@dataclass(frozen=True)
class Rows:
    requests: list[dict[str, Any]]
    suggestions: list[dict[str, Any]]


class UsageStore:
    """Synchronous access; the server calls it from one worker thread only."""

    def __init__(self, path: Path | None = None, *, retention_days: int = 90) -> None:
        self.path = path or default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=5.0, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._db:
                self._db.executescript(_SCHEMA)
                self._check_version()
                self._add_columns()
            self.prune(retention_days)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use {self.path}: {exc}") from exc

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
            )
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer inkstream (schema {row[0]}); "
                "usage is not recorded until inkstream is upgraded"
            )

    def _add_columns(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(suggestions)")}
        for name, declaration in _ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE suggestions ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        self._db.close()

    def prune(self, retention_days: int) -> None:
        cutoff = (dt.date.today() - dt.timedelta(days=retention_days)).isoformat()
        with self._db:
            self._db.execute("DELETE FROM requests WHERE day < ?", (cutoff,))
            self._db.execute("DELETE FROM suggestions WHERE day < ?", (cutoff,))

    # -- writes ----------------------------------------------------------------------------

    def add_request(self, row: Mapping[str, Any]) -> DayTotals:
        """Insert one upstream request; return the day's totals (from every server)."""
        values = [row.get(f) for f in REQUEST_FIELDS]
        placeholders = ", ".join("?" for _ in REQUEST_FIELDS)
        with self._db:
            self._db.execute(
                f"INSERT INTO requests ({', '.join(REQUEST_FIELDS)}) VALUES ({placeholders})",
                values,
            )
        return self.day_totals(str(row["day"]))

    def add_suggestion(self, row: Mapping[str, Any]) -> None:
        values = [row.get(f) for f in SUGGESTION_FIELDS]
        values[SUGGESTION_FIELDS.index("kind")] = row.get("kind") or "completion"
        placeholders = ", ".join("?" for _ in SUGGESTION_FIELDS)
        with self._db:
            self._db.execute(
                f"INSERT OR IGNORE INTO suggestions ({', '.join(SUGGESTION_FIELDS)}) "
                f"VALUES ({placeholders})",
                values,
            )

    def update_suggestion(self, ident: str, **fields: Any) -> None:
        unknown = set(fields) - SUGGESTION_UPDATES
        if unknown:
            raise ValueError(f"not updatable: {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._db:
            self._db.execute(
                f"UPDATE suggestions SET {assignments} WHERE id = ?", [*fields.values(), ident]
            )

    # -- reads -----------------------------------------------------------------------------

    def day_totals(self, day: str) -> DayTotals:
        row = self._db.execute(
            "SELECT COUNT(*), COALESCE(SUM(prompt_tokens + generated_tokens), 0), "
            "COALESCE(SUM(cost), 0.0) FROM requests WHERE day = ?",
            (day,),
        ).fetchone()
        return DayTotals(day=day, requests=row[0], tokens=row[1], cost=row[2])

    def rows_since(self, day: str) -> Rows:
        requests = self._db.execute("SELECT * FROM requests WHERE day >= ? ORDER BY ts", (day,))
        suggestions = self._db.execute(
            "SELECT * FROM suggestions WHERE day >= ? ORDER BY ts", (day,)
        )
        return Rows([dict(r) for r in requests], [dict(s) for s in suggestions])


def now() -> float:
    return time.time()
