"""The decision engine: pure, no HTTP, SQL or GraphQL."""

from .context import CONTEXT_TYPES, ContextEntry, build_context, parse_cli_context
from .decision import AssumeStep, Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement, RoleRoute
from .evaluate import Engine, parse_document, validate_resource_arn
from .explain import explain
from .layers import Layers, decide
from .policyset import PolicySet
from .principals import CallerIdentity, parse_caller_arn
from .simulation import MAX_SIMULATIONS, CustomSimulation, PrincipalSimulation, SimulationTooLargeError, simulate

__all__ = [
    "CONTEXT_TYPES",
    "AssumeStep",
    "CallerIdentity",
    "CustomSimulation",
    "ContextEntry",
    "Decision",
    "DecisionKind",
    "Engine",
    "FixHint",
    "Layer",
    "LayerVerdict",
    "Layers",
    "MAX_SIMULATIONS",
    "MatchedStatement",
    "PolicySet",
    "PrincipalSimulation",
    "RoleRoute",
    "SimulationTooLargeError",
    "build_context",
    "decide",
    "explain",
    "parse_caller_arn",
    "parse_cli_context",
    "parse_document",
    "simulate",
    "validate_resource_arn",
]
