"""The GraphQL websocket under heavy and hostile input (issue 15), through a real server: a
query or a mutation sent over the socket runs as an HTTP one does (a worker thread, the
deadline, the request limits, the metrics), so /healthz answers meanwhile; a message the server
cannot read closes the socket with code 4400 (1009 past --max-body-bytes) and the reason, and
the server logs no traceback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import served
from tests.test_hostile import _big_world, _fan_out

PROTOCOL = "graphql-transport-ws"
WAIT = 60.0  # seconds; only so that a hang fails instead of stalling the suite
HEALTH_WAIT = 10.0  # a health check slower than this fails the test (the review's curl -m 10)
# 5,000 users in one group: each level multiplies the users by 5,000 (10^11 names in all).
HEAVY = '{ world(name: "big") { users { groups { users { groups { users { name } } } } } } }'


@pytest.fixture(scope="module")
def big_world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.json"
    path.write_text(json.dumps(_big_world(5000, 400)))
    return path


async def _open(url: str) -> Any:
    sock = await connect(url.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL], open_timeout=WAIT, max_size=None)  # type: ignore[list-item]
    await sock.send(json.dumps({"type": "connection_init", "payload": {}}))
    assert json.loads(await asyncio.wait_for(sock.recv(), WAIT)) == {"type": "connection_ack"}
    return sock


async def _ask(sock: Any, id: str, query: str, **variables: Any) -> list[dict[str, Any]]:
    """Subscribe with ``query``; the messages for ``id`` up to its complete (or error)."""
    await sock.send(json.dumps({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
    heard: list[dict[str, Any]] = []
    while not heard or heard[-1]["type"] not in ("complete", "error"):
        message = json.loads(await asyncio.wait_for(sock.recv(), WAIT))
        if message.get("id") == id:
            heard.append(message)
    return heard


def _no_traceback(log: Path) -> None:
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text and "Exception in ASGI application" not in text, text[-3000:]


def test_a_heavy_query_over_the_socket_ends_at_the_deadline_while_healthz_answers(big_world_file: Path, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with served("--db", ":memory:", "--world", str(big_world_file), "--deadline", "1", log=log) as url:

        async def scenario() -> tuple[list[dict[str, Any]], list[int], list[dict[str, Any]], list[dict[str, Any]], str]:
            sock = await _open(url)
            heavy = asyncio.create_task(_ask(sock, "heavy", HEAVY))
            health: list[int] = []
            async with httpx.AsyncClient(base_url=url, timeout=HEALTH_WAIT) as http:
                while not heavy.done():
                    status = (await http.get("/healthz")).status_code
                    if not heavy.done():
                        health.append(status)
                    await asyncio.sleep(0.05)
                # The socket goes on: a change, then a question that sees it.
                made = await _ask(sock, "m", 'mutation { createUser(world: "big", name: "zoe") { __typename } }')
                seen = await _ask(sock, "q", 'query Zoe { world(name: "big") { usersConnection(filter: {nameContains: "zoe"}) { nodes { name } } } }')
                metrics = (await http.get("/metrics", timeout=WAIT)).text
            await sock.close()
            return await heavy, health, made, seen, metrics

        heavy, health, made, seen, metrics = asyncio.run(scenario())
    assert heavy == [
        {"id": "heavy", "type": "next", "payload": {"data": None, "errors": [{
            "message": "the request was stopped after 1 s (the limit deadline_seconds); ask a narrower question, or start the server with a larger --deadline",
            "extensions": {"code": "DEADLINE_EXCEEDED", "limit": "deadline_seconds", "maximum": 1.0, "flag": "--deadline", "retryable": True}}]}},
        {"id": "heavy", "type": "complete"},
    ]
    # Health checks were answered, each within HEALTH_WAIT, while the question was worked out.
    assert health and set(health) == {200}
    assert made == [{"id": "m", "type": "next", "payload": {"data": {"createUser": {"__typename": "UserPayload"}}}}, {"id": "m", "type": "complete"}]
    assert seen[0]["payload"] == {"data": {"world": {"usersConnection": {"nodes": [{"name": "zoe"}]}}}}
    # Counted like HTTP requests, by root field and outcome, and the deadline as a refusal.
    assert 'graphsim_requests_total{operation="query:world",outcome="DEADLINE_EXCEEDED"} 1.0' in metrics
    assert 'graphsim_requests_total{operation="mutation:createUser",outcome="ok"} 1.0' in metrics
    assert 'graphsim_refusals_total{limit="deadline_seconds"} 1.0' in metrics
    _no_traceback(log)


def test_the_request_limits_hold_over_the_socket(tmp_path: Path) -> None:
    with served("--db", ":memory:", log=tmp_path / "server.log") as url:

        async def scenario() -> list[dict[str, Any]]:
            sock = await _open(url)
            try:
                return await _ask(sock, "f", _fan_out())
            finally:
                await sock.close()

        answer = asyncio.run(scenario())
    # 2^40 fields behind 1.6 KB of fragments: refused before it runs, as over HTTP.
    assert answer[-1]["type"] == "error", answer
    assert {e["extensions"]["limit"] for e in answer[-1]["payload"]} >= {"query_cost", "query_aliases"}
    assert {e["extensions"]["code"] for e in answer[-1]["payload"]} == {"LIMIT_EXCEEDED"}


DEEP = 100_000
# (what is sent, the close code, words of the reason); each on a socket whose init was acknowledged,
# to a server taking messages of 250,000 bytes at most (the deep one is 200,099).
MALFORMED: list[tuple[str, str | bytes, int, str]] = [
    ("a JSON string", '"x"', 4400, "must be a JSON object, got a string"),
    ("a JSON list", "[1]", 4400, "must be a JSON object, got a list"),
    ("not JSON", "{", 4400, "is not valid JSON"),
    ("variables nested 100,000 deep", '{"id": "1", "type": "subscribe", "payload": {"query": "{ worlds { name } }", "variables": {"v": '
     + "[" * DEEP + "]" * DEEP + "}}}", 4400, "nested deeper than the limit json_depth"),
    ("a number of 5,000 digits", '{"id": "1", "type": "subscribe", "payload": {"query": "{ worlds { name } }", "variables": {"n": ' + "9" * 5000 + "}}}",
     4400, "holds an integer of more than 4,300 digits, which graphsim does not read"),
    ("a binary frame", b'{"type": "ping"}', 4400, "must be text"),
    ("a type that is no string", '{"type": ["subscribe"]}', 4400, "type must be a string"),
    ("a subscribe without an id", '{"type": "subscribe", "payload": {"query": "{ worlds { name } }"}}', 4400, "needs an id that is a non-empty string"),
    ("an id that is an object", '{"id": {}, "type": "subscribe", "payload": {"query": "{ worlds { name } }"}}', 4400, "needs an id that is a non-empty string"),
    ("a payload that is a string", '{"id": "1", "type": "subscribe", "payload": "x"}', 4400, "payload must be an object"),
    ("a query that is a number", '{"id": "1", "type": "subscribe", "payload": {"query": 5}}', 4400, "needs a query that is a string"),
    ("variables that are a string", '{"id": "1", "type": "subscribe", "payload": {"query": "{ worlds { name } }", "variables": "x"}}', 4400, "variables must be an object or null"),
    ("an operationName that is a number", '{"id": "1", "type": "subscribe", "payload": {"query": "{ worlds { name } }", "operationName": 5}}', 4400,
     "operationName must be a string or null"),
    ("a complete for an id that is a number", '{"id": 1, "type": "complete"}', 4400, "needs an id that is a non-empty string"),
    ("an unknown type 1,000 characters long", json.dumps({"type": "t" * 1000}), 4400, "Unknown message type: ttt"),
    ("a message over --max-body-bytes", json.dumps({"type": "ping", "payload": {"pad": "p" * 300_000}}), 1009,
     "over the limit body_bytes of 250,000 (start the server with a larger --max-body-bytes)"),
]


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    log = tmp_path_factory.mktemp("ws") / "server.log"
    with served("--db", ":memory:", "--max-body-bytes", "250000", log=log) as url:
        yield url, log


@pytest.mark.parametrize(("sent", "code", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_malformed_message_closes_the_socket_with_the_reason(plain_server: tuple[str, Path], sent: str | bytes, code: int, reason: str) -> None:
    url, log = plain_server

    async def scenario() -> tuple[int | None, str | None, list[int]]:
        sock = await _open(url)
        await sock.send(sent)
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(sock.recv(), WAIT)
        async with httpx.AsyncClient(base_url=url, timeout=HEALTH_WAIT) as http:
            after = [(await http.get("/healthz")).status_code]
        return sock.close_code, sock.close_reason, after

    closed_code, closed_reason, after = asyncio.run(scenario())
    assert (closed_code, reason in (closed_reason or "")) == (code, True), closed_reason
    assert len((closed_reason or "").encode()) <= 123  # a close frame's reason fits its 123 bytes
    assert after == [200]
    _no_traceback(log)


def test_a_malformed_first_message_closes_the_socket_before_connection_init(plain_server: tuple[str, Path]) -> None:
    url, log = plain_server

    async def scenario() -> tuple[int | None, str | None]:
        sock = await connect(url.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL], open_timeout=WAIT)  # type: ignore[list-item]
        await sock.send('"x"')
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(sock.recv(), WAIT)
        return sock.close_code, sock.close_reason

    assert asyncio.run(scenario()) == (4400, "the message must be a JSON object, got a string")
    _no_traceback(log)
