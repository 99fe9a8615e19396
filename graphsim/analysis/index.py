"""A reverse index of one world for access reviews: which principals hold which identity-based
policies, and which policies hold a statement that can speak to an action (and resource).

Questions such as "who can do X?" start from the few policies that mention X and walk back to
their holders, rather than building every principal's policy set. The index is rebuilt after
any change to the world (it listens to ``World.on_change``, as the engine's caches do).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache

from ..arn import Arn, account_of_principal
from ..engine import PolicySet
from ..policy import Effect, PolicyDocument, Principals, Statement
from ..policy.variables import parse_template
from ..world import EdgeKind, NodeKind, PathStep, PolicyAttachment, World

_ATTACHED = EdgeKind.ATTACHED.value
_INLINE = EdgeKind.INLINE.value
_MEMBER_OF = EdgeKind.MEMBER_OF.value
_BOUNDED_BY = EdgeKind.BOUNDED_BY.value

# Context keys AWS derives from the caller: the only keys that differ between two principals
# holding the same policies. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
PRINCIPAL_KEYS = frozenset({"aws:principalaccount", "aws:principaltype", "aws:userid", "aws:principalarn", "aws:username"})
PRINCIPAL_TAG_PREFIX = "aws:principaltag/"


# (policy node, the path's steps from the principal to the policy, the owner's attachment)
RouteEntry = tuple[str, tuple[PathStep, ...], PolicyAttachment]
# ((kind, account, boundary, service-linked), the principal's first path step)
Profile = tuple[tuple[NodeKind, str, "tuple[str, str] | None", bool], PathStep]


@dataclass(frozen=True, slots=True)
class PolicyStatement:
    """One statement of an identity-based policy node of the world."""

    policy: str  # node key
    statement: Statement


class WorldIndex:
    """Holders of every identity-based policy node (managed and inline), principals first."""

    def __init__(self, world: World) -> None:
        self.world = world
        graph = world.graph
        succ = graph.succ
        self.users = sorted(k for k, _ in world.nodes_of(NodeKind.USER))
        self.roles = sorted(k for k, _ in world.nodes_of(NodeKind.ROLE))
        self.documents: dict[str, PolicyDocument] = {}
        for kind in (NodeKind.POLICY, NodeKind.INLINE_POLICY):
            for key, data in world.documents_of(kind):
                self.documents[key] = data["document"]
        # principal -> the identity policy node keys it holds (its own and its groups').
        self.policies_of: dict[str, frozenset[str]] = {}
        self.holders: dict[str, set[str]] = {}
        # principal -> how many attachments World.identity_policies lists (a policy reached
        # twice, directly and through a group, counts twice), as the engine counts them.
        self.attachment_count: dict[str, int] = {}
        for principal in (*self.users, *self.roles):
            held: set[str] = set()
            count = 0
            for target, edges in succ[principal].items():
                if _ATTACHED in edges or _INLINE in edges:
                    held.add(target)
                    count += (_ATTACHED in edges) + (_INLINE in edges)
                if _MEMBER_OF in edges:
                    for gtarget, gedges in succ[target].items():
                        if _ATTACHED in gedges or _INLINE in gedges:
                            held.add(gtarget)
                            count += (_ATTACHED in gedges) + (_INLINE in gedges)
            self.policies_of[principal] = frozenset(held)
            self.attachment_count[principal] = count
            for policy in held:
                self.holders.setdefault(policy, set()).add(principal)
        self._by_action: dict[str, tuple[PolicyStatement, ...]] = {}
        self._speaking: dict[str, frozenset[str]] = {}
        self._by_service: dict[str, set[str]] | None = None
        self._own: dict[str, list[PolicyAttachment]] = {}
        self._sets: dict[tuple[str, frozenset[str]], PolicySet] = {}
        self._routes: dict[str, tuple[RouteEntry, ...]] = {}
        self._routes_for: dict[tuple[str, str], tuple[RouteEntry, ...]] = {}
        self._profiles: dict[str, Profile] = {}
        self._bare: dict[frozenset[str], PolicySet] = {}
        self._bare_attachment: dict[str, PolicyAttachment] = {}

    def policy_set(self, principal: str, held: frozenset[str]) -> PolicySet:
        """The identity policy set of ``principal`` restricted to the policy nodes ``held``, as
        ``PolicySet(World.identity_policies(principal, only=held))`` builds it (same order, same
        paths); kept until the world changes, so a question asked again builds nothing."""
        key = (principal, held)
        found = self._sets.get(key)
        if found is None:
            if len(self._sets) > 200_000:
                self._sets.clear()
            found = self._sets[key] = PolicySet(self._attachments(principal, held) if held else [])
        return found

    def bare_set(self, held: frozenset[str]) -> PolicySet:
        """The statements of the policy nodes ``held``, each policy once, with paths that start
        at the policy: for decisions whose outcome alone counts (the access matrix), which
        neither the order of policies nor who holds them changes."""
        found = self._bare.get(held)
        if found is None:
            if len(self._bare) > 200_000:
                self._bare.clear()
            found = self._bare[held] = PolicySet([self._attachment(p) for p in sorted(held)])
        return found

    def _attachment(self, policy: str) -> PolicyAttachment:
        found = self._bare_attachment.get(policy)
        if found is None:
            holder = min(self.holders[policy])
            found = self._bare_attachment[policy] = next(att for p, _, att in self.route(holder) if p == policy)
        return found

    def route_for(self, principal: str, action_lower: str) -> tuple[RouteEntry, ...]:
        """``route(principal)`` restricted to the policies that speak to the action, kept until
        the world changes (a question asked again, of another resource, finds it)."""
        found = self._routes_for.get((principal, action_lower))
        if found is None:
            if len(self._routes_for) > 200_000:
                self._routes_for.clear()
            wanted = self.speaking(action_lower)
            found = self._routes_for[(principal, action_lower)] = tuple(r for r in self.route(principal) if r[0] in wanted)
        return found

    def _owned(self, owner: str) -> list[PolicyAttachment]:
        # A group's policies are listed once for all its members.
        found = self._own.get(owner)
        if found is None:
            found = self._own[owner] = self.world.own_policies(owner)
        return found

    def _attachments(self, principal: str, held: frozenset[str]) -> list[PolicyAttachment]:
        """``World.identity_policies(principal, only=held)``, from each owner's policies listed once."""
        data = self.world.info(principal)
        start = PathStep(principal, data["kind"], data["label"])
        return [replace(att, path=(start, *steps)) for policy, steps, att in self.route(principal) if policy in held]

    def route(self, principal: str) -> tuple[RouteEntry, ...]:
        """How each identity policy reaches ``principal``, in the order ``World.identity_policies``
        lists them: (policy node, the path's steps after the principal, the owner's attachment).
        A policy reached twice (directly and through a group) is listed twice."""
        found = self._routes.get(principal)
        if found is None:
            world = self.world
            out: list[RouteEntry] = [(a.policy, a.path, a) for a in self._owned(principal)]
            if world.kind_of(principal) is NodeKind.USER:
                for group, edge in sorted(world.out_edges(principal, EdgeKind.MEMBER_OF)):
                    step = PathStep(group, NodeKind.GROUP, world.label_of(group), EdgeKind.MEMBER_OF, edge["provenance"])
                    out += [(a.policy, (step, *a.path), a) for a in self._owned(group)]
            found = self._routes[principal] = tuple(out)
        return found

    def profile(self, principal: str) -> Profile:
        """What sets a principal's decisions apart from its peers', besides its policies and
        context keys: (kind, account, boundary with its edge's provenance, whether it is a
        service-linked role), and the first step of its paths."""
        found = self._profiles.get(principal)
        if found is None:
            data = self.world.principal(principal)
            kind = data["kind"]
            peers = (kind, data["account"], self.boundary(principal), kind is NodeKind.ROLE and data["path"].startswith("/aws-service-role/"))
            found = self._profiles[principal] = (peers, PathStep(principal, kind, data["label"]))
        return found

    def boundary(self, principal: str) -> tuple[str, str] | None:
        """(policy node, edge provenance) of the principal's permissions boundary, or None."""
        for target, edges in self.world.graph.succ[principal].items():
            if _BOUNDED_BY in edges:
                return target, edges[_BOUNDED_BY]["provenance"]
        return None

    def speaking(self, action_lower: str) -> frozenset[str]:
        """Identity policy nodes holding any statement (Allow or Deny) whose Action names the
        action: the only policies a decision on that action reads."""
        found = self._speaking.get(action_lower)
        if found is None:
            if self._by_service is None:
                # As PolicySet indexes statements: by service, or for every action (``*``, NotAction).
                by_service: dict[str, set[str]] = {}
                for key, doc in self.documents.items():
                    for st in doc.statements:
                        services = None if st.not_action else st.actions.services
                        for service in services if services is not None else ("*",):
                            by_service.setdefault(service, set()).add(key)
                self._by_service = by_service
            service = action_lower.split(":", 1)[0]
            possible = self._by_service.get(service, set()) | self._by_service.get("*", set())
            documents = self.documents
            found = frozenset(key for key in possible if any(st.matches_action(action_lower) for st in documents[key].statements))
            self._speaking[action_lower] = found
        return found

    @property
    def principals(self) -> list[str]:
        return [*self.users, *self.roles]

    def allows_for_action(self, action_lower: str) -> tuple[PolicyStatement, ...]:
        """Allow statements of identity policies whose Action (or NotAction) names the action."""
        found = self._by_action.get(action_lower)
        if found is None:
            out = []
            for key, doc in self.documents.items():
                for st in doc.statements:
                    if st.effect is Effect.ALLOW and st.matches_action(action_lower):
                        out.append(PolicyStatement(key, st))
            found = self._by_action[action_lower] = tuple(out)
        return found

    def possible_holders(self, action_lower: str, resource: str | None = None) -> set[str]:
        """Principals holding an Allow statement that names the action and, when ``resource`` is
        given, may match it. Conservative: conditions are ignored and a Resource with policy
        variables counts as a match, so every principal this leaves out is certainly not allowed
        by its identity-based policies."""
        out: set[str] = set()
        for item in self.allows_for_action(action_lower):
            st = item.statement
            if resource is not None and not _may_match_resource(st, resource):
                continue
            out |= self.holders.get(item.policy, set())
        return out


