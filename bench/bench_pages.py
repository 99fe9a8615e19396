"""Pages of a large world through a real server: the first page of users, a walk over every
page, and the old one-list field for comparison (issue 16's "first page of 50 under 50 ms").

Run by hand: .venv/bin/python bench/bench_pages.py [--users 5000]
It writes a synthetic world (bench/synthetic.py: 5,000 users, 200 groups, 2,000 policies) to a
temporary file, serves it with `graphsim serve --world FILE` on a free loopback port (killed at
the end, and bounded in time), and times each request from the client (httpx, keep-alive).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import synthetic_world  # noqa: E402

BIN = Path(sys.executable).parent / "graphsim"
PAGE = """query($first: Int, $after: String) { world { usersConnection(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id name arn path tags { key value } } } } }"""
OLD = "{ world { users { name arn path tags { key value } } } }"


def _post(http: httpx.Client, query: str, **variables: object) -> tuple[float, dict]:
    start = time.perf_counter()
    response = http.post("/graphql", json={"query": query, "variables": variables})
    elapsed = time.perf_counter() - start
    body = response.json()
    assert "errors" not in body, body["errors"]
    return elapsed, body["data"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world_file = Path(tmp) / "synthetic.json"
        world_file.write_text(json.dumps(synthetic_world(users=args.users, groups=200, policies=2000)), encoding="utf-8")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        proc = subprocess.Popen([str(BIN), "serve", "--world", str(world_file), "--db", str(Path(tmp) / "store.db"), "--port", str(port), "--log-level", "warning"])
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start in 300 s") from None
                    time.sleep(0.2)
            with httpx.Client(base_url=url, timeout=120) as http:
                cold, data = _post(http, PAGE, first=50)
                total = data["world"]["usersConnection"]["totalCount"]
                warm = [_post(http, PAGE, first=50)[0] for _ in range(args.repeat)]
                # The fifth page, through a cursor.
                after = None
                for _ in range(4):
                    after = _post(http, PAGE, first=50, after=after)[1]["world"]["usersConnection"]["pageInfo"]["endCursor"]
                later = [_post(http, PAGE, first=50, after=after)[0] for _ in range(args.repeat)]
                # Every page of 50, then of 500: each user once.
                walks = {}
                for size in (50, 500):
                    seen: list[str] = []
                    after, start, pages = None, time.perf_counter(), 0
                    while True:
                        conn = _post(http, PAGE, first=size, after=after)[1]["world"]["usersConnection"]
                        seen += [n["name"] for n in conn["nodes"]]
                        pages += 1
                        if not conn["pageInfo"]["hasNextPage"]:
                            break
                        after = conn["pageInfo"]["endCursor"]
                    assert len(seen) == len(set(seen)) == total, (len(seen), len(set(seen)), total)
                    walks[size] = (time.perf_counter() - start, pages)
                old, _ = _post(http, OLD)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    ms = lambda xs: f"median {statistics.median(xs) * 1000:.1f} ms, max {max(xs) * 1000:.1f} ms"  # noqa: E731
    print(f"world: {total} users")
    print(f"first page of 50: first request {cold * 1000:.1f} ms; then {ms(warm)} over {args.repeat}")
    print(f"fifth page of 50 (after a cursor): {ms(later)}")
    for size, (seconds, pages) in walks.items():
        print(f"walk, pages of {size}: {pages} pages, every user once, {seconds:.2f} s")
    print(f"the deprecated one-list field (world {{ users }}): {old * 1000:.0f} ms")


if __name__ == "__main__":
    main()
