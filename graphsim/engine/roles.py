"""Role chains: which roles a principal may assume (the graph's can-assume edges, each with the
decision that shows it) and the shortest chain of assumed roles that allows a request.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..world import EdgeKind, NodeKind, World
from .context import ContextEntry
from .decision import AssumeStep, Decision, Layer, RoleRoute

if TYPE_CHECKING:
    import networkx as nx

MAX_ROLE_CHAIN = 3

# evaluate(principal key, action, resource, context) -> the principal's decision
Evaluate = Callable[[str, str, str, tuple[ContextEntry, ...]], Decision]


class RoleChains:
    """The can-assume edges of one world, found by asking ``evaluate`` about sts:AssumeRole;
    cached until the world changes (``clear``)."""

    def __init__(self, world: World, evaluate: Evaluate) -> None:
        self.world = world
        self._evaluate = evaluate
        self._assumable: dict[str, list[tuple[str, Decision]]] = {}

    def clear(self) -> None:
        self._assumable.clear()

    def assumable_roles(self, key: str) -> list[tuple[str, Decision]]:
        """The roles ``key`` may assume (sts:AssumeRole allowed through its trust policy), each
        with the decision that shows it: the ``can-assume`` edges of the graph."""
        found = self._assumable.get(key)
        if found is None:
            found = []
            for role, _ in sorted(self.world.nodes_of(NodeKind.ROLE)):
                if role == key:
                    continue
                decision = self._evaluate(key, "sts:AssumeRole", role, ())
                if decision.allowed:
                    found.append((role, decision))
            self._assumable[key] = found
        return found

    def can_assume_graph(self) -> list[tuple[str, str, Decision]]:
        """Every can-assume edge of the world: (principal, role, decision)."""
        edges = []
        for kind in (NodeKind.USER, NodeKind.ROLE):
            for key, _ in sorted(self.world.nodes_of(kind)):
                edges += [(key, role, d) for role, d in self.assumable_roles(key)]
        return edges

    def assume_graph(self) -> nx.MultiDiGraph:
        """The can-assume edges as a networkx graph over the world's principals: an edge
        principal -> role (key ``can-assume``) whose ``provenance`` names the trust statement and
        the identity statement that allow it (``trust`` and ``identity`` hold their paths)."""
        import networkx as nx

        graph = nx.MultiDiGraph()
        for principal, role, decision in self.can_assume_graph():
            trust = [m.path_text for m in decision.matched_statements if m.layer is Layer.RESOURCE]
            identity = [m.path_text for m in decision.matched_statements if m.layer is Layer.IDENTITY]
            graph.add_edge(
                principal, role, key=EdgeKind.CAN_ASSUME.value, trust=trust, identity=identity,
                provenance="; ".join(["trust: " + p for p in trust] + ["identity: " + p for p in identity]),
            )
        return graph

    def route(self, key: str, action: str, resource: str, context: tuple[ContextEntry, ...]) -> RoleRoute | None:
        """Breadth-first over can-assume edges: the shortest role chain that allows the request."""
        queue: deque[tuple[str, tuple[AssumeStep, ...]]] = deque([(key, ())])
        seen = {key}
        while queue:
            current, steps = queue.popleft()
            if len(steps) >= MAX_ROLE_CHAIN:
                continue
            for role, assume in self.assumable_roles(current):
                if role in seen:
                    continue
                seen.add(role)
                chain = (*steps, AssumeStep(current, role, assume))
                decision = self._evaluate(role, action, resource, context)
                if decision.allowed:
                    return RoleRoute(chain, decision)
                queue.append((role, chain))
        return None

