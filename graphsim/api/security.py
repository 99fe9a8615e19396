"""Who may ask and who may change: bearer tokens, read-only serving, and the Host allow-list.

The rule (the README's security section says the same):

- a server listening only on loopback needs no token; beyond loopback, mutations need the write
  token (``--token-file`` or ``$GRAPHSIM_TOKEN``), and ``graphsim serve`` refuses to start without
  one unless ``--read-only``;
- a read token (``--read-token-file`` or ``$GRAPHSIM_READ_TOKEN``) is optional: with one, every
  question needs a token too (the write token also reads);
- a token that is sent must be right, even on loopback;
- a request whose ``Host`` is not a name the server was started for is refused, whatever its
  token: a page on another site whose name was re-pointed at this address (DNS rebinding)
  then cannot talk to the server through the victim's browser.

Refusals are typed GraphQL errors (``extensions.code`` UNAUTHENTICATED, FORBIDDEN or
HOST_NOT_ALLOWED) with HTTP 401 or 403, for every path, so a client reads one shape.
"""

from __future__ import annotations

import enum
import hmac
import ipaddress
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode, OperationType
from graphql.utilities import get_operation_ast
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import limits as L
from ..errors import InvalidRequestError
from .limits import parse_text

ACCESS_KEY = "graphsim.access"
MIN_TOKEN_LENGTH = 16
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# Paths anyone who passes the Host check may fetch: the pages themselves hold no world data.
_OPEN_PATHS = ("/", "/healthz", "/operations")  # /operations lists the example operations' text only
_OPEN_PREFIXES = ("/static/", "/web/")  # /web/: the page's own script and stylesheet


