"""AWS CLI compatibility: ``simulate-custom-policy`` and ``simulate-principal-policy`` requests
with the JSON keys of ``aws iam ... --cli-input-json``, answered in AWS's response shape, so a
script can switch to graphsim by changing one command.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .engine import ContextEntry, Decision, Engine, Layer, MatchedStatement, decide_custom, parse_document
from .engine.evaluate import input_policy_set
from .errors import InvalidRequestError
from .policy import PolicyKind
from .policy.positions import statement_positions
from .world import PolicyType

_COMMON = {"ActionNames", "ResourceArns", "ContextEntries", "PolicyInputList", "PermissionsBoundaryPolicyInputList", "ResourcePolicy", "ResourceOwner", "CallerArn", "MaxItems", "Marker"}
# Our extensions: SCP/RCP levels (root first, each a list of policy JSON strings), a session policy,
# and the organization's management account.
_EXTENSIONS = {"ServiceControlPolicyInputList", "ResourceControlPolicyInputList", "SessionPolicy", "ManagementAccount"}
CUSTOM_KEYS = _COMMON | _EXTENSIONS
PRINCIPAL_KEYS = _COMMON | {"PolicySourceArn"}
_UNSUPPORTED = {"ResourceHandlingOption": "EC2 resource-handling scenarios are not simulated", "PolicyExclusionList": "policy exclusions are not supported yet"}
_AWS_DECISION = {"ALLOWED": "allowed", "EXPLICIT_DENY": "explicitDeny", "IMPLICIT_DENY": "implicitDeny"}


def _check_keys(request: Mapping[str, Any], allowed: set[str], required: Sequence[str], present: Sequence[str] = ()) -> None:
    """``required`` keys must hold a value; ``present`` keys must be given but may be empty
    (an empty ``PolicyInputList`` means a caller with no identity-based policies)."""
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


def _strings(request: Mapping[str, Any], key: str) -> list[str]:
    value = request.get(key)
    if value is None:
        return []
    if type(value) is not list or any(type(v) is not str for v in value):
        raise InvalidRequestError(f"{key} must be a list of strings", field=key)
    return value


def _string(request: Mapping[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidRequestError(f"{key} must be a string, got {type(value).__name__}", field=key)
    return value


def _context(request: Mapping[str, Any]) -> list[ContextEntry]:
    entries = []
    raw = request.get("ContextEntries", [])
    if not isinstance(raw, list):
        raise InvalidRequestError("ContextEntries must be a list of {ContextKeyName, ContextKeyValues, ContextKeyType}", field="ContextEntries")
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping) or "ContextKeyName" not in entry:
            raise InvalidRequestError("each entry needs ContextKeyName, ContextKeyValues and ContextKeyType", field=f"ContextEntries[{i}]")
        values = entry.get("ContextKeyValues", [])
        if not isinstance(values, list):
            raise InvalidRequestError("ContextKeyValues must be a list", field=f"ContextEntries[{i}].ContextKeyValues")
        entries.append(ContextEntry(str(entry["ContextKeyName"]), tuple(str(v) for v in values), str(entry.get("ContextKeyType", "string"))))
    return entries


def _levels(request: Mapping[str, Any], key: str) -> list[list[str]] | None:
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(level, list) and all(isinstance(d, str) for d in level) for level in value):
        raise InvalidRequestError(f"{key} must be a list of levels (root first), each a list of policy JSON strings", field=key)
    return value


def _boundary(request: Mapping[str, Any]) -> str | None:
    boundaries = _strings(request, "PermissionsBoundaryPolicyInputList")
    if len(boundaries) > 1:
        raise InvalidRequestError("at most one permissions boundary", field="PermissionsBoundaryPolicyInputList")
    return boundaries[0] if boundaries else None


def simulate_custom_policy(request: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(request, CUSTOM_KEYS, ("ActionNames",), present=("PolicyInputList",))
    identity = input_policy_set(_strings(request, "PolicyInputList"), PolicyKind.IDENTITY, "PolicyInputList", "PolicyInputList", PolicyType.USER, Layer.IDENTITY)
    options = {
        "caller_arn": _string(request, "CallerArn"),
        "resource_policy": _string(request, "ResourcePolicy"),
        "resource_owner": _string(request, "ResourceOwner"),
        "permissions_boundary": _boundary(request),
        "session_policy": _string(request, "SessionPolicy"),
        "scps": _levels(request, "ServiceControlPolicyInputList"),
        "rcps": _levels(request, "ResourceControlPolicyInputList"),
        "management_account": _string(request, "ManagementAccount"),
    }
    context = _context(request)
    decisions = [
        decide_custom(identity, action, resource, context, **options)  # type: ignore[arg-type]
        for action in _strings(request, "ActionNames")
        for resource in _strings(request, "ResourceArns") or ["*"]
    ]
    texts = {f"PolicyInputList.{i}": text for i, text in enumerate(_strings(request, "PolicyInputList"), start=1)}
    if isinstance(request.get("ResourcePolicy"), str):
        texts["ResourcePolicy.1"] = request["ResourcePolicy"]
    return response(decisions, request, {name: statement_positions(text) for name, text in texts.items()})


def simulate_principal_policy(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(request, PRINCIPAL_KEYS, ("PolicySourceArn", "ActionNames"))
    for key in ("ResourcePolicy", "ResourceOwner", "CallerArn"):
        if request.get(key) is not None:
            raise InvalidRequestError(
                f"{key} is not supported with simulate-principal-policy here; the world's own resource policies apply, "
                "or use simulate-custom-policy", field=key,
            )
    extra = [parse_document(doc, PolicyKind.IDENTITY, f"PolicyInputList[{i}]") for i, doc in enumerate(_strings(request, "PolicyInputList"))]
    boundary = _boundary(request)
    source = _string(request, "PolicySourceArn")
    assert source is not None  # required above
    decisions = engine.simulate_principal(
        source, _strings(request, "ActionNames"), _strings(request, "ResourceArns") or ["*"], _context(request), extra,
        None if boundary is None else parse_document(boundary, PolicyKind.BOUNDARY, "PermissionsBoundaryPolicyInputList[0]"),
    )
    return response(decisions, request)


def _statement(m: MatchedStatement, positions: Mapping[str, list[tuple[tuple[int, int], tuple[int, int]]]]) -> dict[str, Any]:
    out: dict[str, Any] = {"SourcePolicyId": m.policy}
    if m.policy in positions and m.index < len(positions[m.policy]):
        # As AWS's simulate-custom-policy: positions in the given text, no SourcePolicyType.
        (l1, c1), (l2, c2) = positions[m.policy][m.index]
        out["StartPosition"] = {"Line": l1, "Column": c1}
        out["EndPosition"] = {"Line": l2, "Column": c2}
    else:
        out["SourcePolicyType"] = m.policy_type.value
    # Our additions, so a script can tell which statement and why.
    out["GraphsimStatement"] = {"Sid": m.sid, "Index": m.index, "Layer": m.layer.value, "Path": m.path_text}
    return out


def evaluation_result(d: Decision, positions: Mapping[str, list[tuple[tuple[int, int], tuple[int, int]]]] | None = None) -> dict[str, Any]:
    decision = _AWS_DECISION[d.decision.value]
    statements = [_statement(m, positions or {}) for m in d.matched_statements]
    result: dict[str, Any] = {
        "EvalActionName": d.action,
        "EvalResourceName": d.resource,
        "EvalDecision": decision,
        "MatchedStatements": statements,
        "MissingContextValues": list(d.missing_context_values),
    }
    if d.allowed_by_organizations is not None:
        result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": d.allowed_by_organizations}
    if d.allowed_by_boundary is not None:
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": d.allowed_by_boundary}
    if any(v.layer is Layer.RESOURCE for v in d.layer_verdicts):
        names = {Layer.IDENTITY: "IAM Policy", Layer.RESOURCE: "Resource Policy"}
        result["EvalDecisionDetails"] = {names[v.layer]: _AWS_DECISION[v.decision.value] for v in d.layer_verdicts if v.layer in names}
    if d.resource != "*":
        specific: dict[str, Any] = {
            "EvalResourceName": d.resource,
            "EvalResourceDecision": decision,
            "MatchedStatements": statements,
            "MissingContextValues": list(d.missing_context_values),
        }
        if "EvalDecisionDetails" in result:
            specific["EvalDecisionDetails"] = result["EvalDecisionDetails"]
        if "PermissionsBoundaryDecisionDetail" in result:
            specific["PermissionsBoundaryDecisionDetail"] = result["PermissionsBoundaryDecisionDetail"]
        result["ResourceSpecificResults"] = [specific]
    result["GraphsimBlockedBy"] = d.blocked_by.value if d.blocked_by else None
    if d.warnings:
        result["GraphsimWarnings"] = list(d.warnings)
    return result


def response(
    decisions: Sequence[Decision], request: Mapping[str, Any], positions: Mapping[str, list[tuple[tuple[int, int], tuple[int, int]]]] | None = None
) -> dict[str, Any]:
    """AWS's response, paginated by MaxItems/Marker as AWS paginates EvaluationResults."""
    results = [evaluation_result(d, positions) for d in decisions]
    start = 0
    if request.get("Marker") is not None:
        try:
            start = int(request["Marker"])
        except (TypeError, ValueError):
            raise InvalidRequestError("Marker must be a value returned by an earlier call", field="Marker") from None
    max_items = request.get("MaxItems")
    if max_items is not None and (not isinstance(max_items, int) or max_items < 1):
        raise InvalidRequestError("MaxItems must be a positive integer", field="MaxItems")
    end = len(results) if max_items is None else min(len(results), start + max_items)
    out: dict[str, Any] = {"EvaluationResults": results[start:end], "IsTruncated": end < len(results)}
    if end < len(results):
        out["Marker"] = str(end)
    return out
