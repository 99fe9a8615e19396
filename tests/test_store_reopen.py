"""A store always reopens: organization trees in any id order snapshot and reload, and one
unreadable world leaves the others served and is named with the reason.

An organization is a tree: a root, OUs under the root or under other OUs, accounts under either
(D: https://docs.aws.amazon.com/organizations/latest/APIReference/API_CreateOrganizationalUnit.html:
"Creates an organizational unit (OU) within a root or parent OU." ... "For service control
policies, the limit is five" levels). OU ids are random ("ou-" then the root's id, a dash and
8 to 32 lowercase letters or digits, as that page gives the pattern), so a child's id may sort
before its parent's; loading must not depend on that order.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT, EXIT_OK, main
from graphsim.errors import UnreadableWorldError
from graphsim.workspace import Workspace
from graphsim.world import EdgeKind, NodeKind, World
from graphsim.world.io import WorldFileError, world_from_dict, world_to_dict
from tests.conftest import GraphQLClient, StoreUnderTest

MANAGEMENT = "111122223333"  # the demo world's account
ROOT = "r-root"
DENY = ["s3:DeleteBucket", "iam:CreateUser", "ec2:RunInstances", "organizations:LeaveOrganization"]


@dataclass(frozen=True)
class OrgSpec:
    """A drawn organization: OUs (id, parent index or -1 for the root), accounts placed under a
    level (None: outside the organization), SCPs with their targets."""

    ous: list[tuple[str, int]]
    names: list[str]
    accounts: list[tuple[str, int | None]]
    scps: list[tuple[str, str, list[str]]]  # name, denied action, targets (root id, OU ids, account ids)

    def parent_id(self, index: int | None) -> str:
        return ROOT if index is None or index < 0 else self.ous[index][0]


@st.composite
def org_specs(draw: st.DrawFn) -> OrgSpec:
    n = draw(st.integers(1, 7))  # parents are drawn before children: depth up to 7 (deeper than AWS's 5)
    suffixes = draw(st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=8), min_size=n, max_size=n, unique=True))
    if draw(st.booleans()):
        # Children (drawn after their parents) get the smaller ids: they sort first by key.
        suffixes.sort(reverse=True)
    parents = [-1] + [draw(st.integers(-1, i - 1)) for i in range(1, n)]
    ous = [(f"ou-root-{s}", p) for s, p in zip(suffixes, parents, strict=True)]
    names = [draw(st.sampled_from(["Prod", "Dev", "Sandbox", "Security"])) for _ in range(n)]  # names may repeat, ids do not
    account_ids = draw(st.lists(st.integers(2 * 10**11, 10**12 - 1).map(str), max_size=4, unique=True))
    accounts = [(a, draw(st.none() | st.integers(-1, n - 1))) for a in account_ids if a != MANAGEMENT]
    targets = [ROOT] + [ou for ou, _ in ous] + [a for a, p in accounts if p is not None] + [MANAGEMENT]
    scps = [
        (f"Deny{i}", draw(st.sampled_from(DENY)), draw(st.lists(st.sampled_from(targets), max_size=4, unique=True)))
        for i in range(draw(st.integers(0, 3)))
    ]
    return OrgSpec(ous, names, accounts, scps)


def org_shape(world: World) -> dict[str, Any]:
    """The organization as the graph holds it: each OU's and placed account's parent, each SCP's targets."""
    def level(key: str) -> str:
        data = world.node(key)
        return data["account"] if data["kind"] is NodeKind.ACCOUNT else data["name"] if data["kind"] is NodeKind.ORG_ROOT else data["ou_id"]

    def parent(key: str) -> str:
        return level(next(p for p, _ in world.out_edges(key, EdgeKind.CHILD_OF)))

    return {
        "ous": {d["ou_id"]: (d["name"], parent(k)) for k, d in world.nodes_of(NodeKind.OU)},
        "accounts": {d["account"]: parent(k) for k, d in world.nodes_of(NodeKind.ACCOUNT) if any(world.out_edges(k, EdgeKind.CHILD_OF))},
        "scps": {d["name"]: sorted(level(t) for t, _ in world.in_edges(k, EdgeKind.GOVERNED_BY_ORG)) for k, d in world.nodes_of(NodeKind.ORG_POLICY)},
    }