def _may_match_resource(st: Statement, resource: str) -> bool:
    if st.resources is None or st.resources.has_variables:
        return True
    return st.matches_resource(resource, {})


class _Slot:
    __slots__ = ("index", "__weakref__")

    def __init__(self) -> None:
        self.index: WorldIndex | None = None


_INDEXES: weakref.WeakKeyDictionary[World, _Slot] = weakref.WeakKeyDictionary()


def world_index(world: World) -> WorldIndex:
    """The index of ``world``, built on first use and again after any change."""
    slot = _INDEXES.get(world)
    if slot is None:
        slot = _INDEXES[world] = _Slot()
        ref = weakref.ref(slot)

        def invalidate() -> None:
            held = ref()
            if held is not None:
                held.index = None

        world.on_change(invalidate)
    if slot.index is None:
        slot.index = WorldIndex(world)
    return slot.index


# ---- principals as data ------------------------------------------------------------------------


def _specific(key: str) -> bool:
    return key in PRINCIPAL_KEYS or key.startswith(PRINCIPAL_TAG_PREFIX)


def principal_inputs(statements: Iterable[Statement], explicit: Mapping[str, object], derived: Mapping[str, object]) -> tuple[list[str], list[str]]:
    """(the principal-dependent keys whose *values* the statements' conditions and resource
    variables may read, those whose mere presence they may report as missing), for requests
    with the context ``explicit`` by principals of one account and kind; ``derived`` is the
    derived context of any one of them (its keys that do not depend on the principal, such as
    the organization's, are every one's).

    Two principals of one account and kind holding the same statements get the same decision
    when they agree on the first list's values, and the same missing context keys when they
    also agree on which of the second list they have. A condition clause reads its policy
    values (and the variables in them) only when the request holds a value for its key
    (``ConditionClause.evaluate``: an absent key decides by the operator alone), so the
    variables of a clause whose key no request of these principals holds, such as
    ``s3:prefix`` matched against ``home/${aws:username}/*`` when the context lacks
    ``s3:prefix``, do not split principals; keys the caller supplied (``present``) are the
    same for everyone. ``aws:ResourceAccount`` counts as present: the engine adds it for every
    resource with an owner."""
    present = {*explicit, *(k for k in derived if not _specific(k))}
    values: set[str] = set()
    seen: set[str] = set()
    for st in statements:
        clauses = st.condition.clauses
        if clauses:
            for clause in clauses:
                key = clause.key_lower
                variables = _clause_variables(clause.values)
                seen.add(key)
                if variables:
                    seen.update(variables)
                if _specific(key):
                    values.add(key)
                    values.update(variables)
                elif variables and (key in present or key == "aws:resourceaccount"):
                    values.update(variables)
        if st.resources is not None and st.resources.has_variables:
            for pattern in st.resources.patterns:
                values.update(v.key_lower for v in pattern.variables)
    if not values and not seen:
        return [], []
    values = {k for k in values if _specific(k) and k not in explicit}
    presence = {k for k in seen if _specific(k) and k not in explicit and k not in values}
    return sorted(values), sorted(presence)


