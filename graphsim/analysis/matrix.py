"""The access matrix: the decision for every principal x action x resource, computed cleverly.

The decision for a request depends only on the statements that speak to it and on the request
context. So:

1. **Principals** holding the same identity-based policies (the same policy nodes, directly or
   through groups), the same permissions boundary, the same account (hence SCP chain) and kind
   are decided once for the group: their requests differ only in the context keys AWS derives
   from the caller (``aws:username``, ``aws:PrincipalTag/...``), so groups are split further by
   the values of those keys, when (and only when) a statement that speaks to them reads one,
   and a principal that a resource-based policy names by ARN is kept apart.
2. **Actions** are grouped per principal group by the statements whose Action names them, in
   every layer (identity, boundary, each SCP level, each resource's resource policy and RCPs),
   plus whether the action is an ``sts:`` action (trust policies must allow those). Actions in
   one class get the same decision on every resource. A class no statement allows and none
   denies is an implicit deny everywhere, without evaluation.
3. **Resources** are grouped per (principal group, action class) by which of the class's
   statements match them and by their resource-side policies and owner; one evaluation decides
   each resource class.

Every evaluation that remains goes through ``Engine.evaluate`` for a representative
(principal, action, resource), so the matrix says exactly what ``Engine.can`` says (the tests
check it cell by cell).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .. import catalog
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
    world = engine.world
    context = tuple(context)
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

    # ---- principal groups ---------------------------------------------------------------------------
    index = world_index(world)
    coarse: dict[tuple[Any, ...], list[int]] = {}
    for i, (key, session) in enumerate(resolved):
        data = world.principal(key)
        coarse_key = (
            data["kind"], index.policies_of.get(key, frozenset()), world.boundary_of(key), data["account"], session,
            data["kind"] is NodeKind.ROLE and data["path"].startswith("/aws-service-role/"), key if key in named else None,
        )
        coarse.setdefault(coarse_key, []).append(i)
    groups: list[list[int]] = []
    for members in coarse.values():
        key, session = resolved[members[0]]
        caller = engine.caller(key, session)
        keys, _ = principal_inputs([*_statements([caller.policies, caller.boundary, *(caller.scp_levels or ())]), *resource_statements], explicit, caller.derived)
        if not keys or len(members) == 1:
            groups.append(members)
            continue
        split: dict[tuple[Any, ...], list[int]] = {}
        for i in members:
            derived = engine.derived_context(*resolved[i])
            split.setdefault(tuple(derived.get(k) for k in keys), []).append(i)
        groups.extend(split.values())

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
    # Per statement: whether it matches each resource (statements are shared by many principals).
    vectors: dict[int, tuple[bool, ...]] = {}

    def vector(st: Statement) -> tuple[bool, ...]:
        found = vectors.get(id(st))
        if found is None:
            found = vectors[id(st)] = tuple(st.matches_resource(arn, {}) for arn in arns)
        return found

    # ---- decide ---------------------------------------------------------------------------------------
    total = P * A * R
    done = 0
    evaluations = 0
    for members in groups:
        key, session = resolved[members[0]]
        caller = engine.caller(key, session)
        sets = [caller.policies, *([caller.boundary] if caller.boundary is not None else []), *(caller.scp_levels or ())]
        classes: dict[tuple[Any, ...], list[int]] = {}
        matched_of: dict[tuple[Any, ...], tuple[tuple[Entry, ...], list[Entry]]] = {}
        for a, al in enumerate(lowers):
            check_deadline()
            per_set = [_matching(ps, al) for ps in sets]
            sig = (al.startswith("sts:"), tuple(tuple(id(e) for e in m) for m in per_set), resource_sig[a])
            if sig not in classes:
                classes[sig] = []
                matched_of[sig] = (per_set[0], [e for m in per_set for e in m])
            classes[sig].append(a)
        for sig, class_actions in classes.items():
            identity_entries, entries = matched_of[sig]
            rep = class_actions[0]
            identity_allows = any(e.statement.effect is Effect.ALLOW for e in identity_entries)
            any_deny = any(e.statement.effect is Effect.DENY for e in entries) or any(resource_statements[i].effect is Effect.DENY for i in sig[2])
            resource_allows = any(resource_statements[i].effect is Effect.ALLOW for i in sig[2])
            if not (identity_allows or any_deny or resource_allows):
                continue  # nothing allows and nothing denies: the default implicit deny everywhere
            if any(e.statement.resources is not None and e.statement.resources.has_variables for e in entries):
                columns: list[tuple[bool, ...]] = [(True,)] * R
                alone = True
            else:
                columns = list(zip(*(vector(e.statement) for e in entries), strict=True)) if entries else [()] * R
                alone = False
            row = bytearray(R)
            decided: dict[tuple[Any, ...], int] = {}
            for r in range(R):
                side_key = side_keys[rep][r]
                rkey: tuple[Any, ...] = (arns[r],) if alone or side_key is None else (side_key, columns[r])
                code = decided.get(rkey)
                if code is None:
                    decision = engine.evaluate(key, canonical[rep], arns[r], context, session=session)
                    evaluations += 1
                    code = decided[rkey] = _CODE[decision.decision]
                row[r] = code
            for m in members:
                for a in class_actions:
                    start = (m * A + a) * R
                    codes[start : start + R] = row
        done += len(members) * A * R
        if progress is not None:
            progress(done, total)
    return Matrix(shown, tuple(canonical), tuple(arns), bytes(codes), principal_groups=len(groups), evaluations=evaluations)
