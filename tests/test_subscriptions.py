"""worldChanged over graphql-transport-ws: a real `graphsim serve` pushes the changes its own
mutations make and those another process commits to its store; the websocket is guarded like
HTTP (Host, tokens in the handshake or in connection_init, mutations need the write token)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect

from graphsim.api.app import create_app
from graphsim.api.security import ServerSecurity, host_names_for
from graphsim.workspace import Workspace
from tests.conftest import served

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = "graphql-transport-ws"
WATCH = "subscription($w: String) { worldChanged(world: $w) { world version mutation summary } }"
WRITE = "w" * 8 + "-write-token-0123"
READ = "r" * 8 + "-read-token-45678"
WAIT = 20.0  # seconds a test waits for one message before failing (the server checks every 0.25 s)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real server (uvicorn, its own process) on a store file, and that file."""
    db = tmp_path / "store.db"
    with served("--db", str(db)) as url:
        yield url, db


async def _open(url: str, payload: dict[str, Any] | None = None) -> Any:
    sock = await connect(url.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL], open_timeout=WAIT)  # type: ignore[list-item]
    await sock.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    assert json.loads(await asyncio.wait_for(sock.recv(), WAIT)) == {"type": "connection_ack"}
    return sock


async def _next(sock: Any) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(sock.recv(), WAIT))  # type: ignore[no-any-return]


def test_a_subscriber_hears_a_mutation_and_another_processes_import(server: tuple[str, Path], tmp_path: Path) -> None:
    url, db = server
    world_file = tmp_path / "final-friday.json"
    world_file.write_text((ROOT / "graphsim" / "data" / "final-friday.json").read_text(encoding="utf-8"), encoding="utf-8")

    async def scenario() -> list[dict[str, Any]]:
        sock = await _open(url)
        await sock.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"w": "final-friday"}}}))
        await asyncio.sleep(0.6)  # the subscription is listening (it reads the world's version when it starts)
        async with httpx.AsyncClient(base_url=url) as http:
            made = (await http.post("/graphql", json={"query": 'mutation { createUser(name: "zoe") { __typename } }'})).json()
        assert made == {"data": {"createUser": {"__typename": "UserPayload"}}}
        heard = [await _next(sock)]
        # Another process replaces the world in the same store.
        done = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "graphsim.cli", "import", str(world_file), "--world", "final-friday", "--replace", "--db", str(db)],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr
        heard.append(await _next(sock))
        await sock.send(json.dumps({"id": "1", "type": "complete"}))
        await sock.close()
        return heard

    first, second = asyncio.run(scenario())
    assert first == {"id": "1", "type": "next", "payload": {"data": {"worldChanged": {
        "world": "final-friday", "version": 1, "mutation": "createUser", "summary": first["payload"]["data"]["worldChanged"]["summary"]}}}}
    assert "zoe" in first["payload"]["data"]["worldChanged"]["summary"]
    change = second["payload"]["data"]["worldChanged"]
    assert (change["version"], change["mutation"]) == (2, "importWorld")
    assert "final-friday.json" in change["summary"]


def test_a_subscriber_hears_a_world_another_process_forked_a_moment_ago(server: tuple[str, Path], tmp_path: Path) -> None:
    url, db = server
    world_file = tmp_path / "final-friday.json"
    world_file.write_text((ROOT / "graphsim" / "data" / "final-friday.json").read_text(encoding="utf-8"), encoding="utf-8")

    def cli(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "graphsim.cli", *args, "--db", str(db)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    async def scenario() -> dict[str, Any]:
        await asyncio.to_thread(cli, "fork", "final-friday", "review")
        sock = await _open(url)  # no HTTP request in between: the subscription itself must catch up
        await sock.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"w": "review"}}}))
        await asyncio.sleep(0.6)
        await asyncio.to_thread(cli, "import", str(world_file), "--world", "review", "--replace")
        heard = await _next(sock)
        await sock.close()
        return heard

    heard = asyncio.run(scenario())
    assert heard["type"] == "next", heard
    change = heard["payload"]["data"]["worldChanged"]
    assert (change["world"], change["mutation"]) == ("review", "importWorld")


def test_a_deleted_world_sends_a_last_message_and_completes(server: tuple[str, Path]) -> None:
    url, _ = server

    async def scenario() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=url) as http:
            await http.post("/graphql", json={"query": 'mutation { forkWorld(source: "final-friday", name: "short-lived") { __typename } }'})
            sock = await _open(url)
            await sock.send(json.dumps({"id": "d", "type": "subscribe", "payload": {"query": WATCH, "variables": {"w": "short-lived"}}}))
            await asyncio.sleep(0.6)
            await http.post("/graphql", json={"query": 'mutation { deleteWorld(name: "short-lived") { __typename } }'})
        heard = [await _next(sock), await _next(sock)]
        await sock.close()
        return heard

    last, complete = asyncio.run(scenario())
    assert last["payload"]["data"]["worldChanged"] == {"world": "short-lived", "version": 1, "mutation": "deleteWorld", "summary": "world 'short-lived' was deleted"}
    assert complete == {"id": "d", "type": "complete"}


