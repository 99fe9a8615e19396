"""Importers: the Northwind Freight sample exports (tests/data) through graphsim.

Each access question's expected decision is derived from AWS's documented evaluation rules,
cited next to it; the importer only has to get the world right for the engine to agree.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from graphsim.engine import ContextEntry, Engine
from graphsim.errors import GraphsimError
from graphsim.imports import (
    BUILTIN_AWS_MANAGED,
    ImportFileError,
    detect_format,
    import_sources,
    load_source_file,
)
from graphsim.world import NodeKind
from graphsim.world.io import world_from_dict, world_to_dict

DATA = Path(__file__).parent / "data"
PROD, ANALYTICS, MGMT = "123456789012", "210987654321", "345678901234"
PROD_AUTH = DATA / PROD / "authorization-details.json"
ANALYTICS_AUTH = DATA / ANALYTICS / "authorization-details.json"
SAMPLE = [
    PROD_AUTH,
    ANALYTICS_AUTH,
    DATA / PROD / "northwind-invoices.bucket-policy.json",
    DATA / PROD / "bucket-policy-northwind-shared-artifacts.json",
    DATA / "northwind-org",
    DATA / "northwind-queues.yaml",
]

# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
EVAL = "reference_policies_evaluation-logic"
INVOICE = "arn:aws:s3:::northwind-invoices/2024/inv-1.pdf"
ARTIFACT = "arn:aws:s3:::northwind-shared-artifacts/releases/app.zip"


def ctx(**overrides: str) -> list[ContextEntry]:
    """A request from eu-west-1 over HTTPS, as every real request carries aws:RequestedRegion and
    aws:SecureTransport; keyword arguments (``aws_SecureTransport="false"``) override or add keys."""
    values = {"aws:RequestedRegion": "eu-west-1", "aws:SecureTransport": "true"}
    values.update({k.replace("_", ":", 1): v for k, v in overrides.items()})
    types = {"aws:SecureTransport": "boolean", "aws:MultiFactorAuthPresent": "boolean"}
    return [ContextEntry(k, (v,), types.get(k, "string")) for k, v in values.items()]


def load_all(paths: list[Path] = SAMPLE) -> list[tuple[str, object]]:
    return [load_source_file(p) for p in paths]


@pytest.fixture(scope="module")
def imported() -> Any:
    return import_sources(load_all())


@pytest.fixture(scope="module")
def engine(imported: Any) -> Engine:
    return Engine(world_from_dict(imported.world, source="northwind"))


# ---- the sample imports whole ---------------------------------------------------------------------------


def test_sample_imports_into_one_multi_account_world(imported: Any) -> None:
    world = imported.world
    assert world["format"] == "graphsim-world" and world["formatVersion"] == 1
    assert imported.errors == []
    assert {a["id"]: a.get("alias") for a in world["accounts"]} == {
        PROD: "northwind-prod", ANALYTICS: "northwind-analytics", MGMT: "northwind-management"}
    assert len(world["users"]) == 20 and len(world["groups"]) == 10 and len(world["roles"]) == 15
    # 21 + 3 customer-managed, and the AWS-managed ones once although both exports carry some.
    assert len(world["policies"]) == 30
    aws_managed = sorted(p["name"] for p in world["policies"] if p["account"] == "aws")
    assert aws_managed == ["AWSLambdaBasicExecutionRole", "AdministratorAccess", "AmazonS3ReadOnlyAccess",
                           "AmazonSSMManagedInstanceCore", "PowerUserAccess", "ReadOnlyAccess"]
    lambda_basic = next(p for p in world["policies"] if p["name"] == "AWSLambdaBasicExecutionRole")
    assert lambda_basic["path"] == "/service-role/"

    users = {u["name"]: u for u in world["users"]}
    carol = users["carol.dev"]
    assert carol["account"] == PROD and carol["groups"] == ["Developers"] and carol["tags"] == {"Team": "shipping"}
    assert carol["permissionsBoundary"] == f"arn:aws:iam::{PROD}:policy/boundaries/NorthwindDeveloperBoundary"
    assert carol["id"].startswith("AIDA")
    assert users["trent.contractor"]["path"] == "/external/"
    assert [p["name"] for p in users["ci-bot"]["inlinePolicies"]] == ["ReadReleaseBucket"]

    ops = next(p for p in world["policies"] if p["name"] == "NorthwindOpsEC2")
    assert [v["versionId"] for v in ops["versions"]] == ["v1", "v2"] and ops["defaultVersionId"] == "v1"

    buckets = {r["arn"]: r for r in world["resources"]}
    assert buckets["arn:aws:s3:::northwind-invoices"]["account"] == PROD
    assert buckets["arn:aws:s3:::northwind-invoices"]["policy"]["Id"] == "NorthwindInvoicesPolicy"
    assert "arn:aws:sqs:eu-west-1:123456789012:finance-notifications" in buckets  # from the YAML world

    org = world["organization"]
    assert org["managementAccount"] == MGMT and org["rootId"] == "r-n7w3"
    assert {o["name"]: o["parent"] for o in org["organizationalUnits"]} == {"Production": "r-n7w3", "Analytics": "r-n7w3"}
    assert {a["id"]: a["parent"] for a in org["accounts"]} == {MGMT: "r-n7w3", PROD: "ou-n7w3-prod4821", ANALYTICS: "ou-n7w3-anly7305"}
    policies = {p["name"]: p for p in org["policies"]}
    assert policies["FullAWSAccess"]["type"] == "scp" and len(policies["FullAWSAccess"]["targets"]) == 6
    assert policies["RCPFullAWSAccess"]["type"] == "rcp"  # known to graphsim: no describe-policy file
    assert policies["DenyOutsideApprovedRegions"]["targets"] == ["r-n7w3"]
    assert policies["ProtectSecurityTooling"]["targets"] == ["ou-n7w3-prod4821"]
    assert policies["EnforceSecureTransport"] == {**policies["EnforceSecureTransport"], "type": "rcp", "targets": ["r-n7w3"]}


# ---- real questions -------------------------------------------------------------------------------------

QUESTIONS: list[tuple[str, str, str, dict[str, str], str, str | None]] = [
    # Groups: a user's permissions include those of its groups (Admins -> AdministratorAccess).
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_groups.html
    ("alice.admin", "s3:GetObject", ARTIFACT, {}, "ALLOWED", None),
    # SCPs: an explicit Deny in an SCP at any level (the root here) denies, whatever IAM allows.
    # D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
    ("alice.admin", "ec2:RunInstances", "arn:aws:ec2:us-west-2:123456789012:instance/i-0123456789abcdef0", {"aws_RequestedRegion": "us-west-2"}, "EXPLICIT_DENY", "scp"),
    # ... and one attached to the account's OU (Production).
    ("alice.admin", "cloudtrail:StopLogging", "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail", {}, "EXPLICIT_DENY", "scp"),
    # Bucket policy: its explicit Deny (only the archiver deletes) beats AdministratorAccess.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    ("alice.admin", "s3:DeleteObject", INVOICE, {}, "EXPLICIT_DENY", "resource"),
    ("invoice-archiver", "s3:DeleteObject", INVOICE, {}, "ALLOWED", None),
    # The same group, with and without a permissions boundary: the boundary's Deny on iam:* denies
    # carol what bob may do. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    ("bob.dev", "iam:PassRole", "arn:aws:iam::123456789012:role/service/invoice-processor", {"iam_PassedToService": "lambda.amazonaws.com"}, "ALLOWED", None),
    ("carol.dev", "iam:PassRole", "arn:aws:iam::123456789012:role/service/invoice-processor", {"iam_PassedToService": "lambda.amazonaws.com"}, "EXPLICIT_DENY", "boundary"),
    ("carol.dev", "lambda:UpdateFunctionCode", "arn:aws:lambda:eu-west-1:123456789012:function:shipment-tracker", {}, "ALLOWED", None),
    # A boundary allowing only the artifacts bucket: the group's AmazonS3ReadOnlyAccess is capped.
    ("trent.contractor", "s3:GetObject", INVOICE, {"aws_MultiFactorAuthPresent": "true"}, "IMPLICIT_DENY", "boundary"),
    # Without MFA, the Contractors' BoolIfExists Deny matches (the key is absent).
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_my-sec-creds-self-manage.html
    ("trent.contractor", "s3:GetObject", ARTIFACT, {}, "EXPLICIT_DENY", "identity"),
    ("trent.contractor", "s3:GetObject", ARTIFACT, {"aws_MultiFactorAuthPresent": "true"}, "ALLOWED", None),
    # Same account: the identity policy alone allows; nothing allows Support.
    ("grace.finance", "s3:GetObject", INVOICE, {}, "ALLOWED", None),
    ("ivan.support", "s3:GetObject", INVOICE, {}, "IMPLICIT_DENY", "identity"),
    # RCP EnforceSecureTransport (root) denies plain-HTTP requests to member-account resources.
    # D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
    ("alice.admin", "s3:GetObject", ARTIFACT, {"aws_SecureTransport": "false"}, "EXPLICIT_DENY", "rcp"),
    # Cross-account: both the bucket policy (names the analytics account) and the caller's own
    # policies must allow. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
    ("wendy.analyst", "s3:GetObject", ARTIFACT, {}, "ALLOWED", None),
    ("yolanda.lead", "s3:GetObject", INVOICE, {}, "IMPLICIT_DENY", "resource"),
    ("ShipmentsReporter", "s3:GetObject", "arn:aws:s3:::northwind-invoices/summaries/2024-q3.csv", {}, "ALLOWED", None),
    # Trust policies: the role's trust policy must name the caller (across accounts, the caller's
    # policy must allow sts:AssumeRole too). D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_manage-assume.html
    ("ShipmentsReporter", "sts:AssumeRole", "arn:aws:iam::123456789012:role/northwind-analytics-reader", {}, "ALLOWED", None),
    ("wendy.analyst", "sts:AssumeRole", "arn:aws:iam::123456789012:role/northwind-analytics-reader", {}, "IMPLICIT_DENY", "resource"),
    # A trust policy naming the account delegates to the caller's IAM policies.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    ("mallory.audit", "sts:AssumeRole", "arn:aws:iam::123456789012:role/audit-readonly", {}, "ALLOWED", None),
    ("frank.data", "sts:AssumeRole", "arn:aws:iam::123456789012:role/audit-readonly", {}, "IMPLICIT_DENY", "identity"),
    # A policy's explicit Deny beats the same policy's Allow (NeverDropShipments).
    ("bob.dev", "dynamodb:DeleteTable", "arn:aws:dynamodb:eu-west-1:123456789012:table/Shipments", {}, "EXPLICIT_DENY", "identity"),
    # Policy variables: ${aws:username} limits self-service to one's own user.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    ("bob.dev", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/bob.dev", {}, "ALLOWED", None),
    ("bob.dev", "iam:CreateAccessKey", "arn:aws:iam::123456789012:user/alice.admin", {}, "IMPLICIT_DENY", "identity"),
    # The SAML role's ReadOnlyAccess reads but does not change.
    ("SAML-ReadOnly", "ec2:DescribeInstances", "*", {}, "ALLOWED", None),
    ("SAML-ReadOnly", "ec2:TerminateInstances", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0", {}, "IMPLICIT_DENY", "identity"),
    # PowerUserAccess: everything but IAM (its NotAction), in the analytics account.
    ("yolanda.lead", "ec2:RunInstances", "arn:aws:ec2:eu-west-1:210987654321:instance/i-0123456789abcdef0", {}, "ALLOWED", None),
    ("yolanda.lead", "iam:CreateUser", "arn:aws:iam::210987654321:user/new-hire", {}, "IMPLICIT_DENY", "identity"),
    # Same account, a queue policy (the YAML world) naming the role grants it; the role's
    # boundary allows sqs:*. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    ("shipment-tracker", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:finance-notifications", {}, "ALLOWED", None),
    ("ivan.support", "sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:finance-notifications", {}, "IMPLICIT_DENY", "identity"),
]


def _ask(engine: Engine, principal: str, action: str, resource: str, extra: dict[str, str]) -> tuple[str, str | None]:
    d = engine.can(principal, action, resource, ctx(**extra))
    return d.decision.value, None if d.blocked_by is None else d.blocked_by.value


@pytest.mark.parametrize(("principal", "action", "resource", "extra", "expected", "blocked_by"), QUESTIONS,
                         ids=[f"{q[0]}-{q[1]}-{i}" for i, q in enumerate(QUESTIONS)])
def test_questions(engine: Engine, principal: str, action: str, resource: str, extra: dict[str, str], expected: str, blocked_by: str | None) -> None:
    assert _ask(engine, principal, action, resource, extra) == (expected, blocked_by)


def test_decisions_name_the_imported_statements(engine: Engine) -> None:
    d = engine.can("alice.admin", "s3:DeleteObject", INVOICE, ctx())
    assert [(m.policy, m.sid) for m in d.matched_statements] == [("northwind-invoices resource policy", "OnlyArchiverDeletes")]
    d = engine.can("alice.admin", "cloudtrail:StopLogging", "arn:aws:cloudtrail:eu-west-1:123456789012:trail/org-trail", ctx())
    assert [(m.policy, m.sid) for m in d.matched_statements] == [("ProtectSecurityTooling", "ProtectCloudTrail")]


def test_the_organization_places_every_account(engine: Engine) -> None:
    # The management account has no IAM export: it comes from the organizations folder alone.
    world = engine.world
    assert world.management_account == MGMT and world.accounts() == [PROD, ANALYTICS, MGMT]
    assert world.org_chain(PROD) == ["org-root/r-n7w3", "ou/ou-n7w3-prod4821", f"arn:aws:iam::{PROD}:root"]
    assert world.org_chain(MGMT) == ["org-root/r-n7w3", f"arn:aws:iam::{MGMT}:root"]


def test_export_and_rebuild_gives_the_same_decisions(imported: Any, engine: Engine) -> None:
    exported = world_to_dict(engine.world)
    rebuilt = Engine(world_from_dict(json.loads(json.dumps(exported)), source="exported"))
    for principal, action, resource, extra, _, _ in QUESTIONS:
        assert _ask(rebuilt, principal, action, resource, extra) == _ask(engine, principal, action, resource, extra)


# ---- forms and merges ---------------------------------------------------------------------------------------


def _url_encode_documents(export: dict[str, Any]) -> dict[str, Any]:
    """The raw API's form: every policy document is URL-encoded JSON text (RFC 3986)."""
    raw = copy.deepcopy(export)

    def enc(doc: Any) -> str:
        return quote(json.dumps(doc), safe="")

    for key, inline in (("UserDetailList", "UserPolicyList"), ("GroupDetailList", "GroupPolicyList"), ("RoleDetailList", "RolePolicyList")):
        for ent in raw[key]:
            for pol in ent.get(inline, []):
                pol["PolicyDocument"] = enc(pol["PolicyDocument"])
            if "AssumeRolePolicyDocument" in ent:
                ent["AssumeRolePolicyDocument"] = enc(ent["AssumeRolePolicyDocument"])
    for pol in raw["Policies"]:
        for ver in pol["PolicyVersionList"]:
            ver["Document"] = enc(ver["Document"])
    return raw


