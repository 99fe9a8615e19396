"""The Starlette application: GraphQL (with GraphiQL for browsers) at /graphql, /healthz."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from .. import __version__
from ..analysis import access_matrix, all_principals
from ..awscli import simulate_custom_policy, simulate_principal_policy
from ..errors import GraphsimError, InvalidRequestError
from ..workspace import Workspace
from .errors import aws_error, http_error
from .graph import graph_from_params
from .schema import schema
from .security import ACCESS_KEY, Access, SecurityMiddleware, ServerSecurity, is_mutation
from .websocket import GuardedTransportWS, connection_access

STATIC = Path(__file__).parent / "static"
WEB_DIR = Path(__file__).resolve().parents[2] / "client" / "web"
WEB_PAGE = WEB_DIR / "index.html"
OPERATIONS = Path(__file__).resolve().parents[2] / "schema" / "operations"
# GraphiQL's page loads its scripts from unpkg; graphsim is an offline tool, so we serve the
# same files (same versions, same integrity hashes) from the package.
_IDE_ASSETS = {
    "https://unpkg.com/react@18.2.0/umd/react.production.min.js": "react.production.min.js",
    "https://unpkg.com/react-dom@18.2.0/umd/react-dom.production.min.js": "react-dom.production.min.js",
    "https://unpkg.com/js-cookie@3.0.5/dist/js.cookie.min.js": "js.cookie.min.js",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.css": "graphiql.min.css",
    "https://unpkg.com/graphiql@3.8.3/graphiql.min.js": "graphiql.min.js",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/style.css": "plugin-explorer.css",
    "https://unpkg.com/@graphiql/plugin-explorer@1.0.2/dist/index.umd.js": "plugin-explorer.umd.js",
}


# What a person sees first in GraphiQL: the demo world's question, ready to run.
DEFAULT_QUERY = """# graphsim: who may do what, and why.
# Demo world: final-friday. Press the run button.
# The example operations are the other tabs (also listed at /operations).

