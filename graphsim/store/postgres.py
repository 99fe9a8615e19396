"""Worlds kept in a PostgreSQL database, shared by several server processes (replicas).

The same concepts as the SQLite store (``graphsim.store.base``): a world is its snapshots plus the
log of changes since, which is also its history. Every change is one transaction, so a failed one
writes nothing. What several replicas need on top:

- **the world's version is the optimistic lock.** ``append`` writes version N only where the
  world is at N - 1 (``UPDATE ... WHERE version = N - 1``); under READ COMMITTED a second writer
  of the same world waits for the first to commit, then finds the row no longer matching, and gets
  a ``VersionConflictError`` (``VERSION_CONFLICT``, retryable) with nothing written. No change is
  ever lost or applied on top of a state its writer did not see.
- **a cheap "anything new?"**: every write transaction also bumps ``store_meta.data_version``
  (and sends ``NOTIFY graphsim``), so a replica asks one indexed single-row question per request
  and re-reads worlds only when the number moved.

Timestamps stay text in the same format as the SQLite store, and documents are ``json`` (kept as
written, key order included), so both stores return the same records.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.json import Json

from ..errors import ConflictError, InvalidRequestError, NotFoundError, StoreUnavailableError, VersionConflictError
from .base import Change, WorldRecord, now
from .location import redact

SCHEMA_VERSION = 1
CONNECT_TIMEOUT_S = 5
NOTIFY_CHANNEL = "graphsim"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS store_meta (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    schema_version INTEGER NOT NULL,
    data_version BIGINT NOT NULL
);
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
    data JSON NOT NULL,
    PRIMARY KEY (world, version)
);
CREATE TABLE IF NOT EXISTS changes (
    world TEXT NOT NULL REFERENCES worlds(name) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    at TEXT NOT NULL,
    mutation TEXT NOT NULL,
    args JSON NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (world, version)
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
T = TypeVar("T")
_RECORD = "SELECT name, version, created_at, forked_from, forked_at_version FROM worlds"
_INSERT_CHANGE = "INSERT INTO changes (world, version, at, mutation, args, summary) VALUES (%s, %s, %s, %s, %s, %s)"


class PostgresStore:
    """The shared store (``graphsim.store.base.Store``) in one PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = self.location = url
        self.path = redact(url)
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise InvalidRequestError(f"{self.path} is not a PostgreSQL URL ({_first_line(exc)}): write postgresql://USER@HOST[:PORT]/DATABASE", field="db") from None
        # One connection, used by one request at a time (the lock: a server's threadpool routes
        # must not interleave two transactions on it).
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._reading = False  # inside ``reading``: reads join its transaction
        with self._session() as conn, conn.transaction():
            # Two processes creating the schema at once: one waits for the other's lock.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('graphsim schema'))")
            conn.execute(_SCHEMA)
            conn.execute("INSERT INTO store_meta (id, schema_version, data_version) VALUES (1, %s, 0) ON CONFLICT (id) DO NOTHING", (SCHEMA_VERSION,))
            (schema,) = _one(conn.execute("SELECT schema_version FROM store_meta WHERE id = 1"))
        if schema != SCHEMA_VERSION:
            self.close()
            raise ConflictError(f"{self.path} holds graphsim store schema {schema}; this graphsim reads {SCHEMA_VERSION}", field="db")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # ---- the connection -------------------------------------------------------------------

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="graphsim")
        except psycopg.OperationalError as exc:
            raise StoreUnavailableError(f"cannot reach the PostgreSQL store {self.path}: {_first_line(exc)}", field="db") from None

    @contextmanager
    def _session(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection, reconnected when the server dropped it (a restart, a failover); a lost
        connection mid-request is a retryable STORE_UNAVAILABLE with nothing committed."""
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = self._connect()
            try:
                yield self._conn
            except psycopg.OperationalError as exc:
                if self._conn is not None and (self._conn.closed or self._conn.broken):
                    self._conn = None
                    # A write lost before COMMIT wrote nothing; one lost during COMMIT may have
                    # been recorded: the reply cannot tell, so it says so.
                    raise StoreUnavailableError(f"lost the connection to the PostgreSQL store {self.path}: {_first_line(exc)}; try again (a change sent just now may or may not have been recorded: its world's history says)") from None
                raise

    @contextmanager
    def reading(self) -> Iterator[psycopg.Connection[Any]]:
        """Several reads that see one moment of the database (one REPEATABLE READ, read-only
        transaction; another replica's commit lands wholly before or after them). Re-entrant."""
        with self._session() as conn:
            if self._reading:
                yield conn
                return
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
            self._reading = True
            try:
                with conn.transaction():
                    yield conn
            finally:
                self._reading = False
                if not conn.broken and not conn.closed:
                    conn.isolation_level = None
                    conn.read_only = None

    def _read(self, read: Callable[[psycopg.Connection[Any]], T]) -> T:
        """A read, tried once more on a new connection when the old one had been dropped
        (reads are safe to repeat; writes are not, and are never retried here). Inside
        ``reading`` it is part of that transaction, and not retried alone."""
        if self._reading:
            with self._session() as conn:
                return read(conn)
        for attempt in (1, 2):
            try:
                with self._session() as conn:
                    return read(conn)
            except StoreUnavailableError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @contextmanager
    def _write(self) -> Iterator[psycopg.Connection[Any]]:
        """One write transaction; it bumps the store's data_version as its last statement (so
        row locks are always taken worlds first, then store_meta: no deadlock between writers)."""
        with self._session() as conn:
            with conn.transaction():
                yield conn
                conn.execute("UPDATE store_meta SET data_version = data_version + 1 WHERE id = 1")
                conn.execute(f"NOTIFY {NOTIFY_CHANNEL}")

    # ---- reading -------------------------------------------------------------------------

    def worlds(self) -> list[WorldRecord]:
        return self._read(lambda conn: [WorldRecord(*row) for row in conn.execute(_RECORD + " ORDER BY name")])

    def record(self, name: str) -> WorldRecord:
        row = self._read(lambda conn: conn.execute(_RECORD + " WHERE name = %s", (name,)).fetchone())
        if row is None:
            raise NotFoundError("world", name, field="world")
        return WorldRecord(*row)

    def load(self, name: str) -> tuple[dict[str, Any], int, list[Change]]:
        """(latest snapshot, its version, the changes after it), from one snapshot of the database."""

        with self.reading() as conn:
            row = conn.execute("SELECT data::text, version FROM snapshots WHERE world = %s ORDER BY version DESC LIMIT 1", (name,)).fetchone()
            if row is None:
                raise NotFoundError("world", name, field="world")
            return json.loads(row[0]), row[1], self._history(conn, name, after=row[1])

    def history(self, name: str, *, after: int = -1, limit: int | None = None, newest_first: bool = False) -> list[Change]:
        return self._read(lambda conn: self._history(conn, name, after=after, limit=limit, newest_first=newest_first))

    @staticmethod
    def _history(conn: psycopg.Connection[Any], name: str, *, after: int = -1, limit: int | None = None, newest_first: bool = False) -> list[Change]:
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT version, at, mutation, args::text, summary FROM changes WHERE world = %s AND version > %s ORDER BY version {order}"
        params: tuple[Any, ...] = (name, after)
        if limit is not None:
            sql += " LIMIT %s"
            params += (limit,)
        return [Change(v, at, m, json.loads(a), s) for v, at, m, a, s in conn.execute(sql, params)]

    # ---- writing -------------------------------------------------------------------------

    def create(self, name: str, data: Mapping[str, Any], *, mutation: str, args: Mapping[str, Any], summary: str, replace: bool = False) -> int:
        """A new world (or, with ``replace``, a new snapshot of an existing one), in one transaction."""
        text = json.dumps(data)
        try:
            with self._write() as conn:
                row = conn.execute("SELECT version FROM worlds WHERE name = %s FOR UPDATE", (name,)).fetchone()
                if row is not None and not replace:
                    raise ConflictError(f"world {name!r} already exists", field="name")
                version = 0 if row is None else row[0] + 1
                if row is None:
                    conn.execute("INSERT INTO worlds (name, version, created_at) VALUES (%s, %s, %s)", (name, version, now()))
                else:
                    conn.execute("UPDATE worlds SET version = %s WHERE name = %s", (version, name))
                conn.execute("INSERT INTO snapshots (world, version, data) VALUES (%s, %s, %s::json)", (name, version, text))
                conn.execute(_INSERT_CHANGE, (name, version, now(), mutation, Json(args), summary))
        except pg_errors.UniqueViolation:
            # Another process created the same world between our look and our insert.
            raise ConflictError(f"world {name!r} already exists", field="name") from None
        return version

    def append(self, name: str, version: int, mutation: str, args: Mapping[str, Any], summary: str, snapshot: Mapping[str, Any] | None = None) -> None:
        """Record one change as ``version`` (and optionally a fresh snapshot) atomically, only
        where the world is still at ``version - 1``."""
        with self._write() as conn:
            cur = conn.execute("UPDATE worlds SET version = %s WHERE name = %s AND version = %s", (version, name, version - 1))
            if cur.rowcount != 1:
                if conn.execute("SELECT 1 FROM worlds WHERE name = %s", (name,)).fetchone() is None:
                    raise NotFoundError("world", name, field="world", hint="another process deleted it")
                raise VersionConflictError(name, version - 1)
            conn.execute(_INSERT_CHANGE, (name, version, now(), mutation, Json(args), summary))
            if snapshot is not None:
                conn.execute("INSERT INTO snapshots (world, version, data) VALUES (%s, %s, %s::json)", (name, version, json.dumps(snapshot)))

    def fork(self, source: str, name: str) -> int:
        """Copy a world, its snapshots and its history, under a new name; the source's row is
        share-locked, so no change of it lands half-way through the copy."""
        try:
            with self._write() as conn:
                row = conn.execute("SELECT version FROM worlds WHERE name = %s FOR SHARE", (source,)).fetchone()
                if row is None:
                    raise NotFoundError("world", source, field="source")
                if conn.execute("SELECT 1 FROM worlds WHERE name = %s", (name,)).fetchone():
                    raise ConflictError(f"world {name!r} already exists", field="name")
                version = row[0] + 1
                conn.execute(
                    "INSERT INTO worlds (name, version, created_at, forked_from, forked_at_version) VALUES (%s, %s, %s, %s, %s)",
                    (name, version, now(), source, row[0]),
                )
                conn.execute("INSERT INTO snapshots (world, version, data) SELECT %s, version, data FROM snapshots WHERE world = %s", (name, source))
                conn.execute("INSERT INTO changes (world, version, at, mutation, args, summary) SELECT %s, version, at, mutation, args, summary FROM changes WHERE world = %s", (name, source))
                conn.execute(_INSERT_CHANGE, (name, version, now(), "forkWorld", Json({"source": source, "atVersion": row[0]}), f"forked from {source} at version {row[0]}"))
        except pg_errors.UniqueViolation:
            raise ConflictError(f"world {name!r} already exists", field="name") from None
        return version

    def delete(self, name: str) -> None:
        with self._write() as conn:
            if conn.execute("DELETE FROM worlds WHERE name = %s", (name,)).rowcount != 1:
                raise NotFoundError("world", name, field="name")

    # ---- the store as a whole: settings, and noticing other processes' writes ----------------

    def setting(self, key: str) -> str | None:
        row = self._read(lambda conn: conn.execute("SELECT value FROM settings WHERE key = %s", (key,)).fetchone())
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def data_version(self) -> int:
        """The number every write transaction bumps: one single-row read by primary key."""
        (version,) = self._read(lambda conn: _one(conn.execute("SELECT data_version FROM store_meta WHERE id = 1")))
        return int(version)

    def data_version_now(self) -> int | None:
        return None  # a round trip to the database server: never told at once

    @contextmanager
    def reserving(self) -> Iterator[None]:
        # Writers wait for each other's row locks inside their own transactions (``append``'s
        # version check); there is no store-wide lock to wait for first.
        yield


def _one(cur: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    row = cur.fetchone()
    assert row is not None
    return tuple(row)


def _first_line(exc: Exception) -> str:
    """The first line of a driver message, any URL in it without its password."""
    return redact((str(exc).strip().splitlines() or [type(exc).__name__])[0])