def test_raw_api_url_encoded_documents_import_the_same() -> None:
    source, cli_form = load_source_file(PROD_AUTH)
    raw = _url_encode_documents(cli_form)  # type: ignore[arg-type]
    assert raw["Policies"][0]["PolicyVersionList"][0]["Document"].startswith("%7B%22Version%22")
    assert import_sources([("raw-api.json", raw)]).world["users"] == import_sources([(source, cli_form)]).world["users"]
    assert import_sources([("raw-api.json", raw)]).world["policies"] == import_sources([(source, cli_form)]).world["policies"]
    assert import_sources([("raw-api.json", raw)]).world["roles"] == import_sources([(source, cli_form)]).world["roles"]


def test_yaml_native_world_is_merged_and_its_dates_stay_strings(tmp_path: Path) -> None:
    source, data = load_source_file(DATA / "northwind-queues.yaml")
    assert data["resources"][0]["policy"]["Version"] == "2012-10-17"  # type: ignore[index]
    extra = tmp_path / "extra.yml"
    extra.write_text(
        "format: graphsim-world\nformatVersion: 1\naccounts: [{id: '123456789012'}]\n"
        "policies:\n  - name: Tagged\n    versions:\n      - versionId: v1\n        createDate: 2026-01-02T03:04:05Z\n"
        "        document: {Version: 2012-10-17, Statement: [{Effect: Allow, Action: 's3:ListAllMyBuckets', Resource: '*'}]}\n"
        "users:\n  - {name: yaml.user, attachedPolicies: [Tagged]}\n",
        encoding="utf-8",
    )
    result = import_sources([load_source_file(PROD_AUTH), (source, data), load_source_file(extra)])
    tagged = next(p for p in result.world["policies"] if p["name"] == "Tagged")
    assert tagged["account"] == PROD and tagged["versions"][0]["createDate"] == "2026-01-02T03:04:05Z"
    engine = Engine(world_from_dict(result.world))
    assert engine.can("yaml.user", "s3:ListAllMyBuckets", "*").decision.value == "ALLOWED"


