"""The IAM policy language: parse, validate, compile and match. Knows nothing of graphs or HTTP."""

from .conditions import OPERATORS, Condition, ConditionClause
from .model import Effect, PolicyDocument, PolicyKind, Principals, Statement
from .parse import load_json, parse_policy, statement_count

__all__ = [
    "OPERATORS",
    "Condition",
    "ConditionClause",
    "Effect",
    "PolicyDocument",
    "PolicyKind",
    "Principals",
    "Statement",
    "load_json",
    "parse_policy",
    "statement_count",
]
