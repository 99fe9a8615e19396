"""One simulate request type per AWS operation, validated once: the same rules (size limit,
one boundary, a caller for resource-side inputs) whichever surface builds it.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT, main
from graphsim.engine import MAX_SIMULATIONS, CustomSimulation, Engine, PrincipalSimulation, SimulationTooLargeError, simulate
from graphsim.errors import InvalidRequestError
from graphsim.workspace import Workspace
from graphsim.world.io import load_demo_world
from tests.conftest import GraphQLClient

ALLOW_S3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
# One more action x resource pair than a call answers.
TOO_MANY = [f"arn:aws:s3:::bucket/{i}" for i in range(MAX_SIMULATIONS // 2 + 1)]
TWO_ACTIONS = ["s3:GetObject", "s3:PutObject"]


def test_from_aws_and_direct_construction_build_the_same_request() -> None:
    from_aws = CustomSimulation.from_aws({
        "PolicyInputList": [ALLOW_S3],
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::reports/q4.pdf"],
        "CallerArn": "arn:aws:iam::111122223333:user/alice",
        "ContextEntries": [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["10.0.0.1"], "ContextKeyType": "ip"}],
        "ServiceControlPolicyInputList": [[ALLOW_S3]],
    })
    assert from_aws == CustomSimulation(
        (ALLOW_S3,), ("s3:GetObject",), ("arn:aws:s3:::reports/q4.pdf",),
        from_aws.context, caller_arn="arn:aws:iam::111122223333:user/alice", scps=((ALLOW_S3,),),
    )
    assert [(e.key, e.values, e.type) for e in from_aws.context] == [("aws:SourceIp", ("10.0.0.1",), "ip")]
    (decision,) = simulate(from_aws)
    assert decision.decision.value == "ALLOWED"


def test_decisions_come_actions_first_as_aws_orders_them() -> None:
    request = CustomSimulation((ALLOW_S3,), ("s3:GetObject", "s3:PutObject"), ("arn:aws:s3:::a/1", "arn:aws:s3:::b/2"))
    assert [(d.action, d.resource, d.decision.value) for d in simulate(request)] == [
        ("s3:GetObject", "arn:aws:s3:::a/1", "ALLOWED"),
        ("s3:GetObject", "arn:aws:s3:::b/2", "ALLOWED"),
        ("s3:PutObject", "arn:aws:s3:::a/1", "IMPLICIT_DENY"),
        ("s3:PutObject", "arn:aws:s3:::b/2", "IMPLICIT_DENY"),
    ]


def test_the_size_limit_is_a_typed_error_naming_the_limit() -> None:
    with pytest.raises(SimulationTooLargeError) as info:
        CustomSimulation((ALLOW_S3,), tuple(TWO_ACTIONS), tuple(TOO_MANY))
    assert (info.value.limit, info.value.pairs, info.value.field) == (MAX_SIMULATIONS, 2 * len(TOO_MANY), "actionNames")
    assert f"{MAX_SIMULATIONS:,}" in info.value.message
    assert info.value.extensions()["limit"] == MAX_SIMULATIONS
    # Exactly at the limit is still one call.
    assert len(CustomSimulation((ALLOW_S3,), tuple(TWO_ACTIONS), tuple(TOO_MANY[:-1])).resources) * 2 == MAX_SIMULATIONS
    with pytest.raises(SimulationTooLargeError):
        PrincipalSimulation("newbie", tuple(TWO_ACTIONS), tuple(TOO_MANY))


def test_the_size_limit_guards_the_aws_endpoint_and_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    custom = {"PolicyInputList": [ALLOW_S3], "ActionNames": TWO_ACTIONS, "ResourceArns": TOO_MANY}
    principal = {"PolicySourceArn": "newbie", "ActionNames": TWO_ACTIONS, "ResourceArns": TOO_MANY}
    with TestClient(create_app(Workspace.with_world())) as http:
        for operation, body in (("simulate-custom-policy", custom), ("simulate-principal-policy", principal)):
            response = http.post(f"/aws/{operation}", json=body)
            assert response.status_code == 400
            assert response.json()["Error"]["Code"] == "SIMULATION_TOO_LARGE"
    assert main(["simulate-custom-policy", "--cli-input-json", json.dumps(custom)]) == EXIT_INPUT
    assert f"at most {MAX_SIMULATIONS:,} action x resource pairs" in capsys.readouterr().err


def test_the_size_limit_guards_graphql(gql: GraphQLClient) -> None:
    query = """query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) { evalDecision } }"""
    body = gql(query, **{"in": {"policyInputList": [ALLOW_S3], "actionNames": TWO_ACTIONS, "resourceArns": TOO_MANY}})
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "SIMULATION_TOO_LARGE", "field": "actionNames", "limit": MAX_SIMULATIONS, "pairs": 2 * len(TOO_MANY),
                                   "maximum": MAX_SIMULATIONS, "flag": "--max-simulation-pairs"}


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"actions": ()}, "actionNames", "at least one action"),
        ({"resources": ()}, "resourceArns", "at least one resource"),
        ({"permissions_boundaries": (ALLOW_S3, ALLOW_S3)}, "permissionsBoundaryPolicyInputList", "at most one permissions boundary"),
        ({"resource_policy": ALLOW_S3}, "callerArn", "callerArn is required"),
        ({"session_policy": ALLOW_S3}, "callerArn", "callerArn is required"),
    ],
)
def test_bad_requests_are_refused_on_construction(fields: dict[str, Any], field: str, says: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        CustomSimulation(**{"policies": (ALLOW_S3,), "actions": ("s3:GetObject",), **fields})
    assert info.value.field == field and says in info.value.message


def test_every_bad_identity_document_is_reported_at_once() -> None:
    from graphsim.errors import PolicyValidationError

    bad = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:GetObject", "Resource": "*"}]})
    with pytest.raises(PolicyValidationError) as info:
        simulate(CustomSimulation((bad, ALLOW_S3, bad), ("s3:GetObject",)))
    assert {p.path.split(".")[0] for p in info.value.problems} == {"policyInputList[0]", "policyInputList[2]"}
    assert info.value.field == "policyInputList"


def test_a_principal_simulation_needs_a_world() -> None:
    request = PrincipalSimulation("arn:aws:iam::111122223333:user/newbie", ("s3:GetObject",), ("arn:aws:s3:::final-friday-reports/q4.pdf",))
    with pytest.raises(InvalidRequestError):
        simulate(request)
    (decision,) = simulate(request, Engine(load_demo_world()))
    assert decision.decision.value == "ALLOWED"


def test_from_aws_refuses_what_aws_refuses() -> None:
    with pytest.raises(InvalidRequestError) as info:
        PrincipalSimulation.from_aws({"PolicySourceArn": "newbie", "ActionNames": ["s3:GetObject"], "CallerArn": "arn:aws:iam::111122223333:user/x"})
    assert info.value.field == "CallerArn"
    with pytest.raises(InvalidRequestError) as info:
        CustomSimulation.from_aws({"PolicyInputList": [ALLOW_S3], "ActionNames": ["s3:GetObject"], "PolicyExclusionList": []})
    assert info.value.field == "PolicyExclusionList"
    with pytest.raises(InvalidRequestError) as info:
        CustomSimulation.from_aws(["not", "an", "object"])
    assert "JSON object" in info.value.message
