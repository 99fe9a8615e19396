"""Access-review analysis on the synthetic organization: who_can over every principal, and the
access matrix of 1,000 principals x 50 actions x 50 resources (2.5 million cells).

Run by hand: .venv/bin/python bench/bench_analysis.py [--users 1000]. Targets: who_can at most
0.5 s per question (cold: a fresh engine, nothing cached), the matrix at most 30 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import ACCOUNT, TEAMS, synthetic_world  # noqa: E402

from graphsim import catalog  # noqa: E402
from graphsim.analysis import access_matrix, who_can  # noqa: E402
from graphsim.engine import Engine  # noqa: E402
from graphsim.world import NodeKind  # noqa: E402
from graphsim.world.io import world_from_dict  # noqa: E402

WHO_CAN_QUESTIONS = [
    ("s3:GetObject", "arn:aws:s3:::alpha-data-1/reports/x.csv"),
    ("ec2:StopInstances", f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0123"),
    ("dynamodb:GetItem", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/bravo-3"),
    ("lambda:InvokeFunction", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:charlie-api"),
    ("logs:GetLogEvents", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/delta/app:log-stream:s"),
    ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:echo-queue-4"),
    ("kms:Decrypt", f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"),
]

NAMED = [
    "s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "ec2:RunInstances", "ec2:StopInstances",
    "ec2:TerminateInstances", "ec2:DescribeInstances", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan",
    "lambda:InvokeFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode", "logs:GetLogEvents", "logs:PutLogEvents",
    "logs:DescribeLogGroups", "sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "kms:Decrypt", "kms:Encrypt",
    "kms:GenerateDataKey",
]


def matrix_actions(n: int = 50) -> list[str]:
    """The actions the synthetic policies name, then others of the same services (deterministic)."""
    out = list(NAMED)
    rng = random.Random(3)
    for service in ("s3", "ec2", "dynamodb", "lambda", "logs", "sqs", "kms"):
        extra = [a for a in catalog.expand(f"{service}:*") if a not in out]
        out += rng.sample(extra, 4)
    return out[:n]


def matrix_resources(n: int = 50) -> list[str]:
    rng = random.Random(5)
    forms = [
        "arn:aws:s3:::{team}-data-{n}/reports/x.csv",
        "arn:aws:s3:::{team}-data-{n}",
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:instance/i-0{{n}}",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{{team}}-{{n}}",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{{team}}-api",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/{{team}}/app:log-stream:s",
        f"arn:aws:sqs:eu-west-1:{ACCOUNT}:{{team}}-queue-{{n}}",
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{{n}}",
    ]
    out: list[str] = ["*"]
    while len(out) < n:
        arn = rng.choice(forms).format(team=rng.choice(TEAMS), n=rng.randint(0, 9))
        if arn not in out:
            out.append(arn)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    world = world_from_dict(synthetic_world(users=args.users))
    print(f"synthetic organization: {args.users} users, loaded in {time.perf_counter() - t0:.2f} s")

    print("who_can over every principal (a fresh engine per question: nothing cached):")
    worst = 0.0
    for action, resource in WHO_CAN_QUESTIONS:
        engine = Engine(world)
        t = time.perf_counter()
        found = who_can(engine, [action], resource)
        took = time.perf_counter() - t
        worst = max(worst, took)
        print(f"  {action:<24} {len(found):>4} allowed   {took:.3f} s")
    engine = Engine(world)
    for action, resource in WHO_CAN_QUESTIONS:  # warm the engine's per-principal policy sets
        who_can(engine, [action], resource)
    t = time.perf_counter()
    for action, resource in WHO_CAN_QUESTIONS:
        who_can(engine, [action], resource)
    warm = (time.perf_counter() - t) / len(WHO_CAN_QUESTIONS)
    print(f"  worst cold {worst:.3f} s; warm engine, mean {warm:.3f} s")

    principals = sorted(k for k, _ in world.nodes_of(NodeKind.USER))
    actions, resources = matrix_actions(), matrix_resources()
    engine = Engine(world)
    t = time.perf_counter()
    matrix = access_matrix(engine, principals, actions, resources)
    took = time.perf_counter() - t
    cells = len(matrix.codes)
    print(
        f"access_matrix: {len(principals)} principals x {len(actions)} actions x {len(resources)} resources = {cells:,} cells "
        f"in {took:.2f} s (cold engine; {matrix.principal_groups} principal groups, {matrix.evaluations:,} evaluations; {matrix.counts()})"
    )


if __name__ == "__main__":
    main()
