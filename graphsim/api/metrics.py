"""What the server did, for people and for Prometheus: one JSON log line per request, and the
figures ``GET /metrics`` serves (prometheus-client's text format).

- ``graphsim_requests_total{operation,outcome}`` and ``graphsim_request_seconds{operation}``:
  every request, by GraphQL operation name (or the route for the plain HTTP routes) and outcome
  (``ok``, or the error code that ended it: ``LIMIT_EXCEEDED``, ``DEADLINE_EXCEEDED``, ...).
- ``graphsim_refusals_total{limit}``: requests refused by each limit of graphsim.limits.
- ``graphsim_store_write_seconds``: how long recording a change in the store took.
- ``graphsim_cache_*{cache}``: the bounded caches of parsed and compiled documents (entries,
  bytes, their bound, hits, misses), read when scraped.

Each app has a registry of its own, so several apps in one process (tests) never share figures.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ..policy.cache import CacheInfo
from ..workspace import LOOKED_UP

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LOG = logging.getLogger("graphsim.requests")
LOG_KEY = "graphsim.log"  # the scope key of a request's log record, filled in by the routes
# Latency buckets from a cached decision (well under a millisecond) to the deadline.
disable_created_metrics()  # no *_created series: they double the page and say nothing here
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Caches(Collector):
    def __init__(self, caches: Callable[[], Iterable[tuple[str, CacheInfo]]]) -> None:
        self.caches = caches

    def collect(self) -> Iterable[Any]:
        entries = GaugeMetricFamily("graphsim_cache_entries", "Entries held by a bounded cache", labels=["cache"])
        size = GaugeMetricFamily("graphsim_cache_bytes", "Approximate bytes held by a bounded cache", labels=["cache"])
        bound = GaugeMetricFamily("graphsim_cache_max_bytes", "The byte bound of a cache (serve --cache-bytes)", labels=["cache"])
        hits = CounterMetricFamily("graphsim_cache_hits", "Lookups a cache answered", labels=["cache"])
        misses = CounterMetricFamily("graphsim_cache_misses", "Lookups a cache had to build", labels=["cache"])
        for name, info in self.caches():
            entries.add_metric([name], info.entries)
            size.add_metric([name], info.bytes)
            bound.add_metric([name], info.max_bytes)
            hits.add_metric([name], info.hits)
            misses.add_metric([name], info.misses)
        return [entries, size, bound, hits, misses]


class Metrics:
    def __init__(self, caches: Callable[[], Iterable[tuple[str, CacheInfo]]] = lambda: ()) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("graphsim_requests", "Requests answered, by operation and outcome", ["operation", "outcome"], registry=self.registry)
        self.latency = Histogram("graphsim_request_seconds", "Time to answer a request, by operation", ["operation"], buckets=BUCKETS, registry=self.registry)
        self.refusals = Counter("graphsim_refusals", "Requests refused by a limit, by limit", ["limit"], registry=self.registry)
        self.store_writes = Histogram("graphsim_store_write_seconds", "Time to apply and record one change in the store", buckets=BUCKETS, registry=self.registry)
        self.registry.register(_Caches(caches))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def refused(self, limit: str) -> None:
        self.refusals.labels(limit).inc()

    def count_refusal(self, extensions: Mapping[str, object]) -> None:
        """Count an error under its limit when it is a refusal (``refused_limit``)."""
        limit = refused_limit(extensions)
        if limit is not None:
            self.refused(limit)


def refused_limit(extensions: Mapping[str, object]) -> str | None:
    """The limit an error's extensions say refused the request (the ``limit`` label of
    graphsim_refusals_total), or None for an error that is not a refusal."""
    code = extensions.get("code")
    if code == "SIMULATION_TOO_LARGE":
        return "simulation_pairs"  # its `limit` extension is the maximum, an older shape kept for clients
    limit = extensions.get("limit")
    return limit if code in ("LIMIT_EXCEEDED", "DEADLINE_EXCEEDED") and isinstance(limit, str) else None


class RequestLog:
    """ASGI middleware: times every HTTP request, then counts it and logs one JSON line
    (``{"operation", "world", "status", "outcome", "seconds", "path", "method"}``). A route
    names its operation and outcome (and the world asked for) in ``scope[LOG_KEY]``; ``world`` is
    the world the work looked up (a list when several), the rest the route's path and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        record: dict[str, Any] = {}
        scope[LOG_KEY] = record
        used: list[str] = []
        token = LOOKED_UP.set(used)  # the worlds the request's work looks up (workspace.py)
        status = 500
        start = time.perf_counter()

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            LOOKED_UP.reset(token)
            note_request(self.metrics, record, time.perf_counter() - start, scope.get("path", ""), scope.get("method"), status, used)


def note_request(metrics: Metrics, record: dict[str, Any], seconds: float, path: str, method: str | None, status: int | None, used: list[str]) -> None:
    """Count one request and log its line: an HTTP request (RequestLog), or an operation sent
    over the websocket (websocket.py: method ``WS``, no status). ``record`` holds what the route
    noted (LOG_KEY), ``used`` the worlds its work looked up (LOOKED_UP); a request that noted no
    outcome is ``ok`` below status 400."""
    route = _route_name(path)
    label = record.get("metric") or route
    outcome = record.get("outcome") or ("ok" if status is None or status < 400 else f"http_{status}")
    if status == 413:
        outcome = "LIMIT_EXCEEDED"
    metrics.requests.labels(label, outcome).inc()
    metrics.latency.labels(label).observe(seconds)
    # The world the work used (several when one request asked about several); without
    # one looked up (refused first, or a world that does not exist), the one asked for.
    world = used[0] if len(used) == 1 else list(used) if used else record.get("world")
    LOG.info(json.dumps({
        "operation": str(record.get("operation") or route)[:100], "fields": record.get("fields"),
        "world": world if isinstance(world, (str, list)) else None, "status": status, "outcome": outcome,
        "seconds": round(seconds, 6), "method": method, "path": path[:200],
    }))


def log_requests(level: str = "info") -> None:
    """Send the request log (one JSON line per request) to stderr, as ``graphsim serve`` does."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO if level in ("info", "debug") else logging.WARNING)
    LOG.propagate = False


def _route_name(path: str) -> str:
    # Bounded label values: the route, never the raw path (/aws/anything would grow the registry).
    for prefix in ("/graphql", "/healthz", "/metrics", "/aws/simulate-custom-policy", "/aws/simulate-principal-policy", "/export/matrix.csv", "/export/graph", "/static", "/web", "/operations"):
        if path == prefix or path.startswith(prefix + "/") or (prefix.endswith(".csv") and path == prefix):
            return prefix
    return "/" if path == "/" else "other"
