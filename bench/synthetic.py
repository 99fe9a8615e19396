"""A synthetic organization in the native world format, for benchmarks (deterministic by seed)."""

from __future__ import annotations

import random
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
