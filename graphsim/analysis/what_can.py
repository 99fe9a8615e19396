"""What a principal can do: its effective permissions, grouped by resource pattern.

Every Allow statement of the principal's identity-based policies is expanded through AWS's
action catalog (``NotAction`` as "every catalog action except these"), then narrowed by the
permissions boundary and each SCP level (an action survives only where every such layer also
allows it: D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html,
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html),
and actions denied outright (an unconditional Deny whose Resource covers the whole pattern, in
any of these layers: "an explicit deny in any policy overrides any allow",
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html)
are dropped. A Deny that covers only part of a pattern (the DevOps Deny on the classified
bucket inside priya's ``*``) keeps the grant and is listed in ``partially_denied_by``.

Resource patterns are compared as text: pattern A covers pattern B when A, read as a wildcard
pattern, matches B's text (``arn:aws:s3:::reports*`` covers ``arn:aws:s3:::reports/*``). The
intersection of a grant with a boundary or SCP pattern is the narrower of the two when one
covers the other; patterns that merely overlap are not combined (the grant is left out and
``narrowed_out`` counts it). Resource-based policies are not part of this view: it answers what
the principal's own policies let it do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .. import catalog
from ..engine import Engine, PolicySet, matched_statement
from ..policy import Effect, Statement
from ..policy.wildcards import cached_glob

_VERSION = "2012-10-17"


@dataclass(frozen=True, slots=True)
class ResourceGrant:
    """The actions allowed on one resource pattern (or, with ``not_resource``, on every
    resource except those patterns)."""

    resource: str  # the pattern as written; "*" when not_resource
    actions: tuple[str, ...]  # sorted, every allowed action (conditional ones included)
    conditional_actions: tuple[str, ...] = ()  # allowed only when a Condition holds
    not_resource: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # paths of the Allow statements that grant it
    partially_denied_by: tuple[str, ...] = ()  # Deny statements that take away part of it

    @property
    def key(self) -> str:
        return self.resource if not self.not_resource else "NotResource " + json.dumps(list(self.not_resource))

    @property
    def conditional(self) -> bool:
        return bool(self.conditional_actions)


@dataclass(frozen=True, slots=True)
class EffectivePermissions:
    principal: str
    label: str
    service: str | None
    resource_prefix: str | None
    grants: tuple[ResourceGrant, ...]
    narrowed_out: int = 0  # grants a boundary or SCP pattern overlapped without covering
    notes: tuple[str, ...] = field(default=())

    def by_resource(self) -> dict[str, list[str]]:
        """{resource pattern: sorted allowed actions}, conditional ones included."""
        return {g.key: list(g.actions) for g in self.grants}

    def as_policy(self, *, include_conditional: bool = False) -> dict[str, Any]:
        """One consolidated identity policy with one statement per resource pattern. Conditional
        grants are left out unless ``include_conditional`` (their conditions are not carried
        over, so including them grants more than the principal has)."""
        statements: list[dict[str, Any]] = []
        for g in self.grants:
            actions = [a for a in g.actions if include_conditional or a not in set(g.conditional_actions)]
            if not actions:
                continue
            st: dict[str, Any] = {"Effect": "Allow", "Action": actions[0] if len(actions) == 1 else actions}
            if g.not_resource:
                st["NotResource"] = g.not_resource[0] if len(g.not_resource) == 1 else list(g.not_resource)
            else:
                st["Resource"] = g.resource
            statements.append(st)
        return {"Version": _VERSION, "Statement": statements}


@dataclass(slots=True)
class _Acc:
    unconditional: set[str] = field(default_factory=set)
    conditional: set[str] = field(default_factory=set)
    sources: dict[str, None] = field(default_factory=dict)
    partial: dict[str, None] = field(default_factory=dict)


def what_can(engine: Engine, principal: str, service: str | None = None, resource_prefix: str | None = None) -> EffectivePermissions:
    """The principal's effective permissions from its identity-based policies, boundary and SCPs,
    optionally only for one service prefix (``s3``) and for patterns that may apply to
    resources starting with ``resource_prefix``."""
    key, session = engine.resolve_principal(principal)
    caller = engine.caller(key, session)
    service = service.lower() if service else None
    filters: list[list[tuple[Statement, str]]] = []  # boundary, then each SCP level: its Allow statements
    denies: list[tuple[Statement, str]] = []
    allows: list[tuple[Statement, str]] = []
    for st, path in _statements(caller.policies):
        (allows if st.effect is Effect.ALLOW else denies).append((st, path))
    for layer in ([caller.boundary] if caller.boundary is not None else []) + list(caller.scp_levels or ()):
        layer_allows = []
        for st, path in _statements(layer):
            if st.effect is Effect.ALLOW:
                layer_allows.append((st, path))
            else:
                denies.append((st, path))
        filters.append(layer_allows)

    grants: dict[tuple[str, tuple[str, ...]], _Acc] = {}
    narrowed_out = 0
    for st, path in allows:
        actions = _expand(st, service)
        if not actions:
            continue
        if st.resources is None:
            continue
        if st.not_resource:
            targets = [("*", tuple(p.text for p in st.resources.patterns))]
        else:
            targets = [(p.text, ()) for p in st.resources.patterns]
        for pattern, excluded in targets:
            for action in actions:
                action_lower = action.lower()
                placed = _through_filters(filters, action_lower, pattern, excluded)
                if placed is None:
                    narrowed_out += 1
                    continue
                final, filter_conditional = placed
                if resource_prefix is not None and not _may_apply_under(final, resource_prefix):
                    continue
                outright, partial = _deny_check(denies, action_lower, final, excluded)
                if outright:
                    continue
                acc = grants.setdefault((final, excluded), _Acc())
                if bool(st.condition.clauses) or filter_conditional:
                    acc.conditional.add(action)
                else:
                    acc.unconditional.add(action)
                acc.sources[path] = None
                for p in partial:
                    acc.partial[p] = None
    out = []
    for (pattern, excluded), acc in sorted(grants.items(), key=lambda kv: (kv[0][1] != (), kv[0][0], kv[0][1])):
        conditional = acc.conditional - acc.unconditional
        out.append(
            ResourceGrant(
                resource=pattern, actions=tuple(sorted(acc.unconditional | conditional)), conditional_actions=tuple(sorted(conditional)),
                not_resource=excluded, sources=tuple(acc.sources), partially_denied_by=tuple(acc.partial),
            )
        )
    return EffectivePermissions(
        principal=caller.identity.arn if caller.identity is not None else key, label=caller.label, service=service,
        resource_prefix=resource_prefix, grants=tuple(out), narrowed_out=narrowed_out,
        notes=("resource-based policies are not included: this is what the principal's own policies allow",),
    )


def _statements(policies: PolicySet) -> Iterable[tuple[Statement, str]]:
    for att in policies.attachments:
        for st in att.document.statements:
            yield st, matched_statement(st, att, policies.layer).path_text


@lru_cache(maxsize=1024)
def _expand_pattern(pattern: str) -> tuple[str, ...]:
    return tuple(catalog.expand(pattern))


def _expand(st: Statement, service: str | None) -> list[str]:
    """Catalog actions the statement's Action names, or for NotAction every catalog action it
    does not name (of ``service`` when given)."""
    if st.not_action:
        universe = _expand_pattern(f"{service}:*" if service else "*")
        return [a for a in universe if not st.actions.matches(a.lower())]
    out: dict[str, None] = {}
    for pattern in st.actions.patterns:
        for action in _expand_pattern(pattern):
            out[action] = None
    return [a for a in out if service is None or a.split(":", 1)[0] == service]


def covers(outer: str, inner: str) -> bool:
    """Whether resource pattern ``outer`` covers every resource ``inner`` may name (as text)."""
    return outer == "*" or outer == inner or cached_glob(outer)(inner)


def _intersect(a: str, b: str) -> str | None:
    if covers(b, a):
        return a
    if covers(a, b):
        return b
    return None


def _through_filters(filters: list[list[tuple[Statement, str]]], action_lower: str, pattern: str, excluded: tuple[str, ...]) -> tuple[str, bool] | None:
    """The grant's pattern after every boundary/SCP layer, and whether a layer allowed it only
    under a condition; None when some layer does not allow the action on the pattern (or on a
    pattern it covers or is covered by)."""
    conditional = False
    for layer in filters:
        options: list[tuple[bool, bool, str]] = []
        for st, _ in layer:
            if not st.matches_action(action_lower) or st.resources is None:
                continue
            texts = [p.text for p in st.resources.patterns]
            if st.not_resource:
                if excluded or any(covers(x, pattern) or covers(pattern, x) or _overlaps(pattern, x) for x in texts):
                    continue
                candidate = pattern
            else:
                found = next((hit for x in texts if (hit := _intersect(pattern, x)) is not None), None)
                if found is None:
                    continue
                candidate = found
            options.append((candidate != pattern, bool(st.condition.clauses), candidate))
        if not options:
            return None
        _, cond, pattern = min(options)
        conditional = conditional or cond
    return pattern, conditional


def _deny_check(denies: list[tuple[Statement, str]], action_lower: str, pattern: str, excluded: tuple[str, ...]) -> tuple[bool, list[str]]:
    """(denied outright, paths of Denies that cover only part of the pattern or apply only
    under a condition)."""
    partial: list[str] = []
    for st, path in denies:
        if not st.matches_action(action_lower) or st.resources is None:
            continue
        texts = [p.text for p in st.resources.patterns]
        if st.not_resource:
            # Denies everything except the listed patterns.
            whole = not excluded and not any(covers(x, pattern) or covers(pattern, x) or _overlaps(pattern, x) for x in texts)
            some = whole or not any(covers(x, pattern) for x in texts)
        else:
            whole = any(x == "*" or (covers(x, pattern) and not excluded) for x in texts)
            some = whole or any(covers(pattern, x) or _overlaps(pattern, x) for x in texts)
        if whole and not st.condition.clauses:
            return True, []
        if some:
            partial.append(path)
    return False, partial


def _overlaps(a: str, b: str) -> bool:
    """Rough overlap of two wildcard patterns: the literal text before the first wildcard of
    each is a prefix of the other."""
    pa, pb = re.split(r"[*?]", a, maxsplit=1)[0], re.split(r"[*?]", b, maxsplit=1)[0]
    return pa.startswith(pb) or pb.startswith(pa)


def _may_apply_under(pattern: str, prefix: str) -> bool:
    """Whether a pattern may name resources whose ARN starts with ``prefix``."""
    if pattern.startswith(prefix):
        return True
    literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
    return literal != pattern and prefix.startswith(literal)
