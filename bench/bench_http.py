"""`can` over HTTP (issue 11 target 3): latency from one client, requests/s from 8 concurrent
clients, and many decisions through one call (`canMany`), against a real `graphsim serve`.

Run by hand (bounded in time, loopback only): .venv/bin/python bench/bench_http.py
[--duration 10] [--clients 8] [--workers 1] [--skip-batch] [--skip-heavy]

It starts `graphsim serve` on the demo world (bench/load.py's start_server: a fresh store, a free
loopback port, stopped afterwards). Clients are closed-loop threads, each with one keep-alive
connection, sending the same `can` document with varying variables (as a frontend or script
does: GraphQL parsing and validation of a repeated document are cached). The questions of
`canMany` travel as variables, so the document stays small whatever their number. Last (issue
15: /healthz within 100 ms while a heavy question runs), a server on bench/hostile.py's world of
5,000 users and 400 roles works out `whoCan` for 20 actions eight times in a row while one
client asks /healthz every 20 ms and another asks `can` on the demo world, and the latencies of
those answered meanwhile are printed. Each phase prints the server processes' CPU seconds too
(user + system, from /proc), the figure that a loaded machine disturbs least.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from load import DEMO_QUESTIONS, start_server  # noqa: E402
from test_hostile import _big_world  # noqa: E402  (bench/hostile.py's 5,000-user world)

CAN = "query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r) { decision allowed } }"
CAN_MANY = "query($q: [CanQuestion!]!) { canMany(questions: $q) { __typename ... on Decision { decision } ... on UserError { code field } } }"


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=120)

    def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables})
        self.conn.request("POST", "/graphql", body=body, headers={"Content-Type": "application/json"})
        response = self.conn.getresponse()
        data: dict[str, Any] = json.loads(response.read())
        if response.status != 200 or data.get("errors"):
            raise SystemExit(f"HTTP {response.status}: {json.dumps(data)[:500]}")
        return data


def _can_variables(i: int) -> dict[str, str]:
    p, a, r = DEMO_QUESTIONS[i % len(DEMO_QUESTIONS)]
    return {"p": p, "a": a, "r": r}


def one_client(url: str, n: int) -> list[float]:
    client = Client(url)
    for i in range(20):  # warm the server's caches
        client.post(CAN, _can_variables(i))
    latencies = []
    for i in range(n):
        t = time.perf_counter()
        client.post(CAN, _can_variables(i))
        latencies.append(time.perf_counter() - t)
    return latencies


def many_clients(url: str, clients: int, duration: float) -> tuple[int, list[float], float]:
    latencies: list[list[float]] = [[] for _ in range(clients)]
    stop = time.perf_counter() + duration

    def run(k: int) -> None:
        client = Client(url)
        i = k
        while time.perf_counter() < stop:
            t = time.perf_counter()
            client.post(CAN, _can_variables(i))
            latencies[k].append(time.perf_counter() - t)
            i += clients

    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    flat = [x for xs in latencies for x in xs]
    return len(flat), flat, took


def batch(url: str, n: int) -> tuple[float, dict[str, int]]:
    questions = [{"principal": p, "action": a, "resource": r} for i in range(n) for p, a, r in [DEMO_QUESTIONS[i % len(DEMO_QUESTIONS)]]]
    client = Client(url)
    client.post(CAN_MANY, {"q": questions[:10]})
    t = time.perf_counter()
    data = client.post(CAN_MANY, {"q": questions})
    took = time.perf_counter() - t
    counts: dict[str, int] = {}
    for answer in data["data"]["canMany"]:
        key = answer.get("decision") or answer.get("code")
        counts[key] = counts.get(key, 0) + 1
    return took, counts


WHO_CAN_20 = (
    'query($r: String!) { whoCan(actions: ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "s3:GetObjectAcl", "s3:PutObjectAcl", '
    '"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:GetObjectTagging", "s3:PutObjectTagging", "s3:GetBucketLocation", "s3:ListAllMyBuckets", '
    '"s3:CreateBucket", "s3:DeleteBucket", "s3:GetBucketAcl", "s3:PutBucketAcl", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration", '
    '"s3:GetBucketTagging", "s3:PutBucketTagging"], resource: $r) { principal } }'
)
CAN_DEMO = "query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r, world: \"final-friday\") { decision } }"


def heavy(users: int = 5000, rounds: int = 8) -> None:
    """/healthz and `can` latency while a heavy whoCan runs (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        world_file = Path(tmp) / "big.json"
        world_file.write_text(json.dumps(_big_world(users, 400)))
        with start_server(workers=1, extra=["--world", str(world_file)], folder=tmp) as url:
            question = Client(url)
            # Warm (the engine's caches, as a server that has run a while); each round then asks of
            # another object, so no review is answered from the cache of reviews.
            question.post(WHO_CAN_20, {"r": "arn:aws:s3:::warm/object"})
            health: list[float] = []
            cans: list[float] = []
            took: list[float] = []
            running = threading.Event()

            def ask_health() -> None:
                conn = Client(url).conn
                while running.is_set():
                    t = time.perf_counter()
                    conn.request("GET", "/healthz")
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        raise SystemExit(f"/healthz: HTTP {response.status}")
                    if running.is_set():
                        health.append(time.perf_counter() - t)
                    time.sleep(0.02)

            def ask_can() -> None:
                client = Client(url)
                i = 0
                while running.is_set():
                    t = time.perf_counter()
                    client.post(CAN_DEMO, _can_variables(i))
                    if running.is_set():
                        cans.append(time.perf_counter() - t)
                    i += 1
                    time.sleep(0.02)

            cpu = _server_cpu(url)
            for i in range(rounds):
                running.set()
                side = [threading.Thread(target=ask_health), threading.Thread(target=ask_can)]
                for t in side:
                    t.start()
                t0 = time.perf_counter()
                question.post(WHO_CAN_20, {"r": f"arn:aws:s3:::bench-{i}/object"})
                took.append(time.perf_counter() - t0)
                running.clear()
                for t in side:
                    t.join()
            print(f"whoCan 20 actions x {users:,} users, {rounds} times: {min(took):.2f}-{max(took):.2f} s each; meanwhile "
                  f"/healthz p50 {_ms(health, 50)}, max {max(health) * 1000:.1f} ms ({len(health)} asks); "
                  f"can p50 {_ms(cans, 50)}, max {max(cans) * 1000:.1f} ms ({len(cans)} asks); server CPU {_server_cpu(url) - cpu:.1f} s", flush=True)


def _server_cpu(url: str) -> float:
    """CPU seconds (user + system) of the server processes listening at ``url``'s port."""
    port = urlsplit(url).port
    total = 0.0
    for pid in _listening_pids(port):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _listening_pids(port: int | None) -> list[int]:
    """The processes holding a socket listening on ``port`` (Linux /proc): the server and its workers."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(cols[9])
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes for fd in (entry / "fd").iterdir()):
                pids.append(int(entry.name))
    return pids


def _ms(xs: list[float], q: float) -> str:
    return f"{statistics.quantiles(xs, n=100)[int(q) - 1] * 1000:.1f} ms" if len(xs) > 1 else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the concurrent phase (at most 120)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="graphsim serve --workers")
    parser.add_argument("--sequential", type=int, default=500, help="requests of the one-client phase")
    parser.add_argument("--skip-batch", action="store_true", help="no canMany phase (a server without it)")
    parser.add_argument("--skip-heavy", action="store_true", help="no /healthz-while-whoCan phase")
    args = parser.parse_args()
    duration = min(args.duration, 120.0)
    print(f"load average {os.getloadavg()[0]:.1f} at the start; serve --workers {args.workers}", flush=True)
    with start_server(workers=args.workers) as url:
        cpu = _server_cpu(url)
        lat = one_client(url, args.sequential)
        used = _server_cpu(url) - cpu
        print(f"can, 1 client, {len(lat)} requests: p50 {_ms(lat, 50)}, p95 {_ms(lat, 95)}, {len(lat) / sum(lat):,.0f} requests/s; "
              f"server CPU {used / (len(lat) + 20) * 1000:.2f} ms a request", flush=True)
        cpu = _server_cpu(url)
        count, lats, took = many_clients(url, args.clients, duration)
        used = _server_cpu(url) - cpu
        print(f"can, {args.clients} concurrent clients, {took:.1f} s: {count / took:,.0f} requests/s, p50 {_ms(lats, 50)}, p95 {_ms(lats, 95)}; "
              f"server CPU {used / count * 1000:.2f} ms a request", flush=True)
        if not args.skip_batch:
            for n in (1_000, 10_000):
                took, counts = batch(url, n)
                print(f"canMany, {n:,} questions in one request: {took:.2f} s, {n / took:,.0f} decisions/s {counts}", flush=True)
    if not args.skip_heavy:
        heavy()
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)


if __name__ == "__main__":
    main()
