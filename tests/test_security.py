"""Safe to share: bearer tokens for mutations, read-only serving, optional read tokens, and the Host
allow-list, through HTTP (the app in process, and a real `graphsim serve`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.api.security import ServerSecurity, host_names_for, is_mutation
from graphsim.errors import InvalidRequestError
from graphsim.workspace import Workspace
from tests.conftest import served

WRITE = "w" * 8 + "-write-token-0123"
READ = "r" * 8 + "-read-token-45678"
ADD_TO_ADMINS = 'mutation { addUserToGroup(user: "newbie", group: "Administrators") { __typename } }'
QUESTION = '{ can(principal: "newbie", action: "s3:GetBucketLocation", resource: "final-friday-reports") { decision } }'


def _client(security: ServerSecurity, workspace: Workspace | None = None) -> TestClient:
    return TestClient(create_app(workspace or Workspace.with_world(), security=security), base_url="http://127.0.0.1:8000")


def _post(http: TestClient, query: str, token: str | None = None, host: str | None = None) -> httpx.Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if host is not None:
        headers["Host"] = host
    return http.post("/graphql", json={"query": query}, headers=headers)


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def test_loopback_without_tokens_takes_mutations_but_not_from_another_host_name() -> None:
    ws = Workspace.with_world()
    security = ServerSecurity.for_serving("127.0.0.1", environ={})
    with _client(security, ws) as http:
        version = ws.world().version
        refused = _post(http, ADD_TO_ADMINS, host="attacker.example")
        assert refused.status_code == 403 and _code(refused) == "HOST_NOT_ALLOWED"
        assert "attacker.example" in refused.json()["errors"][0]["message"]
        assert ws.world().version == version  # nothing was changed by the refused request
        assert http.get("/healthz", headers={"Host": "attacker.example:8000"}).status_code == 403
        ok = _post(http, ADD_TO_ADMINS, host="localhost:8000")
        assert ok.status_code == 200 and ok.json()["data"]["addUserToGroup"]["__typename"] == "MembershipPayload"
        assert ws.world().version == version + 1


def test_a_write_token_guards_mutations_and_leaves_questions_open() -> None:
    ws = Workspace.with_world()
    with _client(ServerSecurity.for_serving("127.0.0.1", environ={"GRAPHSIM_TOKEN": WRITE}), ws) as http:
        version = ws.world().version
        anonymous = _post(http, ADD_TO_ADMINS)
        assert anonymous.status_code == 401 and _code(anonymous) == "UNAUTHENTICATED"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert anonymous.json()["data"] is None
        wrong = _post(http, ADD_TO_ADMINS, token="not-the-token-at-all")
        assert wrong.status_code == 401 and _code(wrong) == "UNAUTHENTICATED"
        assert ws.world().version == version
        assert _post(http, QUESTION).json()["data"]["can"]["decision"] == "IMPLICIT_DENY"
        ok = _post(http, ADD_TO_ADMINS, token=WRITE)
        assert ok.status_code == 200 and "errors" not in ok.json()
        assert ws.world().version == version + 1


def test_a_read_token_guards_questions_and_cannot_change_anything() -> None:
    ws = Workspace.with_world()
    security = ServerSecurity.for_serving("127.0.0.1", environ={"GRAPHSIM_TOKEN": WRITE, "GRAPHSIM_READ_TOKEN": READ})
    with _client(security, ws) as http:
        assert _post(http, QUESTION).status_code == 401
        assert http.get("/healthz").json() == {"status": "ok", "version": "0.1.0", "store": "ok", "caughtUp": True}  # alive, but no world names
        assert http.post("/aws/simulate-principal-policy", json={}).status_code == 401
        assert _post(http, QUESTION, token=READ).json()["data"]["can"]["decision"] == "IMPLICIT_DENY"
        assert _post(http, QUESTION, token=WRITE).status_code == 200  # the write token reads too
        forbidden = _post(http, ADD_TO_ADMINS, token=READ)
        assert forbidden.status_code == 403 and _code(forbidden) == "FORBIDDEN"
        assert _post(http, ADD_TO_ADMINS, token=WRITE).status_code == 200


def test_read_only_refuses_every_mutation_even_with_the_write_token() -> None:
    ws = Workspace.with_world()
    with _client(ServerSecurity.for_serving("0.0.0.0", read_only=True, environ={"GRAPHSIM_TOKEN": WRITE}), ws) as http:
        for token in (None, WRITE):
            refused = _post(http, ADD_TO_ADMINS, token=token)
            assert refused.status_code == 403 and _code(refused) == "FORBIDDEN"
            assert "--read-only" in refused.json()["errors"][0]["message"]
        assert _post(http, QUESTION).json()["data"]["can"]["decision"] == "IMPLICIT_DENY"
    assert ws.world().version == 0


def test_the_operation_that_runs_decides_not_the_words_in_the_document() -> None:
    document = f"query Ask {QUESTION} mutation Change {ADD_TO_ADMINS[len('mutation '):]}"
    assert is_mutation(document, "Change") and not is_mutation(document, "Ask")
    assert not is_mutation('{ can(principal: "mutation", action: "x", resource: "y") { decision } }', None)
    with _client(ServerSecurity.for_serving("127.0.0.1", environ={"GRAPHSIM_TOKEN": WRITE})) as http:
        ask = http.post("/graphql", json={"query": document, "operationName": "Ask"})
        assert ask.status_code == 200 and ask.json()["data"]["can"]["decision"] == "IMPLICIT_DENY"
        change = http.post("/graphql", json={"query": document, "operationName": "Change"})
        assert change.status_code == 401


def test_a_mutation_beside_a_question_with_no_operation_named_counts_as_a_mutation() -> None:
    # GraphQL may run the first operation of a document that names none; the check must not let
    # a mutation through because a question stands beside it.
    for document in (f"mutation A {ADD_TO_ADMINS[len('mutation '):]} query B {{ __typename }}", f"query B {{ __typename }} mutation A {ADD_TO_ADMINS[len('mutation '):]}"):
        assert is_mutation(document, None) and is_mutation(document, "NoSuchOperation")
        ws = Workspace.with_world()
        with _client(ServerSecurity.for_serving("0.0.0.0", environ={"GRAPHSIM_TOKEN": WRITE}), ws) as http:
            refused = _post(http, document)
            assert refused.status_code == 401 and _code(refused) == "UNAUTHENTICATED"
        assert ws.world().version == 0  # newbie is not an administrator


def test_allowed_host_names_the_names_a_proxy_uses() -> None:
    security = ServerSecurity.for_serving("127.0.0.1", allowed_hosts=["graphsim.internal.example"], environ={})
    with _client(security) as http:
        assert _post(http, QUESTION, host="graphsim.internal.example").status_code == 200
        assert _post(http, QUESTION, host="graphsim.internal.example.attacker.example").status_code == 403
        assert _post(http, QUESTION, host="[::1]:8000").status_code == 200
    names = host_names_for("10.1.2.3")
    assert {"localhost", "127.0.0.1", "::1", "10.1.2.3"} <= names and "attacker.example" not in names


def test_beyond_loopback_a_server_without_a_token_is_refused_before_it_starts() -> None:
    with pytest.raises(InvalidRequestError) as refused:
        ServerSecurity.for_serving("0.0.0.0", environ={})
    assert refused.value.field == "--token-file" and "--read-only" in refused.value.message
    assert ServerSecurity.for_serving("0.0.0.0", read_only=True, environ={}).read_only
    with pytest.raises(InvalidRequestError, match="at least 16"):
        ServerSecurity.for_serving("0.0.0.0", environ={"GRAPHSIM_TOKEN": "short"})
    with pytest.raises(InvalidRequestError, match="must differ"):
        ServerSecurity.for_serving("0.0.0.0", environ={"GRAPHSIM_TOKEN": WRITE, "GRAPHSIM_READ_TOKEN": WRITE})


def _env_without_tokens(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRAPHSIM_TOKEN", "GRAPHSIM_READ_TOKEN")}
    env["GRAPHSIM_DB"] = str(tmp_path / "store.db")
    return env


def test_serve_on_every_address_without_a_token_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "graphsim.cli", "serve", "--host", "0.0.0.0", "--port", "1"],
        env=_env_without_tokens(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "--host 0.0.0.0 listens beyond this machine" in result.stderr and "--token-file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "store.db").exists()


def test_a_real_server_beyond_loopback_refuses_unauthenticated_mutations(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(WRITE + "\n", encoding="utf-8")
    args = ("--host", "0.0.0.0", "--token-file", str(token_file), "--db", str(tmp_path / "s.db"))
    with served(*args, env=_env_without_tokens(tmp_path)) as base:
        url = f"{base}/graphql"
        refused = httpx.post(url, json={"query": ADD_TO_ADMINS})
        assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        rebound = httpx.post(url, json={"query": ADD_TO_ADMINS}, headers={"Host": "attacker.example", "Authorization": f"Bearer {WRITE}"})
        assert rebound.status_code == 403 and rebound.json()["errors"][0]["extensions"]["code"] == "HOST_NOT_ALLOWED"
        asked = httpx.post(url, json={"query": QUESTION})
        assert asked.json()["data"]["can"]["decision"] == "IMPLICIT_DENY"  # the refused changes did not happen
        done = httpx.post(url, json={"query": ADD_TO_ADMINS}, headers={"Authorization": f"Bearer {WRITE}"})
        assert done.status_code == 200 and done.json()["data"]["addUserToGroup"]["__typename"] == "MembershipPayload"
