"""AWS's evaluation across policy layers, in AWS's order, for one request.

1. An explicit Deny in any layer (SCP, RCP, resource, identity, boundary, session) denies.
2. RCPs of the resource owner's account, then SCPs of the caller's account: every level of the
   organization must allow (RCPFullAWSAccess is implied at every RCP level).
3. Resource-based and identity-based policies: in one account either may allow; across
   accounts both must. A resource-policy grant that names an IAM user, session or federated
   user ARN is not capped by the identity, boundary or session policies; one that names a role
   ARN is capped by the boundary and session policy; one that names the account delegates to
   the identity policies. Trust policies and KMS key policies must allow the caller themselves.
4. Permissions boundary and session policy cap identity-based grants.
5. The account root user needs no identity-based policy: "all requests are implicitly denied
   with the exception of the AWS account root user, which has full access". SCPs (of a member
   account), RCPs, explicit Denies, key and trust policies that must name the caller, and,
   across accounts, the other account's resource policy still apply to it.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..arn import Arn
from .context import Context
from .decision import Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement
from .policyset import PolicySet, Scan, scan
from .principals import CallerIdentity, MatchKind

# Grants a resource policy makes to the caller directly, past implicit denies elsewhere. A
# wildcard Principal counts: "permissions boundaries or session policies do not limit
# permissions granted using the aws:PrincipalArn condition key with a wildcard(*) in the
# Principal element". D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
_UNCAPPED = {MatchKind.USER, MatchKind.SESSION, MatchKind.FEDERATED, MatchKind.SERVICE, MatchKind.WILDCARD}
_DENY_ORDER = (Layer.SCP, Layer.RCP, Layer.RESOURCE, Layer.IDENTITY, Layer.BOUNDARY, Layer.SESSION)
_MATCH_ORDER = (Layer.IDENTITY, Layer.RESOURCE, Layer.BOUNDARY, Layer.SESSION, Layer.SCP, Layer.RCP)


@dataclass(slots=True)  # built per request for custom simulations: not frozen, to build fast
class Layers:
    """The policies that speak to one request, gathered by the engine (from the graph or from
    simulateCustomPolicy's inputs)."""

    identity: PolicySet
    boundary: PolicySet | None = None
    session: PolicySet | None = None
    resource: PolicySet | None = None
    scp_levels: tuple[PolicySet, ...] | None = None  # None: SCPs do not apply to this caller
    rcp_levels: tuple[PolicySet, ...] | None = None  # None: RCPs do not apply to this resource
    resource_owner: str | None = None
    # Trust policies and KMS key policies must allow the caller themselves, even in one account.
    resource_must_allow: bool = False
    # A GetFederationToken session without a session policy is implicitly denied.
    session_required: bool = False

    @property
    def identity_only(self) -> bool:
        return (
            self.boundary is None and self.session is None and self.resource is None and self.scp_levels is None
            and self.rcp_levels is None and not self.resource_must_allow and not self.session_required
        )


def requires_resource_grant(action_lower: str, resource: str) -> bool:
    """Role trust policies (sts:AssumeRole*) and KMS key policies must name the caller.
    D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html"""
    arn = Arn.maybe(resource)
    if arn is None:
        return False
    if arn.service == "iam" and arn.resource.startswith("role/") and action_lower.startswith("sts:"):
        return True
    return arn.service == "kms" and arn.resource.startswith("key/")


def _is_role(resource: str) -> bool:
    arn = Arn.maybe(resource)
    return arn is not None and arn.service == "iam" and arn.resource.startswith("role/")


def decide(
    *,
    caller: CallerIdentity | None,
    principal_label: str,
    action: str,
    resource: str,
    layers: Layers,
    ctx: Context,
    warnings: Sequence[str] = (),
) -> Decision:
    """The decision for one request, in AWS's order: each layer is scanned once, then the
    explicit-deny step, the organizations step (SCP and RCP levels) and the grant step
    (resource-based and identity-based policies, capped by boundary and session policy)."""
    action_lower = action.lower()
    missing: list[str] = []
    identity = scan(layers.identity, action_lower, resource, ctx, missing)
    owner = layers.resource_owner or (caller.account if caller is not None else None)
    cross_account = caller is not None and owner is not None and owner != caller.account
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    root = caller is not None and caller.is_root
    if layers.identity_only and not cross_account:
        return _identity_decision(caller, principal_label, action, resource, layers, identity, missing, warnings, root)
    scans = _scan_layers(layers, caller, identity, action_lower, resource, ctx, missing)
    results = scans.by_layer()
    scp_ok, orgs_ok = _organizations_step(scans, results)
    matched: tuple[MatchedStatement, ...]
    fix: FixHint | None
    blocked_by: Layer | None
    denied = _explicit_deny_step(results)
    if denied is not None:
        kind = DecisionKind.EXPLICIT_DENY
        blocked_by, matched = denied
        fix = FixHint(denied_by=tuple(m.path_text for m in matched))
    else:
        grant = _grant_step(layers, scans, root, cross_account, resource)
        blocked_by = Layer.SCP if not scp_ok else None if grant.allowed else grant.blocked_by
        if grant.allowed and scp_ok:
            kind = DecisionKind.ALLOWED
            matched = _allowing_statements(scans, grant)
            fix = None
        else:
            kind = DecisionKind.IMPLICIT_DENY
            matched = ()
            fix = FixHint(
                statement={"Effect": "Allow", "Action": action, "Resource": resource},
                principal_label=principal_label,
                blocked_by=blocked_by.value if blocked_by is not None else "",
            )
    return Decision(
        principal=caller.arn if caller is not None else "",
        action=action,
        resource=resource,
        decision=kind,
        matched_statements=matched,
        missing_context_values=tuple(dict.fromkeys(missing)),
        layer_verdicts=_verdicts(layers, results, scp_ok, root),
        blocked_by=blocked_by,
        warnings=tuple(warnings),
        fix=fix,
        principal_label=principal_label,
        allowed_by_organizations=None if scans.scps is None and scans.rcps is None else orgs_ok,
        allowed_by_boundary=None if scans.boundary is None else scans.boundary.allowed,
    )


@dataclass(slots=True)
class _Scans:
    """What each layer says about one request; None where the layer does not apply."""

    identity: Scan
    boundary: Scan | None
    session: Scan | None
    resource: Scan | None
    scps: list[Scan] | None  # one per level, root first
    rcps: list[Scan] | None

    def by_layer(self) -> dict[Layer, Scan | None]:
        return {
            Layer.SCP: _merge(self.scps),
            Layer.RCP: _merge(self.rcps),
            Layer.RESOURCE: self.resource,
            Layer.IDENTITY: self.identity,
            Layer.BOUNDARY: self.boundary,
            Layer.SESSION: self.session,
        }


def _scan_layers(
    layers: Layers, caller: CallerIdentity | None, identity: Scan, action_lower: str, resource: str, ctx: Context, missing: list[str]
) -> _Scans:
    # Resource-based policies and RCPs name principals: without a caller they cannot match.
    return _Scans(
        identity=identity,
        boundary=None if layers.boundary is None else scan(layers.boundary, action_lower, resource, ctx, missing),
        session=None if layers.session is None else scan(layers.session, action_lower, resource, ctx, missing),
        resource=None if layers.resource is None or caller is None else scan(layers.resource, action_lower, resource, ctx, missing, caller),
        scps=None if layers.scp_levels is None else [scan(level, action_lower, resource, ctx, missing) for level in layers.scp_levels],
        rcps=None if layers.rcp_levels is None or caller is None else [scan(level, action_lower, resource, ctx, missing, caller) for level in layers.rcp_levels],
    )


def _organizations_step(scans: _Scans, results: dict[Layer, Scan | None]) -> tuple[bool, bool]:
    """(every SCP level allows, the organization lets the request through). RCPFullAWSAccess is
    implied at every level: RCPs can only deny."""
    scp_ok = scans.scps is None or all(level.allows for level in scans.scps)
    orgs_ok = scp_ok and not any(r.denies for r in (results[Layer.SCP], results[Layer.RCP]) if r is not None)
    return scp_ok, orgs_ok


def _explicit_deny_step(results: dict[Layer, Scan | None]) -> tuple[Layer, tuple[MatchedStatement, ...]] | None:
    """The first layer (in AWS's order) holding a matching Deny, with every denying statement:
    on a deny only those count as matched, as in AWS's simulator, listed identity first."""
    deny_layer = next((layer for layer in _DENY_ORDER if (r := results[layer]) is not None and r.denies), None)
    if deny_layer is None:
        return None
    return deny_layer, tuple(e.matched for layer in _MATCH_ORDER if (r := results[layer]) is not None for e in r.denies)


@dataclass(slots=True)
class _Grant:
    allowed: bool
    identity_side: bool  # identity policies (or the root user) allow, within boundary and session policy
    capped: bool  # a resource grant to a role ARN, within boundary and session policy
    blocked_by: Layer


def _grant_step(layers: Layers, scans: _Scans, root: bool, cross_account: bool, resource: str) -> _Grant:
    """Resource-based and identity-based policies: in one account either may allow, across
    accounts both must; trust and key policies must name the caller; boundary and session
    policy cap identity grants and grants to a role ARN."""
    boundary, session, res = scans.boundary, scans.session, scans.resource
    boundary_ok = boundary is None or bool(boundary.allows)
    session_ok = (session is None and not layers.session_required) or (session is not None and bool(session.allows))
    identity_allows = bool(scans.identity.allows) or root
    identity_side = identity_allows and boundary_ok and session_ok
    kinds = res.allow_kinds if res is not None else set()
    uncapped = bool(kinds & _UNCAPPED)
    role_grant = MatchKind.ROLE in kinds
    if layers.resource_must_allow and MatchKind.USER in kinds and not boundary_ok and _is_role(resource):
        # "If a user is listed as the principal in a role's trust policy but cannot assume the
        # role, check the user's permissions boundary ... it must allow the sts:AssumeRole action."
        # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html
        # A KMS key policy naming the user is not capped: "Within an account, permissions
        # boundaries do not reduce the permissions granted by resource-based policies."
        # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
        uncapped = bool(kinds & (_UNCAPPED - {MatchKind.USER}))
        role_grant = True
    capped = role_grant and boundary_ok and session_ok
    if cross_account:
        # Two evaluations, both must allow: the caller's account and the resource's.
        allowed = identity_side and bool(kinds)
    elif layers.resource_must_allow:
        allowed = uncapped or capped or (MatchKind.ACCOUNT in kinds and identity_side)
    else:
        allowed = identity_side or uncapped or capped
    blocker = _blocker(identity_allows or role_grant, boundary_ok, session_ok, bool(kinds), cross_account or layers.resource_must_allow)
    return _Grant(allowed, identity_side, capped, blocker)


def _allowing_statements(scans: _Scans, grant: _Grant) -> tuple[MatchedStatement, ...]:
    """The Allow statements that made an allowed decision. SCP and RCP allows only permit
    (FullAWSAccess at every level); as in AWS's simulator they are not listed, and
    allowedByOrganizations says they let it through."""
    parts: list[MatchedStatement] = []
    if grant.identity_side:
        parts += [e.matched for e in scans.identity.allows]
    if scans.resource is not None:
        parts += [e.matched for e in scans.resource.allows]
    if grant.identity_side or grant.capped:
        parts += [e.matched for r in (scans.boundary, scans.session) if r is not None for e in r.allows]
    return tuple(parts)


def _identity_decision(
    caller: CallerIdentity | None,
    principal_label: str,
    action: str,
    resource: str,
    layers: Layers,
    identity: Scan,
    missing: list[str],
    warnings: Sequence[str],
    root: bool,
) -> Decision:
    """The common case, when only identity-based policies speak: Deny, else Allow (or the root
    user's full access), else the default implicit deny."""
    blocked_by = None
    if identity.denies:
        kind = DecisionKind.EXPLICIT_DENY
        blocked_by = Layer.IDENTITY
        matched = tuple(e.matched for e in identity.denies)
        fix = FixHint(denied_by=tuple(m.path_text for m in matched))
    elif identity.allows or root:
        kind = DecisionKind.ALLOWED
        matched = tuple(e.matched for e in identity.allows)
        fix = None
    else:
        kind = DecisionKind.IMPLICIT_DENY
        blocked_by = Layer.IDENTITY
        matched = ()
        fix = FixHint(statement={"Effect": "Allow", "Action": action, "Resource": resource}, principal_label=principal_label, blocked_by="identity")
    return Decision(
        principal=caller.arn if caller is not None else "",
        action=action,
        resource=resource,
        decision=kind,
        matched_statements=matched,
        missing_context_values=tuple(dict.fromkeys(missing)),
        layer_verdicts=(LayerVerdict(Layer.IDENTITY, kind, len(layers.identity.attachments)),),
        blocked_by=blocked_by,
        warnings=tuple(warnings),
        fix=fix,
        principal_label=principal_label,
    )


def _blocker(granted: bool, boundary_ok: bool, session_ok: bool, resource_allows: bool, resource_needed: bool) -> Layer:
    """The layer that withheld the allow: the resource policy when it had to allow, else the
    identity policies when nothing granted, else the boundary or session policy that capped a
    grant (an identity grant, or a resource grant to a role ARN)."""
    if resource_needed and not resource_allows:
        return Layer.RESOURCE
    if not granted:
        return Layer.IDENTITY
    if not boundary_ok:
        return Layer.BOUNDARY
    if not session_ok:
        return Layer.SESSION
    return Layer.RESOURCE


def _merge(levels: list[Scan] | None) -> Scan | None:
    if levels is None:
        return None
    out = Scan([], [], set())
    for level in levels:
        out.allows.extend(level.allows)
        out.denies.extend(level.denies)
    return out


_VERDICT_ORDER = (Layer.SCP, Layer.RCP, Layer.RESOURCE, Layer.IDENTITY, Layer.BOUNDARY, Layer.SESSION)


def _verdicts(layers: Layers, results: dict[Layer, Scan | None], scp_ok: bool, root: bool) -> tuple[LayerVerdict, ...]:
    """Per-layer verdicts, with how many policies each layer held."""
    out = []
    sets = {Layer.RESOURCE: layers.resource, Layer.IDENTITY: layers.identity, Layer.BOUNDARY: layers.boundary, Layer.SESSION: layers.session}
    for layer in _VERDICT_ORDER:
        result = results[layer]
        if result is None:
            continue
        if result.denies:
            verdict = DecisionKind.EXPLICIT_DENY
        elif layer is Layer.SCP:
            verdict = DecisionKind.ALLOWED if scp_ok else DecisionKind.IMPLICIT_DENY
        elif layer is Layer.RCP:
            verdict = DecisionKind.ALLOWED  # RCPFullAWSAccess is implied at every level
        else:
            verdict = DecisionKind.ALLOWED if result.allows or (root and layer is Layer.IDENTITY) else DecisionKind.IMPLICIT_DENY
        if layer is Layer.SCP or layer is Layer.RCP:
            levels = layers.scp_levels if layer is Layer.SCP else layers.rcp_levels
            count = sum(len(level.attachments) for level in levels or ())
        else:
            found = sets[layer]
            count = 0 if found is None else len(found.attachments)
        out.append(LayerVerdict(layer, verdict, count))
    return tuple(out)
