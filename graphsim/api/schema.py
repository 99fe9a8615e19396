"""The GraphQL schema: resolvers translate arguments, call the core, and convert results.

Queries raise typed GraphQL errors (``extensions.code`` and ``extensions.field``) for bad
input; mutations return expected failures as union members and change nothing when they fail.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import Info

from ..engine import ContextEntry, custom_policy_set, decide_custom, parse_document
from ..errors import GraphsimError, InvalidRequestError, PolicyValidationError, Problem
from ..policy import PolicyDocument, PolicyKind
from ..workspace import Workspace
from ..world import NodeKind
from ..world.graph import parse_with_catalog
from . import types as t
from .reviews import ReviewQuery

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_SIMULATIONS = 10_000  # actions x resources in one simulate call


class ApiError(GraphQLError):
    """An expected failure of a query; never masked."""


def _raise(exc: GraphsimError) -> ApiError:
    return ApiError(exc.message, extensions=exc.extensions())


F = TypeVar("F", bound=Callable[..., Any])


def typed_errors(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphsimError as exc:
            raise _raise(exc) from exc

    return wrapper  # type: ignore[return-value]


def run(action: Callable[[], Any]) -> Any:
    """Call ``action``, turning an expected failure into a typed GraphQL error."""
    try:
        return action()
    except GraphsimError as exc:
        raise _raise(exc) from exc


def mutation_result(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphsimError as exc:
            return t.user_error(exc)

    return wrapper  # type: ignore[return-value]


def _ws(info: Info) -> Workspace:
    return info.context["workspace"]


def _apply(info: Info, world: Any, op: str, *args: Any, **kwargs: Any) -> Any:
    """One mutation through the workspace, recorded under the GraphQL mutation's name."""
    return _ws(info).apply(world, op, *args, via=info.field_name, **kwargs)


def _context(entries: list[t.ContextEntryInput] | None) -> list[ContextEntry]:
    return [ContextEntry(e.context_key_name, tuple(e.context_key_values), e.context_key_type) for e in entries or []]


def _check_size(actions: list[str], resources: list[str]) -> None:
    if not actions:
        raise InvalidRequestError("actionNames must name at least one action", field="actionNames")
    if not resources:
        raise InvalidRequestError("resourceArns must name at least one resource (or '*')", field="resourceArns")
    if len(actions) * len(resources) > MAX_SIMULATIONS:
        raise InvalidRequestError(f"at most {MAX_SIMULATIONS} action x resource pairs per call", field="actionNames")


