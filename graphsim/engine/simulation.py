"""AWS's simulate requests as values, validated once, and ``simulate`` that answers them.

``CustomSimulation`` is SimulateCustomPolicy (every policy layer given as a document) and
``PrincipalSimulation`` is SimulatePrincipalPolicy (a principal of the world, with optional extra
identity policies and a replacing boundary). Each is built from AWS's JSON request
(``from_aws``: ``--cli-input-json``, ``--input-jsonl``, ``POST /aws/...``) or directly from typed
fields (GraphQL input, the test corpus), and checks its shape on construction, the size limit
included. ``simulate`` parses and compiles every document once per request, then decides each
action x resource pair.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .. import catalog
from ..arn import CACHED_LENGTH, Arn, account_of, is_account_id
from ..errors import InvalidRequestError, PolicyValidationError, Problem
from ..limits import Limits, active, check_deadline, how_to_raise
from ..policy import PolicyDocument, PolicyKind, statement_count
from ..policy.cache import DOCUMENT_WEIGHT, DOCUMENTS
from ..world import NodeKind, PathStep, PolicyAttachment, PolicyType
from .bounds import check_arn
from .context import Context, ContextEntry, build_context, check_context, merge_derived
from .decision import Decision, Layer
from .documents import input_policy_set, parse_document, session_policy_set
from .layers import Layers, decide, requires_resource_grant
from .policyset import PolicySet
from .principals import CallerIdentity, parse_caller_arn
from .questions import Engine
from .resolve import validate_resource_arn

MAX_SIMULATIONS = Limits().simulation_pairs  # action x resource pairs in one request, by default (serve --max-simulation-pairs)

Document = str | Mapping[str, Any]
Levels = tuple[tuple[Document, ...], ...]


class SimulationTooLargeError(InvalidRequestError):
    """A request asks for more action x resource pairs than one call answers."""

    code = "SIMULATION_TOO_LARGE"

    def __init__(self, pairs: int, limit: int = MAX_SIMULATIONS) -> None:
        self.pairs = pairs
        self.limit = limit
        super().__init__(f"at most {limit:,} action x resource pairs per call; this request asks for {pairs:,} (split it into several calls, or {how_to_raise('simulation_pairs')})", field="actionNames")

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "limit": self.limit, "maximum": self.limit, "pairs": self.pairs, "flag": Limits.flag("simulation_pairs")}


def _check_size(actions: Sequence[str], resources: Sequence[str]) -> None:
    if not actions:
        raise InvalidRequestError("actionNames must name at least one action", field="actionNames")
    if not resources:
        raise InvalidRequestError("resourceArns must name at least one resource (or '*')", field="resourceArns")
    limit = active().simulation_pairs
    if len(actions) * len(resources) > limit:
        raise SimulationTooLargeError(len(actions) * len(resources), limit)


def _check_work(statements: int, actions: Sequence[str], resources: Sequence[str]) -> None:
    """Each pair may match every statement, and a decision keeps what matched: bound the product
    (the limit simulation_work)."""
    pairs = len(actions) * len(resources)
    active().check("simulation_work", statements * pairs, what=f"{statements:,} statements x {pairs:,} action x resource pairs", field="policyInputList")


def _check_work_early(documents: Sequence[Document | None], actions: Sequence[str], resources: Sequence[str]) -> None:
    """The same bound on construction, before any document is parsed (a 10,000-statement
    document takes a while to compile): its statements counted from the JSON alone. The
    documents given are ones whose every statement is evaluated (the identity policies, a
    boundary, a session policy), so the count is never more than the one made after parsing.
    A statement is an object, so a text holds no more statements than "{" characters: when even
    that many are within the limit (a batch's every request), no text is read here."""
    bound = sum(d.count("{") if isinstance(d, str) else statement_count(d) for d in documents if d is not None)
    if bound * len(actions) * len(resources) <= active().simulation_work:
        return
    _check_work(sum(statement_count(d) for d in documents if d is not None), actions, resources)


def _check_strings(resources: Sequence[str], context: Sequence[ContextEntry], arns: Sequence[tuple[str, str | None]]) -> None:
    """The request's ARNs and context within their limits (arn_length, context_value_length),
    before any document is parsed or pattern matched; a string is looked at closely only when
    it is too long or not ASCII (batches build a request per line)."""
    limit = active().arn_length
    for i, resource in enumerate(resources):
        if len(resource) > limit or not resource.isascii():
            check_arn(resource, field=f"resourceArns[{i}]", what="a resource ARN")
    for field, text in arns:
        if text is not None and (len(text) > limit or not text.isascii()):
            check_arn(text, field=field, what=f"the {field}")
    if context:
        check_context(context, "contextEntries")


def _single_boundary(documents: Sequence[Document]) -> None:
    if len(documents) > 1:
        raise InvalidRequestError("a principal has at most one permissions boundary", field="permissionsBoundaryPolicyInputList")


@dataclass(frozen=True, slots=True)
class CustomSimulation:
    """SimulateCustomPolicy: identity policies (possibly none), and optionally a boundary, a
    resource policy with its owner, a session policy, and SCP/RCP levels (root first, each a
    list of documents; SCPs govern the caller's account, RCPs the resource owner's)."""

    policies: tuple[Document, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    context: tuple[ContextEntry, ...] = ()
    caller_arn: str | None = None
    permissions_boundaries: tuple[Document, ...] = ()
    resource_policy: Document | None = None
    resource_owner: str | None = None
    session_policy: Document | None = None
    scps: Levels | None = None
    rcps: Levels | None = None
    management_account: str | None = None

    def __post_init__(self) -> None:
        _check_size(self.actions, self.resources)
        _check_strings(self.resources, self.context, (("callerArn", self.caller_arn), ("resourceOwner", self.resource_owner), ("managementAccount", self.management_account)))
        _single_boundary(self.permissions_boundaries)
        # SCPs are left out here: a caller in the management account skips them.
        _check_work_early((*self.policies, *self.permissions_boundaries, self.session_policy), self.actions, self.resources)
        if self.caller_arn is None and (self.resource_policy is not None or self.rcps is not None or self.session_policy is not None):
            # As in AWS: a resource policy cannot be evaluated without knowing who is calling.
            raise InvalidRequestError("callerArn is required with a resourcePolicy, resourceControlPolicyInputList or sessionPolicy", field="callerArn")

    @property
    def permissions_boundary(self) -> Document | None:
        return self.permissions_boundaries[0] if self.permissions_boundaries else None

    @classmethod
    def from_aws(cls, request: Any) -> CustomSimulation:
        """From AWS's request JSON (``aws iam simulate-custom-policy --cli-input-json``), with
        our extensions ServiceControlPolicyInputList, ResourceControlPolicyInputList,
        SessionPolicy and ManagementAccount. ``PolicyInputList`` must be present, as AWS
        requires, and may be empty: a caller with no identity-based policies."""
        _check_keys(request, CUSTOM_KEYS, required=("ActionNames",), present=("PolicyInputList",))
        return cls(
            policies=_strings(request, "PolicyInputList"),
            actions=_strings(request, "ActionNames"),
            resources=_strings(request, "ResourceArns") or ("*",),
            context=_context(request),
            caller_arn=_string(request, "CallerArn"),
            permissions_boundaries=_strings(request, "PermissionsBoundaryPolicyInputList"),
            resource_policy=_string(request, "ResourcePolicy"),
            resource_owner=_string(request, "ResourceOwner"),
            session_policy=_string(request, "SessionPolicy"),
            scps=_levels(request, "ServiceControlPolicyInputList"),
            rcps=_levels(request, "ResourceControlPolicyInputList"),
            management_account=_string(request, "ManagementAccount"),
        )


@dataclass(frozen=True, slots=True)
class PrincipalSimulation:
    """SimulatePrincipalPolicy: the policies of a user (with its groups'), group or role of the
    world, plus extra identity policies and at most one boundary that replaces its own."""

    policy_source: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ("*",)
    context: tuple[ContextEntry, ...] = ()
    policies: tuple[Document, ...] = ()
    permissions_boundaries: tuple[Document, ...] = ()

    def __post_init__(self) -> None:
        _check_size(self.actions, self.resources)
        _check_strings(self.resources, self.context, (("policySourceArn", self.policy_source),))
        _single_boundary(self.permissions_boundaries)
        # The principal's own policies add to this once the world is read.
        _check_work_early((*self.policies, *self.permissions_boundaries), self.actions, self.resources)

    @classmethod
    def from_aws(cls, request: Any) -> PrincipalSimulation:
        """From AWS's request JSON (``aws iam simulate-principal-policy --cli-input-json``)."""
        _check_keys(request, PRINCIPAL_KEYS, required=("PolicySourceArn", "ActionNames"))
        for key in ("ResourcePolicy", "ResourceOwner", "CallerArn"):
            if request.get(key) is not None:
                raise InvalidRequestError(
                    f"{key} is not supported with simulate-principal-policy here; the world's own resource policies apply, "
                    "or use simulate-custom-policy", field=key,
                )
        source = _string(request, "PolicySourceArn")
        assert source is not None  # required above
        return cls(
            policy_source=source,
            actions=_strings(request, "ActionNames"),
            resources=_strings(request, "ResourceArns") or ("*",),
            context=_context(request),
            policies=_strings(request, "PolicyInputList"),
            permissions_boundaries=_strings(request, "PermissionsBoundaryPolicyInputList"),
        )


def simulate(request: CustomSimulation | PrincipalSimulation, engine: Engine | None = None) -> list[Decision]:
    """The decision of every action x resource pair of ``request``, actions first as AWS orders
    its EvaluationResults. A ``PrincipalSimulation`` asks about a principal of ``engine``'s
    world; a ``CustomSimulation`` needs no world."""
    if isinstance(request, PrincipalSimulation):
        if engine is None:
            raise InvalidRequestError("simulatePrincipalPolicy needs a world to find its policy source in", field="policySourceArn")
        return _simulate_principal(engine, request)
    return _simulate_custom(request)


# ---- answering ----------------------------------------------------------------------------------


def _parse_all(documents: Sequence[Document], kind: PolicyKind, field: str) -> list[PolicyDocument]:
    """Parse every document, then report all problems at once, each named by its list index."""
    docs: list[PolicyDocument] = []
    problems: list[Problem] = []
    for i, document in enumerate(documents):
        try:
            docs.append(parse_document(document, kind, f"{field}[{i}]"))
        except PolicyValidationError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PolicyValidationError(problems, field=field)
    return docs


def _simulate_principal(engine: Engine, request: PrincipalSimulation) -> list[Decision]:
    extra = _parse_all(request.policies, PolicyKind.IDENTITY, "policyInputList")
    boundary = None
    if request.permissions_boundaries:
        boundary = parse_document(request.permissions_boundaries[0], PolicyKind.BOUNDARY, "permissionsBoundaryPolicyInputList[0]")
    return engine.simulate_principal(request.policy_source, request.actions, request.resources, request.context, extra, boundary)


@dataclass(frozen=True, slots=True)
class _Compiled:
    """What a custom request's documents and caller compile to, before any pair is decided."""

    identity: PolicySet
    boundary: PolicySet | None
    caller: CallerIdentity | None
    session: PolicySet | None
    scp_levels: tuple[PolicySet, ...] | None
    derived: Mapping[str, tuple[str, ...]]


def _compile(request: CustomSimulation) -> _Compiled:
    parts = (request.policies, request.permissions_boundary, request.caller_arn, request.session_policy, request.scps, request.management_account)
    if all(isinstance(d, str) for d in request.policies) and not isinstance(request.permissions_boundary, Mapping) \
            and not isinstance(request.session_policy, Mapping) and all(isinstance(d, str) for level in request.scps or () for d in level):
        # Batches (--input-jsonl, CI runs) repeat the same documents and caller as text.
        return _compile_cached(*parts)  # type: ignore[arg-type]
    return _compile_parts(*parts)


def _compile_cached(
    policies: tuple[str, ...], permissions_boundary: str | None, caller_arn: str | None, session_policy: str | None, scps: Levels | None, management_account: str | None,
) -> _Compiled:
    key = ("compiled", policies, permissions_boundary, caller_arn, session_policy, scps, management_account)
    size = sum(map(len, policies)) + len(permissions_boundary or "") + len(session_policy or "") + sum(len(d) for level in scps or () for d in level)  # type: ignore[arg-type]
    # Bounded by bytes; the documents are held (and counted) by the parse cache, this entry adds the sets.
    return DOCUMENTS.get(key, size * DOCUMENT_WEIGHT // 3, lambda: _compile_parts(policies, permissions_boundary, caller_arn, session_policy, scps, management_account))


def _compile_parts(
    texts: tuple[Document, ...], permissions_boundary: Document | None, caller_arn: str | None, session_policy: Document | None,
    scps: Levels | None, management_account: str | None,
) -> _Compiled:
    try:
        identity = input_policy_set(texts, PolicyKind.IDENTITY, "policyInputList", "PolicyInputList", PolicyType.USER, Layer.IDENTITY)
    except PolicyValidationError:
        _parse_all(texts, PolicyKind.IDENTITY, "policyInputList")  # every problem of every document
        raise
    boundary = None
    if permissions_boundary is not None:
        boundary = input_policy_set(
            [permissions_boundary], PolicyKind.BOUNDARY, "permissionsBoundaryPolicyInputList", "PermissionsBoundaryPolicyInputList",
            PolicyType.USER_MANAGED, Layer.BOUNDARY,
        )
    caller = None if caller_arn is None else parse_caller_arn(caller_arn, has_boundary=boundary is not None)
    if caller is not None and caller.is_root and boundary is not None:
        # "You can use an AWS managed policy or a customer managed policy to set the boundary
        # for an IAM entity (user or role)." D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
        raise InvalidRequestError("the account root user has no permissions boundary; boundaries are set on IAM users and roles", field="permissionsBoundaryPolicyInputList")
    session = None
    if session_policy is not None:
        assert caller is not None  # checked on construction
        if not caller.is_session:
            raise InvalidRequestError("a session policy applies to a role session or federated user; give such a callerArn", field="sessionPolicy")
        session = session_policy_set(session_policy, caller.arn)
    scp_levels = None
    exempt = caller is not None and (caller.account == management_account or caller.service_linked)
    if scps is not None and not exempt:
        scp_levels = _org_input(scps, "scp", "serviceControlPolicyInputList")
    derived = {} if caller_arn is None else _derived_for(caller_arn, boundary is not None)
    return _Compiled(identity, boundary, caller, session, scp_levels, derived)


def _simulate_custom(request: CustomSimulation) -> list[Decision]:
    compiled = _compile(request)
    context = build_context(request.context, field="contextEntries", checked=True)  # on construction
    actions = [catalog.require_action(a, field="actionNames") for a in request.actions]
    resources = [validate_resource_arn(r, field="resourceArns") for r in request.resources]
    owners = {arn: _owner(request.resource_owner, arn, compiled.caller) for arn in resources}
    _check_work(sum(_statements(s) for s in (compiled.identity, compiled.boundary, compiled.session, *(compiled.scp_levels or ()))), actions, resources)
    out = []
    for action in actions:
        for arn in resources:
            check_deadline()
            out.append(_decide(request, compiled, context, action, arn, owners[arn]))
    return out


def _statements(policies: PolicySet | None) -> int:
    return 0 if policies is None else sum(len(a.document.statements) for a in policies.attachments)


def _decide(request: CustomSimulation, compiled: _Compiled, context: Context, action: str, arn: str, owner: str | None) -> Decision:
    caller = compiled.caller
    must_allow = requires_resource_grant(action.lower(), arn)
    resource_set = None
    if request.resource_policy is not None:
        kind = PolicyKind.TRUST if must_allow and ":role/" in arn else PolicyKind.RESOURCE
        resource_set = input_policy_set([request.resource_policy], kind, "resourcePolicy", "ResourcePolicy", PolicyType.RESOURCE, Layer.RESOURCE)
    rcp_levels = None
    if request.rcps is not None and owner != request.management_account:
        rcp_levels = _org_input(request.rcps, "rcp", "resourceControlPolicyInputList")
    derived = dict(compiled.derived)
    if owner is not None:
        derived["aws:resourceaccount"] = (owner,)
    layers = Layers(
        identity=compiled.identity,
        boundary=compiled.boundary,
        session=compiled.session,
        resource=resource_set,
        scp_levels=compiled.scp_levels,
        rcp_levels=rcp_levels,
        resource_owner=owner,
        resource_must_allow=must_allow,
        session_required=caller is not None and caller.kind == "FederatedUser" and compiled.session is None,
    )
    warning = catalog.resource_warning(action, arn)
    return decide(
        caller=caller,
        principal_label=request.caller_arn or "the caller",
        action=action,
        resource=arn,
        layers=layers,
        ctx=merge_derived(derived, context),
        warnings=(warning,) if warning else (),
    )


def _derived_for(caller_arn: str, has_boundary: bool) -> Mapping[str, tuple[str, ...]]:
    if len(caller_arn) > CACHED_LENGTH:  # kept only for short ARNs, as parse_caller_arn keeps its callers
        return _derived(caller_arn, has_boundary)
    return _derived_cached(caller_arn, has_boundary)


def _derived(caller_arn: str, has_boundary: bool) -> Mapping[str, tuple[str, ...]]:
    return parse_caller_arn(caller_arn, has_boundary=has_boundary).derived_context()


_derived_cached = lru_cache(maxsize=4096)(_derived)


def _owner(resource_owner: str | None, arn: str, caller: CallerIdentity | None) -> str | None:
    """ResourceOwner (an account id or ``arn:aws:iam::ID:root``), else the ARN's account, else
    the caller's account, as AWS's simulator defaults it."""
    if resource_owner:
        parsed = Arn.maybe(resource_owner)
        owner = parsed.account if parsed is not None else resource_owner
        if not is_account_id(owner):
            raise InvalidRequestError(f"resourceOwner must be an account id or arn:aws:iam::ID:root, got {resource_owner!r}", field="resourceOwner")
        return owner
    return account_of(arn) or (caller.account if caller is not None else None)


def _org_input(levels: Levels, policy_type: str, field: str) -> tuple[PolicySet, ...]:
    if all(isinstance(d, str) for level in levels for d in level):
        return _org_input_cached(levels, policy_type, field)
    return _org_input_build(levels, policy_type, field)


def _org_input_cached(levels: Levels, policy_type: str, field: str) -> tuple[PolicySet, ...]:
    # Batches of simulations repeat the same SCP texts; compile each set of levels once.
    size = sum(len(d) for level in levels for d in level)  # type: ignore[arg-type]
    return DOCUMENTS.get(("org", levels, policy_type, field), size * DOCUMENT_WEIGHT // 3, lambda: _org_input_build(levels, policy_type, field))


def _org_input_build(levels: Levels, policy_type: str, field: str) -> tuple[PolicySet, ...]:
    kind = PolicyKind.SCP if policy_type == "scp" else PolicyKind.RCP
    layer = Layer.SCP if policy_type == "scp" else Layer.RCP
    ptype = PolicyType.SCP if policy_type == "scp" else PolicyType.RCP
    out = []
    for depth, level in enumerate(levels):
        attachments = []
        for i, document in enumerate(level):
            name = f"{field}[{depth}][{i}]"
            doc = parse_document(document, kind, name)
            steps = (PathStep(f"level[{depth}]", NodeKind.OU, f"level[{depth}]"), PathStep(name, NodeKind.ORG_POLICY, f"{policy_type}/{name}"))
            attachments.append(PolicyAttachment(name, name, None, ptype, doc, steps))
        out.append(PolicySet(attachments, layer))
    return tuple(out)


# ---- AWS's request JSON -------------------------------------------------------------------------

_COMMON = {"ActionNames", "ResourceArns", "ContextEntries", "PolicyInputList", "PermissionsBoundaryPolicyInputList", "ResourcePolicy", "ResourceOwner", "CallerArn", "MaxItems", "Marker"}
# Our extensions: SCP/RCP levels (root first, each a list of policy JSON strings), a session policy,
# and the organization's management account.
_EXTENSIONS = {"ServiceControlPolicyInputList", "ResourceControlPolicyInputList", "SessionPolicy", "ManagementAccount"}
CUSTOM_KEYS = frozenset(_COMMON | _EXTENSIONS)
PRINCIPAL_KEYS = frozenset(_COMMON | {"PolicySourceArn"})
_UNSUPPORTED = {"ResourceHandlingOption": "EC2 resource-handling scenarios are not simulated", "PolicyExclusionList": "policy exclusions are not supported yet"}


def _check_keys(request: Any, allowed: frozenset[str], *, required: Sequence[str], present: Sequence[str] = ()) -> None:
    """``required`` keys must hold a value; ``present`` keys must be given but may be empty."""
    if not isinstance(request, Mapping):
        raise InvalidRequestError("the request must be a JSON object", field="")
    for key in request:
        if key in _UNSUPPORTED:
            raise InvalidRequestError(f"{key}: {_UNSUPPORTED[key]}", field=key)
        if key not in allowed:
            raise InvalidRequestError(f"unknown key {key!r}; allowed: {', '.join(sorted(allowed))}", field=key)
    for key in present:
        if key not in request:
            raise InvalidRequestError(f"{key} is required (an empty list for none)", field=key)
    for key in required:
        if not request.get(key):
            raise InvalidRequestError(f"{key} is required", field=key)


def _strings(request: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = request.get(key)
    if value is None:
        return ()
    if type(value) is not list or any(type(v) is not str for v in value):
        raise InvalidRequestError(f"{key} must be a list of strings", field=key)
    return tuple(value)


def _string(request: Mapping[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"{key} must be a string, got {type(value).__name__}", field=key)
    return value


def _context(request: Mapping[str, Any]) -> tuple[ContextEntry, ...]:
    entries = []
    raw = request.get("ContextEntries", [])
    if not isinstance(raw, list):
        raise InvalidRequestError("ContextEntries must be a list of {ContextKeyName, ContextKeyValues, ContextKeyType}", field="ContextEntries")
    for i, entry in enumerate(raw):
        if (type(entry) is not dict and not isinstance(entry, Mapping)) or "ContextKeyName" not in entry:
            raise InvalidRequestError("each entry needs ContextKeyName, ContextKeyValues and ContextKeyType", field=f"ContextEntries[{i}]")
        values = entry.get("ContextKeyValues", [])
        if not isinstance(values, list):
            raise InvalidRequestError("ContextKeyValues must be a list", field=f"ContextEntries[{i}].ContextKeyValues")
        entries.append(ContextEntry(str(entry["ContextKeyName"]), tuple(map(str, values)), str(entry.get("ContextKeyType", "string"))))
    return tuple(entries)


def _levels(request: Mapping[str, Any], key: str) -> Levels | None:
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(level, list) and all(isinstance(d, str) for d in level) for level in value):
        raise InvalidRequestError(f"{key} must be a list of levels (root first), each a list of policy JSON strings", field=key)
    return tuple(tuple(level) for level in value)
