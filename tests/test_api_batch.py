"""canMany: many can questions in one request, each answered as can answers it, each failure
typed and named by its question, at most 10,000 per request (issue 11 target 3)."""

from __future__ import annotations

from graphsim.api.batch import MAX_QUESTIONS
from tests.conftest import GraphQLClient

CAN_MANY = """query($q: [CanQuestion!]!) { canMany(questions: $q) {
  __typename
  ... on Decision { decision allowed world { name } }
  ... on UserError { code field message }
} }"""
CAN = "query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r) { decision } }"


def test_each_question_gets_the_answer_can_gives_it(gql: GraphQLClient) -> None:
    questions = [
        {"principal": "newbie", "action": "s3:GetObject", "resource": "arn:aws:s3:::final-friday-reports/q4.pdf"},
        {"principal": "newbie", "action": "s3:GetObject", "resource": "arn:aws:s3:::final-friday-classified/q4.pdf"},
        {"principal": "priya", "action": "s3:GetObject", "resource": "arn:aws:s3:::final-friday-classified/q4.pdf"},
        {"principal": "priya", "action": "s3:GetObject", "resource": "arn:aws:s3:::final-friday-classified/q4.pdf", "viaRoles": True},
    ]
    answers = gql.data(CAN_MANY, q=questions)["canMany"]
    singles = [gql.data(CAN, p=q["principal"], a=q["action"], r=q["resource"])["can"]["decision"] for q in questions[:3]]
    # The demo world's story: newbie reads the reports only; priya's DevOps Deny beats her admin access.
    assert [a["decision"] for a in answers[:3]] == singles == ["ALLOWED", "IMPLICIT_DENY", "EXPLICIT_DENY"]
    assert answers[0]["world"]["name"] == "final-friday" and answers[0]["allowed"] is True
    assert answers[3]["__typename"] == "Decision"


def test_a_bad_question_fails_alone_naming_its_place(gql: GraphQLClient) -> None:
    questions = [
        {"principal": "newbie", "action": "s3:GetObject", "resource": "arn:aws:s3:::final-friday-reports/q4.pdf"},
        {"principal": "nobody", "action": "s3:GetObject", "resource": "*"},
        {"principal": "newbie", "action": "s3:GetObjekt", "resource": "*"},
        {"principal": "newbie", "action": "s3:GetObject", "resource": "*", "context": [{"contextKeyName": "aws:EpochTime", "contextKeyValues": ["soon"], "contextKeyType": "numeric"}]},
        {"principal": "newbie", "action": "s3:ListAllMyBuckets", "resource": "*"},
    ]
    body = gql(CAN_MANY, q=questions)
    assert "errors" not in body
    answers = body["data"]["canMany"]
    assert [a["__typename"] for a in answers] == ["Decision", "NotFound", "InvalidInput", "InvalidInput", "Decision"]
    assert answers[1]["code"] == "NOT_FOUND" and answers[1]["field"] == "questions[1].principal"
    assert answers[2]["field"] == "questions[2].action" and "GetObjekt" in answers[2]["message"]
    assert answers[3]["field"] == "questions[3].context[0].contextKeyValues[0]"


def test_more_than_the_bound_is_refused_whole(gql: GraphQLClient) -> None:
    question = {"principal": "newbie", "action": "s3:ListAllMyBuckets", "resource": "*"}
    body = gql(CAN_MANY, q=[question] * (MAX_QUESTIONS + 1))
    assert body["data"]["canMany"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "TOO_MANY_QUESTIONS" and error["extensions"]["limit"] == MAX_QUESTIONS
    assert error["extensions"]["asked"] == MAX_QUESTIONS + 1 and error["path"] == ["canMany"]
    assert len(gql.data(CAN_MANY, q=[question] * MAX_QUESTIONS)["canMany"]) == MAX_QUESTIONS
