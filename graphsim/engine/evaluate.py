"""The decision for one request, computed from the policies gathered along graph paths.

Identity-based evaluation, as AWS documents it: an explicit Deny in any applicable statement
wins; otherwise an Allow allows; otherwise the request is implicitly denied.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .. import catalog
from ..errors import InvalidRequestError, NotFoundError
from ..policy import Effect, PolicyDocument, Statement
from ..world import NodeKind, PathStep, PolicyAttachment, PolicyType, World
from .context import Context, ContextEntry, build_context, merge_derived
from .decision import Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement


@dataclass(frozen=True, slots=True)
class _Entry:
    statement: Statement
    attachment: PolicyAttachment
    matched: MatchedStatement  # built once, when the policy set is built, not per request


class PolicySet:
    """A principal's identity statements, indexed so a request scans only statements whose
    Action can name it: exact names by action, wildcard patterns by service, the rest
    (``*``, ``NotAction``, service wildcards) for every request."""

    __slots__ = ("attachments", "_by_action", "_by_service", "_any", "_merged")

    def __init__(self, attachments: Sequence[PolicyAttachment]) -> None:
        self.attachments = tuple(attachments)
        self._by_action: dict[str, list[tuple[int, _Entry]]] = {}
        self._by_service: dict[str, list[tuple[int, _Entry]]] = {}
        self._any: list[tuple[int, _Entry]] = []
        self._merged: dict[str, tuple[_Entry, ...]] = {}
        order = 0
        for att in self.attachments:
            for st in att.document.statements:
                item = (order, _Entry(st, att, _matched(st, att, Layer.IDENTITY)))
                order += 1
                actions = st.actions
                if st.not_action or actions.services is None:
                    self._any.append(item)
                elif actions.exact_only:
                    for name in actions.exact:
                        self._by_action.setdefault(name, []).append(item)
                else:
                    for svc in actions.services:
                        self._by_service.setdefault(svc, []).append(item)

    @classmethod
    def build(cls, attachments: Sequence[PolicyAttachment]) -> PolicySet:
        return cls(attachments)

    def candidates(self, action_lower: str) -> tuple[_Entry, ...]:
        """The statements that may name ``action_lower``, in policy order (merged once per action)."""
        found = self._merged.get(action_lower)
        if found is None:
            service = action_lower.split(":", 1)[0]
            items = self._by_action.get(action_lower, []) + self._by_service.get(service, []) + self._any
            found = tuple(entry for _, entry in sorted(items, key=lambda item: item[0]))
            if len(self._merged) > 4096:
                self._merged.clear()
            self._merged[action_lower] = found
        return found


@dataclass(frozen=True, slots=True)
class Caller:
    key: str
    arn: str
    label: str
    kind: NodeKind
    derived: Mapping[str, tuple[str, ...]]
    policies: PolicySet


def _matched(st: Statement, att: PolicyAttachment, layer: Layer) -> MatchedStatement:
    step = PathStep(f"{att.policy}#Statement[{st.index}]", NodeKind.STATEMENT, st.label)
    return MatchedStatement(
        policy=att.name,
        policy_key=att.policy,
        policy_arn=att.arn,
        policy_type=att.policy_type,
        sid=st.sid,
        index=st.index,
        effect=st.effect,
        layer=layer,
        path=(*att.path, step),
        raw=st.raw,
    )


def evaluate_identity(policies: PolicySet, action: str, resource: str, ctx: Context) -> tuple[list[_Entry], list[_Entry], list[str]]:
    """(allowing entries, denying entries, missing context keys) for one request."""
    action_lower = action.lower()
    allows: list[_Entry] = []
    denies: list[_Entry] = []
    missing: list[str] = []
    for entry in policies.candidates(action_lower):
        st = entry.statement
        if not st.matches_action(action_lower):
            continue
        if not st.matches_resource(resource, ctx):
            if st.resources is not None and st.resources.has_variables:
                # A missing variable made an entry match nothing: supplying it could change that.
                missing.extend(st.missing_resource_keys(ctx))
            continue
        if st.condition.clauses:
            missing.extend(st.condition.missing_keys(ctx))
            if not st.condition.evaluate(ctx):
                continue
        (denies if st.effect is Effect.DENY else allows).append(entry)
    return allows, denies, missing


def decide(
    *,
    principal_arn: str,
    principal_label: str,
    action: str,
    resource: str,
    policies: PolicySet,
    ctx: Context,
    warnings: Sequence[str] = (),
) -> Decision:
    allows, denies, missing = evaluate_identity(policies, action, resource, ctx)
    if denies:
        kind = DecisionKind.EXPLICIT_DENY
        # On a deny, only the denying statements count as matched, as in AWS's simulator.
        matched = tuple(e.matched for e in denies)
        fix = FixHint(denied_by=tuple(m.path_text for m in matched))
    elif allows:
        kind = DecisionKind.ALLOWED
        matched = tuple(e.matched for e in allows)
        fix = None
    else:
        kind = DecisionKind.IMPLICIT_DENY
        matched = ()
        fix = FixHint(statement={"Effect": "Allow", "Action": action, "Resource": resource}, principal_label=principal_label)
    return Decision(
        principal=principal_arn,
        action=action,
        resource=resource,
        decision=kind,
        matched_statements=matched,
        missing_context_values=tuple(dict.fromkeys(missing)),
        layer_verdicts=(LayerVerdict(Layer.IDENTITY, kind, len(policies.attachments)),),
        blocked_by=None,
        warnings=tuple(warnings),
        fix=fix,
        principal_label=principal_label,
    )


def validate_resource_arn(resource: str, *, field: str = "resource") -> str:
    """A request's resource must be ``*`` or a well-formed ARN (users asked for malformed ARNs
    such as ``arn:aws::s3:*`` to be rejected rather than silently denied)."""
    if resource == "*":
        return resource
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn" or not parts[1] or not parts[2] or not parts[5]:
        raise InvalidRequestError(
            f"resource {resource!r} is not an ARN of the form arn:partition:service:region:account:resource (or '*')",
            field=field,
        )
    if any(c in resource for c in "*?"):
        raise InvalidRequestError(f"a request names one resource; wildcards are not allowed in {resource!r}", field=field)
    return resource


class Engine:
    """Answers requests against one world, caching each principal's compiled policy set until
    the world changes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._callers: dict[str, Caller] = {}
        self._names: dict[str, str] = {}
        self._resources: dict[tuple[str, str], tuple[str, str | None]] = {}
        world.on_change(self._invalidate)

    def _invalidate(self) -> None:
        self._callers.clear()
        self._names.clear()
        self._resources.clear()

    # ---- resolving names ------------------------------------------------------------------

    def resolve_principal(self, text: str, *, field: str = "principal") -> str:
        cached = self._names.get(text)
        if cached is not None:
            return cached
        world = self.world
        if not text or not text.strip():
            raise InvalidRequestError("principal must not be empty", field=field)
        if text in world.graph:
            kind = world.graph.nodes[text]["kind"]
            if kind is NodeKind.GROUP:
                raise InvalidRequestError("a group is never a principal; ask about one of its members", field=field)
            if kind not in (NodeKind.USER, NodeKind.ROLE):
                raise InvalidRequestError(f"{text} is a {kind.value}, not a user or role", field=field)
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
        self._names[text] = key
        return key

    def resolve_resource(self, text: str, *, field: str = "resource") -> str:
        """An ARN or ``*``; a bucket name (or ``bucket/key``) of an S3 bucket in the world is
        accepted for convenience."""
        if not text or not text.strip():
            raise InvalidRequestError("resource must not be empty (give an ARN, '*', or a bucket name)", field=field)
        if not text.startswith("arn:") and text != "*":
            bucket = text.split("/", 1)[0]
            bucket_arn = f"arn:aws:s3:::{bucket}"
            if bucket_arn in self.world.graph:
                return f"arn:aws:s3:::{text}"
            raise InvalidRequestError(f"resource {text!r} is neither an ARN, '*', nor a bucket of this world", field=field)
        return validate_resource_arn(text, field=field)

    # ---- callers ----------------------------------------------------------------------------

    def caller(self, key: str) -> Caller:
        cached = self._callers.get(key)
        if cached is None:
            cached = self._callers[key] = self._build_caller(key)
        return cached

    def _build_caller(self, key: str) -> Caller:
        data = self.world.graph.nodes[key]
        kind = data["kind"]
        policies = PolicySet.build(self.world.identity_policies(key))
        if kind is NodeKind.GROUP:
            # A group is never a principal; simulating its policies derives only the account.
            return Caller(key, data["arn"], data["label"], kind, {"aws:principalaccount": (data["account"],)}, policies)
        derived: dict[str, tuple[str, ...]] = {
            "aws:principalarn": (data["arn"],),
            "aws:principalaccount": (data["account"],),
            # The simulator reports an IAM user as "User"; a role acts through a session.
            "aws:principaltype": ("User" if kind is NodeKind.USER else "AssumedRole",),
            "aws:userid": (data["unique_id"],),
        }
        if kind is NodeKind.USER:
            derived["aws:username"] = (data["name"],)
        for tag_key, tag_value in data.get("tags", {}).items():
            derived[f"aws:principaltag/{tag_key.lower()}"] = (tag_value,)
        return Caller(key, data["arn"], data["label"], kind, derived, policies)

    def _resource_account(self, resource: str) -> str | None:
        graph = self.world.graph
        if resource in graph:
            return graph.nodes[resource].get("account")
        if resource.startswith("arn:aws:s3:::"):
            bucket = resource.split("/", 1)[0]
            if bucket in graph:
                return graph.nodes[bucket].get("account")
        parts = resource.split(":", 5)
        return parts[4] if len(parts) == 6 and parts[4].isdigit() else None

    # ---- questions --------------------------------------------------------------------------

    def can(self, principal: str, action: str, resource: str, context: Iterable[ContextEntry] = ()) -> Decision:
        """Can a user or role (by name or ARN) do ``action`` on ``resource``?"""
        return self.evaluate(self.resolve_principal(principal), action, resource, context)

    def evaluate(
        self,
        key: str,
        action: str,
        resource: str,
        context: Iterable[ContextEntry] = (),
        *,
        policies: PolicySet | None = None,
        fields: tuple[str, str, str] = ("action", "resource", "context"),
    ) -> Decision:
        """Decide one request for the principal at node ``key``; ``policies`` overrides its
        policy set (simulatePrincipalPolicy with extra policies)."""
        canonical = catalog.require_action(action, field=fields[0])
        resolved = self._resources.get((resource, fields[1]))
        if resolved is None:
            arn = self.resolve_resource(resource, field=fields[1])
            if len(self._resources) > 65536:
                self._resources.clear()
            resolved = self._resources[(resource, fields[1])] = (arn, self._resource_account(arn))
        arn, account = resolved
        explicit = build_context(context, field=fields[2])
        caller = self.caller(key)
        derived = caller.derived
        if account is not None:
            derived = {**derived, "aws:resourceaccount": (account,)}
        ctx = merge_derived(derived, explicit)
        warning = catalog.resource_warning(canonical, arn)
        return decide(
            principal_arn=caller.arn,
            principal_label=caller.label,
            action=canonical,
            resource=arn,
            policies=policies if policies is not None else caller.policies,
            ctx=ctx,
            warnings=(warning,) if warning else (),
        )

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

    def simulate_principal(
        self,
        source: str,
        actions: Sequence[str],
        resources: Sequence[str] = ("*",),
        context: Sequence[ContextEntry] = (),
        extra_documents: Sequence[PolicyDocument] = (),
    ) -> list[Decision]:
        """AWS's SimulatePrincipalPolicy: every action x resource for a user (with its groups'
        policies), a group or a role, plus optional extra identity policies."""
        key = self.resolve_policy_source(source)
        policies = None
        if extra_documents:
            extra = custom_policy_set(extra_documents).attachments
            policies = PolicySet.build([*self.caller(key).policies.attachments, *extra])
        fields = ("actionNames", "resourceArns", "contextEntries")
        return [self.evaluate(key, a, r, context, policies=policies, fields=fields) for a in actions for r in resources]


