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


@pytest.fixture
def workspace() -> Workspace:
    return Workspace.with_world()


@pytest.fixture
def gql(workspace: Workspace) -> GraphQLClient:
    with TestClient(create_app(workspace)) as http:
        yield GraphQLClient(http, workspace)
