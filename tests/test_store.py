"""Worlds in a store, SQLite and PostgreSQL alike (the ``store`` fixture runs each test on both):
changes survive restarts with their history, forks copy, failures write nothing."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.errors import PolicyValidationError, StoreBusyError, VersionConflictError
from graphsim.store.location import open_store
from graphsim.workspace import Workspace
from graphsim.world import NodeKind
from graphsim.world import commands as c
from graphsim.world.io import WorldFileError, load_demo_world, world_to_dict
from tests.conftest import GraphQLClient, StoreUnderTest

ALLOW_GET = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def client(db: StoreUnderTest) -> tuple[GraphQLClient, TestClient]:
    ws = Workspace.open(db.location)
    http = TestClient(create_app(ws))
    return GraphQLClient(http, ws), http


def rows(db: StoreUnderTest, sql: str) -> list[tuple[object, ...]]:
    return db.rows(sql)


def test_a_restarted_server_holds_every_change_and_its_history(store: StoreUnderTest) -> None:
    db = store
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
    if db.kind == "sqlite":
        assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_every_kind_of_change_replays_after_a_restart(store: StoreUnderTest) -> None:
    db = store
    ws = Workspace.open(db.location)
    w = ws.world()
    ws.apply(w, c.RemoveUserFromGroup("dana", "HR"))
    ws.apply(w, c.DetachUserPolicy("newbie", "FinalFridayReportsReadOnly"))
    ws.apply(w, c.PutUserPolicy("kai", "Get", ALLOW_GET))
    ws.apply(w, c.DeleteUserPolicy("kai", "Get"))
    ws.apply(w, c.DeleteUser("harriet"))
    ws.apply(w, c.PutResourcePolicy("arn:aws:s3:::final-friday-reports", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": "*"}]})))
    ws.apply(w, c.DeleteResourcePolicy("arn:aws:s3:::final-friday-reports"))
    reopened = Workspace.open(db.location).world()
    assert reopened.version == 7
    assert world_to_dict(reopened) == world_to_dict(w)


def test_snapshots_keep_replays_short(store: StoreUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graphsim.workspace.SNAPSHOT_EVERY", 3)
    db = store
    ws = Workspace.open(db.location)
    for i in range(7):
        ws.apply(ws.world(), c.CreateUser(f"u{i}"))
    assert [v for (v,) in rows(db, "SELECT version FROM snapshots ORDER BY version")] == [0, 3, 6]
    reopened = Workspace.open(db.location)
    assert sorted(d["name"] for _, d in reopened.world().nodes_of(__import__("graphsim.world", fromlist=["NodeKind"]).NodeKind.USER) if d["name"].startswith("u")) == [f"u{i}" for i in range(7)]
    assert reopened.world().version == 7


def test_fork_and_delete(store: StoreUnderTest) -> None:
    db = store
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


def _state(db: StoreUnderTest) -> list[object]:
    return [rows(db, f"SELECT * FROM {table} ORDER BY 1, 2") for table in ("worlds", "changes", "snapshots")]


def test_failed_changes_write_nothing(store: StoreUnderTest) -> None:
    db = store
    ws = Workspace.open(db.location)
    before = _state(db)
    with pytest.raises(PolicyValidationError):
        ws.apply(ws.world(), c.PutUserPolicy("newbie", "Bad", '{"Statement": [{"Effect": "Maybe"}]}'))
    broken = world_to_dict(load_demo_world())
    broken["users"][0]["attachedPolicies"].append("arn:aws:iam::111122223333:policy/Nope")
    with pytest.raises(WorldFileError):
        ws.import_world("broken", broken)
    assert _state(db) == before
    assert ws.world().version == 0


def test_a_failed_write_puts_memory_back(store: StoreUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    db = store
    ws = Workspace.open(db.location)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ws.store, "append", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        ws.apply(ws.world(), c.CreateUser("ghost"))
    assert "arn:aws:iam::111122223333:user/ghost" not in ws.world().graph
    assert ws.world().version == 0


# ---- several processes on one store: the world's version is the optimistic lock ---------------


def test_a_write_over_another_writers_change_lands_on_top_of_it(store: StoreUnderTest) -> None:
    first, second = Workspace.open(store.location), Workspace.open(store.location)  # two replicas, both at version 0
    first.apply(first.world(), c.CreateUser("ana"))
    second.apply(second.world(), c.CreateUser("bo"))  # refused at version 1, caught up, applied again as 2
    assert [(v, m) for v, m in store.rows("SELECT version, summary FROM changes WHERE world = 'final-friday' ORDER BY version")][1:] == [(1, "createUser ana"), (2, "createUser bo")]
    assert {"ana", "bo"} <= {d["name"] for _, d in second.world().nodes_of(NodeKind.USER)} and second.world().version == 2


def test_a_write_that_keeps_losing_the_race_is_a_version_conflict_and_loses_nothing(store: StoreUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graphsim.workspace.CHANGE_ATTEMPTS", 1)  # no second try: the conflict itself
    first, second = Workspace.open(store.location), Workspace.open(store.location)  # two replicas, both at version 0
    first.apply(first.world(), c.CreateUser("ana"))
    with pytest.raises(VersionConflictError) as caught:
        second.apply(second.world(), c.CreateUser("bo"))  # made on version 0, which is gone
    assert caught.value.extensions() == {"code": "VERSION_CONFLICT", "field": "world", "retryable": True, "world": "final-friday"}
    # Nothing written, and the loser's memory is what the store holds: ana's change, not bo.
    assert [v for (v,) in store.rows("SELECT version FROM changes WHERE world = 'final-friday' ORDER BY version")] == [0, 1]
    users = {d["name"] for _, d in second.world().nodes_of(NodeKind.USER)}
    assert "ana" in users and "bo" not in users and second.world().version == 1
    second.apply(second.world(), c.CreateUser("bo"))  # sent again: answered against version 1
    assert first.refresh() is True
    assert {"ana", "bo"} <= {d["name"] for _, d in first.world().nodes_of(NodeKind.USER)} and first.world().version == 2


def test_graphql_returns_the_conflict_typed_and_retryable(store: StoreUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("graphsim.workspace.CHANGE_ATTEMPTS", 1)
    other = Workspace.open(store.location)
    gql, http = client(store)
    add = 'mutation { createUser(name: "bo") { __typename ... on Conflict { code field retryable message } } }'
    with http:
        assert gql.data("{ world { version } }")["world"]["version"] == 0  # this replica caught up
        other.apply(other.world(), c.CreateUser("ana"))
        # The other replica's write lands between this one's catching up and its write.
        monkeypatch.setattr(gql.workspace, "refresh", lambda: False)
        refused = gql.data(add)["createUser"]
        assert refused["__typename"] == "Conflict"
        assert (refused["code"], refused["field"], refused["retryable"]) == ("VERSION_CONFLICT", "world", True)
        assert "nothing was changed, send the change again" in refused["message"]
        assert gql.data(add)["createUser"] == {"__typename": "UserPayload"}
        assert gql.data("{ world { version users { name } } }")["world"]["version"] == 2


def test_concurrent_writers_lose_nothing(store: StoreUnderTest) -> None:
    """Four writers, each its own store connection, each creating 15 users on the same world and
    sending a change again when it lost the race: every change is there once, versions unbroken."""
    Workspace.open(store.location)  # the store and its demo world, before the writers race
    writers, each = 4, 15
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            ws = Workspace.open(store.location)
            for i in range(each):
                for _ in range(200):
                    ws.refresh()
                    try:
                        ws.apply(ws.world(), c.CreateUser(f"w{w}-{i}"))
                        break
                    except (VersionConflictError, StoreBusyError):
                        continue
                else:
                    raise AssertionError(f"writer {w} never got change {i} in")
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reopened = Workspace.open(store.location).world()
    created = sorted(d["name"] for _, d in reopened.nodes_of(NodeKind.USER) if d["name"].startswith("w"))
    assert created == sorted(f"w{w}-{i}" for w in range(writers) for i in range(each))
    assert reopened.version == writers * each
    assert [v for (v,) in store.rows("SELECT version FROM changes WHERE world = 'final-friday' ORDER BY version")] == list(range(writers * each + 1))


def test_replicas_starting_together_on_a_new_store_both_start(store: StoreUnderTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two replicas open a new store at the same moment: both read "no worlds", one creates the
    demo world first, and the other's create must not stop it from starting."""
    first = Workspace.open(store.location)  # got there first
    real = open_store

    def read_before_the_first_committed(location: str) -> object:
        opened = real(location)
        listed = opened.worlds
        looks = [0]

        def worlds() -> list[object]:
            looks[0] += 1
            return [] if looks[0] == 1 else listed()  # its first look at the store saw no world

        monkeypatch.setattr(opened, "worlds", worlds)
        return opened

    monkeypatch.setattr("graphsim.workspace.open_store", read_before_the_first_committed)
    second = Workspace.open(store.location)
    assert sorted(second.worlds) == sorted(first.worlds) == ["final-friday"]
    assert store.rows("SELECT name, version FROM worlds") == [("final-friday", 0)]
