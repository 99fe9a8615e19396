"""What ``graphsim serve`` was started with, as one value every server process builds its app from.

With ``--workers N`` uvicorn starts N processes that each import the app by name
(``app_from_environment``, uvicorn's ``factory``), so the configuration travels to them in the
environment (``GRAPHSIM_SERVE_CONFIG``, JSON). It holds where tokens are read from, never the
tokens themselves: each worker reads the token files (or ``$GRAPHSIM_TOKEN``, which it inherits)
and checks them as the parent did. Every worker opens the same store and catches up with the
others' commits before each request (``Workspace.refresh``), so they answer alike.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from ..errors import InvalidRequestError
from ..limits import Limits
from ..workspace import Workspace
from .app import create_app
from .metrics import log_requests
from .security import ServerSecurity

ENVIRONMENT_KEY = "GRAPHSIM_SERVE_CONFIG"
APP_FACTORY = "graphsim.api.serving:app_from_environment"


@dataclass(frozen=True)
class ServeConfig:
    host: str
    db: str
    world: str | None = None  # the world the server was started on; None follows the store's default
    cors_origins: tuple[str, ...] = ()
    token_file: str | None = None
    read_token_file: str | None = None
    read_only: bool = False
    allowed_hosts: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)  # --max-..., --deadline, --cache-bytes

    def security(self, environ: Mapping[str, str] | None = None) -> ServerSecurity:
        return ServerSecurity.for_serving(
            self.host, token_file=self.token_file, read_token_file=self.read_token_file, read_only=self.read_only,
            allowed_hosts=self.allowed_hosts, environ=dict(os.environ if environ is None else environ),
        )

    def to_environment(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> ServeConfig:
        text = (os.environ if environ is None else environ).get(ENVIRONMENT_KEY)
        if not text:
            raise InvalidRequestError(f"${ENVIRONMENT_KEY} is not set: worker processes are started by `graphsim serve --workers N`", field=ENVIRONMENT_KEY)
        data = json.loads(text)
        limits = Limits(**{f.name: data.get("limits", {})[f.name] for f in fields(Limits) if f.name in data.get("limits", {})})
        return cls(**{**data, "cors_origins": tuple(data.get("cors_origins", ())), "allowed_hosts": tuple(data.get("allowed_hosts", ())), "limits": limits})


# How often a thread running Python hands the GIL to another that waits (CPython's default is
# 5 ms): the event loop waits for it at every answer while a heavy question runs in a worker
# thread. bench/bench_http.py, /healthz while whoCan runs: p50 4.5 and 4.7 ms instead of 11.8 and
# 7.6 (load average 5-6, alternated), the whoCan itself no slower (0.2-0.5 s either way).
SWITCH_INTERVAL_SECONDS = 0.001


def build_app(config: ServeConfig, workspace: Workspace | None = None) -> Starlette:
    """The app of one server process: ``workspace`` when the process already opened it (one
    worker), else the store of ``config`` opened afresh (each of several workers)."""
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    security = config.security()
    ws = workspace if workspace is not None else Workspace.open(config.db, default=config.world)
    return create_app(ws, cors_origins=config.cors_origins, security=security, limits=config.limits)


def app_from_environment() -> Starlette:
    """uvicorn's app factory in each worker process (``--workers N``)."""
    log_requests()  # each worker logs its own requests, as one process does
    return build_app(ServeConfig.from_environment())


class _WorkersConfig(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        # uvicorn binds the listener the workers share with proto 0, and asyncio turns Nagle's
        # algorithm off (TCP_NODELAY) only on connections whose socket says IPPROTO_TCP, so every
        # keep-alive answer waited ~40 ms for the client's delayed ACK (measured: 55 ms a question
        # with two workers, 10 ms with one; uvicorn issue #3149). The same socket, told it is TCP.
        sock = super().bind_socket()
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def run_workers(config: ServeConfig, *, workers: int, port: int, log_level: str) -> None:
    """Serve from ``workers`` processes (uvicorn's supervisor, which restarts a worker that dies);
    each builds its app from ``config``, passed in its environment."""
    os.environ[ENVIRONMENT_KEY] = config.to_environment()
    # access_log off: each worker logs its requests as JSON lines (metrics.py).
    uv = _WorkersConfig(APP_FACTORY, factory=True, host=config.host, port=port, workers=workers, log_level=log_level, access_log=False)
    try:
        Multiprocess(uv, sockets=[uv.bind_socket()]).run()
    except KeyboardInterrupt:
        pass
