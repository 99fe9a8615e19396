"""How a server runs its requests (graphsim.api.running), through real server processes: a change
waiting for another process's store lock leaves the questions answered; /healthz answers from the
event loop and says whether it has caught up with the store; cheap questions answered on the event
loop answer as those run in a worker thread do."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from graphsim.api import running
from graphsim.api.app import cheap_question, create_app
from graphsim.store.location import open_store
from graphsim.workspace import Workspace
from tests.conftest import served
from tests.test_hostile import _big_world

WAIT = 120.0  # a bound on every answer here, far past any real one: a hang fails, slowness does not
ADD = 'mutation { addUserToGroup(user: "newbie", group: "HR") { __typename ... on Conflict { code retryable message } ... on MembershipPayload { worldVersion } } }'
# newbie may locate the reports bucket only as a member of HR (the demo world).
CAN_HR = '{ can(principal: "newbie", action: "s3:GetBucketLocation", resource: "final-friday-reports") { decision world { version } } }'


def _post(url: str, query: str) -> dict[str, Any]:
    response = httpx.post(f"{url}/graphql", json={"query": query}, timeout=WAIT)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()))
    thread.start()
    return thread, out


def test_questions_are_answered_while_a_change_waits_for_another_process_store_lock(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    Workspace.open(db).store.close()  # type: ignore[union-attr]
    other = sqlite3.connect(db, isolation_level=None)
    try:
        # --deadline 8: the change waits for the lock 6 s (3/4 of it) before STORE_BUSY.
        with served("--db", str(db), "--deadline", "8") as url:
            before = _post(url, CAN_HR)["data"]["can"]
            assert before == {"decision": "IMPLICIT_DENY", "world": {"version": 0}}
            other.execute("BEGIN IMMEDIATE")  # another process holds the store's write lock
            change, answer = _in_background(lambda: _post(url, ADD))
            time.sleep(0.5)  # the change is sent and waiting for the lock
            # Meanwhile questions are answered, from the world as committed, before the change is.
            worlds = _post(url, "{ worlds { name version } }")["data"]["worlds"]
            assert worlds == [{"name": "final-friday", "version": 0}]
            assert change.is_alive()
            assert _post(url, CAN_HR)["data"]["can"] == before
            health = httpx.get(f"{url}/healthz", timeout=WAIT).json()
            assert (health["status"], health["caughtUp"], health["worlds"]) == ("ok", True, ["final-friday"])
            assert change.is_alive()
            change.join(WAIT)
            busy = answer[0]["data"]["addUserToGroup"]
            assert (busy["__typename"], busy["code"], busy["retryable"]) == ("Conflict", "STORE_BUSY", True)
            assert "try again" in busy["message"]
            # Nothing was half-written, in memory or in the store.
            assert _post(url, CAN_HR)["data"]["can"] == before
            other.execute("ROLLBACK")
            assert [c.mutation for c in open_store(db).history("final-friday")] == ["createWorld"]
            again = _post(url, ADD)["data"]["addUserToGroup"]
            assert again == {"__typename": "MembershipPayload", "worldVersion": 1}
            assert _post(url, CAN_HR)["data"]["can"] == {"decision": "ALLOWED", "world": {"version": 1}}
    finally:
        other.close()


def test_healthz_answers_behind_a_long_question_and_says_it_has_not_caught_up_yet(tmp_path: Path) -> None:
    world_file = tmp_path / "big.json"
    world_file.write_text(json.dumps(_big_world(5000, 400)))
    db = tmp_path / "store.db"
    with served("--db", str(db), "--world", str(world_file), "--deadline", "3", "--max-analysis-size", "100000000", wait=WAIT) as url:
        assert httpx.get(f"{url}/healthz", timeout=WAIT).json()["caughtUp"] is True
        # A question that works until its deadline (3 s), reading the worlds all along.
        heavy, answer = _in_background(lambda: _post(url, "{ canAssumeEdges { role } }"))
        time.sleep(0.5)
        store = open_store(db)
        store.fork("big", "review")  # another process commits: the catch-up waits for the question
        store.close()
        health = httpx.get(f"{url}/healthz", timeout=WAIT).json()
        if heavy.is_alive():  # (else the machine was too slow to ask in time: nothing to check here)
            assert health["status"] == "ok" and health["caughtUp"] is False and "review" not in health["worlds"]
        heavy.join(WAIT)
        assert answer[0]["errors"][0]["extensions"]["code"] == "DEADLINE_EXCEEDED"
        for _ in range(200):  # the catch-up, started by the first look, ends soon after the question
            health = httpx.get(f"{url}/healthz", timeout=WAIT).json()
            if health["caughtUp"]:
                break
            time.sleep(0.05)
        assert health["caughtUp"] is True and health["worlds"] == ["big", "final-friday", "review"]


@pytest.mark.parametrize(("query", "cheap"), [
    ('{ can(principal: "a", action: "s3:GetObject", resource: "*") { decision } }', True),
    ('query Q($p: String!) { a: can(principal: $p, action: "x:Y", resource: "*") { decision } b: validatePolicy(document: "{}") { valid } }', True),
    ('{ can(principal: "a", action: "s3:GetObject", resource: "*", viaRoles: true) { decision } }', False),  # walks the roles
    ('{ can(principal: "a", action: "s3:GetObject", resource: "*") { decision } worlds { name } }', False),  # reads the store
    ('{ whoCan(actions: ["s3:GetObject"], resource: "*") { principal } }', False),
    ('mutation { createUser(name: "x") { __typename } }', False),
    ("{ __schema { types { name } } }", False),
    ("{ can(", False),
])
def test_only_single_decisions_are_cheap_enough_for_the_event_loop(query: str, cheap: bool) -> None:
    assert cheap_question(query, None) is cheap


def test_a_fragment_spread_many_times_is_not_cheap() -> None:
    spreads = " ".join(f"a{i}: can(principal: \"p\", action: \"x:Y\", resource: \"*\") {{ ...D }}" for i in range(20))
    query = "fragment D on Decision { decision allowed explanationLines matchedStatements { policy path } } { " + spreads + " }"
    assert cheap_question(query, None) is False  # 20 x 6 fields: over the 100 of INLINE_FIELD_COST


def test_questions_answered_on_the_event_loop_answer_as_in_a_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same questions and answers whichever way they run: on the loop (the store quiet), in a
    thread (forced by a commit of another process each time), and through GET."""
    db = tmp_path / "store.db"
    ws = Workspace.open(db)
    questions = [
        CAN_HR,
        '{ can(principal: "newbie", action: "s3:GetObjekt", resource: "*") { decision } }',  # a typed error
        '{ can(principal: "nobody", action: "s3:GetObject", resource: "*") { decision } }',
        '{ validatePolicy(document: "{\\"Version\\": \\"2012-10-17\\", \\"Statement\\": []}") { valid problems { path rule } } }',
    ]
    hops: list[object] = []
    run_sync = running.anyio.to_thread.run_sync

    def counted(*args: Any, **kwargs: Any) -> Any:
        hops.append(args[0])
        return run_sync(*args, **kwargs)

    monkeypatch.setattr(running.anyio.to_thread, "run_sync", counted)
    with TestClient(create_app(ws)) as http:
        on_loop = [http.post("/graphql", json={"query": q}).json() for q in questions]
        via_get = [http.get("/graphql", params={"query": q}).json() for q in questions]
        assert hops == []  # no worker thread
        in_thread = []
        for q in questions:
            other = open_store(db)
            other.set_setting("unrelated", q)  # another process commits: the next request catches up first
            other.close()
            assert not ws.fresh_now()
            in_thread.append(http.post("/graphql", json={"query": q}).json())
        assert len(hops) == len(questions)
    assert on_loop == in_thread == via_get
    assert on_loop[0]["data"]["can"] == {"decision": "IMPLICIT_DENY", "world": {"version": 0}}
    assert on_loop[1]["data"]["can"] is None and on_loop[1]["errors"][0]["extensions"]["code"] == "UNKNOWN_ACTION"


