"""Mutations: each changes one world through the workspace, which records it under the
mutation's name; an expected failure is returned as a ``UserError`` member and changes nothing."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from ..world import NodeKind
from .context import workspace
from .errors import mutation_result
from .inputs import ImportFileInput, TagInput
from .payloads import (
    AttachmentPayload,
    AttachmentResult,
    ChangePayload,
    ChangeResult,
    DeletePayload,
    DeleteResult,
    Finding,
    GroupPayload,
    GroupResult,
    MembershipPayload,
    MembershipResult,
    PolicyPayload,
    PolicyResult,
    RolePayload,
    RoleResult,
    UserPayload,
    UserResult,
    WorldPayload,
    WorldResult,
)
from .world import Group, Policy, Role, User, WorldView

_KIND = {"user": NodeKind.USER, "group": NodeKind.GROUP, "role": NodeKind.ROLE}


def _apply(info: Info, world: Any, op: str, *args: Any, **kwargs: Any) -> Any:
    """One mutation through the workspace, recorded under the GraphQL mutation's name."""
    return workspace(info).apply(world, op, *args, via=info.field_name, **kwargs)


@strawberry.type
class Mutation:
    @strawberry.mutation
    @mutation_result
    def create_user(self, info: Info, name: str, path: str = "/", tags: list[TagInput] | None = None, account: str | None = None, world: str | None = None) -> UserResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "add_user", name, path=path, account=account, tags={tg.key: tg.value for tg in tags or []})
        return UserPayload(user=User.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a user with its memberships, attachments and inline policies, as the console does.")
    @mutation_result
    def delete_user(self, info: Info, name: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "remove_entity", NodeKind.USER, name), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def create_group(self, info: Info, name: str, path: str = "/", account: str | None = None, world: str | None = None) -> GroupResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "add_group", name, path=path, account=account)
        return GroupPayload(group=Group.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a group with its memberships, attachments and inline policies.")
    @mutation_result
    def delete_group(self, info: Info, name: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "remove_entity", NodeKind.GROUP, name), world_version=w.version)

    @strawberry.mutation(description="Create a customer managed policy; the document is validated first.")
    @mutation_result
    def create_policy(self, info: Info, name: str, document: str, description: str = "", path: str = "/", account: str | None = None, world: str | None = None) -> PolicyResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "add_managed_policy", name, document, description=description, path=path, account=account)
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Give a managed policy a new default version.")
    @mutation_result
    def update_policy(self, info: Info, policy: str, document: str, world: str | None = None) -> PolicyResult:
        w = workspace(info).world(world)
        _, pruned = _apply(info, w, "update_policy", policy, document)
        return PolicyPayload(policy=Policy.of(w, w.find(NodeKind.POLICY, policy)), world_version=w.version, pruned_version_id=pruned)

    @strawberry.mutation(description="Delete a managed policy; refused while it is attached, as in AWS.")
    @mutation_result
    def delete_policy(self, info: Info, policy: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "remove_managed_policy", policy), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a user.")
    @mutation_result
    def put_user_policy(self, info: Info, user: str, policy_name: str, document: str, world: str | None = None) -> PolicyResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "put_inline_policy", NodeKind.USER, user, policy_name, document)
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_user_policy(self, info: Info, user: str, policy_name: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "delete_inline_policy", NodeKind.USER, user, policy_name), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a group.")
    @mutation_result
    def put_group_policy(self, info: Info, group: str, policy_name: str, document: str, world: str | None = None) -> PolicyResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "put_inline_policy", NodeKind.GROUP, group, policy_name, document)
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_group_policy(self, info: Info, group: str, policy_name: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "delete_inline_policy", NodeKind.GROUP, group, policy_name), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def attach_user_policy(self, info: Info, user: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attach(info, "user", user, policy, world, attach=True)

    @strawberry.mutation
    @mutation_result
    def detach_user_policy(self, info: Info, user: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attach(info, "user", user, policy, world, attach=False)

    @strawberry.mutation
    @mutation_result
    def attach_group_policy(self, info: Info, group: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attach(info, "group", group, policy, world, attach=True)

    @strawberry.mutation
    @mutation_result
    def detach_group_policy(self, info: Info, group: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attach(info, "group", group, policy, world, attach=False)

    @strawberry.mutation
    @mutation_result
    def add_user_to_group(self, info: Info, user: str, group: str, world: str | None = None) -> MembershipResult:
        w = workspace(info).world(world)
        u, g = _apply(info, w, "add_member", user, group)
        return MembershipPayload(user=User.of(w, u), group=Group.of(w, g), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def remove_user_from_group(self, info: Info, user: str, group: str, world: str | None = None) -> MembershipResult:
        w = workspace(info).world(world)
        u, g = _apply(info, w, "remove_member", user, group)
        return MembershipPayload(user=User.of(w, u), group=Group.of(w, g), world_version=w.version)

    @strawberry.mutation(description="Create a role with its trust policy (the role's resource-based policy).")
    @mutation_result
    def create_role(self, info: Info, name: str, trust_policy: str, path: str = "/", description: str = "", tags: list[TagInput] | None = None, account: str | None = None, world: str | None = None) -> RoleResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "add_role", name, trust_policy, path=path, description=description, account=account, tags={tg.key: tg.value for tg in tags or []})
        return RolePayload(role=Role.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a role with its attachments, inline policies and trust policy.")
    @mutation_result
    def delete_role(self, info: Info, name: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "remove_entity", NodeKind.ROLE, name), world_version=w.version)

    @strawberry.mutation(description="AWS's UpdateAssumeRolePolicy: replace a role's trust policy.")
    @mutation_result
    def update_assume_role_policy(self, info: Info, role: str, document: str, world: str | None = None) -> RoleResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "update_trust_policy", role, document)
        return RolePayload(role=Role.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a role.")
    @mutation_result
    def put_role_policy(self, info: Info, role: str, policy_name: str, document: str, world: str | None = None) -> PolicyResult:
        w = workspace(info).world(world)
        key = _apply(info, w, "put_inline_policy", NodeKind.ROLE, role, policy_name, document)
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_role_policy(self, info: Info, role: str, policy_name: str, world: str | None = None) -> DeleteResult:
        w = workspace(info).world(world)
        return DeletePayload(deleted=_apply(info, w, "delete_inline_policy", NodeKind.ROLE, role, policy_name), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def attach_role_policy(self, info: Info, role: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attach(info, "role", role, policy, world, attach=True)

    @strawberry.mutation
    @mutation_result
    def detach_role_policy(self, info: Info, role: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attach(info, "role", role, policy, world, attach=False)

    @strawberry.mutation(description="Set a user's permissions boundary (a managed policy), replacing any other.")
    @mutation_result
    def put_user_permissions_boundary(self, info: Info, user: str, policy: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        key, _ = _apply(info, w, "set_boundary", NodeKind.USER, user, policy)
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_user_permissions_boundary(self, info: Info, user: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "delete_boundary", NodeKind.USER, user), world_version=w.version)

    @strawberry.mutation(description="Set a role's permissions boundary (a managed policy), replacing any other.")
    @mutation_result
    def put_role_permissions_boundary(self, info: Info, role: str, policy: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        key, _ = _apply(info, w, "set_boundary", NodeKind.ROLE, role, policy)
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_role_permissions_boundary(self, info: Info, role: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "delete_boundary", NodeKind.ROLE, role), world_version=w.version)

    @strawberry.mutation(description="Set the resource-based policy of an ARN (bucket policy, key policy, queue policy, ...).")
    @mutation_result
    def put_resource_policy(self, info: Info, arn: str, document: str, account: str | None = None, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "put_resource_policy", arn, document, account=account), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_resource_policy(self, info: Info, arn: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "delete_resource_policy", arn), world_version=w.version)

    @strawberry.mutation(description="Add an account (12 digits) to the world.")
    @mutation_result
    def create_account(self, info: Info, id: str, alias: str | None = None, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "add_account", id, alias=alias), world_version=w.version)

    @strawberry.mutation(description="Create the organization, with its management account.")
    @mutation_result
    def create_organization(self, info: Info, management_account: str, root_id: str = "r-root", world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "create_organization", management_account, root_id=root_id), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def create_organizational_unit(self, info: Info, name: str, parent: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "add_ou", name, parent), world_version=w.version)

    @strawberry.mutation(description="Place an account under the root or an OU.")
    @mutation_result
    def move_account(self, info: Info, account: str, parent: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "place_account", account, parent), world_version=w.version)

    @strawberry.mutation(description='Create an SCP (type "scp") or RCP (type "rcp").')
    @mutation_result
    def create_org_policy(self, info: Info, name: str, type: str, document: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        return ChangePayload(changed=_apply(info, w, "add_org_policy", name, type, document), world_version=w.version)

    @strawberry.mutation(description="Attach an SCP or RCP to the root, an OU or an account.")
    @mutation_result
    def attach_org_policy(self, info: Info, policy: str, target: str, world: str | None = None) -> ChangeResult:
        w = workspace(info).world(world)
        policy_key, target_key = _apply(info, w, "attach_org_policy", policy, target)
        return ChangePayload(changed=f"{policy_key} -> {target_key}", world_version=w.version)

    @strawberry.mutation(description="Import AWS exports (authorization details, bucket policies, an organizations folder) or native world files as one world, in one change.")
    @mutation_result
    def import_world(self, info: Info, name: str, files: list[ImportFileInput], replace: bool = False) -> WorldResult:
        from ..store.importers import import_sources, parse_text

        ws = workspace(info)
        result = import_sources([(f.name, parse_text(f.name, f.content)) for f in files], name=name)
        world = ws.import_world(name, result.world, replace=replace, sources=[f.name for f in files])
        findings = [Finding(source=f.source, path=f.path, message=f.message, severity=f.severity) for f in result.findings]
        return WorldPayload(world=WorldView.of(world, ws.history if ws.store else None), findings=findings)

    @strawberry.mutation(description="Copy a world under a new name, for what-if work; its history comes along.")
    @mutation_result
    def fork_world(self, info: Info, source: str, name: str) -> WorldResult:
        ws = workspace(info)
        return WorldPayload(world=WorldView.of(ws.fork(source, name), ws.history if ws.store else None), findings=[])

    @strawberry.mutation(description="Delete a world and its history (not the default world).")
    @mutation_result
    def delete_world(self, info: Info, name: str) -> DeleteResult:
        ws = workspace(info)
        ws.delete(name)
        return DeletePayload(deleted=name, world_version=0)


def _attach(info: Info, kind: str, owner: str, policy: str, world: str | None, *, attach: bool) -> AttachmentPayload:
    w = workspace(info).world(world)
    owner_key, policy_key = _apply(info, w, "attach_policy" if attach else "detach_policy", _KIND[kind], owner, policy)
    return AttachmentPayload(policy=Policy.of(w, policy_key), holder=w.node(owner_key)["label"], world_version=w.version)
