"""The engine's decision for one principal and action, without building the principal's whole
identity policy set.

``Engine.evaluate`` gathers every statement of a principal's policies once, then answers any
action fast; the first question about each principal pays for gathering them all (about 2 ms
for a synthetic user with 40 statements). A question asked of many principals once ("who can
ec2:StopInstances?") only needs, per principal, the few policies that speak to that action.
``FastDecider`` gathers exactly those, in the engine's order, with the same paths, and hands
them to the engine's own ``layers.decide``: the Decision is the engine's, field for field (the
identity layer's policy count is the principal's full count). When the engine already holds a
principal's policy set, it simply asks the engine.

``FastDecider.decide_many`` asks the engine once per group of principals whose decision inputs
coincide: the same policies speaking to the action reached along the same routes (groups,
edges), the same account, kind, boundary and resource-side context, and the same values of
the principal-dependent context keys those statements can read (``index.principal_inputs``).
Every other member gets the representative's Decision with its own name, label, paths and
policy count: what the engine would say of it, field for field.

The decision logic and the gathering stay in the engine (``Engine.evaluate`` with overriding
identity policies, ``World.identity_policies(only=...)``); this module only picks the policies.
The analysis tests compare the two, decision for decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import catalog
from ..engine import (
    ContextEntry,
    Decision,
    Engine,
    FixHint,
    Layer,
    LayerVerdict,
    MatchedStatement,
    PolicySet,
    build_context,
    matched_statement,
    scan,
)
from ..limits import check_deadline
from ..policy import Effect, Statement
from ..world import PathStep, PolicyAttachment, World
from .index import RouteEntry, WorldIndex, named_arns, principal_inputs, world_index, world_principal_for


class FastDecider:
    """Decides (principal, action, resource) like ``Engine.evaluate`` for principals whose policy
    sets the engine has not built yet. One instance per question batch."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world: World = engine.world
        self.index: WorldIndex = world_index(engine.world)

    def evaluate(self, key: str, action: str, resource: str, context: tuple[ContextEntry, ...] = ()) -> Decision:
        engine = self.engine
        if engine.gathered(key):
            return engine.evaluate(key, action, resource, context)
        canonical = catalog.require_action(action)
        wanted = self.index.speaking(canonical.lower())
        held = self.index.policies_of.get(key, frozenset()) & wanted
        decision = engine.evaluate(key, canonical, resource, context, policies=self.index.policy_set(key, held))
        # The identity layer stands for the principal's whole set, as the engine would count it.
        count = self.index.attachment_count[key]
        verdicts = tuple(LayerVerdict(v.layer, v.decision, count) if v.layer is Layer.IDENTITY else v for v in decision.layer_verdicts)
        return replace(decision, layer_verdicts=verdicts)

    def decide_many(
        self, keys: Sequence[str], action: str, resource: str, context: tuple[ContextEntry, ...] = (), *, allowed_only: bool = False
    ) -> dict[str, Decision]:
        """``evaluate`` for each of ``keys`` (users and roles, as sessions), asking the engine once
        per group of principals whose decision inputs coincide (see the module's docstring).
        With ``allowed_only``, only the allowed decisions are returned (the others are not built)."""
        engine, index = self.engine, self.index
        canonical = catalog.require_action(action)
        question = _Question(self, canonical, resource, context)
        named = question.named
        groups: dict[tuple[Any, ...], list[tuple[str, _Held]]] = {}
        action_lower = canonical.lower()
        for n, key in enumerate(keys):
            if not n % 256:
                check_deadline()
            peers, _ = index.profile(key)
            derived = engine.derived_context(key)
            held = question.held(key, peers[1], index.route_for(key, action_lower), derived)
            group_key = (peers, key if key in named else None, question.outer_class(key, peers, derived), bool(held.allows), bool(held.denies), held.missing)
            groups.setdefault(group_key, []).append((key, held))
        out: dict[str, Decision] = {}
        for members in groups.values():
            check_deadline()
            rep = members[0][0]
            decision = self.evaluate(rep, canonical, resource, context)
            if allowed_only and not decision.allowed:
                continue
            out[rep] = decision
            if len(members) > 1:
                mover = _Mover(self, decision, rep)
                for key, held in members[1:]:
                    out[key] = mover.moved(key, held)
        return out


