"""A mutation is bounded like a question (issue 15): it reads the worlds under the deadline and
takes them alone only for its change, so a mutation that asks for a huge payload, or imports a
file that takes long to read, never stops the questions of everyone else; and a deadline met
after the change says the change was made. Through a real server on a store."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import served

USERS, GROUPS, GROUPS_PER_USER = 3000, 100, 10
ACCOUNT = "111122223333"
QUESTION = '{ can(principal: "newbie", action: "s3:GetObject", resource: "arn:aws:s3:::final-friday-reports/q4.pdf") { decision } }'
# Every group of the user, every member of those, every group of theirs...: millions of fields.
FAN_OUT = ('mutation { tagUser(world: "big", user: "user-0000", tags: [{key: "reviewed", value: "yes"}]) '
           '{ __typename ... on UserPayload { user { groups { users { groups { users { name } } } } } } } }')


def _big_world() -> dict[str, Any]:
    groups = [{"name": f"group-{g:03d}", "account": ACCOUNT} for g in range(GROUPS)]
    users = [{"name": f"user-{u:04d}", "account": ACCOUNT, "groups": [f"group-{(u + k * 7) % GROUPS:03d}" for k in range(GROUPS_PER_USER)]} for u in range(USERS)]
    return {"format": "graphsim-world", "formatVersion": 1, "name": "big", "accounts": [{"id": ACCOUNT}], "groups": groups, "users": users}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("bounds")
    world = folder / "big.json"
    world.write_text(json.dumps(_big_world()), encoding="utf-8")
    db = str(folder / "team.db")
    done = subprocess.run([sys.executable, "-m", "graphsim.cli", "import", str(world), "--world", "big", "--db", db], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return db


def _post(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _in_background(url: str, query: str, variables: dict[str, Any] | None = None) -> tuple[threading.Thread, dict[str, Any]]:
    answer: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: answer.update(_post(url, query, variables)))
    thread.start()
    return thread, answer


def _big_version(url: str) -> int:
    worlds = _post(url, "{ worlds { name version } }")["data"]["worlds"]
    return int(next(w["version"] for w in worlds if w["name"] == "big"))


def test_a_mutation_with_a_huge_payload_holds_no_one_up_and_says_its_change_was_made(store: str) -> None:
    with served("--db", store, "--deadline", "1") as url:
        before = _big_version(url)
        thread, answer = _in_background(url, FAN_OUT)
        thread.join(0.3)
        # While the payload is being read: questions on any world are answered, not held behind it.
        assert _post(url, QUESTION)["data"]["can"]["decision"] == "ALLOWED"  # FinalFridayReportsReadOnly
        assert "errors" not in _post(url, "{ worlds { name } }")
        thread.join(60)
        assert not thread.is_alive()
        error = answer["errors"][0]
        assert error["extensions"]["code"] == "DEADLINE_EXCEEDED"
        # The change was made before the deadline: the answer says so, and not to send it again.
        assert error["extensions"]["changed"] is True and error["extensions"]["retryable"] is False
        assert "change WAS made" in error["message"]
        assert _big_version(url) == before + 1
        tags = _post(url, '{ world(name: "big") { user(name: "user-0000") { tags { key value } } } }')["data"]["world"]["user"]["tags"]
        assert {"key": "reviewed", "value": "yes"} in tags


def test_an_import_that_reads_too_long_stops_at_the_deadline_and_stores_nothing(store: str) -> None:
    # Some 600,000 YAML nodes: PyYAML reads them for far longer than the 1 s deadline.
    content = "users:\n" + "".join(f"  - {{name: u{i}}}\n" for i in range(200_000))
    mutation = 'mutation($files: [ImportFileInput!]!) { importWorld(name: "slow", files: $files) { __typename } }'
    with served("--db", store, "--deadline", "1") as url:
        thread, answer = _in_background(url, mutation, {"files": [{"name": "slow.yaml", "content": content}]})
        thread.join(0.3)
        assert _post(url, QUESTION)["data"]["can"]["decision"] == "ALLOWED"  # FinalFridayReportsReadOnly
        thread.join(60)
        # Stopped at the deadline before any change: nothing changed, and it may be sent again.
        assert answer["data"] is None
        error = answer["errors"][0]["extensions"]
        assert (error["code"], error["retryable"], "changed" in error) == ("DEADLINE_EXCEEDED", True, False)
        assert "slow" not in [w["name"] for w in _post(url, "{ worlds { name } }")["data"]["worlds"]]


def test_an_import_of_many_bad_files_is_answered_in_one_short_message(tmp_path: Path) -> None:
    # 20,000 files that are no export: every one is a problem, listed in `problems`; the message
    # names the first 20 (the merge of their problems was quadratic in the number of files).
    files = [{"name": f"f{i}.json", "content": "{}"} for i in range(20_000)]
    mutation = 'mutation($files: [ImportFileInput!]!) { importWorld(name: "many", files: $files) { __typename ... on InvalidImport { message problems { source } } } }'
    with served("--db", str(tmp_path / "s.db")) as url:
        result = _post(url, mutation, {"files": files})["data"]["importWorld"]
    assert result["__typename"] == "InvalidImport"
    assert [p["source"] for p in result["problems"]] == [f["name"] for f in files]
    assert result["message"].count("not a recognised export") == 20
    assert result["message"].endswith("; and 19,980 more problems (each is listed in problems)")
