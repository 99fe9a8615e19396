"""Organization-wide analyses on a Dask cluster (``pip install 'graphsim[distributed]'``).

who-can, the access matrix and findings over a large world are split into partitions of its
principals, run on ``dask.distributed`` workers and merged into exactly the answer one process
gives (the same entries, cells and findings, in the same order):

- **who-can**: for each action, the principals allowed directly are decided per partition
  (``analysis.who_can_direct``), then, when some role is allowed, those that get there by
  assuming roles (``who_can_via_roles``, told who was allowed directly); the outside principals a
  resource policy names are one cheap step on the client. Entries merge in
  ``analysis.principal_order``, the order one process lists them in.
- **matrix**: each partition is a block of rows (``access_matrix`` over its principals); the
  blocks go back in the rows' places.
- **findings**: the admin-equivalent rule (the costly one: every admin probe for every candidate)
  runs per partition, every other rule as one task; merged in the rules' own order, then sorted
  as ``findings`` sorts.

Partitions follow accounts (an account's principals stay together: they share its SCPs,
baselines and trust policies, so a worker's caches serve them all), balanced by size; an account
larger than a share (the identity account that holds every user) is cut into pieces.

**Each worker loads the world once per version**, not per task: tasks name the world by
(store location, name, version) and a worker process keeps the engine it built for that key. A
world that lives only in the client's memory (``--world FILE``, a ``:memory:`` store) is sent to
each worker once instead (scattered, then cached the same way). A remote cluster's workers must
reach the store: use a PostgreSQL store (``--db postgresql://...``) there.

Start workers with one thread each (``dask worker --nthreads 1``): the work is pure Python, and
threads would share one interpreter lock and one engine's caches. This module is an edge, like the
CLI: the pure core never imports Dask.
"""

from __future__ import annotations

import os
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .analysis import (
    RULES,
    Finding,
    Matrix,
    WhoCanEntry,
    access_matrix,
    admin_equivalent_findings,
    check_rules,
    findings_in_order,
    principal_order,
    who_can_direct,
    who_can_outside,
    who_can_request,
    who_can_via_roles,
)
from .engine import ContextEntry, Engine
from .errors import ConflictError, InvalidRequestError
from .workspace import Workspace
from .world import NodeKind, World
from .world.io import world_from_dict, world_to_dict

try:
    from dask.distributed import Client, LocalCluster
except ImportError:  # the optional extra is not installed: say how to get it when asked for
    Client = LocalCluster = None  # type: ignore[assignment,misc]

PARTITIONS_PER_WORKER = 4  # a few tasks per worker, so a slow partition does not hold up the end
ADMIN_RULE = "admin-equivalent"


@dataclass(frozen=True, slots=True)
class WorldRef:
    """The world a task answers from: a store's world at one version, or (``location`` None) a
    world the client holds in memory, known by a token minted once per world object."""

    location: str | None
    name: str
    version: int
    token: str = ""


# ---- on a worker: one engine per world version ---------------------------------------------------

_ENGINES: dict[WorldRef, Engine] = {}
_LOCK = threading.Lock()
LOADS: list[WorldRef] = []  # what this process built, in order: one entry per world version


def worker_engine(ref: WorldRef, data: dict[str, Any] | None = None) -> Engine:
    """The engine for ``ref`` in this process, built on first use: read from the store, or from
    the scattered world file ``data``. An older version of the same world is dropped."""
    with _LOCK:
        engine = _ENGINES.get(ref)
        if engine is None:
            world = _read(ref, data)
            for held in [r for r in _ENGINES if (r.location, r.name, r.token) == (ref.location, ref.name, ref.token)]:
                del _ENGINES[held]
            engine = _ENGINES[ref] = Engine(world)
            LOADS.append(ref)
        return engine


def _read(ref: WorldRef, data: dict[str, Any] | None) -> World:
    if ref.location is None:
        if data is None:
            raise InvalidRequestError(f"world {ref.name!r} is held in the client's memory and was not sent to the workers", field="world")
        world = world_from_dict(data, source="scattered by the client", name=ref.name)
        world.version = ref.version
        return world
    ws = Workspace.open(ref.location, load=False)
    try:
        world = ws.load(ref.name)
    finally:
        if ws.store is not None:
            ws.store.close()
    if world.version != ref.version:
        raise ConflictError(f"world {ref.name!r} moved from version {ref.version} to {world.version} while the analysis ran; run it again", field="world")
    return world


def loads() -> list[WorldRef]:
    """What this worker process loaded (for ``Client.run``: tests and operators check that a
    worker read each world version once)."""
    return list(LOADS)


# ---- tasks (run on workers) ------------------------------------------------------------------------
# A task's arguments travel inside one frozen dataclass: dask.distributed reads lists and tuples
# in task arguments as parts of the task graph (a list holding "*" is refused by its scheduler).


