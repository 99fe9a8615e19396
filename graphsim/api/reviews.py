"""GraphQL for access reviews: thin types over graphsim.analysis results, and their resolvers."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from .. import analysis
from ..errors import InvalidRequestError
from ..limits import Limits, active
from ..world import NodeKind
from .connections import Connection, ListingScope, paginate
from .context import workspace
from .decision import Decision, DecisionKind
from .errors import typed_errors
from .inputs import ChangeInput, ContextEntryInput, QuestionInput, to_context

MAX_MATRIX_CELLS = Limits().matrix_cells  # by default (serve --max-matrix-cells); larger: GET /export/matrix.csv or `graphsim matrix`


@strawberry.type(description="A principal allowed the action on the resource, and how.")
class WhoCanEntry:
    principal: str
    label: str
    kind: str = strawberry.field(description="user, role, account, arn, service, federated, canonical-user or anyone.")
    action: str
    resource: str
    access: str = strawberry.field(description="direct, via-roles, or resource-policy (a principal outside the world).")
    decision: Decision | None
    via_roles: list[str]
    paths: list[str]
    conditional: bool
    missing_context: list[str]

    @classmethod
    def of(cls, e: analysis.WhoCanEntry) -> WhoCanEntry:
        return cls(
            principal=e.principal, label=e.label, kind=e.kind, action=e.action, resource=e.resource, access=e.access,
            decision=None if e.decision is None else Decision.of(e.decision), via_roles=list(e.via_roles), paths=list(e.paths),
            conditional=e.conditional, missing_context=list(e.missing_context),
        )


@strawberry.type
class ResourceGrant:
    resource: str
    actions: list[str]
    conditional_actions: list[str]
    sources: list[str]
    partially_denied_by: list[str]


@strawberry.type(description="What a principal can really do, after denies, boundaries and SCPs.")
class EffectivePermissions:
    principal: str
    grants: list[ResourceGrant]
    policy: JSON = strawberry.field(description="The same, as one consolidated IAM policy document (unconditional grants).")
    notes: list[str]


@strawberry.type
class MatrixCell:
    principal: str
    action: str
    resource: str
    decision: DecisionKind  # type: ignore[valid-type]


@strawberry.type
class AccessMatrix:
    """The matrix stays the analysis' compact value; counts and cells are built when asked."""

    _m: strawberry.Private[analysis.Matrix]
    _scope: strawberry.Private[ListingScope | None] = None

    @strawberry.field
    def principals(self) -> list[str]:
        return list(self._m.principals)

    @strawberry.field
    def actions(self) -> list[str]:
        return list(self._m.actions)

    @strawberry.field
    def resources(self) -> list[str]:
        return list(self._m.resources)

    @strawberry.field
    def counts(self) -> JSON:
        return JSON(self._m.counts())

    @strawberry.field(description="Principals with identical policy sets, evaluated once.")
    def principal_groups(self) -> int:
        return self._m.principal_groups

    @strawberry.field
    def evaluations(self) -> int:
        return self._m.evaluations

    @strawberry.field
    def cells(self) -> list[MatrixCell]:
        return [MatrixCell(principal=p, action=a, resource=r, decision=DecisionKind(d)) for p, a, r, d in self._m.rows()]  # type: ignore[misc]

    @strawberry.field(description="The cells (principal by principal, then action, then resource), a page at a time.")
    @typed_errors
    def cells_connection(self, first: int | None = None, after: str | None = None) -> Connection[MatrixCell]:
        scope = self._scope or ListingScope(world="", version=0, listing="AccessMatrix.cellsConnection")
        return paginate(scope, list(self._m.rows()), lambda row: MatrixCell(principal=row[0], action=row[1], resource=row[2], decision=DecisionKind(row[3])), first, after)  # type: ignore[misc]


@strawberry.type
class EscalationStep:
    technique: str
    source: str
    target: str
    actions: list[str]
    resources: list[str]
    explanation: str


