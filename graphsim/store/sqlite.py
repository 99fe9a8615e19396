"""Worlds kept in an embedded SQLite database, across restarts.

Each world is a snapshot (the native world file) plus the log of mutations committed since:
``changes`` holds one row per mutation (when, which, its arguments, a summary) and is also the
world's history. A world is rebuilt by loading its latest snapshot and replaying the changes
after it; a snapshot is written every ``SNAPSHOT_EVERY`` changes so replays stay short.
Every change is one ``BEGIN IMMEDIATE ... COMMIT`` transaction in WAL mode with
``synchronous=FULL``: an acknowledged change survives a crash, and a failed one leaves nothing.

A store file is held through two connections: reads go through one, writes through the other.
A write that waits for another process's write lock (``BEGIN IMMEDIATE``, tried again for at
most the lock wait) then holds only the writing connection, and the reads of every other thread
(a server's questions, its check for other processes' commits) go on meanwhile: in WAL mode they
read the last committed state, never the rows of a write not yet committed. ``reserving`` lets a
server wait for that lock before it touches the worlds in memory (graphsim.api.running).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ConflictError, NotFoundError, StoreBusyError, VersionConflictError
from .base import DEFAULT_WORLD_SETTING, SNAPSHOT_EVERY, Change, WorldRecord, now
from .location import MEMORY, check_location

__all__ = ["DEFAULT_WORLD_SETTING", "SNAPSHOT_EVERY", "Change", "SqliteStore", "WorldRecord", "default_db_path", "now"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS worlds (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    forked_from TEXT,
    forked_at_version INTEGER
);
CREATE TABLE IF NOT EXISTS snapshots (
    world TEXT NOT NULL REFERENCES worlds(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data)),
    PRIMARY KEY (world, version)
);
CREATE TABLE IF NOT EXISTS changes (
    world TEXT NOT NULL REFERENCES worlds(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    mutation TEXT NOT NULL,
    args TEXT NOT NULL CHECK (json_valid(args)),
    summary TEXT NOT NULL,
    PRIMARY KEY (world, version)
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
# How long a write waits for another process's write lock in all before answering "try again"
# (a typed retryable STORE_BUSY, never "locked"); a server lowers it under its deadline.
LOCK_WAIT_SECONDS = 15.0
_LONGEST_PAUSE = 0.02  # between two tries of BEGIN IMMEDIATE while another process writes
_HELD, _USED = object(), object()  # states of a reservation (SqliteStore.reserving)


class _Rows:
    """A statement's rows, read whole while the connection was held."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._rows = cursor.fetchall()
        self.rowcount = cursor.rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class SerialConnection:
    """One sqlite3 connection shared by a server's worker threads. A statement runs to its last
    row under the connection's lock, and a transaction holds the store's lock from BEGIN to COMMIT
    (SqliteStore: the reading lock, or the writing one): two threads' statements interleaved on
    one connection failed with "another row available", and a read between another thread's
    BEGIN and COMMIT would have seen its uncommitted rows."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db = db
        self._lock = lock

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        with self._lock:
            return _Rows(self._db.execute(sql, params))

    def executescript(self, script: str) -> None:
        with self._lock:
            self._db.executescript(script)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction


def default_db_path() -> Path:
    """``$GRAPHSIM_DB``, else ``$XDG_DATA_HOME/graphsim/graphsim.db`` (``~/.local/share/...``)."""
    if os.environ.get("GRAPHSIM_DB"):
        return Path(os.environ["GRAPHSIM_DB"])
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "graphsim" / "graphsim.db"


class SqliteStore:
    """The embedded store (``graphsim.store.base.Store``), one file on one host."""

    def __init__(self, path: str | Path) -> None:
        # A location that is not an SQLite file (or a folder that does not exist) is refused
        # before anything is created; see location.py.
        self.path = self.location = check_location(path)
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves (Python 3.11).
        # Two connections (see the module docstring), each used by one thread at a time:
        # - the writing one: ``_statements`` for each statement, and ``_write_lock`` held by the
        #   thread whose transaction it is, from BEGIN to COMMIT (another thread may still ask it
        #   ``data_version`` meanwhile: that reads no row). It also tells other processes'
        #   commits apart (data_version changes with every connection's commits but its own);
        # - the reading one (``db``), under ``_lock`` for a statement or a read transaction.
        # A :memory: database is one per connection, and no other process can reach it: there one
        # connection does both, under one lock.
        memory = self.path == MEMORY
        self._write_lock = threading.RLock()
        self._queued_out = threading.local()  # .busy: this thread's reservation timed out in the queue
        self._statements = self._write_lock if memory else threading.RLock()
        self._writer = SerialConnection(_connect(self.path), self._statements)
        self._lock = self._write_lock if memory else threading.RLock()
        self.db = self._writer
        self._lock_wait = LOCK_WAIT_SECONDS
        # What ``reserving`` holds for this store's next transaction: None (no reservation),
        # _HELD (BEGIN IMMEDIATE done), _USED (a transaction ran in it) or the STORE_BUSY it met.
        self._reservation: object = None
        try:
            for pragma in ("busy_timeout=5000", "journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
                self._writer.execute(f"PRAGMA {pragma}")
            (user_version,) = self._writer.execute("PRAGMA user_version").fetchone()
            if user_version not in (0, SCHEMA_VERSION):
                raise ConflictError(f"{self.path} holds graphsim store schema {user_version}; this graphsim reads {SCHEMA_VERSION}", field="db")
            self._writer.executescript(_SCHEMA)  # CREATE ... IF NOT EXISTS: writes nothing on a store that has them
            if user_version == 0:
                # Written once, so opening a store (each server worker does) needs no write lock.
                self._writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if not memory:
                # Its waits for the write lock are _begin's tries, the connection free between them.
                self._writer.execute("PRAGMA busy_timeout = 0")
                self.db = SerialConnection(_connect(self.path), self._lock)
                self.db.execute("PRAGMA busy_timeout = 5000")
        except sqlite3.DatabaseError as exc:
            self.close()
            if _is_busy(exc):
                raise StoreBusyError(f"the store {self.path} is busy with another process's write; try again") from None
            raise ConflictError(f"{self.path} is not a graphsim store: {exc}", field="db") from None

    def close(self) -> None:
        if self.db is not self._writer:
            self.db.close()
        self._writer.close()

    def cap_lock_wait(self, seconds: float) -> None:
        """Wait at most ``seconds`` in all for another process's write lock before STORE_BUSY (a
        server keeps this under its request deadline); a shorter wait already set is kept."""
        self._lock_wait = min(self._lock_wait, seconds)

    @contextmanager
    def transaction(self) -> Iterator[SerialConnection]:
        if getattr(self._queued_out, "busy", False):
            raise self._busy()  # ``reserving`` waited the whole lock wait in this process's queue
        with self._write_lock:  # the writing connection's transaction is this thread's from BEGIN to COMMIT
            held = self._reservation
            if isinstance(held, StoreBusyError):
                raise self._busy()  # ``reserving`` waited the whole lock wait already
            if held is _HELD:  # begun by ``reserving``: this transaction is that one
                self._reservation = _USED
            else:
                self._begin()
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    @contextmanager
    def reserving(self) -> Iterator[None]:
        """Wait for the store's write lock now and hold it: the next ``transaction`` of this
        thread inside runs in it (and commits at its end); when none does, nothing was written and
        the lock is let go on the way out. When another process keeps the lock past the lock wait,
        every transaction inside fails at once with STORE_BUSY, as it would have after waiting.
        Only the writing connection waits: the reads of other threads go on meanwhile. A no-op
        for a :memory: store (no other process can hold its lock), and inside a transaction."""
        if self.db is self._writer:
            yield
            return
        give_up = time.monotonic() + self._lock_wait
        # The lock wait bounds the whole wait, in this process's queue too: changes queued behind
        # one that waits for another process's lock would otherwise wait one lock wait each.
        if not self._write_lock.acquire(timeout=self._lock_wait):
            self._queued_out.busy = True
            try:
                yield
            finally:
                self._queued_out.busy = False
            return
        try:
            if self._writer.in_transaction or self._reservation is not None:
                yield
                return
            try:
                self._begin(give_up)
                self._reservation = _HELD
            except StoreBusyError as exc:
                self._reservation = exc
            try:
                yield
            finally:
                if self._reservation is _HELD:
                    self._writer.execute("ROLLBACK")
                self._reservation = None
        finally:
            self._write_lock.release()

    def _begin(self, give_up: float | None = None) -> None:
        """BEGIN IMMEDIATE, tried again after a short pause (growing to _LONGEST_PAUSE) while
        another process holds the write lock, for the lock wait in all; between tries the writing
        connection is free for other threads' ``data_version``."""
        if give_up is None:
            give_up = time.monotonic() + self._lock_wait
        pause = 0.001
        while True:
            try:
                self._writer.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            left = give_up - time.monotonic()
            if left <= 0:
                raise self._busy() from None
            time.sleep(min(pause, left))
            pause = min(2 * pause, _LONGEST_PAUSE)

    def _busy(self) -> StoreBusyError:
        return StoreBusyError(f"the store {self.path} is busy with another process's writes; nothing was changed, try again")

    @contextmanager
    def reading(self) -> Iterator[SerialConnection]:
        """Several reads that see one moment of the store (one read transaction in WAL mode, so
        another process's commit lands wholly before or wholly after them, and never waits).
        Inside another one, it is part of that one."""
        with self._lock:
            yield from self._reading()

    def _reading(self) -> Iterator[SerialConnection]:
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.execute("COMMIT")

    # ---- reading -------------------------------------------------------------------------

    def worlds(self) -> list[WorldRecord]:
        rows = self.db.execute("SELECT name, version, created_at, forked_from, forked_at_version FROM worlds ORDER BY name").fetchall()
        return [WorldRecord(*row) for row in rows]

    def record(self, name: str) -> WorldRecord:
        row = self.db.execute("SELECT name, version, created_at, forked_from, forked_at_version FROM worlds WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFoundError("world", name, field="world")
        return WorldRecord(*row)

    def load(self, name: str) -> tuple[dict[str, Any], int, list[Change]]:
        """(latest snapshot, its version, the changes after it) of a world, read in one transaction."""
        with self.reading():
            return self._load(name)

    def _load(self, name: str) -> tuple[dict[str, Any], int, list[Change]]:
        row = self.db.execute("SELECT data, version FROM snapshots WHERE world = ? ORDER BY version DESC LIMIT 1", (name,)).fetchone()
        if row is None:
            raise NotFoundError("world", name, field="world")
        data, version = json.loads(row[0]), row[1]
        return data, version, self.history(name, after=version)

    def history(self, name: str, *, after: int = -1, limit: int | None = None, newest_first: bool = False) -> list[Change]:
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT version, at, mutation, args, summary FROM changes WHERE world = ? AND version > ? ORDER BY version {order}"
        params: tuple[Any, ...] = (name, after)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        return [Change(v, at, m, json.loads(a), s) for v, at, m, a, s in self.db.execute(sql, params)]

    # ---- writing -------------------------------------------------------------------------

    def create(self, name: str, data: Mapping[str, Any], *, mutation: str, args: Mapping[str, Any], summary: str, replace: bool = False) -> int:
        """A new world (or, with ``replace``, a new snapshot of an existing one), in one transaction."""
        text = json.dumps(data)
        with self.transaction() as db:
            row = db.execute("SELECT version FROM worlds WHERE name = ?", (name,)).fetchone()
            if row is not None and not replace:
                raise ConflictError(f"world {name!r} already exists", field="name")
            version = 0 if row is None else row[0] + 1
            if row is None:
                db.execute("INSERT INTO worlds (name, version, created_at) VALUES (?, ?, ?)", (name, version, now()))
            else:
                db.execute("UPDATE worlds SET version = ? WHERE name = ?", (version, name))
            db.execute("INSERT INTO snapshots (world, version, data) VALUES (?, ?, ?)", (name, version, text))
            db.execute(
                "INSERT INTO changes (world, version, at, mutation, args, summary) VALUES (?, ?, ?, ?, ?, ?)",
                (name, version, now(), mutation, json.dumps(args), summary),
            )
        return version

    def append(self, name: str, version: int, mutation: str, args: Mapping[str, Any], summary: str, snapshot: Mapping[str, Any] | None = None) -> None:
        """Record one committed mutation (and optionally a fresh snapshot) atomically."""
        with self.transaction() as db:
            cur = db.execute("UPDATE worlds SET version = ? WHERE name = ? AND version = ?", (version, name, version - 1))
            if cur.rowcount != 1:
                # Another process changed this world between this process's catching up and now.
                raise VersionConflictError(name, version - 1)
            db.execute(
                "INSERT INTO changes (world, version, at, mutation, args, summary) VALUES (?, ?, ?, ?, ?, ?)",
                (name, version, now(), mutation, json.dumps(args), summary),
            )
            if snapshot is not None:
                db.execute("INSERT INTO snapshots (world, version, data) VALUES (?, ?, ?)", (name, version, json.dumps(snapshot)))

    def fork(self, source: str, name: str) -> int:
        """Copy a world, its snapshots and its history, under a new name."""
        with self.transaction() as db:
            row = db.execute("SELECT version FROM worlds WHERE name = ?", (source,)).fetchone()
            if row is None:
                raise NotFoundError("world", source, field="source")
            if db.execute("SELECT 1 FROM worlds WHERE name = ?", (name,)).fetchone():
                raise ConflictError(f"world {name!r} already exists", field="name")
            version = row[0] + 1
            db.execute("INSERT INTO worlds (name, version, created_at, forked_from, forked_at_version) VALUES (?, ?, ?, ?, ?)", (name, version, now(), source, row[0]))
            db.execute("INSERT INTO snapshots (world, version, data) SELECT ?, version, data FROM snapshots WHERE world = ?", (name, source))
            db.execute("INSERT INTO changes (world, version, at, mutation, args, summary) SELECT ?, version, at, mutation, args, summary FROM changes WHERE world = ?", (name, source))
            db.execute(
                "INSERT INTO changes (world, version, at, mutation, args, summary) VALUES (?, ?, ?, ?, ?, ?)",
                (name, version, now(), "forkWorld", json.dumps({"source": source, "atVersion": row[0]}), f"forked from {source} at version {row[0]}"),
            )
        return version

    def delete(self, name: str) -> None:
        with self.transaction() as db:
            if db.execute("DELETE FROM worlds WHERE name = ?", (name,)).rowcount != 1:
                raise NotFoundError("world", name, field="name")

    # ---- the store as a whole: settings, and noticing other processes' writes ----------------

    def setting(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def data_version(self) -> int:
        """A number that changes whenever another connection (another process) commits to the
        store: SQLite's ``PRAGMA data_version``, answered without reading any table."""
        (version,) = self._writer.execute("PRAGMA data_version").fetchone()  # this process' writes are its own
        return int(version)

    def data_version_now(self) -> int | None:
        """``data_version`` if the writing connection is free for a statement this moment, else
        None, without waiting (a server's event loop asks before it answers a cheap question)."""
        if not self._statements.acquire(blocking=False):
            return None
        try:
            return self.data_version()
        finally:
            self._statements.release()


def _connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False)


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text