def test_a_yaml_file_alone_keeps_its_name() -> None:
    result = import_sources([load_source_file(DATA / "northwind-queues.yaml")])
    assert result.world["name"] == "northwind-queues"
    assert result.world["description"] == "SQS queues of northwind-prod with their queue policies"


def test_two_accounts_merge_and_share_aws_managed_policies() -> None:
    result = import_sources(load_all([PROD_AUTH, ANALYTICS_AUTH]))
    world = result.world
    assert [a["id"] for a in world["accounts"]] == [PROD, ANALYTICS]
    assert sum(1 for p in world["policies"] if p["name"] == "AdministratorAccess") == 1
    # Same user name in two accounts is fine; both groups named by their account.
    assert {u["account"] for u in world["users"]} == {PROD, ANALYTICS}
    built = world_from_dict(world)
    assert len(list(built.nodes_of(NodeKind.USER))) == 20


def test_aws_managed_policy_exported_at_different_versions_keeps_both(tmp_path: Path) -> None:
    _, prod = load_source_file(PROD_AUTH)
    _, analytics = load_source_file(ANALYTICS_AUTH)
    newer = copy.deepcopy(analytics)
    s3ro = next(p for p in newer["Policies"] if p["PolicyName"] == "AmazonS3ReadOnlyAccess")  # type: ignore[index]
    s3ro["DefaultVersionId"] = "v4"
    s3ro["PolicyVersionList"] = [{"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]},
                                  "VersionId": "v4", "IsDefaultVersion": True, "CreateDate": "2027-01-01T00:00:00+00:00"}]
    result = import_sources([("prod.json", prod), ("analytics.json", newer)])
    merged = next(p for p in result.world["policies"] if p["name"] == "AmazonS3ReadOnlyAccess")
    assert [v["versionId"] for v in merged["versions"]] == ["v3", "v4"] and merged["defaultVersionId"] == "v4"
    assert any(f.source == "analytics.json" and "using the newer, v4" in f.message for f in result.findings)
    world_from_dict(result.world)


