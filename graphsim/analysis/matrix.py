"""The access matrix: the decision for every principal x action x resource, computed cleverly.

The decision for a request depends only on the statements that speak to it and on the request
context. So, one action at a time:

1. **Principals** are grouped by the identity-based policies they hold *that speak to the
   action* (a synthetic user holds a dozen policies, two or three of which name any one
   action), with the same kind, account (hence SCP chain), permissions boundary and session;
   a principal that a resource-based policy names by ARN is kept apart. A group no statement
   allows and none denies is an implicit deny everywhere, without evaluation.
2. **Resources** are split per group by their resource side (resource policy, RCPs, owner,
   whether the resource itself must grant) and by which of the group's statements match them
   (bit masks over the resources); a class that no statement matches, with nothing on the
   resource side, is an implicit deny.
3. Each remaining class is decided once per action for every group it stands for: what its
   decision reads is the statements that match, the resource side, and the values of the
   context keys AWS derives from the caller (``aws:username``, ``aws:PrincipalTag/...``) that
   those statements can read (``index.principal_inputs``).

Every evaluation goes through ``Engine.evaluate`` for a representative (principal, action,
resource), with the policies that speak to the action as its identity set, so the matrix says
exactly what ``Engine.can`` says (the tests check it cell by cell). ``principal_groups`` counts
the principals with identical policy sets (of all actions).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .. import catalog
from ..bulk import collector_paused
from ..engine import ContextEntry, DecisionKind, Engine, Entry, PolicySet, build_context, requires_resource_grant
from ..limits import check_deadline
from ..policy import Effect, Statement
from ..world import NodeKind
from .index import named_arns, principal_inputs, world_index, world_principal_for

DECISIONS: tuple[str, ...] = (DecisionKind.ALLOWED.value, DecisionKind.EXPLICIT_DENY.value, DecisionKind.IMPLICIT_DENY.value)
_CODE = {DecisionKind.ALLOWED: 0, DecisionKind.EXPLICIT_DENY: 1, DecisionKind.IMPLICIT_DENY: 2}
_IMPLICIT = 2

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Matrix:
    """Decisions for principals x actions x resources, one byte each (an index into
    ``DECISIONS``), principal-major."""

    principals: tuple[str, ...]  # ARNs (a session ARN for a session)
    actions: tuple[str, ...]  # canonical names
    resources: tuple[str, ...]  # ARNs or "*"
    codes: bytes
    principal_groups: int = 0
    evaluations: int = 0

    def _at(self, p: int, a: int, r: int) -> str:
        return DECISIONS[self.codes[(p * len(self.actions) + a) * len(self.resources) + r]]

    def decision(self, principal: str, action: str, resource: str) -> str:
        """The decision of one cell, by the principal, action and resource as listed."""
        return self._at(self.principals.index(principal), _find(self.actions, action), self.resources.index(resource))

    def rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(principal, action, resource, decision) for every cell, principal-major."""
        codes = self.codes
        i = 0
        for p in self.principals:
            for a in self.actions:
                for r in self.resources:
                    yield p, a, r, DECISIONS[codes[i]]
                    i += 1

    def counts(self) -> dict[str, int]:
        return {name: self.codes.count(code) for code, name in enumerate(DECISIONS)}

    def to_csv(self, file: IO[str] | str | Path) -> None:
        """Write ``principal,action,resource,decision`` rows with a header."""
        if isinstance(file, (str, Path)):
            with open(file, "w", newline="", encoding="utf-8") as handle:
                self.to_csv(handle)
            return
        writer = csv.writer(file)
        writer.writerow(("principal", "action", "resource", "decision"))
        writer.writerows(self.rows())


def _find(actions: tuple[str, ...], action: str) -> int:
    low = action.lower()
    for i, a in enumerate(actions):
        if a.lower() == low:
            return i
    raise ValueError(f"{action} is not an action of this matrix")


def _shown(engine: Engine, key: str, session: str | None) -> str:
    if session is None:
        return key
    identity = engine.caller(key, session).identity
    return identity.arn if identity is not None else key


