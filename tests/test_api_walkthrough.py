"""The Final Friday walkthrough, step by step, through the real HTTP API.

Expected decisions follow AWS's documented evaluation logic: no policy means implicit deny;
an Allow that matches action and resource allows; an explicit Deny overrides any Allow.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
D: https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
"""

from __future__ import annotations

import json

from tests.conftest import GraphQLClient

CAN = """
query Can($principal: String!, $action: String!, $resource: String!) {
  can(principal: $principal, action: $action, resource: $resource) {
    decision allowed explanation missingContextValues warnings
    matchedStatements { policy sid effect layer path policyType }
    fixHint { summary statement }
  }
}
"""

REPORTS = "arn:aws:s3:::final-friday-reports"
CLASSIFIED = "arn:aws:s3:::final-friday-classified"

# The policy as first written in the walkthrough: it forgets s3:ListAllMyBuckets.
FIRST_DRAFT = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ListReports", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": REPORTS},
        {"Sid": "DownloadReports", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{REPORTS}/*"},
    ],
}
FIXED = {
    "Version": "2012-10-17",
    "Statement": [*FIRST_DRAFT["Statement"], {"Sid": "SeeAllBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
}


def can(gql: GraphQLClient, principal: str, action: str, resource: str) -> dict:
    return gql.data(CAN, principal=principal, action=action, resource=resource)["can"]


def mutate(gql: GraphQLClient, query: str, **variables: object) -> dict:
    data = gql.data(query, **variables)
    (result,) = data.values()
    assert "message" not in result, result
    return result


def test_the_walkthrough_step_by_step(gql: GraphQLClient) -> None:
    # Start again from a newbie with no permissions at all.
    mutate(gql, 'mutation { deleteUser(name: "newbie") { ... on DeletePayload { deleted } ... on UserError { message } } }')
    mutate(gql, 'mutation { createUser(name: "newbie") { ... on UserPayload { user { name } } ... on UserError { message } } }')

    # "By default a user has no permissions": every question is an implicit deny.
    for action, resource in [
        ("s3:ListAllMyBuckets", "*"),
        ("s3:ListBucket", REPORTS),
        ("s3:GetObject", f"{REPORTS}/q4.pdf"),
        ("s3:GetObject", f"{CLASSIFIED}/q4.pdf"),
        ("iam:CreateUser", "*"),
    ]:
        answer = can(gql, "newbie", action, resource)
        assert answer["decision"] == "IMPLICIT_DENY", (action, resource)
        assert answer["matchedStatements"] == []

    created = mutate(
        gql,
        """mutation($doc: String!) { createPolicy(name: "ReportsReadOnly", document: $doc) {
             ... on PolicyPayload { policy { arn defaultVersionId } } ... on UserError { message } } }""",
        doc=json.dumps(FIRST_DRAFT),
    )
    arn = created["policy"]["arn"]
    assert arn == "arn:aws:iam::111122223333:policy/ReportsReadOnly"
    mutate(
        gql,
        """mutation($arn: String!) { attachUserPolicy(user: "newbie", policy: $arn) {
             ... on AttachmentPayload { holder } ... on UserError { message } } }""",
        arn=arn,
    )

    # "Hmmm... seems like we may have missed something": the S3 console lists buckets first.
    missed = can(gql, "newbie", "s3:ListAllMyBuckets", "*")
    assert missed["decision"] == "IMPLICIT_DENY"
    assert missed["fixHint"]["statement"] == {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}

    updated = mutate(
        gql,
        """mutation($doc: String!) { updatePolicy(policy: "ReportsReadOnly", document: $doc) {
             ... on PolicyPayload { policy { defaultVersionId versions { versionId isDefault } } } ... on UserError { message } } }""",
        doc=json.dumps(FIXED),
    )
    assert updated["policy"]["defaultVersionId"] == "v2"
    assert [v["isDefault"] for v in updated["policy"]["versions"]] == [False, True]

    listed = can(gql, "newbie", "s3:ListAllMyBuckets", "*")
    assert listed["decision"] == "ALLOWED"
    assert [m["sid"] for m in listed["matchedStatements"]] == ["SeeAllBuckets"]
    assert listed["matchedStatements"][0]["path"] == "user/newbie -> policy/ReportsReadOnly -> Statement[2] (Sid SeeAllBuckets)"

    # "What happens when we try go inside final-friday-classified?" Access Denied.
    assert can(gql, "newbie", "s3:ListBucket", CLASSIFIED)["decision"] == "IMPLICIT_DENY"
    # The reports bucket lists.
    assert can(gql, "newbie", "s3:ListBucket", REPORTS)["decision"] == "ALLOWED"
    # Uploading fails: only GetObject was granted.
    assert can(gql, "newbie", "s3:PutObject", f"{REPORTS}/upload.txt")["decision"] == "IMPLICIT_DENY"
    # Downloading works.
    download = can(gql, "newbie", "s3:GetObject", f"{REPORTS}/q4.pdf")
    assert download["decision"] == "ALLOWED"
    assert download["matchedStatements"][0]["path"] == "user/newbie -> policy/ReportsReadOnly -> Statement[1] (Sid DownloadReports)"


def test_done_when_question_on_the_demo_world(gql: GraphQLClient) -> None:
    denied = can(gql, "newbie", "s3:GetObject", f"{CLASSIFIED}/q4.pdf")
    assert denied["decision"] == "IMPLICIT_DENY"
    assert "No statement allows it (implicit deny)" in denied["explanation"]
    allowed = can(gql, "newbie", "s3:GetObject", f"{REPORTS}/q4.pdf")
    assert allowed["decision"] == "ALLOWED"
    assert allowed["matchedStatements"] == [
        {
            "policy": "FinalFridayReportsReadOnly",
            "sid": "DownloadReports",
            "effect": "ALLOW",
            "layer": "IDENTITY",
            "policyType": "USER_MANAGED",
            "path": "user/newbie -> policy/FinalFridayReportsReadOnly -> Statement[1] (Sid DownloadReports)",
        }
    ]


def test_a_user_gets_its_groups_policies_and_the_path_shows_the_group(gql: GraphQLClient) -> None:
    answer = can(gql, "dana", "s3:GetObject", f"{REPORTS}/weekly-summary.pdf")
    assert answer["decision"] == "ALLOWED"
    assert [m["path"] for m in answer["matchedStatements"]] == [
        "user/dana -> group/HR -> policy/HRReports -> Statement[0] (Sid ReadReports)"
    ]
    # Leaving the group takes the access away.
    mutate(gql, 'mutation { removeUserFromGroup(user: "dana", group: "HR") { ... on MembershipPayload { worldVersion } ... on UserError { message } } }')
    assert can(gql, "dana", "s3:GetObject", f"{REPORTS}/weekly-summary.pdf")["decision"] == "IMPLICIT_DENY"


def test_an_administrator_can_do_anything(gql: GraphQLClient) -> None:
    for action, resource in [
        ("iam:CreateUser", "*"),
        ("ec2:TerminateInstances", "arn:aws:ec2:eu-west-2:111122223333:instance/i-0abc"),
        ("s3:GetObject", f"{CLASSIFIED}/salaries.xlsx"),
        ("s3:DeleteBucket", CLASSIFIED),
    ]:
        answer = can(gql, "steve", action, resource)
        assert answer["decision"] == "ALLOWED", action
        assert answer["matchedStatements"][0]["path"] == "user/steve -> group/Administrators -> policy/AdministratorAccess -> Statement[0]"
        assert answer["matchedStatements"][0]["policyType"] == "AWS_MANAGED"


def test_a_group_deny_beats_the_users_own_allow(gql: GraphQLClient) -> None:
    allow_classified = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "PeekClassified", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{CLASSIFIED}/*"}],
    }
    mutate(
        gql,
        """mutation($doc: String!) { putUserPolicy(user: "kai", policyName: "Peek", document: $doc) {
             ... on PolicyPayload { policy { name inline } } ... on UserError { message } } }""",
        doc=json.dumps(allow_classified),
    )
    answer = can(gql, "kai", "s3:GetObject", f"{CLASSIFIED}/q4.pdf")
    assert answer["decision"] == "EXPLICIT_DENY"
    # On a deny only the denying statements count as matched, as in AWS's simulator.
    assert [m["path"] for m in answer["matchedStatements"]] == [
        "user/kai -> group/DevOps -> policy/DevOpsDeploy -> Statement[1] (Sid NeverClassified)"
    ]
    assert answer["matchedStatements"][0]["effect"] == "DENY"
    # Without the group, the user's own inline policy allows it.
    mutate(gql, 'mutation { removeUserFromGroup(user: "kai", group: "DevOps") { ... on MembershipPayload { worldVersion } ... on UserError { message } } }')
    again = can(gql, "kai", "s3:GetObject", f"{CLASSIFIED}/q4.pdf")
    assert again["decision"] == "ALLOWED"
    assert again["matchedStatements"][0]["path"] == "user/kai -> inline-policy/kai/Peek -> Statement[0] (Sid PeekClassified)"
