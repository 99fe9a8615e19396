"""Organization-wide analyses on a Dask LocalCluster (graphsim.distributed): who-can, the access
matrix and findings, split into partitions of principals and merged, say exactly what one
process says, and each worker builds the world once per version.

The organization is tests/org_world.py: the same four roles in every account, users of the
management account reaching them by assuming roles, a bucket policy naming one member account.
Cross-account access needs both sides: the caller's identity policy and the bucket policy.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from graphsim import distributed
from graphsim.analysis import access_matrix, all_principals, findings, who_can
from graphsim.cli import EXIT_INPUT, EXIT_OK, main
from graphsim.engine import ContextEntry
from graphsim.presentation import to_json
from graphsim.workspace import Workspace
from graphsim.world import NodeKind
from graphsim.world import commands as c
from graphsim.world.io import world_from_dict
from tests.conftest import StoreUnderTest
from tests.org_world import GRANTED, MANAGEMENT, TOOLING, account, small_organization

LOGS = "arn:aws:s3:::org-logs/2026/12/03.log"
QUESTIONS: list[tuple[list[str], str]] = [
    (["s3:GetObject", "s3:PutObject"], LOGS),
    (["s3:ListAllMyBuckets"], "*"),
    (["sts:AssumeRole"], f"arn:aws:iam::{GRANTED}:role/Admin"),
    (["s3:DeleteObject"], "arn:aws:s3:::org-artifacts/build.zip"),
]


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.Cluster]:
    with distributed.connect(workers=2) as running:
        yield running


def stored_org(store: StoreUnderTest) -> Workspace:
    ws = Workspace.open(store.location)
    ws.import_world("org", small_organization(), sources=["tests/org_world.py"])
    return ws


def test_who_can_on_the_cluster_equals_one_process(cluster: distributed.Cluster, store: StoreUnderTest) -> None:
    ws = stored_org(store)
    engine = ws.engine("org")
    for actions, resource in QUESTIONS:
        single = who_can(engine, actions, resource)
        for parts in (None, 3):
            assert to_json(distributed.who_can(cluster, engine, store.location, actions, resource, parts=parts)) == to_json(single), (actions, resource, parts)
    # What the answer is, by AWS's rules: the management account's principals allowed by their
    # own policies, the granted member account's too (its account is named by the bucket
    # policy), no other account's; the management account's users by assuming a role.
    entries = distributed.who_can(cluster, engine, store.location, ["s3:GetObject"], LOGS)
    direct = sorted(e.principal for e in entries if e.access == "direct")
    assert direct == sorted([f"arn:aws:iam::{MANAGEMENT}:user/carol"] + [f"arn:aws:iam::{a}:role/{r}" for a in (MANAGEMENT, GRANTED) for r in ("Admin", "Auditor", "ReadOnly")])
    via = sorted(e.label for e in entries if e.access == "via-roles")
    assert via == ["user/alice"] + [f"user/user{n:02d}" for n in range(10)]


def test_who_can_with_context_and_an_in_memory_world(cluster: distributed.Cluster) -> None:
    """A world held only by the client (a world file) is sent to the workers, not read from a store."""
    ws = Workspace.with_world(world_from_dict(small_organization(), name="org"))
    engine = ws.engine()
    context = (ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip"),)
    for actions, resource in QUESTIONS:
        assert to_json(distributed.who_can(cluster, engine, None, actions, resource, context)) == to_json(who_can(engine, actions, resource, context))


def test_matrix_and_findings_on_the_cluster_equal_one_process(cluster: distributed.Cluster, store: StoreUnderTest) -> None:
    ws = stored_org(store)
    engine = ws.engine("org")
    principals = all_principals(engine)
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "sts:AssumeRole", "iam:CreateUser"]
    resources = [LOGS, "arn:aws:s3:::org-artifacts/build.zip", f"arn:aws:iam::{GRANTED}:role/Admin", "*"]
    single = access_matrix(engine, principals, actions, resources)
    spread = distributed.matrix(cluster, engine, store.location, principals, actions, resources, parts=5)
    assert (spread.principals, spread.actions, spread.resources) == (single.principals, single.actions, single.resources)
    assert spread.codes == single.codes
    # The Prod OU's SCP denies s3:PutObject: an explicit deny even in the bucket's own account
    # (tooling, in Prod); the management account's Admin writes its own bucket; another
    # account's Admin is not named by the artifacts bucket (no bucket policy): implicit deny.
    artifacts = "arn:aws:s3:::org-artifacts/build.zip"
    assert spread.decision(f"arn:aws:iam::{TOOLING}:role/Admin", "s3:PutObject", artifacts) == "EXPLICIT_DENY"
    assert spread.decision(f"arn:aws:iam::{MANAGEMENT}:role/Admin", "s3:PutObject", LOGS) == "ALLOWED"
    assert spread.decision(f"arn:aws:iam::{MANAGEMENT}:role/Admin", "s3:PutObject", artifacts) == "IMPLICIT_DENY"
    assert to_json(distributed.findings(cluster, engine, store.location)) == to_json(findings(engine.world, engine))
    assert to_json(distributed.findings(cluster, engine, store.location, ["admin-equivalent", "user-direct-policy"], parts=2)) == to_json(
        findings(engine.world, engine, ["admin-equivalent", "user-direct-policy"])
    )


def test_each_worker_loads_each_world_version_once(cluster: distributed.Cluster, tmp_path: Any) -> None:
    location = str(tmp_path / "org.db")
    ws = Workspace.open(location)
    ws.import_world("org", small_organization(), sources=["tests/org_world.py"])
    engine = ws.engine("org")
    for actions, resource in QUESTIONS:
        distributed.who_can(cluster, engine, location, actions, resource)  # 4 questions, 8 partitions each
    distributed.findings(cluster, engine, location)
    ref = distributed.WorldRef(location, "org", 0)
    assert all(loaded.count(ref) == 1 for loaded in cluster.client.run(distributed.loads).values())
    ws.apply(ws.world("org"), c.CreateUser("zed", account=MANAGEMENT))  # version 1
    engine = ws.engine("org")
    distributed.who_can(cluster, engine, location, ["s3:ListAllMyBuckets"], "*")
    distributed.who_can(cluster, engine, location, ["s3:GetObject"], LOGS)
    newer = distributed.WorldRef(location, "org", 1)
    for loaded in cluster.client.run(distributed.loads).values():
        assert loaded.count(ref) <= 1 and loaded.count(newer) == 1


def test_a_world_that_moved_while_the_workers_read_it_is_an_error_naming_it(cluster: distributed.Cluster, tmp_path: Any) -> None:
    location = str(tmp_path / "org.db")
    ws = Workspace.open(location)
    ws.import_world("org", small_organization(), sources=["tests/org_world.py"])
    engine = ws.engine("org")
    Workspace.open(location).apply(Workspace.open(location).world("org"), c.CreateUser("late", account=MANAGEMENT))  # another process
    with pytest.raises(Exception, match=r"world 'org' moved from version 0 to 1 while the analysis ran; run it again"):
        distributed.who_can(cluster, engine, location, ["s3:GetObject"], LOGS)


def test_the_cli_runs_who_can_matrix_and_findings_on_a_local_cluster(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "org.db")
    Workspace.open(db).import_world("org", small_organization(), sources=["tests/org_world.py"])
    runs = [
        ["who-can", LOGS, "s3:GetObject", "s3:PutObject", "--world", "org", "--db", db, "--json"],
        ["matrix", "--actions", "s3:GetObject", "s3:PutObject", "--resources", LOGS, "*", "--world", "org", "--db", db, "--format", "json"],
        ["findings", "--world", "org", "--db", db, "--json"],
    ]
    for run in runs:
        assert main(run) == EXIT_OK
        alone = capsys.readouterr()
        assert main([*run, "--dask-workers", "2"]) == EXIT_OK, run
        spread = capsys.readouterr()
        got, expected = json.loads(spread.out), json.loads(alone.out)
        if run[0] == "matrix":  # how much work it took differs: partitions split principal groups
            for counter in ("evaluations", "principalGroups"):
                assert got.pop(counter) >= expected.pop(counter)
        assert got == expected, run
        assert "computed on 2 Dask worker(s) on this machine in " in spread.err


@pytest.mark.parametrize("flags, message", [
    (["--dask-workers", "0"], "error (--dask-workers): --dask-workers must be at least 1, got 0"),
    (["--dask-workers", "2", "--cluster", "tcp://127.0.0.1:1"], "error (--dask-workers): give --cluster (a running scheduler) or --dask-workers (a local cluster), not both"),
    (["--cluster", "bogus"], "error (--cluster): 'bogus' is not a Dask scheduler address (missing port number in address 'bogus'): write tcp://HOST:PORT"),
])
def test_bad_cluster_flags_are_refused(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["who-can", "final-friday-reports/q4.pdf", "s3:GetObject", *flags]) == EXIT_INPUT
    assert capsys.readouterr().err.strip() == message


def test_partitions_keep_accounts_together_and_cut_only_an_account_larger_than_a_share() -> None:
    world = world_from_dict(small_organization(accounts=6, users=10), name="org")
    keys = [k for kind in (NodeKind.ROLE, NodeKind.USER) for k, _ in world.nodes_of(kind)]
    shares = distributed.account_partitions(world, keys, 4)
    assert sorted(k for share in shares for k in share) == sorted(keys)  # each principal exactly once
    # 36 principals (4 roles in each of 6 accounts, 12 users in the management account): shares of
    # at most 9; the management account's 16 are cut into 9 + 7, the member accounts' 4 stay
    # whole; largest first into the smallest share: 9 | 7+4 | 4+4 | 4+4 (the 7 took one more).
    assert sorted(len(s) for s in shares) == [8, 8, 9, 11]
    # Member accounts (4 roles each) are never split; the management account (4 roles and 12
    # users, more than a share of 9) is cut into pieces of at most 9.
    for acct in range(1, 6):
        holding = [s for s in shares if any(f":{account(acct)}:" in k for k in s)]
        assert len(holding) == 1


@pytest.mark.parametrize("address", ["http://127.0.0.1:8786", "tcp://[::1"])
def test_a_cluster_address_dask_cannot_read_is_bad_input(address: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["findings", "--cluster", address]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert err.startswith(f"error (--cluster): {address!r} is not a Dask scheduler address") and "Traceback" not in err