query NewbieAndTheClassifiedBucket {
  can(principal: "newbie", action: "s3:GetObject",
      resource: "arn:aws:s3:::final-friday-classified/q4.pdf") {
    decision
    explanationLines
    matchedStatements { policy path }
    fixHint { statement }
  }
}
"""


class GraphsimGraphQL(GraphQL):  # type: ignore[type-arg]
    """Hands every resolver the workspace through ``info.context``; serves GraphiQL offline;
    subscriptions over graphql-transport-ws only (websocket.py checks their tokens)."""

    graphql_transport_ws_handler_class = GuardedTransportWS

    def __init__(self, workspace: Workspace, security: ServerSecurity | None = None, allowed_origins: Sequence[str] = ()) -> None:
        super().__init__(schema, graphql_ide="graphiql", subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), allowed_origins=allowed_origins)
        self.workspace = workspace
        self.security = security
        html = super().graphql_ide_html
        for remote, local in _IDE_ASSETS.items():
            html = html.replace(remote, f"/static/graphiql/{local}")
        html = html.replace("parameters.q || EXAMPLE_QUERY", f"parameters.q || {json.dumps(DEFAULT_QUERY)}", 1)
        html = html.replace("<title>Strawberry GraphiQL</title>", "<title>graphsim · GraphiQL</title>", 1)
        # The example operations open as tabs beside the first question: one click each.
        tabs = [{"query": DEFAULT_QUERY}] + [{"query": text} for _, text in example_operations()]
        html = html.replace("defaultEditorToolsVisibility: true,", f"defaultEditorToolsVisibility: true,\n          defaultTabs: {json.dumps(tabs)},", 1)
        self._ide_html = html

    @property
    def graphql_ide_html(self) -> str:
        return self._ide_html

    async def get_context(self, request: Any, response: Any) -> dict[str, Any]:  # type: ignore[override]
        return {"request": request, "response": response, "workspace": self.workspace}

    async def on_ws_connect(self, context: dict[str, Any]) -> Any:  # type: ignore[override]
        connection_access(self.security, context)
        return await super().on_ws_connect(context)  # type: ignore[arg-type]

    async def execute_single(self, request: Any, request_adapter: Any, sub_response: Any, context: Any, root_value: Any, request_data: Any) -> ExecutionResult:  # type: ignore[override]
        # A mutation needs write access (security.py); refused before anything runs.
        access = request.scope.get(ACCESS_KEY, Access.WRITE)
        if self.security is not None and access is not Access.WRITE and is_mutation(request_data.query, request_data.operation_name):
            refusal = self.security.mutation_refusal(access, request.headers.get("authorization"))
            if refusal is not None:
                sub_response.status_code = refusal.status
                if refusal.status == 401:
                    sub_response.headers["www-authenticate"] = 'Bearer realm="graphsim"'
                return ExecutionResult(data=None, errors=[GraphQLError(refusal.message, extensions={"code": refusal.code})])
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

def example_operations() -> list[tuple[str, str]]:
    """(name, text) of each operation of schema/operations, in a source checkout."""
    paths = sorted(OPERATIONS.glob("*.graphql")) if OPERATIONS.is_dir() else []
    return [(path.stem, path.read_text(encoding="utf-8")) for path in paths]


def operations_page() -> str:
    """An index of schema/operations (a source checkout): each operation's comment, and a link
    that opens it in GraphiQL (``/graphql?q=...``)."""
    import html
    from urllib.parse import quote

    items = []
    for name, text in example_operations():
        about = " ".join(line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("#"))
        items.append(f'<li><a href="/graphql?q={quote(text)}">{html.escape(name)}</a><br><span>{html.escape(about)}</span></li>')
    body = "\n".join(items) or "<li>No example operations here (they ship in a source checkout, under schema/operations).</li>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>graphsim · example operations</title>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}li{margin:.7rem 0}span{color:#556;font-size:.9rem}</style>"
        f"</head><body><h1>graphsim: example operations</h1><p>Each opens in <a href=\"/graphql\">GraphiQL</a>, ready to run.</p><ul>{body}</ul></body></html>"
    )


class StoreRefresh:
    """ASGI middleware: before each request, the workspace catches up with what other processes
    committed to its store (Workspace.refresh: one PRAGMA when nothing changed)."""

    def __init__(self, app: Any, workspace: Workspace) -> None:
        self.app = app
        self.workspace = workspace

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.workspace.refresh()
        await self.app(scope, receive, send)


def create_app(workspace: Workspace | None = None, *, cors_origins: Sequence[str] = (), security: ServerSecurity | None = None) -> Starlette:
    """The app over ``workspace``; ``security`` (what ``graphsim serve`` builds) adds the Host
    check and tokens; without it, as in-process tests and embedding use it, nothing is checked."""
    ws = workspace or Workspace.with_world()

    async def healthz(request: Request) -> Response:
        # store: "unreachable" while the store's database cannot be read (questions are then
        # answered from the worlds last read, changes refused): a readiness probe's signal.
        store = "ok" if ws.store_error is None else "unreachable"
        if request.scope.get(ACCESS_KEY, Access.WRITE) is Access.NONE:
            return JSONResponse({"status": "ok", "version": __version__, "store": store})  # world names need the read token
        # process: which server process answered (one of several with --workers)
        return JSONResponse({"status": "ok", "version": __version__, "store": store, "worlds": sorted(ws.worlds), "default": ws.default, "process": os.getpid()})

    async def home(request: Request) -> Response:
        # The web page lives in client/web (a source checkout, as `make serve` runs); an
        # installed package without it sends people to GraphiQL.
        if WEB_PAGE.is_file():
            return FileResponse(WEB_PAGE, media_type="text/html")
        return RedirectResponse("/graphql")

    async def operations(request: Request) -> Response:
        """The example operations of schema/operations, each one click from GraphiQL."""
        return HTMLResponse(operations_page())

    async def matrix_csv(request: Request) -> Response:
        """GET /export/matrix.csv?actions=a,b&resources=r1,r2[&principals=p1,p2][&world=NAME]:
        the access matrix as CSV (principal, action, resource, decision), for spreadsheets."""
        def listed(name: str) -> list[str]:
            return [v for part in request.query_params.getlist(name) for v in part.split(",") if v]

        actions, resources = listed("actions"), listed("resources")
        if not actions or not resources:
            return http_error(InvalidRequestError("give actions=... and resources=... (comma-separated or repeated)", field="resources" if actions else "actions"))
        try:
            engine = ws.engine(request.query_params.get("world"))
            matrix = access_matrix(engine, listed("principals") or all_principals(engine), actions, resources)
        except GraphsimError as exc:
            return http_error(exc)
        out = io.StringIO()
        matrix.to_csv(out)
        return Response(out.getvalue(), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="matrix.csv"'})

    async def graph_download(request: Request) -> Response:
        """GET /export/graph/KIND.graphml or .json (KIND: decision, who-can, neighbourhood,
        escalation; parameters as the GraphQL fields take them): the subgraph as GraphML or as
        networkx's JSON node-link, for Gephi, yEd, Cytoscape or a script."""
        kind, fmt = request.path_params["kind"], request.path_params["format"]
        if fmt not in ("graphml", "json"):
            return http_error(InvalidRequestError(f"format must be graphml or json, got {fmt!r}", field="format"))
        try:
            sg = graph_from_params(ws.engine(request.query_params.get("world")), kind, request.query_params)
        except GraphsimError as exc:
            return http_error(exc)
        headers = {"Content-Disposition": f'attachment; filename="{kind}.{fmt}"'}
        if fmt == "graphml":
            return Response(sg.to_graphml(), media_type="application/graphml+xml", headers=headers)
        return JSONResponse(sg.to_node_link(), headers=headers)

    async def aws_simulate(request: Request) -> Response:
        """AWS's SimulateCustomPolicy / SimulatePrincipalPolicy request and response shapes, for
        scripts written against boto3 (see client/)."""
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"Error": {"Code": "InvalidInput", "Message": "the body must be a JSON object"}}, status_code=400)
        world = request.query_params.get("world")
        if request.path_params["operation"] not in ("simulate-custom-policy", "simulate-principal-policy"):
            return JSONResponse({"Error": {"Code": "NotFound", "Message": "POST /aws/simulate-custom-policy or /aws/simulate-principal-policy"}}, status_code=404)
        try:
            if request.path_params["operation"] == "simulate-custom-policy":
                result = simulate_custom_policy(body)
            else:
                result = simulate_principal_policy(ws.engine(world), body)
        except GraphsimError as exc:
            return aws_error(exc)
        return JSONResponse(result)

    middleware = []
    if cors_origins:
        # None by default: a browser page from another origin may call us only when allowed.
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"], allow_headers=["content-type", "authorization"]))
    if security is not None:
        middleware.append(Middleware(SecurityMiddleware, security=security))
    middleware.append(Middleware(StoreRefresh, workspace=ws))
    graphql = GraphsimGraphQL(ws, security, allowed_origins=cors_origins)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/aws/{operation:str}", aws_simulate, methods=["POST"]),
            Route("/export/matrix.csv", matrix_csv, methods=["GET"]),
            Route("/export/graph/{kind}.{format}", graph_download, methods=["GET"]),
            Route("/", home, methods=["GET"]),
            Route("/operations", operations, methods=["GET"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
            *([Mount("/web", StaticFiles(directory=WEB_DIR), name="web")] if WEB_DIR.is_dir() else []),
        ],
        middleware=middleware,
    )
