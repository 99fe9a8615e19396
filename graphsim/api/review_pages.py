"""Access reviews whose answers grow with the world, as cursor connections: ``whoCanConnection``
and ``findingsConnection`` (``AccessMatrix.cellsConnection`` pages the matrix's cells).

A review is computed once per world version and question, and kept (a few per world, until the
world changes) so that walking its pages does not compute it again for each page; cursors follow
the connections' rule (connections.py): valid until the world changes.
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from .. import analysis
from ..limits import active
from ..world import NodeKind, World
from .connections import Connection, ListingScope, page_size, paginate
from .context import workspace
from .errors import typed_errors
from .inputs import ContextEntryInput, to_context
from .reviews import ReviewFinding, WhoCanEntry

T = TypeVar("T")
KEPT_PER_WORLD = 8
_KEPT: weakref.WeakKeyDictionary[World, OrderedDict[tuple[int, str], list[Any]]] = weakref.WeakKeyDictionary()


def _kept(world: World, question: str, compute: Callable[[], list[T]]) -> list[T]:
    """``compute()``, or its answer for the same question at the same world version."""
    answers = _KEPT.setdefault(world, OrderedDict())
    key = (world.version, question)
    if key in answers:
        answers.move_to_end(key)
        return answers[key]
    answer = compute()
    answers[key] = answer
    while len(answers) > KEPT_PER_WORLD:
        answers.popitem(last=False)
    return answer


def _checked(scope: ListingScope, first: int | None, after: str | None) -> ListingScope:
    """``scope``, once ``first`` and ``after`` are known good: a stale cursor costs no review."""
    page_size(first)
    if after is not None:
        scope.position_after(after)
    return scope


def _context_key(context: list[ContextEntryInput] | None) -> Any:
    return None if context is None else [[c.context_key_name, list(c.context_key_values), str(c.context_key_type)] for c in context]


@strawberry.type
class ReviewPageQuery:
    @strawberry.field(description="whoCan, a page at a time (principals in the order whoCan lists them).")
    @typed_errors
    def who_can_connection(
        self, info: Info, actions: list[str], resource: str, context: list[ContextEntryInput] | None = None, world: str | None = None,
        first: int | None = None, after: str | None = None,
    ) -> Connection[WhoCanEntry]:
        engine = workspace(info).engine(world)
        principals = sum(1 for kind in (NodeKind.USER, NodeKind.ROLE) for _ in engine.world.nodes_of(kind))
        active().check("analysis_size", principals * len(set(actions)), what=f"whoCan would evaluate {principals:,} principals x {len(set(actions)):,} actions", field="actions")
        arguments = [actions, resource, _context_key(context)]
        question = json.dumps(["whoCan", arguments], sort_keys=True, default=str)
        scope = _checked(ListingScope(world=engine.world.name, version=engine.world.version, listing="Query.whoCanConnection", arguments=arguments), first, after)
        entries = _kept(engine.world, question, lambda: analysis.who_can(engine, actions, resource, to_context(context)))
        return paginate(scope, entries, WhoCanEntry.of, first, after)

    @strawberry.field(description="findings, a page at a time.")
    @typed_errors
    def findings_connection(self, info: Info, rules: list[str] | None = None, world: str | None = None, first: int | None = None, after: str | None = None) -> Connection[ReviewFinding]:
        ws = workspace(info)
        w, engine = ws.world(world), ws.engine(world)
        question = json.dumps(["findings", rules])
        scope = _checked(ListingScope(world=w.name, version=w.version, listing="Query.findingsConnection", arguments=rules), first, after)
        found = _kept(w, question, lambda: analysis.findings(w, engine, rules))
        return paginate(scope, found, ReviewFinding.of, first, after)
