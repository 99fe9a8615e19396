"""Worlds in SQLite: changes survive restarts with their history, forks copy, failures write nothing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.errors import PolicyValidationError
from graphsim.workspace import Workspace
from graphsim.world import commands as c
from graphsim.world.io import WorldFileError, load_demo_world, world_to_dict
from tests.conftest import GraphQLClient

ALLOW_GET = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def client(db: Path) -> tuple[GraphQLClient, TestClient]:
    ws = Workspace.open(db)
    http = TestClient(create_app(ws))
    return GraphQLClient(http, ws), http


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_a_restarted_server_holds_every_change_and_its_history(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    gql, http = client(db)
    with http:
        gql.data('mutation { createUser(name: "zoe", tags: [{key: "team", value: "data"}]) { __typename } }')
        gql.data('mutation($d: String!) { putUserPolicy(user: "zoe", policyName: "Get", document: $d) { __typename } }', d=ALLOW_GET)
        gql.data('mutation { addUserToGroup(user: "zoe", group: "HR") { __typename } }')
    again, http = client(db)
    with http:
        world = again.data('{ world { version history { version mutation summary } user(name: "zoe") { groups { name } tags { value } } } }')["world"]
        assert world["version"] == 3
        assert [(h["version"], h["mutation"], h["summary"]) for h in world["history"]] == [
            (3, "addUserToGroup", "addUserToGroup zoe HR"),
            (2, "putUserPolicy", "putUserPolicy zoe Get"),
            (1, "createUser", "createUser zoe"),
            (0, "createWorld", "created from the built-in final-friday demo"),
        ]
        assert world["user"] == {"groups": [{"name": "HR"}], "tags": [{"value": "data"}]}
        decision = again.data('{ can(principal: "zoe", action: "s3:GetObject", resource: "final-friday-classified/q4.pdf") { decision } }')
        assert decision["can"]["decision"] == "ALLOWED"
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_every_kind_of_change_replays_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    ws = Workspace.open(db)
    w = ws.world()
    ws.apply(w, c.RemoveUserFromGroup("dana", "HR"))
    ws.apply(w, c.DetachUserPolicy("newbie", "FinalFridayReportsReadOnly"))
    ws.apply(w, c.PutUserPolicy("kai", "Get", ALLOW_GET))
    ws.apply(w, c.DeleteUserPolicy("kai", "Get"))
    ws.apply(w, c.DeleteUser("harriet"))
    ws.apply(w, c.PutResourcePolicy("arn:aws:s3:::final-friday-reports", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}]})))
    ws.apply(w, c.DeleteResourcePolicy("arn:aws:s3:::final-friday-reports"))
    reopened = Workspace.open(db).world()
    assert reopened.version == 7
    assert world_to_dict(reopened) == world_to_dict(w)


def test_snapshots_keep_replays_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graphsim.workspace.SNAPSHOT_EVERY", 3)
    db = tmp_path / "g.db"
    ws = Workspace.open(db)
    for i in range(7):
        ws.apply(ws.world(), c.CreateUser(f"u{i}"))
    assert [v for (v,) in rows(db, "SELECT version FROM snapshots ORDER BY version")] == [0, 3, 6]
    reopened = Workspace.open(db)
    assert sorted(d["name"] for _, d in reopened.world().nodes_of(__import__("graphsim.world", fromlist=["NodeKind"]).NodeKind.USER) if d["name"].startswith("u")) == [f"u{i}" for i in range(7)]
    assert reopened.world().version == 7


def test_fork_and_delete(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    gql, http = client(db)
    with http:
        forked = gql.data('mutation { forkWorld(source: "final-friday", name: "what-if") { ... on WorldPayload { world { name version history(limit: 1) { mutation summary } } } } }')
        assert forked["forkWorld"]["world"] == {"name": "what-if", "version": 1, "history": [{"mutation": "forkWorld", "summary": "forked from final-friday at version 0"}]}
        gql.data('mutation { deleteUser(name: "newbie", world: "what-if") { __typename } }')
        assert gql.data('{ world(name: "what-if") { user(name: "newbie") { name } } }')["world"]["user"] is None
        assert gql.data('{ world { user(name: "newbie") { name } } }')["world"]["user"] == {"name": "newbie"}
        names = gql.data("{ worlds { name isDefault forkedFrom } }")["worlds"]
        assert names == [{"name": "final-friday", "isDefault": True, "forkedFrom": None}, {"name": "what-if", "isDefault": False, "forkedFrom": "final-friday"}]
        refused = gql.data('mutation { deleteWorld(name: "final-friday") { __typename ... on UserError { message } } }')["deleteWorld"]
        assert refused["__typename"] == "Conflict"
        gql.data('mutation { deleteWorld(name: "what-if") { __typename } }')
    assert rows(db, "SELECT name FROM worlds") == [("final-friday",)]
    assert rows(db, "SELECT count(*) FROM changes WHERE world = 'what-if'") == [(0,)]


def _state(db: Path) -> list[object]:
    return [rows(db, f"SELECT * FROM {table} ORDER BY 1, 2") for table in ("worlds", "changes", "snapshots")]


def test_failed_changes_write_nothing(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    ws = Workspace.open(db)
    before = _state(db)
    with pytest.raises(PolicyValidationError):
        ws.apply(ws.world(), c.PutUserPolicy("newbie", "Bad", '{"Statement": [{"Effect": "Maybe"}]}'))
    broken = world_to_dict(load_demo_world())
    broken["users"][0]["attachedPolicies"].append("arn:aws:iam::111122223333:policy/Nope")
    with pytest.raises(WorldFileError):
        ws.import_world("broken", broken)
    assert _state(db) == before
    assert ws.world().version == 0


def test_a_failed_write_puts_memory_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "g.db"
    ws = Workspace.open(db)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ws.store, "append", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        ws.apply(ws.world(), c.CreateUser("ghost"))
    assert "arn:aws:iam::111122223333:user/ghost" not in ws.world().graph
    assert ws.world().version == 0
