"""A store URL's password opens the store in every process and is never printed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from graphsim.store.location import redact

SECRET = "Secr3t-pw"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://gs:Secr3t-pw@127.0.0.1:5432/gs", "postgresql://gs:***@127.0.0.1:5432/gs"),
    ("postgresql://u:p@ss@host/x", "postgresql://u:***@host/x"),  # a password holding '@'
    ("postgresql://u@127.0.0.1:1/x?password=hunter2", "postgresql://u@127.0.0.1:1/x?password=***"),
    ("postgresql://u@h/db?sslmode=require&PASSWORD=x&a=b", "postgresql://u@h/db?sslmode=require&PASSWORD=***&a=b"),
    ("postgresql://u@h/db", "postgresql://u@h/db"),
    ("/tmp/a:b@c.db", "/tmp/a:b@c.db"),  # a file path is not a URL
])
def test_messages_show_a_store_url_without_its_password(url: str, shown: str) -> None:
    assert redact(url) == shown


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_workers_open_a_password_protected_postgresql_store_and_never_print_the_password(postgres: Any) -> None:
    url = postgres.password_database("gs_pw", SECRET)
    wrong = url.replace(SECRET, "not-the-password")
    refused = subprocess.run([sys.executable, "-m", "graphsim.cli", "worlds", "--db", wrong], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "password authentication failed" in refused.stderr
    assert "not-the-password" not in refused.stderr + refused.stdout

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("GRAPHSIM_TOKEN", "GRAPHSIM_READ_TOKEN")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphsim.cli", "serve", "--workers", "2", "--port", str(port), "--db", url, "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        answers: set[int] = set()
        while len(answers) < 2:  # both workers reached the store with the password
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                if health.status_code == 200 and health.json().get("store") == "ok":
                    answers.add(health.json()["process"])
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        asked = httpx.post(f"{base}/graphql", json={"query": '{ can(principal: "newbie", action: "s3:GetBucketLocation", resource: "final-friday-reports") { decision } }'}, timeout=30)
        assert asked.json() == {"data": {"can": {"decision": "IMPLICIT_DENY"}}}
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate(timeout=10)
    assert SECRET not in output and "Traceback" not in output
