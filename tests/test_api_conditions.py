"""Conditioned questions on the demo world, through GraphQL and the CLI.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html (context keys must be supplied)
"""

from __future__ import annotations

import json

import pytest

from graphsim.cli import EXIT_OK, main
from tests.conftest import GraphQLClient

CAN = """
query($p: String!, $a: String!, $r: String!, $ctx: [ContextEntryInput!]) {
  can(principal: $p, action: $a, resource: $r, context: $ctx) {
    decision missingContextValues matchedStatements { sid } warnings
  }
}
"""
REPORT = "arn:aws:s3:::final-friday-reports/q4.pdf"
SOURCE_IP = "aws:SourceIp"


def ip(value: str) -> list[dict[str, object]]:
    return [{"contextKeyName": SOURCE_IP, "contextKeyValues": [value], "contextKeyType": "ip"}]


@pytest.fixture
def office_only(gql: GraphQLClient) -> GraphQLClient:
    """newbie's GetObject allowed only from 10.0.0.0/8, via a new default policy version."""
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ListReports", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::final-friday-reports"},
            {
                "Sid": "DownloadFromOffice",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::final-friday-reports/*",
                "Condition": {"IpAddress": {SOURCE_IP: "10.0.0.0/8"}},
            },
        ],
    }
    result = gql.data(
        'mutation($d: String!) { updatePolicy(policy: "FinalFridayReportsReadOnly", document: $d) { __typename } }', d=json.dumps(doc)
    )
    assert result["updatePolicy"]["__typename"] == "PolicyPayload"
    return gql


def test_inside_the_range_is_allowed(office_only: GraphQLClient) -> None:
    answer = office_only.data(CAN, p="newbie", a="s3:GetObject", r=REPORT, ctx=ip("10.20.30.40"))["can"]
    assert answer["decision"] == "ALLOWED"
    assert answer["matchedStatements"] == [{"sid": "DownloadFromOffice"}]
    assert answer["missingContextValues"] == []


def test_outside_the_range_is_implicitly_denied(office_only: GraphQLClient) -> None:
    answer = office_only.data(CAN, p="newbie", a="s3:GetObject", r=REPORT, ctx=ip("192.168.1.10"))["can"]
    assert answer["decision"] == "IMPLICIT_DENY"
    assert answer["missingContextValues"] == []


def test_without_the_key_it_is_denied_and_reported_missing(office_only: GraphQLClient) -> None:
    answer = office_only.data(CAN, p="newbie", a="s3:GetObject", r=REPORT)["can"]
    assert answer["decision"] == "IMPLICIT_DENY"
    assert answer["missingContextValues"] == [SOURCE_IP]
    # A statement that does not apply to the request never reports its keys.
    listing = office_only.data(CAN, p="newbie", a="s3:ListBucket", r="arn:aws:s3:::final-friday-reports")["can"]
    assert listing["missingContextValues"] == []


def test_a_badly_typed_context_value_names_the_field(gql: GraphQLClient) -> None:
    body = gql(CAN, p="newbie", a="s3:GetObject", r=REPORT, ctx=ip("not-an-ip"))
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "context[0].contextKeyValues[0]"}


def test_demo_world_hr_publishes_from_the_office_only(gql: GraphQLClient) -> None:
    upload = "arn:aws:s3:::final-friday-reports/hr/headcount.csv"
    missing = gql.data(CAN, p="dana", a="s3:PutObject", r=upload)["can"]
    assert missing["decision"] == "IMPLICIT_DENY" and missing["missingContextValues"] == [SOURCE_IP]
    inside = gql.data(CAN, p="dana", a="s3:PutObject", r=upload, ctx=ip("10.0.0.7"))["can"]
    assert inside["decision"] == "ALLOWED" and inside["matchedStatements"] == [{"sid": "PublishReports"}]


def test_cli_context_and_missing_keys(capsys: pytest.CaptureFixture[str]) -> None:
    upload = "final-friday-reports/hr/headcount.csv"
    assert main(["can", "dana", "s3:PutObject", upload, "--context", "aws:SourceIp=10.0.0.7", "--expect", "ALLOWED"]) == EXIT_OK
    capsys.readouterr()
    assert main(["can", "dana", "s3:PutObject", upload, "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["decision"] == "IMPLICIT_DENY" and data["missingContextValues"] == [SOURCE_IP]
    assert main(["can", "dana", "s3:PutObject", upload]) == EXIT_OK
    assert "Missing context values (statements that apply read them; supply them to be sure): aws:SourceIp" in capsys.readouterr().out


def test_resource_type_warnings_reach_graphql_and_the_cli(gql: GraphQLClient, capsys: pytest.CaptureFixture[str]) -> None:
    answer = gql.data(CAN, p="newbie", a="s3:GetObject", r="arn:aws:s3:::final-friday-reports")["can"]
    assert answer["decision"] == "IMPLICIT_DENY"
    assert answer["warnings"] == [
        "'arn:aws:s3:::final-friday-reports' is not a resource s3:GetObject acts on; it takes "
        "accesspointobject (arn:${Partition}:s3:${Region}:${Account}:accesspoint/${AccessPointName}/object/${ObjectName}), "
        "object (arn:${Partition}:s3:::${BucketName}/${ObjectName})"
    ]
    assert main(["can", "newbie", "s3:ListAllMyBuckets", "final-friday-reports"]) == EXIT_OK
    assert 'Warning: s3:ListAllMyBuckets does not act on a specific resource; AWS evaluates it against Resource "*"' in capsys.readouterr().out


def test_derived_keys_fill_policy_variables_and_explicit_values_win(gql: GraphQLClient) -> None:
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    doc = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-classified/home/${aws:username}/*"}],
    }
    gql.data('mutation($d: String!) { putUserPolicy(user: "newbie", policyName: "Home", document: $d) { __typename } }', d=json.dumps(doc))
    own = "arn:aws:s3:::final-friday-classified/home/newbie/notes.txt"
    assert gql.data(CAN, p="newbie", a="s3:GetObject", r=own)["can"]["decision"] == "ALLOWED"
    other = "arn:aws:s3:::final-friday-classified/home/kai/notes.txt"
    assert gql.data(CAN, p="newbie", a="s3:GetObject", r=other)["can"]["decision"] == "IMPLICIT_DENY"
    pretend = [{"contextKeyName": "aws:username", "contextKeyValues": ["kai"]}]
    assert gql.data(CAN, p="newbie", a="s3:GetObject", r=other, ctx=pretend)["can"]["decision"] == "ALLOWED"


def test_cli_context_types_are_validated(capsys: pytest.CaptureFixture[str]) -> None:
    upload = "final-friday-reports/hr/headcount.csv"
    args = ["can", "dana", "s3:PutObject", upload, "--context", "aws:SourceIp=10.0.0.7", "--context-type", "aws:SourceIp=ip"]
    assert main([*args, "--expect", "ALLOWED"]) == EXIT_OK
    assert main(["can", "dana", "s3:PutObject", upload, "--context", "aws:SourceIp=not-an-ip", "--context-type", "aws:SourceIp=ip"]) == 2
    assert "not a valid ip value" in capsys.readouterr().err
