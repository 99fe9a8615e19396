"""What a store of worlds is, whichever database keeps it: the records it returns and the
operations the Workspace calls (``Store``), which the SQLite and the PostgreSQL stores both provide.

A store keeps each world as snapshots (the native world file) plus the log of changes committed
since, one row per change, which is also the world's history. The guarantees every backend
gives: each write is one transaction, so a failed one leaves nothing; a world's version is bumped
by exactly one per change and is the optimistic lock (``append`` names the version it expects to
write, and another writer's change in between is a ``VersionConflictError``, never a lost
change); ``data_version`` changes whenever anything was committed, so a process can catch up
cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

SNAPSHOT_EVERY = 500  # a snapshot every this many changes keeps replays short
# Settings of the store as a whole (the settings table): the default world's name.
DEFAULT_WORLD_SETTING = "default_world"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class WorldRecord:
    name: str
    version: int
    created_at: str
    forked_from: str | None
    forked_at_version: int | None


@dataclass(frozen=True, slots=True)
class Change:
    version: int
    at: str
    mutation: str
    args: Mapping[str, Any]
    summary: str


class Store(Protocol):
    """The operations the Workspace needs from a store."""

    # Where the store is, for messages (a path, or a URL without its password).
    path: str
    # What opens it again (another process, a Dask worker): may hold a password, never printed.
    location: str

    def close(self) -> None: ...

    def reading(self) -> AbstractContextManager[Any]:
        """Several reads that see one moment of the store (re-entrant: inside another, part of it)."""
        ...

    def worlds(self) -> list[WorldRecord]: ...

    def record(self, name: str) -> WorldRecord:
        """The world's record, or NotFoundError."""
        ...

    def load(self, name: str) -> tuple[dict[str, Any], int, list[Change]]:
        """(latest snapshot, its version, the changes after it), read as of one moment."""
        ...

    def history(self, name: str, *, after: int = -1, limit: int | None = None, newest_first: bool = False) -> list[Change]: ...

    def create(self, name: str, data: Mapping[str, Any], *, mutation: str, args: Mapping[str, Any], summary: str, replace: bool = False) -> int:
        """A new world (or, with ``replace``, a new snapshot of an existing one); its version."""
        ...

    def append(self, name: str, version: int, mutation: str, args: Mapping[str, Any], summary: str, snapshot: Mapping[str, Any] | None = None) -> None:
        """Record one change as ``version``; VersionConflictError unless the world is at ``version - 1``."""
        ...

    def fork(self, source: str, name: str) -> int: ...

    def delete(self, name: str) -> None: ...

    def setting(self, key: str) -> str | None: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def data_version(self) -> int:
        """A number that differs whenever something may have been committed by another process."""
        ...

    def data_version_now(self) -> int | None:
        """``data_version`` when it can be told at once, without waiting for anything (a lock,
        the network), else None."""
        ...

    def reserving(self) -> AbstractContextManager[Any]:
        """Wait for what a write waits for (another process's write lock) before the caller
        touches anything in memory, and hold it for the next write of this thread inside."""
        ...
