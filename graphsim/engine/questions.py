"""The engine: answers questions about one world (can, simulatePrincipalPolicy) by resolving
the request's names (``resolve``), gathering the policies that speak to it along graph paths
(``gather``), and handing them to ``layers.decide``; role chains come from ``roles``.

Everything gathered is cached per principal, resource and account until the world changes.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .. import catalog
from ..arn import CACHED_LENGTH
from ..errors import InvalidRequestError
from ..policy import PolicyDocument
from ..world import NodeKind, PolicyType, World
from .context import Context, ContextEntry, build_context, merge_derived
from .decision import Decision, Layer
from .documents import document_attachments, session_policy_set
from .gather import Caller, Gatherer, Target
from .layers import Layers, decide, requires_resource_grant
from .policyset import PolicySet
from .resolve import Resolver
from .roles import RoleChains

if TYPE_CHECKING:
    import networkx as nx


def _with_owner(derived: Mapping[str, tuple[str, ...]], target: Target) -> Mapping[str, tuple[str, ...]]:
    """The caller's derived keys and ``aws:ResourceAccount``, the account owning the resource."""
    if target.owner is None:
        return derived
    return {**derived, "aws:resourceaccount": (target.owner,)}


class Engine:
    """Answers requests against one world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._resolver = Resolver(world)
        self._gatherer = Gatherer(world)
        self._roles = RoleChains(world, lambda key, action, resource, context: self.evaluate(key, action, resource, context))
        self._targets: dict[tuple[str, str], Target] = {}
        self._prepared: dict[tuple[str, str | None, str, str, bool], tuple[Caller, Target, Layers, Mapping[str, tuple[str, ...]]]] = {}
        # The world holds its listeners for good: through a weak reference, an engine nobody
        # uses any more (a fresh engine per question, what-if worlds) is freed with its caches.
        ref = weakref.ref(self)

        def invalidate() -> None:
            engine = ref()
            if engine is not None:
                engine._invalidate()

        world.on_change(invalidate)

    def _invalidate(self) -> None:
        self._resolver.clear()
        self._gatherer.clear()
        self._roles.clear()
        self._targets.clear()
        self._prepared.clear()

    # ---- names (resolve.py) -------------------------------------------------------------------

    def resolve_principal(self, text: str, *, field: str = "principal", allow_root: bool = False) -> tuple[str, str | None]:
        """(node key, session name) of a user or role given by name, ARN, or assumed-role
        session ARN (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``); with ``allow_root``,
        also the root user of an account of the world (``arn:aws:iam::ACCOUNT:root``)."""
        return self._resolver.principal(text, field=field, allow_root=allow_root)

    def resolve_resource(self, text: str, *, field: str = "resource") -> str:
        """An ARN or ``*``; a bucket name (or ``bucket/key``) of an S3 bucket in the world is
        accepted for convenience."""
        return self._resolver.resource(text, field=field)

    def resolve_policy_source(self, text: str, *, field: str = "policySourceArn") -> str:
        """A user, group or role (ARN or name), as AWS's SimulatePrincipalPolicy accepts."""
        return self._resolver.policy_source(text, field=field)

    # ---- gathered policies (gather.py) --------------------------------------------------------

    def gathered(self, key: str, session: str | None = None) -> bool:
        """Whether the principal's whole identity policy set is already built."""
        return self._gatherer.gathered(key, session)

    def caller(self, key: str, session: str | None = None) -> Caller:
        """A principal with its whole identity policy set, built once."""
        return self._gatherer.caller(key, session)

    def caller_base(self, key: str, session: str | None = None) -> Caller:
        """A principal's identity, derived context keys, boundary and SCP levels, without its
        identity policies (which cost the most to gather); ``policies`` is an empty set."""
        return self._gatherer.caller_base(key, session)

    def derived_context(self, key: str, session: str | None = None) -> Mapping[str, tuple[str, ...]]:
        """The context keys AWS derives from the principal (``aws:username``, ``aws:userid``,
        ``aws:PrincipalArn``, tags, organization keys...), as every request of it sees them."""
        return self._gatherer.caller_base(key, session).derived

    def target(self, text: str, field: str = "resource") -> Target:
        """A request's resource (ARN, ``*`` or bucket name), with its owner, resource policy and RCPs."""
        cached = self._targets.get((text, field))
        if cached is None:
            cached = self._gatherer.target(self.resolve_resource(text, field=field))
            if len(text) <= CACHED_LENGTH:  # keyed by a request's text: only short ones are kept
                if len(self._targets) > 65536:
                    self._targets.clear()
                self._targets[(text, field)] = cached
        return cached

    def request_context(self, key: str, resource: str, context: Iterable[ContextEntry] = (), *, session: str | None = None) -> Context:
        """The context a request of the principal on ``resource`` is decided in: the keys AWS
        derives from the caller and from the resource's owner, overridden by ``context``."""
        return merge_derived(_with_owner(self.derived_context(key, session), self.target(resource)), build_context(context))

    # ---- questions ------------------------------------------------------------------------------

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
        if via_roles and not decision.allowed and self.world.kind_of(key) is not NodeKind.ACCOUNT:
            route = self._roles.route(key, decision.action, decision.resource, context)
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
        derived = _with_owner(caller.derived, target)
        session_set = None
        if session_policy is not None:
            if caller.identity is None or not caller.identity.is_session:
                raise InvalidRequestError("a session policy applies to a role session; ask as a role or an assumed-role session ARN", field="sessionPolicy")
            session_set = session_policy_set(session_policy, caller.label)
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
        if policies is None and session_policy is None and caller_override is None and len(resource) <= CACHED_LENGTH:
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
            extra = document_attachments(extra_documents, "PolicyInputList", PolicyType.USER)
            policies = PolicySet([*self.caller(key).policies.attachments, *extra])
        fields = ("actionNames", "resourceArns", "contextEntries")
        if boundary_document is not None:
            caller = self.caller(key)
            boundary = PolicySet(document_attachments([boundary_document], "PermissionsBoundaryPolicyInputList", PolicyType.USER_MANAGED), Layer.BOUNDARY)
            override = replace(caller, boundary=boundary, identity=None if caller.identity is None else replace(caller.identity, has_boundary=True))
            return [self.evaluate(key, a, r, context, policies=policies, caller=override, fields=fields) for a in actions for r in resources]
        return [self.evaluate(key, a, r, context, policies=policies, fields=fields) for a in actions for r in resources]

    # ---- role chains (roles.py) -----------------------------------------------------------------

    def assumable_roles(self, key: str) -> list[tuple[str, Decision]]:
        """The roles ``key`` may assume (sts:AssumeRole allowed through its trust policy), each
        with the decision that shows it: the ``can-assume`` edges of the graph."""
        return self._roles.assumable_roles(key)

    def can_assume_graph(self) -> list[tuple[str, str, Decision]]:
        """Every can-assume edge of the world: (principal, role, decision)."""
        return self._roles.can_assume_graph()

    def assume_graph(self) -> nx.MultiDiGraph:
        """The can-assume edges as a networkx graph over the world's principals (see ``roles``)."""
        return self._roles.assume_graph()
