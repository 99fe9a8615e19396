"""Filter and order inputs of the browse connections, translated to graphsim.world.listing."""

from __future__ import annotations

import enum
from typing import Any

import strawberry

from ..world import NodeKind, World
from ..world.listing import Filter, SortField


@strawberry.input(description="A tag the entity must carry; without a value, any value.")
class TagFilter:
    key: str
    value: str | None = None


@strawberry.input(description="Names match case-insensitively (IAM names are unique regardless of case).")
class NameFilter:
    name_prefix: str | None = strawberry.field(default=None, description="The name starts with this (case-insensitive).")
    name_contains: str | None = strawberry.field(default=None, description="The name contains this (case-insensitive).")
    account: str | None = strawberry.field(default=None, description="The 12-digit account id (`aws` for AWS-managed policies).")


@strawberry.input
class GroupFilter(NameFilter):
    path_prefix: str | None = strawberry.field(default=None, description="The IAM path starts with this (case-sensitive), e.g. `/engineering/`.")
    attached_policy: str | None = strawberry.field(default=None, description="A managed policy (name or ARN) attached directly.")


@strawberry.input
class RoleFilter(GroupFilter):
    tag: TagFilter | None = None


@strawberry.input
class UserFilter(RoleFilter):
    group: str | None = strawberry.field(default=None, description="Members of this group (name or ARN).")


@strawberry.input
class PolicyFilter(NameFilter):
    path_prefix: str | None = None
    aws_managed: bool | None = strawberry.field(default=None, description="Only AWS-managed (true) or only customer-managed (false) policies.")
    attached: bool | None = strawberry.field(default=None, description="Only policies attached to some user, group or role (true), or to none (false).")


@strawberry.input
class ResourceFilter(NameFilter):
    type: str | None = strawberry.field(default=None, description="The resource type, e.g. `bucket`, `object`, `key`.")
    tag: TagFilter | None = None


@strawberry.enum
class OrderField(enum.Enum):
    NAME = "NAME"
    ARN = "ARN"


@strawberry.enum
class OrderDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.input(description="By name (then ARN) ascending unless told otherwise.")
class Order:
    field: OrderField = OrderField.NAME
    direction: OrderDirection = OrderDirection.ASC


AnyFilter = GroupFilter | RoleFilter | UserFilter | PolicyFilter | ResourceFilter


def to_filter(world: World, given: AnyFilter | None) -> Filter:
    """The listing filter of a GraphQL filter input; names of policies and groups are resolved
    here, and an unknown one is a NOT_FOUND naming its field."""
    if given is None:
        return Filter()
    attached = getattr(given, "attached_policy", None)
    group = getattr(given, "group", None)
    tag: TagFilter | None = getattr(given, "tag", None)
    flt = Filter(
        name_prefix=given.name_prefix, name_contains=given.name_contains, path_prefix=getattr(given, "path_prefix", None), account=given.account,
        tag_key=None if tag is None else tag.key, tag_value=None if tag is None else tag.value,
        attached_policy=None if attached is None else world.find(NodeKind.POLICY, attached, field="filter.attachedPolicy"),
        member_of=None if group is None else world.find(NodeKind.GROUP, group, field="filter.group"),
        resource_type=getattr(given, "type", None), attached=getattr(given, "attached", None), aws_managed=getattr(given, "aws_managed", None),
    )
    return flt


def sort_of(order: Order | None) -> tuple[SortField, bool]:
    if order is None:
        return SortField.NAME, False
    return (SortField.ARN if order.field is OrderField.ARN else SortField.NAME), order.direction is OrderDirection.DESC


def arguments_of(given: Any, order: Order | None) -> Any:
    """The filter and order as plain values, for a cursor's fingerprint."""
    def plain(value: Any) -> Any:
        if value is None or isinstance(value, (str, int, bool)):
            return value
        if isinstance(value, enum.Enum):
            return value.value
        return {k: plain(v) for k, v in sorted(vars(value).items())}

    return [plain(given), plain(order)]
