"""The web page's assets: Cytoscape.js and its dagre layout are vendored in the package with
their licences and loaded with integrity hashes that match the files; the page, its script and
the example-operations index are served by graphsim itself (offline)."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.workspace import Workspace

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "graphsim" / "api" / "static" / "graph"


def test_vendored_scripts_carry_their_licences() -> None:
    assert sorted(p.name for p in VENDOR.iterdir()) == [
        "LICENSE.cytoscape-3.34.4", "LICENSE.cytoscape-dagre-4.0.1", "LICENSE.dagre", "LICENSE.graphlib", "README.md",
        "cytoscape-dagre.min.js", "cytoscape.min.js",
    ]
    for licence in VENDOR.glob("LICENSE.*"):
        assert "Permission is hereby granted, free of charge" in licence.read_text(encoding="utf-8"), licence.name


def test_the_page_loads_every_script_from_graphsim_with_matching_integrity() -> None:
    with TestClient(create_app(Workspace.with_world())) as http:
        page = http.get("/")
        assert page.status_code == 200 and '<form id="ask-form"' in page.text
        assert "http://" not in re.sub(r"\?server=http://[^<\s]+", "", page.text) and "https://" not in page.text
        scripts = re.findall(r'<script src="([^"]+)"(?: integrity="([^"]+)")?', page.text)
        assert [s for s, _ in scripts] == ["/static/graph/cytoscape.min.js", "/static/graph/cytoscape-dagre.min.js", "/web/app.js"]
        for src, integrity in scripts:
            body = http.get(src)
            assert body.status_code == 200, src
            if integrity:
                digest = "sha384-" + base64.b64encode(hashlib.sha384(body.content).digest()).decode()
                assert integrity == digest, src
        assert http.get("/web/app.css").status_code == 200


def test_graphiql_is_titled_graphsim_and_every_example_is_one_click_away() -> None:
    with TestClient(create_app(Workspace.with_world())) as http:
        ide = http.get("/graphql", headers={"Accept": "text/html"}).text
        assert "<title>graphsim · GraphiQL</title>" in ide and "/operations" in ide
        index = http.get("/operations").text
        links = dict((name, unquote(q)) for q, name in re.findall(r'<a href="/graphql\?q=([^"]+)">([^<]+)</a>', index))
        operations = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "schema" / "operations").glob("*.graphql")}
        assert links == operations
