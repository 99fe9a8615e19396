"""Who may use the GraphQL websocket (graphql-transport-ws), by the same rule as HTTP.

The Host check runs on the handshake (SecurityMiddleware, as for every request). A browser
cannot set headers on a websocket, so the token may come either as the handshake's
``Authorization`` header or in the ``connection_init`` payload, as ``{"Authorization": "Bearer
TOKEN"}`` (what GraphiQL's connection parameters send) or ``{"token": "TOKEN"}``. A server that
needs a token for questions rejects a connection without one before any operation runs (close
code 4403). Operations over the socket are checked like HTTP requests: a mutation needs the write
token and is answered with an error message otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from .security import ACCESS_KEY, Access, Refusal, ServerSecurity, is_mutation

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


class GuardedTransportWS(BaseGraphQLTransportWSHandler):  # type: ignore[type-arg]
    """graphql-transport-ws with the HTTP rule for mutations: each needs the write token."""

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
