"""Findings for an access review: a small registry of rules, one function each, over the
world's identity-based policies (managed and inline) and its principals.

| rule | severity | what |
| --- | --- | --- |
| ``wildcard-action`` | high for ``*``, medium for ``service:*`` | an Allow statement's Action is a wildcard over all actions (of a service) |
| ``wildcard-resource`` | medium with wildcard actions, else low | an Allow statement grants, on Resource ``*``, actions that act on specific resources (least privilege: scope them) |
| ``admin-equivalent`` | high | a principal is admin-equivalent (``escalation.is_admin_equivalent``) |
| ``allow-not-action`` | medium | an Allow with NotAction grants every action but those listed, including ones added to AWS later |
| ``unknown-action`` | medium when no entry is known, else low | Action entries AWS's catalog does not know (they match nothing) |
| ``resource-type-mismatch`` | medium when the statement can never match, else low | an action listed with Resource ARNs none of which is of a type the action acts on |
| ``unattached-policy`` | low | a customer managed policy attached to nothing (neither as a permission nor as a boundary) |
| ``user-direct-policy`` | low | a user with policies attached or written inline on itself rather than through a group |

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html (least privilege; groups
over per-user policies; review unused permissions)
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
D: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from .. import catalog
from ..engine import Engine
from ..errors import InvalidRequestError
from ..limits import check_deadline
from ..policy import Effect, Statement
from ..world import AWS_MANAGED_ACCOUNT, EdgeKind, NodeKind, World
from .escalation import ADMIN_PROBES, is_admin_equivalent
from .index import world_index

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    severity: str  # high | medium | low
    why: str
    policy: str = ""  # the policy's label (policy/X, inline-policy/owner/X), "" for principal findings
    policy_key: str = ""
    statement: str = ""  # Statement[i] (Sid ...)
    path: str = ""  # policy -> statement, or the principal
    principal: str = ""  # for principal findings: its ARN
    account: str = ""  # the account of the principal or policy ("aws" for AWS-managed policies)


FindingRule = Callable[[World, Engine], Iterable[Finding]]
RULES: dict[str, FindingRule] = {}


def rule(rule_id: str) -> Callable[[FindingRule], FindingRule]:
    def register(fn: FindingRule) -> FindingRule:
        RULES[rule_id] = fn
        return fn

    return register


def findings(world: World, engine: Engine, rules: Iterable[str] | None = None) -> list[Finding]:
    """Every finding of the chosen rules (all by default), most severe first."""
    chosen = check_rules(rules)
    out: list[Finding] = []
    for rule_id in chosen:
        for finding in RULES[rule_id](world, engine):
            check_deadline()
            out.append(finding)
    return in_order(world, out)


def in_order(world: World, found: Iterable[Finding]) -> list[Finding]:
    """Findings as every surface lists them: each with its account (labels such as user/alice
    repeat across the accounts of a multi-account world), most severe first."""
    out = [replace(f, account=world.account_of(f.principal or f.policy_key)) if (f.principal or f.policy_key) in world.graph else f for f in found]
    return sorted(out, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule_id, f.path, f.account))


def check_rules(rules: Iterable[str] | None) -> list[str]:
    """The rules asked for (all by default), each known, or an error naming the unknown one."""
    chosen = list(RULES) if rules is None else list(rules)
    for i, rule_id in enumerate(chosen):
        if rule_id not in RULES:
            raise InvalidRequestError(f"unknown finding rule {rule_id!r}; known: {', '.join(sorted(RULES))}", field=f"rules[{i}]")
    return chosen


# ---- helpers -------------------------------------------------------------------------------------


def _identity_statements(world: World) -> Iterator[tuple[str, str, Statement]]:
    """(policy key, policy label, statement) for every identity-based policy of the world."""
    for kind in (NodeKind.POLICY, NodeKind.INLINE_POLICY):
        for key, data in sorted(world.documents_of(kind)):
            check_deadline()
            for st in data["document"].statements:
                yield key, data["label"], st


def _finding(rule_id: str, severity: str, why: str, key: str, label: str, st: Statement) -> Finding:
    return Finding(rule_id, severity, why, policy=label, policy_key=key, statement=st.label, path=f"{label} -> {st.label}")


def _resource_texts(st: Statement) -> list[str]:
    return [] if st.resources is None else [p.text for p in st.resources.patterns]


def _wild(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


# ---- rules ---------------------------------------------------------------------------------------


@rule("wildcard-action")
def wildcard_action(world: World, engine: Engine) -> Iterator[Finding]:
    for key, label, st in _identity_statements(world):
        if st.effect is not Effect.ALLOW or st.not_action:
            continue
        patterns = st.actions.patterns
        if "*" in patterns:
            yield _finding("wildcard-action", "high", 'Allow with Action "*": every action of every AWS service', key, label, st)
        else:
            services = [p for p in patterns if p.endswith(":*")]
            if services:
                yield _finding("wildcard-action", "medium", f"Allow with every action of {', '.join(sorted(services))}", key, label, st)


@rule("wildcard-resource")
def wildcard_resource(world: World, engine: Engine) -> Iterator[Finding]:
    for key, label, st in _identity_statements(world):
        if st.effect is not Effect.ALLOW or st.not_action or st.not_resource or "*" in st.actions.patterns:
            continue  # Action "*" is reported by wildcard-action
        if "*" not in _resource_texts(st):
            continue
        wild = [p for p in st.actions.patterns if _wild(p)]
        scoped = [p for p in st.actions.patterns if not _wild(p) and catalog.resource_types(p)]
        if wild:
            yield _finding("wildcard-resource", "medium", f'Resource "*" with wildcard actions {", ".join(wild)}: scope them to the resources they need', key, label, st)
        elif scoped:
            yield _finding("wildcard-resource", "low", f'Resource "*" for {", ".join(scoped)}, which act on specific resources: scope them', key, label, st)


@rule("admin-equivalent")
def admin_equivalent(world: World, engine: Engine) -> Iterator[Finding]:
    return admin_equivalent_findings(world, engine)


def admin_equivalent_findings(world: World, engine: Engine, principals: AbstractSet[str] | None = None) -> Iterator[Finding]:
    """The admin-equivalent rule over ``principals`` (None: all), users first, then roles, each
    by ARN: a cluster runs it over partitions of the principals (graphsim.distributed)."""
    # The probes name resources that exist nowhere, so no resource-based policy speaks to them:
    # only a principal whose identity policies name every probed action can pass them all.
    index = world_index(world)
    candidates = set(index.principals)
    for action, _ in ADMIN_PROBES:
        candidates &= index.possible_holders(action.lower())
    if principals is not None:
        candidates &= principals
    for kind in (NodeKind.USER, NodeKind.ROLE):
        for key, data in sorted(world.principals_of(kind)):
            if key in candidates and is_admin_equivalent(engine, key):
                yield Finding("admin-equivalent", "high", f"{data['label']} is allowed \"*\" on \"*\" (every admin probe)", path=data["label"], principal=key)


@rule("allow-not-action")
def allow_not_action(world: World, engine: Engine) -> Iterator[Finding]:
    for key, label, st in _identity_statements(world):
        if st.effect is Effect.ALLOW and st.not_action:
            yield _finding(
                "allow-not-action", "medium",
                f"Allow with NotAction {', '.join(st.actions.patterns)}: grants every other action, including actions AWS adds later", key, label, st,
            )


@rule("unknown-action")
def unknown_action(world: World, engine: Engine) -> Iterator[Finding]:
    for key, label, st in _identity_statements(world):
        warnings = [(p, w) for p in st.actions.patterns if (w := catalog.policy_action_warning(p)) is not None]
        if not warnings:
            continue
        never = len(warnings) == len(st.actions.patterns) and not st.not_action
        why = "; ".join(w for _, w in warnings)
        if never:
            yield _finding("unknown-action", "medium", f"the statement can never match: {why}", key, label, st)
        else:
            yield _finding("unknown-action", "low", f"entries that match nothing: {why}", key, label, st)


_VAR = re.compile(r"\$\{[^}]*\}")


def _fits(action: str, pattern: str) -> bool:
    """Whether some resource the pattern names may be of a type the action acts on. Each
    wildcard is filled with a name, two names across a "/", or a name followed by the rest of
    one of the action's ARN forms (a trailing ``*`` runs past colons), and the result is checked
    against the action's ARN forms. Errs towards "fits": only clear mismatches are reported."""
    if pattern == "*":
        return True
    base = _VAR.sub("x", pattern)
    fills = {"x", "x/x"}
    for _, template in catalog.resource_types(action):
        for match in _VAR.finditer(template):
            fills.add("x" + _VAR.sub("x", template[match.end():]))
    samples = {base.replace("?", "x").replace("*", fill) for fill in fills}
    return any(catalog.resource_warning(action, sample) is None for sample in samples)


