"""The decision engine: pure, no HTTP, SQL or GraphQL. Its public interface is the names below;
analyses and the edges import only from ``graphsim.engine``.

- questions about a world: ``Engine`` (``can``, ``evaluate``, ``simulate_principal``, role
  chains, ``derived_context``, and the gathered ``Caller``/``Target`` records);
- simulate requests (AWS's SimulateCustomPolicy / SimulatePrincipalPolicy): ``CustomSimulation``,
  ``PrincipalSimulation``, ``simulate``; input documents: ``parse_document``, ``input_policy_set``;
- the decision: ``Decision`` and its parts, ``explain``; ``decide`` over ``Layers``;
- building blocks for analyses that reason over many principals at once: policy sets and
  their ``scan``, the request context, caller identities and Principal matching.
"""

from .context import CONTEXT_TYPES, Context, ContextEntry, build_context, merge_derived, parse_cli_context
from .decision import AssumeStep, Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement, RoleRoute
from .documents import input_policy_set, parse_document
from .explain import explain
from .gather import Caller, Target
from .layers import Layers, decide, requires_resource_grant
from .policyset import Entry, PolicySet, Scan, matched_statement, scan
from .principals import CallerIdentity, MatchKind, match_principal, parse_caller_arn
from .questions import Engine
from .resolve import validate_resource_arn
from .roles import MAX_ROLE_CHAIN
from .simulation import MAX_SIMULATIONS, CustomSimulation, PrincipalSimulation, SimulationTooLargeError, simulate

__all__ = [
    "CONTEXT_TYPES",
    "MAX_ROLE_CHAIN",
    "MAX_SIMULATIONS",
    "AssumeStep",
    "Caller",
    "CallerIdentity",
    "Context",
    "ContextEntry",
    "CustomSimulation",
    "Decision",
    "DecisionKind",
    "Engine",
    "Entry",
    "FixHint",
    "Layer",
    "LayerVerdict",
    "Layers",
    "MatchKind",
    "MatchedStatement",
    "PolicySet",
    "PrincipalSimulation",
    "RoleRoute",
    "Scan",
    "SimulationTooLargeError",
    "Target",
    "build_context",
    "decide",
    "explain",
    "input_policy_set",
    "match_principal",
    "matched_statement",
    "merge_derived",
    "parse_caller_arn",
    "parse_cli_context",
    "parse_document",
    "requires_resource_grant",
    "scan",
    "simulate",
    "validate_resource_arn",
]
