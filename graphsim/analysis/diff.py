"""Access differences between two worlds: the accesses gained and lost, cell by cell, from the
access matrix of each (a principal missing from one world has no access there)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..engine import ContextEntry, DecisionKind, Engine
from ..errors import GraphsimError
from .matrix import access_matrix, all_principals

ABSENT = "ABSENT"  # the principal does not exist in that world
_ALLOWED = DecisionKind.ALLOWED.value


@dataclass(frozen=True, slots=True)
class AccessChange:
    principal: str
    action: str
    resource: str
    before: str  # the decision in world A (or ABSENT)
    after: str  # the decision in world B (or ABSENT)
    change: str  # gained | lost


def _principals(engine: Engine) -> list[str]:
    return sorted(all_principals(engine))


def _present(engine: Engine, principal: str) -> bool:
    try:
        engine.resolve_principal(principal)
    except GraphsimError:  # not found there, or a name that is ambiguous there
        return False
    return True


def access_diff(
    engine_a: Engine,
    engine_b: Engine,
    principals: Sequence[str] | None = None,
    *,
    actions: Sequence[str],
    resources: Sequence[str],
    context: Iterable[ContextEntry] = (),
) -> list[AccessChange]:
    """Accesses allowed in B but not in A (``gained``) and in A but not in B (``lost``), for
    ``principals`` (default: every user and role of either world, by ARN) x actions x resources.
    Changes between the two kinds of deny are not accesses and are not listed."""
    context = tuple(context)
    wanted = list(principals) if principals is not None else sorted(set(_principals(engine_a)) | set(_principals(engine_b)))
    in_a = [p for p in wanted if _present(engine_a, p)]
    in_b = [p for p in wanted if _present(engine_b, p)]
    matrix_a = access_matrix(engine_a, in_a, actions, resources, context)
    matrix_b = access_matrix(engine_b, in_b, actions, resources, context)
    A, R = len(matrix_a.actions), len(matrix_a.resources)
    index_a = {p: i for i, p in enumerate(in_a)}
    index_b = {p: i for i, p in enumerate(in_b)}
    out: list[AccessChange] = []
    for p in wanted:
        ia, ib = index_a.get(p), index_b.get(p)
        for a in range(A):
            for r in range(R):
                before = matrix_a._at(ia, a, r) if ia is not None else ABSENT
                after = matrix_b._at(ib, a, r) if ib is not None else ABSENT
                if (before == _ALLOWED) != (after == _ALLOWED):
                    out.append(AccessChange(p, matrix_a.actions[a], matrix_a.resources[r], before, after, "gained" if after == _ALLOWED else "lost"))
    return out
