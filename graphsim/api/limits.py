"""The limits of graphsim.limits at the HTTP and GraphQL edge, checked before any work starts.

- ``RequestLimits``: ASGI middleware that puts the server's ``Limits`` in force for the request
  and refuses a body over ``body_bytes`` with 413 (from its Content-Length before reading it,
  else as soon as the bytes read pass the bound), in the one error shape of the API.
- ``DocumentLimits``: a GraphQL validation rule measuring the document's cost (fields selected,
  counting a fragment at every place it is spread), depth (introspection fields aside) and
  aliases. Each fragment is measured
  once and its figures reused at every spread, so a document whose fragments each spread the next
  twice (2^40 fields in 1.6 KB) is refused after 40 small sums, never expanded. Strawberry's own
  depth and alias limiters walk every spread again, which is what took the server down.
- ``ParseLimits``: a Strawberry extension that parses the document (``parse_text``: short texts
  parsed once, for this and the look before execution in security.py) under ``query_tokens`` and gives what the parser refuses the API's typed shape: ``LIMIT_EXCEEDED`` naming the limit and
  its flag, or ``GRAPHQL_PARSE_FAILED`` for text that is not GraphQL.
- ``read_json_off_loop``: JSON bodies read by ``graphsim.limits.read_json`` (UTF-8, nesting,
  number of values, huge numbers, the object shape, each a 400 naming the problem), in a worker
  thread when they are large.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    parse,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from .. import limits as L
from ..errors import GraphsimError, InvalidRequestError
from ..limits import DeadlineExceededError, LimitExceededError, Limits, read_json


def refusal_body(exc: GraphsimError) -> bytes:
    """The API's one error shape for a request refused before GraphQL ran (the body bound here,
    a body or request the GraphQL view cannot read: app.py)."""
    return error_body(exc.message, exc.extensions())


def error_body(message: str, extensions: dict[str, object]) -> bytes:
    return json.dumps({"data": None, "errors": [{"message": message, "extensions": extensions}]}).encode()


class BodyTimeoutError(InvalidRequestError):
    """A request body that did not arrive within body_seconds of its headers (408)."""

    code = "LIMIT_EXCEEDED"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"the request body did not arrive within {seconds:g} s of its headers (the limit body_seconds); send it at once, or {L.how_to_raise('body_seconds')}")

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "limit": "body_seconds", "maximum": self.seconds, "flag": Limits.flag("body_seconds")}


class RequestLimits:
    """ASGI middleware: the server's limits for this request (``graphsim.limits.active``), and
    the request body bound."""

    def __init__(self, app: ASGIApp, limits: Limits, on_refusal: Any = None) -> None:
        self.app = app
        self.limits = limits
        self.on_refusal = on_refusal  # called with the limit's name (metrics)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with L.using(self.limits):
            if scope["type"] == "websocket":
                await self.app(scope, receive, send)
                return
            maximum = self.limits.body_bytes
            declared = _content_length(scope)
            if declared is not None and declared > maximum:
                await self._refuse(scope, send, declared)
                return
            seconds = self.limits.body_seconds
            with anyio.move_on_after(seconds) as waited:
                body, over = await _read_body(receive, maximum)
            if waited.cancelled_caught:
                # A body sent a byte at a time holds a connection open: it has body_seconds to arrive.
                await self._refuse(scope, send, None)
                return
            if over is not None:
                await self._refuse(scope, send, over)
                return
            await self.app(scope, _replay(body, receive), send)

    async def _refuse(self, scope: Scope, send: Send, asked: int | None) -> None:
        """413 for a body past body_bytes (``asked``: its size), 408 for one that did not arrive
        within body_seconds (``asked`` None)."""
        exc: GraphsimError
        if asked is None:
            status, limit = 408, "body_seconds"
            exc = BodyTimeoutError(self.limits.body_seconds)
        else:
            status, limit = 413, "body_bytes"
            exc = LimitExceededError(limit, self.limits.body_bytes, asked, what="the request body, in bytes")
        if self.on_refusal is not None:
            self.on_refusal(limit)
        # POST /aws/... answers in AWS's error shape, as boto3 reads it (api/errors.aws_error).
        aws = str(scope.get("path", "")).startswith("/aws/")
        payload = json.dumps({"Error": {"Code": exc.code, "Message": exc.message}}).encode() if aws else refusal_body(exc)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_body(receive: Receive, maximum: int) -> tuple[bytes, int | None]:
    """The whole body, or (what was read, its size) as soon as it passes ``maximum``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), None  # the client went away; the app sees an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > maximum:
            return b"", size
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then http.disconnect, as the server sends it

    return replay


class DeadlineStop(BaseException):
    """Ends a GraphQL execution at its deadline. A BaseException, so graphql-core's per-field
    error handling (``except Exception``) lets it through instead of nulling one field after
    another; the view turns it into one DEADLINE_EXCEEDED error (``error``: whether the request
    had made its change by then)."""

    def __init__(self, error: DeadlineExceededError) -> None:
        super().__init__(error.message)
        self.error = error


def field_deadline(*_: Any) -> None:
    """Checked as each GraphQL field starts (the execution context calls it)."""
    try:
        L.check_deadline()
    except DeadlineExceededError as exc:
        raise DeadlineStop(exc) from None


# ---- JSON bodies --------------------------------------------------------------------------------


