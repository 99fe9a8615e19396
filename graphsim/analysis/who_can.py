"""Who can do an action on a resource: every principal of the world the policies allow, the
principals that get there by assuming roles, and the outside principals (other accounts,
services, ``*``) a resource-based policy grants.

Only principals that could possibly be allowed are evaluated: those holding an identity Allow
statement that names the action and may match the resource (found through ``WorldIndex``), and
those a resource-based policy names. Everyone else is certainly denied (no statement allows
it: AWS's default implicit deny), so the answer is exact while most principals are never
evaluated. The candidates are decided once per group whose decision inputs coincide
(``FastDecider.decide_many``). D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .. import catalog
from ..arn import account_of_principal, is_account_id, root_arn
from ..bulk import collector_paused
from ..engine import (
    CallerIdentity,
    ContextEntry,
    Decision,
    Engine,
    PolicySet,
    build_context,
    match_principal,
    parse_caller_arn,
    requires_resource_grant,
    scan,
)
from ..errors import InvalidRequestError
from ..limits import check_deadline
from ..policy import Effect, Statement
from ..world import NodeKind, World
from .fastpath import FastDecider
from .index import is_world_account, named_arns, world_index, world_principal_for


@dataclass(frozen=True, slots=True)
class WhoCanEntry:
    """One principal allowed one action on the resource.

    ``access`` says how: ``direct`` (its own policies, the resource policy included), ``via-roles``
    (``decision`` is its own, not-allowed decision; ``decision.via_role`` holds the route and
    ``via_roles`` the role chain), or ``resource-policy`` (an outside principal the resource
    policy names; ``decision`` is None and ``paths`` are the granting statements)."""

    principal: str  # a user or role ARN; for outside principals the value as the policy writes it
    label: str  # user/steve, role/ClassifiedReader, or the outside principal's kind and value
    kind: str  # user | role | account | arn | service | federated | canonical-user | anyone
    action: str
    resource: str
    access: str  # direct | via-roles | resource-policy
    decision: Decision | None
    via_roles: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    conditional: bool = False  # an outside principal's grant has conditions the request context lacks
    missing_context: tuple[str, ...] = ()
    note: str = ""


def who_can(engine: Engine, actions: Sequence[str], resource: str, context: Iterable[ContextEntry] = ()) -> list[WhoCanEntry]:
    """Every principal allowed each of ``actions`` on ``resource`` under ``context``, in the
    order of ``actions``: users and roles (as sessions) allowed directly, then those that reach
    it by assuming roles, then outside principals named by the resource-based policy."""
    canonical, arn, context = who_can_request(engine, actions, resource, context)
    out: list[WhoCanEntry] = []
    decider = FastDecider(engine)
    with collector_paused():
        for action in canonical:
            direct = who_can_direct(engine, action, arn, context, decider=decider)
            allowed = frozenset(e.principal for e in direct)
            via = who_can_via_roles(engine, action, arn, context, allowed) if any(e.kind == NodeKind.ROLE.value for e in direct) else []
            out += direct + via + who_can_outside(engine, action, arn, context)
    return out


# The three parts of one action's answer, public so that a cluster can run the first two over
# partitions of the principals (graphsim.distributed) and merge them into the same answer:
# each takes ``principals`` (None: all of them), and its entries come in ``principal_order``.


def who_can_request(engine: Engine, actions: Sequence[str], resource: str, context: Iterable[ContextEntry] = ()) -> tuple[list[str], str, tuple[ContextEntry, ...]]:
    """(the distinct canonical actions, in order; the resource ARN; the context), validated
    before any work, each error naming its field."""
    context = tuple(context)
    build_context(context)
    canonical = [catalog.require_action(a, field=f"actions[{i}]") for i, a in enumerate(actions)]
    return list(dict.fromkeys(canonical)), engine.resolve_resource(resource), context


def principal_order(world: World, key: str) -> tuple[bool, str, str]:
    """Users before roles, then by label, then by ARN (labels repeat across accounts)."""
    return (world.kind_of(key) is NodeKind.ROLE, world.label_of(key), key)


def who_can_direct(
    engine: Engine, action: str, arn: str, context: tuple[ContextEntry, ...], principals: AbstractSet[str] | None = None, decider: FastDecider | None = None
) -> list[WhoCanEntry]:
    """The principals (of ``principals``) allowed by their own policies, the resource policy
    included. Only those that could be allowed are evaluated (see the module's docstring)."""
    world = engine.world
    index = world_index(world)
    action_lower = action.lower()
    target = engine.target(arn, "resource")
    candidates = index.possible_holders(action_lower, arn)
    everyone, accounts, named = _resource_policy_names(world, target.resource_policy, action_lower, arn)
    if requires_resource_grant(action_lower, arn):
        # A trust or key policy must allow the caller itself: a principal it names, or, when it
        # names an account, a principal of that account whose own policies allow it.
        candidates = {k for k in candidates if world.account_of(k) in accounts}
    candidates |= set(index.principals) if everyone else named
    if principals is not None:
        candidates &= principals
    decider = decider or FastDecider(engine)
    ordered = sorted(candidates, key=lambda k: principal_order(world, k))
    allowed = decider.decide_many(ordered, action, arn, context, allowed_only=True)
    direct: list[WhoCanEntry] = []
    for key in ordered:
        decision = allowed.get(key)
        if decision is not None:
            direct.append(_entry(world, key, action, arn, "direct", decision))
    return direct


def who_can_via_roles(
    engine: Engine, action: str, arn: str, context: tuple[ContextEntry, ...], allowed: AbstractSet[str], principals: AbstractSet[str] | None = None
) -> list[WhoCanEntry]:
    """The principals (of ``principals``, not in ``allowed``: those allowed directly) that get
    there by assuming roles. Only worth asking when some role is allowed directly."""
    world = engine.world
    index = world_index(world)
    starters = index.possible_holders("sts:assumerole")
    trust_everyone, trusted = _trust_names(engine)
    starters |= set(index.principals) if trust_everyone else trusted
    if principals is not None:
        starters &= principals
    via: list[WhoCanEntry] = []
    for key in sorted(starters - allowed, key=lambda k: principal_order(world, k)):
        check_deadline()
        decision = engine.can(key, action, arn, context, via_roles=True)
        if decision.via_role is not None:
            route = decision.via_role
            roles = tuple(step.role for step in route.steps)
            paths = tuple(m.path_text for step in route.steps for m in step.decision.matched_statements)
            paths += tuple(m.path_text for m in route.decision.matched_statements)
            via.append(_entry(world, key, action, arn, "via-roles", decision, roles, paths))
    return via


def who_can_outside(engine: Engine, action: str, arn: str, context: tuple[ContextEntry, ...]) -> list[WhoCanEntry]:
    """Outside principals (other accounts, services, ``*``) the resource-based policy grants."""
    target = engine.target(arn, "resource")
    return _outside_principals(engine, target.resource_policy, target.rcp_levels, target.owner, action, arn, context)


def _entry(
    world: World, key: str, action: str, arn: str, access: str, decision: Decision, roles: tuple[str, ...] = (), paths: tuple[str, ...] | None = None
) -> WhoCanEntry:
    data = world.info(key)
    return WhoCanEntry(
        principal=key,
        label=data["label"],
        kind=data["kind"].value,
        action=action,
        resource=arn,
        access=access,
        decision=decision,
        via_roles=roles,
        paths=paths if paths is not None else tuple(m.path_text for m in decision.matched_statements),
    )


def _applicable_allows(policy: PolicySet | None, action_lower: str, arn: str) -> list[Statement]:
    if policy is None:
        return []
    out = []
    for entry in policy.candidates(action_lower):
        st = entry.statement
        if st.effect is Effect.ALLOW and st.matches_action(action_lower) and (st.resources is None or st.resources.has_variables or st.matches_resource(arn, {})):
            out.append(st)
    return out


def _resource_policy_names(world: World, policy: PolicySet | None, action_lower: str, arn: str) -> tuple[bool, set[str], set[str]]:
    """(every principal may be granted, the accounts named, the world principals named) by the
    resource policy's Allow statements for this request. A grant to an account delegates to the
    account's IAM policies, which the identity side covers."""
    everyone = False
    accounts: set[str] = set()
    named: set[str] = set()
    for st in _applicable_allows(policy, action_lower, arn):
        all_, arns = named_arns(st.principals)
        if st.not_principal or all_:
            everyone = True
        for value in arns:
            key = world_principal_for(world, value)
            if key is not None:
                named.add(key)
            elif is_world_account(world, value):
                accounts.add(account_of_principal(value) or value)
    return everyone, accounts, named


def _trust_names(engine: Engine) -> tuple[bool, set[str]]:
    """Principals some role's trust policy names directly (these may assume it without an
    identity grant), or everyone when a trust policy names ``*``."""
    world = engine.world
    everyone = False
    named: set[str] = set()
    for role in world_index(world).roles:
        _, document = world.trust_policy(role)
        for st in document.statements:
            if st.effect is not Effect.ALLOW:
                continue
            all_, arns = named_arns(st.principals)
            everyone = everyone or all_ or st.not_principal
            named.update(k for k in (world_principal_for(world, v) for v in arns) if k is not None)
    return everyone, named


# ---- outside principals --------------------------------------------------------------------------

_KIND_LABEL = {"account": "account", "arn": "principal", "service": "service", "federated": "federated", "canonical-user": "canonical-user", "anyone": "anyone"}


def _outside(world: World, ptype: str, value: str) -> tuple[str, CallerIdentity] | None:
    """(kind, caller) for a Principal value that is not a principal of the world, else None."""
    if ptype == "AWS":
        if value == "*":
            return "anyone", CallerIdentity("Anonymous", "*", "", None)
        if world_principal_for(world, value) is not None or is_world_account(world, value):
            return None
        arn = root_arn(value) if is_account_id(value) else value
        try:
            caller = parse_caller_arn(arn)
        except InvalidRequestError:  # an ARN we cannot parse as a caller still names someone outside
            return "arn", CallerIdentity("Unknown", value, "", None)
        return ("account" if caller.kind == "Account" else "arn"), caller
    if ptype == "Service":
        return "service", CallerIdentity("Service", value, "", None)
    if ptype == "Federated":
        return "federated", CallerIdentity("Federated", value, "", None)
    return "canonical-user", CallerIdentity("CanonicalUser", value, "", None)


def _outside_principals(
    engine: Engine,
    policy: PolicySet | None,
    rcp_levels: tuple[PolicySet, ...] | None,
    owner: str | None,
    action: str,
    arn: str,
    context: tuple[ContextEntry, ...],
) -> list[WhoCanEntry]:
    """Accounts, services and ``*`` that the resource policy's Allow statements name and that are
    not principals of the world, each decided by matching the Principal element and checking
    the resource policy's and RCPs' Deny statements for that caller."""
    if policy is None:
        return []
    world = engine.world
    action_lower = action.lower()
    explicit = build_context(context)
    found: dict[tuple[str, str], WhoCanEntry] = {}
    for entry in policy.candidates(action_lower):
        st = entry.statement
        if st.effect is not Effect.ALLOW or not st.matches_action(action_lower) or st.principals is None:
            continue
        if st.not_principal or st.principals.everyone:
            values = [("AWS", "*")]
        else:
            values = [(ptype, v) for ptype, vs in st.principals.by_type for v in vs]
        for ptype, value in values:
            outside = _outside(world, ptype, value)
            if outside is None:
                continue
            kind, caller = outside
            if not st.not_principal and not st.principals.everyone and caller.kind in ("User", "AssumedRole", "Account", "FederatedUser"):
                if match_principal(st.principals, caller) is None:
                    continue
            ctx = {**caller.derived_context(), **({"aws:resourceaccount": (owner,)} if owner else {}), **explicit}
            if not st.matches_resource(arn, ctx):
                continue
            conditional = False
            missing: list[str] = []
            if st.condition.clauses and not st.condition.evaluate(ctx):
                missing = st.condition.missing_keys(ctx)
                if not missing:
                    continue  # the context given contradicts the condition
                conditional = True
            if _denied(policy, rcp_levels, action_lower, arn, ctx, caller, (ptype, value)):
                continue
            shown = value if not st.not_principal else "*"
            note = {
                "account": "another account: its own IAM policies must also allow the request (cross-account access needs both sides)",
                "arn": "a principal outside this world: its account's IAM policies must also allow the request",
                "service": "an AWS service principal",
                "anyone": "anyone, including anonymous callers" + (" (every principal except those the NotPrincipal names)" if st.not_principal else ""),
                "federated": "a federated identity provider",
                "canonical-user": "an S3 canonical user",
            }[kind]
            item = found.get((kind, shown))
            path = entry.matched.path_text
            if item is None:
                found[(kind, shown)] = WhoCanEntry(
                    principal=shown, label=f"{_KIND_LABEL[kind]}/{shown}", kind=kind, action=action, resource=arn, access="resource-policy",
                    decision=None, paths=(path,), conditional=conditional, missing_context=tuple(dict.fromkeys(missing)), note=note,
                )
            else:
                found[(kind, shown)] = WhoCanEntry(
                    principal=item.principal, label=item.label, kind=kind, action=action, resource=arn, access=item.access, decision=None,
                    paths=(*item.paths, path), conditional=item.conditional and conditional,
                    missing_context=item.missing_context if not conditional else tuple(dict.fromkeys((*item.missing_context, *missing))), note=note,
                )
    return sorted(found.values(), key=lambda e: (e.kind, e.principal))


def _denied(
    policy: PolicySet, rcp_levels: tuple[PolicySet, ...] | None, action_lower: str, arn: str, ctx: dict[str, tuple[str, ...]], caller: CallerIdentity, named: tuple[str, str]
) -> bool:
    """Whether a Deny of the resource policy or an RCP applies to this outside caller. Callers
    the engine cannot model as an IAM identity ("*", federated, canonical users, unparsable
    ARNs) match a Deny that names everyone, or names them literally."""
    for level in (policy, *(rcp_levels or ())):
        if caller.kind in ("Anonymous", "Unknown", "Federated", "CanonicalUser"):
            for entry in level.candidates(action_lower):
                st = entry.statement
                if st.effect is Effect.DENY and st.matches_action(action_lower) and st.matches_resource(arn, ctx) and st.condition.evaluate(ctx):
                    if _names_literally(st, named):
                        return True
        elif scan(level, action_lower, arn, ctx, [], caller).denies:
            return True
    return False


def _names_literally(st: Statement, named: tuple[str, str]) -> bool:
    principals = st.principals
    if principals is None or principals.everyone:
        return True
    listed = any((ptype == named[0] and named[1] in values) or (ptype == "AWS" and "*" in values) for ptype, values in principals.by_type)
    return listed is not st.not_principal
