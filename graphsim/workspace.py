"""The named worlds a process serves, each with its engine, optionally kept in a store (an SQLite
file, or a PostgreSQL database shared by several processes: ``graphsim.store.base.Store``).

Every change to a world is a command (``graphsim.world.commands``) and goes through
``Workspace.apply``: the command validates and applies itself in memory, then the store records
it as ``(name, fields)`` in one transaction. If recording fails the world is rebuilt from the
store, so memory never runs ahead of what was acknowledged. Loading replays the logged commands
through the same registry.
"""

from __future__ import annotations

import contextlib
import time
import unicodedata
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .bulk import bulk
from .engine import Engine
from .errors import (
    ConflictError,
    GraphsimError,
    InvalidRequestError,
    NotFoundError,
    StoreUnavailableError,
    UnreadableWorldError,
    VersionConflictError,
)
from .store.base import DEFAULT_WORLD_SETTING, SNAPSHOT_EVERY, Change, Store, WorldRecord, now
from .store.location import open_store
from .world import World
from .world.commands import COMMANDS, Command, legacy_command, parse_command
from .world.io import DEMO_WORLD, load_demo_world, world_from_dict, world_to_dict

# The worlds looked up while answering the request at hand, in order: the server's request log
# (api/metrics.py) starts a list per request; None elsewhere.
LOOKED_UP: ContextVar[list[str] | None] = ContextVar("graphsim_worlds_looked_up", default=None)
DEFAULT = "default"  # in a world argument: the default world; never the name of a world
_FILE_SUFFIXES = (".json", ".yaml", ".yml")  # a --world ending so names a world file
Result = TypeVar("Result")
# How often a change refused because another process changed the same world first is tried
# again on the caught-up world before the caller gets the retryable VERSION_CONFLICT.
CHANGE_ATTEMPTS = 5


def logged_command(change: Change) -> Command | None:
    """The command a logged change replays, or None for the store's own records (createWorld,
    importWorld, forkWorld: snapshots, not changes). Reads both log formats: ``(command name,
    fields)`` and the first one, ``(world method, {"args", "kwargs"})``."""
    if change.mutation in COMMANDS:
        return parse_command(change.mutation, change.args)
    return legacy_command(change.mutation, change.args)


