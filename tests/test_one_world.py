"""One world, one answer: every command and the server answer from the same world by the same
rule (the store's default world unless --world names another), say which world and version
answered, and a server sees what other processes commit to its store by its next request."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT, EXIT_OK, main
from graphsim.workspace import Workspace
from graphsim.world.commands import AddUserToGroup
from graphsim.world.io import load_demo_world, world_to_dict
from tests.conftest import served

QUESTION = ("newbie", "s3:GetBucketLocation", "final-friday-reports")
CAN = """query($world: String) { can(principal: "newbie", action: "s3:GetBucketLocation", resource: "final-friday-reports", world: $world) {
    decision allowed principal action resource missingContextValues warnings blockedBy explanation
    matchedStatements { policy policyArn policyType sid statementIndex effect layer path }
    layerVerdicts { layer decision } fixHint { summary statement }
    allowedByOrganizations allowedByPermissionsBoundary viaRole { roles } world { name version } } }"""


def _ask(http: TestClient, world: str | None = None) -> dict[str, object]:
    body = http.post("/graphql", json={"query": CAN, "variables": {"world": world}}).json()
    assert "errors" not in body, body
    return dict(body["data"]["can"])


def _cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(list(args)) == EXIT_OK
    return dict(json.loads(capsys.readouterr().out))


def test_the_cli_without_world_and_the_server_answer_alike_from_the_stores_default(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "team.db")
    with TestClient(create_app(Workspace.open(db))) as http:
        before = _ask(http)
        assert before["decision"] == "IMPLICIT_DENY" and before["world"] == {"name": "final-friday", "version": 0}
        # The case: HR's policy lets its members list the reports bucket.
        changed = http.post("/graphql", json={"query": 'mutation { addUserToGroup(user: "newbie", group: "HR") { __typename } }'}).json()
        assert changed["data"]["addUserToGroup"]["__typename"] == "MembershipPayload"
        from_server = _ask(http)
    assert from_server["decision"] == "ALLOWED" and from_server["world"] == {"name": "final-friday", "version": 1}
    assert _cli_json(capsys, "can", *QUESTION, "--db", db, "--json") == from_server
    # The same through $GRAPHSIM_DB (the documented default store), and in text.
    capsys.readouterr()
    monkeypatch.setenv("GRAPHSIM_DB", db)
    assert main(["can", *QUESTION]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("ALLOWED") and out.rstrip().endswith("answered from world 'final-friday' at version 1")


def test_a_server_sees_forks_imports_deletes_and_the_default_made_by_other_processes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "team.db")
    ws = Workspace.open(db)
    with TestClient(create_app(ws)) as http:
        unknown = http.post("/graphql", json={"query": CAN, "variables": {"world": "review"}}).json()
        assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert main(["fork", "final-friday", "review", "--db", db]) == EXIT_OK  # another connection: another process
        review = _ask(http, "review")
        assert review["decision"] == "IMPLICIT_DENY" and review["world"] == {"name": "review", "version": 1}
        # Replace review's content: newbie now sits in HR.
        data = world_to_dict(load_demo_world())
        next(u for u in data["users"] if u["name"] == "newbie")["groups"].append("HR")
        world_file = tmp_path / "review.json"
        world_file.write_text(json.dumps(data))
        assert main(["import", str(world_file), "--world", "review", "--replace", "--db", db]) == EXIT_OK
        replaced = _ask(http, "review")
        assert replaced["decision"] == "ALLOWED" and replaced["world"] == {"name": "review", "version": 2}
        assert _ask(http)["world"] == {"name": "final-friday", "version": 0}  # untouched
        # The store's default world moves: the server answers unnamed questions from it.
        assert main(["worlds", "--set-default", "review", "--db", db]) == EXIT_OK
        assert _ask(http)["world"] == {"name": "review", "version": 2}
        assert http.get("/healthz").json()["default"] == "review"
        assert main(["worlds", "--set-default", "final-friday", "--db", db]) == EXIT_OK
        assert main(["fork", "review", "scratch", "--db", db]) == EXIT_OK
        other = Workspace.open(db)
        other.delete("scratch")
        assert "scratch" not in http.get("/healthz").json()["worlds"]
        assert _ask(http)["world"] == {"name": "final-friday", "version": 0}


def test_refresh_costs_one_check_when_nothing_changed_and_rebuilds_only_what_did(tmp_path: Path) -> None:
    db = str(tmp_path / "team.db")
    server = Workspace.open(db)
    writer = Workspace.open(db)
    writer.fork("final-friday", "review")
    assert server.refresh() is True
    untouched, review = server.world("final-friday"), server.world("review")
    assert server.refresh() is False  # nothing new: the same objects, nothing re-read
    assert server.engine("review").can(*QUESTION).decision.value == "IMPLICIT_DENY"  # warms the engine's caches
    writer.apply(writer.world("review"), AddUserToGroup(user="newbie", group="HR"))
    assert server.refresh() is True
    assert server.world("final-friday") is untouched  # unchanged worlds are not rebuilt
    # A changed world catches up by replaying the new changes, not by a rebuild; its caches follow.
    assert server.world("review") is review and review.version == writer.world("review").version == 2
    assert server.engine("review").can(*QUESTION).decision.value == "ALLOWED"
    # A whole-world import cannot be replayed as a change: that world is rebuilt.
    writer.import_world("review", load_demo_world(), replace=True)
    assert server.refresh() is True
    assert server.world("review") is not review and server.world("review").version == 3
    assert server.engine("review").can(*QUESTION).decision.value == "IMPLICIT_DENY"
    # The server's own changes are its own: no refresh needed, and none is triggered.
    server.apply(server.world("final-friday"), AddUserToGroup(user="newbie", group="HR"))
    assert server.refresh() is False
    assert writer.refresh() is True and writer.world("final-friday").version == 1


def test_the_default_world_is_a_setting_of_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "team.db")
    assert main(["fork", "final-friday", "review", "--db", db]) == EXIT_OK
    capsys.readouterr()
    assert main(["worlds", "--db", db]) == EXIT_OK
    listing = capsys.readouterr().out
    assert "*final-friday" in listing and " review" in listing
    with TestClient(create_app(Workspace.open(db))) as http:
        body = http.post("/graphql", json={"query": 'mutation { setDefaultWorld(name: "review") { __typename ... on WorldPayload { world { name version } } } }'}).json()
        assert body["data"]["setDefaultWorld"] == {"__typename": "WorldPayload", "world": {"name": "review", "version": 1}}
        missing = http.post("/graphql", json={"query": 'mutation { setDefaultWorld(name: "nope") { __typename ... on NotFound { field } } }'}).json()
        assert missing["data"]["setDefaultWorld"] == {"__typename": "NotFound", "field": "world"}
    capsys.readouterr()
    assert main(["worlds", "--db", db, "--json"]) == EXIT_OK
    assert {w["name"]: w["default"] for w in json.loads(capsys.readouterr().out)} == {"final-friday": False, "review": True}
    assert _cli_json(capsys, "can", *QUESTION, "--db", db, "--json")["world"] == {"name": "review", "version": 1}
    assert _cli_json(capsys, "can", *QUESTION, "--db", db, "--world", "final-friday", "--json")["world"] == {"name": "final-friday", "version": 0}
    # The default world cannot be deleted, whichever it is.
    with TestClient(create_app(Workspace.open(db))) as http:
        refused = http.post("/graphql", json={"query": 'mutation { deleteWorld(name: "review") { __typename ... on Conflict { message } } }'}).json()
        assert refused["data"]["deleteWorld"]["__typename"] == "Conflict"


def test_default_is_reserved_everywhere_a_world_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "team.db")
    with TestClient(create_app(Workspace.open(db))) as http:
        for mutation in ('forkWorld(source: "final-friday", name: "default")', 'forkWorld(source: "final-friday", name: "Default")',
                         'importWorld(name: "default", files: [{name: "w.json", content: "{}"}])'):
            body = http.post("/graphql", json={"query": f"mutation {{ r: {mutation} {{ __typename ... on InvalidInput {{ field message }} }} }}"}).json()
            assert body["data"]["r"]["__typename"] == "InvalidInput" and body["data"]["r"]["field"] == "name", body
            assert "reserved" in body["data"]["r"]["message"]
        # "default" in a world argument means the default world.
        assert _ask(http, "default")["world"] == {"name": "final-friday", "version": 0}
    data_file = tmp_path / "w.json"
    data_file.write_text(json.dumps(world_to_dict(load_demo_world())))
    capsys.readouterr()
    assert main(["import", str(data_file), "--world", "default", "--db", db]) == EXIT_INPUT
    assert "error (name): 'default' is reserved" in capsys.readouterr().err
    assert main(["fork", "final-friday", "default", "--db", db]) == EXIT_INPUT
    assert [r.name for r in Workspace.open(db).records()] == ["final-friday"]


@pytest.mark.parametrize("make, expected", [
    (lambda tmp: str(tmp / "no" / "such" / "dir" / "x.db"), "does not exist"),
    (lambda tmp: str(tmp), "is a folder"),
    (lambda tmp: (tmp / "notes.txt").write_text("not a database\n") and str(tmp / "notes.txt"), "is not an SQLite database"),
    # Loopback port 1: nothing listens there, so the refusal is immediate.
    (lambda tmp: "postgresql://app:s3cret@127.0.0.1:1/graphsim", "cannot reach the PostgreSQL store postgresql://app:***@127.0.0.1:1/graphsim: "),
    (lambda tmp: "postgresql://app:s3cret@[::1/graphsim", "is not a PostgreSQL URL"),
    (lambda tmp: "postgres:app:s3cret@host", "is not a PostgreSQL URL: write postgresql://USER@HOST[:PORT]/DATABASE"),
    (lambda tmp: "mysql://app:s3cret@127.0.0.1/graphsim", "mysql://app:***@127.0.0.1/graphsim is not a store location"),
    (lambda tmp: f"sqlite:///{tmp}", "is a folder"),
])
def test_a_bad_db_is_a_clear_error_and_nothing_is_created(make, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    db = make(tmp_path)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    for command in (["can", *QUESTION, "--db", db], ["worlds", "--db", db], ["serve", "--db", db, "--port", "1"]):
        capsys.readouterr()
        assert main(command) == EXIT_INPUT, command
        err = capsys.readouterr().err
        assert err.startswith("error (db): ") and expected in err, err
        assert "Traceback" not in err and "s3cret" not in err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before  # no folder, no file, no "postgresql:"
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == snapshot


def test_a_world_file_with_db_is_refused_rather_than_ignoring_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world_file = tmp_path / "w.json"
    world_file.write_text(json.dumps(world_to_dict(load_demo_world())))
    assert main(["can", *QUESTION, "--world", str(world_file), "--db", str(tmp_path / "s.db")]) == EXIT_INPUT
    assert "error (--db): " in capsys.readouterr().err


def test_a_write_that_waits_too_long_is_a_typed_retryable_error_and_changes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "team.db")
    ws = Workspace.open(db)
    assert ws.store is not None
    ws.store.cap_lock_wait(0.06)  # the test need not wait the real 5 s thrice
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    add = 'mutation { addUserToGroup(user: "newbie", group: "HR") { __typename ... on Conflict { code message } } }'
    try:
        with TestClient(create_app(ws)) as http:
            busy = http.post("/graphql", json={"query": add}).json()["data"]["addUserToGroup"]
            assert busy["__typename"] == "Conflict" and busy["code"] == "STORE_BUSY" and "try again" in busy["message"]
            assert "locked" not in busy["message"]
            assert _ask(http)["world"] == {"name": "final-friday", "version": 0}  # questions still answered; nothing changed
            other.execute("ROLLBACK")
            again = http.post("/graphql", json={"query": add}).json()["data"]["addUserToGroup"]
            assert again["__typename"] == "MembershipPayload"
            assert _ask(http)["world"] == {"name": "final-friday", "version": 1}
    finally:
        other.close()


def test_done_when_a_running_server_answers_from_what_a_shell_forked_and_imported(tmp_path: Path) -> None:
    """The issue's walkthrough with real processes: a uvicorn server on a store, and graphsim
    commands in a shell beside it."""
    import subprocess
    import sys

    import httpx

    db = str(tmp_path / "team.db")
    graphsim = [sys.executable, "-m", "graphsim.cli"]

    def ask(world: str | None = None) -> dict[str, object]:
        body = httpx.post(f"{base}/graphql", json={"query": CAN, "variables": {"world": world}}, timeout=30).json()
        assert "errors" not in body, body
        return dict(body["data"]["can"])

    def shell(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*graphsim, *args, "--db", db], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done

    with served("--db", db) as base:
        shell("fork", "final-friday", "review")
        assert ask("review")["world"] == {"name": "review", "version": 1}
        data = world_to_dict(load_demo_world())
        next(u for u in data["users"] if u["name"] == "newbie")["groups"].append("HR")
        (tmp_path / "review.json").write_text(json.dumps(data))
        shell("import", str(tmp_path / "review.json"), "--world", "review", "--replace")
        assert ask("review")["decision"] == "ALLOWED" and ask("review")["world"] == {"name": "review", "version": 2}
        # Without --world, the command and the server give the same answer, naming the world.
        cli = json.loads(shell("can", *QUESTION, "--json").stdout)
        assert cli == ask() and cli["world"] == {"name": "final-friday", "version": 0}
        shell("worlds", "--set-default", "review")
        cli = json.loads(shell("can", *QUESTION, "--json").stdout)
        assert cli == ask() and cli["world"] == {"name": "review", "version": 2} and cli["decision"] == "ALLOWED"
