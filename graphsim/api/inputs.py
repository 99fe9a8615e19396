"""GraphQL input types, and their conversion to the core's values."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from ..engine import ContextEntry


@strawberry.input(description="A request context key, as AWS's simulator takes it.")
class ContextEntryInput:
    context_key_name: str
    context_key_values: list[str]
    context_key_type: str = strawberry.field(default="string", description="string, numeric, boolean, ip, binary, date, or a ...List form.")


@strawberry.input
class SimulatePrincipalPolicyInput:
    policy_source_arn: str = strawberry.field(description="A user, group or role of the world (ARN, or name).")
    action_names: list[str]
    resource_arns: list[str] = strawberry.field(default_factory=lambda: ["*"])
    context_entries: list[ContextEntryInput] = strawberry.field(default_factory=list)
    policy_input_list: list[str] = strawberry.field(default_factory=list, description="Extra identity policies (JSON) evaluated as if attached.")
    permissions_boundary_policy_input_list: list[str] = strawberry.field(
        default_factory=list, description="At most one boundary (JSON) that replaces the principal's attached one."
    )
    world: str | None = None


@strawberry.input
class SimulateCustomPolicyInput:
    policy_input_list: list[str] = strawberry.field(description="Identity policy documents as JSON strings.")
    action_names: list[str]
    resource_arns: list[str] = strawberry.field(default_factory=lambda: ["*"])
    context_entries: list[ContextEntryInput] = strawberry.field(default_factory=list)
    caller_arn: str | None = strawberry.field(default=None, description="A user, role, assumed-role session, federated user or root ARN.")
    permissions_boundary_policy_input_list: list[str] = strawberry.field(default_factory=list, description="At most one boundary.")
    resource_policy: str | None = strawberry.field(default=None, description="One resource-based policy applied to every resource (a trust policy for sts:AssumeRole on a role).")
    resource_owner: str | None = strawberry.field(default=None, description="Account id or arn:aws:iam::ID:root owning the resources; defaults to the ARN's account, then the caller's.")
    service_control_policy_input_list: list[list[str]] | None = strawberry.field(default=None, description="SCP levels over the caller's account, root first; each level a list of documents.")
    resource_control_policy_input_list: list[list[str]] | None = strawberry.field(default=None, description="RCP levels over the resource owner's account, root first; RCPFullAWSAccess is implied at every level.")
    session_policy: str | None = strawberry.field(default=None, description="For a role session or federated user caller.")
    management_account: str | None = strawberry.field(default=None, description="The organization's management account, exempt from SCPs and RCPs.")


def to_context(entries: list[ContextEntryInput] | None) -> tuple[ContextEntry, ...]:
    """The request context of a query, as the engine takes it."""
    return tuple(ContextEntry(e.context_key_name, tuple(e.context_key_values), e.context_key_type) for e in entries or [])


@strawberry.input
class TagInput:
    key: str
    value: str


@strawberry.input(description="One file to import: its name (which tells its format, e.g. NAME.bucket-policy.json) and its text.")
class ImportFileInput:
    name: str
    content: str = strawberry.field(
        description="JSON (or YAML for a native world file). For an aws organizations folder: a JSON object of file name -> that file's JSON."
    )


@strawberry.input(description="A hypothetical change: an API mutation name and its arguments, e.g. attachGroupPolicy {group, policy}.")
class ChangeInput:
    mutation: str
    arguments: JSON


@strawberry.input
class QuestionInput:
    principal: str
    action: str
    resource: str
    context: list[ContextEntryInput] | None = None
    expect: str | None = strawberry.field(default=None, description="The decision expected after the changes (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, or DENIED for either deny): the answer's met says whether it is.")
