"""The Starlette application: GraphQL (with GraphiQL for browsers) at /graphql, /healthz."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from .. import __version__
from ..workspace import Workspace
from .schema import schema


class GraphsimGraphQL(GraphQL):  # type: ignore[type-arg]
    """Hands every resolver the workspace through ``info.context``."""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(schema, graphql_ide="graphiql")
        self.workspace = workspace

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:  # type: ignore[override]
        return {"request": request, "response": response, "workspace": self.workspace}


def create_app(workspace: Workspace | None = None, *, cors_origins: Sequence[str] = ()) -> Starlette:
    ws = workspace or Workspace.with_world()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok", "version": __version__, "worlds": sorted(ws.worlds), "default": ws.default})

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    middleware = []
    if cors_origins:
        # None by default: a browser page from another origin may call us only when allowed.
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"], allow_headers=["content-type"]))
    return Starlette(
        routes=[
            Route("/graphql", GraphsimGraphQL(ws), methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/", home, methods=["GET"]),
        ],
        middleware=middleware,
    )