def test_bucket_owner_from_the_only_account_or_an_explicit_key() -> None:
    _, prod = load_source_file(PROD_AUTH)
    policy = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{PROD}:user/ivan.support"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::northwind-tickets/*"}]})}
    result = import_sources([("prod.json", prod), ("exports/northwind-tickets.bucket-policy.json", policy)])
    bucket = next(r for r in result.world["resources"] if r["arn"] == "arn:aws:s3:::northwind-tickets")
    assert bucket["account"] == PROD and bucket["type"] == "s3:bucket"
    engine = Engine(world_from_dict(result.world))
    # Same account: a bucket policy naming the user allows without any identity policy.
    assert engine.can("ivan.support", "s3:GetObject", "arn:aws:s3:::northwind-tickets/t-1.json").decision.value == "ALLOWED"

    explicit = import_sources([load_source_file(PROD_AUTH), load_source_file(ANALYTICS_AUTH),
                               ("policy.json", {**policy, "Bucket": "northwind-tickets", "ExpectedBucketOwner": ANALYTICS})])
    assert next(r for r in explicit.world["resources"])["account"] == ANALYTICS


def test_formats_are_detected_from_content() -> None:
    assert detect_format("a.json", {"UserDetailList": []}).name == "iam-authorization-details"  # type: ignore[union-attr]
    assert detect_format("x.bucket-policy.json", {"Policy": "{}"}).name == "s3-bucket-policy"  # type: ignore[union-attr]
    assert detect_format("org", {"describe-organization.json": {}}).name == "organizations"  # type: ignore[union-attr]
    assert detect_format("w.yaml", {"format": "graphsim-world", "formatVersion": 1}).name == "graphsim-world"  # type: ignore[union-attr]
    assert detect_format("list.json", [1, 2]) is None


