"""Subgraphs of the world as data, for any frontend: typed nodes (kind, label, ARN, the policy or
statement JSON where the node is one) and typed edges (kind, provenance, effect).

- ``decision_graph``: every path the engine considered for one request (identity policies with
  the groups that bring them, the permissions boundary, the resource-based policy, SCP and RCP
  levels), every statement of those policies marked ``allow``, ``deny`` or ``not-matching`` for
  the request, the statements that decided it flagged; with ``via_roles``, the role hop
  (``can-assume``) and the role's own considered paths.
- ``who_can_graph``: the principals allowed actions on a resource and the routes that allow them.
- ``neighbourhood``: a node's groups, members, policies, boundaries, trust policy and the roles it
  can assume, within N hops.
- ``escalation_graph``: the escalation paths of a principal, each step an edge with the
  statements that allow it.

A ``Subgraph`` is a ``networkx.MultiDiGraph`` underneath, so it writes GraphML and JSON
node-link as networkx does. Pure: no HTTP, SQL or GraphQL.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import networkx as nx

from ..arn import Arn
from ..engine import (
    ContextEntry,
    Decision,
    Engine,
    Layer,
    PolicySet,
    RoleRoute,
    build_context,
    explain,
    matched_statement,
    merge_derived,
    scan,
)
from ..errors import InvalidRequestError, NotFoundError
from ..policy import Effect
from ..world import EdgeKind, NodeKind, PathStep, World
from .escalation import escalation_paths
from .who_can import who_can

MAX_HOPS = 4
MAX_NODES = 300  # a neighbourhood stops growing here (``truncated``): a drawing past it is unreadable

# Edge kinds a subgraph adds to the world's own (EdgeKind):
APPLIES_TO = "applies-to"  # statement -> the resource (or role) of the request it matched
GRANTED_BY = "granted-by"  # principal -> a resource-policy statement whose Principal matches it
ESCALATES = "escalates"  # one escalation move: principal -> the principal it reaches or makes admin


class PathEffect(StrEnum):
    """What a statement (and the path to it) says about the request."""

    ALLOW = "allow"
    DENY = "deny"
    NOT_MATCHING = "not-matching"


_STRENGTH = {None: 0, PathEffect.NOT_MATCHING: 1, PathEffect.ALLOW: 2, PathEffect.DENY: 3}


def _stronger(a: PathEffect | None, b: PathEffect | None) -> PathEffect | None:
    return a if _STRENGTH[a] >= _STRENGTH[b] else b


@dataclass(frozen=True, slots=True)
class GraphNode:
    id: str
    kind: str
    label: str
    arn: str | None = None
    document: Mapping[str, Any] | None = None  # a policy node's JSON document
    statement: Mapping[str, Any] | None = None  # a statement node's JSON
    policy: str | None = None  # a statement node's policy node id
    statement_index: int | None = None
    effect: PathEffect | None = None  # a statement node: allow, deny or not-matching for the request
    deciding: bool = False  # a statement that decided the request (or a hop of its role route)
    focus: bool = False  # what was asked about: the principal, the resource, the centre
    layer: str | None = None  # a statement's policy layer (identity, resource, boundary, scp, rcp)


@dataclass(frozen=True, slots=True)
class GraphEdge:
    source: str
    target: str
    key: str  # unique among the edges between source and target
    kind: str  # an EdgeKind value, or applies-to, granted-by, escalates
    provenance: str | None = None
    effect: PathEffect | None = None

    @property
    def id(self) -> str:
        return f"{self.source}|{self.key}|{self.target}"


class Subgraph:
    """A typed subgraph over a ``networkx.MultiDiGraph`` (edges keyed by kind)."""

    def __init__(self, kind: str, title: str) -> None:
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph(kind=kind, title=title)
        self.summary: list[str] = []
        self.truncated = False

    @property
    def kind(self) -> str:
        return str(self.graph.graph["kind"])

    @property
    def title(self) -> str:
        return str(self.graph.graph["title"])

    # ---- building ---------------------------------------------------------------------------

    def add_node(self, node_id: str, kind: str, label: str, **attrs: Any) -> None:
        """Add a node, or merge into it: the strongest effect wins, and flags stay set."""
        existing = self.graph.nodes.get(node_id)
        if existing is None:
            self.graph.add_node(node_id, kind=kind, label=label, **{k: v for k, v in attrs.items() if v is not None})
            return
        for name, value in attrs.items():
            if value is None:
                continue
            if name == "effect":
                existing["effect"] = _stronger(existing.get("effect"), value)
            elif name in ("deciding", "focus"):
                existing[name] = bool(existing.get(name)) or bool(value)
            else:
                existing.setdefault(name, value)

    def add_edge(self, source: str, target: str, kind: str, *, key: str | None = None, provenance: str | None = None, effect: PathEffect | None = None) -> None:
        key = key or kind
        if self.graph.has_edge(source, target, key):
            data = self.graph.edges[source, target, key]
            data["effect"] = _stronger(data.get("effect"), effect)
            if provenance and provenance not in (data.get("provenance") or "").split("; "):
                data["provenance"] = f"{data['provenance']}; {provenance}" if data.get("provenance") else provenance
            return
        attrs: dict[str, Any] = {"kind": kind}
        if provenance:
            attrs["provenance"] = provenance
        if effect is not None:
            attrs["effect"] = effect
        self.graph.add_edge(source, target, key=key, **attrs)

    # ---- reading ----------------------------------------------------------------------------

    def nodes(self) -> list[GraphNode]:
        return [
            GraphNode(
                id=n, kind=d["kind"], label=d["label"], arn=d.get("arn"), document=d.get("document"), statement=d.get("statement"),
                policy=d.get("policy"), statement_index=d.get("statement_index"), effect=d.get("effect"), deciding=bool(d.get("deciding")),
                focus=bool(d.get("focus")), layer=d.get("layer"),
            )
            for n, d in self.graph.nodes(data=True)
        ]

    def edges(self) -> list[GraphEdge]:
        return [
            GraphEdge(source=s, target=t, key=k, kind=d["kind"], provenance=d.get("provenance"), effect=d.get("effect"))
            for s, t, k, d in self.graph.edges(keys=True, data=True)
        ]

    # ---- writing ----------------------------------------------------------------------------

    def _plain(self) -> nx.MultiDiGraph:
        """A copy whose attributes are GraphML scalars: JSON text for documents, enum values as
        strings, no None (GraphML has no null)."""
        out = nx.MultiDiGraph(**{k: _scalar(v) for k, v in self.graph.graph.items() if v is not None}, summary="\n".join(self.summary), truncated=self.truncated)
        for n, d in self.graph.nodes(data=True):
            out.add_node(n, **{k: _scalar(v) for k, v in d.items() if v is not None})
        for s, t, k, d in self.graph.edges(keys=True, data=True):
            out.add_edge(s, t, key=k, **{name: _scalar(v) for name, v in d.items() if v is not None})
        return out

    def to_graphml(self) -> str:
        buffer = io.BytesIO()
        nx.write_graphml(self._plain(), buffer, encoding="utf-8")
        return buffer.getvalue().decode("utf-8")

    def to_node_link(self) -> dict[str, Any]:
        """networkx's node-link JSON (``nodes``, ``edges`` with ``source``, ``target``, ``key``)."""
        data: dict[str, Any] = nx.node_link_data(self.graph, edges="edges")
        data["graph"] = {**data["graph"], "summary": list(self.summary), "truncated": self.truncated}
        return json.loads(json.dumps(data, default=_json_default))


