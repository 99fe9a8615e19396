"""Import a synthetic `aws iam get-account-authorization-details` export (5,000 users, 2,000
roles, 10,000 policies) into a fresh store with the real CLI, then restart from the store.

Run by hand: .venv/bin/python bench/bench_store.py   (prints seconds and peak memory)
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent / "graphsim"
ACCOUNT = "123456789012"
SERVICES = ["s3", "ec2", "dynamodb", "lambda", "logs", "sqs", "kms", "sns"]


def export(users: int = 5000, roles: int = 2000, policies: int = 10000, groups: int = 300, seed: int = 11) -> dict[str, object]:
    rng = random.Random(seed)
    policy_list = []
    for p in range(policies):
        service = rng.choice(SERVICES)
        statements = [
            {"Sid": f"S{i}", "Effect": "Deny" if rng.random() < 0.05 else "Allow",
             "Action": [f"{service}:{rng.choice(['Get*', 'List*', 'Describe*', 'Put*', '*'])}"],
             "Resource": f"arn:aws:{service}:*:{ACCOUNT}:*" if service != "s3" else f"arn:aws:s3:::bucket-{p % 97}/*"}
            for i in range(rng.randint(1, 4))
        ]
        if p % 3 == 0:
            statements[0]["Condition"] = {"StringEquals": {"aws:PrincipalTag/team": f"team{p % 13}"}}
        doc = {"Version": "2012-10-17", "Statement": statements}
        policy_list.append({
            "PolicyName": f"policy-{p:05d}", "PolicyId": f"ANPA{p:016d}", "Arn": f"arn:aws:iam::{ACCOUNT}:policy/policy-{p:05d}",
            "Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "CreateDate": "2026-01-01T00:00:00Z", "UpdateDate": "2026-01-01T00:00:00Z",
            "PolicyVersionList": [{"Document": doc, "VersionId": "v1", "IsDefaultVersion": True, "CreateDate": "2026-01-01T00:00:00Z"}],
        })

    def attached(k: int) -> list[dict[str, str]]:
        return [{"PolicyName": policy_list[i]["PolicyName"], "PolicyArn": policy_list[i]["Arn"]} for i in rng.sample(range(policies), k)]  # type: ignore[misc]

    group_list = [
        {"Path": "/", "GroupName": f"group-{g:03d}", "GroupId": f"AGPA{g:016d}", "Arn": f"arn:aws:iam::{ACCOUNT}:group/group-{g:03d}",
         "CreateDate": "2026-01-01T00:00:00Z", "GroupPolicyList": [], "AttachedManagedPolicies": attached(rng.randint(2, 6))}
        for g in range(groups)
    ]
    user_list = [
        {"Path": "/", "UserName": f"user-{u:05d}", "UserId": f"AIDA{u:016d}", "Arn": f"arn:aws:iam::{ACCOUNT}:user/user-{u:05d}",
         "CreateDate": "2026-01-01T00:00:00Z", "UserPolicyList": [],
         "GroupList": sorted({f"group-{rng.randrange(groups):03d}" for _ in range(rng.randint(1, 3))}),
         "AttachedManagedPolicies": attached(rng.randint(0, 2)), "Tags": [{"Key": "team", "Value": f"team{u % 13}"}]}
        for u in range(users)
    ]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role_list = [
        {"Path": "/", "RoleName": f"role-{r:05d}", "RoleId": f"AROA{r:016d}", "Arn": f"arn:aws:iam::{ACCOUNT}:role/role-{r:05d}",
         "CreateDate": "2026-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust, "InstanceProfileList": [], "RolePolicyList": [],
         "AttachedManagedPolicies": attached(rng.randint(1, 3)), "Tags": [], "RoleLastUsed": {}}
        for r in range(roles)
    ]
    return {"UserDetailList": user_list, "GroupDetailList": group_list, "RoleDetailList": role_list, "Policies": policy_list}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "auth.json"
        path.write_text(json.dumps(export()))
        db = Path(tmp) / "g.db"
        size = path.stat().st_size / 1e6
        start = time.perf_counter()
        subprocess.run([str(BIN), "import", str(path), "--world", "synthetic", "--db", str(db)], check=True, capture_output=True, text=True)
        imported = time.perf_counter() - start
        peak_import = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        start = time.perf_counter()
        out = subprocess.run([str(BIN), "worlds", "--db", str(db)], check=True, capture_output=True, text=True).stdout
        restarted = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"export of {size:.1f} MB: imported in {imported:.1f} s (peak RSS {peak_import:.0f} MB); "
          f"restart from the store (graphsim worlds: open and rebuild every world) {restarted:.1f} s (peak RSS of either {peak:.0f} MB)")
    print(out.strip())


if __name__ == "__main__":
    main()