def custom_policy_set(documents: Sequence[PolicyDocument], *, label: str = "PolicyInputList") -> PolicySet:
    """Policies given inline to simulateCustomPolicy, each with a one-step path of its own."""
    attachments = []
    for i, doc in enumerate(documents, start=1):
        name = f"{label}.{i}"
        step = PathStep(name, NodeKind.POLICY, f"policy/{name}")
        attachments.append(PolicyAttachment(name, name, None, PolicyType.USER, doc, (step,)))
    return PolicySet.build(attachments)


def _caller_keys(caller_arn: str) -> dict[str, tuple[str, ...]]:
    """Keys AWS's simulator derives from a CallerArn (an IAM user ARN in AWS; any principal here)."""
    parts = caller_arn.split(":", 5)
    account, resource = parts[4], parts[5]
    derived: dict[str, tuple[str, ...]] = {"aws:principalaccount": (account,)}
    if resource.startswith("user/"):
        derived["aws:username"] = (resource.rsplit("/", 1)[1],)
        derived["aws:principaltype"] = ("User",)
        derived["aws:principalarn"] = (caller_arn,)
    elif resource.startswith("role/"):
        derived["aws:principaltype"] = ("AssumedRole",)
        derived["aws:principalarn"] = (caller_arn,)
    return derived


