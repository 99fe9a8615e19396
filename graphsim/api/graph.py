"""GraphQL for subgraphs of the world, for frontends that draw them: thin types over
graphsim.analysis.subgraph, and their resolvers."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from ..analysis import subgraph as core
from .context import workspace
from .errors import typed_errors
from .inputs import ContextEntryInput, to_context

PathEffect = strawberry.enum(core.PathEffect, name="PathEffect", description="What a statement, or a path to it, says about the request: ALLOW, DENY or NOT_MATCHING.")


@strawberry.type(description="A node of a subgraph: a principal, group, policy, statement, resource, ...")
class GraphNode:
    id: strawberry.ID = strawberry.field(description="The world's node key (an ARN, or its owner's key plus #suffix).")
    kind: str = strawberry.field(description="user, group, role, policy, inline-policy, trust-policy, resource-policy, statement, resource, account, org-root, ou, org-policy, or an outside principal's kind.")
    label: str
    arn: str | None
    document: JSON | None = strawberry.field(description="A policy node's JSON document.")
    statement: JSON | None = strawberry.field(description="A statement node's JSON.")
    policy: str | None = strawberry.field(description="A statement node's policy node id.")
    statement_index: int | None
    effect: PathEffect | None = strawberry.field(description="A statement node: whether it matches the request, and how.")  # type: ignore[valid-type]
    deciding: bool = strawberry.field(description="A statement that decided the request (or a hop of its role route).")
    focus: bool = strawberry.field(description="What was asked about: the principal, the resource, the centre of a neighbourhood.")
    layer: str | None = strawberry.field(description="A statement's layer: identity, resource, boundary, scp, rcp.")

    @classmethod
    def of(cls, n: core.GraphNode) -> GraphNode:
        return cls(
            id=strawberry.ID(n.id), kind=n.kind, label=n.label, arn=n.arn, document=None if n.document is None else JSON(dict(n.document)),
            statement=None if n.statement is None else JSON(dict(n.statement)), policy=n.policy, statement_index=n.statement_index,
            effect=n.effect, deciding=n.deciding, focus=n.focus, layer=n.layer,
        )


@strawberry.type(description="An edge of a subgraph, with the provenance that made it.")
class GraphEdge:
    id: strawberry.ID
    source: str
    target: str
    kind: str = strawberry.field(description="A world edge kind (member-of, attached, inline, has-statement, trusts, governed-by, bounded-by, can-assume, ...), or applies-to, granted-by, escalates.")
    provenance: str | None
    effect: PathEffect | None  # type: ignore[valid-type]

    @classmethod
    def of(cls, e: core.GraphEdge) -> GraphEdge:
        return cls(id=strawberry.ID(e.id), source=e.source, target=e.target, kind=e.kind, provenance=e.provenance, effect=e.effect)


@strawberry.type(description="A subgraph of the world: nodes, edges, and what it shows in words. GET /export/graph/KIND.graphml or .json downloads the same.")
class Subgraph:
    kind: str = strawberry.field(description="decision, who-can, neighbourhood or escalation.")
    title: str
    summary: list[str] = strawberry.field(description="What the graph shows, one line each (for a decision: its explanation).")
    truncated: bool = strawberry.field(description="A neighbourhood stopped growing at its node limit.")
    nodes: list[GraphNode]
    edges: list[GraphEdge]

    @classmethod
    def of(cls, sg: core.Subgraph) -> Subgraph:
        return cls(kind=sg.kind, title=sg.title, summary=list(sg.summary), truncated=sg.truncated,
                   nodes=[GraphNode.of(n) for n in sg.nodes()], edges=[GraphEdge.of(e) for e in sg.edges()])


@strawberry.type
class GraphQuery:
    @strawberry.field(description="The decision graph of a can: every path considered, each statement marked ALLOW, DENY or NOT_MATCHING; with viaRoles, the role hop.")
    @typed_errors
    def decision_graph(
        self, info: Info, principal: str, action: str, resource: str, context: list[ContextEntryInput] | None = None, world: str | None = None,
        via_roles: Annotated[bool, strawberry.argument(description="If not allowed directly, also draw the role route that allows it.")] = False,
    ) -> Subgraph:
        return Subgraph.of(core.decision_graph(workspace(info).engine(world), principal, action, resource, to_context(context), via_roles=via_roles))

    @strawberry.field(description="The principals allowed the actions on the resource, and the routes (role hops included) that allow them.")
    @typed_errors
    def who_can_graph(self, info: Info, actions: list[str], resource: str, context: list[ContextEntryInput] | None = None, world: str | None = None) -> Subgraph:
        return Subgraph.of(core.who_can_graph(workspace(info).engine(world), actions, resource, to_context(context)))

    @strawberry.field(description=f"A node's groups, members, policies, boundaries and the roles it can assume, within hops (1 to {core.MAX_HOPS}).")
    @typed_errors
    def neighbourhood(self, info: Info, node: str, hops: int = 1, world: str | None = None) -> Subgraph:
        return Subgraph.of(core.neighbourhood(workspace(info).engine(world), node, hops))

    @strawberry.field(description="The escalation paths of a principal as a graph (or only the one at index path).")
    @typed_errors
    def escalation_graph(self, info: Info, principal: str, path: int | None = None, world: str | None = None) -> Subgraph:
        return Subgraph.of(core.escalation_graph(workspace(info).engine(world), principal, path=path))


# ---- downloads (GET /export/graph/KIND.FORMAT) ---------------------------------------------------

GRAPH_KINDS = ("decision", "who-can", "neighbourhood", "escalation")


def graph_from_params(engine: Any, kind: str, params: Any) -> core.Subgraph:
    """A subgraph from query parameters: ``decision`` (principal, action, resource, viaRoles,
    context=KEY=VALUE), ``who-can`` (actions, comma-separated or repeated; resource),
    ``neighbourhood`` (node, hops), ``escalation`` (principal, path)."""
    from ..engine import parse_cli_context
    from ..errors import InvalidRequestError

    def one(name: str) -> str:
        value = params.get(name)
        if not value:
            raise InvalidRequestError(f"give {name}=...", field=name)
        return str(value)

    def number(name: str, default: int | None) -> int | None:
        value = params.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise InvalidRequestError(f"{name} must be a whole number, got {value!r}", field=name) from None

    context = parse_cli_context(params.getlist("context"), params.getlist("contextType"))
    if kind == "decision":
        via = params.get("viaRoles", "false").lower() in ("1", "true", "yes")
        return core.decision_graph(engine, one("principal"), one("action"), one("resource"), context, via_roles=via)
    if kind == "who-can":
        actions = [a for part in params.getlist("actions") for a in part.split(",") if a]
        if not actions:
            raise InvalidRequestError("give actions=... (comma-separated or repeated)", field="actions")
        return core.who_can_graph(engine, actions, one("resource"), context)
    if kind == "neighbourhood":
        return core.neighbourhood(engine, one("node"), number("hops", 1) or 1)
    if kind == "escalation":
        return core.escalation_graph(engine, one("principal"), path=number("path", None))
    raise InvalidRequestError(f"unknown graph {kind!r}; one of {', '.join(GRAPH_KINDS)}", field="kind")
