from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.workspace import Workspace


class GraphQLClient:
    """Posts operations to /graphql over the real HTTP app and returns the JSON body."""

    def __init__(self, http: TestClient, workspace: Workspace) -> None:
        self.http = http
        self.workspace = workspace

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture(autouse=True)
def _own_store(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test (and every process it starts) gets its own default store, never the user's."""
    monkeypatch.setenv("GRAPHSIM_DB", str(tmp_path_factory.mktemp("store") / "graphsim.db"))
    for name in ("GRAPHSIM_TOKEN", "GRAPHSIM_READ_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def workspace() -> Workspace:
    return Workspace.with_world()


@pytest.fixture
def gql(workspace: Workspace) -> GraphQLClient:
    with TestClient(create_app(workspace)) as http:
        yield GraphQLClient(http, workspace)


@contextmanager
def served(*args: str, wait: float = 30, env: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """``graphsim serve ARGS`` in its own process on a free loopback port (with ``env`` as its
    environment when given, its stderr written to ``log`` when given), once /healthz answers;
    its base URL. Stopped (killed if it will not stop) when the block ends."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with open(log or os.devnull, "wb") as stderr:  # the child keeps its own copy
        proc = subprocess.Popen(
            [sys.executable, "-m", "graphsim.cli", "serve", *args, "--port", str(port), "--log-level", "warning"],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """A real graphsim server (uvicorn, in its own process) on a throw-away store."""
    with served("--db", ":memory:") as url:
        yield url


# ---- stores: the same store tests run against SQLite and PostgreSQL --------------------------


@pytest.fixture(scope="session")
def postgres() -> Any:
    """A throw-away PostgreSQL cluster for the whole run (tests/postgres_cluster.py); a run
    where it cannot start fails with the reason, never skips."""
    from tests.postgres_cluster import ClusterError, start_cluster

    try:
        cluster = start_cluster()
    except ClusterError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.stop()


class StoreUnderTest:
    """One store location and a way to look at its tables directly, whichever the backend."""

    def __init__(self, kind: str, location: str) -> None:
        self.kind = kind
        self.location = location

    def __str__(self) -> str:
        return self.location

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        if self.kind == "sqlite":
            import sqlite3

            with sqlite3.connect(self.location) as conn:
                return conn.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as conn:
            return [tuple(row) for row in conn.execute(sql).fetchall()]  # type: ignore[arg-type]

    def execute(self, sql: str) -> None:
        if self.kind == "sqlite":
            import sqlite3

            conn = sqlite3.connect(self.location)
            with conn:
                conn.execute(sql)
            conn.close()
            return
        import psycopg

        with psycopg.connect(self.location, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StoreUnderTest:
    """A new, empty store: an SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return StoreUnderTest("sqlite", str(tmp_path / "g.db"))
    return StoreUnderTest("postgres", request.getfixturevalue("postgres").new_database())