@dataclass
class Workspace:
    worlds: dict[str, World] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)
    default: str = DEMO_WORLD
    store: Store | None = None
    # Worlds of the store that could not be rebuilt, with why: the others are still served.
    unreadable: dict[str, str] = field(default_factory=dict)
    # The world this process was started on (``serve --world NAME``); None follows the store's
    # default world setting, also as other processes change it.
    pinned: str | None = None
    # Why the store could not be read at the last refresh (its server unreachable), else None.
    store_error: str | None = None
    # Called with the seconds each change took to apply and record (the server's metrics).
    on_write: Callable[[float], None] | None = None
    _seen_data_version: int = -1
    _refreshing: bool = False  # inside ``refresh`` (another thread may ask ``fresh_now``)
    _created_at: dict[str, str] = field(default_factory=dict)

    @classmethod
    def with_world(cls, world: World | None = None) -> Workspace:
        """An in-memory workspace holding ``world``, or the built-in demo world, as the default."""
        ws = cls()
        ws.add(world or load_demo_world(), make_default=True)
        return ws

    @classmethod
    def open(cls, db: str | Path, *, default: str | None = None, load: bool = True) -> Workspace:
        """Every world of the store at ``db`` (``:memory:`` for a throw-away one), rebuilt in
        memory; a new store starts with the demo world. With ``load=False`` no world is rebuilt
        (``graphsim import`` only adds one).

        The default world is ``default`` when given (a process started on one world), else the
        store's default world (``default_world`` below). The built-in demo is added only to a new
        store, or when ``default`` names it and the store has no world of that name.
        """
        store = open_store(db)
        ws = cls(store=store)
        if default == DEFAULT:
            default = None
        records = store.worlds()
        if not records or (default == DEMO_WORLD and DEMO_WORLD not in {r.name for r in records}):
            demo = load_demo_world()
            try:
                store.create(demo.name, world_to_dict(demo), mutation="createWorld", args={"from": "built-in demo"}, summary="created from the built-in final-friday demo")
            except ConflictError:
                pass  # another process (a replica starting at the same moment) created it first
        ws._seen_data_version = store.data_version()
        if not load:
            return ws
        with bulk():
            for record in store.worlds():
                ws._load_or_note(record)
        names = sorted(ws.worlds) or sorted(ws.unreadable)
        ws.pinned = default
        ws.default = default or ws.default_world()
        if ws.default not in ws.worlds and ws.default not in ws.unreadable:
            raise NotFoundError("world", ws.default, field="world", hint=f"known worlds: {', '.join(names)}")
        return ws

    def _load(self, record: WorldRecord) -> World:
        assert self.store is not None
        data, snapshot_version, changes = self.store.load(record.name)
        world = world_from_dict(data, source=f"store {self.store.path}", name=record.name)
        for change in changes:
            command = logged_command(change)
            if command is not None:
                # Edges made by a change say which change made them.
                command.apply(world, provenance=f"change {change.version} ({change.summary})")
        # Every version has its change row, so the last one read is the world's version (another
        # process may have committed since ``record`` was read; this stays what was replayed).
        world.version = changes[-1].version if changes else snapshot_version
        self.add(world)
        self.unreadable.pop(world.name, None)
        self._created_at[record.name] = record.created_at
        return world

    def load(self, name: str) -> World:
        """Rebuild one world of the store and hold it (a Dask worker reads only the world its
        tasks answer from: ``Workspace.open(location, load=False).load(name)``)."""
        assert self.store is not None
        return self._load(self.store.record(name))

    def _load_or_note(self, record: WorldRecord) -> None:
        """Rebuild one world; one that cannot be rebuilt is kept in ``unreadable`` with why."""
        try:
            self._load(record)
        except StoreUnavailableError as exc:
            # Not damage: the store's server went away mid-read. Keep what is held (if anything)
            # and read again at the next refresh.
            self._seen_data_version = -1
            self.store_error = exc.message
            if record.name not in self.worlds:
                self.unreadable[record.name] = exc.message
        except Exception as exc:  # noqa: BLE001 - one damaged world must not hide the others
            self.worlds.pop(record.name, None)
            self.engines.pop(record.name, None)
            self.unreadable[record.name] = exc.message if isinstance(exc, GraphsimError) else f"{type(exc).__name__}: {exc}"

    def add(self, world: World, *, make_default: bool = False) -> None:
        self.worlds[world.name] = world
        self.engines[world.name] = Engine(world)
        if make_default or len(self.worlds) == 1:
            self.default = world.name

    def _name(self, name: str | None) -> str:
        target = self.default if name is None or name == DEFAULT else name
        if target in self.unreadable:
            raise UnreadableWorldError(target, self.unreadable[target])
        if target not in self.worlds:
            raise NotFoundError("world", target, field="world", hint=f"known worlds: {', '.join(sorted(self.worlds))}")
        seen = LOOKED_UP.get()
        if seen is not None and target not in seen:
            seen.append(target)
        return target

    def world(self, name: str | None = None) -> World:
        return self.worlds[self._name(name)]

    def engine(self, name: str | None = None) -> Engine:
        return self.engines[self._name(name)]

    # ---- changes ------------------------------------------------------------------------------

    def apply(self, world: World, command: Command[Result]) -> Result:
        """Apply one command to ``world`` and, with a store, record it durably; returns what
        the command returns (the keys it made or changed).

        When another process (another server worker) committed a change to the same world since
        this one caught up, the write is refused whole; the world is then rebuilt from the store
        and the command applied to it again (it validates afresh: a user another process just
        deleted is a NOT_FOUND, not a lost update), up to ``CHANGE_ATTEMPTS`` times. The world
        after the change is ``self.world(world.name)``: after a retry it is a new object."""
        if self.store is not None and self.store_error is not None:
            # The last refresh could not reach the store: refuse before memory is touched.
            raise StoreUnavailableError(f"{self.store_error}; nothing was changed, try again", field="world")
        started = time.perf_counter()
        command = command.stamped(now()[:19] + "Z")
        for attempt in range(CHANGE_ATTEMPTS):
            version = world.version + 1
            result = command.apply(world, provenance=f"change {version} ({command.summary})")  # validates first; raises with nothing changed
            world.version = version
            if self.store is None:
                return result
            try:
                snapshot = world_to_dict(world) if version % SNAPSHOT_EVERY == 0 else None
                self.store.append(world.name, version, command.command_name, command.to_fields(), command.summary, snapshot)
                if self.on_write is not None:
                    self.on_write(time.perf_counter() - started)
                return result
            except VersionConflictError:
                self._reload_after_failed_write(world.name)  # catch up with the other process's change
                if attempt == CHANGE_ATTEMPTS - 1 or world.name not in self.worlds:
                    raise
                world = self.worlds[world.name]
            except BaseException:
                self._reload_after_failed_write(world.name)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def reserving(self) -> AbstractContextManager[Any]:
        """Wait for what recording a change waits for (another process's write lock on the
        store) and hold it, before any world in memory is touched: a server takes its world
        lock only then, so its questions are answered meanwhile (graphsim.api.running). The
        writes of ``apply`` and the others inside run in what it holds."""
        return self.store.reserving() if self.store is not None else contextlib.nullcontext()

    def _reload_after_failed_write(self, name: str) -> None:
        """Memory back to what the store holds; when even that cannot be read (the store's server
        is gone), the world is set aside as unreadable until the next refresh rebuilds it, so it
        is never answered from a change the store did not acknowledge."""
        assert self.store is not None
        try:
            self._load(self.store.record(name))
        except Exception as exc:  # noqa: BLE001 - the write's own error is the one raised
            self.worlds.pop(name, None)
            self.engines.pop(name, None)
            self.unreadable[name] = f"being rebuilt after a failed write ({exc.message if isinstance(exc, GraphsimError) else exc})"
            self._seen_data_version = -1

    def import_world(self, name: str, data: World | Mapping[str, Any], *, replace: bool = False, sources: list[str] | None = None) -> World:
        """A whole world (built, or a native world dict), as one change (a snapshot in the store)."""
        check_world_name(name)
        stored = self.store is not None and any(r.name == name for r in self.store.worlds())  # loaded or not
        if (name in self.worlds or name in self.unreadable or stored) and not replace:
            raise ConflictError(f"world {name!r} already exists; pass replace to overwrite it", field="name")
        if isinstance(data, World):
            world = data
            world.name = name
        else:
            world = world_from_dict(data, source=", ".join(sources or []) or "import", name=name)
        if self.store is not None:
            world.version = self.store.create(
                name, world_to_dict(world), mutation="importWorld", args={"sources": sources or []},
                summary=f"imported from {', '.join(sources or []) or 'a world document'}", replace=replace,
            )
        else:
            world.version = self.worlds[name].version + 1 if name in self.worlds else 0
        self.add(world)
        self.unreadable.pop(name, None)  # replacing an unreadable world repairs it
        return world

    def fork(self, source: str, name: str) -> World:
        check_world_name(name)
        origin = self.world(source)
        if name in self.worlds or name in self.unreadable:
            raise ConflictError(f"world {name!r} already exists", field="name")
        copy = world_from_dict(world_to_dict(origin), source=f"fork of {origin.name}", name=name)
        if self.store is not None:
            copy.version = self.store.fork(origin.name, name)
        else:
            copy.version = origin.version + 1
        self.add(copy)
        return copy

    def delete(self, name: str) -> None:
        """Delete a world and its history; an unreadable world can be deleted too."""
        target = name if name in self.unreadable else self._name(name)
        if target == self.default:
            raise ConflictError(f"world {target!r} is the default world and cannot be deleted", field="name")
        if self.store is not None:
            self.store.delete(target)
        self.unreadable.pop(target, None)
        self.worlds.pop(target, None)
        self.engines.pop(target, None)

    def history(self, name: str | None = None, *, limit: int = 50) -> list[Change]:
        world = self.world(name)
        if self.store is None:
            return []
        return self.store.history(world.name, limit=limit, newest_first=True)

    def records(self) -> list[WorldRecord]:
        if self.store is not None:
            return self.store.worlds()
        return [WorldRecord(n, w.version, "", None, None) for n, w in sorted(self.worlds.items())]

    # ---- the default world, and other processes' changes ---------------------------------------

    def default_world(self) -> str:
        """The store's default world, by one rule every command and the server share: the
        ``default_world`` setting of the store when it names a world there, else the demo world
        when the store has it, else the first world by name."""
        if self.store is None:
            return self.default
        setting = self.store.setting(DEFAULT_WORLD_SETTING)
        if setting is not None and (setting in self.worlds or setting in self.unreadable):
            return setting
        return DEMO_WORLD if DEMO_WORLD in self.worlds else sorted(self.worlds or self.unreadable)[0]

    def set_default(self, name: str) -> str:
        """Make ``name`` the store's default world (kept in the store, so every process that
        follows the store's default answers from it by its next request)."""
        target = self._name(name)
        if self.store is not None:
            self.store.set_setting(DEFAULT_WORLD_SETTING, target)
        self.pinned = None
        self.default = target
        return target

    def stale(self) -> bool:
        """Whether another process committed to the store since the last ``refresh`` (one
        PRAGMA, no table read): a server asks before each request, and refreshes only then."""
        if self.store is None:
            return False
        try:
            return self.store.data_version() != self._seen_data_version
        except StoreUnavailableError:
            return True  # refresh notes why

    def fresh_now(self) -> bool:
        """Whether it can be told at once, waiting for nothing, that no other process committed
        since the last ``refresh`` (and the store was readable then); False when it cannot be
        told at once (the store's connection is busy, or asking it is a round trip)."""
        if self.store is None:
            return True
        if self._refreshing:  # the worlds are being brought up to what was seen
            return False
        version = self.store.data_version_now()
        return version is not None and version == self._seen_data_version and self.store_error is None

    def refresh(self) -> bool:
        """Catch up with what other processes committed to the store since the last call: new,
        forked, deleted, imported or changed worlds, and the default world setting. Cheap when
        nothing changed (SQLite's data_version, no table read); otherwise each world whose
        version or creation differs is rebuilt, and only those. True when anything was re-read."""
        if self.store is None:
            return False
        try:
            seen = self.store.data_version()
            if seen == self._seen_data_version:
                self.store_error = None
                return False
        except StoreUnavailableError as exc:
            # The store's server is unreachable: questions are answered from what was last read
            # (every answer names its world's version), writes fail with STORE_UNAVAILABLE.
            self.store_error = exc.message
            return False
        self.store_error = None
        self._seen_data_version = seen  # before the loads: a load that fails sets it back to -1
        self._refreshing = True
        try:
            try:
                with self.store.reading():  # one moment of the store, whatever other processes commit meanwhile
                    records = {r.name: r for r in self.store.worlds()}
                    for name in [n for n in {*self.worlds, *self.unreadable} if n not in records]:
                        self.worlds.pop(name, None)
                        self.engines.pop(name, None)
                        self.unreadable.pop(name, None)
                        self._created_at.pop(name, None)
                    with bulk():
                        for name, record in records.items():
                            held = self.worlds.get(name)
                            if held is not None and held.version == record.version and self._created_at.get(name, record.created_at) == record.created_at:
                                self._created_at[name] = record.created_at
                            elif held is None or self._created_at.get(name) != record.created_at or not self._catch_up(held, record):
                                self._load_or_note(record)
            except StoreUnavailableError as exc:
                self.store_error = exc.message
                self._seen_data_version = -1  # read again at the next refresh
                return False
            if self.pinned is None or self.pinned not in records:
                self.pinned = None
                if records:
                    self.default = self.default_world()
            return True
        finally:
            self._refreshing = False


    def _catch_up(self, world: World, record: WorldRecord) -> bool:
        """Replay onto ``world`` the changes another process committed after its version, as
        the mutations themselves did here (a few commands, not a rebuild: a server worker sees
        the other workers' changes cheaply). False when that cannot be done (a whole-world
        import, or a gap), and the world is then rebuilt."""
        assert self.store is not None
        changes = self.store.history(world.name, after=world.version)
        commands = [logged_command(change) for change in changes]
        expected = list(range(world.version + 1, record.version + 1))
        if not changes or [change.version for change in changes] != expected or any(command is None for command in commands):
            return False
        try:
            for change, command in zip(changes, commands, strict=True):
                assert command is not None
                command.apply(world, provenance=f"change {change.version} ({change.summary})")
                world.version = change.version
        except Exception:  # noqa: BLE001 - a change that does not replay here: rebuild from the store
            return False
        return True


def check_world_name(name: str) -> str:
    """A name a new world may take: not empty, no surrounding spaces, not ``default`` (which
    means the default world wherever a world is named), and not a world file's name."""
    if not name or not name.strip():
        raise InvalidRequestError("a world needs a name", field="name")
    if name != name.strip():
        raise InvalidRequestError(f"world name {name!r} has spaces around it", field="name")
    bad = next((c for c in name if unicodedata.category(c).startswith("C")), None)
    if bad is not None:  # a tab, a newline, NUL, ...: unprintable in a table, ambiguous in an id
        raise InvalidRequestError(f"world name {name!r} holds the control character U+{ord(bad):04X}; use letters, digits and punctuation", field="name")
    if name.lower() == DEFAULT:
        raise InvalidRequestError(f"{name!r} is reserved: wherever a world is named it means the default world", field="name")
    if name.lower().endswith(_FILE_SUFFIXES):
        raise InvalidRequestError(f"world name {name!r} ends like a world file; --world would read it as one", field="name")
    return name
