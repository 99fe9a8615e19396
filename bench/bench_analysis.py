"""Access-review analysis on the synthetic organization: who_can over every principal, and the
access matrix of every user x 50 actions x 50 resources (2.5 million cells at 1,000 users).

Run by hand: .venv/bin/python bench/bench_analysis.py [--users 7000]. Issue 11's targets at
7,000 users: the slowest who_can question at most 0.5 s from a fresh engine and 0.1 s warm (the
engine's caches built, the questions asked again), the 17.5-million-cell matrix in 10 s. Each
figure is wall seconds, then CPU seconds of this process (steadier on a shared machine).
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

    t, c = time.perf_counter(), time.process_time()
    who_can(Engine(world), [WHO_CAN_QUESTIONS[0][0]], WHO_CAN_QUESTIONS[0][1])
    print(f"the first question of the world (builds its index): {time.perf_counter() - t:.3f} s ({time.process_time() - c:.3f} CPU)")
    print("who_can over every principal (a fresh engine per question):")
    worst = worst_cpu = 0.0
    for action, resource in WHO_CAN_QUESTIONS:
        engine = Engine(world)
        t, c = time.perf_counter(), time.process_time()
        found = who_can(engine, [action], resource)
        took, cpu = time.perf_counter() - t, time.process_time() - c
        worst, worst_cpu = max(worst, took), max(worst_cpu, cpu)
        print(f"  {action:<24} {len(found):>4} allowed   {took:.3f} s ({cpu:.3f} CPU)")
    engine = Engine(world)
    for action, resource in WHO_CAN_QUESTIONS:  # warm the engine's caches
        who_can(engine, [action], resource)
    warm = warm_cpu = 0.0
    for action, resource in WHO_CAN_QUESTIONS:
        t, c = time.perf_counter(), time.process_time()
        who_can(engine, [action], resource)
        warm, warm_cpu = max(warm, time.perf_counter() - t), max(warm_cpu, time.process_time() - c)
    print(f"  slowest question: fresh engine {worst:.3f} s ({worst_cpu:.3f} CPU); warm engine {warm:.3f} s ({warm_cpu:.3f} CPU)")

    principals = sorted(k for k, _ in world.nodes_of(NodeKind.USER))
    actions, resources = matrix_actions(), matrix_resources()
    engine = Engine(world)
    t, c = time.perf_counter(), time.process_time()
    matrix = access_matrix(engine, principals, actions, resources)
    took, cpu = time.perf_counter() - t, time.process_time() - c
    cells = len(matrix.codes)
    print(
        f"access_matrix: {len(principals)} principals x {len(actions)} actions x {len(resources)} resources = {cells:,} cells "
        f"in {took:.2f} s ({cpu:.2f} CPU; fresh engine; {matrix.principal_groups} principal groups, {matrix.evaluations:,} evaluations; {matrix.counts()})"
    )


if __name__ == "__main__":
    main()
