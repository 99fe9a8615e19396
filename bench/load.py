"""Held under load: `can` and `whoCan` questions at a fixed rate while another process writes.

Run by hand (bounded in time, loopback only):

    .venv/bin/python bench/load.py                      # 60 s at 200 questions/s, 10 writes/s, --workers 2
    .venv/bin/python bench/load.py --duration 10 --rate 50 --json
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --token-file TOKEN   # a server already running

Without --url it starts `graphsim serve --workers N` on a fresh store in a temporary folder,
on a free loopback port, and stops it afterwards. The questions are sent open-loop: question i
is due at start + i/rate whatever the answers before it, and its latency counts from when it
was due, so a server that falls behind shows it in the percentiles instead of slowing the
sender down. A separate process (this file with --writer) sends the mutations at their own
rate (newbie's tag `load` takes the write's number, so the world stays the same size). An error is any answer
that is not HTTP 200 with data and no `errors`, or no answer within --timeout.

Other benchmarks may reuse `run_questions(url, ...)` and `start_server(...)`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent / "graphsim"
DEMO_QUESTIONS: list[tuple[str, str, str]] = [
    ("newbie", "s3:GetObject", "arn:aws:s3:::final-friday-reports/q4.pdf"),
    ("newbie", "s3:GetBucketLocation", "arn:aws:s3:::final-friday-reports"),
    ("priya", "s3:GetObject", "arn:aws:s3:::final-friday-classified/q4.pdf"),
    ("steve", "s3:PutObject", "arn:aws:s3:::final-friday-classified/q4.pdf"),
    ("newbie", "s3:ListAllMyBuckets", "*"),
]
WHO_CAN: list[tuple[str, str]] = [
    ("s3:GetObject", "arn:aws:s3:::final-friday-classified/q4.pdf"),
    ("s3:PutObject", "arn:aws:s3:::final-friday-reports/q4.pdf"),
]
CAN = "query($p: String!, $a: String!, $r: String!) { can(principal: $p, action: $a, resource: $r) { decision world { version } } }"
WHO = "query($a: String!, $r: String!) { whoCan(actions: [$a], resource: $r) { principal access } }"
# A write that any order of arrival leaves valid (the writer's requests overlap): a tag value.
TAG = 'mutation($v: String!) { tagUser(user: "newbie", tags: [{key: "load", value: $v}]) { __typename ... on UserError { code message } } }'


def question(i: int) -> dict[str, Any]:
    """The i-th question: `can` and `whoCan` in turn, over the demo world's cases."""
    if i % 2 == 0:
        p, a, r = DEMO_QUESTIONS[(i // 2) % len(DEMO_QUESTIONS)]
        return {"query": CAN, "variables": {"p": p, "a": a, "r": r}}
    a, r = WHO_CAN[(i // 2) % len(WHO_CAN)]
    return {"query": WHO, "variables": {"a": a, "r": r}}


@dataclass
class Figures:
    sent: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    error_samples: list[str] = field(default_factory=list)

    def note_error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)

        def pct(p: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else 0.0

        return {
            "sent": self.sent, "answered": len(ordered), "errors": self.errors, "seconds": round(self.seconds, 1),
            "rate": round(self.sent / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": round(ordered[-1], 1) if ordered else 0.0,
            "error_samples": self.error_samples,
        }


def _ok(response: httpx.Response) -> str | None:
    """None for a good answer, else why not."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text}"
    body = response.json()
    if body.get("errors") or body.get("data") is None:
        return json.dumps(body)
    for value in body["data"].values():
        if isinstance(value, dict) and "code" in value:  # a mutation's UserError member
            return json.dumps(body)
    return None


async def _send_at_rate(url: str, rate: float, duration: float, make: Any, *, headers: dict[str, str], timeout: float, connections: int) -> Figures:
    figures = Figures()
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, headers=headers) as client:
        start = time.perf_counter()
        total = int(rate * duration)

        async def one(i: int, due: float) -> None:
            try:
                response = await client.post("/graphql", json=make(i))
                problem = _ok(response)
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if problem is None:
                figures.latencies_ms.append((time.perf_counter() - due) * 1000)
            else:
                figures.note_error(problem)

        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(i, due)))
            figures.sent += 1
        figures.seconds = time.perf_counter() - start  # the sending time: what the rate is of
        # Bounded: what has not been answered ``timeout`` seconds after the last was sent is an error.
        _, late = await asyncio.wait(tasks, timeout=timeout + 5) if tasks else (set(), set())
        for task in late:
            task.cancel()
            figures.note_error("no answer before the run's end")
    return figures


def run_questions(url: str, *, rate: float, duration: float, token: str | None = None, timeout: float = 10.0, connections: int = 32) -> Figures:
    """Send `can`/`whoCan` questions open-loop at ``rate`` per second for ``duration`` seconds."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return asyncio.run(_send_at_rate(url, rate, duration, question, headers=headers, timeout=timeout, connections=connections))


def run_writes(url: str, *, rate: float, duration: float, token: str | None = None, timeout: float = 10.0) -> Figures:
    """Mutations at ``rate`` per second (newbie's tag ``load`` set to the write's number)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return asyncio.run(_send_at_rate(url, rate, duration, lambda i: {"query": TAG, "variables": {"v": str(i)}}, headers=headers, timeout=timeout, connections=2))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{url}/healthz", timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
                raise SystemExit(f"the server at {url} did not start") from None
            time.sleep(0.2)


@contextlib.contextmanager
def start_server(workers: int = 2, extra: Sequence[str] = (), folder: str | None = None) -> Iterator[str]:
    """`graphsim serve --workers N` on a fresh store, on a free loopback port; yields its URL and
    stops it (SIGTERM, then SIGKILL) on the way out."""
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("GRAPHSIM_TOKEN", "GRAPHSIM_READ_TOKEN")}
        command = [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--db", str(Path(tmp) / "load.db"), "--log-level", "warning", *extra]
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, proc)
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _loopback_only(url: str) -> None:
    host = httpx.URL(url).host
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"bench/load.py talks to loopback only, not {host}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60; at most 600)")
    parser.add_argument("--rate", type=float, default=200.0, help="questions per second (default 200)")
    parser.add_argument("--write-rate", type=float, default=10.0, help="mutations per second from another process (default 10; 0 for none)")
    parser.add_argument("--workers", type=int, default=2, help="server processes to start (default 2)")
    parser.add_argument("--url", help="a server already running on loopback (nothing is started)")
    parser.add_argument("--token-file", help="a write token to send (for a --url server that needs one)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds an answer may take before it counts as an error")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--writer", action="store_true", help=argparse.SUPPRESS)  # the writer process
    args = parser.parse_args(argv)
    # `timeout`/kill -TERM must still stop the server this started (the finally blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if not 0 < args.duration <= 600:
        parser.error("--duration must be between 0 and 600 seconds")
    token = Path(args.token_file).read_text(encoding="utf-8").strip() if args.token_file else None
    if args.writer:
        print(json.dumps((run_writes(args.url, rate=args.write_rate, duration=args.duration, token=token, timeout=args.timeout)).summary()))
        return 0

    def measure(url: str) -> dict[str, Any]:
        _loopback_only(url)
        writer = None
        if args.write_rate > 0:
            writer = subprocess.Popen(
                [sys.executable, __file__, "--writer", "--url", url, "--write-rate", str(args.write_rate), "--duration", str(args.duration),
                 "--timeout", str(args.timeout), *(["--token-file", args.token_file] if args.token_file else [])],
                stdout=subprocess.PIPE, text=True,
            )
        try:
            reads = run_questions(url, rate=args.rate, duration=args.duration, token=token, timeout=args.timeout)
            writes = json.loads(writer.communicate(timeout=args.duration + args.timeout + 60)[0]) if writer else None
        finally:
            if writer is not None and writer.poll() is None:
                writer.kill()
                writer.wait(timeout=10)
        final = httpx.post(f"{url}/graphql", json={"query": "{ world { name version } }"}, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=args.timeout).json()
        return {"questions": reads.summary(), "writes": writes, "world": final.get("data", {}).get("world"), "workers": None if args.url else args.workers}

    if args.url:
        result = measure(args.url.rstrip("/"))
    else:
        with start_server(args.workers) as url:
            result = measure(url)
    if args.json:
        print(json.dumps(result))
    else:
        q, w = result["questions"], result["writes"]
        print(f"questions: {q['sent']} sent in {q['seconds']} s = {q['rate']}/s (asked {args.rate:g}/s); {q['errors']} errors; "
              f"latency from when due p50 {q['p50_ms']} ms, p99 {q['p99_ms']} ms, max {q['max_ms']} ms")
        if w:
            print(f"writes:    {w['sent']} sent in {w['seconds']} s = {w['rate']}/s (asked {args.write_rate:g}/s); {w['errors']} errors; p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms")
        print(f"world after: {result['world']}; server: {'--workers ' + str(args.workers) if not args.url else args.url}")
        for sample in q["error_samples"] + (w["error_samples"] if w else []):
            print(f"  error: {sample}")
    failed = result["questions"]["errors"] or (result["writes"] or {}).get("errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
