from __future__ import annotations

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


@pytest.fixture(scope="session")
def live_server() -> str:
    """A real graphsim server (uvicorn, in its own process) on a throw-away store."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "graphsim.cli", "serve", "--db", ":memory:", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait()
