"""Validation of repeated GraphQL documents, cached.

Strawberry's ``ValidationCache`` keys its cache by the document, which graphql-core hashes by
walking its whole tree, and by the rules alone, while the cost, depth and alias rule
(``limits.DocumentLimits``) reads the limits of the request being answered. Here the key is the
schema, the parsed document by identity (``limits.parse_text`` gives one object per distinct short text),
the rules and the active limits, so a server (or a test) with other limits validates afresh. A
document that failed validation is cached with its errors, as ``ValidationCache`` does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from .. import limits as L
from .limits import PARSED_LENGTH


class DocumentValidationCache(SchemaExtension):
    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None and ec.validation_rules and ec.pre_execution_errors is None:
            document, rules = ec.graphql_document, ec.validation_rules

            def validate() -> tuple[list[GraphQLError], Any, Any]:
                return [_typed(error) for error in validate_document(ec.schema._schema, document, rules)], document, rules

            # A long document is parsed afresh each time (limits.PARSED_LENGTH): no entry would be
            # found again, and it would hold the document.
            if len(ec.query or "") <= PARSED_LENGTH:
                key = (id(ec.schema._schema), id(document), tuple(map(id, rules)), L.active())
                ec.pre_execution_errors = _cached(key, self.maxsize, validate)
            else:
                ec.pre_execution_errors = validate()[0]
        yield


def set_validation_budget(work: int) -> None:
    """graphql-core's bound on the work of validating one document (comparing fields of one name
    for the overlap rule), from ``Limits.validation_work``: a module setting, so the process's."""
    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = work


def _typed(error: GraphQLError) -> GraphQLError:
    """graphql-core's "Validation aborted." (its budget spent: hundreds of fields of one name at
    one level, say) as the API's other refusals are: LIMIT_EXCEEDED naming the limit and flag."""
    if not isinstance(error, ValidationAbortedError):
        return error
    maximum = overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET
    return GraphQLError(
        f"the document takes more work to validate than the limit validation_work of {maximum:,} (fields of one name at one "
        f"level are compared pair by pair); select fewer, or {L.how_to_raise('validation_work')}",
        extensions={"code": "LIMIT_EXCEEDED", "limit": "validation_work", "maximum": maximum, "flag": L.Limits.flag("validation_work")},
    )


_RESULTS: OrderedDict[Any, Any] = OrderedDict()
_LOCK = threading.Lock()
stats = {"hits": 0, "misses": 0}


def _cached(key: Any, maxsize: int, validate: Any) -> Any:
    """The errors under ``key``; the entry also holds the document and rules, so their ids
    stay theirs while it is kept."""
    with _LOCK:
        found = _RESULTS.get(key)
        if found is not None:
            _RESULTS.move_to_end(key)
            stats["hits"] += 1
            return found[0]
    entry = validate()
    with _LOCK:
        stats["misses"] += 1
        _RESULTS[key] = entry
        while len(_RESULTS) > maxsize:
            _RESULTS.popitem(last=False)
    return entry[0]
