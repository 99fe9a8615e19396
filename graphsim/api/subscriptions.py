"""Live changes: ``subscription { worldChanged(world:) { version mutation summary } }``.

Each subscriber pushes every change committed to its world, in order, whoever committed it:
this server's mutations, another worker, or another process on the same store (``graphsim
import --replace`` in a shell). It checks the store every ``POLL_SECONDS`` through
``Workspace.refresh``, which costs one ``PRAGMA data_version`` when nothing was committed, and
reads the changes after the last version it pushed from the store's history, so none is missed
or pushed twice even when several land between two checks. Served over graphql-transport-ws
(websocket.py guards the connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from ..errors import GraphsimError
from ..workspace import Workspace
from .context import workspace
from .errors import ApiError

POLL_SECONDS = 0.25


@strawberry.type(description="One change committed to a world: its version, the mutation that made it and a summary.")
class WorldChange:
    world: str
    version: int
    at: str
    mutation: str = strawberry.field(description="The mutation's name (createUser, importWorld, forkWorld, ...); `deleteWorld` when the world is gone, the last message.")
    summary: str
    arguments: JSON


def _change(world: str, change: Any) -> WorldChange:
    return WorldChange(world=world, version=change.version, at=change.at, mutation=change.mutation, summary=change.summary, arguments=JSON(dict(change.args)))


def _changes_since(ws: Workspace, name: str, seen: int, version: int) -> list[WorldChange]:
    if ws.store is None:  # an in-process workspace keeps no history: say what moved
        return [WorldChange(world=name, version=version, at="", mutation="unrecorded", summary="a change (this workspace has no store, so no history)", arguments=JSON({}))]
    if version < seen:  # deleted and made again between two checks: its newest change
        return [_change(name, c) for c in ws.store.history(name, limit=1, newest_first=True)]
    return [_change(name, c) for c in ws.store.history(name, after=seen)]


async def _refresh_here(ws: Workspace) -> None:
    ws.refresh()


async def world_changes(
    ws: Workspace, name: str, *, poll: float = POLL_SECONDS, catch_up: Callable[[Workspace], Awaitable[None]] = _refresh_here,
) -> AsyncGenerator[WorldChange, None]:
    """Every change committed to world ``name`` from now on, as it is committed. ``catch_up``
    refreshes the workspace: a server's runs in its worker threads, beside its questions, never
    rebuilding a world on the event loop."""
    seen = ws.world(name).version
    while True:
        await asyncio.sleep(poll)
        await catch_up(ws)
        held = ws.worlds.get(name)
        if held is None:
            if name in ws.unreadable:
                continue  # a damaged world may be repaired (importWorld --replace): keep listening
            yield WorldChange(world=name, version=seen, at="", mutation="deleteWorld", summary=f"world {name!r} was deleted", arguments=JSON({}))
            return
        if held.version == seen:
            continue
        changes = _changes_since(ws, name, seen, held.version)
        for change in changes:
            yield change
        # Seen: what the history read says was committed (a change committed between the refresh
        # and the read was pushed already), never the version held in memory: a change being
        # applied holds its new version before its commit (a snapshot's, a write that will fail),
        # and taking that as seen would skip the commit when it lands.
        if ws.store is None or held.version < seen:
            seen = held.version if not changes else max(held.version, changes[-1].version)
        elif changes:
            seen = max(seen, *(c.version for c in changes))


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Each change committed to the world (the default world when none is named), by this server or another process on its store, as it is committed.")
    async def world_changed(self, info: Info, world: str | None = None) -> AsyncGenerator[WorldChange, None]:
        ws = workspace(info)
        catch_up = info.context.get("catch_up") if isinstance(info.context, dict) else None
        # A world another process made a moment ago (a fork in a shell) is one this server has
        # not seen yet: catch up before the name is looked up, as every question does.
        await (catch_up or _refresh_here)(ws)
        try:
            name = ws.world(world).name  # the default world is the one of this moment
        except GraphsimError as exc:
            raise ApiError(exc.message, extensions=exc.extensions()) from exc
        async for change in world_changes(ws, name, **({"catch_up": catch_up} if catch_up is not None else {})):
            yield change
