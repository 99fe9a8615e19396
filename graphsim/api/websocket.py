"""The GraphQL websocket (graphql-transport-ws): who may use it, by the same rule as HTTP, and
how its operations run, as HTTP's do.

The Host check runs on the handshake (SecurityMiddleware, as for every request). A browser
cannot set headers on a websocket, so the token may come either as the handshake's
``Authorization`` header or in the ``connection_init`` payload, as ``{"Authorization": "Bearer
TOKEN"}`` (what GraphiQL's connection parameters send) or ``{"token": "TOKEN"}``. A server that
needs a token for questions rejects a connection without one before any operation runs (close
code 4403). Operations over the socket are checked like HTTP requests: a mutation needs the write
token and is answered with an error message otherwise.

A query or a mutation sent over the socket runs where an HTTP one does, through the view's
``run_single`` (app.py): in a worker thread of the runner under the deadline and the world lock
(or inline when cheap), within the request limits, counted in the metrics and logged (method
``WS``); only a subscription (``worldChanged``) runs on the event loop, where it mostly sleeps.
Each message is read as HTTP bodies are (``graphsim.limits.read_json``: UTF-8, nesting, numbers,
an object, at most ``body_bytes``) and must have the protocol's shape; a message that does not
closes the socket with code 4400 and the reason (1009 for one over ``body_bytes``), never a
traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from .. import limits as L
from ..workspace import LOOKED_UP
from .metrics import Metrics, note_request
from .security import ACCESS_KEY, Access, Refusal, ServerSecurity, is_mutation, root_fields

AUTHORIZATION_KEY = "graphsim.authorization"


def _payload_authorization(params: Mapping[str, Any]) -> str | None:
    for key in ("Authorization", "authorization"):
        if isinstance(params.get(key), str):
            return str(params[key])
    token = params.get("token")
    return f"Bearer {token}" if isinstance(token, str) and token else None


def connection_access(security: ServerSecurity | None, context: dict[str, Any]) -> None:
    """On ``connection_init``: decide what the connection may do and keep it in ``context``;
    raises ConnectionRejectionError (close 4403) for a wrong token, or none where one is needed."""
    request = context["request"]
    header = request.headers.get("authorization")
    access: Access | Refusal = request.scope.get(ACCESS_KEY, Access.WRITE)
    authorization = header
    if security is not None and header is None:
        given = _payload_authorization(context.get("connection_params") or {})
        if given is not None:
            authorization = given
            access = security.access(given)
    if isinstance(access, Refusal):
        raise ConnectionRejectionError({"code": access.code, "message": access.message})
    if security is not None and access is Access.NONE:
        raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "this server needs a token for questions too: send it in connection_init's payload as {\"Authorization\": \"Bearer TOKEN\"}"})
    context[ACCESS_KEY] = access
    context[AUTHORIZATION_KEY] = authorization


MAX_REASON_BYTES = 123  # RFC 6455: a close frame's reason is at most 123 bytes of UTF-8
MESSAGE_TOO_BIG = 1009  # RFC 6455's close code for a message larger than the endpoint takes


def close_reason(text: str) -> str:
    """``text`` cut to fit a close frame (a longer reason would fail the close itself)."""
    data = text.encode("utf-8")
    if len(data) <= MAX_REASON_BYTES:
        return text
    return data[: MAX_REASON_BYTES - 3].decode("utf-8", "ignore") + "..."


class BoundedWebSocket(ASGIWebSocketAdapter):
    """Strawberry's websocket adapter reading each message as an HTTP body is read (see the
    module docstring); a message it cannot read closes the socket with the reason."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        metrics: Metrics | None = getattr(self.view, "metrics", None)
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                maximum = L.active().body_bytes
                size = len(text) if text.isascii() else len(text.encode("utf-8"))
                if size > maximum:
                    if metrics is not None:
                        metrics.refused("body_bytes")
                    await self.close(MESSAGE_TOO_BIG, f"a message of {size:,} bytes is over the limit body_bytes of {maximum:,} ({L.how_to_raise('body_bytes')})")
                    return
                try:
                    message = L.read_json(text, what="the message", shapes=(dict,))
                except L.JsonInputError as exc:
                    if metrics is not None:
                        metrics.count_refusal(exc.extensions())  # one nested too deep: json_depth
                    await self.close(4400, exc.message)
                    return
                yield message
        except KeyError as exc:  # a binary frame: the handler closes with 4400
            raise NonTextMessageReceived from exc
        except WebSocketDisconnect:
            pass

    async def close(self, code: int, reason: str) -> None:
        await super().close(code, close_reason(reason))