def _matching(ps: PolicySet, action_lower: str) -> tuple[Entry, ...]:
    return tuple(e for e in ps.candidates(action_lower) if e.statement.matches_action(action_lower))


def _statements(sets: Iterable[PolicySet | None]) -> Iterator[Statement]:
    for ps in sets:
        if ps is not None:
            for att in ps.attachments:
                yield from att.document.statements


def all_principals(engine: Engine) -> list[str]:
    """Every principal of the world that can make a request: its users, then its roles, each by
    ARN in order; the matrix's rows when none are named."""
    world = engine.world
    return [key for kind in (NodeKind.USER, NodeKind.ROLE) for key, _ in sorted(world.nodes_of(kind))]


def access_matrix(
    engine: Engine,
    principals: Sequence[str],
    actions: Sequence[str],
    resources: Sequence[str],
    context: Iterable[ContextEntry] = (),
    progress: Progress | None = None,
) -> Matrix:
    """The decision of every (principal, action, resource) under ``context``. ``principals`` by
    name, ARN or session ARN; ``resources`` by ARN, ``*`` or bucket name; ``progress(done,
    total)`` is called as cells are filled."""
    with collector_paused():
        return _access_matrix(engine, principals, actions, resources, tuple(context), progress)


def _access_matrix(
    engine: Engine, principals: Sequence[str], actions: Sequence[str], resources: Sequence[str], context: tuple[ContextEntry, ...], progress: Progress | None
) -> Matrix:
    world = engine.world
    explicit = build_context(context)
    resolved = [engine.resolve_principal(p, field=f"principals[{i}]") for i, p in enumerate(principals)]
    canonical = [catalog.require_action(a, field=f"actions[{i}]") for i, a in enumerate(actions)]
    arns = [engine.resolve_resource(r, field=f"resources[{i}]") for i, r in enumerate(resources)]
    P, A, R = len(resolved), len(canonical), len(arns)
    codes = bytearray([_IMPLICIT]) * (P * A * R)
    shown = tuple(_shown(engine, k, s) for k, s in resolved)
    if not codes:
        return Matrix(shown, tuple(canonical), tuple(arns), bytes(codes))

    # ---- the resource side: the same for every principal ----------------------------------------
    targets = [engine.target(arn, "resource") for arn in arns]
    lowers = [a.lower() for a in canonical]
    resource_sets: list[PolicySet] = []
    seen_sets: set[int] = set()
    for t in targets:
        for ps in (t.resource_policy, *(t.rcp_levels or ())):
            if ps is not None and id(ps) not in seen_sets:
                seen_sets.add(id(ps))
                resource_sets.append(ps)
    resource_statements = list({id(st): st for st in _statements(resource_sets)}.values())
    named: set[str] = set()
    for st in resource_statements:
        _, values = named_arns(st.principals)
        named.update(k for k in (world_principal_for(world, v) for v in values) if k is not None)
    # Per action: the resource-side statements (by position in the statement list) naming it.
    position = {id(st): i for i, st in enumerate(resource_statements)}
    resource_sig = [
        tuple(sorted({position[id(e.statement)] for ps in resource_sets for e in _matching(ps, al)})) for al in lowers
    ]

    # ---- principals ---------------------------------------------------------------------------------
    # What sets a principal's decisions apart besides its policies: kind, account, boundary,
    # session, being named by a resource-side statement.
    index = world_index(world)
    peers_of: list[tuple[Any, ...]] = []
    held_of: list[frozenset[str]] = []
    for key, session in resolved:
        peers_of.append((index.profile(key)[0], session, key if key in named else None))
        held_of.append(index.policies_of.get(key, frozenset()))
    principal_groups = len(set(zip(peers_of, held_of, strict=True)))
    derived_of: dict[int, Any] = {}

    def derived(i: int) -> Any:
        found = derived_of.get(i)
        if found is None:
            found = derived_of[i] = engine.derived_context(*resolved[i])
        return found

    # Per action and resource: what the resource side contributes to a resource class (None when
    # a resource-side statement holds policy variables: then the resource stands alone).
    side_keys: list[list[tuple[Any, ...] | None]] = []
    for al in lowers:
        row_keys: list[tuple[Any, ...] | None] = []
        for arn, target in zip(arns, targets, strict=True):
            side = [ps for ps in (target.resource_policy, *(target.rcp_levels or ())) if ps is not None]
            side_entries = [e for ps in side for e in _matching(ps, al)]
            if any(e.statement.resources is not None and e.statement.resources.has_variables for e in side_entries):
                row_keys.append(None)
            else:
                row_keys.append((
                    tuple(ps.attachments[0].policy if ps.attachments else "" for ps in side), id(target.rcp_levels), target.owner,
                    requires_resource_grant(al, arn), tuple(e.statement.matches_resource(arn, {}) for e in side_entries),
                ))
        side_keys.append(row_keys)
    # Per action: the resources by what the resource side contributes, as bit masks over the
    # resources (a resource whose side key is None stands alone).
    side_classes: list[list[tuple[tuple[Any, ...] | None, int]]] = []
    for row_keys in side_keys:
        masks: dict[tuple[Any, ...], int] = {}
        lone: list[tuple[tuple[Any, ...] | None, int]] = []
        for r, side_key in enumerate(row_keys):
            if side_key is None:
                lone.append((None, 1 << r))
            else:
                masks[side_key] = masks.get(side_key, 0) | 1 << r
        side_classes.append([*masks.items(), *lone])
    # Per statement: the resources it matches, as a bit mask (statements are shared by many principals).
    resource_masks: dict[int, int] = {}

    def resource_mask(st: Statement) -> int:
        found = resource_masks.get(id(st))
        if found is None:
            found = resource_masks[id(st)] = sum(1 << r for r, arn in enumerate(arns) if st.matches_resource(arn, {}))
        return found

    statements_of: dict[tuple[str, str], tuple[Statement, ...]] = {}

    def speaking(policy: str, action_lower: str) -> tuple[Statement, ...]:
        """The statements of one policy whose Action names the action."""
        found = statements_of.get((policy, action_lower))
        if found is None:
            found = statements_of[(policy, action_lower)] = tuple(st for st in index.documents[policy].statements if st.matches_action(action_lower))
        return found

    inputs_of: dict[tuple[int, str, tuple[int, ...]], list[str]] = {}

    def reads(a: int, account: str, hits: tuple[int, ...], by_id: dict[int, Statement], side: list[Statement], derived_sample: Any) -> list[str]:
        """The principal keys whose values the matching statements (and the action's resource-side statements) read."""
        found = inputs_of.get((a, account, hits))
        if found is None:
            found = inputs_of[(a, account, hits)] = principal_inputs([*(by_id[h] for h in hits), *side], explicit, derived_sample)[0]
        return found

    # ---- decide, one action at a time ---------------------------------------------------------------
    # Per action, principals holding the same policies that speak to it (of all they hold) are
    # grouped: a synthetic user holds a dozen policies, two or three of them speaking to any one
    # action. Per group, resources fall into classes by the resource side and by which of those
    # statements match them; a class no statement matches, with no resource-side statement, is
    # an implicit deny, and every other class is decided once per action for all the groups it
    # stands for: the statements that match, the resource side, and the values of the
    # principal keys the group's statements read are all its decision reads.
    total = P * A * R
    done = 0
    evaluations = 0
    full = (1 << R) - 1
    for a, al in enumerate(lowers):
        check_deadline()
        wanted = index.speaking(al)
        by_holding: dict[tuple[Any, ...], list[int]] = {}
        for i in range(P):
            by_holding.setdefault((peers_of[i], held_of[i] & wanted), []).append(i)
        side_statements = [resource_statements[j] for j in resource_sig[a]]
        resource_allows = any(st.effect is Effect.ALLOW for st in side_statements)
        resource_denies = any(st.effect is Effect.DENY for st in side_statements)
        decided: dict[tuple[Any, ...], int] = {}
        for (peers, held), members in by_holding.items():
            check_deadline()
            key, session = resolved[members[0]]
            base = engine.caller_base(key, session)
            identity_statements = [st for policy in sorted(held) for st in speaking(policy, al)]
            statements = [*identity_statements, *(e.statement for ps in (base.boundary, *(base.scp_levels or ())) if ps is not None for e in _matching(ps, al))]
            identity_allows = any(st.effect is Effect.ALLOW for st in identity_statements)
            if not (identity_allows or resource_allows or resource_denies or any(st.effect is Effect.DENY for st in statements)):
                continue  # nothing allows and nothing denies: the default implicit deny everywhere
            classes = _resource_classes(statements, side_classes[a], arns, resource_mask, full)
            if not side_statements:
                classes = [c for c in classes if c[0][1]]  # no statement matches them: the default implicit deny
                if not classes:
                    continue
            keys, _ = principal_inputs([*statements, *side_statements], explicit, base.derived)
            if keys and len(members) > 1:
                split: dict[tuple[Any, ...], list[int]] = {}
                for i in members:
                    values = derived(i)
                    split.setdefault(tuple(values.get(k) for k in keys), []).append(i)
                parts = list(split.values())
            else:
                parts = [members]
            # Per class, the principal keys its decision reads: those of the statements that match.
            by_id = {id(st): st for st in statements}
            class_keys = [(class_key, mask, reads(a, peers[0][1], class_key[1], by_id, side_statements, base.derived)) for class_key, mask in classes]
            identity: PolicySet | None = None
            for part in parts:
                key, session = resolved[part[0]]
                values = derived(part[0])
                row: bytearray | None = None
                for class_key, mask, read in class_keys:
                    cache_key = (peers, class_key, tuple(values.get(k) for k in read) if read else ())
                    code = decided.get(cache_key)
                    if code is None:
                        if identity is None:
                            identity = index.bare_set(held)
                        # The policies speaking to the action decide it (the others never match it).
                        first = (mask & -mask).bit_length() - 1
                        decision = engine.evaluate(key, canonical[a], arns[first], context, session=session, policies=identity)
                        evaluations += 1
                        code = decided[cache_key] = _CODE[decision.decision]
                    if code != _IMPLICIT:
                        if row is None:
                            row = bytearray([_IMPLICIT]) * R
                        while mask:
                            low = mask & -mask
                            row[low.bit_length() - 1] = code
                            mask ^= low
                if row is not None:
                    for m in part:
                        start = (m * A + a) * R
                        codes[start : start + R] = row
        done += P * R
        if progress is not None:
            progress(done, total)
    return Matrix(shown, tuple(canonical), tuple(arns), bytes(codes), principal_groups=principal_groups, evaluations=evaluations)


