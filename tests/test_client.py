"""The Python client in client/, against a live server."""

from __future__ import annotations

import json

import pytest
from graphsim_client import GraphsimClient, GraphsimError

REPORT = "arn:aws:s3:::final-friday-reports/q4.pdf"
CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"


def test_can_returns_typed_decisions(live_server: str) -> None:
    with GraphsimClient(live_server) as gs:
        allowed = gs.can("newbie", "s3:GetObject", REPORT)
        assert allowed.allowed and allowed.decision == "ALLOWED"
        assert allowed.matched_statements[0].path == "user/newbie -> policy/FinalFridayReportsReadOnly -> Statement[1] (Sid DownloadReports)"
        denied = gs.can("newbie", "s3:GetObject", CLASSIFIED)
        assert not denied.allowed and denied.blocked_by == "IDENTITY"
        routed = gs.can("priya", "s3:GetObject", CLASSIFIED, via_roles=True)
        assert routed.decision == "EXPLICIT_DENY" and routed.via_roles == ["arn:aws:iam::111122223333:role/ClassifiedReader"]
        office = gs.can("dana", "s3:PutObject", "arn:aws:s3:::final-friday-reports/hr/x.csv", context={"aws:SourceIp": "10.1.1.1"})
        assert office.allowed


def test_errors_are_exceptions_with_the_servers_message(live_server: str) -> None:
    with GraphsimClient(live_server) as gs:
        with pytest.raises(GraphsimError) as info:
            gs.can("nobody", "s3:GetObject", REPORT)
        assert info.value.code == "NOT_FOUND" and info.value.field == "principal"
        with pytest.raises(GraphsimError) as info:
            gs.simulate_custom_policy(ActionNames=["s3:GetObject"])
        assert info.value.field == "PolicyInputList"


def test_boto3_shaped_simulation(live_server: str) -> None:
    # The same keyword arguments and response shape as boto3.client("iam").simulate_custom_policy.
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-reports/*"}]})
    with GraphsimClient(live_server) as gs:
        custom = gs.simulate_custom_policy(PolicyInputList=[policy], ActionNames=["s3:GetObject", "s3:PutObject"], ResourceArns=[REPORT])
        assert [r["EvalDecision"] for r in custom["EvaluationResults"]] == ["allowed", "implicitDeny"]
        assert custom["EvaluationResults"][0]["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
        principal = gs.simulate_principal_policy(PolicySourceArn="arn:aws:iam::111122223333:user/steve", ActionNames=["iam:CreateUser"])
        assert principal["EvaluationResults"][0]["EvalDecision"] == "allowed"
        assert principal["IsTruncated"] is False


def test_lists_page_transparently(live_server: str) -> None:
    with GraphsimClient(live_server) as gs:
        gs.graphql('mutation { forkWorld(source: "final-friday", name: "paging") { __typename } }')
        fork = GraphsimClient(live_server, world="paging")
        # Pages of two: four requests, every user once, by name.
        assert [u["name"] for u in fork.users(page_size=2)] == ["dana", "harriet", "kai", "newbie", "omar", "priya", "steve"]
        assert [u["name"] for u in fork.users(filter={"group": "DevOps"}, order_by={"direction": "DESC"})] == ["priya", "omar", "kai"]
        assert [g["name"] for g in fork.groups(page_size=1)] == ["Administrators", "DevOps", "HR"]
        assert [p["name"] for p in fork.policies(filter={"awsManaged": True})] == ["AdministratorAccess"]
        assert [r["name"] for r in fork.resources(filter={"type": "s3:bucket"})] == ["final-friday-classified", "final-friday-reports"]
        assert [(h["version"], h["mutation"]) for h in fork.history(page_size=1)][0] == (1, "forkWorld")
        newbie = next(fork.users(filter={"namePrefix": "newb"}))
        assert fork.node(newbie["id"]) == {"__typename": "User", "id": newbie["id"], "name": "newbie", "arn": newbie["arn"]}
        # A world that changes during a walk: the next page is refused, typed.
        walk = fork.users(page_size=3)
        assert [next(walk)["name"] for _ in range(3)] == ["dana", "harriet", "kai"]
        gs.graphql('mutation { createUser(name: "aaron", world: "paging") { __typename } }')
        with pytest.raises(GraphsimError) as info:
            next(walk)
        assert info.value.code == "STALE_CURSOR" and info.value.field == "after"
        fork.close()
