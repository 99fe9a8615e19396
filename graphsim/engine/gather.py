"""Gathering: the policies that speak for a principal (identity policies along member-of and
attachment edges, its permissions boundary, the SCP levels over its account) and for a resource
(its resource-based policy, or its bucket's, and the RCP levels over its owner), each with the
graph path that brought it. Everything is built once and cached until the world changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..arn import CACHED_LENGTH, account_of, resource_part, session_arn
from ..world import AWS_MANAGED_ACCOUNT, EdgeKind, NodeKind, PathStep, PolicyAttachment, PolicyType, World
from .decision import Layer
from .policyset import PolicySet
from .principals import DEFAULT_SESSION, CallerIdentity


@dataclass(frozen=True, slots=True)
class Caller:
    """A principal of the world, with everything about it a request needs, gathered once."""

    key: str
    label: str
    identity: CallerIdentity | None  # None for a group (simulatePrincipalPolicy only)
    derived: Mapping[str, tuple[str, ...]]
    policies: PolicySet
    boundary: PolicySet | None
    scp_levels: tuple[PolicySet, ...] | None


@dataclass(frozen=True, slots=True)
class Target:
    """A request's resource, resolved once: its ARN, owner, resource policy and RCPs."""

    arn: str
    owner: str | None
    resource_policy: PolicySet | None
    rcp_levels: tuple[PolicySet, ...] | None



