"""The engine: gathers the policies that speak to a request along graph paths (or from
simulateCustomPolicy's inputs) and hands them to ``layers.decide``.

Everything gathered is cached per principal, resource and account until the world changes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from .. import catalog
from ..arn import Arn, InvalidArnError, resource_part, s3_arn, session_arn
from ..errors import InvalidRequestError, NotFoundError, PolicyValidationError, Problem
from ..policy import PolicyDocument, PolicyKind
from ..world import AWS_MANAGED_ACCOUNT, EdgeKind, NodeKind, PathStep, PolicyAttachment, PolicyType, World
from ..world.graph import parse_with_catalog
from .context import ContextEntry, build_context, merge_derived
from .decision import AssumeStep, Decision, Layer, RoleRoute
from .layers import Layers, decide, requires_resource_grant
from .policyset import PolicySet
from .principals import DEFAULT_SESSION, CallerIdentity

if TYPE_CHECKING:
    import networkx as nx

MAX_ROLE_CHAIN = 3


def validate_resource_arn(resource: str, *, field: str = "resource") -> str:
    """A request's resource must be ``*`` or a well-formed ARN (users asked for malformed ARNs
    such as ``arn:aws::s3:*`` to be rejected rather than silently denied)."""
    if resource == "*":
        return resource
    try:
        Arn.parse(resource, field=field)
    except InvalidArnError as exc:
        raise InvalidRequestError(
            f"resource {resource!r} is not an ARN of the form arn:partition:service:region:account:resource (or '*'): {exc.reason}",
            field=field,
        ) from None
    if any(c in resource for c in "*?"):
        raise InvalidRequestError(f"a request names one resource; wildcards are not allowed in {resource!r}", field=field)
    return resource


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


class Engine:
    """Answers requests against one world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._callers: dict[tuple[str, str | None], Caller] = {}
        self._bases: dict[tuple[str, str | None], Caller] = {}
        self._names: dict[str, tuple[str, str | None]] = {}
        self._targets: dict[tuple[str, str], Target] = {}
        self._org_levels: dict[tuple[str, str], tuple[PolicySet, ...] | None] = {}
        self._assumable: dict[str, list[tuple[str, Decision]]] = {}
        self._prepared: dict[tuple[str, str | None, str, str, bool], tuple[Caller, Target, Layers, Mapping[str, tuple[str, ...]]]] = {}
        world.on_change(self._invalidate)

    def _invalidate(self) -> None:
        for cache in (self._callers, self._bases, self._names, self._targets, self._org_levels, self._assumable, self._prepared):
            cache.clear()

    # ---- resolving names ------------------------------------------------------------------

    def resolve_principal(self, text: str, *, field: str = "principal", allow_root: bool = False) -> tuple[str, str | None]:
        """(node key, session name) of a user or role given by name, ARN, or assumed-role
        session ARN (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``); with ``allow_root``,
        also the root user of an account of the world (``arn:aws:iam::ACCOUNT:root``)."""
        if allow_root and text in self.world.graph and self.world.graph.nodes[text]["kind"] is NodeKind.ACCOUNT:
            return text, None
        cached = self._names.get(text)
        if cached is not None:
            return cached
        world = self.world
        if not text or not text.strip():
            raise InvalidRequestError("principal must not be empty", field=field)
        session: str | None = None
        if text.startswith("arn:aws:sts::"):
            parsed = Arn.maybe(text)
            pieces = None if parsed is None else parsed.session_parts
            if parsed is None or pieces is None:
                raise InvalidRequestError(f"{text!r} is not an assumed-role session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION)", field=field)
            roles = [k for k in world.named(NodeKind.ROLE, pieces[0]) if world.node(k)["account"] == parsed.account]
            if not roles:
                raise NotFoundError("role", f"{pieces[0]} in account {parsed.account}", field=field)
            key, session = roles[0], pieces[1]
        elif text in world.graph:
            kind = world.graph.nodes[text]["kind"]
            if kind is NodeKind.GROUP:
                raise InvalidRequestError("a group is never a principal; ask about one of its members", field=field)
            if kind not in (NodeKind.USER, NodeKind.ROLE):
                hint = " (ask can about it to question its root user)" if kind is NodeKind.ACCOUNT else ""
                raise InvalidRequestError(f"{text} is a {kind.value}, not a user or role{hint}", field=field)
            key = text
        else:
            found = world.named(NodeKind.USER, text) + world.named(NodeKind.ROLE, text)
            if not found:
                if world.named(NodeKind.GROUP, text):
                    raise InvalidRequestError(f"{text!r} is a group, and a group is never a principal; ask about one of its members", field=field)
                users = sorted(d["name"] for _, d in world.nodes_of(NodeKind.USER))
                raise NotFoundError("user or role", text, field=field, hint=f"this world has users {', '.join(users[:10])}" if users else "")
            if len(found) > 1:
                raise InvalidRequestError(f"{text!r} names several principals ({', '.join(sorted(found))}); give the ARN", field=field)
            key = found[0]
        self._names[text] = (key, session)
        return key, session

    def resolve_resource(self, text: str, *, field: str = "resource") -> str:
        """An ARN or ``*``; a bucket name (or ``bucket/key``) of an S3 bucket in the world is
        accepted for convenience."""
        if not text or not text.strip():
            raise InvalidRequestError("resource must not be empty (give an ARN, '*', or a bucket name)", field=field)
        if not text.startswith("arn:") and text != "*":
            bucket = text.split("/", 1)[0]
            if s3_arn(bucket) in self.world.graph:
                return s3_arn(text)
            raise InvalidRequestError(f"resource {text!r} is neither an ARN, '*', nor a bucket of this world", field=field)
        return validate_resource_arn(text, field=field)

    def resolve_policy_source(self, text: str, *, field: str = "policySourceArn") -> str:
        """A user, group or role (ARN or name), as AWS's SimulatePrincipalPolicy accepts."""
        world = self.world
        if text in world.graph and world.graph.nodes[text]["kind"] in (NodeKind.USER, NodeKind.GROUP, NodeKind.ROLE):
            return text
        for kind in (NodeKind.USER, NodeKind.ROLE, NodeKind.GROUP):
            try:
                return world.find(kind, text, field=field)
            except NotFoundError:
                continue
        raise NotFoundError("user, group or role", text, field=field)

    # ---- gathering ----------------------------------------------------------------------------

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
        data = world.node(key)
        kind = data["kind"]
        empty = PolicySet(())
        if kind is NodeKind.GROUP:
            # A group is never a principal; simulating its policies derives only the account.
            return Caller(key, data["label"], None, {"aws:principalaccount": (data["account"],)}, empty, None, None)
        if kind is NodeKind.ACCOUNT:
            # The account's root user: no policies, boundary or session of its own; the SCPs of
            # a member account govern it. D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
            account = data["account"]
            identity = CallerIdentity("Account", key, account, key, user_id=account)
            scps = None if account == world.management_account else self._org_levels_for(account, "scp")
            return Caller(key, f"root user of {account}", identity, {**identity.derived_context(), **self._org_keys(account)}, empty, None, scps)
        boundary_key = world.boundary_of(key)
        boundary = None
        if boundary_key is not None:
            bdata = world.node(boundary_key)
            ptype = PolicyType.AWS_MANAGED if bdata["account"] == AWS_MANAGED_ACCOUNT else PolicyType.USER_MANAGED
            step0 = PathStep(key, kind, data["label"])
            step1 = PathStep(boundary_key, NodeKind.POLICY, bdata["label"], EdgeKind.BOUNDED_BY, world.graph.edges[key, boundary_key, EdgeKind.BOUNDED_BY.value]["provenance"])
            boundary = PolicySet([PolicyAttachment(boundary_key, bdata["name"], bdata["arn"], ptype, bdata["document"], (step0, step1))], Layer.BOUNDARY)
        account = data["account"]
        if kind is NodeKind.USER:
            identity = CallerIdentity("User", key, account, key, user_id=data["unique_id"], username=data["name"], tags=data.get("tags", {}), has_boundary=boundary is not None)
            label = data["label"]
        else:
            name = session or DEFAULT_SESSION
            identity = CallerIdentity(
                "AssumedRole", session_arn(account, data["name"], name), account, key, role_arn=key,
                user_id=f"{data['unique_id']}:{name}", tags=data.get("tags", {}), has_boundary=boundary is not None,
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
        root = self.world.node(chain[0])
        ous = [self.world.node(level)["ou_id"] for level in chain[1:-1]]
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
                steps = tuple(PathStep(node, world.node(node)["kind"], world.node(node)["label"]) for node in reversed(chain[depth:]))
                attachments = [
                    PolicyAttachment(p, world.node(p)["name"], None, ptype, world.node(p)["document"], (*steps, PathStep(p, NodeKind.ORG_POLICY, world.node(p)["label"], EdgeKind.GOVERNED_BY_ORG)))
                    for p in world.org_policies(level, policy_type)
                ]
                built.append(PolicySet(attachments, layer))
            levels = tuple(built)
        self._org_levels[cache_key] = levels
        return levels

    def target(self, text: str, field: str = "resource") -> Target:
        cached = self._targets.get((text, field))
        if cached is not None:
            return cached
        arn = self.resolve_resource(text, field=field)
        world = self.world
        governing = world.governing_resource(arn)
        owner: str | None = None
        policy = None
        if governing is not None:
            gdata = world.node(governing)
            owner = gdata.get("account")
            is_role = gdata["kind"] is NodeKind.ROLE
            policy_key = world.resource_policy(governing)
            if policy_key is not None:
                pdata = world.node(policy_key)
                edge = EdgeKind.TRUSTS if is_role else EdgeKind.GOVERNED_BY
                steps = [PathStep(governing, gdata["kind"], gdata["label"])]
                if governing != arn:  # an object governed by its bucket's policy
                    steps.insert(0, PathStep(arn, NodeKind.RESOURCE, "resource/" + resource_part(arn)))
                path = (*steps, PathStep(policy_key, pdata["kind"], pdata["label"], edge))
                policy = PolicySet([PolicyAttachment(policy_key, pdata["name"], None, PolicyType.RESOURCE, pdata["document"], path)], Layer.RESOURCE)
        if owner is None:
            owner = _arn_account(arn)
        rcp_levels = None
        if owner is not None and owner != world.management_account:
            rcp_levels = self._org_levels_for(owner, "rcp")
        target = Target(arn, owner, policy, rcp_levels)
        if len(self._targets) > 65536:
            self._targets.clear()
        self._targets[(text, field)] = target
        return target

    # ---- questions --------------------------------------------------------------------------

    def can(
        self,
        principal: str,
        action: str,
        resource: str,
        context: Iterable[ContextEntry] = (),
        *,
        session_policy: str | None = None,
        via_roles: bool = False,
    ) -> Decision:
        """Can a user or role (by name, ARN or session ARN) do ``action`` on ``resource``?
        With ``via_roles``, a request not allowed directly is also tried through the roles the
        principal can assume (a chain of at most three)."""
        key, session = self.resolve_principal(principal, allow_root=True)
        context = tuple(context)
        decision = self.evaluate(key, action, resource, context, session=session, session_policy=session_policy)
        if via_roles and not decision.allowed and self.world.node(key)["kind"] is not NodeKind.ACCOUNT:
            route = self._route_via_roles(key, decision.action, decision.resource, context)
            if route is not None:
                decision = replace(decision, via_role=route)
        return decision

    def evaluate(
        self,
        key: str,
        action: str,
        resource: str,
        context: Iterable[ContextEntry] = (),
        *,
        session: str | None = None,
        session_policy: str | None = None,
        policies: PolicySet | None = None,
        caller: Caller | None = None,
        fields: tuple[str, str, str] = ("action", "resource", "context"),
    ) -> Decision:
        """Decide one request for the principal at node ``key``; ``policies`` overrides its
        identity policy set (simulatePrincipalPolicy with extra policies)."""
        canonical = catalog.require_action(action, field=fields[0])
        explicit = build_context(context, field=fields[2])
        must_allow = canonical.startswith("sts:")
        custom = policies is not None or session_policy is not None or caller is not None
        prepared = None if custom else self._prepared.get((key, session, resource, fields[1], must_allow))
        if prepared is None:
            prepared = self._prepare(key, session, resource, fields[1], must_allow, policies, session_policy, caller)
        caller, target, layers, derived = prepared
        warning = catalog.resource_warning(canonical, target.arn)
        return decide(
            caller=caller.identity,
            principal_label=caller.label,
            action=canonical,
            resource=target.arn,
            layers=layers,
            ctx=merge_derived(derived, explicit),
            warnings=(warning,) if warning else (),
        )

    def _prepare(
        self,
        key: str,
        session: str | None,
        resource: str,
        field: str,
        sts_action: bool,
        policies: PolicySet | None,
        session_policy: str | None,
        caller_override: Caller | None,
    ) -> tuple[Caller, Target, Layers, Mapping[str, tuple[str, ...]]]:
        """Gather the layers for (principal, resource) once; only the action and context vary.
        Overridden policies, session policies or callers are one-off and not cached."""
        target = self.target(resource, field)
        # With overriding identity policies, the principal's own set is not needed.
        caller = caller_override or (self.caller_base(key, session) if policies is not None else self.caller(key, session))
        derived = caller.derived
        if target.owner is not None:
            derived = {**derived, "aws:resourceaccount": (target.owner,)}
        session_set = None
        if session_policy is not None:
            if caller.identity is None or not caller.identity.is_session:
                raise InvalidRequestError("a session policy applies to a role session; ask as a role or an assumed-role session ARN", field="sessionPolicy")
            session_set = _session_set(session_policy, caller.label)
        layers = Layers(
            identity=policies if policies is not None else caller.policies,
            boundary=caller.boundary,
            session=session_set,
            resource=target.resource_policy,
            scp_levels=caller.scp_levels,
            rcp_levels=target.rcp_levels,
            resource_owner=target.owner,
            resource_must_allow=requires_resource_grant("sts:" if sts_action else "", target.arn),
        )
        prepared = (caller, target, layers, derived)
        if policies is None and session_policy is None and caller_override is None:
            if len(self._prepared) > 65536:
                self._prepared.clear()
            self._prepared[(key, session, resource, field, sts_action)] = prepared
        return prepared

    def simulate_principal(
        self,
        source: str,
        actions: Sequence[str],
        resources: Sequence[str] = ("*",),
        context: Sequence[ContextEntry] = (),
        extra_documents: Sequence[PolicyDocument] = (),
        boundary_document: PolicyDocument | None = None,
    ) -> list[Decision]:
        """AWS's SimulatePrincipalPolicy: every action x resource for a user (with its groups'
        policies), a group or a role, plus optional extra identity policies and an optional
        boundary that replaces the attached one."""
        key = self.resolve_policy_source(source)
        policies = None
        if extra_documents:
            extra = _document_attachments(extra_documents, "PolicyInputList", PolicyType.USER)
            policies = PolicySet([*self.caller(key).policies.attachments, *extra])
        fields = ("actionNames", "resourceArns", "contextEntries")
        if boundary_document is not None:
            caller = self.caller(key)
            boundary = PolicySet(_document_attachments([boundary_document], "PermissionsBoundaryPolicyInputList", PolicyType.USER_MANAGED), Layer.BOUNDARY)
            override = replace(caller, boundary=boundary, identity=None if caller.identity is None else replace(caller.identity, has_boundary=True))
            return [self.evaluate(key, a, r, context, policies=policies, caller=override, fields=fields) for a in actions for r in resources]
        return [self.evaluate(key, a, r, context, policies=policies, fields=fields) for a in actions for r in resources]

    # ---- roles ------------------------------------------------------------------------------

    def assumable_roles(self, key: str) -> list[tuple[str, Decision]]:
        """The roles ``key`` may assume (sts:AssumeRole allowed through its trust policy), each
        with the decision that shows it: the ``can-assume`` edges of the graph."""
        found = self._assumable.get(key)
        if found is None:
            found = []
            for role, _ in sorted(self.world.nodes_of(NodeKind.ROLE)):
                if role == key:
                    continue
                decision = self.evaluate(key, "sts:AssumeRole", role)
                if decision.allowed:
                    found.append((role, decision))
            self._assumable[key] = found
        return found

    def can_assume_graph(self) -> list[tuple[str, str, Decision]]:
        """Every can-assume edge of the world: (principal, role, decision)."""
        edges = []
        for kind in (NodeKind.USER, NodeKind.ROLE):
            for key, _ in sorted(self.world.nodes_of(kind)):
                edges += [(key, role, d) for role, d in self.assumable_roles(key)]
        return edges

    def assume_graph(self) -> nx.MultiDiGraph:
        """The can-assume edges as a networkx graph over the world's principals: an edge
        principal -> role (key ``can-assume``) whose ``provenance`` names the trust statement and
        the identity statement that allow it (``trust`` and ``identity`` hold their paths)."""
        import networkx as nx

        graph = nx.MultiDiGraph()
        for principal, role, decision in self.can_assume_graph():
            trust = [m.path_text for m in decision.matched_statements if m.layer is Layer.RESOURCE]
            identity = [m.path_text for m in decision.matched_statements if m.layer is Layer.IDENTITY]
            graph.add_edge(
                principal, role, key=EdgeKind.CAN_ASSUME.value, trust=trust, identity=identity,
                provenance="; ".join(["trust: " + p for p in trust] + ["identity: " + p for p in identity]),
            )
        return graph

    def _route_via_roles(self, key: str, action: str, resource: str, context: tuple[ContextEntry, ...]) -> RoleRoute | None:
        """Breadth-first over can-assume edges: the shortest role chain that allows the request."""
        queue: deque[tuple[str, tuple[AssumeStep, ...]]] = deque([(key, ())])
        seen = {key}
        while queue:
            current, steps = queue.popleft()
            if len(steps) >= MAX_ROLE_CHAIN:
                continue
            for role, assume in self.assumable_roles(current):
                if role in seen:
                    continue
                seen.add(role)
                chain = (*steps, AssumeStep(current, role, assume))
                decision = self.evaluate(role, action, resource, context)
                if decision.allowed:
                    return RoleRoute(chain, decision)
                queue.append((role, chain))
        return None


# ---- input documents (simulate requests; see simulation.py) ----------------------------------


def _document_attachments(documents: Sequence[PolicyDocument], label: str, ptype: PolicyType) -> list[PolicyAttachment]:
    out = []
    for i, doc in enumerate(documents, start=1):
        name = f"{label}.{i}"
        out.append(PolicyAttachment(name, name, None, ptype, doc, (PathStep(name, NodeKind.POLICY, f"policy/{name}"),)))
    return out


@lru_cache(maxsize=4096)
def _parse_cached(text: str, kind: PolicyKind) -> PolicyDocument:
    # Batches of simulations repeat the same documents; parse and compile each once.
    return parse_with_catalog(text, kind=kind)


def parse_document(document: str | Mapping[str, object], kind: PolicyKind, field: str) -> PolicyDocument:
    """Parse one input document; problems carry ``field`` as their path prefix."""
    try:
        if isinstance(document, str):
            return _parse_cached(document, kind)
        return parse_with_catalog(document, kind=kind)
    except PolicyValidationError as exc:
        raise PolicyValidationError([Problem(f"{field}.{p.path}".rstrip("."), p.rule) for p in exc.problems], field=field) from None


def input_policy_set(documents: Sequence[str | Mapping[str, object]], kind: PolicyKind, field: str, label: str, ptype: PolicyType, layer: Layer) -> PolicySet:
    """A policy set built from input documents; sets of JSON texts are built once and reused,
    since batches of simulations repeat the same documents."""
    if all(isinstance(d, str) for d in documents):
        return _input_set_cached(tuple(documents), kind, field, label, ptype, layer)  # type: ignore[arg-type]
    docs = [parse_document(d, kind, _input_field(field, i)) for i, d in enumerate(documents)]
    return PolicySet(_document_attachments(docs, label, ptype), layer)


def _input_field(field: str, index: int) -> str:
    # List inputs name the document by index (policyInputList[0]); single ones by name alone.
    return f"{field}[{index}]" if field.endswith("List") else field


@lru_cache(maxsize=4096)
def _input_set_cached(texts: tuple[str, ...], kind: PolicyKind, field: str, label: str, ptype: PolicyType, layer: Layer) -> PolicySet:
    docs = [parse_document(d, kind, _input_field(field, i)) for i, d in enumerate(texts)]
    return PolicySet(_document_attachments(docs, label, ptype), layer)


def _session_set(document: str | Mapping[str, object], label: str) -> PolicySet:
    doc = parse_document(document, PolicyKind.SESSION, "sessionPolicy")
    step = PathStep("SessionPolicy", NodeKind.POLICY, "session-policy")
    return PolicySet([PolicyAttachment("SessionPolicy", "SessionPolicy", None, PolicyType.SESSION, doc, (PathStep(label, NodeKind.ROLE, label), step))], Layer.SESSION)


def _arn_account(text: str) -> str | None:
    # The ARN's account field when it holds digits (S3 ARNs and '*' hold none).
    parsed = Arn.maybe(text)
    return parsed.account if parsed is not None and parsed.account.isdigit() else None
