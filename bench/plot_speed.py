"""graphsim's cost as the world grows (issue 11 target 5): `can`, `whoCan` and the access matrix
on the synthetic organization of growing size, and on organizations of growing account count;
figures printed, and drawn to docs/speed.png.

matplotlib is a bench-only extra, not a runtime dependency: `pip install -e ".[bench]"`.

Run by hand: .venv/bin/python bench/plot_speed.py [--users 500,1000,2000,4000,7000]
[--accounts 10,25,50,100] [--out docs/speed.png]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_analysis import WHO_CAN_QUESTIONS, matrix_actions, matrix_resources  # noqa: E402
from synthetic import organization_questions, synthetic_organization, synthetic_questions, synthetic_world  # noqa: E402

from graphsim.analysis import access_matrix, who_can  # noqa: E402
from graphsim.engine import ContextEntry, Engine  # noqa: E402
from graphsim.world import NodeKind  # noqa: E402
from graphsim.world.io import world_from_dict  # noqa: E402

CONTEXT = (ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip"), ContextEntry("aws:RequestedRegion", ("eu-west-1",)))


def can_us(engine: Engine, questions: list[tuple[str, str, str]]) -> tuple[float, float]:
    """(µs per decision on the first pass, µs per decision warm)."""
    t = time.perf_counter()
    for q in questions:
        engine.can(*q, CONTEXT)
    cold = (time.perf_counter() - t) / len(questions) * 1e6
    t = time.perf_counter()
    for q in questions:
        engine.can(*q, CONTEXT)
    return cold, (time.perf_counter() - t) / len(questions) * 1e6


def who_can_s(world: object, questions: list[tuple[str, str]]) -> tuple[float, float]:
    """(worst seconds with a fresh engine, mean seconds warm) over ``questions``."""
    cold = []
    for action, resource in questions:
        engine = Engine(world)  # type: ignore[arg-type]
        t = time.perf_counter()
        who_can(engine, [action], resource)
        cold.append(time.perf_counter() - t)
    engine = Engine(world)  # type: ignore[arg-type]
    for action, resource in questions:
        who_can(engine, [action], resource)
    t = time.perf_counter()
    for action, resource in questions:
        who_can(engine, [action], resource)
    return max(cold), (time.perf_counter() - t) / len(questions)


def by_users(sizes: list[int]) -> list[dict[str, float]]:
    rows = []
    for users in sizes:
        world = world_from_dict(synthetic_world(users=users))
        cold, warm = can_us(Engine(world), synthetic_questions(random.Random(1), users, 3000))
        who_cold, who_warm = who_can_s(world, WHO_CAN_QUESTIONS)
        principals = sorted(k for k, _ in world.nodes_of(NodeKind.USER))
        t = time.perf_counter()
        access_matrix(Engine(world), principals, matrix_actions(), matrix_resources())
        matrix = time.perf_counter() - t
        row = {"users": users, "can_cold_us": cold, "can_warm_us": warm, "who_can_cold_s": who_cold, "who_can_warm_s": who_warm, "matrix_s": matrix}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def by_accounts(sizes: list[int]) -> list[dict[str, float]]:
    rows = []
    for accounts in sizes:
        world = world_from_dict(synthetic_organization(accounts=accounts))
        cold, warm = can_us(Engine(world), organization_questions(random.Random(5), accounts, 100, 2000))
        who_cold, who_warm = who_can_s(world, [("s3:GetObject", "arn:aws:s3:::alpha-data-3/reports/x.csv")])
        row = {"accounts": accounts, "roles": accounts * 100, "can_cold_us": cold, "can_warm_us": warm, "who_can_cold_s": who_cold, "who_can_warm_s": who_warm}
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def plot(users: list[dict[str, float]], accounts: list[dict[str, float]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    u = [r["users"] for r in users]
    ax = axes[0]
    ax.plot(u, [r["can_warm_us"] for r in users], "o-", label="can, warm")
    ax.plot(u, [r["can_cold_us"] for r in users], "o--", label="can, first pass")
    ax.set(title="can: µs per decision", xlabel="users (synthetic organization)", ylabel="µs")
    ax.legend()
    ax = axes[1]
    ax.plot(u, [r["who_can_cold_s"] for r in users], "o--", label="whoCan, worst cold")
    ax.plot(u, [r["who_can_warm_s"] for r in users], "o-", label="whoCan, mean warm")
    ax.plot(u, [r["matrix_s"] / 10 for r in users], "s-", label="matrix users x 50 x 50, s / 10")
    ax.set(title="whoCan and the access matrix", xlabel="users (synthetic organization)", ylabel="seconds")
    ax.legend()
    ax = axes[2]
    roles = [r["roles"] for r in accounts]
    ax.plot(roles, [r["can_warm_us"] / 1000 for r in accounts], "o-", label="can warm, ms")
    ax.plot(roles, [r["who_can_cold_s"] for r in accounts], "o--", label="whoCan s3:GetObject, cold, s")
    ax.set(title="an organization: 100 roles per account", xlabel="roles (accounts x 100)")
    ax.legend()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", default="500,1000,2000,4000,7000")
    parser.add_argument("--accounts", default="10,25,50,100")
    parser.add_argument("--out", default=str(HERE.parent / "docs" / "speed.png"))
    args = parser.parse_args()
    users = by_users([int(n) for n in args.users.split(",")])
    accounts = by_accounts([int(n) for n in args.accounts.split(",")])
    plot(users, accounts, Path(args.out))


if __name__ == "__main__":
    main()