def simulate_custom(
    documents: Sequence[str | Mapping[str, object]],
    action: str,
    resource: str = "*",
    context: Iterable[ContextEntry] = (),
    *,
    caller_arn: str | None = None,
) -> Decision:
    """Evaluate one request against identity policies given as documents (simulateCustomPolicy)."""
    from ..world.graph import parse_with_catalog

    parsed = [parse_with_catalog(doc, source=f"policyInputList[{i}]") for i, doc in enumerate(documents)]
    return decide_custom(parsed, action, resource, context, caller_arn=caller_arn)


def decide_custom(
    documents: Sequence[PolicyDocument],
    action: str,
    resource: str = "*",
    context: Iterable[ContextEntry] = (),
    *,
    caller_arn: str | None = None,
    policies: PolicySet | None = None,
) -> Decision:
    canonical = catalog.require_action(action, field="actionNames")
    arn = validate_resource_arn(resource, field="resourceArns")
    derived: dict[str, tuple[str, ...]] = {}
    if caller_arn is not None:
        validate_resource_arn(caller_arn, field="callerArn")
        derived = _caller_keys(caller_arn)
    ctx = merge_derived(derived, build_context(context, field="contextEntries"))
    warning = catalog.resource_warning(canonical, arn)
    return decide(
        principal_arn=caller_arn or "",
        principal_label=caller_arn or "the caller",
        action=canonical,
        resource=arn,
        policies=policies if policies is not None else custom_policy_set(documents),
        ctx=ctx,
        warnings=(warning,) if warning else (),
    )