class Access(enum.IntEnum):
    NONE = 0
    READ = 1
    WRITE = 2


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    code: str
    message: str

    def body(self) -> dict[str, Any]:
        return {"data": None, "errors": [{"message": self.message, "extensions": {"code": self.code}}]}


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def host_names_for(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """The Host names a server bound to ``bind`` answers to: the loopback names, the bound
    address itself, for a wildcard bind (0.0.0.0, ::) this machine's name and the addresses it
    resolves to, and ``extra`` (``--allowed-host``: the names a proxy or DNS uses)."""
    names = {*LOOPBACK_NAMES, bind.strip("[]").lower(), *(e.strip().lower() for e in extra if e.strip())}
    if _is_wildcard(bind):
        hostname = socket.gethostname()
        names.update({hostname.lower(), socket.getfqdn().lower()})
        try:
            names.update(str(info[4][0]).lower() for info in socket.getaddrinfo(hostname, None))
        except OSError:
            pass  # a machine whose own name does not resolve: its names above still count
    return frozenset(names)


def _host_of(header: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    if header.count(":") == 1:
        return header.split(":", 1)[0]
    return header


def read_token_file(path: str, option: str) -> str:
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read the token file {path}: {exc.strerror}", field=option) from None
    return check_token(token, option)


def check_token(token: str, option: str) -> str:
    token = token.strip()
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise InvalidRequestError(
            f"a token must be at least {MIN_TOKEN_LENGTH} characters without spaces (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
            field=option,
        )
    return token


@dataclass(frozen=True)
class ServerSecurity:
    """What ``graphsim serve`` was started with; ``create_app`` enforces it on every request."""

    allowed_hosts: frozenset[str]
    write_token: str | None = None
    read_token: str | None = None
    read_only: bool = False
    _write: bytes = field(init=False, repr=False, default=b"")
    _read: bytes = field(init=False, repr=False, default=b"")

    def __post_init__(self) -> None:
        object.__setattr__(self, "_write", (self.write_token or "").encode())
        object.__setattr__(self, "_read", (self.read_token or "").encode())

    @classmethod
    def for_serving(
        cls, host: str, *, token_file: str | None = None, read_token_file: str | None = None, read_only: bool = False,
        allowed_hosts: Iterable[str] = (), environ: dict[str, str] | None = None,
    ) -> ServerSecurity:
        """The security of a server about to listen on ``host``; refuses (InvalidRequestError,
        naming the option) a server beyond loopback that would take mutations from anyone."""
        env = os.environ if environ is None else environ
        write = read_token_file_or_env(token_file, "--token-file", env.get("GRAPHSIM_TOKEN"), "GRAPHSIM_TOKEN")
        read = read_token_file_or_env(read_token_file, "--read-token-file", env.get("GRAPHSIM_READ_TOKEN"), "GRAPHSIM_READ_TOKEN")
        if write is not None and read is not None and hmac.compare_digest(write.encode(), read.encode()):
            raise InvalidRequestError("the read token must differ from the write token", field="--read-token-file")
        if not is_loopback(host) and write is None and not read_only:
            raise InvalidRequestError(
                f"--host {host} listens beyond this machine, and without a token anyone who can reach it could change worlds; "
                "give a write token (--token-file FILE or $GRAPHSIM_TOKEN), or serve questions only with --read-only",
                field="--token-file",
            )
        return cls(allowed_hosts=host_names_for(host, allowed_hosts), write_token=write, read_token=read, read_only=read_only)

    # ---- per request -------------------------------------------------------------------------

    def host_refusal(self, host_header: str | None) -> Refusal | None:
        host = _host_of(host_header or "")
        if host in self.allowed_hosts:
            return None
        return Refusal(403, "HOST_NOT_ALLOWED", f"this server does not answer to the host {host or '(none)'!r}; start it with --allowed-host {host or 'NAME'} if that name is meant to reach it")

    def access(self, authorization: str | None) -> Access | Refusal:
        """What a request carrying this ``Authorization`` header may do."""
        if authorization:
            scheme, _, token = authorization.partition(" ")
            given = token.strip().encode()
            if scheme.lower() != "bearer" or not given:
                return Refusal(401, "UNAUTHENTICATED", "the Authorization header must be `Bearer TOKEN`")
            if self._write and hmac.compare_digest(given, self._write):
                return Access.READ if self.read_only else Access.WRITE
            if self._read and hmac.compare_digest(given, self._read):
                return Access.READ
            return Refusal(401, "UNAUTHENTICATED", "the bearer token is not one this server was started with")
        if self._read:
            return Access.NONE
        if self._write or self.read_only:
            return Access.READ
        return Access.WRITE

    def mutation_refusal(self, access: Access, authorization: str | None) -> Refusal | None:
        if access is Access.WRITE:
            return None
        if self.read_only:
            return Refusal(403, "FORBIDDEN", "this server was started with --read-only: it answers questions and changes nothing")
        if not authorization:
            return Refusal(401, "UNAUTHENTICATED", "mutations need the write token: send `Authorization: Bearer TOKEN`")
        return Refusal(403, "FORBIDDEN", "this token may ask questions but not change worlds; mutations need the write token")


def read_token_file_or_env(path: str | None, option: str, env_value: str | None, env_name: str) -> str | None:
    if path is not None:
        return read_token_file(path, option)
    if env_value:
        return check_token(env_value, f"${env_name}")
    return None


def parsed_document(query: str | None) -> DocumentNode | None:
    """``query`` parsed as the schema parses it (api/limits.py's ``parse_text``: as far as the
    limit query_tokens, repeated short documents once), or None when it is no document; shared
    by callers, so never changed."""
    if not query or not isinstance(query, str):
        return None
    try:
        return parse_text(query, L.active().query_tokens)
    except GraphQLError:
        return None


def root_fields(query: str | None, operation_name: str | None) -> tuple[str, list[str], str]:
    """The kind of the operation the document would run (``query``, ``mutation``,
    ``subscription``), its root field names and its name (``anonymous`` without one); a document
    that does not parse, or names no operation it holds, is ``("query", [], ...)``, left to the
    GraphQL layer to refuse."""
    document = parsed_document(query)
    if document is None:
        return "query", [], "anonymous"
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        # The name picks none of its operations (or several are given and none is named): the
        # GraphQL layer may still choose one, so the document counts as the most powerful kind it
        # holds; a mutation beside a query must not pass as a question.
        kinds = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        for kind in (OperationType.MUTATION, OperationType.SUBSCRIPTION):
            held = [d for d in kinds if d.operation is kind]
            if held:
                names = [s.name.value for d in held for s in d.selection_set.selections if isinstance(s, FieldNode)]
                return kind.value, names, operation_name or "anonymous"
        return "query", [], operation_name or "anonymous"
    names = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    return operation.operation.value, names, operation.name.value if operation.name else "anonymous"


def is_mutation(query: str | None, operation_name: str | None) -> bool:
    """Whether the GraphQL document would run a mutation (see ``root_fields``)."""
    return root_fields(query, operation_name)[0] == OperationType.MUTATION.value


class SecurityMiddleware:
    """ASGI middleware: the Host check on every request, then the token's access level, kept in
    the scope (``ACCESS_KEY``) for the GraphQL view to check mutations against."""

    def __init__(self, app: ASGIApp, security: ServerSecurity) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self.security.host_refusal(headers.get("host"))
        access: Access | Refusal = Access.NONE
        if refusal is None:
            access = self.security.access(headers.get("authorization"))
            if isinstance(access, Refusal):
                refusal = access
            elif access is Access.NONE and not _is_open(scope):
                refusal = Refusal(401, "UNAUTHENTICATED", "this server needs a token for questions too: send `Authorization: Bearer TOKEN`")
        if refusal is not None:
            await send_refusal(scope, receive, send, refusal)
            return
        scope[ACCESS_KEY] = access
        await self.app(scope, receive, send)


def _is_open(scope: Scope) -> bool:
    path = str(scope.get("path", ""))
    if scope["type"] == "websocket" and path == "/graphql":
        return True  # a browser sends its token in connection_init; websocket.py refuses the connection without one
    if path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES):
        return True
    # GraphiQL's page (a browser's GET without a query) holds nothing; its questions need the token.
    return path == "/graphql" and scope.get("method") == "GET" and b"query=" not in scope.get("query_string", b"")


async def send_refusal(scope: Scope, receive: Receive, send: Send, refusal: Refusal) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4401 if refusal.status == 401 else 4403})
        return
    body = json.dumps(refusal.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="graphsim"'))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
