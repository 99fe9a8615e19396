"""What a review of the concurrent paths found (2026-12-04), each as it was reproduced:
subscribers missing a change whose new version was in memory before its commit; changes queued
in one process behind another process's lock waiting one lock wait each (and answered
DEADLINE_EXCEEDED instead of STORE_BUSY); a change's answer lost to the deadline its waits had
used up; a history page too large answered with a masked error."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import httpx
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.api.subscriptions import world_changes
from graphsim.workspace import Workspace
from graphsim.world.commands import CreateUser
from tests.conftest import served


def test_a_change_held_in_memory_before_its_commit_is_still_pushed_when_it_commits(tmp_path: Path) -> None:
    ws = Workspace.open(str(tmp_path / "s.db"))
    name = ws.world().name
    start = ws.world().version
    polls = 0

    async def catch_up(_: Workspace) -> None:
        nonlocal polls
        polls += 1
        world = ws.world(name)
        if polls == 1:
            world.version = start + 1  # a change applied in memory, its commit not yet made
        elif polls == 2:
            world.version = start
            ws.apply(world, CreateUser("late"))  # now it commits, as version start + 1

    async def first_change() -> Any:
        async for change in world_changes(ws, name, poll=0.01, catch_up=catch_up):
            return change
        return None

    change = asyncio.run(asyncio.wait_for(first_change(), timeout=10))
    assert (change.version, change.mutation) == (start + 1, "createUser")


def test_changes_queued_behind_another_process_lock_each_end_store_busy_within_the_deadline(tmp_path: Path) -> None:
    db = tmp_path / "team.db"
    with served("--db", str(db), "--deadline", "2") as url:
        answers: list[dict[str, Any]] = []
        other = sqlite3.connect(db, isolation_level=None, timeout=30)
        other.execute("BEGIN IMMEDIATE")
        try:
            def create(i: int) -> None:
                query = f'mutation {{ createUser(name: "queued-{i}") {{ __typename ... on UserError {{ code }} }} }}'
                answers.append(httpx.post(f"{url}/graphql", json={"query": query}, timeout=60).json())

            threads = [threading.Thread(target=create, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
        finally:
            other.execute("ROLLBACK")
            other.close()
        # Every one waited at most the lock wait (three quarters of the deadline), in the
        # process's queue or for the other process's lock, and says so: retryable, nothing changed.
        assert [a["data"]["createUser"] for a in answers] == [{"__typename": "Conflict", "code": "STORE_BUSY"}] * 4, answers
        users = httpx.post(f"{url}/graphql", json={"query": "{ world { users { name } } }"}, timeout=30).json()["data"]["world"]["users"]
        assert not [u for u in users if u["name"].startswith("queued-")]


def test_a_history_page_too_large_is_the_typed_refusal() -> None:
    with TestClient(create_app(Workspace.open(":memory:"))) as http:
        error = http.post("/graphql", json={"query": "{ world { historyConnection(first: 600) { totalCount } } }"}).json()["errors"][0]
    assert error["extensions"]["code"] == "PAGE_TOO_LARGE"
