"""Cursor connections: pages of a list in the usual GraphQL shape.

    usersConnection(first: 50, after: "...") {
      totalCount  pageInfo { hasNextPage endCursor }  edges { cursor node { name } }  nodes { name }
    }

A cursor is opaque to clients. It holds the world and version the page was read from, a
fingerprint of the listing (the field and its filter and order) and a position, so it is valid
exactly while the world is unchanged: after any committed change it is refused with
``STALE_CURSOR`` (start again without ``after``), and a cursor of another listing or a damaged
one (or one pointing past the end of its list) with ``INVALID_CURSOR``. ``first`` defaults to ``DEFAULT_PAGE_SIZE``; above ``MAX_PAGE_SIZE``
it is refused with ``PAGE_TOO_LARGE``.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry

from ..errors import GraphsimError, InvalidRequestError
from .tokens import pack, unpack

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
_PREFIX = "gsc1"  # the cursor format's version, so a later format can tell old cursors apart

T = TypeVar("T")
K = TypeVar("K")


class InvalidCursorError(GraphsimError):
    """A cursor that this server did not make for this listing."""

    code = "INVALID_CURSOR"


class StaleCursorError(GraphsimError):
    """A cursor made before the world last changed: its positions no longer hold."""

    code = "STALE_CURSOR"

    def __init__(self, world: str, made_at: int, now: int) -> None:
        self.world, self.made_at, self.now = world, made_at, now
        super().__init__(
            f"world {world!r} changed since this cursor was made (version {made_at}, now {now}); start again without `after`",
            field="after",
        )

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext.update(world=self.world, cursorVersion=self.made_at, worldVersion=self.now)
        return ext


class PageTooLargeError(InvalidRequestError):
    code = "PAGE_TOO_LARGE"

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["maxPageSize"] = MAX_PAGE_SIZE
        return ext


@dataclass(frozen=True)
class ListingScope:
    """What a cursor is valid for: one listing of one world at one version."""

    world: str
    version: int
    listing: str  # the field, e.g. "WorldView.usersConnection"
    arguments: Any = None  # the filter and order, as plain JSON-able values

    @functools.cached_property
    def _fingerprint(self) -> str:
        text = json.dumps([self.listing, self.arguments], sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def fingerprint(self) -> str:
        return self._fingerprint

    def cursor(self, position: int) -> str:
        return pack((_PREFIX, self.world, str(self.version), self.fingerprint(), str(position)))

    def position_after(self, cursor: str) -> int:
        """The position a page after ``cursor`` starts at; refuses a stale or foreign cursor."""
        try:
            prefix, world, version, fingerprint, position = unpack(cursor)
            made_at, at = int(version), int(position)
        except ValueError:
            raise InvalidCursorError("this cursor is not one graphsim made; use a pageInfo.endCursor or edges.cursor", field="after") from None
        if prefix != _PREFIX or at < 0:
            raise InvalidCursorError("this cursor is not one graphsim made; use a pageInfo.endCursor or edges.cursor", field="after")
        if world != self.world or fingerprint != self.fingerprint():
            raise InvalidCursorError("this cursor belongs to another list (another world, field, filter or order); use one from the same list", field="after")
        if made_at != self.version:
            raise StaleCursorError(world, made_at, self.version)
        return at + 1


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise InvalidRequestError(f"first must be 0 or more, got {first}", field="first")
    if first > MAX_PAGE_SIZE:
        raise PageTooLargeError(f"first may be at most {MAX_PAGE_SIZE}, got {first}; follow pageInfo.endCursor for more", field="first")
    return first


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None = strawberry.field(description="Pass as `after` for the next page; null on an empty page.")


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="One page of a list; see the schema changelog and README for the cursor rules.")
class Connection(Generic[T]):
    page_info: PageInfo
    edges: list[Edge[T]]
    _total: strawberry.Private[Callable[[], int]]

    @strawberry.field(description="How many items the whole list (with its filter) holds.")
    def total_count(self) -> int:
        return self._total()

    @strawberry.field(description="The page's items, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def paginate(scope: ListingScope, keys: Sequence[K], make: Callable[[K], T], first: int | None, after: str | None) -> Connection[T]:
    """The page of ``keys`` after the ``after`` cursor, each key turned into a node by ``make``
    (only the page's keys are made)."""
    size = page_size(first)
    start = 0 if after is None else scope.position_after(after)
    if start > len(keys):
        # Made for this list at this version, so it named one of its items: this one was forged.
        raise InvalidCursorError("this cursor points past the end of its list; use a pageInfo.endCursor or edges.cursor", field="after")
    chunk = keys[start:start + size]
    edges = [Edge(cursor=scope.cursor(start + i), node=make(k)) for i, k in enumerate(chunk)]
    info = PageInfo(
        has_next_page=start + len(chunk) < len(keys), has_previous_page=start > 0,
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
    )
    total = len(keys)
    return Connection(page_info=info, edges=edges, _total=lambda: total)