@strawberry.type
class BaseQuery:
    @strawberry.field(description="Can PRINCIPAL (user or role, by name or ARN) do ACTION on RESOURCE (ARN, '*', or a bucket name)?")
    @typed_errors
    def can(
        self,
        info: Info,
        principal: str,
        action: str,
        resource: str,
        context: list[t.ContextEntryInput] | None = None,
        world: str | None = None,
        session_policy: Annotated[str | None, strawberry.argument(description="A session policy (JSON), for a role or session principal.")] = None,
        via_roles: Annotated[bool, strawberry.argument(description="If not allowed directly, also try the roles the principal can assume.")] = False,
    ) -> t.Decision:
        engine = _ws(info).engine(world)
        return t.Decision.of(engine.can(principal, action, resource, _context(context), session_policy=session_policy, via_roles=via_roles))

    @strawberry.field(description="The roles a principal may assume: the can-assume edges, each with its trust and identity statements.")
    @typed_errors
    def assumable_roles(self, info: Info, principal: str, world: str | None = None) -> list[t.AssumeEdge]:
        engine = _ws(info).engine(world)
        key, _ = engine.resolve_principal(principal)
        return [t.AssumeEdge(principal=key, role=role, decision=t.Decision.of(d)) for role, d in engine.assumable_roles(key)]

    @strawberry.field(description="Every can-assume edge of the world: who may assume which role, each with its decision.")
    @typed_errors
    def can_assume_edges(self, info: Info, world: str | None = None) -> list[t.AssumeEdge]:
        engine = _ws(info).engine(world)
        return [t.AssumeEdge(principal=p, role=r, decision=t.Decision.of(d)) for p, r, d in engine.can_assume_graph()]

    @strawberry.field(description="AWS's SimulatePrincipalPolicy: a user's (with its groups'), group's or role's policies.")
    @typed_errors
    def simulate_principal_policy(self, info: Info, input: t.SimulatePrincipalPolicyInput) -> list[t.EvaluationResult]:
        engine = _ws(info).engine(input.world)
        _check_size(input.action_names, input.resource_arns)
        extra = _parse_documents(input.policy_input_list)
        boundary = _boundary_input(input.permissions_boundary_policy_input_list)
        decisions = engine.simulate_principal(
            input.policy_source_arn, input.action_names, input.resource_arns, _context(input.context_entries), extra,
            None if boundary is None else parse_document(boundary, PolicyKind.BOUNDARY, "permissionsBoundaryPolicyInputList[0]"),
        )
        return [t.EvaluationResult.of(d) for d in decisions]

    @strawberry.field(description="AWS's SimulateCustomPolicy: identity policies given as JSON documents.")
    @typed_errors
    def simulate_custom_policy(self, info: Info, input: t.SimulateCustomPolicyInput) -> list[t.EvaluationResult]:
        _check_size(input.action_names, input.resource_arns)
        identity = custom_policy_set(_parse_documents(input.policy_input_list))
        options = {
            "caller_arn": input.caller_arn,
            "resource_policy": input.resource_policy,
            "resource_owner": input.resource_owner,
            "permissions_boundary": _boundary_input(input.permissions_boundary_policy_input_list),
            "session_policy": input.session_policy,
            "scps": input.service_control_policy_input_list,
            "rcps": input.resource_control_policy_input_list,
            "management_account": input.management_account,
        }
        context = _context(input.context_entries)
        return [
            t.EvaluationResult.of(decide_custom(identity, a, r, context, **options))  # type: ignore[arg-type]
            for a in input.action_names
            for r in input.resource_arns
        ]

    @strawberry.field(description="Browse a world (the default world when no name is given).")
    @typed_errors
    def world(self, info: Info, name: str | None = None) -> t.WorldView:
        ws = _ws(info)
        return t.WorldView.of(ws.world(name), ws.history if ws.store is not None else None)

    @strawberry.field(description="The worlds this server holds; the default one first.")
    def worlds(self, info: Info) -> list[t.WorldSummary]:
        ws = _ws(info)
        records = sorted(ws.records(), key=lambda r: (r.name != ws.default, r.name))
        return [
            t.WorldSummary(name=r.name, version=ws.world(r.name).version, is_default=r.name == ws.default, created_at=r.created_at,
                           forked_from=r.forked_from, forked_at_version=r.forked_at_version)
            for r in records
        ]

    @strawberry.field(description="Validate an identity policy document without storing it.")
    def validate_policy(self, document: str) -> t.PolicyCheck:
        try:
            doc = parse_with_catalog(document, kind=PolicyKind.IDENTITY)
        except PolicyValidationError as exc:
            return t.PolicyCheck(valid=False, problems=[t.Problem.of(p) for p in exc.problems], warnings=[])
        return t.PolicyCheck(valid=True, problems=[], warnings=[t.Problem.of(w) for w in doc.warnings])


def _boundary_input(documents: list[str]) -> str | None:
    if len(documents) > 1:
        raise InvalidRequestError("a principal has at most one permissions boundary", field="permissionsBoundaryPolicyInputList")
    return documents[0] if documents else None


def _parse_documents(texts: list[str]) -> list[PolicyDocument]:
    """Parse every document, then report all problems at once with their list index."""
    docs: list[PolicyDocument] = []
    problems: list[Problem] = []
    for i, text in enumerate(texts):
        try:
            docs.append(parse_document(text, PolicyKind.IDENTITY, f"policyInputList[{i}]"))
        except PolicyValidationError as exc:
            problems.extend(exc.problems)  # already named by their place in the list
    if problems:
        raise PolicyValidationError(problems, field="policyInputList")
    return docs


