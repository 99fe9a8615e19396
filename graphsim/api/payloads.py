"""What mutations return: a payload on success, or a ``UserError`` member; and the answer of
``validatePolicy``."""

from __future__ import annotations

from typing import Annotated

import strawberry

from .errors import Conflict, InvalidImport, InvalidInput, InvalidPolicy, NotFound, Problem
from .world import Group, Policy, Role, User, WorldView


@strawberry.type
class UserPayload:
    user: User
    world_version: int


@strawberry.type
class GroupPayload:
    group: Group
    world_version: int


@strawberry.type
class PolicyPayload:
    policy: Policy
    world_version: int
    pruned_version_id: str | None = strawberry.field(default=None, description="A version dropped to stay within AWS's limit of five.")


@strawberry.type
class MembershipPayload:
    user: User
    group: Group
    world_version: int


@strawberry.type
class AttachmentPayload:
    policy: Policy
    holder: str
    world_version: int


@strawberry.type
class RolePayload:
    role: Role
    world_version: int


@strawberry.type
class ChangePayload:
    """A change to something without a view of its own (boundary, resource policy, organization)."""

    changed: str
    world_version: int


@strawberry.type(description="Something an import noticed but did not refuse.")
class Finding:
    source: str
    path: str
    message: str
    severity: str


@strawberry.type
class WorldPayload:
    world: WorldView
    findings: list[Finding]


@strawberry.type
class DeletePayload:
    deleted: str
    world_version: int


UserResult = Annotated[UserPayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("UserResult")]
GroupResult = Annotated[GroupPayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("GroupResult")]
PolicyResult = Annotated[PolicyPayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("PolicyResult")]
MembershipResult = Annotated[MembershipPayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("MembershipResult")]
AttachmentResult = Annotated[AttachmentPayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("AttachmentResult")]
RoleResult = Annotated[RolePayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("RoleResult")]
ChangeResult = Annotated[ChangePayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("ChangeResult")]
WorldResult = Annotated[WorldPayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("WorldResult")]
DeleteResult = Annotated[DeletePayload | InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput, strawberry.union("DeleteResult")]


@strawberry.type
class PolicyCheck:
    valid: bool
    problems: list[Problem]
    warnings: list[Problem]