def test_an_unknown_world_is_a_typed_error_on_the_socket(server: tuple[str, Path]) -> None:
    url, _ = server

    async def scenario() -> dict[str, Any]:
        sock = await _open(url)
        await sock.send(json.dumps({"id": "7", "type": "subscribe", "payload": {"query": WATCH, "variables": {"w": "nowhere"}}}))
        answer = await _next(sock)
        await sock.close()
        return answer

    answer = asyncio.run(scenario())
    errors = answer["payload"] if answer["type"] == "error" else answer["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "NOT_FOUND" and errors[0]["extensions"]["field"] == "world"


# ---- the websocket is guarded like HTTP (the app in process; nothing here waits for a change) ----


def _secured(**tokens: str) -> TestClient:
    security = ServerSecurity(allowed_hosts=host_names_for("127.0.0.1"), **tokens)  # type: ignore[arg-type]
    return TestClient(create_app(Workspace.with_world(), security=security), base_url="http://127.0.0.1:8000")


@contextmanager
def _init(http: TestClient, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Iterator[Any]:
    """A socket that has sent connection_init with ``payload``."""
    # The test client's websocket names the host `testserver`, which the server would refuse.
    with http.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers={"Host": "127.0.0.1:8000", **(headers or {})}) as sock:
        sock.send_json({"type": "connection_init", "payload": payload})
        yield sock


def test_a_server_that_needs_a_read_token_rejects_a_socket_without_one() -> None:
    with _secured(read_token=READ, write_token=WRITE) as http:
        for payload in ({}, {"Authorization": "Bearer not-the-token-at-all"}):
            with _init(http, payload) as sock, pytest.raises(WebSocketDisconnect) as closed:
                sock.receive_json()
            assert closed.value.code == 4403, payload


def test_a_token_in_connection_init_or_the_handshake_opens_the_socket_and_mutations_need_the_write_token() -> None:
    mutation = 'mutation { addUserToGroup(user: "newbie", group: "Administrators") { __typename } }'
    with _secured(read_token=READ, write_token=WRITE) as http:
        for payload, headers in (({"Authorization": f"Bearer {READ}"}, None), ({"token": READ}, None), ({}, {"Authorization": f"Bearer {READ}"})):
            with _init(http, payload, headers) as sock:
                assert sock.receive_json() == {"type": "connection_ack"}
                sock.send_json({"id": "m", "type": "subscribe", "payload": {"query": mutation}})
                refused = sock.receive_json()
                assert refused["type"] == "error" and refused["payload"][0]["extensions"]["code"] == "FORBIDDEN"
                sock.send_json({"id": "q", "type": "subscribe", "payload": {"query": "{ world { name } }"}})
                assert sock.receive_json() == {"id": "q", "type": "next", "payload": {"data": {"world": {"name": "final-friday"}}}}
        with _init(http, {"Authorization": f"Bearer {WRITE}"}) as sock:
            assert sock.receive_json() == {"type": "connection_ack"}
            sock.send_json({"id": "m", "type": "subscribe", "payload": {"query": mutation}})
            assert sock.receive_json()["payload"] == {"data": {"addUserToGroup": {"__typename": "MembershipPayload"}}}


def test_without_a_token_a_loopback_server_with_a_write_token_still_refuses_socket_mutations() -> None:
    with _secured(write_token=WRITE) as http, _init(http, {}) as sock:
        assert sock.receive_json() == {"type": "connection_ack"}  # questions are open
        sock.send_json({"id": "m", "type": "subscribe", "payload": {"query": 'mutation { createUser(name: "eve") { __typename } }'}})
        refused = sock.receive_json()
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_mutation_hidden_beside_a_question_on_the_socket_is_refused_without_the_write_token() -> None:
    document = 'mutation A { createUser(name: "eve") { __typename } } query B { __typename }'
    with _secured(write_token=WRITE) as http, _init(http, {}) as sock:
        assert sock.receive_json() == {"type": "connection_ack"}
        sock.send_json({"id": "m", "type": "subscribe", "payload": {"query": document}})
        refused = sock.receive_json()
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_socket_to_another_host_name_is_refused_at_the_handshake() -> None:
    with _secured(write_token=WRITE) as http:
        with pytest.raises(WebSocketDisconnect) as closed:
            http.websocket_connect("/graphql", subprotocols=[PROTOCOL], headers={"Host": "attacker.example"}).__enter__()
        assert closed.value.code == 4403
