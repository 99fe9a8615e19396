"""Decisions per second, in-process, on one core: the demo world and a synthetic organization.

Run by hand: `make bench` (or .venv/bin/python bench/bench_can.py). Results go in the README.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import synthetic_questions, synthetic_world  # noqa: E402

from graphsim.engine import ContextEntry, Engine  # noqa: E402
from graphsim.world.io import load_demo_world, world_from_dict  # noqa: E402

DEMO_QUESTIONS = [
    (user, action, resource)
    for user in ("newbie", "dana", "priya", "steve", "omar", "kai")
    for action, resource in (
        ("s3:GetObject", "arn:aws:s3:::final-friday-reports/q4.pdf"),
        ("s3:GetObject", "arn:aws:s3:::final-friday-classified/q4.pdf"),
        ("s3:ListBucket", "arn:aws:s3:::final-friday-reports"),
        ("s3:ListAllMyBuckets", "*"),
        ("s3:PutObject", "arn:aws:s3:::final-friday-reports/hr/x.csv"),
        ("ec2:RunInstances", "arn:aws:ec2:eu-west-2:111122223333:instance/i-1"),
        ("logs:GetLogEvents", "arn:aws:logs:eu-west-2:111122223333:log-group:/omar/app:log-stream:s"),
    )
]
CONTEXT = [ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip"), ContextEntry("aws:SecureTransport", ("true",), "boolean")]


def rate(engine: Engine, questions: list[tuple[str, str, str]], seconds: float) -> tuple[float, int]:
    for q in questions:  # warm the per-principal caches, as a running server would be
        engine.can(*q, CONTEXT)
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for q in questions:
            engine.can(*q, CONTEXT)
        done += len(questions)
    return done / (time.perf_counter() - start), done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    demo = Engine(load_demo_world())
    per_sec, done = rate(demo, DEMO_QUESTIONS, args.seconds)
    print(f"demo world (final-friday): {per_sec:,.0f} decisions/s ({done:,} decisions)")

    t0 = time.perf_counter()
    world = world_from_dict(synthetic_world())
    load = time.perf_counter() - t0
    statements = sum(len(d["document"].statements) for _, d in world.graph.nodes(data=True) if "document" in d)
    print(f"synthetic organization: 1,000 users, 200 groups, 2,000 policies, {statements:,} statements; built in {load:.1f} s")
    engine = Engine(world)
    questions = synthetic_questions(random.Random(1), 1000, 5000)
    t0 = time.perf_counter()
    for q in questions:
        engine.can(*q, CONTEXT)
    cold = time.perf_counter() - t0
    per_sec, done = rate(engine, questions, args.seconds)
    print(f"synthetic organization: {per_sec:,.0f} decisions/s warm ({done:,} decisions); first pass over 5,000 questions (cold caches) {cold:.2f} s")


if __name__ == "__main__":
    main()
