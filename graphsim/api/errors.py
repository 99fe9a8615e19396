"""Expected failures in the API, in one place.

The GraphQL contract has two shapes, one per operation kind, each applied by one decorator:
queries raise a typed GraphQL error (``@typed_errors``: ``extensions.code`` and
``extensions.field``), mutations return a ``UserError`` union member and change nothing
(``@mutation_result``). The plain HTTP routes answer with ``http_error`` (downloads) or
``aws_error`` (``POST /aws/...``, AWS's shape).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.responses import JSONResponse

from ..errors import ConflictError, GraphsimError, NotFoundError, PolicyValidationError
from ..errors import Problem as DomainProblem

F = TypeVar("F", bound=Callable[..., Any])


class ApiError(GraphQLError):
    """An expected failure of a query; never masked."""


def typed_errors(fn: F) -> F:
    """For query resolvers: an expected failure becomes a typed GraphQL error."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphsimError as exc:
            raise ApiError(exc.message, extensions=exc.extensions()) from exc

    return wrapper  # type: ignore[return-value]


def mutation_result(fn: F) -> F:
    """For mutation resolvers: an expected failure is returned as its ``UserError`` member."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GraphsimError as exc:
            return user_error(exc)

    return wrapper  # type: ignore[return-value]


def http_status(exc: GraphsimError) -> int:
    """The HTTP status of an expected failure on the plain HTTP routes."""
    return 404 if exc.code == "NOT_FOUND" else 400


def http_error(exc: GraphsimError) -> JSONResponse:
    """An expected failure on a download route: ``{"error", "code", "field"}``."""
    return JSONResponse({"error": exc.message, "code": exc.code, "field": exc.field}, status_code=http_status(exc))


def aws_error(exc: GraphsimError) -> JSONResponse:
    """An expected failure on ``POST /aws/...``, in AWS's error shape as boto3 reads it."""
    return JSONResponse({"Error": {"Code": exc.code, "Message": exc.message, "Field": exc.field}}, status_code=http_status(exc))


@strawberry.type
class Problem:
    path: str
    rule: str

    @classmethod
    def of(cls, p: DomainProblem) -> Problem:
        return cls(path=p.path, rule=p.rule)


@strawberry.interface(description="An expected failure: which field, and why. Nothing was changed.")
class UserError:
    message: str
    field: str | None
    code: str


@strawberry.type(description="A policy document broke the grammar; every problem is listed with its JSON path.")
class InvalidPolicy(UserError):
    problems: list[Problem]


@strawberry.type
class SourceProblem:
    source: str
    path: str
    rule: str


@strawberry.type(description="An import could not be made: each problem names its file and JSON path. Nothing was written.")
class InvalidImport(UserError):
    problems: list[SourceProblem]


@strawberry.type
class NotFound(UserError):
    kind: str
    name: str


@strawberry.type
class Conflict(UserError):
    retryable: bool = strawberry.field(
        default=False,
        description="True when the same request may simply be sent again: another writer got there first (VERSION_CONFLICT), "
        "held the store's lock too long (STORE_BUSY), or the store's server was unreachable (STORE_UNAVAILABLE). Nothing was changed.",
    )


@strawberry.type
class InvalidInput(UserError):
    pass


def user_error(exc: GraphsimError) -> InvalidPolicy | InvalidImport | NotFound | Conflict | InvalidInput:
    message, field, code = exc.message, exc.field, exc.code
    if not isinstance(exc, PolicyValidationError) and hasattr(exc, "problems"):
        # ImportFileError (with per-file problems) and WorldFileError.
        extensions = exc.extensions()
        raw = extensions.get("problems", [])
        problems = [
            SourceProblem(source=str(p.get("source", getattr(exc, "source", ""))), path=str(p["path"]), rule=str(p["rule"]))
            for p in raw  # type: ignore[attr-defined]
        ]
        return InvalidImport(message=message, field=field, code=code, problems=problems)
    if isinstance(exc, PolicyValidationError):
        return InvalidPolicy(message=message, field=field, code=code, problems=[Problem.of(p) for p in exc.problems])
    if isinstance(exc, NotFoundError):
        return NotFound(message=message, field=field, code=code, kind=exc.kind, name=exc.name)
    retryable = exc.extensions().get("retryable") is True
    if isinstance(exc, ConflictError) or retryable:
        return Conflict(message=message, field=field, code=code, retryable=retryable)
    return InvalidInput(message=message, field=field, code=code)
