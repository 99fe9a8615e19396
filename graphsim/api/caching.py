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
        # A long document is parsed afresh each time (limits.PARSED_LENGTH): no entry would be found
        # again, and it would hold the document.
        if ec.graphql_document is not None and ec.validation_rules and ec.pre_execution_errors is None and len(ec.query or "") <= PARSED_LENGTH:
            key = (id(ec.schema._schema), id(ec.graphql_document), tuple(map(id, ec.validation_rules)), L.active())
            document, rules = ec.graphql_document, ec.validation_rules
            ec.pre_execution_errors = _cached(key, self.maxsize, lambda: (validate_document(ec.schema._schema, document, rules), document, rules))
        yield


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