def _scalar(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, default=_json_default, sort_keys=True)


def _json_default(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# ---- shared pieces ------------------------------------------------------------------------------


_DOCUMENT_KINDS = frozenset({NodeKind.POLICY, NodeKind.INLINE_POLICY, NodeKind.TRUST_POLICY, NodeKind.RESOURCE_POLICY, NodeKind.ORG_POLICY})


def _node_attrs(world: World, key: str) -> dict[str, Any]:
    """ARN and document of a world node, where it has them."""
    if key not in world.graph:
        return {}
    kind = world.kind_of(key)
    attrs: dict[str, Any] = {}
    arn: str | None = None
    if kind in (NodeKind.USER, NodeKind.GROUP, NodeKind.ROLE):
        arn = world.principal(key)["arn"]
    elif kind is NodeKind.POLICY:
        arn = world.managed_policy(key)["arn"]
    elif kind is NodeKind.RESOURCE:
        arn = world.resource_node(key)["arn"]
    elif kind is NodeKind.ACCOUNT:
        arn = world.account_node(key)["arn"]
    arn = arn or (key if key.startswith("arn:") and "#" not in key else None)
    if arn:
        attrs["arn"] = arn
    if kind in _DOCUMENT_KINDS:
        attrs["document"] = dict(world.document_node(key)["document"].raw)
    return attrs


def _add_step(sg: Subgraph, world: World, step: PathStep, **attrs: Any) -> None:
    sg.add_node(step.node, step.kind.value, step.label, **{**_node_attrs(world, step.node), **attrs})


def _add_path(sg: Subgraph, world: World, path: Sequence[PathStep], effect: PathEffect | None) -> None:
    """The nodes and edges of one path; each edge takes the strongest effect of the paths through it."""
    for i, step in enumerate(path):
        _add_step(sg, world, step)
        if i and step.via is not None:
            sg.add_edge(path[i - 1].node, step.node, step.via.value, provenance=step.provenance, effect=effect)
        elif i:  # a step the engine made without a world edge (org levels, input documents)
            sg.add_edge(path[i - 1].node, step.node, EdgeKind.CHILD_OF.value if step.kind in (NodeKind.OU, NodeKind.ORG_ROOT) else "leads-to", effect=effect)


def _add_statement(
    sg: Subgraph, world: World, path: Sequence[PathStep], st_raw: Mapping[str, Any], index: int, layer: Layer,
    effect: PathEffect, deciding: bool, target: str, action: str,
) -> str:
    """A statement at the end of ``path`` (its policy), and, when it matches, its edge to ``target``."""
    _add_path(sg, world, path, effect)
    policy = path[-1].node
    sid = st_raw.get("Sid")
    stmt_id = f"{policy}#Statement[{index}]"
    label = f"Statement[{index}]" + (f" (Sid {sid})" if sid else "")
    sg.add_node(stmt_id, NodeKind.STATEMENT.value, label, statement=dict(st_raw), policy=policy, statement_index=index, effect=effect, deciding=deciding or None, layer=layer.value)
    world_edge = world.graph.get_edge_data(policy, stmt_id, EdgeKind.HAS_STATEMENT.value) if policy in world.graph else None
    sg.add_edge(policy, stmt_id, EdgeKind.HAS_STATEMENT.value, provenance=world_edge.get("provenance") if world_edge else None, effect=effect)
    if effect is not PathEffect.NOT_MATCHING:
        sg.add_edge(stmt_id, target, APPLIES_TO, provenance=action, effect=effect)
    return stmt_id


def _add_target(sg: Subgraph, world: World, arn: str) -> None:
    if arn in world.graph:
        sg.add_node(arn, world.kind_of(arn).value, world.label_of(arn), focus=True, **_node_attrs(world, arn))
    else:
        parsed = Arn.maybe(arn)
        sg.add_node(arn, NodeKind.RESOURCE.value, "resource/" + (parsed.resource if parsed else arn), arn=arn if arn != "*" else None, focus=True)


def _add_matched(sg: Subgraph, world: World, decision: Decision, target: str) -> None:
    """The statements that decided ``decision``, each with its path and its edge to ``target``;
    a resource-policy statement also gets a ``granted-by`` edge from the principal."""
    effect = PathEffect.ALLOW if decision.allowed else PathEffect.DENY
    start = _principal_key(world, decision)
    for m in decision.matched_statements:
        stmt = _add_statement(sg, world, m.path[:-1], m.raw, m.index, m.layer, statement_effect(m.effect), True, target, decision.action)
        if start is not None and m.path[0].node != start:
            sg.add_edge(start, stmt, GRANTED_BY, effect=effect)


def _principal_key(world: World, decision: Decision) -> str | None:
    """The world node of a decision's caller (a session ARN names its role)."""
    if decision.principal in world.graph:
        return decision.principal
    arn = Arn.maybe(decision.principal)
    session = arn.session_parts if arn is not None else None
    if arn is not None and session is not None:
        keys = [k for k in world.named(NodeKind.ROLE, session[0]) if world.account_of(k) == arn.account]
        return keys[0] if keys else None
    return None


def _add_route(sg: Subgraph, world: World, route: RoleRoute) -> None:
    """The role hops: ``can-assume`` edges with the trust and identity statements that allow each."""
    for step in route.steps:
        role = world.info(step.role)
        sg.add_node(step.role, NodeKind.ROLE.value, role["label"], **_node_attrs(world, step.role))
        paths = [("trust: " if m.layer is Layer.RESOURCE else "identity: ") + m.path_text for m in step.decision.matched_statements]
        sg.add_edge(step.source, step.role, EdgeKind.CAN_ASSUME.value, provenance="; ".join(paths), effect=PathEffect.ALLOW)
        for m in step.decision.matched_statements:
            _add_statement(sg, world, m.path[:-1], m.raw, m.index, m.layer, PathEffect.ALLOW, True, step.role, step.decision.action)


# ---- the decision graph --------------------------------------------------------------------------


def decision_graph(
    engine: Engine, principal: str, action: str, resource: str, context: Iterable[ContextEntry] = (), *, via_roles: bool = False
) -> Subgraph:
    """Every path the engine considered for the request, each statement marked allow, deny or
    not-matching, the deciding ones flagged; with ``via_roles`` and a request not allowed
    directly, the role hop and the role's considered paths too."""
    context = tuple(context)
    decision = engine.can(principal, action, resource, context, via_roles=via_roles)
    key, session = engine.resolve_principal(principal)
    world = engine.world
    sg = Subgraph("decision", f"can {decision.principal_label or key} {decision.action} on {decision.resource}?")
    sg.graph.graph.update(principal=key, action=decision.action, resource=decision.resource, decision=decision.decision.value)
    _add_target(sg, world, decision.resource)
    _add_considered(sg, engine, key, session, decision, context)
    route = decision.via_role
    if route is not None:
        sg.graph.graph["route_decision"] = route.decision.decision.value
        _add_route(sg, world, route)
        _add_considered(sg, engine, route.steps[-1].role, None, route.decision, context, focus=False)
    sg.summary = explain(decision).splitlines()
    return sg


def _add_considered(
    sg: Subgraph, engine: Engine, key: str, session: str | None, decision: Decision, context: tuple[ContextEntry, ...], *, focus: bool = True
) -> None:
    """Every policy the engine gathered for this principal and resource, each statement scanned
    against the request with the context the engine used."""
    world = engine.world
    caller = engine.caller(key, session)
    target = engine.target(decision.resource)
    derived = dict(caller.derived)
    if target.owner is not None:
        derived["aws:resourceaccount"] = (target.owner,)
    ctx = merge_derived(derived, build_context(context))
    action_lower = decision.action.lower()
    deciding = {(m.policy_key, m.index) for m in decision.matched_statements}
    sets: list[tuple[PolicySet, bool]] = [(caller.policies, False)]
    if caller.boundary is not None:
        sets.append((caller.boundary, False))
    if target.resource_policy is not None:
        sets.append((target.resource_policy, True))
    sets += [(level, False) for level in caller.scp_levels or ()]
    sets += [(level, True) for level in target.rcp_levels or ()]
    start = world.info(key)
    sg.add_node(key, start["kind"].value, caller.label, focus=focus or None, **_node_attrs(world, key))
    for policies, needs_caller in sets:
        if needs_caller and caller.identity is None:
            continue
        result = scan(policies, action_lower, decision.resource, ctx, [], caller.identity if needs_caller else None)
        allows = {(e.attachment.policy, e.statement.index) for e in result.allows}
        denies = {(e.attachment.policy, e.statement.index) for e in result.denies}
        for att in policies.attachments:
            for st in att.document.statements:
                ref = (att.policy, st.index)
                effect = PathEffect.DENY if ref in denies else PathEffect.ALLOW if ref in allows else PathEffect.NOT_MATCHING
                stmt = _add_statement(sg, world, att.path, st.raw, st.index, policies.layer, effect, ref in deciding, decision.resource, decision.action)
                if needs_caller and effect is not PathEffect.NOT_MATCHING and st.principals is not None:
                    sg.add_edge(key, stmt, GRANTED_BY, effect=effect)


# ---- who can ---------------------------------------------------------------------------------------


def who_can_graph(engine: Engine, actions: Sequence[str], resource: str, context: Iterable[ContextEntry] = ()) -> Subgraph:
    """The principals allowed ``actions`` on ``resource`` and their routes: the allowing paths,
    role hops for principals that get there by assuming roles, and outside principals a
    resource-based policy names."""
    context = tuple(context)
    entries = who_can(engine, actions, resource, context)
    world = engine.world
    arn = engine.resolve_resource(resource)
    answered = list(dict.fromkeys(e.action for e in entries)) or list(actions)
    sg = Subgraph("who-can", f"who can {', '.join(answered)} on {arn}?")
    sg.graph.graph.update(actions=", ".join(answered), resource=arn)
    _add_target(sg, world, arn)
    target = engine.target(arn)
    for e in entries:
        if e.access == "resource-policy":
            node = f"{e.kind}:{e.principal}"
            sg.add_node(node, e.kind, e.label)
            for att in target.resource_policy.attachments if target.resource_policy else ():
                for st in att.document.statements:
                    if matched_statement(st, att, Layer.RESOURCE).path_text in e.paths:
                        stmt = _add_statement(sg, world, att.path, st.raw, st.index, Layer.RESOURCE, PathEffect.ALLOW, True, arn, e.action)
                        sg.add_edge(node, stmt, GRANTED_BY, effect=PathEffect.ALLOW, provenance=e.note or None)
            sg.summary.append(f"{e.label} may {e.action} (named by the resource-based policy{'; conditional' if e.conditional else ''})")
            continue
        assert e.decision is not None
        sg.add_node(e.principal, e.kind, e.label, **_node_attrs(world, e.principal))
        if e.access == "via-roles" and e.decision.via_role is not None:
            route = e.decision.via_role
            _add_route(sg, world, route)
            _add_matched(sg, world, route.decision, arn)
            roles = " -> ".join(world.label_of(r) for r in e.via_roles)
            sg.summary.append(f"{e.label} may {e.action} by assuming {roles}")
        else:
            _add_matched(sg, world, e.decision, arn)
            sg.summary.append(f"{e.label} may {e.action} directly")
    if not entries:
        sg.summary.append(f"nobody may {', '.join(answered)} on {arn}")
    return sg


# ---- neighbourhood -------------------------------------------------------------------------------

# Edges followed out of a node, and into it (a group's members, a policy's holders).
_OUT = (EdgeKind.MEMBER_OF, EdgeKind.ATTACHED, EdgeKind.INLINE, EdgeKind.BOUNDED_BY, EdgeKind.TRUSTS, EdgeKind.GOVERNED_BY)
_IN = (EdgeKind.MEMBER_OF, EdgeKind.ATTACHED, EdgeKind.INLINE, EdgeKind.BOUNDED_BY)


def resolve_node(engine: Engine, text: str, *, field: str = "node") -> str:
    """A node key from an ARN or key of the world, or the name of a user, role, group or managed policy."""
    world = engine.world
    if not text or not text.strip():
        raise InvalidRequestError("give a user, role, group or policy (name or ARN)", field=field)
    if text in world.graph:
        return text
    found = [k for kind in (NodeKind.USER, NodeKind.ROLE, NodeKind.GROUP, NodeKind.POLICY) for k in world.named(kind, text)]
    if not found:
        raise NotFoundError("user, role, group or policy", text, field=field)
    if len(found) > 1:
        raise InvalidRequestError(f"{text!r} names several nodes ({', '.join(sorted(found))}); give the ARN", field=field)
    return found[0]


def neighbourhood(engine: Engine, node: str, hops: int = 1, *, max_nodes: int = MAX_NODES) -> Subgraph:
    """The nodes within ``hops`` of ``node`` over memberships, attachments, inline policies,
    boundaries, trust and resource policies, and the can-assume edges of the principals reached
    (who may assume a role is not followed backwards: that asks every principal)."""
    if not 1 <= hops <= MAX_HOPS:
        raise InvalidRequestError(f"hops must be between 1 and {MAX_HOPS}, got {hops}", field="hops")
    world = engine.world
    centre = resolve_node(engine, node)
    data = world.info(centre)
    sg = Subgraph("neighbourhood", f"{data['label']} within {hops} hop{'s' if hops != 1 else ''}")
    sg.graph.graph.update(centre=centre, hops=hops)
    sg.add_node(centre, data["kind"].value, data["label"], focus=True, **_node_attrs(world, centre))
    frontier = [centre]
    for _ in range(hops):
        following: list[str] = []
        for key in frontier:
            for target, edge_kind, provenance in _neighbours(engine, key):
                source, other = (key, target) if edge_kind[1] == "out" else (target, key)
                if target not in sg.graph:
                    if sg.graph.number_of_nodes() >= max_nodes:
                        sg.truncated = True
                        continue
                    tdata = world.info(target)
                    sg.add_node(target, tdata["kind"].value, tdata["label"], **_node_attrs(world, target))
                    following.append(target)
                sg.add_edge(source, other, edge_kind[0], provenance=provenance)
        frontier = following
    sg.summary = [f"{sg.graph.number_of_nodes()} nodes, {sg.graph.number_of_edges()} edges around {data['label']}"]
    if sg.truncated:
        sg.summary.append(f"stopped at {max_nodes} nodes; expand a node to see further")
    return sg


def _neighbours(engine: Engine, key: str) -> Iterator[tuple[str, tuple[str, str], str | None]]:
    """(other node, (edge kind, direction), provenance) for the edges a neighbourhood follows."""
    world = engine.world
    for kind in _OUT:
        for target, data in sorted(world.out_edges(key, kind), key=lambda item: item[0]):
            yield target, (kind.value, "out"), data.get("provenance")
    for kind in _IN:
        for source, data in sorted(world.in_edges(key, kind), key=lambda item: item[0]):
            yield source, (kind.value, "in"), data.get("provenance")
    if world.kind_of(key) in (NodeKind.USER, NodeKind.ROLE):
        for role, decision in engine.assumable_roles(key):
            paths = [("trust: " if m.layer is Layer.RESOURCE else "identity: ") + m.path_text for m in decision.matched_statements]
            yield role, (EdgeKind.CAN_ASSUME.value, "out"), "; ".join(paths)


# ---- escalation -----------------------------------------------------------------------------------


def escalation_graph(engine: Engine, principal: str, *, path: int | None = None) -> Subgraph:
    """The escalation paths of ``principal`` (or only the one at index ``path``): each move an
    ``escalates`` edge with its explanation, and the statements that allow its actions."""
    world = engine.world
    key, _ = engine.resolve_principal(principal)
    paths = escalation_paths(engine, principal)
    if path is not None:
        if not 0 <= path < len(paths):
            raise InvalidRequestError(f"path must be between 0 and {len(paths) - 1} (the principal has {len(paths)} escalation paths)", field="path")
        paths = [paths[path]]
    data = world.info(key)
    sg = Subgraph("escalation", f"how {data['label']} can become admin-equivalent")
    sg.graph.graph.update(principal=key, paths=len(paths))
    sg.add_node(key, data["kind"].value, data["label"], focus=True, **_node_attrs(world, key))
    for p in paths:
        sg.summary += p.explain().splitlines()
        previous = p.principal
        for step in p.steps:
            if step.target in world.graph:
                tdata = world.info(step.target)
                sg.add_node(step.target, tdata["kind"].value, tdata["label"], **_node_attrs(world, step.target))
            else:
                sg.add_node(step.target, "principal", step.target)
            sg.add_edge(previous, step.target, ESCALATES, key=f"{ESCALATES}:{step.technique}", provenance=f"[{step.technique}] {step.explanation}", effect=PathEffect.ALLOW)
            for d in step.decisions:
                for m in d.matched_statements:
                    _add_statement(sg, world, m.path[:-1], m.raw, m.index, m.layer, statement_effect(m.effect), True, step.target, d.action)
            previous = step.target
    if not paths:
        sg.summary.append(f"{data['label']} has no path to admin-equivalent access")
    return sg


def statement_effect(effect: Effect) -> PathEffect:
    return PathEffect(effect.value.lower())
