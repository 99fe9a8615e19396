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


@strawberry.type(description="The world, and its version, that answered a question.")
class AnsweringWorld:
    name: str
    version: int = strawberry.field(description="The world's version when it answered: how many changes had been committed to it.")


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
    _m: strawberry.Private[DomainMatched]

    @classmethod
    def of(cls, m: DomainMatched) -> MatchedStatement:
        return cls(_m=m)

    @strawberry.field
    def policy(self) -> str:
        return self._m.policy

    @strawberry.field
    def policy_arn(self) -> str | None:
        return self._m.policy_arn

    @strawberry.field
    def policy_type(self) -> PolicyType:  # type: ignore[valid-type]
        return self._m.policy_type

    @strawberry.field
    def sid(self) -> str | None:
        return self._m.sid

    @strawberry.field
    def statement_index(self) -> int:
        return self._m.index

    @strawberry.field
    def effect(self) -> Effect:  # type: ignore[valid-type]
        return self._m.effect

    @strawberry.field
    def layer(self) -> Layer:  # type: ignore[valid-type]
        return self._m.layer

    @strawberry.field(description="e.g. user/newbie -> group/HR -> policy/HRReports -> Statement[0] (Sid ReadReports)")
    def path(self) -> str:
        return self._m.path_text

    @strawberry.field
    def path_steps(self) -> list[PathStep]:
        return [PathStep.of(s) for s in self._m.path]

    @strawberry.field
    def statement(self) -> JSON:
        return JSON(dict(self._m.raw))


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


# Fields shared by Decision and EvaluationResult, each computed only when a query asks for it.


def _matched(d: DomainDecision) -> list[MatchedStatement]:
    return [MatchedStatement.of(m) for m in d.matched_statements]


def _verdicts(d: DomainDecision) -> list[LayerVerdict]:
    return [LayerVerdict(layer=v.layer, decision=v.decision) for v in d.layer_verdicts]


def _boundary_detail(d: DomainDecision) -> PermissionsBoundaryDecisionDetail | None:
    return None if d.allowed_by_boundary is None else PermissionsBoundaryDecisionDetail(allowed_by_permissions_boundary=d.allowed_by_boundary)


def _organizations_detail(d: DomainDecision) -> OrganizationsDecisionDetail | None:
    return None if d.allowed_by_organizations is None else OrganizationsDecisionDetail(allowed_by_organizations=d.allowed_by_organizations)


@strawberry.type(description="The answer to one access question, and why.")
class Decision:
    _d: strawberry.Private[DomainDecision]
    _world: strawberry.Private[AnsweringWorld | None] = None

    @classmethod
    def of(cls, d: DomainDecision, world: AnsweringWorld | None = None) -> Decision:
        return cls(_d=d, _world=world)

    @strawberry.field
    def decision(self) -> DecisionKind:  # type: ignore[valid-type]
        return self._d.decision

    @strawberry.field
    def allowed(self) -> bool:
        return self._d.allowed

    @strawberry.field
    def principal(self) -> str:
        return self._d.principal

    @strawberry.field
    def action(self) -> str:
        return self._d.action

    @strawberry.field
    def resource(self) -> str:
        return self._d.resource

    @strawberry.field
    def explanation(self) -> str:
        return explain(self._d)

    @strawberry.field(description="On a deny, only the denying statements, as in AWS's simulator.")
    def matched_statements(self) -> list[MatchedStatement]:
        return _matched(self._d)

    @strawberry.field(description="Keys a statement that applies reads but the request lacks.")
    def missing_context_values(self) -> list[str]:
        return list(self._d.missing_context_values)

    @strawberry.field
    def blocked_by(self) -> Layer | None:  # type: ignore[valid-type]
        return self._d.blocked_by

    @strawberry.field
    def layer_verdicts(self) -> list[LayerVerdict]:
        return _verdicts(self._d)

    @strawberry.field
    def warnings(self) -> list[str]:
        return list(self._d.warnings)

    @strawberry.field
    def fix_hint(self) -> FixHint | None:
        fix = self._d.fix
        return None if fix is None else FixHint(summary=fix.summary, statement=None if fix.statement is None else JSON(fix.statement))

    @strawberry.field(description="False when an SCP or RCP blocks; null when none applies.")
    def allowed_by_organizations(self) -> bool | None:
        return self._d.allowed_by_organizations

    @strawberry.field(description="Null when the principal has no boundary.")
    def allowed_by_permissions_boundary(self) -> bool | None:
        return self._d.allowed_by_boundary

    @strawberry.field(description="Only with viaRoles: true and a request not allowed directly.")
    def via_role(self) -> RoleRoute | None:
        route = self._d.via_role
        if route is None:
            return None
        return RoleRoute(
            roles=[s.role for s in route.steps],
            steps=[AssumeStep(source=s.source, role=s.role, decision=Decision.of(s.decision)) for s in route.steps],
            decision=Decision.of(route.decision),
        )

    @strawberry.field(description="The explanation as a list of lines, for reading in GraphiQL and drawing in a page.")
    def explanation_lines(self) -> list[str]:
        return explain(self._d).splitlines()

    @strawberry.field(description="As in AWS's EvaluationResult; null when the principal has no boundary.")
    def permissions_boundary_decision_detail(self) -> PermissionsBoundaryDecisionDetail | None:
        return _boundary_detail(self._d)

    @strawberry.field(description="As in AWS's EvaluationResult; null when no SCP or RCP applies.")
    def organizations_decision_detail(self) -> OrganizationsDecisionDetail | None:
        return _organizations_detail(self._d)

    @strawberry.field(description="The world and version that answered (on can's decision; null on decisions nested in other answers).")
    def world(self) -> AnsweringWorld | None:
        return self._world


@strawberry.type(description="One (action, resource) result, with AWS's EvaluationResult field names.")
class EvaluationResult:
    _d: strawberry.Private[DomainDecision]

    @classmethod
    def of(cls, d: DomainDecision) -> EvaluationResult:
        return cls(_d=d)

    @strawberry.field
    def eval_action_name(self) -> str:
        return self._d.action

    @strawberry.field
    def eval_resource_name(self) -> str:
        return self._d.resource

    @strawberry.field
    def eval_decision(self) -> DecisionKind:  # type: ignore[valid-type]
        return self._d.decision

    @strawberry.field
    def matched_statements(self) -> list[MatchedStatement]:
        return _matched(self._d)

    @strawberry.field
    def missing_context_values(self) -> list[str]:
        return list(self._d.missing_context_values)

    @strawberry.field
    def permissions_boundary_decision_detail(self) -> PermissionsBoundaryDecisionDetail | None:
        return _boundary_detail(self._d)

    @strawberry.field
    def organizations_decision_detail(self) -> OrganizationsDecisionDetail | None:
        return _organizations_detail(self._d)

    @strawberry.field
    def blocked_by(self) -> Layer | None:  # type: ignore[valid-type]
        return self._d.blocked_by

    @strawberry.field
    def layer_verdicts(self) -> list[LayerVerdict]:
        return _verdicts(self._d)

    @strawberry.field
    def explanation(self) -> str:
        return explain(self._d)

    @strawberry.field
    def warnings(self) -> list[str]:
        return list(self._d.warnings)

    @strawberry.field(description="The explanation as a list of lines.")
    def explanation_lines(self) -> list[str]:
        return explain(self._d).splitlines()


@strawberry.type(description="A can-assume edge: principal may assume role, as the decision shows.")
class AssumeEdge:
    principal: str
    role: str
    decision: Decision
