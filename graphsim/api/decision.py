"""GraphQL views of a decision: the ``Decision`` of ``can`` and AWS's ``EvaluationResult`` of the
simulate queries, with their matched statements, paths and per-layer details."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from ..engine import Decision as DomainDecision
from ..engine import DecisionKind as DomainDecisionKind
from ..engine import Layer as DomainLayer
from ..engine import MatchedStatement as DomainMatched
from ..engine import explain
from ..policy import Effect as DomainEffect
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

    @strawberry.field(description="The explanation as a list of lines, for reading in GraphiQL and drawing in a page.")
    def explanation_lines(self) -> list[str]:
        return self.explanation.splitlines()

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

    @strawberry.field(description="The explanation as a list of lines.")
    def explanation_lines(self) -> list[str]:
        return self.explanation.splitlines()

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


@strawberry.type(description="A can-assume edge: principal may assume role, as the decision shows.")
class AssumeEdge:
    principal: str
    role: str
    decision: Decision
