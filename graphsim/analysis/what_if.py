"""What if: the same questions asked before and after hypothetical changes, on a copy of the
world; nothing is committed.

Changes use the API's mutation names and argument names (``attachGroupPolicy`` with
``{"group": "HR", "policy": "ReadOnlyAccess"}``), so a review script can try exactly what it
would later apply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import ContextEntry, Decision, Engine
from ..errors import GraphsimError, InvalidRequestError, NotFoundError
from ..world import NodeKind, World
from ..world.io import world_from_dict, world_to_dict

Change = Callable[[World, Mapping[str, Any]], object]

CHANGES: dict[str, Change] = {
    "createUser": lambda w, a: w.add_user(a["name"], path=a.get("path", "/"), account=a.get("account"), tags=a.get("tags")),
    "deleteUser": lambda w, a: w.remove_entity(NodeKind.USER, a["name"]),
    "createGroup": lambda w, a: w.add_group(a["name"], path=a.get("path", "/"), account=a.get("account")),
    "deleteGroup": lambda w, a: w.remove_entity(NodeKind.GROUP, a["name"]),
    "createRole": lambda w, a: w.add_role(a["name"], a["trustPolicy"], path=a.get("path", "/"), account=a.get("account")),
    "deleteRole": lambda w, a: w.remove_entity(NodeKind.ROLE, a["name"]),
    "createPolicy": lambda w, a: w.add_managed_policy(a["name"], a["document"], path=a.get("path", "/"), account=a.get("account")),
    "updatePolicy": lambda w, a: w.update_policy(a["policy"], a["document"]),
    "putUserPolicy": lambda w, a: w.put_inline_policy(NodeKind.USER, a["user"], a["policyName"], a["document"]),
    "putGroupPolicy": lambda w, a: w.put_inline_policy(NodeKind.GROUP, a["group"], a["policyName"], a["document"]),
    "putRolePolicy": lambda w, a: w.put_inline_policy(NodeKind.ROLE, a["role"], a["policyName"], a["document"]),
    "deleteUserPolicy": lambda w, a: w.delete_inline_policy(NodeKind.USER, a["user"], a["policyName"]),
    "deleteGroupPolicy": lambda w, a: w.delete_inline_policy(NodeKind.GROUP, a["group"], a["policyName"]),
    "deleteRolePolicy": lambda w, a: w.delete_inline_policy(NodeKind.ROLE, a["role"], a["policyName"]),
    "attachUserPolicy": lambda w, a: w.attach_policy(NodeKind.USER, a["user"], a["policy"]),
    "attachGroupPolicy": lambda w, a: w.attach_policy(NodeKind.GROUP, a["group"], a["policy"]),
    "attachRolePolicy": lambda w, a: w.attach_policy(NodeKind.ROLE, a["role"], a["policy"]),
    "detachUserPolicy": lambda w, a: w.detach_policy(NodeKind.USER, a["user"], a["policy"]),
    "detachGroupPolicy": lambda w, a: w.detach_policy(NodeKind.GROUP, a["group"], a["policy"]),
    "detachRolePolicy": lambda w, a: w.detach_policy(NodeKind.ROLE, a["role"], a["policy"]),
    "addUserToGroup": lambda w, a: w.add_member(a["user"], a["group"]),
    "removeUserFromGroup": lambda w, a: w.remove_member(a["user"], a["group"]),
    "updateAssumeRolePolicy": lambda w, a: w.update_trust_policy(a["role"], a["document"]),
    "putUserPermissionsBoundary": lambda w, a: w.set_boundary(NodeKind.USER, a["user"], a["policy"]),
    "putRolePermissionsBoundary": lambda w, a: w.set_boundary(NodeKind.ROLE, a["role"], a["policy"]),
    "deleteUserPermissionsBoundary": lambda w, a: w.delete_boundary(NodeKind.USER, a["user"]),
    "deleteRolePermissionsBoundary": lambda w, a: w.delete_boundary(NodeKind.ROLE, a["role"]),
    "putResourcePolicy": lambda w, a: w.put_resource_policy(a["arn"], a["document"], account=a.get("account")),
    "deleteResourcePolicy": lambda w, a: w.delete_resource_policy(a["arn"]),
    "deletePolicy": lambda w, a: w.remove_managed_policy(a["policy"]),
    "createAccount": lambda w, a: w.add_account(a["id"], alias=a.get("alias")),
    "createOrganization": lambda w, a: w.create_organization(a["managementAccount"], root_id=a.get("rootId", "r-root")),
    "createOrganizationalUnit": lambda w, a: w.add_ou(a["name"], a["parent"]),
    "moveAccount": lambda w, a: w.place_account(a["account"], a["parent"]),
    "createOrgPolicy": lambda w, a: w.add_org_policy(a["name"], a["type"], a["document"]),
    "attachOrgPolicy": lambda w, a: w.attach_org_policy(a["policy"], a["target"]),
}


@dataclass(frozen=True, slots=True)
class Question:
    principal: str
    action: str
    resource: str
    context: tuple[ContextEntry, ...] = ()


ABSENT = "ABSENT"  # the principal does not exist on that side of the change


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    question: Question
    before: Decision | None  # None: the principal does not exist before the changes
    after: Decision | None  # None: the principal does not exist after them

    @property
    def before_kind(self) -> str:
        return ABSENT if self.before is None else self.before.decision.value

    @property
    def after_kind(self) -> str:
        return ABSENT if self.after is None else self.after.decision.value

    @property
    def changed(self) -> bool:
        return self.before_kind != self.after_kind


def apply_changes(world: World, changes: Sequence[tuple[str, Mapping[str, Any]]]) -> World:
    """A copy of ``world`` with the changes applied; a bad change names its index and field."""
    copy = world_from_dict(world_to_dict(world), source=f"what-if copy of {world.name}", name=f"{world.name} (what if)")
    for i, (mutation, arguments) in enumerate(changes):
        change = CHANGES.get(mutation)
        if change is None:
            raise InvalidRequestError(f"changes[{i}]: unknown mutation {mutation!r}; one of {', '.join(sorted(CHANGES))}", field=f"changes[{i}].mutation")
        if not isinstance(arguments, Mapping):
            raise InvalidRequestError(f"changes[{i}] ({mutation}): arguments must be an object", field=f"changes[{i}].arguments")
        try:
            change(copy, arguments)
        except (TypeError, AttributeError, ValueError) as exc:
            # A wrongly typed argument (a number where a name goes, ...).
            raise InvalidRequestError(f"changes[{i}] ({mutation}): an argument has the wrong type ({exc})", field=f"changes[{i}].arguments") from None
        except KeyError as exc:
            raise InvalidRequestError(f"changes[{i}] ({mutation}): missing argument {exc.args[0]!r}", field=f"changes[{i}].arguments") from None
        except GraphsimError as exc:
            # Keep the error's type (NotFound, InvalidPolicy, ...), and say which change failed.
            exc.message = f"changes[{i}] ({mutation}): {exc.message}"
            exc.field = f"changes[{i}].arguments"
            raise
    return copy


def what_if(engine: Engine, changes: Sequence[tuple[str, Mapping[str, Any]]], questions: Sequence[Question]) -> list[WhatIfResult]:
    after = Engine(apply_changes(engine.world, changes))
    return [WhatIfResult(q, _ask(engine, q, i), _ask(after, q, i)) for i, q in enumerate(questions)]


def _ask(engine: Engine, q: Question, index: int) -> Decision | None:
    """The decision, or None when the principal does not exist in this world (a change may
    create or delete it); any other bad input names the question."""
    try:
        engine.resolve_principal(q.principal)
    except NotFoundError:
        return None
    try:
        return engine.can(q.principal, q.action, q.resource, q.context)
    except GraphsimError as exc:
        exc.message = f"questions[{index}]: {exc.message}"
        exc.field = f"questions[{index}].{exc.field}" if exc.field else f"questions[{index}]"
        raise