def invalid_message(message: Mapping[str, Any]) -> str | None:
    """Why ``message`` is not a graphql-transport-ws message of the shape the protocol gives it,
    or None: a string ``type``; ``subscribe`` and ``complete`` with a non-empty string ``id``;
    subscribe's ``payload`` an object with a string ``query``, ``variables`` and ``extensions``
    objects or null, ``operationName`` a string or null; any other ``payload`` an object or null.
    (An unknown type is the handler's to refuse.)"""
    kind = message.get("type")
    if not isinstance(kind, str):
        return "the message's type must be a string"
    if kind in ("subscribe", "complete") and not (isinstance(message.get("id"), str) and message["id"]):
        return f"a {kind} message needs an id that is a non-empty string"
    payload = message.get("payload")
    if kind != "subscribe":
        return None if payload is None or isinstance(payload, dict) else f"a {kind} message's payload must be an object or null"
    if not isinstance(payload, dict):
        return "a subscribe message's payload must be an object"
    if not isinstance(payload.get("query"), str):
        return "a subscribe message's payload needs a query that is a string"
    for key, shape, what in (("variables", dict, "an object"), ("extensions", dict, "an object"), ("operationName", str, "a string")):
        if payload.get(key) is not None and not isinstance(payload[key], shape):
            return f"a subscribe message's {key} must be {what} or null"
    return None


class SingleRunner(Protocol):
    """What the view offers to run one query or mutation (app.py's GraphsimGraphQL)."""

    metrics: Metrics | None

    async def run_single(
        self, execute: Callable[[], Awaitable[ExecutionResult]], query: str | None, operation_name: str | None, variables: Any,
        record: dict[str, Any], *, size: int | None,
    ) -> ExecutionResult: ...


class GuardedTransportWS(BaseGraphQLTransportWSHandler):  # type: ignore[type-arg]
    """graphql-transport-ws with the HTTP rules: messages read as bodies are and of the
    protocol's shape, a mutation needs the write token, and a query or a mutation runs as an
    HTTP one does (see the module docstring)."""

    async def handle_message(self, message: Any) -> None:
        reason = invalid_message(message)
        if reason is not None:
            await self.handle_invalid_message(reason)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        security: ServerSecurity | None = getattr(self.view, "security", None)
        context: dict[str, Any] = self.context  # type: ignore[assignment]
        payload = message.get("payload") or {}
        access = context.get(ACCESS_KEY, Access.WRITE)
        if security is not None and self.connection_acknowledged and access is not Access.WRITE and is_mutation(payload.get("query"), payload.get("operationName")):
            refusal = security.mutation_refusal(access, context.get(AUTHORIZATION_KEY))
            if refusal is not None:
                await self.send_message({"id": message["id"], "type": "error", "payload": [{"message": refusal.message, "extensions": {"code": refusal.code}}]})  # type: ignore[typeddict-item]
                return
        await super().handle_subscribe(message)

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        view: SingleRunner | None = self.view if hasattr(self.view, "run_single") else None  # type: ignore[assignment]
        if view is None or root_fields(operation.query, operation.operation_name)[0] == "subscription":
            await super().run_operation(operation)
            return
        schema, root_value = self.schema, self.root_value
        context: dict[str, Any] = self.context  # type: ignore[assignment]

        async def execute() -> ExecutionResult:
            # Strawberry's streaming execution, as for a subscription: a query or a mutation
            # yields its one result (or the PreExecutionError the protocol sends as "error").
            results = await schema.stream(operation.query, variable_values=operation.variables, context_value=context, root_value=root_value, operation_name=operation.operation_name)
            async with aclosing(results):
                async for result in results:
                    if isinstance(result, ExecutionResult):
                        return result
                    break
            return PreExecutionError(data=None, errors=[GraphQLError("Incremental delivery is not supported over graphql-transport-ws")])

        record: dict[str, Any] = {}
        used: list[str] = []
        LOOKED_UP.set(used)  # the worlds the work looks up, for the log line (this task's own context)
        size = len(operation.query) + (len(json.dumps(operation.variables)) if operation.variables else 0)
        start = time.perf_counter()
        try:
            result = await view.run_single(execute, operation.query, operation.operation_name, operation.variables, record, size=size)
        except asyncio.CancelledError:
            record.setdefault("outcome", "CANCELLED")  # the client sent complete, or went away
            raise
        except Exception as error:
            record.setdefault("outcome", "ERROR")
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):  # the socket may be gone as well
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            return
        finally:
            if view.metrics is not None:
                note_request(view.metrics, record, time.perf_counter() - start, context["request"].scope.get("path", "/graphql"), "WS", None, used)
        try:
            if isinstance(result, PreExecutionError):
                await self._handle_pre_execution_error(operation, result)
            else:
                await operation.send_next(result)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