@dataclass(slots=True)
class _Held:
    """What one principal's identity policies say about the request: the statements that apply,
    in the order the engine's scan lists them (with each one's route), and the missing keys."""

    allows: list[tuple[tuple[PathStep, ...], PolicyAttachment, Statement]]
    denies: list[tuple[tuple[PathStep, ...], PolicyAttachment, Statement]]
    missing: tuple[str, ...]


class _Question:
    """One (action, resource, context) asked of many principals: each identity policy's scan
    is done once per account and per values of the principal-dependent keys its statements
    read, through the engine's ``scan`` on a set holding that policy alone. A principal's scan
    of its whole set is the concatenation of its policies' scans in its policy order."""

    def __init__(self, decider: FastDecider, action: str, resource: str, context: tuple[ContextEntry, ...]) -> None:
        self.decider = decider
        self.action_lower = action.lower()
        self.resource = resource
        self.context = context
        self.explicit = build_context(context)
        engine, index = decider.engine, decider.index
        self.wanted = index.speaking(self.action_lower)
        target = engine.target(resource)
        self.side = [e.statement for ps in (target.resource_policy, *(target.rcp_levels or ())) if ps is not None
                     for e in ps.candidates(self.action_lower) if e.statement.matches_action(self.action_lower)]
        self.named = _named_principals(decider.world, self.side)
        self._inputs: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
        self._outer: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}
        self._scans: dict[tuple[Any, ...], tuple[tuple[Statement, ...], tuple[Statement, ...], tuple[str, ...]]] = {}
        self._sets: dict[str, PolicySet] = {}
        self._plain: dict[str, dict[str, tuple[tuple[Statement, ...], tuple[Statement, ...], tuple[str, ...]]]] = {}

    def _policy_inputs(self, policy: str, account: str, key: str) -> tuple[list[str], list[str]]:
        found = self._inputs.get((policy, account))
        if found is None:
            statements = [st for st in self.decider.index.documents[policy].statements if st.matches_action(self.action_lower)]
            found = self._inputs[(policy, account)] = principal_inputs(statements, self.explicit, self.decider.engine.derived_context(key))
        return found

    def _outer_inputs(self, key: str, peers: tuple[Any, ...]) -> tuple[list[str], list[str]]:
        """The principal-dependent keys read by the boundary's, the SCPs' and the resource side's statements."""
        found = self._outer.get(peers)
        if found is None:
            base = self.decider.engine.caller_base(key)
            statements = list(self.side)
            for ps in (base.boundary, *(base.scp_levels or ())):
                if ps is not None:
                    statements += [e.statement for e in ps.candidates(self.action_lower) if e.statement.matches_action(self.action_lower)]
            found = self._outer[peers] = principal_inputs(statements, self.explicit, base.derived)
        return found

    def outer_class(self, key: str, peers: tuple[Any, ...], derived: Mapping[str, object]) -> tuple[Any, ...]:
        return _class(self._outer_inputs(key, peers), derived)

    def held(self, key: str, account: str, route: Sequence[RouteEntry], derived: Mapping[str, object]) -> _Held:
        allows: list[tuple[tuple[PathStep, ...], PolicyAttachment, Statement]] = []
        denies: list[tuple[tuple[PathStep, ...], PolicyAttachment, Statement]] = []
        missing: list[str] = []
        scans, inputs = self._scans, self._inputs
        plain = self._plain.get(account)
        if plain is None:
            plain = self._plain[account] = {}
        for policy, steps, att in route:
            found = plain.get(policy)
            if found is None:
                found_inputs = inputs.get((policy, account)) or self._policy_inputs(policy, account, key)
                cache_key = (policy, account, _class(found_inputs, derived))
                found = scans.get(cache_key)
                if found is None:
                    found = scans[cache_key] = self._scan(policy, att, key)
                if not cache_key[2] and not any(found_inputs):
                    plain[policy] = found  # its statements read no principal key: the same scan for everyone
            if found[0]:
                allows += [(steps, att, st) for st in found[0]]
            if found[1]:
                denies += [(steps, att, st) for st in found[1]]
            if found[2]:
                missing += found[2]
        return _Held(allows, denies, tuple(missing))

    def _scan(self, policy: str, att: PolicyAttachment, key: str) -> tuple[tuple[Statement, ...], tuple[Statement, ...], tuple[str, ...]]:
        engine = self.decider.engine
        ps = self._sets.get(policy)
        if ps is None:
            ps = self._sets[policy] = PolicySet([att])
        missing: list[str] = []
        ctx = engine.request_context(key, self.resource, self.context)
        result = scan(ps, self.action_lower, self.resource, ctx, missing)
        return tuple(e.statement for e in result.allows), tuple(e.statement for e in result.denies), tuple(missing)


