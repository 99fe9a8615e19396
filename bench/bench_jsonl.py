"""End-to-end rate of `graphsim simulate-custom-policy --input-jsonl`: a real process reading
AWS-CLI-shaped requests and writing AWS-shaped responses, parsing included.

Run by hand: .venv/bin/python bench/bench_jsonl.py [--requests 50000]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in requests(args.requests)))
        start = time.perf_counter()
        done = subprocess.run([str(BIN), "simulate-custom-policy", "--input-jsonl", str(path)], capture_output=True, text=True, check=True)
        elapsed = time.perf_counter() - start
        lines = done.stdout.splitlines()
        assert len(lines) == args.requests, (len(lines), done.stderr[-500:])
        decisions = {}
        for line in lines:
            d = json.loads(line)["EvaluationResults"][0]["EvalDecision"]
            decisions[d] = decisions.get(d, 0) + 1
        startup_start = time.perf_counter()
        subprocess.run([str(BIN), "simulate-custom-policy", "--input-jsonl", "-"], input="", capture_output=True, text=True, check=True)
        startup = time.perf_counter() - startup_start
    print(f"{args.requests:,} requests in {elapsed:.2f} s end to end: {args.requests / elapsed:,.0f} requests/s "
          f"(process start-up alone {startup:.2f} s); decisions {decisions}")


if __name__ == "__main__":
    main()