@strawberry.type(description="A way the principal can become admin-equivalent, step by step.")
class EscalationPath:
    principal: str
    target: str
    already_admin: bool
    steps: list[EscalationStep]


@strawberry.type
class ReviewFinding:
    rule: str
    severity: str
    why: str
    policy: str
    statement: str
    path: str
    principal: str
    account: str = strawberry.field(description="The account of the principal or policy (aws for an AWS-managed policy): labels repeat across the accounts of a world.")

    @classmethod
    def of(cls, f: analysis.Finding) -> ReviewFinding:
        return cls(rule=f.rule_id, severity=f.severity, why=f.why, policy=f.policy, statement=f.statement, path=f.path, principal=f.principal, account=f.account)


@strawberry.type
class DenialFix:
    decision: DecisionKind  # type: ignore[valid-type]
    blocked_by: str | None
    statement: JSON | None = strawberry.field(description="The smallest statement that would allow the request.")
    where: str
    denied_by: list[str] = strawberry.field(description="For an explicit deny: the denying statements' paths.")
    summary: str


@strawberry.type
class WhatIfResult:
    principal: str
    action: str
    resource: str
    before: Decision | None = strawberry.field(description="Null when the principal does not exist before the changes.")
    after: Decision | None = strawberry.field(description="Null when the principal does not exist after them.")
    before_decision: str = strawberry.field(description="ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY or ABSENT.")
    after_decision: str
    changed: bool
    met: bool | None = strawberry.field(default=None, description="Whether the decision after the changes is the question's expect; null when it gives none.")


@strawberry.type
class AccessChange:
    principal: str
    action: str
    resource: str
    before: str
    after: str
    change: str = strawberry.field(description="gained or lost")