@dataclass(frozen=True, slots=True)
class WhoCanJob:
    ref: WorldRef
    action: str
    arn: str
    context: tuple[ContextEntry, ...]
    allowed: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MatrixJob:
    ref: WorldRef
    principals: tuple[str, ...]
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    context: tuple[ContextEntry, ...]


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows (indexes into MatrixJob.principals) one matrix task fills."""

    indexes: tuple[int, ...]


def _direct_task(principals: frozenset[str], job: WhoCanJob, data: dict[str, Any] | None) -> list[WhoCanEntry]:
    return who_can_direct(worker_engine(job.ref, data), job.action, job.arn, job.context, principals)


def _via_task(principals: frozenset[str], job: WhoCanJob, data: dict[str, Any] | None) -> list[WhoCanEntry]:
    return who_can_via_roles(worker_engine(job.ref, data), job.action, job.arn, job.context, job.allowed, principals)


def _matrix_task(rows: Rows, job: MatrixJob, data: dict[str, Any] | None) -> tuple[Rows, Matrix]:
    engine = worker_engine(job.ref, data)
    return rows, access_matrix(engine, [job.principals[i] for i in rows.indexes], job.actions, job.resources, job.context)


def _rule_task(rule_id: str, ref: WorldRef, data: dict[str, Any] | None) -> list[Finding]:
    engine = worker_engine(ref, data)
    return list(RULES[rule_id](engine.world, engine))


def _admin_task(principals: frozenset[str], ref: WorldRef, data: dict[str, Any] | None) -> list[Finding]:
    engine = worker_engine(ref, data)
    return list(admin_equivalent_findings(engine.world, engine, principals))


# ---- on the client ------------------------------------------------------------------------------------

_TOKENS: weakref.WeakKeyDictionary[World, str] = weakref.WeakKeyDictionary()


@dataclass
class Cluster:
    """A Dask client and how the world reaches its workers."""

    client: Any  # dask.distributed.Client
    local: Any = None  # the LocalCluster this process started, if any

    @property
    def workers(self) -> int:
        return len(self.client.scheduler_info(n_workers=-1)["workers"]) or 1

    def partitions(self) -> int:
        return PARTITIONS_PER_WORKER * self.workers

    def world_ref(self, engine: Engine, location: str | None) -> tuple[WorldRef, Any]:
        """(the reference tasks carry, the scattered world file or None). A store world is read
        by the workers themselves; a world only in memory is sent once to every worker."""
        world = engine.world
        if location is not None and location != ":memory:":
            if "://" not in location:
                location = os.path.abspath(location)  # workers may start elsewhere
            return WorldRef(location, world.name, world.version), None
        token = _TOKENS.get(world)
        if token is None:
            token = _TOKENS[world] = uuid.uuid4().hex
        ref = WorldRef(None, world.name, world.version, token)
        # Scattered inside a list: Client.scatter takes a dict as {key: value} pairs, and with
        # hash=False its keys ("users", "policies", ...) would be the same names for every world
        # sent, so one scatter's release could drop the next one's data ("lost dependencies").
        [data] = self.client.scatter([world_to_dict(world)], broadcast=True, hash=False)
        return ref, data


@contextmanager
def connect(address: str | None = None, workers: int | None = None) -> Iterator[Cluster]:
    """A client of the scheduler at ``address`` (``tcp://scheduler:8786``), or of a LocalCluster
    of ``workers`` processes on this machine (one thread each, loopback only), closed after."""
    if Client is None or LocalCluster is None:
        raise InvalidRequestError("organization-wide analyses on a cluster need Dask: pip install 'graphsim[distributed]'", field="--cluster" if address else "--dask-workers")
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its start-up notes are not the answer
    if address is not None:
        try:
            client = Client(address, timeout="10s")
        except OSError as exc:
            raise InvalidRequestError(f"cannot reach the Dask scheduler at {address}: {exc}", field="--cluster") from None
        except (ValueError, TypeError) as exc:  # Dask's reading of the address: no port, a scheme it has no transport for
            raise InvalidRequestError(f"{address!r} is not a Dask scheduler address ({exc}): write tcp://HOST:PORT", field="--cluster") from None
        try:
            yield Cluster(client)
        finally:
            client.close(timeout=10)
        return
    if workers is None or workers < 1:
        raise InvalidRequestError(f"--dask-workers must be at least 1, got {workers}", field="--dask-workers")
    local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0")
    client = Client(local)
    try:
        yield Cluster(client, local)
    finally:
        # Bounded: a worker still busy with a task of a failed analysis must not hold the exit.
        client.close(timeout=10)
        local.close(timeout=20)


def account_partitions(world: World, keys: Iterable[str], parts: int) -> list[frozenset[str]]:
    """``keys`` in at most ``parts`` shares of about equal size, an account's principals together
    where they fit in one share; an account with more principals than a share (an identity
    account holding every user) is cut into share-sized pieces, so that one account cannot hold
    up the end. Largest pieces first, each into the smallest share so far."""
    by_account: dict[str, list[str]] = {}
    for key in keys:
        by_account.setdefault(world.account_of(key) or "", []).append(key)
    total = sum(len(members) for members in by_account.values())
    size = max(1, -(-total // max(1, parts)))  # ceil(total / parts)
    pieces = [members[i : i + size] for _, members in sorted(by_account.items()) for i in range(0, len(members), size)]
    shares: list[list[str]] = [[] for _ in range(max(1, parts))]
    for piece in sorted(pieces, key=len, reverse=True):  # stable: equal sizes keep account order
        min(shares, key=len).extend(piece)
    return [frozenset(share) for share in shares if share]


def _principals(world: World) -> list[str]:
    return [key for kind in (NodeKind.USER, NodeKind.ROLE) for key, _ in world.nodes_of(kind)]


def who_can(cluster: Cluster, engine: Engine, location: str | None, actions: Sequence[str], resource: str, context: Iterable[ContextEntry] = (), *, parts: int | None = None) -> list[WhoCanEntry]:
    """``analysis.who_can`` on the cluster: the same entries in the same order."""
    canonical, arn, ctx = who_can_request(engine, actions, resource, context)  # bad input fails here, before any task
    world = engine.world
    ref, data = cluster.world_ref(engine, location)
    shares = account_partitions(world, _principals(world), parts or cluster.partitions())
    client = cluster.client
    n = len(shares)
    jobs = {a: WhoCanJob(ref, a, arn, ctx) for a in canonical}
    direct_parts = {a: client.map(_direct_task, shares, [job] * n, [data] * n, pure=False) for a, job in jobs.items()}
    direct = {a: _ordered(world, client.gather(futures)) for a, futures in direct_parts.items()}
    via_parts = {
        a: client.map(_via_task, shares, [WhoCanJob(ref, a, arn, ctx, frozenset(e.principal for e in direct[a]))] * n, [data] * n, pure=False)
        for a in canonical
        if any(e.kind == NodeKind.ROLE.value for e in direct[a])  # as who_can: only when some role is allowed
    }
    via = {a: _ordered(world, client.gather(futures)) for a, futures in via_parts.items()}
    out: list[WhoCanEntry] = []
    for a in canonical:
        out += direct[a] + via.get(a, []) + who_can_outside(engine, a, arn, ctx)
    return out


def _ordered(world: World, parts: Iterable[list[WhoCanEntry]]) -> list[WhoCanEntry]:
    return sorted((e for part in parts for e in part), key=lambda e: principal_order(world, e.principal))


def matrix(
    cluster: Cluster, engine: Engine, location: str | None, principals: Sequence[str], actions: Sequence[str], resources: Sequence[str],
    context: Iterable[ContextEntry] = (), *, parts: int | None = None,
) -> Matrix:
    """``analysis.access_matrix`` on the cluster: the same cells (``principal_groups`` and
    ``evaluations`` add up the partitions', so may be higher than one process's)."""
    ctx = tuple(context)
    head = access_matrix(engine, principals, actions, [], ctx)  # checks principals, actions and context
    arns = [engine.resolve_resource(r, field=f"resources[{i}]") for i, r in enumerate(resources)]
    world = engine.world
    keys = [engine.resolve_principal(p)[0] for p in principals]
    rows_of: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        rows_of.setdefault(key, []).append(i)
    shares = account_partitions(world, rows_of, parts or cluster.partitions())
    row_parts = [Rows(tuple(sorted(i for key in share for i in rows_of[key]))) for share in shares]
    ref, data = cluster.world_ref(engine, location)
    job = MatrixJob(ref, tuple(principals), tuple(actions), tuple(resources), ctx)
    n = len(row_parts)
    futures = cluster.client.map(_matrix_task, row_parts, [job] * n, [data] * n, pure=False)
    A, R = len(head.actions), len(arns)
    codes = bytearray(len(keys) * A * R)
    groups = evaluations = 0
    for rows, block in cluster.client.gather(futures):
        for j, i in enumerate(rows.indexes):
            codes[i * A * R : (i + 1) * A * R] = block.codes[j * A * R : (j + 1) * A * R]
        groups += block.principal_groups
        evaluations += block.evaluations
    return Matrix(head.principals, head.actions, tuple(arns), bytes(codes), principal_groups=groups, evaluations=evaluations)


def findings(cluster: Cluster, engine: Engine, location: str | None, rules: Iterable[str] | None = None, *, parts: int | None = None) -> list[Finding]:
    """``analysis.findings`` on the cluster: the same findings in the same order."""
    chosen = check_rules(rules)
    world = engine.world
    ref, data = cluster.world_ref(engine, location)
    client = cluster.client
    submitted: dict[str, Any] = {}
    for rule_id in chosen:
        if rule_id == ADMIN_RULE:
            shares = account_partitions(world, _principals(world), parts or cluster.partitions())
            submitted[rule_id] = client.map(_admin_task, shares, [ref] * len(shares), [data] * len(shares), pure=False)
        else:
            submitted[rule_id] = [client.submit(_rule_task, rule_id, ref, data, pure=False)]
    out: list[Finding] = []
    for rule_id in chosen:
        found = [f for part in client.gather(submitted[rule_id]) for f in part]
        if rule_id == ADMIN_RULE:
            # The rule's own order: users, then roles, each by ARN.
            found.sort(key=lambda f: (world.kind_of(f.principal) is NodeKind.ROLE, f.principal))
        out += found
    return findings_in_order(world, out)

