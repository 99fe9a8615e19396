"""Mutations: each builds one world command (``graphsim.world.commands``) from its arguments and
hands it to the workspace, which applies and records it; an expected failure is returned as a
``UserError`` member and changes nothing. Adding a mutation is one command class and its field."""

from __future__ import annotations

from typing import TypeVar

import strawberry
from strawberry.types import Info

from ..workspace import check_world_name
from ..world import NodeKind, World
from ..world import commands as c
from .context import changing, workspace
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

R = TypeVar("R")


def _apply(info: Info, world: str | None, command: c.Command[R]) -> tuple[World, R]:
    """The world named ``world`` (the default when None) after the command, and what it returned."""
    ws = workspace(info)
    with changing(info):  # looked up inside: catching up with the store may have rebuilt it
        target = ws.world(world)
        result = ws.apply(target, command)
        return ws.world(target.name), result  # a new object when the change was retried (Workspace.apply)


def _tags(tags: list[TagInput] | None) -> c.Tags:
    return tuple((tag.key, tag.value) for tag in tags or [])


@strawberry.type
class Mutation:
    @strawberry.mutation
    @mutation_result
    def create_user(self, info: Info, name: str, path: str = "/", tags: list[TagInput] | None = None, account: str | None = None, world: str | None = None) -> UserResult:
        w, key = _apply(info, world, c.CreateUser(name, path=path, tags=_tags(tags), account=account))
        return UserPayload(user=User.of(w, key), world_version=w.version)

    @strawberry.mutation(description="AWS's TagUser: add tags to a user; a tag whose key the user already has takes the new value.")
    @mutation_result
    def tag_user(self, info: Info, user: str, tags: list[TagInput], world: str | None = None) -> UserResult:
        w, key = _apply(info, world, c.TagUser(user, _tags(tags)))
        return UserPayload(user=User.of(w, key), world_version=w.version)

    @strawberry.mutation(description="AWS's UntagUser: remove the user's tags with these keys.")
    @mutation_result
    def untag_user(self, info: Info, user: str, tag_keys: list[str], world: str | None = None) -> UserResult:
        w, key = _apply(info, world, c.UntagUser(user, tuple(tag_keys)))
        return UserPayload(user=User.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a user with its memberships, attachments and inline policies, as the console does.")
    @mutation_result
    def delete_user(self, info: Info, name: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeleteUser(name))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def create_group(self, info: Info, name: str, path: str = "/", account: str | None = None, world: str | None = None) -> GroupResult:
        w, key = _apply(info, world, c.CreateGroup(name, path=path, account=account))
        return GroupPayload(group=Group.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a group with its memberships, attachments and inline policies.")
    @mutation_result
    def delete_group(self, info: Info, name: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeleteGroup(name))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation(description="Create a customer managed policy; the document is validated first.")
    @mutation_result
    def create_policy(self, info: Info, name: str, document: str, description: str = "", path: str = "/", account: str | None = None, world: str | None = None) -> PolicyResult:
        w, key = _apply(info, world, c.CreatePolicy(name, document, description=description, path=path, account=account))
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Give a managed policy a new default version.")
    @mutation_result
    def update_policy(self, info: Info, policy: str, document: str, world: str | None = None) -> PolicyResult:
        w, (_, pruned) = _apply(info, world, c.UpdatePolicy(policy, document))
        return PolicyPayload(policy=Policy.of(w, w.find(NodeKind.POLICY, policy)), world_version=w.version, pruned_version_id=pruned)

    @strawberry.mutation(description="Delete a managed policy; refused while it is attached, as in AWS.")
    @mutation_result
    def delete_policy(self, info: Info, policy: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeletePolicy(policy))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a user.")
    @mutation_result
    def put_user_policy(self, info: Info, user: str, policy_name: str, document: str, world: str | None = None) -> PolicyResult:
        w, key = _apply(info, world, c.PutUserPolicy(user, policy_name, document))
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_user_policy(self, info: Info, user: str, policy_name: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeleteUserPolicy(user, policy_name))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a group.")
    @mutation_result
    def put_group_policy(self, info: Info, group: str, policy_name: str, document: str, world: str | None = None) -> PolicyResult:
        w, key = _apply(info, world, c.PutGroupPolicy(group, policy_name, document))
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_group_policy(self, info: Info, group: str, policy_name: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeleteGroupPolicy(group, policy_name))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def attach_user_policy(self, info: Info, user: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attachment(*_apply(info, world, c.AttachUserPolicy(user, policy)))

    @strawberry.mutation
    @mutation_result
    def detach_user_policy(self, info: Info, user: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attachment(*_apply(info, world, c.DetachUserPolicy(user, policy)))

    @strawberry.mutation
    @mutation_result
    def attach_group_policy(self, info: Info, group: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attachment(*_apply(info, world, c.AttachGroupPolicy(group, policy)))

    @strawberry.mutation
    @mutation_result
    def detach_group_policy(self, info: Info, group: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attachment(*_apply(info, world, c.DetachGroupPolicy(group, policy)))

    @strawberry.mutation
    @mutation_result
    def add_user_to_group(self, info: Info, user: str, group: str, world: str | None = None) -> MembershipResult:
        w, (u, g) = _apply(info, world, c.AddUserToGroup(user, group))
        return MembershipPayload(user=User.of(w, u), group=Group.of(w, g), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def remove_user_from_group(self, info: Info, user: str, group: str, world: str | None = None) -> MembershipResult:
        w, (u, g) = _apply(info, world, c.RemoveUserFromGroup(user, group))
        return MembershipPayload(user=User.of(w, u), group=Group.of(w, g), world_version=w.version)

    @strawberry.mutation(description="Create a role with its trust policy (the role's resource-based policy).")
    @mutation_result
    def create_role(self, info: Info, name: str, trust_policy: str, path: str = "/", description: str = "", tags: list[TagInput] | None = None, account: str | None = None, world: str | None = None) -> RoleResult:
        w, key = _apply(info, world, c.CreateRole(name, trust_policy, path=path, description=description, tags=_tags(tags), account=account))
        return RolePayload(role=Role.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a role with its attachments, inline policies and trust policy.")
    @mutation_result
    def delete_role(self, info: Info, name: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeleteRole(name))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation(description="AWS's UpdateAssumeRolePolicy: replace a role's trust policy.")
    @mutation_result
    def update_assume_role_policy(self, info: Info, role: str, document: str, world: str | None = None) -> RoleResult:
        w, key = _apply(info, world, c.UpdateAssumeRolePolicy(role, document))
        return RolePayload(role=Role.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a role.")
    @mutation_result
    def put_role_policy(self, info: Info, role: str, policy_name: str, document: str, world: str | None = None) -> PolicyResult:
        w, key = _apply(info, world, c.PutRolePolicy(role, policy_name, document))
        return PolicyPayload(policy=Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_role_policy(self, info: Info, role: str, policy_name: str, world: str | None = None) -> DeleteResult:
        w, key = _apply(info, world, c.DeleteRolePolicy(role, policy_name))
        return DeletePayload(deleted=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def attach_role_policy(self, info: Info, role: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attachment(*_apply(info, world, c.AttachRolePolicy(role, policy)))

    @strawberry.mutation
    @mutation_result
    def detach_role_policy(self, info: Info, role: str, policy: str, world: str | None = None) -> AttachmentResult:
        return _attachment(*_apply(info, world, c.DetachRolePolicy(role, policy)))

    @strawberry.mutation(description="Set a user's permissions boundary (a managed policy), replacing any other.")
    @mutation_result
    def put_user_permissions_boundary(self, info: Info, user: str, policy: str, world: str | None = None) -> ChangeResult:
        w, (key, _) = _apply(info, world, c.PutUserPermissionsBoundary(user, policy))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_user_permissions_boundary(self, info: Info, user: str, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.DeleteUserPermissionsBoundary(user))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Set a role's permissions boundary (a managed policy), replacing any other.")
    @mutation_result
    def put_role_permissions_boundary(self, info: Info, role: str, policy: str, world: str | None = None) -> ChangeResult:
        w, (key, _) = _apply(info, world, c.PutRolePermissionsBoundary(role, policy))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_role_permissions_boundary(self, info: Info, role: str, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.DeleteRolePermissionsBoundary(role))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Add a resource (an ARN with its type: s3:bucket, s3:object, sqs:queue, ...) to an account of the world.")
    @mutation_result
    def create_resource(self, info: Info, arn: str, type: str, account: str | None = None, tags: list[TagInput] | None = None, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.CreateResource(arn, type, account=account, tags=_tags(tags)))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Set the resource-based policy of an ARN (bucket policy, key policy, queue policy, ...).")
    @mutation_result
    def put_resource_policy(self, info: Info, arn: str, document: str, account: str | None = None, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.PutResourcePolicy(arn, document, account=account))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_resource_policy(self, info: Info, arn: str, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.DeleteResourcePolicy(arn))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Add an account (12 digits) to the world.")
    @mutation_result
    def create_account(self, info: Info, id: str, alias: str | None = None, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.CreateAccount(id, alias=alias))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Create the organization, with its management account.")
    @mutation_result
    def create_organization(self, info: Info, management_account: str, root_id: str = "r-root", world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.CreateOrganization(management_account, root_id=root_id))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def create_organizational_unit(self, info: Info, name: str, parent: str, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.CreateOrganizationalUnit(name, parent))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Place an account under the root or an OU.")
    @mutation_result
    def move_account(self, info: Info, account: str, parent: str, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.MoveAccount(account, parent))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description='Create an SCP (type "scp") or RCP (type "rcp").')
    @mutation_result
    def create_org_policy(self, info: Info, name: str, type: str, document: str, world: str | None = None) -> ChangeResult:
        w, key = _apply(info, world, c.CreateOrgPolicy(name, type, document))
        return ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation(description="Attach an SCP or RCP to the root, an OU or an account.")
    @mutation_result
    def attach_org_policy(self, info: Info, policy: str, target: str, world: str | None = None) -> ChangeResult:
        w, (policy_key, target_key) = _apply(info, world, c.AttachOrgPolicy(policy, target))
        return ChangePayload(changed=f"{policy_key} -> {target_key}", world_version=w.version)

    @strawberry.mutation(description="Import AWS exports (authorization details, bucket policies, an organizations folder) or native world files as one world, in one change.")
    @mutation_result
    def import_world(self, info: Info, name: str, files: list[ImportFileInput], replace: bool = False) -> WorldResult:
        from ..imports import import_sources, parse_text

        ws = workspace(info)
        check_world_name(name)  # before reading the files
        # Read and merged before the change (under the deadline, the worlds shared with questions).
        result = import_sources([(f.name, parse_text(f.name, f.content)) for f in files], name=name)
        built = result.to_world()
        with changing(info):
            world = ws.import_world(name, built, replace=replace, sources=[f.name for f in files])
        findings = [Finding(source=f.source, path=f.path, message=f.message, severity=f.severity) for f in result.findings]
        return WorldPayload(world=WorldView.of(world, ws.history if ws.store else None), findings=findings)

    @strawberry.mutation(description="Copy a world under a new name, for what-if work; its history comes along.")
    @mutation_result
    def fork_world(self, info: Info, source: str, name: str) -> WorldResult:
        ws = workspace(info)
        with changing(info):
            copy = ws.fork(source, name)
        return WorldPayload(world=WorldView.of(copy, ws.history if ws.store else None), findings=[])

    @strawberry.mutation(description="Delete a world and its history (not the default world).")
    @mutation_result
    def delete_world(self, info: Info, name: str) -> DeleteResult:
        ws = workspace(info)
        with changing(info):
            ws.delete(name)
        return DeletePayload(deleted=name, world_version=0)

    @strawberry.mutation(description="Make a world the store's default world: the one every command and server answers from when no world is named.")
    @mutation_result
    def set_default_world(self, info: Info, name: str) -> WorldResult:
        ws = workspace(info)
        with changing(info):
            target = ws.set_default(name)
        return WorldPayload(world=WorldView.of(ws.world(target), ws.history if ws.store else None), findings=[])


def _attachment(w: World, keys: tuple[str, str]) -> AttachmentPayload:
    owner_key, policy_key = keys
    return AttachmentPayload(policy=Policy.of(w, policy_key), holder=w.node(owner_key)["label"], world_version=w.version)
