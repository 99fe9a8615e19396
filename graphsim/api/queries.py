"""Queries over one world: access questions, AWS's simulate operations, and browsing. Each
resolver translates its arguments, calls the core and converts the result."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from ..engine import CustomSimulation, PrincipalSimulation, simulate
from ..errors import PolicyValidationError
from ..limits import active
from ..policy import PolicyKind
from ..world import NodeKind
from ..world.graph import parse_with_catalog
from .context import workspace
from .decision import AnsweringWorld, AssumeEdge, Decision, EvaluationResult
from .errors import Problem as ProblemView
from .errors import typed_errors
from .inputs import ContextEntryInput, SimulateCustomPolicyInput, SimulatePrincipalPolicyInput, to_context
from .payloads import PolicyCheck
from .world import WorldStatus, WorldSummary, WorldView


@strawberry.type
class EvaluationQuery:
    @strawberry.field(description="Can PRINCIPAL (user or role, by name or ARN) do ACTION on RESOURCE (ARN, '*', or a bucket name)?")
    @typed_errors
    def can(
        self,
        info: Info,
        principal: str,
        action: str,
        resource: str,
        context: list[ContextEntryInput] | None = None,
        world: str | None = None,
        session_policy: Annotated[str | None, strawberry.argument(description="A session policy (JSON), for a role or session principal.")] = None,
        via_roles: Annotated[bool, strawberry.argument(description="If not allowed directly, also try the roles the principal can assume.")] = False,
    ) -> Decision:
        engine = workspace(info).engine(world)
        answering = AnsweringWorld(name=engine.world.name, version=engine.world.version)
        return Decision.of(engine.can(principal, action, resource, to_context(context), session_policy=session_policy, via_roles=via_roles), answering)

    @strawberry.field(description="The roles a principal may assume: the can-assume edges, each with its trust and identity statements.")
    @typed_errors
    def assumable_roles(self, info: Info, principal: str, world: str | None = None) -> list[AssumeEdge]:
        engine = workspace(info).engine(world)
        key, _ = engine.resolve_principal(principal)
        return [AssumeEdge(principal=key, role=role, decision=Decision.of(d)) for role, d in engine.assumable_roles(key)]

    @strawberry.field(description="Every can-assume edge of the world: who may assume which role, each with its decision.")
    @typed_errors
    def can_assume_edges(self, info: Info, world: str | None = None) -> list[AssumeEdge]:
        engine = workspace(info).engine(world)
        roles = sum(1 for _ in engine.world.nodes_of(NodeKind.ROLE))
        principals = sum(1 for _ in engine.world.nodes_of(NodeKind.USER)) + roles
        active().check("analysis_size", principals * roles, what=f"canAssumeEdges would evaluate {principals:,} principals x {roles:,} roles")
        return [AssumeEdge(principal=p, role=r, decision=Decision.of(d)) for p, r, d in engine.can_assume_graph()]

    @strawberry.field(description="AWS's SimulatePrincipalPolicy: a user's (with its groups'), group's or role's policies.")
    @typed_errors
    def simulate_principal_policy(self, info: Info, input: SimulatePrincipalPolicyInput) -> list[EvaluationResult]:
        engine = workspace(info).engine(input.world)
        request = PrincipalSimulation(
            policy_source=input.policy_source_arn,
            actions=tuple(input.action_names),
            resources=tuple(input.resource_arns),
            context=to_context(input.context_entries),
            policies=tuple(input.policy_input_list),
            permissions_boundaries=tuple(input.permissions_boundary_policy_input_list),
        )
        return [EvaluationResult.of(d) for d in simulate(request, engine)]

    @strawberry.field(description="AWS's SimulateCustomPolicy: identity policies given as JSON documents.")
    @typed_errors
    def simulate_custom_policy(self, info: Info, input: SimulateCustomPolicyInput) -> list[EvaluationResult]:
        request = CustomSimulation(
            policies=tuple(input.policy_input_list),
            actions=tuple(input.action_names),
            resources=tuple(input.resource_arns),
            context=to_context(input.context_entries),
            caller_arn=input.caller_arn,
            permissions_boundaries=tuple(input.permissions_boundary_policy_input_list),
            resource_policy=input.resource_policy,
            resource_owner=input.resource_owner,
            session_policy=input.session_policy,
            scps=_levels(input.service_control_policy_input_list),
            rcps=_levels(input.resource_control_policy_input_list),
            management_account=input.management_account,
        )
        return [EvaluationResult.of(d) for d in simulate(request)]


@strawberry.type
class WorldQuery:
    @strawberry.field(description="Browse a world (the default world when no name is given).")
    @typed_errors
    def world(self, info: Info, name: str | None = None) -> WorldView:
        ws = workspace(info)
        return WorldView.of(ws.world(name), ws.history if ws.store is not None else None)

    @strawberry.field(description="The worlds this server holds; the default one first.")
    def worlds(self, info: Info) -> list[WorldSummary]:
        ws = workspace(info)
        records = sorted(ws.records(), key=lambda r: (r.name != ws.default, r.name))
        return [
            WorldSummary(name=r.name, version=ws.worlds[r.name].version if r.name in ws.worlds else r.version, is_default=r.name == ws.default,
                         created_at=r.created_at, forked_from=r.forked_from, forked_at_version=r.forked_at_version,
                         status=WorldStatus.UNREADABLE if r.name in ws.unreadable else WorldStatus.READY, error=ws.unreadable.get(r.name))
            for r in records
        ]

    @strawberry.field(description="Validate an identity policy document without storing it.")
    def validate_policy(self, document: str) -> PolicyCheck:
        try:
            doc = parse_with_catalog(document, kind=PolicyKind.IDENTITY)
        except PolicyValidationError as exc:
            return PolicyCheck(valid=False, problems=[ProblemView.of(p) for p in exc.problems], warnings=[])
        return PolicyCheck(valid=True, problems=[], warnings=[ProblemView.of(w) for w in doc.warnings])


def _levels(levels: list[list[str]] | None) -> tuple[tuple[str, ...], ...] | None:
    return None if levels is None else tuple(tuple(level) for level in levels)
