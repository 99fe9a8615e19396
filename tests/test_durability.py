"""A real server on a temporary store (an SQLite file, then a PostgreSQL database), killed with
SIGKILL in the middle of a stream of mutations: every acknowledged mutation survives, none is
half-applied, the store is sound."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx

from tests.conftest import StoreUnderTest

GRAPHSIM = [sys.executable, "-m", "graphsim.cli"]
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db: str, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([*GRAPHSIM, "serve", "--db", db, "--port", str(port), "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("server did not start")


def test_sigkill_mid_stream_loses_nothing_acknowledged(store: StoreUnderTest) -> None:
    db = store.location
    port = free_port()
    proc = start(db, port)
    acknowledged: list[str] = []
    stop = threading.Event()

    def stream() -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for i in range(10_000):
                if stop.is_set():
                    return
                name = f"Role{i}"
                try:
                    body = http.post("/graphql", json={
                        "query": "mutation($n: String!, $t: String!) { createRole(name: $n, trustPolicy: $t) { __typename } }",
                        "variables": {"n": name, "t": TRUST},
                    }).json()
                except httpx.HTTPError:
                    return  # the server died under us: this one was never acknowledged
                assert body["data"]["createRole"]["__typename"] == "RolePayload", body
                acknowledged.append(name)

    sender = threading.Thread(target=stream)
    sender.start()
    while len(acknowledged) < 40:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: requests are in flight
    proc.wait()
    stop.set()
    sender.join()
    assert len(acknowledged) >= 40

    if store.kind == "sqlite":
        assert store.rows("PRAGMA integrity_check") == [("ok",)]
    ((version,),) = store.rows("SELECT version FROM worlds WHERE name = 'final-friday'")
    versions = [v for (v,) in store.rows("SELECT version FROM changes WHERE world = 'final-friday' ORDER BY version")]
    assert versions == list(range(int(version) + 1))  # type: ignore[call-overload]  # no gap, no change without its version bump

    proc = start(db, port)
    try:
        roles = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": "{ world { version roles { name trustPolicy } } }"}).json()["data"]["world"]
    finally:
        proc.terminate()
        proc.wait()
    by_name = {r["name"]: r for r in roles["roles"]}
    assert set(acknowledged) <= set(by_name)
    # At most the one in flight when the process died may have committed unacknowledged.
    assert len(set(by_name) - {"ClassifiedReader"} - set(acknowledged)) <= 1
    for name, role in by_name.items():
        assert role["trustPolicy"]["Statement"][0]["Action"] == "sts:AssumeRole", name  # no role without its trust policy
    assert roles["version"] == len(by_name) - 1
