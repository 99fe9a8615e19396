"""`graphsim list`: the browse lists of GraphQL's connections, filtered and sorted, from the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graphsim.cli import main

ACCOUNT = "111122223333"


def _lines(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["list", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_lists_filter_and_sort_as_the_connections_do(capsys: pytest.CaptureFixture[str]) -> None:
    out = _lines(capsys, "users", "--tag", "team=platform")
    assert out == [
        f"priya                                    arn:aws:iam::{ACCOUNT}:user/priya",
        f"steve                                    arn:aws:iam::{ACCOUNT}:user/steve",
        "2 users",
        "answered from world 'final-friday' at version 0",
    ]
    assert [line.split()[0] for line in _lines(capsys, "users", "--group", "DevOps", "--desc")[:-2]] == ["priya", "omar", "kai"]
    assert [line.split()[0] for line in _lines(capsys, "users", "--name-contains", "RI")[:-2]] == ["harriet", "priya"]
    assert [line.split()[0] for line in _lines(capsys, "groups", "--attached-policy", "AdministratorAccess")[:-2]] == ["Administrators"]
    assert [line.split()[0] for line in _lines(capsys, "policies", "--order", "arn")[:-2]] == ["DevOpsDeploy", "FinalFridayReportsReadOnly", "HRReports", "AdministratorAccess"]
    assert [line.split()[0] for line in _lines(capsys, "resources", "--type", "s3:bucket")[:-2]] == ["final-friday-classified", "final-friday-reports"]


def test_json_names_every_entity_and_says_the_world_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "policies", "--no-aws-managed", "--json"]) == 0
    captured = capsys.readouterr()
    assert [p["name"] for p in json.loads(captured.out)] == ["DevOpsDeploy", "FinalFridayReportsReadOnly", "HRReports"]
    assert json.loads(captured.out)[0] == {"name": "DevOpsDeploy", "arn": f"arn:aws:iam::{ACCOUNT}:policy/DevOpsDeploy", "account": ACCOUNT, "path": "/"}
    assert "answered from world 'final-friday' at version 0" in captured.err


@pytest.mark.parametrize(("argv", "message"), [
    (["policies", "--group", "HR"], "error (--group): --group does not filter policies"),
    (["users", "--attached-policy", "Nope"], "error (--attached-policy): no policy named 'Nope'"),
    (["users", "--tag", "=x"], "error (--tag): --tag takes KEY or KEY=VALUE"),
    (["groups", "--tag", "team"], "error (--tag): --tag does not filter groups"),
])
def test_bad_filters_exit_2_naming_the_option(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(["list", *argv]) == 2
    assert capsys.readouterr().err.strip() == message


def test_watch_prints_the_changes_another_process_commits(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps([{"mutation": "createUser", "arguments": {"name": "zoe"}},
                                   {"mutation": "addUserToGroup", "arguments": {"user": "zoe", "group": "HR"}}]), encoding="utf-8")
    cli = [sys.executable, "-m", "graphsim.cli"]
    assert subprocess.run([*cli, "worlds", "--db", str(db)], capture_output=True, timeout=120).returncode == 0  # the store, with the demo
    watcher = subprocess.Popen([*cli, "watch", "--db", str(db), "--count", "2", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert watcher.stderr is not None
        assert watcher.stderr.readline().startswith("watching world 'final-friday' from version 0")
        applied = subprocess.run([*cli, "apply", str(changes), "--db", str(db)], capture_output=True, text=True, timeout=120)
        assert applied.returncode == 0, applied.stderr
        out, _ = watcher.communicate(timeout=60)
    finally:
        watcher.kill()
    heard = [json.loads(line) for line in out.splitlines()]
    assert [(c["version"], c["mutation"], c["arguments"]) for c in heard] == [
        (1, "createUser", heard[0]["arguments"]), (2, "addUserToGroup", heard[1]["arguments"])]
    assert heard[0]["arguments"]["name"] == "zoe" and heard[1]["arguments"]["group"] == "HR"
    assert watcher.returncode == 0
