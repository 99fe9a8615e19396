"""Every change to a world, as a typed command: one frozen dataclass per change.

A command is named by its GraphQL mutation (``createUser``) and its fields are that mutation's
arguments (camelCase when serialised: ``policyName``). The GraphQL mutations build commands,
what-if parses its JSON changes into them, the store logs each as ``(name, fields)`` and replays
it through the same registry, and the CLI applies them: one table of changes, not four.

A command checks the type of each field when it is built (from any source); ``apply`` then
calls the one ``World`` method that validates the change against the world and makes it, so a
failed command leaves the world as it was. Adding a change is one class here (and its GraphQL
field).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from ..errors import InvalidRequestError
from .graph import World
from .model import NodeKind

Tags = tuple[tuple[str, str], ...]  # (key, value) pairs, in the order given
Keys = tuple[str, ...]
Document = str | Mapping[str, Any]  # a policy document: JSON text, or the parsed object

# Fields that hold documents: left out of a change's one-line summary.
_DOCUMENT_FIELDS = frozenset({"document", "trust_policy"})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _tags(value: object, field: str) -> Tags:
    """Tags as the GraphQL input gives them (``[{key, value}]``) or as an object of strings."""
    if isinstance(value, Mapping):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        pairs = []
        for i, tag in enumerate(value):
            if isinstance(tag, Mapping) and set(tag) == {"key", "value"}:
                pairs.append((tag["key"], tag["value"]))
            elif isinstance(tag, tuple) and len(tag) == 2:
                pairs.append(tag)
            else:
                raise InvalidRequestError(f"{field}[{i}] must be a tag {{key, value}}", field=f"{field}[{i}]")
    else:
        raise InvalidRequestError(f"{field} must be a list of {{key, value}} tags", field=field)
    for key, val in pairs:
        if not isinstance(key, str) or not isinstance(val, str):
            raise InvalidRequestError(f"{field}: tag keys and values must be strings, got {key!r}: {val!r}", field=field)
    return tuple(pairs)


def _keys(value: object, field: str) -> Keys:
    if not isinstance(value, list | tuple) or not all(isinstance(k, str) for k in value):
        raise InvalidRequestError(f"{field} must be a list of strings", field=field)
    return tuple(value)


def _string(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"{field} must be a string, got {type(value).__name__}", field=field)
    return value


def _optional_string(value: object, field: str) -> str | None:
    return None if value is None else _string(value, field)


def _document(value: object, field: str) -> Document:
    if not isinstance(value, str | Mapping):
        raise InvalidRequestError(f"{field} must be a policy document (JSON text or an object), got {type(value).__name__}", field=field)
    return value


# Field annotation -> (check and normalise a value, write it back as JSON).
_FIELD_TYPES: dict[str, tuple[Callable[[object, str], Any], Callable[[Any], Any]]] = {
    "str": (_string, lambda v: v),
    "str | None": (_optional_string, lambda v: v),
    "Document": (_document, lambda v: v),
    "Tags": (_tags, lambda v: [{"key": k, "value": x} for k, x in v]),
    "Keys": (_keys, list),
}


R = TypeVar("R", covariant=True)  # what applying the command returns: the keys it made or changed


class Command(Generic[R]):
    """One change to a world. Subclasses are frozen dataclasses registered with ``@command``."""

    __slots__ = ()
    command_name: ClassVar[str]

    def __post_init__(self) -> None:
        for f in _fields(self):
            check, _ = _FIELD_TYPES[str(f.type)]
            object.__setattr__(self, f.name, check(getattr(self, f.name), _field_name(f)))

    def apply(self, world: World, *, provenance: str = "mutation") -> R:
        raise NotImplementedError

    def stamped(self, now: str) -> Command[R]:
        """This command with the time it was made, where the change records one (policy
        versions' createDate), so that replaying it gives the same world."""
        return self

    @classmethod
    def argument_names(cls) -> tuple[str, ...]:
        """The command's fields by their GraphQL argument names (``policyName``)."""
        return tuple(_field_name(f) for f in _fields(cls))

    def to_fields(self) -> dict[str, Any]:
        """The command's fields as JSON values, by their GraphQL argument names."""
        return {_field_name(f): _FIELD_TYPES[str(f.type)][1](getattr(self, f.name)) for f in _fields(self)}

    @property
    def summary(self) -> str:
        """The change on one line: its name and the names it is about (not its documents)."""
        names = [
            getattr(self, f.name) for f in _fields(self)
            if f.name not in _DOCUMENT_FIELDS and f.default is dataclasses.MISSING and isinstance(getattr(self, f.name), str)
        ]
        return " ".join([self.command_name, *names])


def _fields(command: object) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of a command class or instance (every registered command is a dataclass)."""
    return dataclasses.fields(command)  # type: ignore[arg-type]


def _field_name(f: dataclasses.Field[Any]) -> str:
    return _camel(f.name)


COMMANDS: dict[str, type[Command[Any]]] = {}

C = TypeVar("C", bound=type[Command[Any]])


def command(name: str) -> Callable[[C], C]:
    """Register a command class under its mutation name."""
    def register(cls: C) -> C:
        if name in COMMANDS:
            raise RuntimeError(f"two commands named {name}")
        for f in _fields(cls):
            if str(f.type) not in _FIELD_TYPES:
                raise RuntimeError(f"{cls.__name__}.{f.name}: no field type {f.type!r}")
        cls.command_name = name
        COMMANDS[name] = cls
        return cls
    return register


def parse_command(name: object, fields: object, *, path: str = "") -> Command[Any]:
    """A command from its name and its fields as JSON (what-if changes, the store's log).
    Errors name the field under ``path`` (``changes[2].arguments.user``)."""
    where = f"{path}." if path else ""
    if not isinstance(name, str) or name not in COMMANDS:
        raise InvalidRequestError(f"unknown mutation {name!r}; one of {', '.join(sorted(COMMANDS))}", field=f"{where}mutation" if path else "mutation")
    cls = COMMANDS[name]
    args_field = f"{where}arguments" if path else "arguments"
    if not isinstance(fields, Mapping):
        raise InvalidRequestError(f"{name}: arguments must be an object", field=args_field)
    by_name = dict(zip(cls.argument_names(), _fields(cls), strict=True))
    unknown = sorted(set(fields) - set(by_name))
    if unknown:
        raise InvalidRequestError(f"{name} takes no argument {unknown[0]!r}; it takes {', '.join(by_name)}", field=f"{args_field}.{unknown[0]}")
    missing = [n for n, f in by_name.items() if n not in fields and f.default is dataclasses.MISSING]
    if missing:
        raise InvalidRequestError(f"{name}: missing argument {missing[0]!r}", field=f"{args_field}.{missing[0]}")
    try:
        return cls(**{f.name: fields[n] for n, f in by_name.items() if n in fields})
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{name}: {exc.message}", field=f"{args_field}.{exc.field}" if exc.field else args_field) from None


# ---- accounts, users, groups, roles ------------------------------------------------------------


@command("createAccount")
@dataclass(frozen=True, slots=True)
class CreateAccount(Command[str]):
    id: str
    alias: str | None = None

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_account(self.id, alias=self.alias, provenance=provenance)


@command("createUser")
@dataclass(frozen=True, slots=True)
class CreateUser(Command[str]):
    name: str
    path: str = "/"
    tags: Tags = ()
    account: str | None = None

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_user(self.name, path=self.path, account=self.account, tags=dict(self.tags), provenance=provenance)


@command("deleteUser")
@dataclass(frozen=True, slots=True)
class DeleteUser(Command[str]):
    name: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.remove_entity(NodeKind.USER, self.name)


@command("tagUser")
@dataclass(frozen=True, slots=True)
class TagUser(Command[str]):
    user: str
    tags: Tags

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.tag_principal(NodeKind.USER, self.user, dict(self.tags))


@command("untagUser")
@dataclass(frozen=True, slots=True)
class UntagUser(Command[str]):
    user: str
    tag_keys: Keys

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.untag_principal(NodeKind.USER, self.user, self.tag_keys)


@command("createGroup")
@dataclass(frozen=True, slots=True)
class CreateGroup(Command[str]):
    name: str
    path: str = "/"
    account: str | None = None

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_group(self.name, path=self.path, account=self.account, provenance=provenance)


@command("deleteGroup")
@dataclass(frozen=True, slots=True)
class DeleteGroup(Command[str]):
    name: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.remove_entity(NodeKind.GROUP, self.name)


@command("addUserToGroup")
@dataclass(frozen=True, slots=True)
class AddUserToGroup(Command[tuple[str, str]]):
    user: str
    group: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.add_member(self.user, self.group, provenance=provenance)


@command("removeUserFromGroup")
@dataclass(frozen=True, slots=True)
class RemoveUserFromGroup(Command[tuple[str, str]]):
    user: str
    group: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.remove_member(self.user, self.group)


@command("createRole")
@dataclass(frozen=True, slots=True)
class CreateRole(Command[str]):
    name: str
    trust_policy: Document
    path: str = "/"
    description: str = ""
    tags: Tags = ()
    account: str | None = None

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_role(
            self.name, self.trust_policy, path=self.path, description=self.description, account=self.account, tags=dict(self.tags), provenance=provenance,
        )


@command("deleteRole")
@dataclass(frozen=True, slots=True)
class DeleteRole(Command[str]):
    name: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.remove_entity(NodeKind.ROLE, self.name)


@command("updateAssumeRolePolicy")
@dataclass(frozen=True, slots=True)
class UpdateAssumeRolePolicy(Command[str]):
    role: str
    document: Document

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.update_trust_policy(self.role, self.document, provenance=provenance)


# ---- managed and inline policies ---------------------------------------------------------------


@command("createPolicy")
@dataclass(frozen=True, slots=True)
class CreatePolicy(Command[str]):
    name: str
    document: Document
    description: str = ""
    path: str = "/"
    account: str | None = None
    created: str | None = None  # the version's createDate; set when the change is made

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_managed_policy(
            self.name, self.document, description=self.description, path=self.path, account=self.account, created=self.created, provenance=provenance,
        )

    def stamped(self, now: str) -> CreatePolicy:
        return self if self.created is not None else dataclasses.replace(self, created=now)


@command("updatePolicy")
@dataclass(frozen=True, slots=True)
class UpdatePolicy(Command[tuple[str, str | None]]):
    policy: str
    document: Document
    created: str | None = None

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str | None]:
        return world.update_policy(self.policy, self.document, created=self.created, provenance=provenance)

    def stamped(self, now: str) -> UpdatePolicy:
        return self if self.created is not None else dataclasses.replace(self, created=now)


@command("deletePolicy")
@dataclass(frozen=True, slots=True)
class DeletePolicy(Command[str]):
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.remove_managed_policy(self.policy)


@command("putUserPolicy")
@dataclass(frozen=True, slots=True)
class PutUserPolicy(Command[str]):
    user: str
    policy_name: str
    document: Document

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.put_inline_policy(NodeKind.USER, self.user, self.policy_name, self.document, provenance=provenance)


@command("putGroupPolicy")
@dataclass(frozen=True, slots=True)
class PutGroupPolicy(Command[str]):
    group: str
    policy_name: str
    document: Document

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.put_inline_policy(NodeKind.GROUP, self.group, self.policy_name, self.document, provenance=provenance)


@command("putRolePolicy")
@dataclass(frozen=True, slots=True)
class PutRolePolicy(Command[str]):
    role: str
    policy_name: str
    document: Document

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.put_inline_policy(NodeKind.ROLE, self.role, self.policy_name, self.document, provenance=provenance)


@command("deleteUserPolicy")
@dataclass(frozen=True, slots=True)
class DeleteUserPolicy(Command[str]):
    user: str
    policy_name: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.delete_inline_policy(NodeKind.USER, self.user, self.policy_name)


@command("deleteGroupPolicy")
@dataclass(frozen=True, slots=True)
class DeleteGroupPolicy(Command[str]):
    group: str
    policy_name: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.delete_inline_policy(NodeKind.GROUP, self.group, self.policy_name)


@command("deleteRolePolicy")
@dataclass(frozen=True, slots=True)
class DeleteRolePolicy(Command[str]):
    role: str
    policy_name: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.delete_inline_policy(NodeKind.ROLE, self.role, self.policy_name)


@command("attachUserPolicy")
@dataclass(frozen=True, slots=True)
class AttachUserPolicy(Command[tuple[str, str]]):
    user: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.attach_policy(NodeKind.USER, self.user, self.policy, provenance=provenance)


@command("attachGroupPolicy")
@dataclass(frozen=True, slots=True)
class AttachGroupPolicy(Command[tuple[str, str]]):
    group: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.attach_policy(NodeKind.GROUP, self.group, self.policy, provenance=provenance)


@command("attachRolePolicy")
@dataclass(frozen=True, slots=True)
class AttachRolePolicy(Command[tuple[str, str]]):
    role: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.attach_policy(NodeKind.ROLE, self.role, self.policy, provenance=provenance)


@command("detachUserPolicy")
@dataclass(frozen=True, slots=True)
class DetachUserPolicy(Command[tuple[str, str]]):
    user: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.detach_policy(NodeKind.USER, self.user, self.policy)


@command("detachGroupPolicy")
@dataclass(frozen=True, slots=True)
class DetachGroupPolicy(Command[tuple[str, str]]):
    group: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.detach_policy(NodeKind.GROUP, self.group, self.policy)


@command("detachRolePolicy")
@dataclass(frozen=True, slots=True)
class DetachRolePolicy(Command[tuple[str, str]]):
    role: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.detach_policy(NodeKind.ROLE, self.role, self.policy)


# ---- permissions boundaries --------------------------------------------------------------------


@command("putUserPermissionsBoundary")
@dataclass(frozen=True, slots=True)
class PutUserPermissionsBoundary(Command[tuple[str, str]]):
    user: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.set_boundary(NodeKind.USER, self.user, self.policy, provenance=provenance)


@command("putRolePermissionsBoundary")
@dataclass(frozen=True, slots=True)
class PutRolePermissionsBoundary(Command[tuple[str, str]]):
    role: str
    policy: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.set_boundary(NodeKind.ROLE, self.role, self.policy, provenance=provenance)


@command("deleteUserPermissionsBoundary")
@dataclass(frozen=True, slots=True)
class DeleteUserPermissionsBoundary(Command[str]):
    user: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.delete_boundary(NodeKind.USER, self.user)


@command("deleteRolePermissionsBoundary")
@dataclass(frozen=True, slots=True)
class DeleteRolePermissionsBoundary(Command[str]):
    role: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.delete_boundary(NodeKind.ROLE, self.role)


# ---- resources ---------------------------------------------------------------------------------


@command("createResource")
@dataclass(frozen=True, slots=True)
class CreateResource(Command[str]):
    arn: str
    type: str  # s3:bucket, s3:object, sqs:queue, kms:key, ...
    account: str | None = None
    tags: Tags = ()

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_resource(self.arn, resource_type=self.type, account=self.account, tags=dict(self.tags), provenance=provenance)


@command("putResourcePolicy")
@dataclass(frozen=True, slots=True)
class PutResourcePolicy(Command[str]):
    arn: str
    document: Document
    account: str | None = None

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.put_resource_policy(self.arn, self.document, account=self.account, provenance=provenance)


@command("deleteResourcePolicy")
@dataclass(frozen=True, slots=True)
class DeleteResourcePolicy(Command[str]):
    arn: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.delete_resource_policy(self.arn)


# ---- organizations -----------------------------------------------------------------------------


@command("createOrganization")
@dataclass(frozen=True, slots=True)
class CreateOrganization(Command[str]):
    management_account: str
    root_id: str = "r-root"

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.create_organization(self.management_account, root_id=self.root_id, provenance=provenance)


@command("createOrganizationalUnit")
@dataclass(frozen=True, slots=True)
class CreateOrganizationalUnit(Command[str]):
    name: str
    parent: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_ou(self.name, self.parent, provenance=provenance)


@command("moveAccount")
@dataclass(frozen=True, slots=True)
class MoveAccount(Command[str]):
    account: str
    parent: str

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.place_account(self.account, self.parent, provenance=provenance)


@command("createOrgPolicy")
@dataclass(frozen=True, slots=True)
class CreateOrgPolicy(Command[str]):
    name: str
    type: str  # "scp" or "rcp"
    document: Document

    def apply(self, world: World, *, provenance: str = "mutation") -> str:
        return world.add_org_policy(self.name, self.type, self.document, provenance=provenance)


@command("attachOrgPolicy")
@dataclass(frozen=True, slots=True)
class AttachOrgPolicy(Command[tuple[str, str]]):
    policy: str
    target: str

    def apply(self, world: World, *, provenance: str = "mutation") -> tuple[str, str]:
        return world.attach_org_policy(self.policy, self.target, provenance=provenance)


# ---- the store's first log format --------------------------------------------------------------
# Stores written before commands logged ``(world method, {"args": [...], "kwargs": {...}})``;
# each method maps to the command that makes the same change. Kind-first methods name the
# command per kind.

_BY_KIND = {"user": 0, "group": 1, "role": 2}
_LEGACY: dict[str, tuple[tuple[type[Command[Any]] | None, ...], tuple[str, ...], dict[str, str]]] = {
    # method: (command per kind (one when not kind-first), positional fields, keyword -> field)
    "add_account": ((CreateAccount,), ("id",), {"alias": "alias"}),
    "add_user": ((CreateUser,), ("name",), {"path": "path", "account": "account", "tags": "tags"}),
    "add_group": ((CreateGroup,), ("name",), {"path": "path", "account": "account"}),
    "add_role": ((CreateRole,), ("name", "trust_policy"), {"path": "path", "description": "description", "account": "account", "tags": "tags"}),
    "remove_entity": ((DeleteUser, DeleteGroup, DeleteRole), ("name",), {}),
    "add_managed_policy": ((CreatePolicy,), ("name", "document"), {"description": "description", "path": "path", "account": "account", "created": "created"}),
    "update_policy": ((UpdatePolicy,), ("policy", "document"), {"created": "created"}),
    "remove_managed_policy": ((DeletePolicy,), ("policy",), {}),
    "put_inline_policy": ((PutUserPolicy, PutGroupPolicy, PutRolePolicy), ("owner", "policy_name", "document"), {}),
    "delete_inline_policy": ((DeleteUserPolicy, DeleteGroupPolicy, DeleteRolePolicy), ("owner", "policy_name"), {}),
    "attach_policy": ((AttachUserPolicy, AttachGroupPolicy, AttachRolePolicy), ("owner", "policy"), {}),
    "detach_policy": ((DetachUserPolicy, DetachGroupPolicy, DetachRolePolicy), ("owner", "policy"), {}),
    "add_member": ((AddUserToGroup,), ("user", "group"), {}),
    "remove_member": ((RemoveUserFromGroup,), ("user", "group"), {}),
    "add_resource": ((CreateResource,), ("arn",), {"resource_type": "type", "account": "account", "tags": "tags"}),
    "update_trust_policy": ((UpdateAssumeRolePolicy,), ("role", "document"), {}),
    "set_boundary": ((PutUserPermissionsBoundary, None, PutRolePermissionsBoundary), ("owner", "policy"), {}),
    "delete_boundary": ((DeleteUserPermissionsBoundary, None, DeleteRolePermissionsBoundary), ("owner",), {}),
    "put_resource_policy": ((PutResourcePolicy,), ("arn", "document"), {"account": "account"}),
    "delete_resource_policy": ((DeleteResourcePolicy,), ("arn",), {}),
    "create_organization": ((CreateOrganization,), ("management_account",), {"root_id": "root_id"}),
    "add_ou": ((CreateOrganizationalUnit,), ("name", "parent"), {}),
    "place_account": ((MoveAccount,), ("account", "parent"), {}),
    "add_org_policy": ((CreateOrgPolicy,), ("name", "type", "document"), {}),
    "attach_org_policy": ((AttachOrgPolicy,), ("policy", "target"), {}),
}


def legacy_command(method: str, stored: Mapping[str, Any]) -> Command[Any] | None:
    """The command for a change logged in the first format, or None when ``method`` is not one
    of its world methods."""
    entry = _LEGACY.get(method)
    if entry is None:
        return None
    classes, positional, keywords = entry
    args = list(stored.get("args", []))
    if len(classes) > 1:
        kind = str(args.pop(0))
        cls = classes[_BY_KIND[kind]] if kind in _BY_KIND else None
        if cls is None:
            raise InvalidRequestError(f"{method}: no change for kind {kind!r}", field="mutation")
    else:
        cls = classes[0]
    assert cls is not None
    values = dict(zip(positional, args, strict=False))
    if "owner" in values:
        # The owner argument is the user, group or role field of the per-kind command.
        values[next(f.name for f in _fields(cls) if f.name in ("user", "group", "role"))] = values.pop("owner")
    for key, value in dict(stored.get("kwargs", {})).items():
        if key in keywords and not (key == "tags" and value is None):
            values[keywords[key]] = value
    if "tags" in values:
        values["tags"] = _tags(values["tags"], "tags")
    return cls(**values)


__all__ = ["COMMANDS", "Command", "Document", "Keys", "Tags", "command", "legacy_command", "parse_command"]
