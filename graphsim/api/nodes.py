"""``node(id:)`` and ``nodes(ids:)``: any entity fetched again by its global id (ids.py).

A malformed id is the typed error ``INVALID_ID``; a well-formed id whose world or entity no
longer exists (deleted, renamed by a change) is ``null``, as GraphQL's node convention has it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types import Info

from ..errors import InvalidRequestError, NotFoundError
from ..world import EdgeKind, NodeKind, World
from .connections import MAX_PAGE_SIZE
from .context import workspace
from .errors import typed_errors
from .ids import GlobalId, Node
from .world import Account, Group, OrgPolicy, OrgUnit, Policy, Resource, Role, Statement, User


def _statement(world: World, key: str) -> Statement:
    policy = next(p for p, _ in world.in_edges(key, EdgeKind.HAS_STATEMENT))
    return Statement.of(world.statement_node(key)["statement"], world.name, policy)


# Each Node type: the world node kinds it may name, and how it is built.
_MAKERS: dict[str, tuple[frozenset[NodeKind], Callable[[World, str], Any]]] = {
    "Account": (frozenset({NodeKind.ACCOUNT}), Account.of),
    "User": (frozenset({NodeKind.USER}), User.of),
    "Group": (frozenset({NodeKind.GROUP}), Group.of),
    "Role": (frozenset({NodeKind.ROLE}), Role.of),
    "Policy": (frozenset({NodeKind.POLICY, NodeKind.INLINE_POLICY}), Policy.of),
    "Statement": (frozenset({NodeKind.STATEMENT}), _statement),
    "Resource": (frozenset({NodeKind.RESOURCE}), Resource.of),
    "OrgUnit": (frozenset({NodeKind.ORG_ROOT, NodeKind.OU}), OrgUnit.of),
    "OrgPolicy": (frozenset({NodeKind.ORG_POLICY}), OrgPolicy.of),
}


def resolve(info: Info, given: GlobalId) -> Node | None:
    try:
        world = workspace(info).world(given.world)
    except NotFoundError:
        return None
    kinds, make = _MAKERS[given.type]
    if given.key not in world.graph or world.kind_of(given.key) not in kinds:
        return None
    return make(world, given.key)  # type: ignore[no-any-return]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="The entity with this global id (any type implementing Node), or null when it no longer exists.")
    @typed_errors
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return resolve(info, GlobalId.decode(id))

    @strawberry.field(description=f"The entities with these ids, in order; null for one that no longer exists (at most {MAX_PAGE_SIZE} ids).")
    @typed_errors
    def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_PAGE_SIZE:
            raise InvalidRequestError(f"at most {MAX_PAGE_SIZE} ids at once, got {len(ids)}", field="ids")
        decoded = [GlobalId.decode(text, field=f"ids[{i}]") for i, text in enumerate(ids)]  # all checked before any is read
        return [resolve(info, g) for g in decoded]
