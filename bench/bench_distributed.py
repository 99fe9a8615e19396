"""Organization-wide who-can and matrix on Dask LocalClusters of 1, 2 and 4 workers against one
process, and the request rate of 1 and 2 replicas on one PostgreSQL (issue 14 item 4).

The organization is ``synthetic.synthetic_organization`` (1,000 accounts by default). The world
is imported into an SQLite store in a temp folder, from which each Dask worker reads it (once per
version); every distributed answer is checked equal to the one-process answer before its time is
reported. Cluster start-up is timed apart from the analyses; each analysis is run twice on a
cluster (the first run includes the workers building the world).

The replica part starts a throw-away PostgreSQL cluster (tests/postgres_cluster.py, Debian's
postgresql), one then two ``graphsim serve`` processes on it, and drives them with a fixed number
of client threads for a fixed time (loopback only, bounded), asking ``can`` on the demo world.

Run by hand: .venv/bin/python bench/bench_distributed.py [--accounts 1000] [--roles 20] [--workers 1 2 4] [--skip-replicas]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    value = fn()
    took = time.perf_counter() - start
    print(f"  {label:<52} {took:8.2f} s", flush=True)
    return value, took


def analyses(accounts: int, roles: int, worker_counts: list[int]) -> None:
    from synthetic import synthetic_organization  # type: ignore[import-not-found]

    from graphsim import distributed
    from graphsim.analysis import access_matrix, who_can
    from graphsim.presentation import to_json
    from graphsim.workspace import Workspace
    from graphsim.world import NodeKind

    print(f"organization: {accounts} accounts x {roles} roles")
    data, _ = timed("generate", lambda: synthetic_organization(accounts=accounts, roles_per_account=roles))
    folder = tempfile.mkdtemp(prefix="graphsim-bench-")
    location = str(Path(folder) / "org.db")
    ws = Workspace.open(location, load=False)
    timed("import into the store", lambda: ws.import_world("org", data, sources=["synthetic_organization"]))
    engine = ws.engine("org")
    world = engine.world
    roles_all = [k for k, _ in sorted(world.nodes_of(NodeKind.ROLE))]
    users_all = [k for k, _ in sorted(world.nodes_of(NodeKind.USER))]
    print(f"  {len(roles_all):,} roles, {len(users_all):,} users")
    who_q = (["s3:GetObject"], "arn:aws:s3:::alpha-data-3/reports/x.csv")
    principals = roles_all
    m_actions = ["s3:GetObject", "sqs:SendMessage", "iam:CreateUser"]
    m_resources = ["arn:aws:s3:::alpha-data-3/reports/x.csv", "*"]
    print(f"who-can {who_q[0][0]} on {who_q[1]}; matrix {len(principals):,} roles x {len(m_actions)} actions x {len(m_resources)} resources")

    # Cold: a fresh process's engine (as one CLI call); warm: the same engine asked again.
    fresh = Workspace.open(location).engine("org")
    single_who, t_who = timed("who-can, one process, cold", lambda: who_can(fresh, *who_q))
    _, t_who_warm = timed("who-can, one process, warm", lambda: who_can(fresh, *who_q))
    fresh = Workspace.open(location).engine("org")
    single_m, t_m = timed("matrix, one process, cold", lambda: access_matrix(fresh, principals, m_actions, m_resources))
    import resource

    print(f"  who-can: {len(single_who)} entries; matrix: {single_m.counts()}; peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    expected_who = to_json(single_who)
    for n in worker_counts:
        print(f"LocalCluster of {n} worker(s)")
        start = time.perf_counter()
        with distributed.connect(workers=n) as cluster:
            print(f"  {'start-up':<52} {time.perf_counter() - start:8.2f} s")
            for run, alone in (("cold: workers build the world", t_who), ("warm", t_who_warm)):
                got, took = timed(f"who-can, {run}", lambda: distributed.who_can(cluster, engine, location, *who_q))
                assert to_json(got) == expected_who, "who-can differs from one process"
                print(f"    speed-up over one process ({run.split(':')[0]}): {alone / took:.2f}x")
            got_m, took = timed("matrix", lambda: distributed.matrix(cluster, engine, location, principals, m_actions, m_resources))
            assert got_m.codes == single_m.codes, "matrix differs from one process"
            print(f"    speed-up over one process (cold): {t_m / took:.2f}x")
            loads = cluster.client.run(distributed.loads)
            print(f"  world builds per worker: {sorted(len(v) for v in loads.values())}")


def replicas(seconds: float, clients: int) -> None:
    from graphsim.workspace import Workspace
    from tests.postgres_cluster import start_cluster
    from tests.test_durability import free_port, start

    cluster = start_cluster()
    procs = []
    try:
        url = cluster.new_database()
        Workspace.open(url)
        query = {"query": '{ can(principal: "newbie", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf") { decision } }'}
        for n in (1, 2):
            while len(procs) < n:
                procs.append((start(url, port := free_port()), f"http://127.0.0.1:{port}"))
            bases = [base for _, base in procs]
            count = [0] * clients
            stop = time.monotonic() + seconds
            threads = [threading.Thread(target=_drive, args=(bases[i % len(bases)], query, stop, count, i)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print(f"{n} replica(s), {clients} client threads, {seconds:.0f} s: {sum(count) / seconds:,.0f} requests/s")
    finally:
        for proc, _ in procs:
            proc.terminate()
            proc.wait()
        cluster.stop()


def _drive(base: str, query: dict[str, str], stop: float, count: list[int], i: int) -> None:
    import httpx

    with httpx.Client(base_url=base, timeout=10) as http:
        while time.monotonic() < stop:
            assert http.post("/graphql", json=query).json()["data"]["can"]["decision"] == "ALLOWED"
            count[i] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--roles", type=int, default=20, help="roles per account")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=10.0, help="each replica load run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--skip-analyses", action="store_true")
    parser.add_argument("--skip-replicas", action="store_true")
    args = parser.parse_args()
    if not args.skip_analyses:
        analyses(args.accounts, args.roles, args.workers)
    if not args.skip_replicas:
        replicas(args.seconds, args.clients)


if __name__ == "__main__":
    main()
