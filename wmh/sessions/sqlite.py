"""Sessions in one SQLite file (WAL): a step is committed before it is acknowledged.

One row per session and one per turn, so a step appends a row instead of rewriting the history.
Every model shares the file; a store is the view of one model's sessions. A store keeps the states it
wrote or read in a write-through cache, so one server process owns a file (share sessions between
processes with Redis).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from wmh.core.errors import NotFoundError
from wmh.core.types import FaultPlan, SessionState, Turn

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    model TEXT NOT NULL, id TEXT NOT NULL, task TEXT NOT NULL, seed INTEGER NOT NULL,
    faults TEXT NOT NULL, PRIMARY KEY (model, id)
);
CREATE TABLE IF NOT EXISTS turns (
    model TEXT NOT NULL, id TEXT NOT NULL, idx INTEGER NOT NULL, turn TEXT NOT NULL,
    PRIMARY KEY (model, id, idx)
);
"""


class SqliteDatabase:
    """One connection to the sessions file, shared by threads under a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA busy_timeout=10000")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()

    def store(self, model: str) -> SqliteSessionStore:
        return SqliteSessionStore(self, model)

    def close(self) -> None:
        with self.lock:
            self.conn.close()


CACHE_SIZE = 4096


class SqliteSessionStore:
    def __init__(self, db: SqliteDatabase, model: str) -> None:
        self.db = db
        self.model = model
        self._cache: dict[str, SessionState] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def lock(self, session_id: str) -> threading.Lock:
        """The lock that serializes steps on one session in this process."""
        with self._locks_guard:
            return self._locks.setdefault(session_id, threading.Lock())

    def _remember(self, state: SessionState) -> None:
        self._cache.pop(state.id, None)
        self._cache[state.id] = state
        if len(self._cache) > CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))

    def get(self, session_id: str) -> SessionState:
        with self.db.lock:
            cached = self._cache.get(session_id)
            if cached is not None:
                return cached
            row = self.db.conn.execute(
                "SELECT task, seed, faults FROM sessions WHERE model=? AND id=?", (self.model, session_id)
            ).fetchone()
            turns = self.db.conn.execute(
                "SELECT turn FROM turns WHERE model=? AND id=? ORDER BY idx", (self.model, session_id)
            ).fetchall()
            if row is None:
                raise NotFoundError(f"no session {session_id!r} in model {self.model!r}")
            state = SessionState(
                id=session_id,
                model=self.model,
                task=row[0],
                seed=row[1],
                faults=FaultPlan.model_validate_json(row[2]),
                history=tuple(Turn.model_validate_json(t[0]) for t in turns),
            )
            self._remember(state)
        return state

    def put(self, state: SessionState) -> None:
        """Write what changed (new turns, or a shorter history after a reset) in one committed transaction."""
        key = (self.model, state.id)
        with self.db.lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?, ?, ?) ON CONFLICT(model, id) DO UPDATE SET "
                    "task=excluded.task, seed=excluded.seed, faults=excluded.faults",
                    (*key, state.task, state.seed, state.faults.model_dump_json()),
                )
                (stored,) = conn.execute("SELECT COUNT(*) FROM turns WHERE model=? AND id=?", key).fetchone()
                n = len(state.history)
                if stored > n:
                    conn.execute("DELETE FROM turns WHERE model=? AND id=? AND idx>=?", (*key, n))
                conn.executemany(
                    "INSERT OR REPLACE INTO turns VALUES (?, ?, ?, ?)",
                    [(*key, i, state.history[i].model_dump_json()) for i in range(min(stored, n), n)],
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._cache.pop(state.id, None)
                raise
            self._remember(state)

    def delete(self, session_id: str) -> None:
        key = (self.model, session_id)
        with self.db.lock:
            conn = self.db.conn
            conn.execute("BEGIN IMMEDIATE")
            gone = conn.execute("DELETE FROM sessions WHERE model=? AND id=?", key).rowcount
            conn.execute("DELETE FROM turns WHERE model=? AND id=?", key)
            conn.execute("COMMIT")
            self._cache.pop(session_id, None)
        if not gone:
            raise NotFoundError(f"no session {session_id!r} in model {self.model!r}")

    def ids(self) -> list[str]:
        with self.db.lock:
            rows = self.db.conn.execute(
                "SELECT id FROM sessions WHERE model=? ORDER BY id", (self.model,)
            ).fetchall()
        return [r[0] for r in rows]
