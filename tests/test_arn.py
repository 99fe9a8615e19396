"""graphsim.arn: the ARN value type and the helpers shared by the engine, analyses and world.

Formats: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
"""

from __future__ import annotations

import pytest

from graphsim.arn import (
    Arn,
    InvalidArnError,
    account_of,
    account_of_principal,
    grantee_arn,
    iam_arn,
    is_account_id,
    pseudo_unique_id,
    resource_part,
    role_of_session,
    root_arn,
    s3_arn,
    s3_bucket_arn,
    session_arn,
)
from graphsim.errors import InvalidRequestError


def test_parse_splits_the_five_fields_and_keeps_colons_in_the_resource() -> None:
    arn = Arn.parse("arn:aws:lambda:us-east-1:111122223333:function:my-fn:PROD")
    assert (arn.partition, arn.service, arn.region, arn.account, arn.resource) == ("aws", "lambda", "us-east-1", "111122223333", "function:my-fn:PROD")
    assert arn.resource_type == "function"
    assert str(arn) == "arn:aws:lambda:us-east-1:111122223333:function:my-fn:PROD"


def test_parse_s3_arn_has_no_region_or_account() -> None:
    arn = Arn.parse("arn:aws:s3:::reports/2024/q1.csv")
    assert (arn.region, arn.account, arn.resource) == ("", "", "reports/2024/q1.csv")
    assert not arn.has_account
    assert arn.resource_type == "reports"


def test_parse_iam_path_and_name() -> None:
    arn = Arn.parse("arn:aws-cn:iam::111122223333:role/ops/Admin")
    assert arn.partition == "aws-cn"
    assert arn.resource_type == "role"
    assert arn.name == "Admin"
    assert arn.has_account


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("s3:::bucket", "does not start with 'arn:'"),
        ("arn:aws::s3:*", "5 of the 6"),
        ("arn:aws:s3", "3 of the 6"),
        ("arn::s3:::bucket", "partition is empty"),
        ("arn:aws::us-east-1:111122223333:thing", "service is empty"),
        ("arn:aws:s3:::", "resource is empty"),
    ],
)
def test_malformed_arns_raise_a_typed_error_naming_the_field_and_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidArnError) as info:
        Arn.parse(text, field="resourceArns")
    assert reason in info.value.reason
    assert info.value.field == "resourceArns"
    assert isinstance(info.value, InvalidRequestError)  # the API and CLI report it as bad input
    assert Arn.maybe(text) is None


def test_maybe_returns_none_for_names_and_account_ids() -> None:
    assert Arn.maybe("alice") is None
    assert Arn.maybe("111122223333") is None
    assert Arn.maybe("*") is None
    assert Arn.maybe("arn:aws:iam::111122223333:root") == Arn("aws", "iam", "", "111122223333", "root")


def test_root_arn_and_its_account() -> None:
    assert root_arn("111122223333") == "arn:aws:iam::111122223333:root"
    assert Arn.parse(root_arn("111122223333")).is_root
    assert not Arn.parse("arn:aws:iam::111122223333:user/root").is_root
    assert account_of_principal("arn:aws:iam::111122223333:root") == "111122223333"
    assert account_of_principal("111122223333") == "111122223333"
    # A user ARN names that user, not the whole account.
    assert account_of_principal("arn:aws:iam::111122223333:user/alice") is None
    assert account_of_principal("11112222333") is None  # eleven digits


def test_builders() -> None:
    assert iam_arn("111122223333", "user", "alice") == "arn:aws:iam::111122223333:user/alice"
    assert iam_arn("111122223333", "role", "Admin", "/ops/") == "arn:aws:iam::111122223333:role/ops/Admin"
    assert session_arn("111122223333", "Admin", "s1") == "arn:aws:sts::111122223333:assumed-role/Admin/s1"
    assert s3_arn("reports/a.csv") == "arn:aws:s3:::reports/a.csv"


def test_session_arn_to_role_arn() -> None:
    session = "arn:aws:sts::111122223333:assumed-role/Admin/alice-session"
    assert Arn.parse(session).session_parts == ("Admin", "alice-session")
    assert role_of_session(session) == "arn:aws:iam::111122223333:role/Admin"
    assert grantee_arn(session) == "arn:aws:iam::111122223333:role/Admin"
    # Not sessions: a federated user, a user, a malformed session with no session name.
    assert role_of_session("arn:aws:sts::111122223333:federated-user/bob") is None
    assert grantee_arn("arn:aws:iam::111122223333:user/alice") == "arn:aws:iam::111122223333:user/alice"
    assert Arn.parse("arn:aws:sts::111122223333:assumed-role/Admin").session_parts is None


def test_account_of_and_resource_part() -> None:
    assert account_of("arn:aws:dynamodb:us-east-1:111122223333:table/Orders") == "111122223333"
    assert account_of("arn:aws:s3:::bucket") is None
    assert account_of("*") is None
    assert resource_part("arn:aws:dynamodb:us-east-1:111122223333:table/Orders") == "table/Orders"
    with pytest.raises(InvalidArnError):
        resource_part("bucket")


def test_s3_bucket_of_an_object() -> None:
    assert s3_bucket_arn("arn:aws:s3:::reports/2024/q1.csv") == "arn:aws:s3:::reports"
    assert s3_bucket_arn("arn:aws:s3:::reports") is None
    assert s3_bucket_arn("arn:aws:sqs:us-east-1:111122223333:queue/x") is None


def test_is_account_id() -> None:
    assert is_account_id("111122223333")
    assert not is_account_id("1111222233334")
    assert not is_account_id("11112222333a")


def test_pseudo_unique_ids_are_stable_and_shaped_like_aws_ids() -> None:
    uid = pseudo_unique_id("AIDA", "arn:aws:iam::111122223333:user/alice")
    assert uid == pseudo_unique_id("AIDA", "arn:aws:iam::111122223333:user/alice")
    assert uid != pseudo_unique_id("AIDA", "arn:aws:iam::111122223333:user/bob")
    assert uid.startswith("AIDA") and len(uid) == 21 and uid.isalpha() and uid.isupper()
