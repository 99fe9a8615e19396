"""Two replicas (two `graphsim serve` processes) on one PostgreSQL database, as docs/deploy.md
deploys them: a change made through one is answered by the other's next request, concurrent
writers through both lose nothing, an organization-wide who-can on a LocalCluster against the
same database equals the one-process answer, and a replica whose database goes away keeps
answering questions, refuses changes with a retryable error and says so on /healthz."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from graphsim.cli import EXIT_OK, main
from graphsim.workspace import Workspace
from tests.org_world import small_organization
from tests.test_durability import free_port, start

# Each test works on its own world of the two replicas' database (the servers start once).
USERS = "query($w: String) { world(name: $w) { version usersConnection(first: 500) { totalCount nodes { name } } } }"
CREATE = 'mutation($n: String!, $w: String) { createUser(name: $n, world: $w) { __typename ... on Conflict { code retryable } } }'
FORK = 'mutation($w: String!) { forkWorld(source: "final-friday", name: $w) { __typename } }'


@pytest.fixture(scope="module")
def replicas(postgres: Any) -> Iterator[tuple[str, list[str]]]:
    url = postgres.new_database()
    Workspace.open(url)  # the store and its demo world, before two processes race to make them
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(2):
            port = free_port()
            procs.append(start(url, port))
            urls.append(f"http://127.0.0.1:{port}")
        yield url, urls
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def ask(base: str, query: str, **variables: Any) -> dict[str, Any]:
    body = httpx.post(f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30).json()
    assert "errors" not in body, body
    return body["data"]


def names(base: str, world_name: str | None = None) -> tuple[int, set[str]]:
    world = ask(base, USERS, w=world_name)["world"]
    return world["version"], {n["name"] for n in world["usersConnection"]["nodes"]}


def test_a_change_through_one_replica_is_answered_by_the_others_next_request(replicas: tuple[str, list[str]]) -> None:
    _, (one, other) = replicas
    assert ask(one, FORK, w="relay")["forkWorld"] == {"__typename": "WorldPayload"}
    start, _ = names(other, "relay")  # the fork, made through the other replica, is there
    for i in range(5):
        assert ask(one, CREATE, n=f"first{i}", w="relay")["createUser"] == {"__typename": "UserPayload"}
        version, users = names(other, "relay")  # the very next request, no waiting
        assert version == start + 2 * i + 1 and f"first{i}" in users
        assert ask(other, CREATE, n=f"second{i}", w="relay")["createUser"] == {"__typename": "UserPayload"}
        version, users = names(one, "relay")
        assert version == start + 2 * i + 2 and f"second{i}" in users


def test_concurrent_writers_through_both_replicas_lose_nothing(replicas: tuple[str, list[str]]) -> None:
    url, bases = replicas
    ask(bases[0], FORK, w="writers")
    start, _ = names(bases[1], "writers")
    per_writer, acknowledged, problems = 12, [], []
    lock = threading.Lock()

    def write(base: str, tag: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as http:
            for i in range(per_writer):
                name = f"{tag}-{i}"
                for _ in range(20):  # a VERSION_CONFLICT says: send the same change again
                    result = http.post("/graphql", json={"query": CREATE, "variables": {"n": name, "w": "writers"}}).json()["data"]["createUser"]
                    if result["__typename"] == "UserPayload":
                        with lock:
                            acknowledged.append(name)
                        break
                    if not result.get("retryable"):
                        problems.append(result)
                        return
                else:
                    problems.append(f"{name} never landed")

    writers = [threading.Thread(target=write, args=(bases[w % 2], f"w{w}")) for w in range(4)]  # two through each replica
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    assert problems == []
    expected = {f"w{w}-{i}" for w in range(4) for i in range(per_writer)}
    assert sorted(acknowledged) == sorted(expected)  # each acknowledged once
    for base in bases:
        version, users = names(base, "writers")
        assert version == start + 4 * per_writer and expected <= users
    with psycopg.connect(url) as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM changes WHERE world = 'writers' ORDER BY version")]
    assert versions == list(range(start + 4 * per_writer + 1))  # one change per version, no gap


def test_an_organization_wide_who_can_on_a_local_cluster_equals_one_process(replicas: tuple[str, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    url, (_, other) = replicas
    Workspace.open(url).import_world("org", small_organization(), sources=["tests/org_world.py"])
    question = ["who-can", "arn:aws:s3:::org-logs/a.log", "s3:GetObject", "--world", "org", "--db", url, "--json"]
    assert main(question) == EXIT_OK
    alone = json.loads(capsys.readouterr().out)
    assert main([*question, "--dask-workers", "2"]) == EXIT_OK
    spread = capsys.readouterr()
    assert json.loads(spread.out) == alone and len(alone) > 10
    assert "computed on 2 Dask worker(s) on this machine" in spread.err
    # And the replicas answer the same question from the same database.
    via_graphql = ask(other, '{ whoCan(actions: ["s3:GetObject"], resource: "arn:aws:s3:::org-logs/a.log", world: "org") { principal access } }')["whoCan"]
    assert [(e["principal"], e["access"]) for e in via_graphql] == [(e["principal"], e["access"]) for e in alone]


def test_a_replica_whose_database_goes_away_answers_questions_and_refuses_changes(postgres: Any) -> None:
    url = postgres.new_database()
    Workspace.open(url)
    port = free_port()
    proc = start(url, port)
    base = f"http://127.0.0.1:{port}"
    try:
        assert httpx.get(f"{base}/healthz").json()["store"] == "ok"
        database = url.rsplit("/", 1)[1]
        with psycopg.connect(postgres.admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {database} WITH (FORCE)")  # ends the replica's connection too
        version, users = names(base)  # still answered, from the world last read
        assert version == 0 and "newbie" in users
        refused = ask(base, CREATE, n="lost")["createUser"]
        assert refused == {"__typename": "Conflict", "code": "STORE_UNAVAILABLE", "retryable": True}
        assert httpx.get(f"{base}/healthz").json()["store"] == "unreachable"
        assert "lost" not in names(base)[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)

