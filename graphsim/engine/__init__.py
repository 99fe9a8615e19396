"""The decision engine: pure, no HTTP, SQL or GraphQL."""

from .context import CONTEXT_TYPES, ContextEntry, build_context, parse_cli_context
from .decision import AssumeStep, Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement, RoleRoute
from .evaluate import Engine, custom_policy_set, decide_custom, parse_document, simulate_custom, validate_resource_arn
from .explain import explain
from .layers import Layers, decide
from .policyset import PolicySet
from .principals import CallerIdentity, parse_caller_arn

__all__ = [
    "CONTEXT_TYPES",
    "AssumeStep",
    "CallerIdentity",
    "ContextEntry",
    "Decision",
    "DecisionKind",
    "Engine",
    "FixHint",
    "Layer",
    "LayerVerdict",
    "Layers",
    "MatchedStatement",
    "PolicySet",
    "RoleRoute",
    "build_context",
    "custom_policy_set",
    "decide",
    "decide_custom",
    "explain",
    "parse_caller_arn",
    "parse_cli_context",
    "parse_document",
    "simulate_custom",
    "validate_resource_arn",
]
