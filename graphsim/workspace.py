"""The named worlds a process serves, each with its engine, optionally kept in a SQLite store.

Every change to a world goes through ``Workspace.apply``: the world method validates and
applies it in memory, then the store records it in one transaction. If recording fails the
world is rebuilt from the store, so memory never runs ahead of what was acknowledged.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bulk import bulk
from .engine import Engine
from .errors import ConflictError, GraphsimError, InvalidRequestError, NotFoundError, UnreadableWorldError
from .store.sqlite import SNAPSHOT_EVERY, Change, Store, WorldRecord, now
from .world import NodeKind, World
from .world.io import DEMO_WORLD, load_demo_world, world_from_dict, world_to_dict

DEFAULT = "default"

# World methods a mutation may call; each is recorded with its arguments and replayed on load.
REPLAYABLE = frozenset({
    "add_account", "add_user", "add_group", "add_role", "remove_entity", "add_managed_policy", "update_policy",
    "remove_managed_policy", "put_inline_policy", "delete_inline_policy", "attach_policy", "detach_policy", "add_member",
    "remove_member", "add_resource", "update_trust_policy", "set_boundary", "delete_boundary", "put_resource_policy",
    "delete_resource_policy", "create_organization", "add_ou", "place_account", "add_org_policy", "attach_org_policy",
})
_KIND_FIRST = frozenset({"remove_entity", "put_inline_policy", "delete_inline_policy", "attach_policy", "detach_policy", "set_boundary", "delete_boundary"})
_TIMESTAMPED = frozenset({"add_managed_policy", "update_policy"})


def _summary(via: str, args: tuple[Any, ...]) -> str:
    names = [str(a) for a in args if isinstance(a, str) and not isinstance(a, NodeKind) and len(a) < 200 and not a.lstrip().startswith("{")]
    return f"{via} {' '.join(names)}".strip()


@dataclass
class Workspace:
    worlds: dict[str, World] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)
    default: str = DEMO_WORLD
    store: Store | None = None
    # Worlds of the store that could not be rebuilt, with why: the others are still served.
    unreadable: dict[str, str] = field(default_factory=dict)

    @classmethod
    def with_world(cls, world: World | None = None) -> Workspace:
        """An in-memory workspace holding ``world``, or the built-in demo world, as the default."""
        ws = cls()
        ws.add(world or load_demo_world(), make_default=True)
        return ws

    @classmethod
    def open(cls, db: str | Path, *, default: str | None = None) -> Workspace:
        """Every world of the store at ``db`` (``:memory:`` for a throw-away one), rebuilt in
        memory; a new store starts with the demo world."""
        store = Store(db)
        ws = cls(store=store)
        if not store.worlds():
            demo = load_demo_world()
            store.create(demo.name, world_to_dict(demo), mutation="createWorld", args={"from": "built-in demo"}, summary="created from the built-in final-friday demo")
        with bulk():
            for record in store.worlds():
                try:
                    ws._load(record)
                except Exception as exc:  # noqa: BLE001 - one damaged world must not hide the others
                    ws.unreadable[record.name] = exc.message if isinstance(exc, GraphsimError) else f"{type(exc).__name__}: {exc}"
        names = sorted(ws.worlds) or sorted(ws.unreadable)
        if default == DEFAULT:
            default = None
        ws.default = default or (DEMO_WORLD if DEMO_WORLD in ws.worlds else names[0])
        if ws.default not in ws.worlds and ws.default not in ws.unreadable:
            raise NotFoundError("world", ws.default, field="world", hint=f"known worlds: {', '.join(names)}")
        return ws

    def _load(self, record: WorldRecord) -> World:
        assert self.store is not None
        data, _, changes = self.store.load(record.name)
        world = world_from_dict(data, source=f"store {self.store.path}", name=record.name)
        for change in changes:
            if change.mutation in REPLAYABLE:
                args = list(change.args.get("args", []))
                if change.mutation in _KIND_FIRST:
                    args[0] = NodeKind(args[0])
                method = getattr(world, change.mutation)
                kwargs = dict(change.args.get("kwargs", {}))
                if "provenance" in inspect.signature(method).parameters:
                    # Edges made by a replayed change say which change made them.
                    kwargs["provenance"] = f"change {change.version} ({change.summary})"
                method(*args, **kwargs)
        world.version = record.version
        self.add(world)
        self.unreadable.pop(world.name, None)
        return world

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
        return target

    def world(self, name: str | None = None) -> World:
        return self.worlds[self._name(name)]

    def engine(self, name: str | None = None) -> Engine:
        return self.engines[self._name(name)]

    # ---- changes ------------------------------------------------------------------------------

    def apply(self, world: World, op: str, *args: Any, via: str | None = None, **kwargs: Any) -> Any:
        """Apply one mutation to ``world`` and, with a store, record it durably."""
        if op not in REPLAYABLE:
            raise InvalidRequestError(f"{op} is not a world mutation", field="mutation")
        if op in _TIMESTAMPED and kwargs.get("created") is None:
            kwargs["created"] = now()[:19] + "Z"
        result = getattr(world, op)(*args, **kwargs)  # validates first; raises with nothing changed
        world.version += 1
        if self.store is not None:
            try:
                snapshot = world_to_dict(world) if world.version % SNAPSHOT_EVERY == 0 else None
                self.store.append(world.name, world.version, op, {"args": list(args), "kwargs": kwargs}, _summary(via or op, args), snapshot)
            except BaseException:
                self._load(self.store.record(world.name))  # memory back to what the store holds
                raise
        return result

    def import_world(self, name: str, data: Mapping[str, Any], *, replace: bool = False, sources: list[str] | None = None) -> World:
        """A whole world from a native world dict, as one change (a snapshot in the store)."""
        if not name or not name.strip():
            raise InvalidRequestError("a world needs a name", field="name")
        if (name in self.worlds or name in self.unreadable) and not replace:
            raise ConflictError(f"world {name!r} already exists; pass replace to overwrite it", field="name")
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
        if not name or not name.strip():
            raise InvalidRequestError("a world needs a name", field="name")
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
