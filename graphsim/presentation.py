"""One presentation layer: the JSON the CLI prints and AWS's response shapes, both derived from the
domain dataclasses (decisions and analysis results), so each value is shaped in one place.

``to_json(value)`` walks a dataclass: each field under its camelCase name, enums by name (as the
GraphQL enums spell them), tuples as lists, nested dataclasses the same way. A type listed in
``SHAPES`` says which fields to show, in which order, under which names, and which computed
values to add; every other dataclass shows all its fields. ``aws_evaluation_result`` is AWS's
``EvaluationResult`` of one decision.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResourceSpecificResult.html
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

from . import analysis
from .engine import Decision, DecisionKind, FixHint, Layer, LayerVerdict, MatchedStatement, RoleRoute

# A field: an attribute (shown under its camelCase name), or (json name, attribute or function).
Field = str | tuple[str, str | Callable[[Any], Any]]


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


SHAPES: dict[type, tuple[Field, ...]] = {
    MatchedStatement: ("policy", "policy_arn", "policy_type", "sid", ("statementIndex", "index"), "effect", "layer", ("path", "path_text")),
    LayerVerdict: ("layer", "decision"),
    FixHint: ("summary", "statement"),
    RoleRoute: (
        ("roles", lambda r: [step.role for step in r.steps]),
        ("assumePaths", lambda r: [m.path_text for step in r.steps for m in step.decision.matched_statements]),
        "decision",
    ),
    Decision: (
        "principal", "action", "resource", "decision", "allowed", "matched_statements", "missing_context_values", "layer_verdicts",
        "blocked_by", "warnings", ("fixHint", "fix"), "allowed_by_organizations", ("allowedByPermissionsBoundary", "allowed_by_boundary"),
        "via_role",
    ),
    analysis.DenyingStatement: ("policy", "sid", ("statementIndex", "index"), "layer", "path"),
    analysis.Fix: ("decision", "principal", "action", "resource", "needed", "blocked_by", "statement", "where", "denied_by", "missing_context", "summary"),
    analysis.ResourceGrant: ("resource", "not_resource", "actions", "conditional_actions", "conditional", "sources", "partially_denied_by"),
    analysis.EffectivePermissions: (
        "principal", "label", "service", "resource_prefix", "grants", "narrowed_out", "notes", ("policy", lambda p: p.as_policy()),
    ),
    analysis.WhoCanEntry: ("principal", "label", "kind", "action", "resource", "access", "via_roles", "paths", "conditional", "missing_context", "note", "decision"),
    analysis.WhatIfResult: (
        ("principal", lambda r: r.question.principal), ("action", lambda r: r.question.action), ("resource", lambda r: r.question.resource),
        ("before", "before_kind"), ("after", "after_kind"), "changed",
        ("afterPaths", lambda r: [] if r.after is None else [m.path_text for m in r.after.matched_statements]),
    ),
    analysis.Matrix: (
        "principals", "actions", "resources",
        ("decisions", lambda m: _grid(m)),
        ("counts", lambda m: {DecisionKind(name).aws: count for name, count in m.counts().items()}),  # allowed, explicitDeny, implicitDeny
        "principal_groups", "evaluations",
    ),
    analysis.EscalationStep: (
        "technique", "source", "target", "actions", "resources", "explanation",
        ("paths", lambda s: [m.path_text for d in s.decisions for m in d.matched_statements]), "decisions",
    ),
    analysis.EscalationPath: ("principal", "target", "already_admin", "steps", ("explanation", lambda p: p.explain())),
}


def _grid(m: analysis.Matrix) -> list[list[list[str]]]:
    """``decisions[p][a][r]``; for big matrices prefer ``Matrix.rows()`` or ``to_csv``."""
    actions, resources = len(m.actions), len(m.resources)
    return [
        [[analysis.DECISIONS[m.codes[(p * actions + a) * resources + r]] for r in range(resources)] for a in range(actions)]
        for p in range(len(m.principals))
    ]


def to_json(value: Any) -> Any:
    """``value`` as JSON data (dicts, lists, strings, numbers, booleans, None)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = SHAPES.get(type(value)) or tuple(f.name for f in dataclasses.fields(value))
        return {name: to_json(get(value)) for name, get in (_field(f) for f in fields)}
    raise TypeError(f"no JSON shape for {type(value).__name__}")


