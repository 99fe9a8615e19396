"""Policy grammar and pattern matching, each rule pinned to the AWS doc that states it."""

from __future__ import annotations

import pytest

from graphsim.errors import PolicyValidationError
from graphsim.policy import PolicyKind, parse_policy
from graphsim.policy.patterns import ActionMatcher, ArnPattern

RESOURCE_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
ACTION_DOC = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html"


def _problems(doc: object, kind: PolicyKind = PolicyKind.IDENTITY) -> dict[str, str]:
    with pytest.raises(PolicyValidationError) as info:
        parse_policy(doc, kind=kind)  # type: ignore[arg-type]
    return {p.path: p.rule for p in info.value.problems}


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("s3:GetObject", "s3:getobject", True),  # case-insensitive (ACTION_DOC)
        ("S3:GETOBJECT", "s3:getobject", True),
        ("s3:Get*", "s3:getobjectacl", True),
        ("s3:Get?bject", "s3:getobject", True),
        ("s3:Get?bject", "s3:getobjject", False),
        ("s3:*", "ec2:runinstances", False),
        ("*", "ec2:runinstances", True),
        ("*:Describe*", "ec2:describeinstances", True),
    ],
)
def test_action_patterns(pattern: str, action: str, matches: bool) -> None:
    assert ActionMatcher([pattern]).matches(action) is matches


@pytest.mark.parametrize(
    ("pattern", "arn", "matches"),
    [
        # ARNs are case-sensitive.
        ("arn:aws:iam::111122223333:user/Bob", "arn:aws:iam::111122223333:user/bob", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c.txt", True),
        # "*" crosses "/": bucket/*/test/* matches bucket/1/2/test/3/x.jpg.
        ("arn:aws:s3:::bucket/*/test/*", "arn:aws:s3:::bucket/1/2/test/3/x.jpg", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket?", "arn:aws:s3:::bucket1", True),
        ("arn:aws:s3:::bucket?", "arn:aws:s3:::bucket12", False),
        # A "*" inside a segment stays in the segment; a trailing one may run past colons.
        ("arn:aws:ec2:*:111122223333:instance/*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", True),
        ("arn:aws:ec2:us-*-1:111122223333:*", "arn:aws:ec2:us-east-1:111122223333:instance/i-1", True),
        ("arn:aws:ec2:u*1:111122223333:*", "arn:aws:ec2:us:x:1:111122223333:instance/i-1", False),
        ("arn:aws:logs:us-east-1:111122223333:log-group:*", "arn:aws:logs:us-east-1:111122223333:log-group:/a:log-stream:s", True),
        ("*", "arn:aws:s3:::anything", True),
    ],
)
def test_arn_patterns(pattern: str, arn: str, matches: bool) -> None:
    assert ArnPattern(pattern, variables_enabled=True).matches(arn, {}) is matches


def test_service_segment_wildcards_match_nothing_and_warn() -> None:
    doc = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s*:::bucket"}]})
    assert "service segment" in doc.warnings[0].rule
    assert not doc.statements[0].matches_resource("arn:aws:s3:::bucket", {})


def test_statement_may_be_an_object_or_a_list() -> None:
    single = parse_policy({"Version": "2012-10-17", "Id": "p1", "Statement": {"Sid": "A", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}})
    assert single.id == "p1" and len(single.statements) == 1 and single.statements[0].sid == "A"


def test_all_errors_are_reported_not_only_the_first() -> None:
    problems = _problems(
        {
            "Version": "2012-10-18",
            "Extra": 1,
            "Statement": [
                {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Sid": "has space", "Effect": "Allow", "Action": "GetObject", "NotAction": "s3:Get*", "Resource": "*"},
                {"Effect": "Allow", "Action": [], "Resource": "*", "Principal": "*"},
            ],
        }
    )
    assert problems["Version"] == 'must be "2012-10-17" or "2008-10-17", got "2012-10-18"'
    assert "unknown top-level element" in problems["Extra"]
    assert problems["Statement[0].Effect"] == 'must be "Allow" or "Deny", got "allow"'
    assert "letters and digits" in problems["Statement[1].Sid"]
    assert "exactly one of" in problems["Statement[1]"]
    assert problems["Statement[2].Action"] == "must not be an empty list"
    assert "only in resource-based policies" in problems["Statement[2].Principal"]


def test_principal_is_required_in_resource_policies() -> None:
    problems = _problems({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}, PolicyKind.RESOURCE)
    assert "Principal" in problems["Statement[0]"]


def test_unknown_actions_are_warnings_not_errors() -> None:
    from graphsim.world.graph import parse_with_catalog

    doc = parse_with_catalog({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObjekt", "s3:Get*"], "Resource": "*"}]})
    assert [(w.path, w.rule) for w in doc.warnings] == [("Statement[0].Action[0]", "unknown action 's3:GetObjekt'; did you mean s3:GetObject?")]


def test_variables_are_literal_text_without_version_2012() -> None:
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    old = parse_policy({"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}"}]})
    ctx = {"aws:username": ("bob",)}
    assert not old.statements[0].matches_resource("arn:aws:s3:::b/bob", ctx)
    assert old.statements[0].matches_resource("arn:aws:s3:::b/${aws:username}", ctx)
    new = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}"}]})
    assert new.statements[0].matches_resource("arn:aws:s3:::b/bob", ctx)