def test_builtin_aws_managed_policy_fills_in_with_a_finding() -> None:
    export = {"UserDetailList": [{"Path": "/", "UserName": "iam.admin", "UserId": "AIDAEXAMPLEEXAMPLE01", "Arn": f"arn:aws:iam::{PROD}:user/iam.admin",
                                  "GroupList": [], "AttachedManagedPolicies": [{"PolicyName": "IAMFullAccess", "PolicyArn": "arn:aws:iam::aws:policy/IAMFullAccess"}]}],
              "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
    result = import_sources([("auth.json", export)])
    assert [(f.source, f.path, f.severity) for f in result.findings] == [("auth.json", "UserDetailList[0].AttachedManagedPolicies[0].PolicyArn", "info")]
    policy = next(p for p in result.world["policies"] if p["name"] == "IAMFullAccess")
    assert policy["versions"][0]["document"] == BUILTIN_AWS_MANAGED["IAMFullAccess"]["document"]
    engine = Engine(world_from_dict(result.world))
    assert engine.can("iam.admin", "iam:CreateUser", f"arn:aws:iam::{PROD}:user/x").decision.value == "ALLOWED"


def test_parser_warnings_become_findings_and_truncated_pages_are_flagged() -> None:
    export = {"UserDetailList": [{"Path": "/", "UserName": "u", "Arn": f"arn:aws:iam::{PROD}:user/u", "GroupList": [], "AttachedManagedPolicies": [],
                                  "UserPolicyList": [{"PolicyName": "Typo", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                                      {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "*"}]}}]}],
              "IsTruncated": True, "Marker": "AAEAAQ=="}
    result = import_sources([("page1.json", export)])
    assert {(f.path, f.severity) for f in result.findings} == {("IsTruncated", "warning"), ("UserDetailList[0].UserPolicyList[0].PolicyDocument.Statement[0].Action", "warning")}
    assert "s3:GetObject" in next(f.message for f in result.findings if f.path.endswith("Action"))
    world_from_dict(result.world)  # warnings do not keep the world from loading


