"""AWS CLI compatibility: ``simulate-custom-policy`` and ``simulate-principal-policy`` requests
with the JSON keys of ``aws iam ... --cli-input-json``, answered in AWS's response shape, so a
script can switch to graphsim by changing one command. The requests are
``engine.CustomSimulation`` / ``PrincipalSimulation``; each result is shaped by
``presentation.aws_evaluation_result``; here they are paginated as AWS paginates them.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .engine import CustomSimulation, Decision, Engine, PrincipalSimulation, simulate
from .errors import InvalidRequestError
from .policy.positions import StatementPositions
from .presentation import Positions, aws_evaluation_result


def simulate_custom_policy(request: Mapping[str, Any]) -> dict[str, Any]:
    simulation = CustomSimulation.from_aws(request)
    decisions = simulate(simulation)
    texts = {f"PolicyInputList.{i}": text for i, text in enumerate(simulation.policies, start=1) if isinstance(text, str)}
    if isinstance(simulation.resource_policy, str):
        texts["ResourcePolicy.1"] = simulation.resource_policy
    return response(decisions, request, StatementPositions(texts))


def simulate_principal_policy(engine: Engine, request: Mapping[str, Any]) -> dict[str, Any]:
    return response(simulate(PrincipalSimulation.from_aws(request), engine), request)


def response(
    decisions: Sequence[Decision], request: Mapping[str, Any], positions: Positions | None = None
) -> dict[str, Any]:
    """AWS's response, paginated by MaxItems/Marker as AWS paginates EvaluationResults."""
    results = [aws_evaluation_result(d, positions) for d in decisions]
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
