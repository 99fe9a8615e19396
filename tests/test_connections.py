"""Cursor connections over HTTP: pages, cursors (valid until the world changes), filters, order."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.api.connections import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from graphsim.workspace import Workspace
from graphsim.world.io import load_demo_world
from tests.conftest import GraphQLClient

DEMO_USERS = ["dana", "harriet", "kai", "newbie", "omar", "priya", "steve"]
PAGE = """query($first: Int, $after: String, $filter: UserFilter, $order: Order) {
  world { usersConnection(first: $first, after: $after, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { name } } nodes { name } } } }"""


def _crowded_workspace(extra: int) -> Workspace:
    """The demo world with ``extra`` more users: u000.. (every third under /eng/, tagged by parity)."""
    world = load_demo_world()
    for i in range(extra):
        world.add_user(f"u{i:03d}", path="/eng/" if i % 3 == 0 else "/", tags={"parity": "even" if i % 2 == 0 else "odd"})
    return Workspace.with_world(world)


@pytest.fixture
def crowded() -> GraphQLClient:
    ws = _crowded_workspace(130)
    with TestClient(create_app(ws)) as http:
        yield GraphQLClient(http, ws)


def _page(gql: GraphQLClient, **variables: Any) -> dict[str, Any]:
    return gql.data(PAGE, **variables)["world"]["usersConnection"]


def _error(gql: GraphQLClient, query: str = PAGE, **variables: Any) -> dict[str, Any]:
    body = gql(query, **variables)
    assert body.get("errors"), body
    return body["errors"][0]


def test_walking_every_page_returns_every_user_once_in_name_order(crowded: GraphQLClient) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = _page(crowded, first=40, after=after)
        assert page["totalCount"] == 137
        assert [e["node"]["name"] for e in page["edges"]] == [n["name"] for n in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [n["name"] for n in page["nodes"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    expected = sorted([f"u{i:03d}" for i in range(130)] + DEMO_USERS)
    assert seen == expected  # each once, by name
    assert pages == 4  # 40 + 40 + 40 + 17


def test_default_and_maximum_page_size(crowded: GraphQLClient) -> None:
    assert len(_page(crowded)["nodes"]) == DEFAULT_PAGE_SIZE == 50
    assert _page(crowded, first=0)["nodes"] == []
    error = _error(crowded, first=MAX_PAGE_SIZE + 1)
    assert error["extensions"] == {"code": "PAGE_TOO_LARGE", "field": "first", "maxPageSize": 500}
    assert "at most 500" in error["message"]
    assert _error(crowded, first=-1)["extensions"]["code"] == "INVALID_INPUT"


def test_a_cursor_fails_typed_once_the_world_changed(crowded: GraphQLClient) -> None:
    first = _page(crowded, first=10)
    cursor = first["pageInfo"]["endCursor"]
    assert [n["name"] for n in _page(crowded, first=2, after=cursor)["nodes"]] == ["u003", "u004"]  # still valid: after dana..steve, u000..u002
    crowded.data('mutation { createUser(name: "aaron") { __typename } }')
    error = _error(crowded, first=2, after=cursor)
    assert error["extensions"] == {"code": "STALE_CURSOR", "field": "after", "world": "final-friday", "cursorVersion": 0, "worldVersion": 1}
    # A fresh walk sees the new user first.
    assert _page(crowded, first=1)["nodes"] == [{"name": "aaron"}]


def test_a_cursor_of_another_listing_or_a_made_up_one_is_refused(crowded: GraphQLClient) -> None:
    cursor = _page(crowded, first=5)["pageInfo"]["endCursor"]
    foreign = _error(crowded, first=5, after=cursor, filter={"namePrefix": "u"})
    assert foreign["extensions"] == {"code": "INVALID_CURSOR", "field": "after"}
    groups = crowded.data("{ world { groupsConnection(first: 1) { pageInfo { endCursor } } } }")["world"]["groupsConnection"]["pageInfo"]["endCursor"]
    assert _error(crowded, first=5, after=groups)["extensions"]["code"] == "INVALID_CURSOR"
    for junk in ("nonsense!", "", "Zm9v"):
        assert _error(crowded, first=5, after=junk)["extensions"] == {"code": "INVALID_CURSOR", "field": "after"}


def test_a_cursor_with_a_forged_position_is_refused(crowded: GraphQLClient) -> None:
    from graphsim.api.tokens import pack, unpack

    last = _page(crowded, first=500)["pageInfo"]["endCursor"]  # the 137th user's
    # After the last item: an empty last page, as a walk that ends there sees it.
    assert _page(crowded, first=5, after=last)["nodes"] == [] and _page(crowded, first=5, after=last)["pageInfo"]["hasNextPage"] is False
    fields = unpack(last)
    assert fields[-1] == "136"
    for position in ("137", "100000"):  # the same list, world and version; a position no page gave
        forged = pack([*fields[:-1], position])
        error = _error(crowded, first=5, after=forged)
        assert error["extensions"] == {"code": "INVALID_CURSOR", "field": "after"} and "past the end" in error["message"]
    # The same encoding carries global ids: one id fetches its user again.
    user = crowded.data('{ world { usersConnection(first: 1) { nodes { id name } } } }')["world"]["usersConnection"]["nodes"][0]
    assert unpack(user["id"], 3)[1] == "User"
    assert crowded.data("query($id: ID!) { node(id: $id) { ... on User { name } } }", id=user["id"])["node"] == {"name": user["name"]}


def _names(gql: GraphQLClient, field: str, filter_type: str, flt: dict[str, Any] | None = None, order: dict[str, Any] | None = None) -> list[str]:
    query = f"""query($f: {filter_type}, $o: Order) {{ world {{ {field}(first: 500, filter: $f, orderBy: $o) {{ totalCount nodes {{ name }} }} }} }}"""
    conn = gql.data(query, f=flt, o=order)["world"][field]
    names = [n["name"] for n in conn["nodes"]]
    assert conn["totalCount"] == len(names)
    return names


def test_user_filters(crowded: GraphQLClient) -> None:
    users = lambda **f: _names(crowded, "usersConnection", "UserFilter", f)  # noqa: E731
    assert users(namePrefix="U12") == ["u120", "u121", "u122", "u123", "u124", "u125", "u126", "u127", "u128", "u129"]  # case-insensitive
    assert users(nameContains="RI") == ["harriet", "priya"]
    assert len(users(pathPrefix="/eng/")) == 44  # 0, 3, ..., 129
    assert users(pathPrefix="/ENG/") == []  # paths are case-sensitive
    assert users(tag={"key": "team", "value": "platform"}) == ["priya", "steve"]
    assert users(tag={"key": "team"}) == DEMO_USERS
    assert users(group="DevOps") == ["kai", "omar", "priya"]
    assert users(attachedPolicy="FinalFridayReportsReadOnly") == ["newbie"]
    assert users(account="111122223333", namePrefix="n") == ["newbie"]
    assert users(account="999999999999") == []
    assert len(users(pathPrefix="/eng/", tag={"key": "parity", "value": "odd"})) == 22  # every condition must hold
    error = _error(crowded, first=5, filter={"attachedPolicy": "NoSuchPolicy"})
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "filter.attachedPolicy"}


def test_order_by(gql: GraphQLClient) -> None:
    assert _names(gql, "usersConnection", "UserFilter") == DEMO_USERS
    assert _names(gql, "usersConnection", "UserFilter", order={"direction": "DESC"}) == DEMO_USERS[::-1]
    # By ARN: AWS-managed policies (arn:aws:iam::aws:...) sort after the account's own.
    assert _names(gql, "policiesConnection", "PolicyFilter", order={"field": "ARN"}) == ["DevOpsDeploy", "FinalFridayReportsReadOnly", "HRReports", "AdministratorAccess"]
    assert _names(gql, "policiesConnection", "PolicyFilter") == ["AdministratorAccess", "DevOpsDeploy", "FinalFridayReportsReadOnly", "HRReports"]


def test_the_other_lists_page_and_filter(gql: GraphQLClient) -> None:
    assert _names(gql, "groupsConnection", "GroupFilter") == ["Administrators", "DevOps", "HR"]
    assert _names(gql, "groupsConnection", "GroupFilter", {"attachedPolicy": "arn:aws:iam::aws:policy/AdministratorAccess"}) == ["Administrators"]
    assert _names(gql, "rolesConnection", "RoleFilter", {"nameContains": "reader"}) == ["ClassifiedReader"]
    assert _names(gql, "policiesConnection", "PolicyFilter", {"awsManaged": True}) == ["AdministratorAccess"]
    assert _names(gql, "policiesConnection", "PolicyFilter", {"awsManaged": False, "namePrefix": "f"}) == ["FinalFridayReportsReadOnly"]
    assert _names(gql, "policiesConnection", "PolicyFilter", {"attached": False}) == []
    buckets = _names(gql, "resourcesConnection", "ResourceFilter", {"type": "s3:bucket"})
    assert buckets == ["final-friday-classified", "final-friday-reports"]
    objects = _names(gql, "resourcesConnection", "ResourceFilter", {"type": "s3:object", "nameContains": "q4"})
    assert len(objects) == 2


def test_history_pages_newest_first(tmp_path: Any) -> None:
    ws = Workspace.open(tmp_path / "store.db")
    with TestClient(create_app(ws)) as http:
        gql = GraphQLClient(http, ws)
        for name in ("ann", "bob", "cy"):
            gql.data(f'mutation {{ createUser(name: "{name}") {{ __typename }} }}')
        query = """query($after: String) { world { historyConnection(first: 2, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } nodes { version mutation summary } } } }"""
        first = gql.data(query)["world"]["historyConnection"]
        assert first["totalCount"] == 4 and [n["version"] for n in first["nodes"]] == [3, 2]
        second = gql.data(query, after=first["pageInfo"]["endCursor"])["world"]["historyConnection"]
        assert [(n["version"], n["mutation"]) for n in second["nodes"]] == [(1, "createUser"), (0, "createWorld")]
        assert second["pageInfo"]["hasNextPage"] is False