def test_a_document_aws_accepted_with_stray_whitespace_is_kept_and_reported() -> None:
    # SecurityAudit v5 and ReadOnlyAccess v61 (AWS-managed, real) have an action with a trailing
    # space, which AWS accepted: graphsim reads it without the space and reports a warning.
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["lambda:ListFunctions "], "Resource": "*"}]}
    export = {"Policies": [{"PolicyName": "Legacy", "PolicyId": "ANPAEXAMPLEEXAMPLE01", "Arn": f"arn:aws:iam::{PROD}:policy/Legacy", "Path": "/",
                            "DefaultVersionId": "v2", "PolicyVersionList": [
                                {"Document": doc, "VersionId": "v1", "IsDefaultVersion": False},
                                {"Document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:ListFunctions", "Resource": "*"}]},
                                 "VersionId": "v2", "IsDefaultVersion": True}]}]}
    result = import_sources([("auth.json", export)])
    assert result.errors == []
    assert [(f.path, f.severity) for f in result.findings] == [("Policies[0].PolicyVersionList[0].Document.Statement[0].Action[0]", "warning")]
    legacy = result.world["policies"][0]
    assert legacy["versions"][0]["document"] == doc  # not altered, not dropped
    world_from_dict(result.world)


# ---- bad input: every error names the file and the JSON path ---------------------------------------------


def _error(sources: list[tuple[str, object]]) -> ImportFileError:
    with pytest.raises(ImportFileError) as info:
        import_sources(sources)
    return info.value