def _resource_classes(
    statements: list[Statement], side_classes: list[tuple[tuple[Any, ...] | None, int]], arns: list[str], resource_mask: Callable[[Statement], int], full: int
) -> list[tuple[tuple[Any, ...], int]]:
    """The resources (bit masks) split by the resource side and by which ``statements`` match
    them, each class keyed by what its decision reads: (resource-side key, the statements that
    match). A statement with policy variables in its Resource matches per request: then, as
    for a resource whose resource side holds variables, each resource stands alone, with all
    the statements."""
    everything = tuple(id(st) for st in statements)
    if any(st.resources is not None and st.resources.has_variables for st in statements):
        return [(((arns[r],), everything), 1 << r) for r in range(len(arns))]
    out: list[tuple[tuple[Any, ...], int]] = []
    hits_of = [resource_mask(st) for st in statements]
    for side_key, side_mask in side_classes:
        if side_key is None:
            r = side_mask.bit_length() - 1
            out.append((((arns[r],), everything), side_mask))
            continue
        parts: list[tuple[int, tuple[int, ...]]] = [(side_mask, ())]
        for st, hit in zip(statements, hits_of, strict=True):
            if not hit & side_mask:
                continue
            sid = id(st)
            split: list[tuple[int, tuple[int, ...]]] = []
            for mask, hits in parts:
                inside = mask & hit
                if inside:
                    split.append((inside, (*hits, sid)))
                outside = mask & ~hit & full
                if outside:
                    split.append((outside, hits))
            parts = split
        out += [((side_key, hits), mask) for mask, hits in parts]
    return out