def _class(inputs: tuple[list[str], list[str]], derived: Mapping[str, object]) -> tuple[Any, ...]:
    values, presence = inputs
    if not values and not presence:
        return ()
    return (*(derived.get(k) for k in values), *(k in derived for k in presence))


class _Mover:
    """One representative's decision, handed to the other principals of its group: each gets
    its own name, label and policy count, its own identity statements (those of its policies
    that apply, along its own routes, where the representative's decision lists identity
    statements: the allows when it is allowed through them, the denies when denied by them),
    and its boundary's path. The decision's kind and every other field depend on the identity
    layer only through whether it allows, whether it denies, and the missing keys, which the
    group shares."""

    def __init__(self, decider: FastDecider, decision: Decision, rep: str) -> None:
        self.decider = decider
        self.decision = decision
        self.rep = rep
        identity = [m for m in decision.matched_statements if m.layer is Layer.IDENTITY]
        self.effect = identity[0].effect if identity else None
        # Identity statements come first in every decision's list (layers._MATCH_ORDER).
        self.others = tuple(m for m in decision.matched_statements if m.layer is not Layer.IDENTITY)
        self._base: dict[tuple[str, int], MatchedStatement] = {}
        self._verdicts: dict[int, tuple[LayerVerdict, ...]] = {}
        self._others_moved = any(m.layer is Layer.BOUNDARY and m.path and m.path[0].node == rep for m in self.others)

    def _layer_verdicts(self, count: int) -> tuple[LayerVerdict, ...]:
        found = self._verdicts.get(count)
        if found is None:
            found = self._verdicts[count] = tuple(
                LayerVerdict(v.layer, v.decision, count) if v.layer is Layer.IDENTITY else v for v in self.decision.layer_verdicts
            )
        return found

    def moved(self, key: str, held: _Held) -> Decision:
        decider, decision = self.decider, self.decision
        caller = decider.engine.caller_base(key)
        assert caller.identity is not None
        _, start = decider.index.profile(key)
        matched: list[MatchedStatement] = []
        if self.effect is not None:
            for steps, att, st in held.allows if self.effect is Effect.ALLOW else held.denies:
                base = self._base.get((att.policy, st.index))
                if base is None:
                    base = self._base[(att.policy, st.index)] = matched_statement(st, att, Layer.IDENTITY)
                matched.append(MatchedStatement(
                    base.policy, base.policy_key, base.policy_arn, base.policy_type, base.sid, base.index, base.effect, base.layer,
                    (start, *steps, base.path[-1]), base.raw,
                ))
        if self._others_moved:
            rep = self.rep
            matched += [
                MatchedStatement(m.policy, m.policy_key, m.policy_arn, m.policy_type, m.sid, m.index, m.effect, m.layer, (start, *m.path[1:]), m.raw)
                if m.layer is Layer.BOUNDARY and m.path and m.path[0].node == rep else m
                for m in self.others
            ]
        elif self.others:
            matched += self.others
        fix = decision.fix
        if fix is not None:
            if fix.denied_by:
                fix = FixHint(denied_by=tuple(m.path_text for m in matched))
            else:
                fix = FixHint(statement=dict(fix.statement or {}), principal_label=caller.label, blocked_by=fix.blocked_by)
        return Decision(
            caller.identity.arn, decision.action, decision.resource, decision.decision, tuple(matched), decision.missing_context_values,
            self._layer_verdicts(decider.index.attachment_count[key]),
            decision.blocked_by, decision.warnings, fix, caller.label, decision.allowed_by_organizations, decision.allowed_by_boundary,
        )


def _named_principals(world: World, statements: Iterable[Statement]) -> set[str]:
    """The world's users and roles that resource-side statements name (Principal or
    NotPrincipal): their decisions may differ from their peers', so they stand alone."""
    named: set[str] = set()
    for st in statements:
        _, values = named_arns(st.principals)
        named.update(k for k in (world_principal_for(world, v) for v in values) if k is not None)
    return named