@strawberry.type
class ReviewQuery:
    @strawberry.field(description="Every principal allowed the actions on the resource, each with the path that allows it.")
    @typed_errors
    def who_can(self, info: Info, actions: list[str], resource: str, context: list[ContextEntryInput] | None = None, world: str | None = None) -> list[WhoCanEntry]:
        engine = workspace(info).engine(world)
        principals = sum(1 for kind in (NodeKind.USER, NodeKind.ROLE) for _ in engine.world.nodes_of(kind))
        active().check("analysis_size", principals * len(set(actions)), what=f"whoCan would evaluate {principals:,} principals x {len(set(actions)):,} actions", field="actions")
        return [WhoCanEntry.of(e) for e in analysis.who_can(engine, actions, resource, to_context(context))]

    @strawberry.field(description="A principal's effective permissions, by resource pattern, and as one policy.")
    @typed_errors
    def what_can(self, info: Info, principal: str, service: str | None = None, resource_prefix: str | None = None, world: str | None = None) -> EffectivePermissions:
        perms = analysis.what_can(workspace(info).engine(world), principal, service, resource_prefix)
        grants = [
            ResourceGrant(resource=g.resource, actions=list(g.actions), conditional_actions=list(g.conditional_actions),
                          sources=list(g.sources), partially_denied_by=list(g.partially_denied_by))
            for g in perms.grants
        ]
        return EffectivePermissions(principal=perms.principal, grants=grants, policy=JSON(perms.as_policy()), notes=list(perms.notes))

    @strawberry.field(description=f"Decisions for every principal x action x resource (at most {MAX_MATRIX_CELLS:,} cells; use /export/matrix.csv for more).")
    @typed_errors
    def access_matrix(
        self, info: Info, actions: list[str], resources: list[str], principals: list[str] | None = None,
        context: list[ContextEntryInput] | None = None, world: str | None = None,
    ) -> AccessMatrix:
        engine = workspace(info).engine(world)
        chosen = principals or analysis.all_principals(engine)
        active().check("matrix_cells", len(chosen) * len(actions) * len(resources), what="accessMatrix cells (principals x actions x resources; GET /export/matrix.csv and graphsim matrix take more)", field="principals")
        scope = ListingScope(world=engine.world.name, version=engine.world.version, listing="AccessMatrix.cellsConnection",
                             arguments=[actions, resources, principals, None if context is None else [[c.context_key_name, list(c.context_key_values)] for c in context]])
        return AccessMatrix(_m=analysis.access_matrix(engine, chosen, actions, resources, to_context(context)), _scope=scope)

    @strawberry.field(description="Why a request is denied, and the smallest change that would allow it.")
    @typed_errors
    def denial_fix(self, info: Info, principal: str, action: str, resource: str, context: list[ContextEntryInput] | None = None, world: str | None = None) -> DenialFix:
        fix = analysis.denial_fix(workspace(info).engine(world).can(principal, action, resource, to_context(context)))
        return DenialFix(decision=DecisionKind(fix.decision), blocked_by=fix.blocked_by, statement=None if fix.statement is None else JSON(fix.statement),  # type: ignore[misc]
                         where=fix.where, denied_by=[d.path for d in fix.denied_by], summary=fix.summary)

    @strawberry.field(description="Paths by which the principal can become admin-equivalent, each step explained.")
    @typed_errors
    def escalation_paths(self, info: Info, principal: str, world: str | None = None) -> list[EscalationPath]:
        return [
            EscalationPath(principal=p.principal, target=p.target, already_admin=p.already_admin, steps=[
                EscalationStep(technique=s.technique, source=s.source, target=s.target, actions=list(s.actions), resources=list(s.resources), explanation=s.explanation)
                for s in p.steps
            ])
            for p in analysis.escalation_paths(workspace(info).engine(world), principal)
        ]

    @strawberry.field(description="Least-privilege findings: wildcards, admin-equivalent principals, NotAction, dead statements, unattached policies, direct attachments.")
    @typed_errors
    def findings(self, info: Info, rules: list[str] | None = None, world: str | None = None) -> list[ReviewFinding]:
        ws = workspace(info)
        return [
            ReviewFinding.of(f)
            for f in analysis.findings(ws.world(world), ws.engine(world), rules)
        ]

    @strawberry.field(description="The questions before and after hypothetical changes; nothing is committed.")
    @typed_errors
    def what_if(self, info: Info, changes: list[ChangeInput], questions: list[QuestionInput], world: str | None = None) -> list[WhatIfResult]:
        qs = [analysis.Question(q.principal, q.action, q.resource, to_context(q.context), expect=_expect(q.expect, i)) for i, q in enumerate(questions)]
        results = analysis.what_if(workspace(info).engine(world), [(c.mutation, c.arguments if c.arguments is not None else {}) for c in changes], qs)
        return [
            WhatIfResult(principal=r.question.principal, action=r.question.action, resource=r.question.resource,
                         before=None if r.before is None else Decision.of(r.before), after=None if r.after is None else Decision.of(r.after),
                         before_decision=r.before_kind, after_decision=r.after_kind, changed=r.changed, met=r.met)
            for r in results
        ]

    @strawberry.field(description="Every access gained and lost from world A to world B (a fork and its parent, two imports).")
    @typed_errors
    def access_diff(self, info: Info, world_a: str, world_b: str, actions: list[str], resources: list[str], principals: list[str] | None = None) -> list[AccessChange]:
        ws = workspace(info)
        changes = analysis.access_diff(ws.engine(world_a), ws.engine(world_b), principals, actions=actions, resources=resources)
        return [AccessChange(principal=c.principal, action=c.action, resource=c.resource, before=c.before, after=c.after, change=c.change) for c in changes]


def _expect(text: str | None, index: int) -> str | None:
    """A question's expect as the expectations files take it (a decision, or DENIED for either deny)."""
    if text is None:
        return None
    if text.upper() in ("DENY", "DENIED"):
        return analysis.DENIED
    try:
        return DecisionKind.parse(text).value
    except ValueError:
        raise InvalidRequestError(f"expect must be ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY or DENIED, got {text!r}", field=f"questions[{index}].expect") from None
