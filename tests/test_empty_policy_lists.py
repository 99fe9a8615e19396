"""An empty ``PolicyInputList`` is a valid question on every surface: a caller with no
identity-based policies, decided by the other layers. The key itself stays required, as AWS
requires it; an empty ``PermissionsBoundaryPolicyInputList`` means no boundary.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
("The resulting permissions are the union of the permissions of the two types.")
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT, EXIT_OK, main
from graphsim.workspace import Workspace
from tests.conftest import GraphQLClient

ALICE = "arn:aws:iam::111122223333:user/alice"
OBJECT = "arn:aws:s3:::team-reports/q4.pdf"
BUCKET_POLICY = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "AliceRead", "Effect": "Allow", "Principal": {"AWS": ALICE}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::team-reports/*"}],
})


def aws_input(**extra: Any) -> dict[str, Any]:
    """As `aws iam simulate-custom-policy --cli-input-json` takes it."""
    return {
        "PolicyInputList": [],
        "PermissionsBoundaryPolicyInputList": [],
        "ActionNames": ["s3:GetObject", "s3:PutObject"],
        "ResourceArns": [OBJECT],
        "ResourcePolicy": BUCKET_POLICY,
        "CallerArn": ALICE,
        **extra,
    }


def decisions(response: dict[str, Any]) -> dict[str, str]:
    return {r["EvalActionName"]: r["EvalDecision"] for r in response["EvaluationResults"]}


def test_cli_input_json_answers_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(aws_input()))
    assert main(["simulate-custom-policy", "--cli-input-json", f"file://{path}"]) == EXIT_OK
    response = json.loads(capsys.readouterr().out)
    assert decisions(response) == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
    get = response["EvaluationResults"][0]
    assert [s["SourcePolicyId"] for s in get["MatchedStatements"]] == ["ResourcePolicy.1"]
    # No boundary was given: the detail AWS fills only when one applies is absent.
    assert "PermissionsBoundaryDecisionDetail" not in get


def test_input_jsonl_answers_allowed_and_still_requires_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = {k: v for k, v in aws_input().items() if k != "PolicyInputList"}
    path = tmp_path / "requests.jsonl"
    path.write_text(json.dumps(aws_input()) + "\n" + json.dumps(missing) + "\n")
    assert main(["simulate-custom-policy", "--input-jsonl", str(path), "--jobs", "1"]) == EXIT_INPUT
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert decisions(first) == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
    assert second["Error"]["Field"] == "PolicyInputList"


def test_aws_json_endpoint_answers_allowed() -> None:
    with TestClient(create_app(Workspace.with_world())) as http:
        response = http.post("/aws/simulate-custom-policy", json=aws_input())
        assert response.status_code == 200, response.text
        assert decisions(response.json()) == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
        # Cross-account, the same grant needs an identity-based policy too.
        other = http.post("/aws/simulate-custom-policy", json=aws_input(ResourceOwner="444455556666"))
        assert decisions(other.json()) == {"s3:GetObject": "implicitDeny", "s3:PutObject": "implicitDeny"}


def test_graphql_answers_allowed(gql: GraphQLClient) -> None:
    query = """query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) {
        evalActionName evalDecision blockedBy matchedStatements { policy sid layer } permissionsBoundaryDecisionDetail { allowedByPermissionsBoundary } } }"""
    results = gql.data(query, **{"in": {
        "policyInputList": [],
        "permissionsBoundaryPolicyInputList": [],
        "actionNames": ["s3:GetObject", "s3:PutObject"],
        "resourceArns": [OBJECT],
        "resourcePolicy": BUCKET_POLICY,
        "callerArn": ALICE,
    }})["simulateCustomPolicy"]
    get, put = results
    assert (get["evalDecision"], get["blockedBy"], get["permissionsBoundaryDecisionDetail"]) == ("ALLOWED", None, None)
    assert get["matchedStatements"] == [{"policy": "ResourcePolicy.1", "sid": "AliceRead", "layer": "RESOURCE"}]
    assert (put["evalDecision"], put["blockedBy"]) == ("IMPLICIT_DENY", "IDENTITY")
