"""The Starlette application: GraphQL (with GraphiQL for browsers) at /graphql, /healthz."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from cross_web import HTTPException
from graphql import FieldNode, GraphQLError, OperationType
from graphql.utilities import get_operation_ast
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from .. import __version__
from ..analysis import access_matrix, all_principals
from ..awscli import simulate_custom_policy, simulate_principal_policy
from ..errors import GraphsimError, InvalidRequestError
from ..limits import DeadlineExceededError, JsonInputError, Limits, json_kind, read_json
from ..policy.cache import COMPILED, DOCUMENTS
from ..workspace import Workspace
from ..world.graph import DOCUMENTS as WORLD_DOCUMENTS
from .caching import set_validation_budget
from .errors import aws_error, http_error
from .graph import graph_from_params
from .limits import (
    THREAD_DECODE_BYTES,
    DeadlineStop,
    RequestLimits,
    error_body,
    measure_document,
    read_json_off_loop,
)
from .metrics import CONTENT_TYPE, LOG_KEY, Metrics, RequestLog
from .running import Runner, run_coroutine
from .schema import schema
from .security import ACCESS_KEY, Access, SecurityMiddleware, ServerSecurity, is_mutation, parsed_document, root_fields
from .websocket import BoundedWebSocket, GuardedTransportWS, connection_access

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


class RequestRefusal(HTTPException):
    """A GraphQL request refused before it ran, with the typed error that says why."""

    def __init__(self, error: GraphsimError, status: int = 400) -> None:
        super().__init__(status, error.message)
        self.error = error


# The code of a refusal Strawberry's view makes itself (a request it cannot read as GraphQL).
_VIEW_CODES = {400: "INVALID_INPUT", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


# A large GraphQL body, and what reading it gave (parse_http_body reads it off the event loop).
_READ_BODY: ContextVar[tuple[bytes, object] | None] = ContextVar("graphsim_read_body", default=None)
SUBSCRIPTION_CATCH_UP_SECONDS = 5.0  # a subscription's check of the store; a rebuild goes on past it


class GraphsimGraphQL(GraphQL):  # type: ignore[type-arg]
    """Hands every resolver the workspace through ``info.context``; serves GraphiQL offline;
    the websocket speaks graphql-transport-ws only (websocket.py checks its tokens and messages,
    and runs its queries and mutations through ``run_single`` as HTTP's)."""

    graphql_transport_ws_handler_class = GuardedTransportWS
    websocket_adapter_class = BoundedWebSocket  # type: ignore[assignment]

    def __init__(
        self, workspace: Workspace, security: ServerSecurity | None = None, allowed_origins: Sequence[str] = (), *,
        runner: Runner | None = None, metrics: Metrics | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide="graphiql", subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,), allowed_origins=allowed_origins)
        self.workspace = workspace
        self.security = security
        self.runner = runner or Runner(workspace, Limits())
        self.metrics = metrics
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
        # catch_up: how a subscription catches up with the store (in the runner's threads).
        # change: where a mutation applies its change (the runner takes the worlds alone for it).
        return {"request": request, "response": response, "workspace": self.workspace, "catch_up": self._catch_up, "change": self.runner.change}

    async def _catch_up(self, _: Workspace) -> None:
        await self.runner.catch_up(SUBSCRIPTION_CATCH_UP_SECONDS)

    async def on_ws_connect(self, context: dict[str, Any]) -> Any:  # type: ignore[override]
        connection_access(self.security, context)
        return await super().on_ws_connect(context)  # type: ignore[arg-type]

    def decode_json(self, data: str | bytes) -> object:
        # Bodies and GET variables: UTF-8, bounded nesting and size, numbers Python reads, an
        # object (or a batch list); anything else is a 400 that says why, never a 500. A large
        # body was read already, off the event loop (parse_http_body).
        read = _READ_BODY.get()
        if read is not None and read[0] is data:
            return read[1]
        try:
            return read_json(data, what="the GraphQL request", shapes=(dict, list))
        except JsonInputError as exc:
            raise RequestRefusal(exc) from None

    async def parse_http_body(self, request: Any) -> Any:
        token = None
        if request.method == "POST":
            body = await request.get_body()  # Starlette keeps it: the view's own read returns the same object
            if len(body) > THREAD_DECODE_BYTES:
                token = _READ_BODY.set((body, await anyio.to_thread.run_sync(self.decode_json, body)))
        try:
            data = await super().parse_http_body(request)
        finally:
            if token is not None:
                _READ_BODY.reset(token)
        for item in data if isinstance(data, list) else [data]:
            # Strawberry would look for an operation named "5", and say it has none.
            if not isinstance(item.operation_name, (str, type(None))):
                raise RequestRefusal(InvalidRequestError(f"the GraphQL request's operationName must be a string or null, got {json_kind(item.operation_name)}", field="operationName"))
        return data

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        """Strawberry's view, with the requests it refuses before running them (a body that is
        not JSON, not an object, too deep; a query that is not a string) answered in the API's
        error shape, ``{"errors": [{"message", "extensions": {"code", ...}}]}``, not plain text."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as exc:
            if not isinstance(request, Request):
                raise  # a websocket's refusals are its protocol's
            extensions: dict[str, object] = exc.error.extensions() if isinstance(exc, RequestRefusal) else {"code": _VIEW_CODES.get(exc.status_code, "INVALID_INPUT")}
            request.scope.get(LOG_KEY, {})["outcome"] = extensions["code"]
            if self.metrics is not None:
                self.metrics.count_refusal(extensions)
            return Response(error_body(exc.reason, extensions), status_code=exc.status_code, media_type="application/json")

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
        execute = super().execute_single
        return await self.run_single(
            lambda: execute(request, request_adapter, sub_response, context, root_value, request_data),
            request_data.query, request_data.operation_name, request_data.variables, request.scope.get(LOG_KEY, {}), size=_request_size(request),
        )

    async def run_single(
        self, execute: Callable[[], Awaitable[ExecutionResult]], query: str | None, operation_name: str | None, variables: Any,
        record: dict[str, Any], *, size: int | None,
    ) -> ExecutionResult:
        """One query or mutation, sent over HTTP or the websocket (websocket.py): through the
        runner (a worker thread, the deadline, the world lock; inline when the request's ``size``
        is known, INLINE_BODY_BYTES at most, and the question cheap),
        a deadline answered DEADLINE_EXCEEDED; its operation and outcome noted in ``record``
        (the request log) and the metrics."""
        kind, fields, name = root_fields(query, operation_name)
        record.update(operation=name, fields=fields, world=variables.get("world") if isinstance(variables, dict) else None)

        def work() -> ExecutionResult:
            try:
                return run_coroutine(execute())
            except DeadlineStop as stop:
                raise stop.error from None

        async def on_the_loop() -> ExecutionResult:
            try:
                return await execute()
            except DeadlineStop as stop:
                raise stop.error from None

        cheap = kind == "query" and size is not None and size <= INLINE_BODY_BYTES and cheap_question(query, operation_name)
        try:
            result = await self.runner.run(work, write=kind == "mutation", inline=on_the_loop if cheap else None)
        except DeadlineExceededError as exc:
            result = ExecutionResult(data=None, errors=[GraphQLError(exc.message, extensions=exc.extensions())])
        self._note(record, kind, fields, result)
        return result

    def _note(self, record: dict[str, Any], kind: str, fields: list[str], result: ExecutionResult) -> None:
        """The request's outcome for the log line and the metrics: ``ok``, or the first error's code."""
        codes = [str((e.extensions or {}).get("code", "ERROR")) for e in result.errors or []]
        record["outcome"] = codes[0] if codes else "ok"
        # A label per root field of the schema (a finite set), never the client's operation name.
        record["metric"] = f"{kind}:{fields[0] if fields else '?'}"
        if self.metrics is not None:
            for error in result.errors or []:
                self.metrics.count_refusal(error.extensions or {})

# Root fields answered on the event loop when nothing is in the way (running.py): each is one
# decision or one policy read, bounded by the request's size; every other field (reviews,
# browsing, batches, anything reading the store) runs in a worker thread.
INLINE_FIELDS = frozenset({"can", "validatePolicy", "__typename"})
INLINE_FIELD_COST = 100  # fields selected in all, fragments expanded (api/limits.py measures)
INLINE_BODY_BYTES = 16 * 1024  # a request larger than this (a long session policy...) runs in a thread


def cheap_question(query: str | None, operation_name: str | None) -> bool:
    """Whether the document's operation asks only cheap fields (INLINE_FIELDS, ``can`` without
    ``viaRoles``, which walks the roles a principal may assume), INLINE_FIELD_COST at most."""
    document = parsed_document(query)
    operation = None if document is None else get_operation_ast(document, operation_name)
    if document is None or operation is None or operation.operation is not OperationType.QUERY:
        return False
    for node in operation.selection_set.selections:
        if not isinstance(node, FieldNode) or node.name.value not in INLINE_FIELDS:
            return False
        if any(argument.name.value == "viaRoles" for argument in node.arguments or ()):
            return False
    return measure_document(document, operation).fields <= INLINE_FIELD_COST


def _request_size(request: Any) -> int | None:
    """The size of an HTTP request, when known: its body's (Content-Length), or its URL's query."""
    if request.method == "GET":
        return len(request.url.query)
    length = request.headers.get("content-length") or ""
    # ASCII digits only, and few enough: int() refuses "²" and numbers of 4,300 digits.
    return int(length) if length.isascii() and length.isdigit() and len(length) <= 18 else None


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


HEALTH_CATCH_UP_SECONDS = 0.05  # /healthz waits at most this for a catch-up with the store


def create_app(
    workspace: Workspace | None = None, *, cors_origins: Sequence[str] = (), security: ServerSecurity | None = None, limits: Limits | None = None,
) -> Starlette:
    """The app over ``workspace``; ``security`` (what ``graphsim serve`` builds) adds the Host
    check and tokens; without it, as in-process tests and embedding use it, nothing is checked.
    ``limits`` bound every request (graphsim.limits; the defaults when None). Every request's
    work runs off the event loop (running.py), after catching up with the store."""
    ws = workspace or Workspace.with_world()
    bounds = limits or Limits()
    # One bound for the process' caches of policy text (its --cache-bytes), shared evenly.
    caches = (("compiled-parts", COMPILED), ("documents", DOCUMENTS), ("world-documents", WORLD_DOCUMENTS))
    for _, cache in caches:
        cache.resize(bounds.cache_bytes // len(caches))
    set_validation_budget(bounds.validation_work)
    runner = Runner(ws, bounds)
    metrics = Metrics(lambda: [(name, cache.info()) for name, cache in caches])
    ws.on_write = metrics.store_writes.observe

    async def healthz(request: Request) -> Response:
        # Answered from the event loop at once: when another process committed since the last
        # catch-up (a fork, an import), the catch-up starts and is waited for only briefly.
        # caughtUp: whether what follows holds every commit the store had when asked; false while
        # that catch-up goes on (behind a long question, say), and the next request sees it.
        caught_up = await runner.catch_up(HEALTH_CATCH_UP_SECONDS)
        # store: "unreachable" while the store's database cannot be read (questions are then
        # answered from the worlds last read, changes refused): a readiness probe's signal.
        store = "ok" if ws.store_error is None else "unreachable"
        if request.scope.get(ACCESS_KEY, Access.WRITE) is Access.NONE:
            return JSONResponse({"status": "ok", "version": __version__, "store": store, "caughtUp": caught_up})  # world names need the read token
        # process: which server process answered (one of several with --workers)
        return JSONResponse({
            "status": "ok", "version": __version__, "store": store, "caughtUp": caught_up,
            "worlds": sorted(list(ws.worlds)), "default": ws.default, "process": os.getpid(),
        })

    async def metrics_page(request: Request) -> Response:
        """Prometheus' text format (metrics.py); a question like any other, so it needs the read
        token when the server has one (security.py)."""
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    async def home(request: Request) -> Response:
        # The web page lives in client/web (a source checkout, as `make serve` runs); an
        # installed package without it sends people to GraphiQL.
        if WEB_PAGE.is_file():
            return FileResponse(WEB_PAGE, media_type="text/html")
        return RedirectResponse("/graphql")

    async def operations(request: Request) -> Response:
        """The example operations of schema/operations, each one click from GraphiQL."""
        return HTMLResponse(operations_page())

    def note(request: Request, operation: str, exc: GraphsimError | None = None) -> None:
        record = request.scope.get(LOG_KEY, {})
        record.update(operation=operation, world=request.query_params.get("world"), outcome="ok" if exc is None else exc.code)
        if exc is not None:
            metrics.count_refusal(exc.extensions())

    async def matrix_csv(request: Request) -> Response:
        """GET /export/matrix.csv?actions=a,b&resources=r1,r2[&principals=p1,p2][&world=NAME]:
        the access matrix as CSV (principal, action, resource, decision), for spreadsheets;
        at most ``csv_cells`` cells, counted before any is evaluated, and streamed as written."""
        def listed(name: str) -> list[str]:
            return [v for part in request.query_params.getlist(name) for v in part.split(",") if v]

        actions, resources = listed("actions"), listed("resources")
        if not actions or not resources:
            return http_error(InvalidRequestError("give actions=... and resources=... (comma-separated or repeated)", field="resources" if actions else "actions"))

        def work() -> Any:
            engine = ws.engine(request.query_params.get("world"))
            principals = listed("principals") or all_principals(engine)
            bounds.check("csv_cells", len(principals) * len(actions) * len(resources), what="matrix cells (principals x actions x resources)", field="actions")
            return access_matrix(engine, principals, actions, resources)

        try:
            matrix = await runner.run(work)
        except GraphsimError as exc:
            note(request, "matrixCsv", exc)
            return http_error(exc)
        note(request, "matrixCsv")
        return StreamingResponse(_csv_chunks(matrix), media_type="text/csv", headers={"Content-Disposition": 'attachment; filename="matrix.csv"'})

    async def graph_download(request: Request) -> Response:
        """GET /export/graph/KIND.graphml or .json (KIND: decision, who-can, neighbourhood,
        escalation; parameters as the GraphQL fields take them): the subgraph as GraphML or as
        networkx's JSON node-link, for Gephi, yEd, Cytoscape or a script."""
        kind, fmt = request.path_params["kind"], request.path_params["format"]
        if fmt not in ("graphml", "json"):
            return http_error(InvalidRequestError(f"format must be graphml or json, got {fmt!r}", field="format"))

        def work() -> Any:
            sg = graph_from_params(ws.engine(request.query_params.get("world")), kind, request.query_params)
            return sg.to_graphml() if fmt == "graphml" else sg.to_node_link()

        try:
            body = await runner.run(work)
        except GraphsimError as exc:
            note(request, f"graph:{kind}", exc)
            return http_error(exc)
        note(request, f"graph:{kind}")
        headers = {"Content-Disposition": f'attachment; filename="{kind}.{fmt}"'}
        if fmt == "graphml":
            return Response(body, media_type="application/graphml+xml", headers=headers)
        return JSONResponse(body, headers=headers)

    async def aws_simulate(request: Request) -> Response:
        """AWS's SimulateCustomPolicy / SimulatePrincipalPolicy request and response shapes, for
        scripts written against boto3 (see client/). The body must be sent as JSON: a page of
        another site can send text/plain without asking (no CORS preflight), never JSON."""
        operation = request.path_params["operation"]
        if operation not in ("simulate-custom-policy", "simulate-principal-policy"):
            return JSONResponse({"Error": {"Code": "NotFound", "Message": "POST /aws/simulate-custom-policy or /aws/simulate-principal-policy"}}, status_code=404)
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            note(request, operation, InvalidRequestError("content type"))
            return JSONResponse({"Error": {"Code": "UnsupportedMediaType", "Message": f"send the request as Content-Type: application/json (got {media or 'none'!r})"}}, status_code=415)
        try:
            body = await read_json_off_loop(await request.body(), what="the request body")
        except JsonInputError as exc:
            note(request, operation, exc)
            # AWS's code for a request it cannot read; a refusal keeps its own (LIMIT_EXCEEDED).
            return JSONResponse({"Error": {"Code": "InvalidInput" if exc.code == InvalidRequestError.code else exc.code, "Message": exc.message}}, status_code=400)
        world = request.query_params.get("world")

        def work() -> Any:
            if operation == "simulate-custom-policy":
                return simulate_custom_policy(body)
            return simulate_principal_policy(ws.engine(world), body)

        try:
            result = await runner.run(work)
        except GraphsimError as exc:
            note(request, operation, exc)
            return aws_error(exc)
        note(request, operation)
        return JSONResponse(result)

    middleware = [Middleware(RequestLog, metrics=metrics)]
    if cors_origins:
        # None by default: a browser page from another origin may call us only when allowed.
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"], allow_headers=["content-type", "authorization"]))
    if security is not None:
        middleware.append(Middleware(SecurityMiddleware, security=security))
    middleware.append(Middleware(RequestLimits, limits=bounds, on_refusal=metrics.refused))
    graphql = GraphsimGraphQL(ws, security, allowed_origins=cors_origins, runner=runner, metrics=metrics)
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
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


def _csv_chunks(matrix: Any, rows_per_chunk: int = 10_000) -> Iterator[str]:
    """The matrix as CSV text, a chunk of rows at a time (a large matrix is never one string)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("principal", "action", "resource", "decision"))
    for i, row in enumerate(matrix.rows(), start=1):
        writer.writerow(row)
        if i % rows_per_chunk == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