# Bodies larger than this are read in a worker thread, not on the event loop (a 10 MiB body of
# tiny values takes seconds to decode and walk); smaller ones cost less than the hop.
THREAD_DECODE_BYTES = 64 * 1024


async def read_json_off_loop(data: str | bytes, *, what: str = "the body", shapes: Sequence[type] = (dict,)) -> Any:
    """``graphsim.limits.read_json``, in a worker thread when ``data`` is large."""
    if len(data) <= THREAD_DECODE_BYTES:
        return read_json(data, what=what, shapes=shapes)
    return await anyio.to_thread.run_sync(functools.partial(read_json, data, what=what, shapes=shapes))


# ---- GraphQL documents --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set costs once every fragment is expanded."""

    fields: int
    depth: int
    aliases: int

    def __add__(self, other: Measure) -> Measure:
        return Measure(self.fields + other.fields, max(self.depth, other.depth), self.aliases + other.aliases)


NOTHING = Measure(0, 0, 0)


def measure_document(document: DocumentNode, operation: OperationDefinitionNode) -> Measure:
    """The cost of ``operation``: each fragment is measured once (a fragment spread inside
    itself, which validation refuses, counts as nothing), so the work is the document's size."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[str, Measure] = {}
    pending: set[str] = set()

    def of_fragment(name: str) -> Measure:
        found = memo.get(name)
        if found is not None:
            return found
        definition = fragments.get(name)
        if definition is None or name in pending:
            return NOTHING
        pending.add(name)
        result = of_selections(definition.selection_set)
        pending.discard(name)
        memo[name] = result
        return result

    def of_selections(selections: SelectionSetNode | None) -> Measure:
        total = NOTHING
        if selections is None:
            return total
        for node in selections.selections:
            if isinstance(node, FieldNode):
                inner = of_selections(node.selection_set)
                # Introspection (__schema, __type) nests as deep as type references go (GraphiQL's
                # and schemathesis' query is 15 deep); its fields still count toward the cost.
                depth = 0 if node.name.value.startswith("__") else 1 + inner.depth
                total += Measure(1 + inner.fields, depth, inner.aliases + (1 if node.alias is not None else 0))
            elif isinstance(node, InlineFragmentNode):
                total += of_selections(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                total += of_fragment(node.name.value)
        return total

    return of_selections(operation.selection_set)


class DocumentLimits(ValidationRule):
    """Refuses an operation over the limits query_cost, query_depth or query_aliases, with
    ``LIMIT_EXCEEDED`` naming the limit and the flag that raises it."""

    def enter_document(self, node: DocumentNode, *_: Any) -> Any:
        limits = L.active()
        for definition in node.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            m = measure_document(node, definition)
            name = definition.name.value if definition.name else "anonymous"
            for limit, asked, what in (
                ("query_cost", m.fields, f"operation {name!r} selects this many fields once its fragments are expanded"),
                ("query_depth", m.depth, f"operation {name!r} nests fields this deep"),
                ("query_aliases", m.aliases, f"operation {name!r} uses this many aliases once its fragments are expanded"),
            ):
                try:
                    limits.check(limit, asked, what=what)
                except LimitExceededError as exc:
                    self.report_error(GraphQLError(exc.message, nodes=[definition], extensions=exc.extensions()))
        return self.SKIP  # the standard rules walk the document; this one needs nothing more


PARSE_FAILED = "GRAPHQL_PARSE_FAILED"  # a document that is not GraphQL text


# Documents kept parsed: clients repeat a few documents with new variables. One longer than
# PARSED_LENGTH is parsed each time it comes, so 512 large ones are never held at once.
PARSED_DOCUMENTS = 512
PARSED_LENGTH = 20_000


def parse_text(query: str, max_tokens: int) -> DocumentNode:
    """``query`` parsed, reading at most ``max_tokens`` tokens (GraphQLSyntaxError past them, or
    for text that is not GraphQL). A short text gives the same object each time (the validation
    cache keys by it), shared by every caller: none may change it."""
    if len(query) > PARSED_LENGTH:
        return parse(query, max_tokens=max_tokens)
    return parse_cached(query, max_tokens)


@functools.lru_cache(maxsize=PARSED_DOCUMENTS)
def parse_cached(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class ParseLimits(SchemaExtension):
    """Parses the document (``parse_text``) under the limit query_tokens, and turns the parser's
    refusals into typed errors."""

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        limit = L.active().query_tokens
        try:
            ec.graphql_document = parse_text(ec.query or "", limit)
        except GraphQLSyntaxError as exc:
            raise parse_refusal(exc, limit) from None
        yield


def parse_refusal(exc: GraphQLSyntaxError, limit: int) -> GraphQLError:
    """The parser's error, with a code: LIMIT_EXCEEDED when it stopped at the token limit
    (graphql-core says so only in its message), else GRAPHQL_PARSE_FAILED."""
    if exc.message.endswith(f" more than {limit} tokens. Parsing aborted."):
        refusal = LimitExceededError("query_tokens", limit, limit + 1, what="tokens of the GraphQL document, read up to the first past the limit")
        return GraphQLError(refusal.message, source=exc.source, positions=exc.positions, extensions=refusal.extensions())
    return GraphQLError(exc.message, source=exc.source, positions=exc.positions, extensions={"code": PARSE_FAILED})
