"""`can` over HTTP (issue 11 target 3): latency from one client, requests/s from 8 concurrent
clients, and many decisions through one call (`canMany`), against a real `graphsim serve`.

Run by hand (bounded in time, loopback only): .venv/bin/python bench/bench_http.py
[--duration 10] [--clients 8] [--workers 1]

It starts `graphsim serve` on the demo world (bench/load.py's start_server: a fresh store, a free
loopback port, stopped afterwards). Clients are closed-loop threads, each with one keep-alive
connection, sending the same `can` document with varying variables (as a frontend or script
does: GraphQL parsing and validation of a repeated document are cached). The questions of
`canMany` travel as variables, so the document stays small whatever their number.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import DEMO_QUESTIONS, start_server  # noqa: E402

CAN = "query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r) { decision allowed } }"
CAN_MANY = "query($q: [CanQuestion!]!) { canMany(questions: $q) { __typename ... on Decision { decision } ... on UserError { code field } } }"


class Client:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)

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


def _ms(xs: list[float], q: float) -> str:
    return f"{statistics.quantiles(xs, n=100)[int(q) - 1] * 1000:.1f} ms" if len(xs) > 1 else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of the concurrent phase (at most 120)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="graphsim serve --workers")
    parser.add_argument("--sequential", type=int, default=500, help="requests of the one-client phase")
    parser.add_argument("--skip-batch", action="store_true", help="no canMany phase (a server without it)")
    args = parser.parse_args()
    duration = min(args.duration, 120.0)
    with start_server(workers=args.workers) as url:
        lat = one_client(url, args.sequential)
        print(f"can, 1 client, {len(lat)} requests: p50 {_ms(lat, 50)}, p95 {_ms(lat, 95)}, {len(lat) / sum(lat):,.0f} requests/s", flush=True)
        count, lats, took = many_clients(url, args.clients, duration)
        print(f"can, {args.clients} concurrent clients, {took:.1f} s: {count / took:,.0f} requests/s, p50 {_ms(lats, 50)}, p95 {_ms(lats, 95)}", flush=True)
        if not args.skip_batch:
            for n in (1_000, 10_000):
                took, counts = batch(url, n)
                print(f"canMany, {n:,} questions in one request: {took:.2f} s, {n / took:,.0f} decisions/s {counts}", flush=True)


if __name__ == "__main__":
    main()
