"""Listing a world's entities of one kind: filtered and sorted, for pages of a browse.

A listing is the ordered node keys of the entities of one kind (users, groups, roles, managed
policies, resources, ...) that pass a ``Filter``. The names of each kind are indexed once,
sorted, and kept until the world changes (``World.on_change``), so a page of a large world
costs a slice of a sorted list, not a scan of the graph.

Matching rules: names (IAM names are unique case-insensitively) match a prefix or a substring
case-insensitively; paths (``/engineering/``) and tags (key and value) compare exactly, as AWS
keeps them case-sensitive; ``account`` is the 12-digit id (``aws`` for AWS-managed policies);
``attached_policy`` is a managed policy's key, attached directly (not through a group).
"""

from __future__ import annotations

import enum
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .graph import AWS_MANAGED_ACCOUNT, World
from .model import EdgeKind, NodeKind

# The lists a browse offers, the node kinds each holds, and the Filter fields that apply to it
# (the GraphQL filter inputs and `graphsim list` offer the same).
KINDS: dict[str, tuple[NodeKind, ...]] = {
    "users": (NodeKind.USER,), "groups": (NodeKind.GROUP,), "roles": (NodeKind.ROLE,),
    "policies": (NodeKind.POLICY,), "resources": (NodeKind.RESOURCE,), "accounts": (NodeKind.ACCOUNT,),
}
_NAMES = {"name_prefix", "name_contains", "account"}
FILTERS_OF: dict[str, frozenset[str]] = {
    "users": frozenset(_NAMES | {"path_prefix", "tag_key", "tag_value", "attached_policy", "member_of"}),
    "groups": frozenset(_NAMES | {"path_prefix", "attached_policy"}),
    "roles": frozenset(_NAMES | {"path_prefix", "tag_key", "tag_value", "attached_policy"}),
    "policies": frozenset(_NAMES | {"path_prefix", "attached", "aws_managed"}),
    "resources": frozenset(_NAMES | {"resource_type", "tag_key", "tag_value"}),
    "accounts": frozenset(_NAMES),
}


class SortField(enum.Enum):
    NAME = "name"  # then the key, so that names shared across accounts still sort stably
    ARN = "arn"  # the node key: an ARN for every IAM entity and resource


@dataclass(frozen=True)
class Filter:
    """Every condition given must hold; None means "any"."""

    name_prefix: str | None = None
    name_contains: str | None = None
    path_prefix: str | None = None
    account: str | None = None
    tag_key: str | None = None
    tag_value: str | None = None  # only with tag_key
    attached_policy: str | None = None  # a managed policy's node key
    member_of: str | None = None  # a group's node key (users)
    resource_type: str | None = None
    attached: bool | None = None  # managed policies: attached to someone (True) or to no one (False)
    aws_managed: bool | None = None  # managed policies: AWS's own (True) or the customer's (False)

    def tests(self, world: World) -> list[Callable[[str], bool]]:
        node = world.node
        out: list[Callable[[str], bool]] = []
        if self.name_prefix:
            prefix = self.name_prefix.lower()
            out.append(lambda k: str(node(k)["name"]).lower().startswith(prefix))
        if self.name_contains:
            part = self.name_contains.lower()
            out.append(lambda k: part in str(node(k)["name"]).lower())
        if self.path_prefix is not None:
            path = self.path_prefix
            out.append(lambda k: str(node(k).get("path", "")).startswith(path))
        if self.account is not None:
            account = self.account
            out.append(lambda k: node(k).get("account") == account)
        if self.tag_key is not None:
            key, value = self.tag_key, self.tag_value
            out.append(lambda k: key in node(k).get("tags", {}) and (value is None or node(k)["tags"][key] == value))
        if self.attached_policy is not None:
            holders = {s for s, _ in world.in_edges(self.attached_policy, EdgeKind.ATTACHED)}
            out.append(holders.__contains__)
        if self.member_of is not None:
            members = {u for u, _ in world.in_edges(self.member_of, EdgeKind.MEMBER_OF)}
            out.append(members.__contains__)
        if self.resource_type is not None:
            rtype = self.resource_type
            out.append(lambda k: node(k).get("resource_type") == rtype)
        if self.attached is not None:
            wanted = self.attached
            out.append(lambda k: any(True for _ in world.in_edges(k, EdgeKind.ATTACHED)) is wanted)
        if self.aws_managed is not None:
            aws = self.aws_managed
            out.append(lambda k: (node(k).get("account") == AWS_MANAGED_ACCOUNT) is aws)
        return out


@dataclass
class _Index:
    """The keys of each kind sorted by (lower-case name, key), built on first use."""

    by_kind: dict[NodeKind, list[str]] = field(default_factory=dict)

    def sorted_keys(self, world: World, kind: NodeKind) -> list[str]:
        keys = self.by_kind.get(kind)
        if keys is None:
            pairs = sorted((str(d["name"]).lower(), k) for k, d in world.nodes_of(kind))
            keys = self.by_kind[kind] = [k for _, k in pairs]
        return keys


_INDEXES: weakref.WeakKeyDictionary[World, _Index] = weakref.WeakKeyDictionary()


def _index(world: World) -> _Index:
    index = _INDEXES.get(world)
    if index is None:
        index = _INDEXES[world] = _Index()
        ref = weakref.ref(world)

        def forget() -> None:
            held = ref()
            if held is not None:
                _INDEXES.pop(held, None)

        world.on_change(forget)
    return index


def listing(world: World, kinds: Iterable[NodeKind], flt: Filter | None = None, *, sort: SortField = SortField.NAME, descending: bool = False) -> list[str]:
    """The keys of ``world``'s entities of ``kinds`` that pass ``flt``, in order."""
    index = _index(world)
    kinds = list(kinds)
    if len(kinds) == 1:
        keys = index.sorted_keys(world, kinds[0])
    else:
        keys = sorted((k for kind in kinds for k in index.sorted_keys(world, kind)), key=lambda k: (world.name_of(k).lower(), k))
    if sort is SortField.ARN:
        keys = sorted(keys)
    tests = (flt or Filter()).tests(world)
    if tests:
        keys = [k for k in keys if all(t(k) for t in tests)]
    return list(reversed(keys)) if descending else list(keys)
