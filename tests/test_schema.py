"""schema/schema.graphql matches the code, and every example operation in schema/operations runs
with the answers AWS's rules give on the demo world."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graphsim.api.schema import schema
from tests.conftest import GraphQLClient

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = ROOT / "schema" / "operations"


def test_exported_schema_has_not_drifted() -> None:
    on_disk = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert on_disk == schema.as_str() + "\n", "run `graphsim export-schema` and commit schema/schema.graphql"


def _classified(data: dict[str, Any]) -> None:
    assert data["can"]["decision"] == "IMPLICIT_DENY"
    assert data["can"]["matchedStatements"] == []
    assert data["can"]["fixHint"]["statement"] == {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-classified/q4.pdf"}


def _reports(data: dict[str, Any]) -> None:
    assert data["can"]["decision"] == "ALLOWED"
    assert [m["path"] for m in data["can"]["matchedStatements"]] == [
        "user/newbie -> policy/FinalFridayReportsReadOnly -> Statement[1] (Sid DownloadReports)"
    ]


def _checks(data: dict[str, Any]) -> None:
    assert {k: v["decision"] for k, v in data.items()} == {
        "seeBuckets": "ALLOWED",
        "listClassified": "IMPLICIT_DENY",
        "listReports": "ALLOWED",
        "upload": "IMPLICIT_DENY",
        "download": "ALLOWED",
        "adminDownloadsClassified": "ALLOWED",
    }


def _first_draft(data: dict[str, Any]) -> None:
    got = {(r["evalActionName"], r["evalResourceName"]): r["evalDecision"] for r in data["simulateCustomPolicy"]}
    assert got == {
        ("s3:ListAllMyBuckets", "*"): "IMPLICIT_DENY",
        ("s3:ListAllMyBuckets", "arn:aws:s3:::final-friday-reports"): "IMPLICIT_DENY",
        ("s3:ListBucket", "*"): "IMPLICIT_DENY",
        ("s3:ListBucket", "arn:aws:s3:::final-friday-reports"): "ALLOWED",
    }


def _simulate(data: dict[str, Any]) -> None:
    got = {(r["evalActionName"], r["evalResourceName"].rsplit(":", 1)[1]): r["evalDecision"] for r in data["simulatePrincipalPolicy"]}
    assert got == {
        ("s3:GetObject", "final-friday-reports/q4.pdf"): "ALLOWED",
        ("s3:GetObject", "final-friday-classified/q4.pdf"): "IMPLICIT_DENY",
        ("s3:PutObject", "final-friday-reports/q4.pdf"): "IMPLICIT_DENY",
        ("s3:PutObject", "final-friday-classified/q4.pdf"): "IMPLICIT_DENY",
    }


def _browse(data: dict[str, Any]) -> None:
    page = data["world"]["usersConnection"]
    assert page["totalCount"] == 7 and page["pageInfo"]["hasNextPage"] is False
    users = {u["name"]: u for u in page["nodes"]}
    assert list(users) == ["dana", "harriet", "kai", "newbie", "omar", "priya", "steve"]
    assert len({u["id"] for u in users.values()}) == 7
    assert [p["name"] for p in users["newbie"]["policies"]] == ["FinalFridayReportsReadOnly"]
    assert [g["name"] for g in users["priya"]["groups"]] == ["Administrators", "DevOps"]
    assert data["world"]["resourcesConnection"]["nodes"] == [
        {"arn": "arn:aws:s3:::final-friday-classified", "type": "s3:bucket"}, {"arn": "arn:aws:s3:::final-friday-reports", "type": "s3:bucket"}]


def _fix(data: dict[str, Any]) -> None:
    result = data["updatePolicy"]
    assert result["__typename"] == "PolicyPayload"
    assert result["policy"]["defaultVersionId"] == "v3"


def _via_roles(data: dict[str, Any]) -> None:
    assert data["can"]["decision"] == "EXPLICIT_DENY"
    route = data["can"]["viaRole"]
    assert route["roles"] == ["arn:aws:iam::111122223333:role/ClassifiedReader"]
    assert route["decision"]["decision"] == "ALLOWED"
    assert data["newbie"] == {
        "decision": "IMPLICIT_DENY",
        "blockedBy": "IDENTITY",
        "layerVerdicts": [{"layer": "RESOURCE", "decision": "ALLOWED"}, {"layer": "IDENTITY", "decision": "IMPLICIT_DENY"}],
    }


def _who_can(data: dict[str, Any]) -> None:
    assert data["whoCanConnection"]["totalCount"] == 3 and data["whoCanConnection"]["pageInfo"]["hasNextPage"] is False
    assert [(e["label"], e["access"]) for e in data["whoCanConnection"]["nodes"]] == [("user/steve", "direct"), ("role/ClassifiedReader", "direct"), ("user/priya", "via-roles")]
    assert data["findingsConnection"]["totalCount"] == 4
    assert [(f["rule"], f["path"]) for f in data["findingsConnection"]["nodes"]] == [
        ("admin-equivalent", "user/priya"), ("admin-equivalent", "user/steve"), ("user-direct-policy", "user/newbie"), ("user-direct-policy", "user/omar")]


def _decision_graph(data: dict[str, Any]) -> None:
    graph = data["decisionGraph"]
    marked = {n["label"]: n["effect"] for n in graph["nodes"] if n["kind"] == "statement" and n["deciding"]}
    # The DevOps Deny decides the direct request; the role route is drawn beside it.
    assert marked["Statement[1] (Sid NeverClassified)"] == "DENY"
    assert marked["Statement[1] (Sid ReadClassified)"] == "ALLOW"
    assert ("arn:aws:iam::111122223333:user/priya", "arn:aws:iam::111122223333:role/ClassifiedReader", "can-assume") in {
        (e["source"], e["target"], e["kind"]) for e in graph["edges"]}
    assert graph["summary"] == data["can"]["explanationLines"]


EXPECTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "classified-decision-graph.graphql": _decision_graph,
    "who-can-read-classified.graphql": _who_can,
    "classified-via-roles.graphql": _via_roles,
    "can-newbie-classified.graphql": _classified,
    "can-newbie-reports.graphql": _reports,
    "walkthrough-checks.graphql": _checks,
    "first-draft-policy.graphql": _first_draft,
    "simulate-newbie.graphql": _simulate,
    "browse-world.graphql": _browse,
    "fix-forgotten-permission.graphql": _fix,
}


def test_every_operation_has_an_expectation() -> None:
    assert sorted(p.name for p in OPERATIONS.glob("*.graphql")) == sorted(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_operation_runs_with_the_expected_answer(gql: GraphQLClient, name: str) -> None:
    EXPECTATIONS[name](gql.data((OPERATIONS / name).read_text(encoding="utf-8")))