def _field(spec: Field) -> tuple[str, Callable[[Any], Any]]:
    if isinstance(spec, str):
        return camel(spec), lambda v, a=spec: getattr(v, a)
    name, source = spec
    if isinstance(source, str):
        return name, lambda v, a=source: getattr(v, a)
    return name, source


# ---- AWS's EvaluationResult ------------------------------------------------------------------------

Positions = Mapping[str, list[tuple[tuple[int, int], tuple[int, int]]]]
_AWS_DETAIL_NAMES = {Layer.IDENTITY: "IAM Policy", Layer.RESOURCE: "Resource Policy"}


def aws_statement(m: MatchedStatement, positions: Positions) -> dict[str, Any]:
    out: dict[str, Any] = {"SourcePolicyId": m.policy}
    if m.policy in positions and m.index < len(positions[m.policy]):
        # As AWS's simulate-custom-policy: positions in the given text, no SourcePolicyType.
        (l1, c1), (l2, c2) = positions[m.policy][m.index]
        out["StartPosition"] = {"Line": l1, "Column": c1}
        out["EndPosition"] = {"Line": l2, "Column": c2}
    else:
        out["SourcePolicyType"] = m.policy_type.value
    # Our additions, so a script can tell which statement and why.
    out["GraphsimStatement"] = {"Sid": m.sid, "Index": m.index, "Layer": m.layer.value, "Path": m.path_text}
    return out


def aws_evaluation_result(d: Decision, positions: Positions | None = None) -> dict[str, Any]:
    """AWS's ``EvaluationResult`` of one decision, with our ``Graphsim...`` additions."""
    decision = d.decision.aws
    statements = [aws_statement(m, positions or {}) for m in d.matched_statements]
    # Where AWS lists missing keys: in the EvaluationResult when the resource is "*", in the
    # ResourceSpecificResults entry when a resource ARN was given ("This list is used when a list
    # of ARNs is included in the ResourceArns parameter instead of "*"").
    specific_resource = d.resource != "*"
    result: dict[str, Any] = {
        "EvalActionName": d.action,
        "EvalResourceName": d.resource,
        "EvalDecision": decision,
        "MatchedStatements": statements,
        "MissingContextValues": [] if specific_resource else list(d.missing_context_values),
    }
    if d.allowed_by_organizations is not None:
        result["OrganizationsDecisionDetail"] = {"AllowedByOrganizations": d.allowed_by_organizations}
    if d.allowed_by_boundary is not None:
        result["PermissionsBoundaryDecisionDetail"] = {"AllowedByPermissionsBoundary": d.allowed_by_boundary}
    if any(v.layer is Layer.RESOURCE for v in d.layer_verdicts):
        result["EvalDecisionDetails"] = {_AWS_DETAIL_NAMES[v.layer]: v.decision.aws for v in d.layer_verdicts if v.layer in _AWS_DETAIL_NAMES}
    if specific_resource:
        specific: dict[str, Any] = {
            "EvalResourceName": d.resource,
            "EvalResourceDecision": decision,
            "MatchedStatements": statements,
            "MissingContextValues": list(d.missing_context_values),
        }
        if "EvalDecisionDetails" in result:
            specific["EvalDecisionDetails"] = result["EvalDecisionDetails"]
        if "PermissionsBoundaryDecisionDetail" in result:
            specific["PermissionsBoundaryDecisionDetail"] = result["PermissionsBoundaryDecisionDetail"]
        result["ResourceSpecificResults"] = [specific]
    result["GraphsimBlockedBy"] = d.blocked_by.value if d.blocked_by else None
    if d.warnings:
        result["GraphsimWarnings"] = list(d.warnings)
    return result