@lru_cache(maxsize=65536)
def _clause_variables(texts: tuple[str, ...]) -> tuple[str, ...]:
    """Every policy variable a condition clause's values hold, those with a default too (their
    value is read whenever the request has one; ``ConditionClause.variable_keys`` lists only the
    variables without a default, the keys a request must hold)."""
    out: list[str] = []
    for text in texts:
        if "${" in text:
            out += [v.key_lower for v in parse_template(text, variables_enabled=True)[0].variables]
    return tuple(out)


def named_arns(principals: Principals | None) -> tuple[bool, set[str]]:
    """(names everyone, the ARNs of the AWS type it names) for a Principal/NotPrincipal element."""
    if principals is None:
        return False, set()
    if principals.everyone:
        return True, set()
    arns: set[str] = set()
    everyone = False
    for ptype, values in principals.by_type:
        if ptype != "AWS":
            continue
        for value in values:
            if value == "*":
                everyone = True
            else:
                arns.add(value)
    return everyone, arns


def world_principal_for(world: World, value: str) -> str | None:
    """The user or role of the world an AWS principal value names directly (its ARN, or for
    an assumed-role session ARN, the role), else None."""
    graph = world.graph
    if value in graph and world.kind_of(value) in (NodeKind.USER, NodeKind.ROLE):
        return value
    arn = Arn.maybe(value)
    session = None if arn is None else arn.session_parts
    if arn is not None and session is not None:
        for key in world.named(NodeKind.ROLE, session[0]):
            if world.account_of(key) == arn.account:
                return key
    return None


def is_world_account(world: World, value: str) -> bool:
    """Whether an AWS principal value names an account of the world (id or root ARN)."""
    account = account_of_principal(value)
    return account is not None and World.account_key(account) in world.graph

