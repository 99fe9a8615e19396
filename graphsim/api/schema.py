"""The GraphQL schema, assembled: the Query types of every API module, the mutations, the
limits that keep one request cheap, and error masking.

A new group of queries lives in a module of its own with a ``@strawberry.type`` class of fields,
and is registered by adding that class to ``QUERIES`` (its fields follow the others in ``Query``).

Every top-level question is nullable, whatever its resolver's annotation says (``fail_one_by_one``):
GraphQL turns a field that raised into null and, when that field may not be null, its parent,
up to the first nullable one. A non-null question would so null the whole ``data`` of a request
holding several (``a: can(...) b: can(... action: "s3:GetObjekt")``); a nullable one is null
alone, with its error in ``errors`` (its ``path`` names the alias) beside the other answers.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaskErrors
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.tools import merge_types
from strawberry.types.base import StrawberryOptional, get_object_definition

from .batch import BatchQuery
from .caching import DocumentValidationCache
from .errors import ApiError, Conflict, InvalidImport, InvalidInput, InvalidPolicy, NotFound
from .graph import GraphQuery
from .limits import DocumentLimits, ParseLimits, field_deadline
from .mutations import Mutation
from .nodes import NodeQuery
from .queries import EvaluationQuery, WorldQuery
from .review_pages import ReviewPageQuery
from .reviews import ReviewQuery
from .subscriptions import Subscription

QUERIES: tuple[type, ...] = (EvaluationQuery, BatchQuery, WorldQuery, ReviewQuery, GraphQuery, NodeQuery, ReviewPageQuery)
# Distinct documents kept parsed and validated: clients repeat a few documents with new variables.
DOCUMENT_CACHE = 512


class DeadlineExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, checking the request's deadline as each field starts, so a
    large answer (a whole world browsed) stops at the deadline like any other work."""

    def build_resolve_info(self, *args: Any, **kwargs: Any) -> Any:
        field_deadline()
        return super().build_resolve_info(*args, **kwargs)


def _mask(error: GraphQLError) -> bool:
    # Mask only unexpected exceptions raised by resolvers; keep validation and typed errors.
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class GraphsimSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected failures are answers, not incidents: log only the unexpected ones.
        # A refusal of the document itself (a parse failure, a limit) carries its code, and no exception.
        unexpected = [e for e in errors if not isinstance(e.original_error, ApiError) and not (e.original_error is None and (e.extensions or {}).get("code"))]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def fail_one_by_one(query: type) -> type:
    """``query`` with every field nullable, so one failed question nulls only its own answer."""
    definition = get_object_definition(query, strict=True)
    for field in definition.fields:
        if not isinstance(field.type, StrawberryOptional):
            field.type = StrawberryOptional(field.type)
    return query


def build_schema() -> strawberry.Schema:
    return GraphsimSchema(
        query=fail_one_by_one(merge_types("Query", QUERIES)),
        mutation=Mutation,
        subscription=Subscription,
        types=[InvalidPolicy, InvalidImport, NotFound, Conflict, InvalidInput],
        config=StrawberryConfig(),
        execution_context_class=DeadlineExecution,
        extensions=[
            # Cost, depth and aliases with each fragment measured once (api/limits.py), not
            # Strawberry's limiters, which expand every spread again.
            lambda: AddValidationRules([DocumentLimits]),
            lambda: MaskErrors(should_mask_error=_mask),
            # The parse, cached by text, under the request's query_tokens; its refusals typed.
            ParseLimits,
            lambda: DocumentValidationCache(maxsize=DOCUMENT_CACHE),
        ],
    )


schema = build_schema()
