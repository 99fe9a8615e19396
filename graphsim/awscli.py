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

from .engine import CustomSimulation, Decision, Engine, Layer, MatchedStatement, PrincipalSimulation, simulate
from .errors import InvalidRequestError
from .policy.positions import statement_positions

_AWS_DECISION = {"ALLOWED": "allowed", "EXPLICIT_DENY": "explicitDeny", "IMPLICIT_DENY": "implicitDeny"}


def simulate_custom_policy(request: Mapping[str, Any]) -> dict[str, Any]:
    simulation = CustomSimulation.from_aws(request)
    decisions = simulate(simulation)
    texts = {f"PolicyInputList.{i}": text for i, text in enumerate(simulation.policies, start=1) if isinstance(text, str)}
    if isinstance(simulation.resource_policy, str):
        texts["ResourcePolicy.1"] = simulation.resource_policy
    return response(decisions, request, {name: statement_positions(text) for name, text in texts.items()})


def simulate_principal_policy(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    return response(simulate(PrincipalSimulation.from_aws(request), engine), request)


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
    # Where AWS lists missing keys: in the EvaluationResult when the resource is "*", in the
    # ResourceSpecificResults entry when a resource ARN was given ("This list is used when a list
    # of ARNs is included in the ResourceArns parameter instead of "*"").
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResourceSpecificResult.html
    specific_resource = d.resource != "*"
    result: dict[str, Any] = {
        "EvalActionName": d.action,
        "EvalResourceName": d.resource,
        "EvalDecision": decision,
        "MatchedStatements": statements,
        "MissingContextValues": [] if specific_resource else list(d.missing_context_values),
    }
    if d.allowed_by_organizations is not None:
        result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": d.allowed_by_organizations}
    if d.allowed_by_boundary is not None:
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": d.allowed_by_boundary}
    if any(v.layer is Layer.RESOURCE for v in d.layer_verdicts):
        names = {Layer.IDENTITY: "IAM Policy", Layer.RESOURCE: "Resource Policy"}
        result["EvalDecisionDetails"] = {names[v.layer]: _AWS_DECISION[v.decision.value] for v in d.layer_verdicts if v.layer in names}
    if specific_resource:
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