def test_truncated_file(tmp_path: Path) -> None:
    text = PROD_AUTH.read_text(encoding="utf-8")
    truncated = tmp_path / "auth.json"
    truncated.write_text(text[: len(text) // 2], encoding="utf-8")
    with pytest.raises(ImportFileError) as info:
        load_source_file(truncated)
    err = info.value
    assert err.source == str(truncated) and err.code == "INVALID_IMPORT" and isinstance(err, GraphsimError)
    assert "not valid JSON" in err.message and "truncated" in err.message and "line " in err.message
    assert err.extensions()["problems"] == [{"source": str(truncated), "path": "", "rule": err.problems[0].rule}]


def test_not_json(tmp_path: Path) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text("UserName: alice\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"notes\.json: not valid JSON: Expecting value at line 1 column 1"):
        load_source_file(notes)
    binary = tmp_path / "export.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ImportFileError, match="not a text file"):
        load_source_file(binary)
    bad_yaml = tmp_path / "world.yaml"
    bad_yaml.write_text("format: [graphsim-world\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"world\.yaml: not valid YAML: .* at line \d+ column \d+"):
        load_source_file(bad_yaml)
    err = _error([("list.json", [1, 2, 3])])
    assert err.source == "list.json" and "not a recognised export" in err.message
    err = _error([("text.json", "just text")])
    assert "text.json: not valid JSON" in err.message


def test_policy_arn_that_no_file_provides() -> None:
    _, data = load_source_file(PROD_AUTH)
    broken = copy.deepcopy(data)
    broken["Policies"] = [p for p in broken["Policies"] if p["PolicyName"] != "NorthwindFinanceInvoices"]  # type: ignore[index]
    err = _error([("auth.json", broken)])
    assert err.source == "auth.json"
    assert [str(p) for p in err.problems] == [
        f"GroupDetailList[3].AttachedManagedPolicies[0].PolicyArn: no policy arn:aws:iam::{PROD}:policy/northwind/NorthwindFinanceInvoices in the imported files"]
    assert err.message.startswith("auth.json: GroupDetailList[3].AttachedManagedPolicies[0].PolicyArn: no policy")


def test_aws_managed_policy_the_export_lacks() -> None:
    _, data = load_source_file(PROD_AUTH)
    broken = copy.deepcopy(data)
    broken["Policies"] = [p for p in broken["Policies"] if p["PolicyName"] != "ReadOnlyAccess"]  # type: ignore[index]
    err = _error([("auth.json", broken)])
    paths = [p.path for p in err.problems]
    assert paths == ["GroupDetailList[1].AttachedManagedPolicies[1].PolicyArn", "RoleDetailList[6].AttachedManagedPolicies[0].PolicyArn",
                     "RoleDetailList[10].AttachedManagedPolicies[0].PolicyArn"]
    assert "no policy arn:aws:iam::aws:policy/ReadOnlyAccess in the imported files; graphsim ships only" in err.problems[0].rule


def test_duplicate_names() -> None:
    _, data = load_source_file(PROD_AUTH)
    dup = copy.deepcopy(data)
    twin = copy.deepcopy(dup["UserDetailList"][1])  # type: ignore[index]
    twin["UserName"] = "Bob.Dev"  # IAM names are unique regardless of case
    twin["Arn"] = f"arn:aws:iam::{PROD}:user/Bob.Dev"
    dup["UserDetailList"].append(twin)  # type: ignore[index]
    err = _error([("auth.json", dup)])
    assert [str(p) for p in err.problems] == [f"UserDetailList[16].UserName: duplicate user name 'Bob.Dev' in account {PROD} (also at auth.json UserDetailList[1])"]

    # The same export imported twice: every entity of the second copy is a duplicate.
    err = _error([("a.json", data), ("b.json", data)])
    assert err.source == "b.json" and err.problems[0].path == "Policies[0]" and "duplicate policy" in err.problems[0].rule
    assert any(p.path == "UserDetailList[0].UserName" and "also at a.json UserDetailList[0]" in p.rule for p in err.problems)

    inline = copy.deepcopy(data)
    user = inline["UserDetailList"][7]  # type: ignore[index]
    user["UserPolicyList"].append(copy.deepcopy(user["UserPolicyList"][0]))
    assert [str(p) for p in _error([("auth.json", inline)]).problems] == [
        "UserDetailList[7].UserPolicyList[1].PolicyName: duplicate inline policy 'ApproveRefunds' on user heidi.finance"]


def test_malformed_entries_are_named_by_path() -> None:
    _, data = load_source_file(PROD_AUTH)
    bad = copy.deepcopy(data)
    del bad["UserDetailList"][3]["UserName"]  # type: ignore[index]
    bad["UserDetailList"][4]["GroupList"] = ["Ghosts"]  # type: ignore[index]
    bad["RoleDetailList"][0]["Arn"] = f"arn:aws:iam::{PROD}:role/service/other"  # type: ignore[index]
    bad["RoleDetailList"][1]["RolePolicyList"] = [{"PolicyName": "X", "PolicyDocument": "%7Bnot json"}]  # type: ignore[index]
    bad["GroupDetailList"][0]["Arn"] = f"arn:aws:iam::{ANALYTICS}:group/Admins"  # type: ignore[index]
    bad["Policies"][0]["DefaultVersionId"] = "v9"  # type: ignore[index]
    problems = {str(p) for p in _error([("auth.json", bad)]).problems}
    assert problems == {
        "UserDetailList[3].UserName: is required",
        f"UserDetailList[4].GroupList[0]: no group 'Ghosts' in account {PROD} in the imported files",
        "RoleDetailList[0].Arn: ARN names 'other', but the entry is 'app-server'",
        "RoleDetailList[1].RolePolicyList[0].PolicyDocument: not a policy document: expected a JSON object or (URL-encoded) JSON text, got '%7Bnot json'",
        f"GroupDetailList[0].Arn: account {ANALYTICS}, but this export is of account {PROD} (Policies[0].Arn): one file per account",
        "Policies[0].DefaultVersionId: 'v9' is not among the versions in PolicyVersionList",
    }


def test_bucket_policy_errors() -> None:
    auth = load_all([PROD_AUTH, ANALYTICS_AUTH])
    policy = {"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})}
    err = _error([*auth, ("northwind-logs.bucket-policy.json", policy)])
    assert err.source == "northwind-logs.bucket-policy.json" and "cannot tell which account owns bucket northwind-logs" in err.message
    err = _error([*auth, ("policy.json", policy)])
    assert "cannot tell the bucket" in err.message
    err = _error([*auth, (f"{PROD}/Bad_Bucket.bucket-policy.json", policy)])
    assert "'Bad_Bucket' is not a valid S3 bucket name" in err.message
    err = _error([*auth, (f"{PROD}/northwind-tmp.bucket-policy.json", {"Policy": '{"Version": "2012-10-17", "Statement": ['})])
    assert str(err.problems[0]).startswith("Policy: not a policy document")


def test_organizations_folder_errors(tmp_path: Path) -> None:
    source, files = load_source_file(DATA / "northwind-org")
    assert isinstance(files, dict)
    no_describe = {k: v for k, v in files.items() if k != "describe-policy-p-5ds8kd7zqv.json"}
    err = _error([(source, no_describe)])
    assert err.source == f"{source}/list-policies-for-target-r-n7w3-SERVICE_CONTROL_POLICY.json"
    assert str(err.problems[0]) == "Policies[1].Id: no describe-policy-p-5ds8kd7zqv.json in the folder (aws organizations describe-policy --policy-id p-5ds8kd7zqv)"

    no_roots = {k: v for k, v in files.items() if k != "list-roots.json"}
    assert "list-roots.json is missing from the folder" in _error([(source, no_roots)]).message

    orphan = {**files, "list-accounts-for-parent-ou-n7w3-gone0000.json": {"Accounts": []}}
    err = _error([(source, orphan)])
    assert err.source.endswith("list-accounts-for-parent-ou-n7w3-gone0000.json") and "not the root or an OU reachable" in err.message

    bad_content = copy.deepcopy(files)
    bad_content["describe-policy-p-3kfx9q2wmb.json"]["Policy"]["Content"] = "{ not json"
    err = _error([(source, bad_content)])
    assert err.source.endswith("describe-policy-p-3kfx9q2wmb.json") and err.problems[0].path == "Policy.Content"

    empty = tmp_path / "empty-org"
    empty.mkdir()
    with pytest.raises(ImportFileError, match="no .json files"):
        load_source_file(empty)


def test_several_bad_files_are_all_reported() -> None:
    err = _error([("one.json", [1]), ("two.json", {"UserDetailList": "nope"})])
    assert err.source == "one.json" and [e.source for e in err.others] == ["two.json"]
    assert "two.json: UserDetailList: must be a list, got str" in err.message
    problems = err.extensions()["problems"]
    assert isinstance(problems, list) and {p["source"] for p in problems} == {"one.json", "two.json"}


def test_a_native_world_with_an_invalid_document_is_refused() -> None:
    native = {"format": "graphsim-world", "formatVersion": 1, "accounts": [{"id": PROD}],
              "users": [{"name": "u", "inlinePolicies": [{"name": "Bad", "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}}]}]}
    err = _error([("world.json", native)])
    assert [str(p) for p in err.problems] == ['users[0].inlinePolicies[0].document.Statement[0].Effect: must be "Allow" or "Deny", got "Maybe"']


def test_source_order_does_not_change_the_default_account() -> None:
    # The organization and bucket policies are converted after the IAM exports, whatever their
    # order: the first exported account stays the world's default.
    result = import_sources(load_all([DATA / "northwind-org", DATA / PROD / "northwind-invoices.bucket-policy.json", PROD_AUTH, ANALYTICS_AUTH]))
    assert [a["id"] for a in result.world["accounts"]] == [PROD, ANALYTICS, MGMT]
    assert world_from_dict(result.world).default_account == PROD


def test_an_aws_managed_policy_in_two_exports_is_checked_once() -> None:
    _, prod = load_source_file(PROD_AUTH)
    _, analytics = load_source_file(ANALYTICS_AUTH)
    prod, analytics = copy.deepcopy(prod), copy.deepcopy(analytics)
    for export in (prod, analytics):
        admin = next(p for p in export["Policies"] if p["PolicyName"] == "AdministratorAccess")  # type: ignore[index]
        admin["PolicyVersionList"][0]["Document"]["Statement"].append({"Effect": "Allow", "Action": "newservice:DoThing", "Resource": "*"})
    result = import_sources([("prod.json", prod), ("analytics.json", analytics)])
    assert [(f.source, f.severity) for f in result.findings] == [("prod.json", "warning")]
    assert "unknown service prefix 'newservice'" in result.findings[0].message


# ---- one build per import ---------------------------------------------------------------------------------


def test_an_import_parses_each_distinct_document_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphsim.imports import import_files
    from graphsim.world import graph

    parsed: list[object] = []  # the documents themselves, so that their ids stay unique
    real = graph.parse_policy

    def counting(document: Any, **kwargs: Any) -> Any:
        parsed.append(document)
        return real(document, **kwargs)

    monkeypatch.setattr(graph, "parse_policy", counting)
    graph.DOCUMENTS.clear()  # nothing parsed by an earlier test
    world = import_files(SAMPLE).to_world()
    data = world_to_dict(world)
    texts = [("identity", v["document"]) for p in data["policies"] for v in p["versions"]]
    texts += [("trust", r["assumeRolePolicyDocument"]) for r in data["roles"]]
    texts += [("identity", i["document"]) for s in ("users", "groups", "roles") for e in data[s] for i in e["inlinePolicies"]]
    texts += [("resource", r["policy"]) for r in data["resources"] if "policy" in r]
    texts += [(p["type"], p["document"]) for p in data["organization"]["policies"]]
    distinct = {(kind, json.dumps(doc, sort_keys=True)) for kind, doc in texts}
    # Each distinct document (by kind and content) parsed once, none twice; the sample repeats some.
    assert len(parsed) == len(distinct) < len(texts)
    assert len({id(d) for d in parsed}) == len(parsed)


def test_graphsim_import_rebuilds_no_other_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphsim.cli import EXIT_OK, main
    from graphsim.workspace import Workspace

    db = tmp_path / "g.db"
    assert main(["import", str(PROD_AUTH), "--world", "prod", "--db", str(db)]) == EXIT_OK
    loads: list[str] = []
    real = Workspace._load
    monkeypatch.setattr(Workspace, "_load", lambda self, record: loads.append(record.name) or real(self, record))
    assert main(["import", str(ANALYTICS_AUTH), "--world", "analytics", "--db", str(db)]) == EXIT_OK
    assert loads == []
    assert sorted(Workspace.open(db).worlds) == ["analytics", "final-friday", "prod"]
    assert loads == ["analytics", "final-friday", "prod"]
