"""The decision engine: pure, no HTTP, SQL or GraphQL."""

from .context import CONTEXT_TYPES, ContextEntry, build_context, parse_cli_context
from .decision import Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement
from .evaluate import Engine, PolicySet, custom_policy_set, decide, decide_custom, simulate_custom, validate_resource_arn
from .explain import explain

__all__ = [
    "CONTEXT_TYPES",
    "ContextEntry",
    "Decision",
    "DecisionKind",
    "Engine",
    "FixHint",
    "Layer",
    "LayerVerdict",
    "MatchedStatement",
    "PolicySet",
    "build_context",
    "custom_policy_set",
    "decide",
    "decide_custom",
    "simulate_custom",
    "explain",
    "parse_cli_context",
    "validate_resource_arn",
]
