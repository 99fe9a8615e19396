"""Bad input gets a typed error naming the field; a failed mutation changes nothing."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import GraphQLClient

CAN = 'query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r) { decision } }'
CREATE_POLICY = """
mutation($name: String!, $doc: String!) {
  createPolicy(name: $name, document: $doc) {
    __typename
    ... on PolicyPayload { policy { name } }
    ... on InvalidPolicy { message field code problems { path rule } }
    ... on UserError { message code }
  }
}
"""


def version(gql: GraphQLClient) -> int:
    return gql.data("{ world { version } }")["world"]["version"]


def test_malformed_json_policy_is_rejected_and_nothing_changes(gql: GraphQLClient) -> None:
    before = version(gql)
    result = gql.data(CREATE_POLICY, name="Broken", doc='{"Version": "2012-10-17", "Statement": [')["createPolicy"]
    assert result["__typename"] == "InvalidPolicy"
    assert result["code"] == "INVALID_POLICY"
    assert result["problems"][0]["rule"].startswith("not valid JSON")
    assert version(gql) == before
    assert gql.data('{ world { policy(name: "Broken") { name } } }')["world"]["policy"] is None


def test_every_problem_in_a_policy_is_reported_with_its_path(gql: GraphQLClient) -> None:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Deny", "Resource": "bucket", "Condition": {"StringEqualz": {"aws:username": "x"}}},
        ],
    }
    result = gql.data(CREATE_POLICY, name="Bad", doc=json.dumps(doc))["createPolicy"]
    problems = {p["path"]: p["rule"] for p in result["problems"]}
    assert problems["Statement[1].Effect"] == 'must be "Allow" or "Deny", got "allow"'
    assert "exactly one of" in problems["Statement[2]"]
    assert problems["Statement[2].Resource"].startswith('must be "*" or an ARN')
    assert problems["Statement[2].Condition.StringEqualz"].startswith('unknown condition operator "StringEqualz"')


def test_unknown_principal_is_a_typed_error(gql: GraphQLClient) -> None:
    body = gql(CAN, p="nobody", a="s3:GetObject", r="arn:aws:s3:::final-friday-reports/q4.pdf")
    assert body["data"] == {"can": None}  # the failed question is null, with its error
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "principal"}
    assert "no user or role named 'nobody'" in error["message"]


def test_a_group_is_never_a_principal(gql: GraphQLClient) -> None:
    (error,) = gql(CAN, p="HR", a="s3:GetObject", r="*")["errors"]
    assert error["extensions"]["field"] == "principal"
    assert "never a principal" in error["message"]


@pytest.mark.parametrize("action", ["", "   "])
def test_empty_action_is_a_typed_error(gql: GraphQLClient, action: str) -> None:
    (error,) = gql(CAN, p="newbie", a=action, r="*")["errors"]
    assert error["extensions"]["code"] == "UNKNOWN_ACTION"
    assert error["extensions"]["field"] == "action"
    assert "must not be empty" in error["message"]


def test_unknown_action_suggests_the_closest(gql: GraphQLClient) -> None:
    (error,) = gql(CAN, p="newbie", a="s3:GetObjekt", r="*")["errors"]
    assert error["extensions"]["suggestions"][0] == "s3:GetObject"


def test_malformed_resource_arn_is_rejected(gql: GraphQLClient) -> None:
    (error,) = gql(CAN, p="newbie", a="s3:GetObject", r="arn:aws::s3:*")["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": "resource"}


def test_missing_entities_in_mutations_are_typed_and_change_nothing(gql: GraphQLClient) -> None:
    before = version(gql)
    result = gql.data('mutation { addUserToGroup(user: "newbie", group: "Nope") { __typename ... on NotFound { kind name field } } }')
    assert result["addUserToGroup"] == {"__typename": "NotFound", "kind": "group", "name": "Nope", "field": "group"}
    dup = gql.data('mutation { createUser(name: "NEWBIE") { __typename ... on Conflict { field message } } }')["createUser"]
    assert dup["__typename"] == "Conflict"
    attached = gql.data('mutation { deletePolicy(policy: "HRReports") { __typename ... on Conflict { message } } }')["deletePolicy"]
    assert attached["__typename"] == "Conflict" and "group/HR" in attached["message"]
    assert version(gql) == before


def test_internal_errors_are_masked_and_logged(gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(gql.workspace.engine(), "can", boom)
    with caplog.at_level(logging.ERROR):
        body = gql(CAN, p="newbie", a="s3:GetObject", r="*")
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret" not in json.dumps(body)
    assert "secret internal detail" in caplog.text


def test_query_depth_alias_and_token_limits(gql: GraphQLClient) -> None:
    # Depth 12 and 40 aliases, over the defaults of 10 and 30 (graphsim.limits): typed refusals
    # naming the limit, its maximum, what was asked and the serve flag that raises it.
    deep = "{ world { users { groups { users { groups { users { groups { users { groups { users { groups { name } } } } } } } } } } } }"
    error = gql(deep)["errors"][0]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "query_depth", "maximum": 10, "asked": 12, "flag": "--max-query-depth"}
    assert "--max-query-depth" in error["message"]
    aliases = "{ " + " ".join(f"a{i}: worlds {{ name }}" for i in range(40)) + " }"
    error = gql(aliases)["errors"][0]
    assert (error["extensions"]["limit"], error["extensions"]["maximum"], error["extensions"]["asked"]) == ("query_aliases", 30, 40)
    tokens = "{ " + " ".join("worlds { name }" for _ in range(2000)) + " }"
    error = gql(tokens)["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["limit"], error["extensions"]["flag"]) == ("LIMIT_EXCEEDED", "query_tokens", "--max-query-tokens")
