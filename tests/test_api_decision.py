"""GraphQL's Decision and EvaluationResult keep the domain decision private and compute each
field when a query asks for it: the explanation is rendered only when selected."""

from __future__ import annotations

import json

import pytest

import graphsim.api.decision as decision_types
from graphsim.engine import explain
from tests.conftest import GraphQLClient

CAN = 'query($fields: Boolean!) { can(principal: "newbie", action: "s3:GetObject", resource: "arn:aws:s3:::final-friday-classified/q4.pdf") { decision blockedBy explanation @include(if: $fields) explanationLines @include(if: $fields) } }'


@pytest.fixture
def explained(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def counting(d: object) -> str:
        calls.append("explain")
        return explain(d)  # type: ignore[arg-type]

    monkeypatch.setattr(decision_types, "explain", counting)
    return calls


def test_explanation_is_rendered_only_when_asked(gql: GraphQLClient, explained: list[str]) -> None:
    data = gql.data(CAN, fields=False)
    assert data["can"] == {"decision": "IMPLICIT_DENY", "blockedBy": "IDENTITY"}
    assert explained == []
    data = gql.data(CAN, fields=True)
    assert data["can"]["explanation"].splitlines() == data["can"]["explanationLines"]
    assert "newbie" in data["can"]["explanation"]
    assert explained == ["explain", "explain"]


def test_simulate_results_render_the_explanation_only_when_asked(gql: GraphQLClient, explained: list[str]) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
    query = "query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) { evalActionName evalDecision matchedStatements { policy statementIndex path } } }"
    results = gql.data(query, **{"in": {"policyInputList": [policy], "actionNames": ["s3:GetObject", "s3:PutObject"]}})["simulateCustomPolicy"]
    assert [(r["evalActionName"], r["evalDecision"]) for r in results] == [("s3:GetObject", "ALLOWED"), ("s3:PutObject", "IMPLICIT_DENY")]
    assert results[0]["matchedStatements"] == [{"policy": "PolicyInputList.1", "statementIndex": 0, "path": "policy/PolicyInputList.1 -> Statement[0]"}]
    assert explained == []
