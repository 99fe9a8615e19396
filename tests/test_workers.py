"""Several server processes on one store (``graphsim serve --workers N``) answer as one: a change
made through one worker is answered by the other by its next request, concurrent changes through
both all land (a worker that lost the race catches up and applies its change again), and the
configuration (tokens, store, world) reaches every worker."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from graphsim.cli import EXIT_INPUT, main
from graphsim.errors import WorldChangedError
from graphsim.workspace import CHANGE_ATTEMPTS, Workspace
from graphsim.world import NodeKind
from graphsim.world.commands import AddUserToGroup, CreateUser
from tests.conftest import served

TOKEN = "workers-test-token-0123456789"
ASK = '{ can(principal: "newbie", action: "s3:GetBucketLocation", resource: "final-friday-reports") { decision world { name version } } }'


def test_a_change_that_lost_the_race_to_another_process_is_applied_again_on_the_caught_up_world(tmp_path: Path) -> None:
    db = str(tmp_path / "team.db")
    first, second = Workspace.open(db), Workspace.open(db)
    first.apply(first.world(), CreateUser("ana"))  # second has not caught up: it still holds version 0
    stale = second.world()
    second.apply(stale, AddUserToGroup(user="newbie", group="HR"))
    after = second.world()
    assert after is not stale and after.version == 2  # both changes, in the order they were committed
    assert second.engine().can("newbie", "s3:GetBucketLocation", "final-friday-reports").decision.value == "ALLOWED"
    assert "ana" in {after.name_of(key) for key, _ in after.nodes_of(NodeKind.USER)}
    assert [c.mutation for c in second.history()][:2] == ["addUserToGroup", "createUser"]
    # A change the caught-up world refuses is refused as it would be there, not retried.
    third = Workspace.open(db)
    second.apply(second.world(), CreateUser("bo"))
    with pytest.raises(Exception, match="already"):
        third.apply(third.world(), CreateUser("bo"))
    assert third.world().version == 3


def test_a_change_that_keeps_losing_the_race_is_the_retryable_store_busy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "team.db")
    ws, other = Workspace.open(db), Workspace.open(db)
    assert ws.store is not None
    real_append = ws.store.append
    calls = []

    def append_after_another_process(*args: object, **kwargs: object) -> None:
        calls.append(1)
        other.refresh()
        other.apply(other.world(), CreateUser(f"racer{len(calls)}"))  # always one step ahead
        real_append(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ws.store, "append", append_after_another_process)
    with pytest.raises(WorldChangedError) as raised:
        ws.apply(ws.world(), AddUserToGroup(user="newbie", group="HR"))
    assert len(calls) == CHANGE_ATTEMPTS
    assert raised.value.code == "VERSION_CONFLICT" and raised.value.extensions()["retryable"] is True
    assert ws.world().version == other.world().version == CHANGE_ATTEMPTS  # only the racers' changes
    assert ws.engine().can("newbie", "s3:GetBucketLocation", "final-friday-reports").decision.value == "IMPLICIT_DENY"


@pytest.mark.parametrize("args", [["--workers", "2", "--db", ":memory:"], ["--workers", "0"]])
def test_workers_need_a_store_file_and_a_positive_count(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHSIM_DB", str(tmp_path / "s.db"))
    assert main(["serve", "--port", "1", *args]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error (--workers): ")
    assert not (tmp_path / "s.db").exists()


def test_a_world_file_with_several_workers_needs_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "1", "--workers", "2", "--world", "tests/data/northwind-queues.yaml"]) == EXIT_INPUT
    assert "cannot be shared; give --db PATH" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def two_workers(tmp_path: Path) -> Iterator[str]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("GRAPHSIM_TOKEN", "GRAPHSIM_READ_TOKEN")}
    with served("--workers", "2", "--db", str(tmp_path / "team.db"), "--token-file", str(token_file), wait=60, env=env) as base:
        yield base


def _clients_on_two_workers(base: str) -> tuple[httpx.Client, httpx.Client]:
    """Two keep-alive clients, each held by a different worker process (a connection stays with
    the process that accepted it)."""
    first = httpx.Client(base_url=base, timeout=30)
    for _ in range(200):
        other = httpx.Client(base_url=base, timeout=30)
        other_pid = other.get("/healthz").json()["process"]
        # Asked again each time: an idle keep-alive connection is closed after 5 s (uvicorn's
        # default) and the next request may reconnect to the other worker.
        if first.get("/healthz").json()["process"] != other_pid:
            return first, other
        other.close()
    raise AssertionError("every connection went to one worker")


def _post(client: httpx.Client, query: str, token: str | None = TOKEN) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/graphql", json={"query": query}, headers=headers)
    return dict(response.json())


def test_two_workers_answer_each_others_changes_by_the_next_request(two_workers: str) -> None:
    a, b = _clients_on_two_workers(two_workers)
    with closing(a), closing(b):
        assert a.get("/healthz").json()["process"] != b.get("/healthz").json()["process"]
        assert _post(b, ASK)["data"] == {"can": {"decision": "IMPLICIT_DENY", "world": {"name": "final-friday", "version": 0}}}
        # The token file reached both workers: neither takes a change without it.
        for client in (a, b):
            refused = _post(client, 'mutation { addUserToGroup(user: "newbie", group: "Administrators") { __typename } }', token=None)
            assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # type: ignore[index]
        changed = _post(a, 'mutation { addUserToGroup(user: "newbie", group: "HR") { __typename ... on MembershipPayload { worldVersion } } }')
        assert changed["data"] == {"addUserToGroup": {"__typename": "MembershipPayload", "worldVersion": 1}}
        assert _post(b, ASK)["data"] == {"can": {"decision": "ALLOWED", "world": {"name": "final-friday", "version": 1}}}
        # A fork through one worker is a world the other answers from.
        _post(b, 'mutation { forkWorld(source: "final-friday", name: "review") { __typename } }')
        assert "review" in a.get("/healthz").json()["worlds"]


def test_concurrent_changes_through_both_workers_all_land_and_none_meets_a_locked_store(two_workers: str) -> None:
    a, b = _clients_on_two_workers(two_workers)
    clients = [a, b]
    users = [f"user{i:02d}" for i in range(24)]

    def create(i: int) -> dict[str, object]:
        return _post(clients[i % 2], f'mutation {{ createUser(name: "{users[i]}") {{ __typename ... on UserError {{ code message }} }} }}')

    with closing(a), closing(b), ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(create, range(len(users))))
        assert [answer.get("errors") for answer in answers] == [None] * len(users)
        assert {answer["data"]["createUser"]["__typename"] for answer in answers} == {"UserPayload"}  # type: ignore[index]
        listing = '{ world { version users { name } } }'
        for client in clients:
            world = _post(client, listing)["data"]["world"]  # type: ignore[index]
            assert world["version"] == len(users)
            assert set(users) <= {u["name"] for u in world["users"]}


def test_the_workers_shared_listener_gives_every_connection_tcp_nodelay() -> None:
    """uvicorn binds the workers' listener with proto 0, and asyncio then leaves Nagle's algorithm
    on for each accepted connection (a keep-alive answer waits for the client's delayed ACK);
    graphsim's listener says it is TCP, so asyncio turns Nagle off on every connection."""
    import asyncio

    from graphsim.api.serving import _WorkersConfig

    listener = _WorkersConfig("graphsim.api.serving:app_from_environment", factory=True, host="127.0.0.1", port=0, workers=2).bind_socket()
    assert listener.proto == socket.IPPROTO_TCP and listener.get_inheritable()

    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connection, sock=listener)
        async with server:
            _, client = await asyncio.open_connection(*listener.getsockname()[:2])
            value = await asyncio.wait_for(seen, timeout=10)
            client.close()
        return value

    assert asyncio.run(accepted_nodelay()) != 0
