"""SQLite persistence for the sandbox: one table of JSON documents per resource kind.

Every table has the same shape: ``id`` (primary key), ``parent`` (the owning
case or project, when there is one), ``key`` (the case key, cases only) and
``doc`` (the JSON document).  Rows come back in insertion order (``rowid``).
A ``counters`` table holds the per-project case numbers.

The store does no locking of its own: the ``Sandbox`` holds one lock around
every request and runs each request in one transaction (``with store.transaction()``),
so a request's changes are applied entirely or not at all.  Files use WAL mode
and a busy timeout, so several processes can share one database file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

__all__ = ["Store", "KINDS", "default_db_path"]

#: resource kinds, one table each
KINDS = (
    "projects",
    "cases",
    "cells",  # timeline cells (comments); parent = case id
    "watchers",  # parent = case id
    "favorites",  # parent = user id, id = "<user>:<project>"
    "rules",  # automation rules; parent = project id
    "notification_rules",  # parent = project id
    "maintenance_windows",
    "views",  # parent = project id
    "links",
    "users",  # the callers the sandbox has seen (derived from their keys), rendered in ``included``
    "case_types",  # user-created case types (the built-in ones are constants, casetypes.py)
    "custom_attributes",  # custom attribute configs; parent = case type id
)

_SCHEMA_VERSION = 1


def default_db_path() -> Path:
    """``$XDG_DATA_HOME/datadog-case-actions/sandbox.sqlite3`` (``~/.local/share`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "datadog-case-actions" / "sandbox.sqlite3"


class Store:
    """JSON documents in SQLite.  Not thread-safe by itself: callers serialise access."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        target = str(path)
        self.path = target
        self.memory = target == ":memory:"
        if not self.memory:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout = 10000")
        if not self.memory:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._depth = 0
        self._writes = 0  # bumped by every write through this store: invalidates snapshots
        self._snapshots: dict[str, tuple[tuple[int, int], list[dict[str, Any]]]] = {}
        #: results computed from a snapshot, keyed by a tuple starting with ``version()`` (read-only)
        self.memo: dict[tuple[Any, ...], Any] = {}
        with self.transaction():
            for kind in KINDS:
                self._db.execute(
                    f"CREATE TABLE IF NOT EXISTS {kind} ("
                    "id TEXT PRIMARY KEY, parent TEXT, key TEXT, doc TEXT NOT NULL)"
                )
                self._db.execute(f"CREATE INDEX IF NOT EXISTS {kind}_parent ON {kind}(parent)")
            self._db.execute("CREATE INDEX IF NOT EXISTS cases_key ON cases(key)")
            self._db.execute("CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ?)", (str(_SCHEMA_VERSION),)
            )

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``); nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._db.execute("ROLLBACK")
            raise
        else:
            self._depth = 0
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    # -- documents ----------------------------------------------------------------------------

    def version(self) -> tuple[int, int]:
        """Changes whenever the data may have changed: our writes, or a commit by another process."""
        return self._writes, int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def snapshot(self, kind: str) -> list[dict[str, Any]]:
        """Every document of *kind*, decoded once per data version.  READ-ONLY: shared between calls.

        Why: searching and paging decode every case on every page otherwise, which
        makes walking 50,000 cases quadratic in JSON decoding.
        """
        version = self.version()
        cached = self._snapshots.get(kind)
        if cached is None or cached[0] != version:
            cached = (version, self.list(kind))
            self._snapshots[kind] = cached
        return cached[1]

    def get(self, kind: str, id: str) -> dict[str, Any] | None:
        row = self._db.execute(f"SELECT doc FROM {kind} WHERE id = ?", (id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, kind: str, doc: dict[str, Any], *, parent: str | None = None, key: str | None = None) -> None:
        """Insert or replace *doc* (its ``id`` is the primary key); an update keeps the row's position."""
        self._writes += 1
        text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
        updated = self._db.execute(
            f"UPDATE {kind} SET parent = ?, key = ?, doc = ? WHERE id = ?", (parent, key, text, doc["id"])
        ).rowcount
        if not updated:
            self._db.execute(f"INSERT INTO {kind} (id, parent, key, doc) VALUES (?, ?, ?, ?)",
                             (doc["id"], parent, key, text))

    def delete(self, kind: str, id: str) -> bool:
        self._writes += 1
        return bool(self._db.execute(f"DELETE FROM {kind} WHERE id = ?", (id,)).rowcount)

    def delete_children(self, kind: str, parent: str) -> int:
        self._writes += 1
        return int(self._db.execute(f"DELETE FROM {kind} WHERE parent = ?", (parent,)).rowcount)

    def list(self, kind: str, parent: str | None = None) -> list[dict[str, Any]]:
        if parent is None:
            rows = self._db.execute(f"SELECT doc FROM {kind} ORDER BY rowid").fetchall()
        else:
            rows = self._db.execute(f"SELECT doc FROM {kind} WHERE parent = ? ORDER BY rowid", (parent,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def find_by_key(self, kind: str, key: str) -> dict[str, Any] | None:
        row = self._db.execute(f"SELECT doc FROM {kind} WHERE key = ? ORDER BY rowid LIMIT 1", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def count(self, kind: str) -> int:
        return int(self._db.execute(f"SELECT COUNT(*) FROM {kind}").fetchone()[0])

    # -- counters -----------------------------------------------------------------------------

    def next_value(self, name: str) -> int:
        """Increment and return the counter *name* (starts at 1)."""
        self._db.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1", (name,)
        )
        return int(self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def reset(self) -> None:
        """Delete every document and counter."""
        self._writes += 1
        with self.transaction():
            for kind in KINDS:
                self._db.execute(f"DELETE FROM {kind}")
            self._db.execute("DELETE FROM counters")
