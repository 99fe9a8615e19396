"""GraphQL types: thin views converted from domain objects. No evaluation rules live here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from ..engine import Decision as DomainDecision
from ..engine import DecisionKind as DomainDecisionKind
from ..engine import Layer as DomainLayer
from ..engine import MatchedStatement as DomainMatched
from ..engine import explain
from ..errors import ConflictError, GraphsimError, NotFoundError, PolicyValidationError
from ..errors import Problem as DomainProblem
from ..policy import Effect as DomainEffect
from ..policy import Statement as DomainStatement
from ..world import EdgeKind, NodeKind, World
from ..world import PathStep as DomainPathStep
from ..world import PolicyType as DomainPolicyType

DecisionKind = strawberry.enum(DomainDecisionKind, name="DecisionKind", description="ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY (AWS: allowed, explicitDeny, implicitDeny).")
Layer = strawberry.enum(DomainLayer, name="Layer", description="A kind of policy in AWS's evaluation.")
Effect = strawberry.enum(DomainEffect, name="Effect")
PolicyType = strawberry.enum(DomainPolicyType, name="PolicyType", description="AWS simulator's SourcePolicyType.")


@strawberry.type(description="One node on a path from the principal to a statement, and the edge that led there.")
class PathStep:
    node: str
    kind: str
    label: str
    via: str | None = strawberry.field(description="The edge kind (member-of, attached, inline), null for the first node.")
    provenance: str | None = strawberry.field(description="Which world file or mutation made the edge.")

    @classmethod
    def of(cls, step: DomainPathStep) -> PathStep:
        return cls(node=step.node, kind=step.kind.value, label=step.label, via=step.via.value if step.via else None, provenance=step.provenance)


@strawberry.type(description="A statement that decided the request, with the graph path that brought it.")
class MatchedStatement:
    policy: str
    policy_arn: str | None
    policy_type: PolicyType  # type: ignore[valid-type]
    sid: str | None
    statement_index: int
    effect: Effect  # type: ignore[valid-type]
    layer: Layer  # type: ignore[valid-type]
    path: str = strawberry.field(description="e.g. user/newbie -> group/HR -> policy/HRReports -> Statement[0] (Sid ReadReports)")
    path_steps: list[PathStep]
    statement: JSON

    @classmethod
    def of(cls, m: DomainMatched) -> MatchedStatement:
        return cls(
            policy=m.policy, policy_arn=m.policy_arn, policy_type=m.policy_type, sid=m.sid, statement_index=m.index,
            effect=m.effect, layer=m.layer, path=m.path_text, path_steps=[PathStep.of(s) for s in m.path], statement=JSON(dict(m.raw)),
        )


@strawberry.type
class LayerVerdict:
    layer: Layer  # type: ignore[valid-type]
    decision: DecisionKind  # type: ignore[valid-type]


@strawberry.type(description="What would change the answer.")
class FixHint:
    summary: str
    statement: JSON | None = strawberry.field(description="For an implicit deny: a statement that would allow the request.")


@strawberry.type
class PermissionsBoundaryDecisionDetail:
    allowed_by_permissions_boundary: bool


@strawberry.type
class OrganizationsDecisionDetail:
    allowed_by_organizations: bool


@strawberry.type(description="One hop of a role chain: source may assume role, as the decision shows.")
class AssumeStep:
    source: str
    role: str
    decision: Decision


@strawberry.type(description="How the principal reaches the answer by assuming roles (can with viaRoles: true).")
class RoleRoute:
    roles: list[str]
    steps: list[AssumeStep]
    decision: Decision = strawberry.field(description="The request asked as a session of the last role.")


@strawberry.type(description="The answer to one access question, and why.")
class Decision:
    decision: DecisionKind  # type: ignore[valid-type]
    allowed: bool
    principal: str
    action: str
    resource: str
    explanation: str
    matched_statements: list[MatchedStatement] = strawberry.field(description="On a deny, only the denying statements, as in AWS's simulator.")
    missing_context_values: list[str] = strawberry.field(description="Keys a statement that applies reads but the request lacks.")
    blocked_by: Layer | None  # type: ignore[valid-type]
    layer_verdicts: list[LayerVerdict]
    warnings: list[str]
    fix_hint: FixHint | None
    allowed_by_organizations: bool | None = strawberry.field(description="False when an SCP or RCP blocks; null when none applies.")
    allowed_by_permissions_boundary: bool | None = strawberry.field(description="Null when the principal has no boundary.")
    via_role: RoleRoute | None = strawberry.field(description="Only with viaRoles: true and a request not allowed directly.")

    @strawberry.field(description="As in AWS's EvaluationResult; null when the principal has no boundary.")
    def permissions_boundary_decision_detail(self) -> PermissionsBoundaryDecisionDetail | None:
        if self.allowed_by_permissions_boundary is None:
            return None
        return PermissionsBoundaryDecisionDetail(allowed_by_permissions_boundary=self.allowed_by_permissions_boundary)

    @strawberry.field(description="As in AWS's EvaluationResult; null when no SCP or RCP applies.")
    def organizations_decision_detail(self) -> OrganizationsDecisionDetail | None:
        if self.allowed_by_organizations is None:
            return None
        return OrganizationsDecisionDetail(allowed_by_organizations=self.allowed_by_organizations)

    @classmethod
    def of(cls, d: DomainDecision) -> Decision:
        route = None
        if d.via_role is not None:
            route = RoleRoute(
                roles=[s.role for s in d.via_role.steps],
                steps=[AssumeStep(source=s.source, role=s.role, decision=Decision.of(s.decision)) for s in d.via_role.steps],
                decision=Decision.of(d.via_role.decision),
            )
        return cls(
            decision=d.decision, allowed=d.allowed, principal=d.principal, action=d.action, resource=d.resource,
            explanation=explain(d), matched_statements=[MatchedStatement.of(m) for m in d.matched_statements],
            missing_context_values=list(d.missing_context_values), blocked_by=d.blocked_by,
            layer_verdicts=[LayerVerdict(layer=v.layer, decision=v.decision) for v in d.layer_verdicts],
            warnings=list(d.warnings),
            fix_hint=None if d.fix is None else FixHint(summary=d.fix.summary, statement=None if d.fix.statement is None else JSON(d.fix.statement)),
            allowed_by_organizations=d.allowed_by_organizations,
            allowed_by_permissions_boundary=d.allowed_by_boundary,
            via_role=route,
        )


@strawberry.type(description="One (action, resource) result, with AWS's EvaluationResult field names.")
class EvaluationResult:
    eval_action_name: str
    eval_resource_name: str
    eval_decision: DecisionKind  # type: ignore[valid-type]
    matched_statements: list[MatchedStatement]
    missing_context_values: list[str]
    permissions_boundary_decision_detail: PermissionsBoundaryDecisionDetail | None
    organizations_decision_detail: OrganizationsDecisionDetail | None
    blocked_by: Layer | None  # type: ignore[valid-type]
    layer_verdicts: list[LayerVerdict]
    explanation: str
    warnings: list[str]

    @classmethod
    def of(cls, d: DomainDecision) -> EvaluationResult:
        return cls(
            eval_action_name=d.action, eval_resource_name=d.resource, eval_decision=d.decision,
            matched_statements=[MatchedStatement.of(m) for m in d.matched_statements],
            missing_context_values=list(d.missing_context_values),
            permissions_boundary_decision_detail=None
            if d.allowed_by_boundary is None
            else PermissionsBoundaryDecisionDetail(allowed_by_permissions_boundary=d.allowed_by_boundary),
            organizations_decision_detail=None
            if d.allowed_by_organizations is None
            else OrganizationsDecisionDetail(allowed_by_organizations=d.allowed_by_organizations),
            blocked_by=d.blocked_by,
            layer_verdicts=[LayerVerdict(layer=v.layer, decision=v.decision) for v in d.layer_verdicts],
            explanation=explain(d), warnings=list(d.warnings),
        )


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


# ---- errors returned as data ----------------------------------------------------------------


@strawberry.type
class Problem:
    path: str
    rule: str

    @classmethod
    def of(cls, p: DomainProblem) -> Problem:
        return cls(path=p.path, rule=p.rule)


@strawberry.interface(description="An expected failure: which field, and why. Nothing was changed.")
class UserError:
    message: str
    field: str | None
    code: str


@strawberry.type(description="A policy document broke the grammar; every problem is listed with its JSON path.")
class InvalidPolicy(UserError):
    problems: list[Problem]


@strawberry.type
class SourceProblem:
    source: str
    path: str
    rule: str


@strawberry.type(description="An import could not be made: each problem names its file and JSON path. Nothing was written.")
class InvalidImport(UserError):
    problems: list[SourceProblem]


@strawberry.type
class NotFound(UserError):
    kind: str
    name: str


@strawberry.type
class Conflict(UserError):
    pass


@strawberry.type
class InvalidInput(UserError):
    pass


def user_error(exc: GraphsimError) -> InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput:
    message, field, code = exc.message, exc.field, exc.code
    if not isinstance(exc, PolicyValidationError) and hasattr(exc, "problems"):
        # ImportFileError (with per-file problems) and WorldFileError.
        extensions = exc.extensions()
        raw = extensions.get("problems", [])
        problems = [
            SourceProblem(source=str(p.get("source", getattr(exc, "source", ""))), path=str(p["path"]), rule=str(p["rule"]))
            for p in raw  # type: ignore[attr-defined]
        ]
        return InvalidImport(message=message, field=field, code=code, problems=problems)
    if isinstance(exc, PolicyValidationError):
        return InvalidPolicy(message=message, field=field, code=code, problems=[Problem.of(p) for p in exc.problems])
    if isinstance(exc, NotFoundError):
        return NotFound(message=message, field=field, code=code, kind=exc.kind, name=exc.name)
    if isinstance(exc, ConflictError):
        return Conflict(message=message, field=field, code=code)
    return InvalidInput(message=message, field=field, code=code)


# ---- the world, for browsing ----------------------------------------------------------------


@strawberry.type
class Tag:
    key: str
    value: str


def _tags(data: Mapping[str, Any]) -> list[Tag]:
    return [Tag(key=k, value=v) for k, v in sorted(data.get("tags", {}).items())]


@strawberry.type
class Statement:
    index: int
    sid: str | None
    label: str
    effect: Effect  # type: ignore[valid-type]
    actions: list[str]
    not_actions: list[str]
    resources: list[str]
    not_resources: list[str]
    condition: JSON | None

    @classmethod
    def of(cls, st: DomainStatement) -> Statement:
        acts = list(st.actions.patterns)
        res = [p.text for p in st.resources.patterns] if st.resources else []
        return cls(
            index=st.index, sid=st.sid, label=st.label, effect=st.effect,
            actions=[] if st.not_action else acts, not_actions=acts if st.not_action else [],
            resources=[] if st.not_resource else res, not_resources=res if st.not_resource else [],
            condition=st.raw.get("Condition"),
        )


@strawberry.type
class PolicyVersion:
    version_id: str
    is_default: bool
    create_date: str
    document: JSON


@strawberry.type(description="A managed or inline identity policy.")
class Policy:
    key: strawberry.ID
    name: str
    arn: str | None
    inline: bool
    policy_type: PolicyType  # type: ignore[valid-type]
    description: str
    document: JSON
    statements: list[Statement]
    warnings: list[Problem]
    versions: list[PolicyVersion]
    default_version_id: str | None
    attached_to: list[str] = strawberry.field(description="Labels of the users, groups and roles holding it.")

    @classmethod
    def of(cls, world: World, key: str) -> Policy:
        data = world.node(key)
        doc = data["document"]
        inline = data["kind"] is NodeKind.INLINE_POLICY
        if inline:
            owner_kind = world.node(data["owner"])["kind"]
            ptype = {NodeKind.USER: DomainPolicyType.USER, NodeKind.GROUP: DomainPolicyType.GROUP}.get(owner_kind, DomainPolicyType.ROLE)
            holders = [world.node(data["owner"])["label"]]
            versions: list[PolicyVersion] = []
            default = None
        else:
            ptype = DomainPolicyType.AWS_MANAGED if data["account"] == "aws" else DomainPolicyType.USER_MANAGED
            holders = sorted(world.node(s)["label"] for s, _ in world.in_edges(key, EdgeKind.ATTACHED))
            versions = [
                PolicyVersion(version_id=v["versionId"], is_default=v["isDefault"], create_date=v["createDate"], document=JSON(dict(v["document"].raw)))
                for v in data["versions"]
            ]
            default = next(v.version_id for v in versions if v.is_default)
        return cls(
            key=strawberry.ID(key), name=data["name"], arn=data.get("arn"), inline=inline, policy_type=ptype,
            description=data.get("description", ""), document=JSON(dict(doc.raw)), statements=[Statement.of(s) for s in doc.statements],
            warnings=[Problem.of(w) for w in doc.warnings], versions=versions, default_version_id=default, attached_to=holders,
        )


def _policies_of(world: World, key: str) -> list[Policy]:
    out = [Policy.of(world, p) for p, _ in sorted(world.out_edges(key, EdgeKind.INLINE))]
    out += [Policy.of(world, p) for p, _ in sorted(world.out_edges(key, EdgeKind.ATTACHED))]
    return out


def _boundary_of(world: World, key: str) -> Policy | None:
    boundary = world.boundary_of(key)
    return None if boundary is None else Policy.of(world, boundary)


@strawberry.type
class Group:
    arn: str
    name: str
    id: str
    account: str
    path: str
    _world: strawberry.Private[World]

    @classmethod
    def of(cls, world: World, key: str) -> Group:
        d = world.node(key)
        return cls(arn=key, name=d["name"], id=d["unique_id"], account=d["account"], path=d["path"], _world=world)

    @strawberry.field(description="The group's own inline and attached policies.")
    def policies(self) -> list[Policy]:
        return _policies_of(self._world, self.arn)

    @strawberry.field
    def users(self) -> list[User]:
        return [User.of(self._world, u) for u, _ in sorted(self._world.in_edges(self.arn, EdgeKind.MEMBER_OF))]


@strawberry.type
class User:
    arn: str
    name: str
    id: str
    account: str
    path: str
    tags: list[Tag]
    _world: strawberry.Private[World]

    @classmethod
    def of(cls, world: World, key: str) -> User:
        d = world.node(key)
        return cls(arn=key, name=d["name"], id=d["unique_id"], account=d["account"], path=d["path"], tags=_tags(d), _world=world)

    @strawberry.field
    def groups(self) -> list[Group]:
        return [Group.of(self._world, g) for g, _ in sorted(self._world.out_edges(self.arn, EdgeKind.MEMBER_OF))]

    @strawberry.field(description="The user's own inline and attached policies (not its groups').")
    def policies(self) -> list[Policy]:
        return _policies_of(self._world, self.arn)

    @strawberry.field
    def permissions_boundary(self) -> Policy | None:
        return _boundary_of(self._world, self.arn)


@strawberry.type
class Role:
    arn: str
    name: str
    id: str
    account: str
    path: str
    description: str
    tags: list[Tag]
    trust_policy: JSON
    _world: strawberry.Private[World]

    @classmethod
    def of(cls, world: World, key: str) -> Role:
        d = world.node(key)
        return cls(
            arn=key, name=d["name"], id=d["unique_id"], account=d["account"], path=d["path"], description=d.get("description", ""),
            tags=_tags(d), trust_policy=JSON(dict(world.trust_policy(key)[1].raw)), _world=world,
        )

    @strawberry.field
    def policies(self) -> list[Policy]:
        return _policies_of(self._world, self.arn)

    @strawberry.field
    def permissions_boundary(self) -> Policy | None:
        return _boundary_of(self._world, self.arn)


@strawberry.type
class Resource:
    arn: str
    name: str
    type: str
    account: str | None
    policy: JSON | None = strawberry.field(description="Its resource-based policy (bucket policy, key policy, ...), if any.")


@strawberry.type(description="An SCP or RCP.")
class OrgPolicy:
    name: str
    type: str
    document: JSON
    attached_to: list[str]


@strawberry.type(description="The root or an OU, with its children and the SCPs/RCPs attached to it.")
class OrgUnit:
    id: str
    name: str
    kind: str
    parent: str | None
    accounts: list[str]
    policies: list[str]


@strawberry.type
class Organization:
    management_account: str
    units: list[OrgUnit]
    policies: list[OrgPolicy]

    @classmethod
    def of(cls, world: World) -> Organization | None:
        root = world.org_root
        if root is None:
            return None
        units = []
        for key, d in sorted([*world.nodes_of(NodeKind.ORG_ROOT), *world.nodes_of(NodeKind.OU)]):
            parent = next((p for p, _ in world.out_edges(key, EdgeKind.CHILD_OF)), None)
            accounts = sorted(world.node(a)["account"] for a, _ in world.in_edges(key, EdgeKind.CHILD_OF) if world.node(a)["kind"] is NodeKind.ACCOUNT)
            units.append(OrgUnit(
                id=key, name=d["name"], kind=d["kind"].value, parent=parent, accounts=accounts,
                policies=[world.node(p)["label"] for p, _ in sorted(world.out_edges(key, EdgeKind.GOVERNED_BY_ORG))],
            ))
        policies = [
            OrgPolicy(name=d["name"], type=d["policy_type"], document=JSON(dict(d["document"].raw)),
                      attached_to=sorted(world.node(t)["label"] for t, _ in world.in_edges(k, EdgeKind.GOVERNED_BY_ORG)))
            for k, d in sorted(world.nodes_of(NodeKind.ORG_POLICY))
        ]
        return cls(management_account=world.node(root)["management_account"], units=units, policies=policies)


@strawberry.type(description="A can-assume edge: principal may assume role, as the decision shows.")
class AssumeEdge:
    principal: str
    role: str
    decision: Decision


@strawberry.type(description="One committed change to a world.")
class HistoryEntry:
    version: int
    at: str
    mutation: str = strawberry.field(description="The world operation (add_user, importWorld, forkWorld, ...).")
    summary: str = strawberry.field(description="The API mutation that made it, and what it named.")
    arguments: JSON


@strawberry.type(description="A world the server holds.")
class WorldSummary:
    name: str
    version: int
    is_default: bool
    created_at: str
    forked_from: str | None
    forked_at_version: int | None


@strawberry.type(description="One IAM configuration snapshot.")
class WorldView:
    name: str
    description: str
    version: int = strawberry.field(description="How many changes have been committed to this world.")
    accounts: list[str]
    _world: strawberry.Private[World]
    _history: strawberry.Private[Any]

    @classmethod
    def of(cls, world: World, history: Any = None) -> WorldView:
        return cls(name=world.name, description=world.description, version=world.version, accounts=world.accounts(), _world=world, _history=history)

    @strawberry.field(description="Committed changes, newest first (empty for a world that is not stored).")
    def history(self, limit: int = 50) -> list[HistoryEntry]:
        if self._history is None:
            return []
        return [
            HistoryEntry(version=c.version, at=c.at, mutation=c.mutation, summary=c.summary, arguments=JSON(dict(c.args)))
            for c in self._history(self.name, limit=max(1, min(limit, 1000)))
        ]

    @strawberry.field
    def users(self) -> list[User]:
        return [User.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.USER))]

    @strawberry.field
    def groups(self) -> list[Group]:
        return [Group.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.GROUP))]

    @strawberry.field
    def roles(self) -> list[Role]:
        return [Role.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.ROLE))]

    @strawberry.field(description="Managed policies (customer and AWS managed).")
    def policies(self) -> list[Policy]:
        return [Policy.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.POLICY))]

    @strawberry.field
    def resources(self) -> list[Resource]:
        return [
            Resource(arn=k, name=d["name"], type=d["resource_type"], account=d.get("account"), policy=_resource_policy_json(self._world, k))
            for k, d in sorted(self._world.nodes_of(NodeKind.RESOURCE))
        ]

    @strawberry.field
    def organization(self) -> Organization | None:
        return Organization.of(self._world)

    @strawberry.field
    def user(self, name: str) -> User | None:
        return _maybe(self._world, NodeKind.USER, name, User.of)

    @strawberry.field
    def group(self, name: str) -> Group | None:
        return _maybe(self._world, NodeKind.GROUP, name, Group.of)

    @strawberry.field(description="A managed policy by name or ARN.")
    def policy(self, name: str) -> Policy | None:
        return _maybe(self._world, NodeKind.POLICY, name, Policy.of)

    @strawberry.field
    def role(self, name: str) -> Role | None:
        return _maybe(self._world, NodeKind.ROLE, name, Role.of)


def _resource_policy_json(world: World, key: str) -> JSON | None:
    policy = world.resource_policy(key)
    return None if policy is None else JSON(dict(world.node(policy)["document"].raw))


def _maybe(world: World, kind: NodeKind, name: str, make: Any) -> Any:
    try:
        return make(world, world.find(kind, name))
    except NotFoundError:
        return None


# ---- mutation payloads ------------------------------------------------------------------------


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


@strawberry.input(description="One file to import: its name (which tells its format, e.g. NAME.bucket-policy.json) and its text.")
class ImportFileInput:
    name: str
    content: str = strawberry.field(
        description="JSON (or YAML for a native world file). For an aws organizations folder: a JSON object of file name -> that file's JSON."
    )


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
