"""The HTTP surface: GraphiQL for browsers, /healthz, CORS only when asked for."""

from __future__ import annotations

import os
import re

from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.workspace import Workspace


def test_graphiql_loads_for_a_browser() -> None:
    with TestClient(create_app(Workspace.with_world())) as http:
        page = http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "graphiql" in page.text.lower()
        home = http.get("/")
        assert home.status_code == 200 and '<form id="ask-form"' in home.text  # client/web/index.html
        # Offline: every script and stylesheet of the page is served by graphsim itself.
        assert "unpkg.com" not in page.text
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            assert http.get(asset).status_code == 200, asset
        assert len(re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text)) == 7
        # A person starts from the demo world's question rather than a blank editor.
        assert 'parameters.q || "# graphsim' in page.text


def test_healthz_names_the_default_world() -> None:
    with TestClient(create_app(Workspace.with_world())) as http:
        assert http.get("/healthz").json() == {"status": "ok", "version": "0.1.0", "store": "ok", "caughtUp": True, "worlds": ["final-friday"], "default": "final-friday", "process": os.getpid()}


def test_cors_is_off_by_default_and_on_for_named_origins() -> None:
    preflight = {"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    with TestClient(create_app(Workspace.with_world())) as http:
        assert "access-control-allow-origin" not in http.options("/graphql", headers=preflight).headers
    with TestClient(create_app(Workspace.with_world(), cors_origins=["http://localhost:5173"])) as http:
        response = http.options("/graphql", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
        other = http.options("/graphql", headers={**preflight, "Origin": "http://evil.example"})
        assert other.headers.get("access-control-allow-origin") != "http://evil.example"


def test_download_routes_answer_expected_failures_in_one_shape() -> None:
    with TestClient(create_app()) as http:
        missing = http.get("/export/matrix.csv", params={"actions": "s3:GetObject"})
        assert missing.status_code == 400
        assert missing.json() == {"error": "give actions=... and resources=... (comma-separated or repeated)", "code": "INVALID_INPUT", "field": "resources"}
        unknown = http.get("/export/matrix.csv", params={"actions": "s3:GetObject", "resources": "*", "world": "nowhere"})
        assert unknown.status_code == 404 and unknown.json()["code"] == "NOT_FOUND" and unknown.json()["field"] == "world"
        fmt = http.get("/export/graph/decision.svg")
        assert fmt.status_code == 400 and fmt.json()["field"] == "format" and fmt.json()["code"] == "INVALID_INPUT"