class Gatherer:
    """Builds and caches the Caller and Target records of one world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._callers: dict[tuple[str, str | None], Caller] = {}
        self._bases: dict[tuple[str, str | None], Caller] = {}
        self._targets: dict[str, Target] = {}
        self._org_levels: dict[tuple[str, str], tuple[PolicySet, ...] | None] = {}

    def clear(self) -> None:
        for cache in (self._callers, self._bases, self._targets, self._org_levels):
            cache.clear()

    def gathered(self, key: str, session: str | None = None) -> bool:
        """Whether the principal's whole identity policy set is already built."""
        return (key, session) in self._callers

    def caller(self, key: str, session: str | None = None) -> Caller:
        """A principal with its whole identity policy set, built once."""
        cached = self._callers.get((key, session))
        if cached is None:
            base = self.caller_base(key, session)
            cached = self._callers[(key, session)] = replace(base, policies=PolicySet(self.world.identity_policies(key)))
        return cached

    def caller_base(self, key: str, session: str | None = None) -> Caller:
        """A principal's identity, boundary and SCP levels, without its identity policies (which
        cost the most to gather); ``policies`` is an empty set."""
        cached = self._bases.get((key, session))
        if cached is None:
            cached = self._bases[(key, session)] = self._build_base(key, session)
        return cached

    def _build_base(self, key: str, session: str | None) -> Caller:
        world = self.world
        kind = world.kind_of(key)
        empty = PolicySet(())
        if kind is NodeKind.ACCOUNT:
            # The account's root user: no policies, boundary or session of its own; the SCPs of
            # a member account govern it. D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
            account = world.account_node(key)["account"]
            identity = CallerIdentity("Account", key, account, key, user_id=account)
            scps = None if account == world.management_account else self._org_levels_for(account, "scp")
            return Caller(key, f"root user of {account}", identity, {**identity.derived_context(), **self._org_keys(account)}, empty, None, scps)
        data = world.principal(key)
        if kind is NodeKind.GROUP:
            # A group is never a principal; simulating its policies derives only the account.
            return Caller(key, data["label"], None, {"aws:principalaccount": (data["account"],)}, empty, None, None)
        boundary_key = world.boundary_of(key)
        boundary = None
        if boundary_key is not None:
            bdata = world.managed_policy(boundary_key)
            ptype = PolicyType.AWS_MANAGED if bdata["account"] == AWS_MANAGED_ACCOUNT else PolicyType.USER_MANAGED
            step0 = PathStep(key, kind, data["label"])
            step1 = PathStep(boundary_key, NodeKind.POLICY, bdata["label"], EdgeKind.BOUNDED_BY, world.graph.edges[key, boundary_key, EdgeKind.BOUNDED_BY.value]["provenance"])
            boundary = PolicySet([PolicyAttachment(boundary_key, bdata["name"], bdata["arn"], ptype, bdata["document"], (step0, step1))], Layer.BOUNDARY)
        account = data["account"]
        if kind is NodeKind.USER:
            identity = CallerIdentity("User", key, account, key, user_id=data["unique_id"], username=data["name"], tags=data["tags"], has_boundary=boundary is not None)
            label = data["label"]
        else:
            name = session or DEFAULT_SESSION
            identity = CallerIdentity(
                "AssumedRole", session_arn(account, data["name"], name), account, key, role_arn=key,
                user_id=f"{data['unique_id']}:{name}", tags=data["tags"], has_boundary=boundary is not None,
                service_linked=data["path"].startswith("/aws-service-role/"),
            )
            label = data["label"] if session is None else f"session/{data['name']}/{session}"
        scp_levels = None
        if account != world.management_account and not identity.service_linked:
            scp_levels = self._org_levels_for(account, "scp")
        return Caller(key, label, identity, {**identity.derived_context(), **self._org_keys(account)}, empty, boundary, scp_levels)

    def _org_keys(self, account: str) -> dict[str, tuple[str, ...]]:
        """aws:PrincipalOrgID, aws:PrincipalOrgPaths and aws:PrincipalOrgMasterAccountId, which
        AWS fills in for a principal of an organization's account.
        D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths"""
        chain = self.world.org_chain(account)
        if not chain:
            return {}
        root = self.world.org_root_node(chain[0])
        ous = [self.world.ou_node(level)["ou_id"] for level in chain[1:-1]]
        path = "/".join([root["org_id"], root["name"], *ous]) + "/"
        return {
            "aws:principalorgid": (root["org_id"],),
            "aws:principalorgpaths": (path,),
            "aws:principalorgmasteraccountid": (root["management_account"],),
        }

    def _org_levels_for(self, account: str, policy_type: str) -> tuple[PolicySet, ...] | None:
        """One policy set per level from the root down to the account; None outside an org."""
        cache_key = (account, policy_type)
        if cache_key in self._org_levels:
            return self._org_levels[cache_key]
        world = self.world
        chain = world.org_chain(account)
        levels: tuple[PolicySet, ...] | None = None
        if chain:
            layer = Layer.SCP if policy_type == "scp" else Layer.RCP
            ptype = PolicyType.SCP if policy_type == "scp" else PolicyType.RCP
            built = []
            for depth, level in enumerate(chain):
                # The path climbs from the account to the level holding the policy.
                steps = tuple(PathStep(node, world.kind_of(node), world.label_of(node)) for node in reversed(chain[depth:]))
                attachments = []
                for p in world.org_policies(level, policy_type):
                    pdata = world.org_policy(p)
                    step = PathStep(p, NodeKind.ORG_POLICY, pdata["label"], EdgeKind.GOVERNED_BY_ORG)
                    attachments.append(PolicyAttachment(p, pdata["name"], None, ptype, pdata["document"], (*steps, step)))
                built.append(PolicySet(attachments, layer))
            levels = tuple(built)
        self._org_levels[cache_key] = levels
        return levels

    def target(self, arn: str) -> Target:
        """The resource side of requests on ``arn`` (an ARN or ``*``, already validated)."""
        cached = self._targets.get(arn)
        if cached is not None:
            return cached
        world = self.world
        governing = world.governing_resource(arn)
        owner: str | None = None
        policy = None
        if governing is not None:
            gdata = world.info(governing)  # a resource or a role: both belong to an account
            owner = world.account_of(governing)
            is_role = gdata["kind"] is NodeKind.ROLE
            policy_key = world.resource_policy(governing)
            if policy_key is not None:
                pdata = world.owned_policy(policy_key)
                edge = EdgeKind.TRUSTS if is_role else EdgeKind.GOVERNED_BY
                steps = [PathStep(governing, gdata["kind"], gdata["label"])]
                if governing != arn:  # an object governed by its bucket's policy
                    steps.insert(0, PathStep(arn, NodeKind.RESOURCE, "resource/" + resource_part(arn)))
                path = (*steps, PathStep(policy_key, pdata["kind"], pdata["label"], edge))
                policy = PolicySet([PolicyAttachment(policy_key, pdata["name"], None, PolicyType.RESOURCE, pdata["document"], path)], Layer.RESOURCE)
        if owner is None:
            owner = account_of(arn)
        rcp_levels = None
        if owner is not None and owner != world.management_account:
            rcp_levels = self._org_levels_for(owner, "rcp")
        target = Target(arn, owner, policy, rcp_levels)
        if len(arn) <= CACHED_LENGTH:  # keyed by a request's text: only short ones are kept
            if len(self._targets) > 65536:
                self._targets.clear()
            self._targets[arn] = target
        return target
