"""Role chains: which roles a principal may assume (the graph's can-assume edges, each with the
decision that shows it) and the shortest chain of assumed roles that allows a request.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ..arn import Arn, is_account_id
from ..limits import check_deadline
from ..policy import Effect
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
        self._pending: dict[str, tuple[list[tuple[str, Decision]], Iterator[str]]] = {}
        self._trusting: tuple[set[str], dict[str, set[str]]] | None = None
        self._lock = threading.RLock()
        self._generation = 0  # a walk begun before a change keeps nothing after it

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._assumable.clear()
            self._pending.clear()
            self._trusting = None

    def _trust_index(self) -> tuple[set[str], dict[str, set[str]]]:
        """(roles whose trust policy may name any caller, account -> roles whose trust policy
        names a principal of that account). A trust statement names a caller by its ARN, its
        session's or role's ARN, its account's root or id, or ``*`` (match_principal): each of
        these but ``*`` is in the caller's own account. Statements naming only services or
        federated providers name no user or role; NotPrincipal and ARNs whose account is not a
        plain id (a wildcard) may name anyone."""
        if self._trusting is None:
            open_roles: set[str] = set()
            by_account: dict[str, set[str]] = {}
            for role, _ in self.world.nodes_of(NodeKind.ROLE):
                _, document = self.world.trust_policy(role)
                for st in document.statements:
                    if st.effect is not Effect.ALLOW:
                        continue
                    if st.principals is None or st.not_principal or st.principals.everyone:
                        open_roles.add(role)
                        continue
                    for ptype, values in st.principals.by_type:
                        if ptype != "AWS":
                            continue
                        for value in values:
                            if is_account_id(value):
                                account = value
                            else:
                                arn = Arn.maybe(value)
                                account = arn.account if arn is not None else ""
                            if is_account_id(account):
                                by_account.setdefault(account, set()).add(role)
                            else:
                                open_roles.add(role)
            self._trusting = (open_roles, by_account)
        return self._trusting

    def assumable_roles(self, key: str) -> list[tuple[str, Decision]]:
        """The roles ``key`` may assume (sts:AssumeRole allowed through its trust policy), each
        with the decision that shows it: the ``can-assume`` edges of the graph."""
        return list(self._assumable_lazily(key))

    def _assumable_lazily(self, key: str) -> Iterator[tuple[str, Decision]]:
        """``assumable_roles(key)`` in the same order, each role asked about only when the
        caller gets that far: a route that finds its role early (one of an organization's 1,000
        ReadOnly roles) never asks about the rest. What was asked is kept for the next call."""
        done = self._assumable.get(key)
        if done is not None:
            yield from done
            return
        with self._lock:
            generation = self._generation
            if key not in self._pending:
                # Only roles whose trust policy may name the caller: sts:AssumeRole needs the
                # trust policy's grant (requires_resource_grant), so every other role denies it.
                open_roles, by_account = self._trust_index()
                candidates = sorted((open_roles | by_account.get(self.world.account_of(key), set())) - {key})
                self._pending[key] = ([], iter(candidates))
            found, rest = self._pending[key]
        i = 0
        while True:
            if i < len(found):
                yield found[i]
                i += 1
                continue
            check_deadline()  # before a role is taken from the pending ones, so none is lost
            with self._lock:
                if i < len(found):
                    continue
                role = next(rest, None)
                if role is None:
                    if generation == self._generation:
                        self._assumable[key] = found
                        self._pending.pop(key, None)
                    return
                decision = self._evaluate(key, "sts:AssumeRole", role, ())
                if decision.allowed:
                    found.append((role, decision))

    def can_assume_graph(self) -> list[tuple[str, str, Decision]]:
        """Every can-assume edge of the world: (principal, role, decision)."""
        edges = []
        for kind in (NodeKind.USER, NodeKind.ROLE):
            for key, _ in sorted(self.world.nodes_of(kind)):
                check_deadline()
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
            for role, assume in self._assumable_lazily(current):
                if role in seen:
                    continue
                seen.add(role)
                chain = (*steps, AssumeStep(current, role, assume))
                decision = self._evaluate(role, action, resource, context)
                if decision.allowed:
                    return RoleRoute(chain, decision)
                queue.append((role, chain))
        return None

