"""The account root user, as a simulateCustomPolicy CallerArn (CLI, GraphQL, AWS JSON endpoint)
and as a principal of a world (``can``).

"By default, all requests are implicitly denied with the exception of the AWS account root user,
which has full access." D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"An SCP restricts permissions for IAM users and roles in member accounts, including the member
account's root user." / "SCPs don't affect users or roles in the management account."
D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_OK, main
from graphsim.engine import CustomSimulation, Decision, DecisionKind, Engine, Layer, simulate
from graphsim.errors import InvalidRequestError
from graphsim.workspace import Workspace
from graphsim.world import World
from tests.conftest import GraphQLClient

MANAGEMENT = "111122223333"
MEMBER = "444455556666"
MEMBER_ROOT = f"arn:aws:iam::{MEMBER}:root"
OBJECT = "arn:aws:s3:::member-bucket/report.csv"


def doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


FULL_ACCESS = doc({"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"})
DENY_DELETE = doc({"Sid": "DenyDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"})


def aws_input(**extra: Any) -> dict[str, Any]:
    return {
        "PolicyInputList": [],
        "ActionNames": ["s3:DeleteObject", "s3:GetObject"],
        "ResourceArns": [OBJECT],
        "CallerArn": MEMBER_ROOT,
        "ManagementAccount": MANAGEMENT,
        **extra,
    }


def decisions(response: dict[str, Any]) -> dict[str, str]:
    return {r["EvalActionName"]: r["EvalDecision"] for r in response["EvaluationResults"]}


# ---- simulateCustomPolicy -------------------------------------------------------------------


def simulate_one(action: str, resource: str, **fields: object) -> Decision:
    (decision,) = simulate(CustomSimulation((), (action,), (resource,), **fields))  # type: ignore[arg-type]
    return decision


def test_engine_root_user_needs_no_identity_policy_and_an_scp_deny_denies_it() -> None:
    allowed = simulate_one("s3:DeleteObject", OBJECT, caller_arn=MEMBER_ROOT, scps=((FULL_ACCESS,), (FULL_ACCESS,)), management_account=MANAGEMENT)
    assert allowed.decision is DecisionKind.ALLOWED
    assert allowed.matched_statements == ()
    assert {v.layer: v.decision for v in allowed.layer_verdicts}[Layer.IDENTITY] is DecisionKind.ALLOWED
    denied = simulate_one("s3:DeleteObject", OBJECT, caller_arn=MEMBER_ROOT, scps=((FULL_ACCESS,), (FULL_ACCESS, DENY_DELETE)), management_account=MANAGEMENT)
    assert denied.decision is DecisionKind.EXPLICIT_DENY and denied.blocked_by is Layer.SCP
    assert [m.sid for m in denied.matched_statements] == ["DenyDelete"]


def test_an_iam_user_with_no_policies_is_still_implicitly_denied() -> None:
    user = simulate_one("s3:DeleteObject", OBJECT, caller_arn=f"arn:aws:iam::{MEMBER}:user/alice")
    assert user.decision is DecisionKind.IMPLICIT_DENY and user.blocked_by is Layer.IDENTITY


def test_a_permissions_boundary_for_the_root_user_is_refused() -> None:
    # "You can use an AWS managed policy or a customer managed policy to set the boundary for an
    # IAM entity (user or role)." D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    with pytest.raises(InvalidRequestError) as info:
        simulate_one("s3:DeleteObject", OBJECT, caller_arn=MEMBER_ROOT, permissions_boundaries=(FULL_ACCESS,))
    assert info.value.field == "permissionsBoundaryPolicyInputList"


def test_cli_input_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(aws_input(ServiceControlPolicyInputList=[[FULL_ACCESS], [FULL_ACCESS, DENY_DELETE]])))
    assert main(["simulate-custom-policy", "--cli-input-json", f"file://{path}"]) == EXIT_OK
    assert decisions(json.loads(capsys.readouterr().out)) == {"s3:DeleteObject": "explicitDeny", "s3:GetObject": "allowed"}


def test_aws_json_endpoint() -> None:
    with TestClient(create_app(Workspace.with_world())) as http:
        free = http.post("/aws/simulate-custom-policy", json=aws_input())
        assert free.status_code == 200, free.text
        assert decisions(free.json()) == {"s3:DeleteObject": "allowed", "s3:GetObject": "allowed"}
        scp = http.post("/aws/simulate-custom-policy", json=aws_input(ServiceControlPolicyInputList=[[FULL_ACCESS], [FULL_ACCESS, DENY_DELETE]]))
        assert decisions(scp.json()) == {"s3:DeleteObject": "explicitDeny", "s3:GetObject": "allowed"}
        # The management account's root user: SCPs do not apply.
        management = http.post("/aws/simulate-custom-policy", json=aws_input(
            CallerArn=f"arn:aws:iam::{MANAGEMENT}:root", ServiceControlPolicyInputList=[[FULL_ACCESS], [FULL_ACCESS, DENY_DELETE]]))
        assert decisions(management.json()) == {"s3:DeleteObject": "allowed", "s3:GetObject": "allowed"}


def test_graphql(gql: GraphQLClient) -> None:
    query = """query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) {
        evalActionName evalDecision blockedBy matchedStatements { sid layer } } }"""
    results = gql.data(query, **{"in": {
        "policyInputList": [],
        "actionNames": ["s3:DeleteObject", "s3:GetObject"],
        "resourceArns": [OBJECT],
        "callerArn": MEMBER_ROOT,
        "managementAccount": MANAGEMENT,
        "serviceControlPolicyInputList": [[FULL_ACCESS], [FULL_ACCESS, DENY_DELETE]],
    }})["simulateCustomPolicy"]
    delete, get = results
    assert (delete["evalDecision"], delete["blockedBy"], delete["matchedStatements"]) == ("EXPLICIT_DENY", "SCP", [{"sid": "DenyDelete", "layer": "SCP"}])
    assert (get["evalDecision"], get["blockedBy"], get["matchedStatements"]) == ("ALLOWED", None, [])


# ---- the root user of a world's account -------------------------------------------------------


def organization_world() -> World:
    world = World("org")
    world.add_account(MANAGEMENT)
    world.add_account(MEMBER)
    world.create_organization(MANAGEMENT)
    world.place_account(MEMBER, "r-root")
    world.add_org_policy("FullAWSAccess", "scp", FULL_ACCESS)
    for target in ("r-root", MEMBER, MANAGEMENT):
        world.attach_org_policy("FullAWSAccess", target)
    world.add_resource("arn:aws:s3:::member-bucket", resource_type="s3:bucket", account=MEMBER)
    world.add_resource("arn:aws:s3:::management-bucket", resource_type="s3:bucket", account=MANAGEMENT)
    return world


def test_world_root_user_of_a_member_account_is_allowed_then_denied_by_an_scp() -> None:
    world = organization_world()
    engine = Engine(world)
    allowed = engine.can(MEMBER_ROOT, "s3:DeleteObject", OBJECT)
    assert allowed.decision is DecisionKind.ALLOWED, allowed
    assert allowed.principal == MEMBER_ROOT and allowed.allowed_by_organizations is True
    world.add_org_policy("DenyDelete", "scp", DENY_DELETE)
    world.attach_org_policy("DenyDelete", MEMBER)
    denied = engine.can(MEMBER_ROOT, "s3:DeleteObject", OBJECT)
    assert denied.decision is DecisionKind.EXPLICIT_DENY and denied.blocked_by is Layer.SCP
    assert [m.path_text for m in denied.matched_statements] == [f"account/{MEMBER} -> scp/DenyDelete -> Statement[0] (Sid DenyDelete)"]


def test_world_root_user_of_the_management_account_ignores_scps() -> None:
    world = organization_world()
    world.add_org_policy("DenyDelete", "scp", DENY_DELETE)
    world.attach_org_policy("DenyDelete", "r-root")
    engine = Engine(world)
    assert engine.can(f"arn:aws:iam::{MANAGEMENT}:root", "s3:DeleteObject", "arn:aws:s3:::management-bucket/a.csv").allowed
    assert engine.can(MEMBER_ROOT, "s3:DeleteObject", OBJECT).decision is DecisionKind.EXPLICIT_DENY


def test_world_root_user_across_accounts_needs_the_bucket_policy() -> None:
    world = organization_world()
    engine = Engine(world)
    other = "arn:aws:s3:::management-bucket/a.csv"
    refused = engine.can(MEMBER_ROOT, "s3:GetObject", other)
    assert refused.decision is DecisionKind.IMPLICIT_DENY and refused.blocked_by is Layer.RESOURCE
    world.put_resource_policy("arn:aws:s3:::management-bucket", doc(
        {"Sid": "GrantMember", "Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::management-bucket/*"}))
    granted = engine.can(MEMBER_ROOT, "s3:GetObject", other)
    assert granted.allowed and [m.sid for m in granted.matched_statements] == ["GrantMember"]


def test_graphql_can_about_the_demo_accounts_root_user(gql: GraphQLClient) -> None:
    query = """query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r) {
        decision layerVerdicts { layer decision } explanation } }"""
    result = gql.data(query, p="arn:aws:iam::111122223333:root", a="s3:DeleteObject", r="arn:aws:s3:::final-friday-classified/q4.pdf")["can"]
    assert result["decision"] == "ALLOWED"
    assert "root user" in result["explanation"]


def test_cli_can_about_the_root_user(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can", "arn:aws:iam::111122223333:root", "s3:DeleteObject", "final-friday-classified/q4.pdf", "--json", "--expect", "ALLOWED"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["decision"] == "ALLOWED"
