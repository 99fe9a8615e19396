"""A small multi-account organization for the cluster tests (the 1,000-account one of
bench/synthetic.py is for benchmarks): every account has the same four roles (so labels such as
role/Admin repeat across accounts), users in the management account reach them by assuming
roles, a bucket policy grants one member account, SCPs deny on one OU. Deterministic."""

from __future__ import annotations

from typing import Any

MANAGEMENT = "100000000000"
TOOLING = "100000000001"
GRANTED = "100000000003"  # the member account the org-logs bucket policy names


def account(i: int) -> str:
    return f"1000000000{i:02d}"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


def _policy(name: str, acct: str, *statements: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "account": acct, "path": "/", "defaultVersionId": "v1", "versions": [{"versionId": "v1", "createDate": "2026-01-01T00:00:00Z", "document": _doc(*statements)}]}


def small_organization(accounts: int = 12, users: int = 10) -> dict[str, Any]:
    ids = [account(i) for i in range(accounts)]
    policies = [
        _policy("AdministratorAccess", "aws", {"Effect": "Allow", "Action": "*", "Resource": "*"}),
        _policy("ReadOnly", "aws", {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}),
        _policy("AssumeAdmin", MANAGEMENT, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Admin"}),
        _policy("AssumeReadOnly", MANAGEMENT, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/ReadOnly"}),
    ]
    roles = []
    for acct in ids:
        roles += [
            {"name": "Admin", "account": acct, "path": "/", "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}),
             "attachedPolicies": ["arn:aws:iam::aws:policy/AdministratorAccess"], "inlinePolicies": []},
            {"name": "ReadOnly", "account": acct, "path": "/", "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{MANAGEMENT}:root"}),
             "attachedPolicies": ["arn:aws:iam::aws:policy/ReadOnly"], "inlinePolicies": []},
            {"name": "Deployer", "account": acct, "path": "/", "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{TOOLING}:role/Deployer"}),
             "attachedPolicies": [], "inlinePolicies": [{"name": "Deploy", "document": _doc(
                 {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::org-artifacts/*"},
                 {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Deployer"})}]},
            {"name": "Auditor", "account": acct, "path": "/", "assumeRolePolicyDocument": _trust({"Service": "lambda.amazonaws.com"}),
             "attachedPolicies": [], "inlinePolicies": [{"name": "ReadLogs", "document": _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::org-logs/*"})}]},
        ]
    groups = [
        {"name": "Admins", "account": MANAGEMENT, "path": "/", "attachedPolicies": [f"arn:aws:iam::{MANAGEMENT}:policy/AssumeAdmin"], "inlinePolicies": []},
        {"name": "Readers", "account": MANAGEMENT, "path": "/", "attachedPolicies": [f"arn:aws:iam::{MANAGEMENT}:policy/AssumeReadOnly"], "inlinePolicies": []},
    ]
    people = [
        {"name": "alice", "account": MANAGEMENT, "path": "/", "tags": {}, "groups": ["Admins"], "attachedPolicies": [], "inlinePolicies": []},
        {"name": "carol", "account": MANAGEMENT, "path": "/", "tags": {}, "groups": [], "attachedPolicies": [],
         "inlinePolicies": [{"name": "Logs", "document": _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::org-logs/*"})}]},
    ]
    people += [{"name": f"user{n:02d}", "account": MANAGEMENT, "path": "/", "tags": {}, "groups": ["Readers"], "attachedPolicies": [], "inlinePolicies": []} for n in range(users)]
    resources = [
        {"arn": "arn:aws:s3:::org-logs", "type": "s3:bucket", "account": MANAGEMENT, "policy": _doc(
            {"Sid": "GrantedAccountReads", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{GRANTED}:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::org-logs/*"},
            {"Sid": "LogDelivery", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::org-logs/*"},
            {"Sid": "NobodyDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::org-logs/*"})},
        {"arn": "arn:aws:s3:::org-artifacts", "type": "s3:bucket", "account": TOOLING},
    ]
    prod = [a for i, a in enumerate(ids) if i % 2 == 1]
    full = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    organization = {
        "managementAccount": MANAGEMENT, "rootId": "r-root",
        "organizationalUnits": [{"id": "ou-root-prod0001", "name": "Prod", "parent": "r-root"}, {"id": "ou-root-devs0001", "name": "Dev", "parent": "r-root"}],
        "accounts": [{"id": a, "parent": "ou-root-prod0001" if a in prod else "ou-root-devs0001"} for a in ids if a != MANAGEMENT] + [{"id": MANAGEMENT, "parent": "r-root"}],
        "policies": [
            {"name": "FullAWSAccess", "type": "scp", "document": full, "targets": ["r-root", "ou-root-prod0001", "ou-root-devs0001", *ids]},
            {"name": "ProdKeepsItsData", "type": "scp", "document": _doc({"Effect": "Deny", "Action": ["s3:DeleteObject", "s3:PutObject"], "Resource": "*"}), "targets": ["ou-root-prod0001"]},
        ],
    }
    return {
        "format": "graphsim-world", "formatVersion": 1, "name": "org", "description": "a small organization for the cluster tests",
        "accounts": [{"id": a, "alias": f"acct-{a[-2:]}"} for a in ids],
        "policies": policies, "groups": groups, "users": people, "roles": roles, "resources": resources, "organization": organization,
    }