def expected_shape(spec: OrgSpec, names: list[str]) -> dict[str, Any]:
    accounts = {MANAGEMENT: ROOT} | {a: spec.parent_id(p) for a, p in spec.accounts if p is not None}
    return {
        "ous": {ou: (name, spec.parent_id(p)) for (ou, p), name in zip(spec.ous, names, strict=True)},
        "accounts": accounts,
        "scps": {name: sorted(targets) for name, _, targets in spec.scps},
    }


def graph_of(world: World) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Node keys and edges (without provenance, which names where an edge came from)."""
    return sorted(world.graph.nodes), sorted(world.graph.edges(keys=True))


def scp_document(action: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": action, "Resource": "*"}]})


@contextmanager
def temporary_db() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder) / "g.db"


def build_through_graphql(gql: GraphQLClient, spec: OrgSpec) -> None:
    def ok(mutation: str, **variables: Any) -> None:
        (result,) = gql.data(mutation, **variables).values()
        assert result["__typename"] in ("ChangePayload", "WorldPayload"), result

    op = "__typename ... on UserError { message }"
    for account, _ in spec.accounts:
        ok(f'mutation {{ createAccount(id: "{account}") {{ {op} }} }}')
    ok(f'mutation {{ createOrganization(managementAccount: "{MANAGEMENT}", rootId: "{ROOT}") {{ {op} }} }}')
    for ou, parent in spec.ous:
        # The mutation names an OU by its name, which is also its id.
        ok(f'mutation {{ createOrganizationalUnit(name: "{ou}", parent: "{spec.parent_id(parent)}") {{ {op} }} }}')
    for account, parent in spec.accounts:
        if parent is not None:
            ok(f'mutation {{ moveAccount(account: "{account}", parent: "{spec.parent_id(parent)}") {{ {op} }} }}')
    for name, action, targets in spec.scps:
        ok(f'mutation($d: String!) {{ createOrgPolicy(name: "{name}", type: "scp", document: $d) {{ {op} }} }}', d=scp_document(action))
        for target in targets:
            ok(f'mutation {{ attachOrgPolicy(policy: "{name}", target: "{target}") {{ {op} }} }}')


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=org_specs(), snapshot_every=st.integers(1, 6))
def test_org_trees_built_through_graphql_snapshot_and_reload(spec: OrgSpec, snapshot_every: int) -> None:
    with temporary_db() as db, mock.patch("graphsim.workspace.SNAPSHOT_EVERY", snapshot_every):
        ws = Workspace.open(db)
        with TestClient(create_app(ws)) as http:
            gql = GraphQLClient(http, ws)
            build_through_graphql(gql, spec)
            # A fork goes through the native world format at once.
            forked = gql.data('mutation { forkWorld(source: "final-friday", name: "copy") { __typename ... on UserError { message } } }')
            assert forked["forkWorld"]["__typename"] == "WorldPayload", forked
        live = ws.world()
        assert org_shape(live) == expected_shape(spec, [ou for ou, _ in spec.ous])
        reopened = Workspace.open(db)  # the latest automatic snapshot, then the changes after it
        assert reopened.unreadable == {}
        for name in ("final-friday", "copy"):
            assert world_to_dict(reopened.world(name)) | {"name": None} == world_to_dict(live) | {"name": None}
            assert graph_of(reopened.world(name)) == graph_of(live)


def org_folder(spec: OrgSpec) -> dict[str, Any]:
    """The files ``aws organizations`` prints for the spec, as an export folder holds them."""
    files: dict[str, Any] = {
        "describe-organization.json": {"Organization": {"Id": "o-abcdef1234", "MasterAccountId": MANAGEMENT, "FeatureSet": "ALL"}},
        "list-roots.json": {"Roots": [{"Id": ROOT, "Name": "Root"}]},
    }
    for index, parent in enumerate([ROOT] + [ou for ou, _ in spec.ous]):
        children = [{"Id": ou, "Name": name} for (ou, p), name in zip(spec.ous, spec.names, strict=True) if spec.parent_id(p) == parent]
        if children:
            files[f"list-organizational-units-for-parent-{parent}.json"] = {"OrganizationalUnits": children}
        placed = [{"Id": a, "Name": f"acct-{a}"} for a, p in [(MANAGEMENT, -1), *spec.accounts] if p is not None and spec.parent_id(p) == parent]
        if placed or index == 0:
            files[f"list-accounts-for-parent-{parent}.json"] = {"Accounts": placed}
    for i, (name, action, targets) in enumerate(spec.scps):
        pid = f"p-scp{i:05d}"
        files[f"describe-policy-{pid}.json"] = {"Policy": {
            "PolicySummary": {"Id": pid, "Name": name, "Type": "SERVICE_CONTROL_POLICY", "Description": f"denies {action}"},
            "Content": scp_document(action),
        }}
        for target in targets:
            listed = files.setdefault(f"list-policies-for-target-{target}-SERVICE_CONTROL_POLICY.json", {"Policies": []})
            listed["Policies"].append({"Id": pid, "Name": name, "Type": "SERVICE_CONTROL_POLICY"})
    return files


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=org_specs())
def test_org_trees_imported_from_an_organizations_folder_snapshot_and_reload(spec: OrgSpec) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "org"
        folder.mkdir()
        for file, body in org_folder(spec).items():
            (folder / file).write_text(json.dumps(body))
        db = Path(tmp) / "g.db"
        assert main(["import", str(folder), "--world", "org", "--db", str(db)]) == EXIT_OK
        assert main(["worlds", "--db", str(db)]) == EXIT_OK
        reopened = Workspace.open(db)
        assert reopened.unreadable == {}
        world = reopened.world("org")
        assert org_shape(world) == expected_shape(spec, spec.names)
        # Snapshot -> reload is the identity: the reloaded world writes the same file and graph.
        again = world_from_dict(world_to_dict(world), name="org")
        assert world_to_dict(again) == world_to_dict(world)
        assert graph_of(again) == graph_of(world)


def test_a_world_file_may_list_children_before_parents() -> None:
    """A hand-written file (or a snapshot written before OUs were kept in tree order) loads too."""
    data = world_to_dict(Workspace.with_world().world())
    data["organization"] = {
        "managementAccount": MANAGEMENT, "rootId": ROOT,
        "organizationalUnits": [
            {"id": "ou-root-aaaa2222", "name": "Inner", "parent": "ou-root-zzzz1111"},
            {"id": "ou-root-zzzz1111", "name": "Outer", "parent": ROOT},
        ],
        "accounts": [{"id": MANAGEMENT, "parent": "ou-root-aaaa2222"}],
        "policies": [],
    }
    world = world_from_dict(data)
    assert world.org_chain(MANAGEMENT) == ["org-root/r-root", "ou/ou-root-zzzz1111", "ou/ou-root-aaaa2222", f"arn:aws:iam::{MANAGEMENT}:root"]
    # Written back parents first.
    assert [ou["id"] for ou in world_to_dict(world)["organization"]["organizationalUnits"]] == ["ou-root-zzzz1111", "ou-root-aaaa2222"]


def test_a_cycle_of_ous_is_refused_naming_each_entry() -> None:
    data = world_to_dict(Workspace.with_world().world())
    data["organization"] = {
        "managementAccount": MANAGEMENT, "rootId": ROOT, "accounts": [], "policies": [],
        "organizationalUnits": [{"id": "ou-a", "name": "A", "parent": "ou-b"}, {"id": "ou-b", "name": "B", "parent": "ou-a"}],
    }
    with pytest.raises(WorldFileError) as caught:
        world_from_dict(data, source="cycle.json")
    problems = [(p.path, p.rule) for p in caught.value.problems]
    assert problems == [
        ("organization.organizationalUnits[0]", "no organization root, OU or account named 'ou-b'"),
        ("organization.organizationalUnits[1]", "no organization root, OU or account named 'ou-a'"),
    ]


# ---- a store with one unreadable world ---------------------------------------------------------


def store_with_a_damaged_world(store: StoreUnderTest) -> str:
    db = store.location
    ws = Workspace.open(db)
    ws.fork("final-friday", "staging")
    ws.fork("final-friday", "damaged")
    # Valid JSON (the table checks that much), but not a world.
    store.execute("""UPDATE snapshots SET data = '{"format": "graphsim-world", "formatVersion": 7}' WHERE world = 'damaged'""")
    return db


def test_a_store_with_an_unreadable_world_still_opens_and_names_it(store: StoreUnderTest, capsys: pytest.CaptureFixture[str]) -> None:
    db = store_with_a_damaged_world(store)
    ws = Workspace.open(db)
    assert sorted(ws.worlds) == ["final-friday", "staging"]
    assert ws.unreadable == {"damaged": f"store {db}: formatVersion: must be 1, got 7"}
    with pytest.raises(UnreadableWorldError) as caught:
        ws.engine("damaged")
    assert caught.value.name == "damaged" and caught.value.field == "world"
    assert str(caught.value) == f"world 'damaged' cannot be read from the store: store {db}: formatVersion: must be 1, got 7"

    assert main(["worlds", "--db", str(db), "--json"]) == EXIT_OK
    listed = {w["name"]: (w["status"], w["error"]) for w in json.loads(capsys.readouterr().out)}
    assert listed == {
        "final-friday": ("READY", None), "staging": ("READY", None),
        "damaged": ("UNREADABLE", f"store {db}: formatVersion: must be 1, got 7"),
    }
    assert main(["worlds", "--db", str(db)]) == EXIT_OK
    out = capsys.readouterr()
    rows = {line.split()[0].lstrip("*"): line.split()[3] for line in out.out.splitlines()[1:]}
    assert rows == {"damaged": "UNREADABLE", "final-friday": "ready", "staging": "ready"}
    assert "world 'damaged' cannot be read: " in out.err
    # The other worlds answer; the damaged one is a typed error naming it.
    assert main(["can", "newbie", "s3:GetObject", "final-friday-reports/q4.pdf", "--world", "staging", "--db", str(db)]) == EXIT_OK
    capsys.readouterr()
    assert main(["can", "newbie", "s3:GetObject", "final-friday-reports/q4.pdf", "--world", "damaged", "--db", str(db)]) == EXIT_INPUT
    assert capsys.readouterr().err == f"error (world): world 'damaged' cannot be read from the store: store {db}: formatVersion: must be 1, got 7\n"
    # Importing over it (replace) repairs it.
    ws.import_world("damaged", world_to_dict(ws.world("staging")), replace=True, sources=["staging.json"])
    assert Workspace.open(db).unreadable == {}
    assert world_to_dict(Workspace.open(db).world("damaged"))["users"] == world_to_dict(ws.world("staging"))["users"]


def test_graphql_names_the_unreadable_world_and_serves_the_others(store: StoreUnderTest) -> None:
    db = store_with_a_damaged_world(store)
    ws = Workspace.open(db)
    with TestClient(create_app(ws)) as http:
        gql = GraphQLClient(http, ws)
        worlds = gql.data("{ worlds { name status error } }")["worlds"]
        assert worlds == [
            {"name": "final-friday", "status": "READY", "error": None},
            {"name": "damaged", "status": "UNREADABLE", "error": f"store {db}: formatVersion: must be 1, got 7"},
            {"name": "staging", "status": "READY", "error": None},
        ]
        assert gql.data('{ world(name: "staging") { user(name: "newbie") { name } } }')["world"]["user"] == {"name": "newbie"}
        body = gql('{ can(principal: "newbie", action: "s3:GetObject", resource: "*", world: "damaged") { decision } }')
        (error,) = body["errors"]
        assert error["extensions"] == {"code": "UNREADABLE_WORLD", "field": "world", "world": "damaged", "reason": f"store {db}: formatVersion: must be 1, got 7"}
        assert error["message"].startswith("world 'damaged' cannot be read from the store")
        refused = gql.data('mutation { createUser(name: "x", world: "damaged") { __typename ... on UserError { code field message } } }')["createUser"]
        assert refused == {"__typename": "InvalidInput", "code": "UNREADABLE_WORLD", "field": "world", "message": error["message"]}
        # Replacing or deleting the damaged world is how it is repaired.
        gql.data('mutation { deleteWorld(name: "damaged") { __typename } }')
        assert [w["name"] for w in gql.data("{ worlds { name } }")["worlds"]] == ["final-friday", "staging"]
    assert Workspace.open(db).unreadable == {}
