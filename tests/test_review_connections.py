"""whoCan, findings and the access matrix's cells as cursor connections: the same answers as the
lists, a page at a time, computed once per world version."""

from __future__ import annotations

from typing import Any

import pytest

from graphsim import analysis
from tests.conftest import GraphQLClient

CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
WHO = """query($after: String) { whoCanConnection(actions: ["s3:GetObject"], resource: "CLASSIFIED", first: 1, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { label access } } }""".replace("CLASSIFIED", CLASSIFIED)


def _walk(gql: GraphQLClient, query: str, path: list[str]) -> tuple[list[dict[str, Any]], int, int]:
    """(every node, totalCount, pages) of the connection at ``path``."""
    nodes: list[dict[str, Any]] = []
    after, pages = None, 0
    while True:
        conn: Any = gql.data(query, after=after)
        for key in path:
            conn = conn[key]
        nodes += conn["nodes"]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes, conn["totalCount"], pages
        after = conn["pageInfo"]["endCursor"]


def test_who_can_pages_hold_the_list_and_are_computed_once(gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = analysis.who_can

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append("who_can")
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis, "who_can", counted)
    nodes, total, pages = _walk(gql, WHO, ["whoCanConnection"])
    assert [(n["label"], n["access"]) for n in nodes] == [("user/steve", "direct"), ("role/ClassifiedReader", "direct"), ("user/priya", "via-roles")]
    assert (total, pages, len(calls)) == (3, 3, 1)  # three pages, one computation
    first = gql.data(WHO)["whoCanConnection"]["pageInfo"]["endCursor"]
    gql.data('mutation { addUserToGroup(user: "newbie", group: "Administrators") { __typename } }')
    stale = gql(WHO, after=first)
    assert stale["errors"][0]["extensions"]["code"] == "STALE_CURSOR"
    nodes, total, _ = _walk(gql, WHO, ["whoCanConnection"])
    assert total == 4 and "user/newbie" in [n["label"] for n in nodes]  # computed again for the new version
    assert len(calls) == 2  # a refused cursor costs no review; the new walk computes it once for the new version


def test_findings_pages_hold_the_list(gql: GraphQLClient) -> None:
    query = """query($after: String) { findingsConnection(rules: ["admin-equivalent", "user-direct-policy"], first: 3, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { rule path } } }"""
    nodes, total, pages = _walk(gql, query, ["findingsConnection"])
    assert [(n["rule"], n["path"]) for n in nodes] == [
        ("admin-equivalent", "user/priya"), ("admin-equivalent", "user/steve"), ("user-direct-policy", "user/newbie"), ("user-direct-policy", "user/omar")]
    assert (total, pages) == (4, 2)


def test_matrix_cells_page(gql: GraphQLClient) -> None:
    query = """query($after: String) { accessMatrix(actions: ["s3:GetObject", "s3:PutObject"], resources: ["CLASSIFIED"]) {
      cells { principal action decision }
      cellsConnection(first: 5, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { principal action decision } } } }""".replace("CLASSIFIED", CLASSIFIED)
    whole = gql.data(query)["accessMatrix"]["cells"]
    nodes, total, pages = _walk(gql, query, ["accessMatrix", "cellsConnection"])
    assert nodes == whole and total == len(whole) == 16  # 8 principals (7 users, 1 role) x 2 actions x 1 resource
    assert pages == 4
    steve = {(c["action"], c["decision"]) for c in nodes if c["principal"].endswith("user/steve")}
    assert steve == {("s3:GetObject", "ALLOWED"), ("s3:PutObject", "ALLOWED")}