_KIND = {"user": NodeKind.USER, "group": NodeKind.GROUP, "role": NodeKind.ROLE}


@strawberry.input
class TagInput:
    key: str
    value: str


@strawberry.type
class Mutation:
    @strawberry.mutation
    @mutation_result
    def create_user(self, info: Info, name: str, path: str = "/", tags: list[TagInput] | None = None, account: str | None = None, world: str | None = None) -> t.UserResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "add_user", name, path=path, account=account, tags={tg.key: tg.value for tg in tags or []})
        return t.UserPayload(user=t.User.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a user with its memberships, attachments and inline policies, as the console does.")
    @mutation_result
    def delete_user(self, info: Info, name: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "remove_entity", NodeKind.USER, name), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def create_group(self, info: Info, name: str, path: str = "/", account: str | None = None, world: str | None = None) -> t.GroupResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "add_group", name, path=path, account=account)
        return t.GroupPayload(group=t.Group.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a group with its memberships, attachments and inline policies.")
    @mutation_result
    def delete_group(self, info: Info, name: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "remove_entity", NodeKind.GROUP, name), world_version=w.version)

    @strawberry.mutation(description="Create a customer managed policy; the document is validated first.")
    @mutation_result
    def create_policy(self, info: Info, name: str, document: str, description: str = "", path: str = "/", account: str | None = None, world: str | None = None) -> t.PolicyResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "add_managed_policy", name, document, description=description, path=path, account=account)
        return t.PolicyPayload(policy=t.Policy.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Give a managed policy a new default version.")
    @mutation_result
    def update_policy(self, info: Info, policy: str, document: str, world: str | None = None) -> t.PolicyResult:
        w = _ws(info).world(world)
        _, pruned = _apply(info, w, "update_policy", policy, document)
        return t.PolicyPayload(policy=t.Policy.of(w, w.find(NodeKind.POLICY, policy)), world_version=w.version, pruned_version_id=pruned)

    @strawberry.mutation(description="Delete a managed policy; refused while it is attached, as in AWS.")
    @mutation_result
    def delete_policy(self, info: Info, policy: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "remove_managed_policy", policy), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a user.")
    @mutation_result
    def put_user_policy(self, info: Info, user: str, policy_name: str, document: str, world: str | None = None) -> t.PolicyResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "put_inline_policy", NodeKind.USER, user, policy_name, document)
        return t.PolicyPayload(policy=t.Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_user_policy(self, info: Info, user: str, policy_name: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "delete_inline_policy", NodeKind.USER, user, policy_name), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a group.")
    @mutation_result
    def put_group_policy(self, info: Info, group: str, policy_name: str, document: str, world: str | None = None) -> t.PolicyResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "put_inline_policy", NodeKind.GROUP, group, policy_name, document)
        return t.PolicyPayload(policy=t.Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_group_policy(self, info: Info, group: str, policy_name: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "delete_inline_policy", NodeKind.GROUP, group, policy_name), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def attach_user_policy(self, info: Info, user: str, policy: str, world: str | None = None) -> t.AttachmentResult:
        return _attach(info, "user", user, policy, world, attach=True)

    @strawberry.mutation
    @mutation_result
    def detach_user_policy(self, info: Info, user: str, policy: str, world: str | None = None) -> t.AttachmentResult:
        return _attach(info, "user", user, policy, world, attach=False)

    @strawberry.mutation
    @mutation_result
    def attach_group_policy(self, info: Info, group: str, policy: str, world: str | None = None) -> t.AttachmentResult:
        return _attach(info, "group", group, policy, world, attach=True)

    @strawberry.mutation
    @mutation_result
    def detach_group_policy(self, info: Info, group: str, policy: str, world: str | None = None) -> t.AttachmentResult:
        return _attach(info, "group", group, policy, world, attach=False)

    @strawberry.mutation
    @mutation_result
    def add_user_to_group(self, info: Info, user: str, group: str, world: str | None = None) -> t.MembershipResult:
        w = _ws(info).world(world)
        u, g = _apply(info, w, "add_member", user, group)
        return t.MembershipPayload(user=t.User.of(w, u), group=t.Group.of(w, g), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def remove_user_from_group(self, info: Info, user: str, group: str, world: str | None = None) -> t.MembershipResult:
        w = _ws(info).world(world)
        u, g = _apply(info, w, "remove_member", user, group)
        return t.MembershipPayload(user=t.User.of(w, u), group=t.Group.of(w, g), world_version=w.version)


    @strawberry.mutation(description="Create a role with its trust policy (the role's resource-based policy).")
    @mutation_result
    def create_role(self, info: Info, name: str, trust_policy: str, path: str = "/", description: str = "", tags: list[TagInput] | None = None, account: str | None = None, world: str | None = None) -> t.RoleResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "add_role", name, trust_policy, path=path, description=description, account=account, tags={tg.key: tg.value for tg in tags or []})
        return t.RolePayload(role=t.Role.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Delete a role with its attachments, inline policies and trust policy.")
    @mutation_result
    def delete_role(self, info: Info, name: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "remove_entity", NodeKind.ROLE, name), world_version=w.version)

    @strawberry.mutation(description="AWS's UpdateAssumeRolePolicy: replace a role's trust policy.")
    @mutation_result
    def update_assume_role_policy(self, info: Info, role: str, document: str, world: str | None = None) -> t.RoleResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "update_trust_policy", role, document)
        return t.RolePayload(role=t.Role.of(w, key), world_version=w.version)

    @strawberry.mutation(description="Create or replace an inline policy of a role.")
    @mutation_result
    def put_role_policy(self, info: Info, role: str, policy_name: str, document: str, world: str | None = None) -> t.PolicyResult:
        w = _ws(info).world(world)
        key = _apply(info, w, "put_inline_policy", NodeKind.ROLE, role, policy_name, document)
        return t.PolicyPayload(policy=t.Policy.of(w, key), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_role_policy(self, info: Info, role: str, policy_name: str, world: str | None = None) -> t.DeleteResult:
        w = _ws(info).world(world)
        return t.DeletePayload(deleted=_apply(info, w, "delete_inline_policy", NodeKind.ROLE, role, policy_name), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def attach_role_policy(self, info: Info, role: str, policy: str, world: str | None = None) -> t.AttachmentResult:
        return _attach(info, "role", role, policy, world, attach=True)

    @strawberry.mutation
    @mutation_result
    def detach_role_policy(self, info: Info, role: str, policy: str, world: str | None = None) -> t.AttachmentResult:
        return _attach(info, "role", role, policy, world, attach=False)

    @strawberry.mutation(description="Set a user's permissions boundary (a managed policy), replacing any other.")
    @mutation_result
    def put_user_permissions_boundary(self, info: Info, user: str, policy: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        key, _ = _apply(info, w, "set_boundary", NodeKind.USER, user, policy)
        return t.ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_user_permissions_boundary(self, info: Info, user: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "delete_boundary", NodeKind.USER, user), world_version=w.version)

    @strawberry.mutation(description="Set a role's permissions boundary (a managed policy), replacing any other.")
    @mutation_result
    def put_role_permissions_boundary(self, info: Info, role: str, policy: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        key, _ = _apply(info, w, "set_boundary", NodeKind.ROLE, role, policy)
        return t.ChangePayload(changed=key, world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_role_permissions_boundary(self, info: Info, role: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "delete_boundary", NodeKind.ROLE, role), world_version=w.version)

    @strawberry.mutation(description="Set the resource-based policy of an ARN (bucket policy, key policy, queue policy, ...).")
    @mutation_result
    def put_resource_policy(self, info: Info, arn: str, document: str, account: str | None = None, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "put_resource_policy", arn, document, account=account), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def delete_resource_policy(self, info: Info, arn: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "delete_resource_policy", arn), world_version=w.version)

    @strawberry.mutation(description="Add an account (12 digits) to the world.")
    @mutation_result
    def create_account(self, info: Info, id: str, alias: str | None = None, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "add_account", id, alias=alias), world_version=w.version)

    @strawberry.mutation(description="Create the organization, with its management account.")
    @mutation_result
    def create_organization(self, info: Info, management_account: str, root_id: str = "r-root", world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "create_organization", management_account, root_id=root_id), world_version=w.version)

    @strawberry.mutation
    @mutation_result
    def create_organizational_unit(self, info: Info, name: str, parent: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "add_ou", name, parent), world_version=w.version)

    @strawberry.mutation(description="Place an account under the root or an OU.")
    @mutation_result
    def move_account(self, info: Info, account: str, parent: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "place_account", account, parent), world_version=w.version)

    @strawberry.mutation(description='Create an SCP (type "scp") or RCP (type "rcp").')
    @mutation_result
    def create_org_policy(self, info: Info, name: str, type: str, document: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        return t.ChangePayload(changed=_apply(info, w, "add_org_policy", name, type, document), world_version=w.version)

    @strawberry.mutation(description="Attach an SCP or RCP to the root, an OU or an account.")
    @mutation_result
    def attach_org_policy(self, info: Info, policy: str, target: str, world: str | None = None) -> t.ChangeResult:
        w = _ws(info).world(world)
        policy_key, target_key = _apply(info, w, "attach_org_policy", policy, target)
        return t.ChangePayload(changed=f"{policy_key} -> {target_key}", world_version=w.version)


    @strawberry.mutation(description="Import AWS exports (authorization details, bucket policies, an organizations folder) or native world files as one world, in one change.")
    @mutation_result
    def import_world(self, info: Info, name: str, files: list[t.ImportFileInput], replace: bool = False) -> t.WorldResult:
        from ..store.importers import import_sources, parse_text

        ws = _ws(info)
        result = import_sources([(f.name, parse_text(f.name, f.content)) for f in files], name=name)
        world = ws.import_world(name, result.world, replace=replace, sources=[f.name for f in files])
        findings = [t.Finding(source=f.source, path=f.path, message=f.message, severity=f.severity) for f in result.findings]
        return t.WorldPayload(world=t.WorldView.of(world, ws.history if ws.store else None), findings=findings)

    @strawberry.mutation(description="Copy a world under a new name, for what-if work; its history comes along.")
    @mutation_result
    def fork_world(self, info: Info, source: str, name: str) -> t.WorldResult:
        ws = _ws(info)
        return t.WorldPayload(world=t.WorldView.of(ws.fork(source, name), ws.history if ws.store else None), findings=[])

    @strawberry.mutation(description="Delete a world and its history (not the default world).")
    @mutation_result
    def delete_world(self, info: Info, name: str) -> t.DeleteResult:
        ws = _ws(info)
        ws.delete(name)
        return t.DeletePayload(deleted=name, world_version=0)


def _attach(info: Info, kind: str, owner: str, policy: str, world: str | None, *, attach: bool) -> t.AttachmentPayload:
    w = _ws(info).world(world)
    owner_key, policy_key = _apply(info, w, "attach_policy" if attach else "detach_policy", _KIND[kind], owner, policy)
    return t.AttachmentPayload(policy=t.Policy.of(w, policy_key), holder=w.node(owner_key)["label"], world_version=w.version)


def _mask(error: GraphQLError) -> bool:
    # Mask only unexpected exceptions raised by resolvers; keep validation and typed errors.
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class GraphsimSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected failures are answers, not incidents: log only the unexpected ones.
        unexpected = [e for e in errors if not isinstance(e.original_error, ApiError)]
        if unexpected:
            super().process_errors(unexpected, execution_context)


Query = merge_types("Query", (BaseQuery, ReviewQuery))


def build_schema() -> strawberry.Schema:
    return GraphsimSchema(
        query=Query,
        mutation=Mutation,
        types=[t.InvalidPolicy, t.InvalidImport, t.NotFound, t.Conflict, t.InvalidInput],
        config=StrawberryConfig(),
        extensions=[
            lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: MaskErrors(should_mask_error=_mask),
        ],
    )


schema = build_schema()