def test_a_change_sent_over_the_websocket_waits_for_the_store_lock_off_the_event_loop(tmp_path: Path) -> None:
    """A mutation over graphql-transport-ws runs as one over HTTP: while it waits for another
    process's lock, HTTP questions are answered; it ends STORE_BUSY; a query over the socket
    answers as over HTTP."""
    import asyncio

    from websockets.asyncio.client import connect

    db = tmp_path / "store.db"
    Workspace.open(db).store.close()  # type: ignore[union-attr]
    other = sqlite3.connect(db, isolation_level=None)

    async def scenario(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool, list[dict[str, Any]]]:
        sock = await connect(url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"], open_timeout=WAIT)  # type: ignore[list-item]
        await sock.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(sock.recv(), WAIT)) == {"type": "connection_ack"}

        async def operation(op_id: str, query: str) -> list[dict[str, Any]]:
            await sock.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query}}))
            messages = []
            while not messages or messages[-1]["type"] not in ("complete", "error"):
                messages.append(json.loads(await asyncio.wait_for(sock.recv(), WAIT)))
            return messages

        asked = await operation("1", CAN_HR)
        other.execute("BEGIN IMMEDIATE")  # another process holds the store's write lock
        change = asyncio.create_task(operation("2", ADD))
        await asyncio.sleep(0.5)  # the change is sent and waiting for the lock
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            worlds = (await http.post("/graphql", json={"query": "{ worlds { name version } }"})).json()["data"]["worlds"]
        waiting = not change.done()
        changed = await change
        other.execute("ROLLBACK")
        await sock.close()
        assert worlds == [{"name": "final-friday", "version": 0}]
        return asked, changed, waiting, worlds

    try:
        with served("--db", str(db), "--deadline", "8") as url:
            asked, changed, waiting, _ = asyncio.run(scenario(url))
            over_http = _post(url, CAN_HR)
    finally:
        other.close()
    assert asked == [{"id": "1", "type": "next", "payload": over_http}, {"id": "1", "type": "complete"}]
    assert waiting  # the question over HTTP was answered while the change still waited
    busy = changed[0]["payload"]["data"]["addUserToGroup"]
    assert (busy["__typename"], busy["code"], busy["retryable"]) == ("Conflict", "STORE_BUSY", True)
    assert [c.mutation for c in open_store(db).history("final-friday")] == ["createWorld"]
