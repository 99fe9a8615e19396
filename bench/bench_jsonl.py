"""End-to-end rate of `graphsim simulate-custom-policy --input-jsonl`: a real process reading
AWS-CLI-shaped requests and writing AWS-shaped responses, parsing included.

Two shapes of request:
- ``--shape shared`` (the default): four identity policies shared by all requests, a third with a
  boundary, a fifth with two SCP levels, one context key;
- ``--shape own``: the shape of a CI pipeline checking policy drafts (issue 11). Every request
  carries its own documents (two identity policies, a boundary, two SCP levels, a bucket policy),
  none repeated as text; their patterns come from a common pool, as real drafts repeat patterns.
  Each request has a dozen context keys and asks two actions against two resources.

Run by hand: .venv/bin/python bench/bench_jsonl.py [--requests 50000] [--shape own] [--jobs 1]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent / "graphsim"
ACCOUNT = "111122223333"


def requests(n: int, seed: int = 3) -> list[dict[str, object]]:
    rng = random.Random(seed)
    teams = ["alpha", "bravo", "charlie", "delta"]
    policies = []
    for team in teams:
        policies.append(json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [f"arn:aws:s3:::{team}-data", f"arn:aws:s3:::{team}-data/*"]},
                {"Sid": "Write", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{team}-data/uploads/*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
                {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
            ],
        }))
    boundary = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    scp = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    out = []
    for i in range(n):
        team = rng.choice(teams)
        request: dict[str, object] = {
            "PolicyInputList": [rng.choice(policies)],
            "ActionNames": [rng.choice(["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"])],
            "ResourceArns": [f"arn:aws:s3:::{rng.choice(teams)}-data/uploads/file-{i % 100}.csv"],
            "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/{team}-user",
            "ContextEntries": [{"ContextKeyName": "aws:SourceIp", "ContextKeyValues": [f"10.0.{i % 250}.1"], "ContextKeyType": "ip"}],
        }
        if i % 3 == 0:
            request["PermissionsBoundaryPolicyInputList"] = [boundary]
        if i % 5 == 0:
            request["ServiceControlPolicyInputList"] = [[scp], [scp]]
        out.append(request)
    return out


# ---- the "own" shape: every request brings its own drafts ---------------------------------------

_TEAMS = [f"team{n:02d}" for n in range(40)]
_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "s3:Get*", "s3:List*", "s3:GetBucket*"]
_WRITE_ACTIONS = ["s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:Put*", "s3:AbortMultipartUpload"]
_OTHER_ACTIONS = ["ec2:Describe*", "cloudwatch:GetMetricData", "logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage",
                  "dynamodb:GetItem", "dynamodb:Query", "kms:Decrypt", "kms:GenerateDataKey*", "sts:GetCallerIdentity"]
_ASKED = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "dynamodb:GetItem", "kms:Decrypt", "sqs:SendMessage", "ec2:DescribeInstances"]


def _identity(rng: random.Random, team: str, draft: int) -> dict[str, Any]:
    bucket = f"{team}-data"
    statements: list[dict[str, Any]] = [
        {"Sid": f"Read{draft}", "Effect": "Allow", "Action": rng.sample(_READ_ACTIONS, 3),
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*", f"arn:aws:s3:::shared-{rng.randrange(10)}/*"]},
        {"Sid": f"Write{draft}", "Effect": "Allow", "Action": rng.sample(_WRITE_ACTIONS, 2),
         "Resource": [f"arn:aws:s3:::{bucket}/uploads/*", f"arn:aws:s3:::{bucket}/home/${{aws:username}}/*"],
         "Condition": {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}, "Bool": {"aws:SecureTransport": "true"}}},
        {"Sid": f"Other{draft}", "Effect": "Allow", "Action": rng.sample(_OTHER_ACTIONS, 4),
         "Resource": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{team}-*", f"arn:aws:kms:*:{ACCOUNT}:key/*", "arn:aws:sqs:us-east-1:*:queue-?", "*"],
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": team}, "DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}}},
        {"Sid": f"NoDelete{draft}", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteBucket"], "Resource": f"arn:aws:s3:::{bucket}/protected/*"},
    ]
    if rng.random() < 0.5:
        statements.append({"Sid": f"Prefix{draft}", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}",
                           "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/*", "public/*"]}}})
    return {"Version": "2012-10-17", "Statement": statements}


def _boundary(rng: random.Random, draft: int) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"Bound{draft}", "Effect": "Allow", "Action": ["s3:*", "dynamodb:*", "kms:*", "sqs:*", "ec2:Describe*", "logs:*"], "Resource": "*"},
        {"Sid": f"NoIam{draft}", "Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
    ]}


def _scp(rng: random.Random, draft: int, level: int) -> dict[str, Any]:
    if level == 0:
        return {"Version": "2012-10-17", "Statement": [{"Sid": f"Full{draft}", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"Allow{draft}", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": f"Regions{draft}", "Effect": "Deny", "NotAction": ["iam:*", "sts:*", "organizations:*"], "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}},
    ]}


def _bucket_policy(rng: random.Random, team: str, draft: int) -> dict[str, Any]:
    bucket = f"{team}-data"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": f"Team{draft}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/{team}-user"},
         "Action": ["s3:GetObject", "s3:PutObject"], "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Sid": f"Tls{draft}", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]}


def own_requests(n: int, seed: int = 5) -> list[dict[str, object]]:
    """Requests each carrying its own documents (no document text repeats across requests)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        team = rng.choice(_TEAMS)
        bucket = f"{team}-data"
        s3 = rng.random() < 0.7
        resources = ([f"arn:aws:s3:::{bucket}/uploads/file-{i % 100}.csv", f"arn:aws:s3:::{bucket}/home/{team}-user/notes.txt"] if s3
                     else [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{team}-orders", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-{i % 50}"])
        actions = rng.sample(_ASKED[:4] if s3 else _ASKED[4:], 2)
        context = [
            ("aws:SourceIp", [f"10.0.{i % 250}.{i % 200 + 1}"], "ip"),
            ("aws:SecureTransport", [rng.choice(["true", "true", "false"])], "boolean"),
            ("aws:CurrentTime", ["2026-06-01T12:00:00Z"], "date"),
            ("aws:EpochTime", ["1780315200"], "numeric"),
            ("aws:RequestedRegion", [rng.choice(["us-east-1", "eu-west-1", "ap-south-1"])], "string"),
            ("aws:PrincipalTag/team", [team if rng.random() < 0.8 else rng.choice(_TEAMS)], "string"),
            ("aws:PrincipalTag/env", ["prod"], "string"),
            ("aws:MultiFactorAuthPresent", ["true"], "boolean"),
            ("aws:ViaAWSService", ["false"], "boolean"),
            ("s3:prefix", [rng.choice(["home/", f"home/{team}-user/", "public/"])], "string"),
            ("aws:UserAgent", ["ci-check/1.0"], "string"),
            ("aws:RequestTag/project", [f"p{i % 30}"], "string"),
        ]
        request: dict[str, object] = {
            "PolicyInputList": [json.dumps(_identity(rng, team, i)), json.dumps(_identity(rng, rng.choice(_TEAMS), i))],
            "PermissionsBoundaryPolicyInputList": [json.dumps(_boundary(rng, i))],
            "ServiceControlPolicyInputList": [[json.dumps(_scp(rng, i, 0))], [json.dumps(_scp(rng, i, 1))]],
            "ActionNames": actions,
            "ResourceArns": resources,
            "CallerArn": f"arn:aws:iam::{ACCOUNT}:user/{team}-user",
            "ContextEntries": [{"ContextKeyName": k, "ContextKeyValues": v, "ContextKeyType": t} for k, v, t in context],
        }
        if s3:
            request["ResourcePolicy"] = json.dumps(_bucket_policy(rng, team, i))
        out.append(request)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--shape", choices=["shared", "own"], default="shared")
    parser.add_argument("--jobs", type=int, default=None, help="passed to --jobs (default: graphsim's default)")
    args = parser.parse_args()
    make = own_requests if args.shape == "own" else requests
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in make(args.requests)))
        command = [str(BIN), "simulate-custom-policy", "--input-jsonl", str(path)]
        if args.jobs is not None:
            command += ["--jobs", str(args.jobs)]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        lines = done.stdout.splitlines()
        assert len(lines) == args.requests, (len(lines), done.stderr[-500:])
        decisions: dict[str, int] = {}
        for line in lines:
            answer = json.loads(line)
            assert "Error" not in answer, answer
            for result in answer["EvaluationResults"]:
                d = result["EvalDecision"]
                decisions[d] = decisions.get(d, 0) + 1
        startup_start = time.perf_counter()
        subprocess.run([str(BIN), "simulate-custom-policy", "--input-jsonl", "-"], input="", capture_output=True, text=True, check=True)
        startup = time.perf_counter() - startup_start
    jobs = "default jobs" if args.jobs is None else f"--jobs {args.jobs}"
    print(f"shape {args.shape}, {jobs}: {args.requests:,} requests in {elapsed:.2f} s end to end: {args.requests / elapsed:,.0f} requests/s "
          f"(process start-up alone {startup:.2f} s); decisions {decisions}")


if __name__ == "__main__":
    main()
