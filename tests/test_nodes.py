"""Global ids: every entity a list shows has an `id` that `node(id:)` and `nodes(ids:)` fetch
again; ids are stable across restarts of the same world and differ in a fork."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.workspace import Workspace
from graphsim.world.io import load_demo_world
from tests.conftest import GraphQLClient

FULL_AWS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# Everything a frontend lists, with the id of each entity and a field that names it.
LISTED = """{ world {
  accountsConnection(first: 500) { nodes { __typename id accountId } }
  usersConnection(first: 500) { nodes { __typename id name uniqueId } }
  groupsConnection(first: 500) { nodes { __typename id name uniqueId } }
  rolesConnection(first: 500) { nodes { __typename id name uniqueId policies { __typename id name statements { __typename id label } } } }
  policiesConnection(first: 500) { nodes { __typename id name statements { __typename id label } } }
  resourcesConnection(first: 500) { nodes { __typename id arn } }
  users: usersConnection(first: 500) { nodes { policies { __typename id name statements { __typename id label } } } }
  organization { units { __typename id key name } policies { __typename id name } }
} }"""
# What node(id:) answers for each type: the same naming field.
NODE = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
  ... on Account { accountId } ... on User { name } ... on Group { name } ... on Role { name }
  ... on Policy { name } ... on Statement { label } ... on Resource { arn } ... on OrgUnit { name } ... on OrgPolicy { name } } }"""


def _org_world() -> Workspace:
    world = load_demo_world()
    world.create_organization("111122223333", root_id="r-ff01")
    world.add_ou("Workloads", "r-ff01", ou_id="ou-ff01-work1234")
    world.add_org_policy("FullAWSAccess", "scp", FULL_AWS)
    world.attach_org_policy("FullAWSAccess", "r-ff01")
    return Workspace.with_world(world)


def _entities(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every entity in LISTED's answer, nested statements and inline policies included."""
    out: list[dict[str, Any]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "id" in value and "__typename" in value:
                out.append({k: v for k, v in value.items() if not isinstance(v, list)})
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data)
    unique = {e["id"]: e for e in out}
    return list(unique.values())


def test_node_returns_every_listed_entity_of_every_kind() -> None:
    ws = _org_world()
    with TestClient(create_app(ws)) as http:
        gql = GraphQLClient(http, ws)
        entities = _entities(gql.data(LISTED))
        kinds = {e["__typename"] for e in entities}
        assert kinds == {"Account", "User", "Group", "Role", "Policy", "Statement", "Resource", "OrgUnit", "OrgPolicy"}
        # Inline policies (omar's OwnLogs, the role's ReadClassified) are Policy nodes too.
        assert {e["name"] for e in entities if e["__typename"] == "Policy"} >= {"OwnLogs", "ReadClassified", "AdministratorAccess"}
        for entity in entities:
            got = gql.data("query($id: ID!) { node(id: $id) { __typename id ... on User { name uniqueId } ... on Group { name uniqueId } ... on Role { name uniqueId } "
                           "... on Account { accountId } ... on Policy { name } ... on Statement { label } ... on Resource { arn } ... on OrgUnit { key name } "
                           "... on OrgPolicy { name } } }", id=entity["id"])["node"]
            assert got == entity
        # nodes(ids:) answers in the order asked, all at once.
        ids = [e["id"] for e in entities]
        assert [n["id"] for n in gql.data(NODE, ids=ids[::-1])["nodes"]] == ids[::-1]


def test_aws_unique_ids_moved_to_unique_id(gql: GraphQLClient) -> None:
    newbie = gql.data('{ world { user(name: "newbie") { id uniqueId } } }')["world"]["user"]
    assert newbie["uniqueId"].startswith("AIDA") and newbie["id"] != newbie["uniqueId"]


def test_ids_are_stable_across_restarts_and_differ_in_a_fork(tmp_path: Path) -> None:
    query = '{ world { user(name: "newbie") { id policies { id statements { id } } } } }'
    db = tmp_path / "store.db"
    with TestClient(create_app(Workspace.open(db))) as http:
        first = http.post("/graphql", json={"query": query}).json()["data"]
        http.post("/graphql", json={"query": 'mutation { forkWorld(source: "final-friday", name: "review") { __typename } }'})
        fork = http.post("/graphql", json={"query": query.replace("world {", 'world(name: "review") {')}).json()["data"]
    with TestClient(create_app(Workspace.open(db))) as http:
        again = http.post("/graphql", json={"query": query}).json()["data"]
    assert again == first
    assert fork["world"]["user"]["id"] != first["world"]["user"]["id"]


def test_a_bad_id_is_a_typed_error_and_a_gone_entity_is_null(gql: GraphQLClient) -> None:
    for bad in ("nonsense", "", "Z3NuMQ"):  # the last is base64 of the prefix alone
        body = gql("query($id: ID!) { node(id: $id) { id } }", id=bad)
        assert body["errors"][0]["extensions"] == {"code": "INVALID_ID", "field": "id"}, bad
    kai = gql.data('{ world { user(name: "kai") { id } } }')["world"]["user"]["id"]
    body = gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", ids=[kai, "nonsense"])
    assert body["errors"][0]["extensions"] == {"code": "INVALID_ID", "field": "ids[1]"}
    gql.data('mutation { deleteUser(name: "kai") { __typename } }')
    assert gql.data("query($id: ID!) { node(id: $id) { id } }", id=kai) == {"node": None}


@pytest.mark.parametrize("kind", ["user", "group", "role"])
def test_a_global_id_of_one_type_does_not_fetch_another(gql: GraphQLClient, kind: str) -> None:
    # An id is its type's: the same key under another type name is a well-formed id of nothing.
    import base64

    name = {"user": "newbie", "group": "HR", "role": "ClassifiedReader"}[kind]
    got = gql.data(f'{{ world {{ {kind}(name: "{name}") {{ arn }} }} }}')["world"][kind]
    other = "Resource" if kind != "user" else "Group"
    raw = "\x1f".join(("gsn1", other, "final-friday", got["arn"]))
    forged = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert gql.data("query($id: ID!) { node(id: $id) { id } }", id=forged) == {"node": None}


def test_a_long_bad_id_is_not_echoed_whole(gql: GraphQLClient) -> None:
    body = gql("query($id: ID!) { node(id: $id) { id } }", id="x" * 100_000)
    message = body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
    assert "(100,000 characters)" in message and len(message) < 300


@pytest.mark.parametrize("name", ["a\x1fb", "x\n\x00y", "tab\there", "bell\x07"])
def test_a_world_name_with_a_control_character_is_refused_and_nothing_is_made(gql: GraphQLClient, name: str) -> None:
    query = "mutation($n: String!) { forkWorld(source: \"final-friday\", name: $n) { __typename ... on UserError { message field } } }"
    error = gql.data(query, n=name)["forkWorld"]
    assert error["__typename"] == "InvalidInput" and error["field"] == "name", error
    assert f"U+{ord(next(c for c in name if ord(c) < 32)):04X}" in error["message"]
    assert [w["name"] for w in gql.data("{ worlds { name } }")["worlds"]] == ["final-friday"]