def _forms(action: str) -> str:
    return ", ".join(arn for _, arn in catalog.resource_types(action)) or 'only "*"'


@rule("resource-type-mismatch")
def resource_type_mismatch(world: World, engine: Engine) -> Iterator[Finding]:
    for key, label, st in _identity_statements(world):
        if st.not_action or st.not_resource or st.resources is None:
            continue
        patterns = _resource_texts(st)
        if "*" in patterns:
            continue
        actions = [a for p in st.actions.patterns if not _wild(p) and (a := catalog.canonical_action(p)) is not None]
        if not actions or any(_wild(p) for p in st.actions.patterns):
            continue
        misfits = [a for a in actions if not any(_fits(a, p) for p in patterns)]
        if not misfits:
            continue
        forms = "; ".join(f"{a} takes {_forms(a)}" for a in misfits)
        if len(misfits) == len(actions):
            yield _finding("resource-type-mismatch", "medium", f"the statement can never match: no Resource entry is of a type its actions act on ({forms})", key, label, st)
        else:
            yield _finding("resource-type-mismatch", "low", f"some actions match none of the Resource entries ({forms})", key, label, st)


@rule("unattached-policy")
def unattached_policy(world: World, engine: Engine) -> Iterator[Finding]:
    for key, _ in sorted(world.nodes_of(NodeKind.POLICY)):
        data = world.managed_policy(key)
        if data["account"] == AWS_MANAGED_ACCOUNT:
            continue
        if any(True for _ in world.in_edges(key, EdgeKind.ATTACHED)) or any(True for _ in world.in_edges(key, EdgeKind.BOUNDED_BY)):
            continue
        yield Finding("unattached-policy", "low", f"{data['label']} is attached to no user, group or role: delete it or attach it", policy=data["label"], policy_key=key, path=data["label"])


@rule("user-direct-policy")
def user_direct_policy(world: World, engine: Engine) -> Iterator[Finding]:
    for key, data in sorted(world.principals_of(NodeKind.USER)):
        direct = sorted(world.label_of(p) for kind in (EdgeKind.ATTACHED, EdgeKind.INLINE) for p, _ in world.out_edges(key, kind))
        if direct:
            yield Finding(
                "user-direct-policy", "low",
                f"{data['label']} has {', '.join(direct)} on itself rather than through a group: manage permissions by group",
                path=data["label"], principal=key,
            )
