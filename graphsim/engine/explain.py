"""Render a ``Decision`` as text. The CLI, the API's ``explanation`` and the web page all use this."""

from __future__ import annotations

from ..arn import Arn
from .decision import Decision, DecisionKind, Layer

_LAYER_NAMES = {
    Layer.SCP: "service control policies",
    Layer.RCP: "resource control policies",
    Layer.RESOURCE: "resource-based policy",
    Layer.IDENTITY: "identity-based policies",
    Layer.BOUNDARY: "permissions boundary",
    Layer.SESSION: "session policy",
}
_BLOCKED = {
    Layer.SCP: "an SCP level over the caller's account does not allow it",
    Layer.RCP: "a resource control policy does not allow it",
    Layer.RESOURCE: "the resource-based policy does not allow the caller, and here it must (a trust or key policy, or a cross-account request)",
    Layer.IDENTITY: "no identity-based policy allows it",
    Layer.BOUNDARY: "the permissions boundary does not allow it",
    Layer.SESSION: "the session policy does not allow it",
}


def explain(decision: Decision) -> str:
    who = decision.principal_label or decision.principal
    head = f"{decision.decision.value}: {who} {{verb}} {decision.action} on {decision.resource}"
    lines: list[str]
    if decision.decision is DecisionKind.ALLOWED:
        lines = [head.format(verb="may"), "Allowed by:"]
        lines += [f"  - {m.path_text} [{m.layer.value}, {m.policy_type.value}]" for m in decision.matched_statements]
        principal = Arn.maybe(decision.principal)
        if principal is not None and principal.is_root:
            lines.append("  - the account root user's full access to its own account, which needs no identity-based policy")
    elif decision.decision is DecisionKind.EXPLICIT_DENY:
        lines = [head.format(verb="may not"), "Explicitly denied by (a Deny overrides every Allow):"]
        lines += [f"  - {m.path_text} [{m.layer.value}, {m.policy_type.value}]" for m in decision.matched_statements]
    elif len(decision.layer_verdicts) == 1 and decision.blocked_by in (None, Layer.IDENTITY):
        considered = decision.layer_verdicts[0].policies_considered
        lines = [
            head.format(verb="may not"),
            f"No statement allows it (implicit deny): {considered} identity-based "
            f"polic{'y was' if considered == 1 else 'ies were'} considered and none matched.",
        ]
    else:
        blocked = _BLOCKED.get(decision.blocked_by, "nothing allows it") if decision.blocked_by else "nothing allows it"
        lines = [head.format(verb="may not"), f"Implicitly denied: {blocked}."]
    if len(decision.layer_verdicts) > 1:
        lines.append(
            "Layers: "
            + "; ".join(
                f"{_LAYER_NAMES[v.layer]} {v.decision.value} ({v.policies_considered} polic{'y' if v.policies_considered == 1 else 'ies'})"
                for v in decision.layer_verdicts
            )
        )
    if decision.missing_context_values:
        lines.append(
            "Missing context values (statements that apply read them; supply them to be sure): "
            + ", ".join(decision.missing_context_values)
        )
    for warning in decision.warnings:
        lines.append(f"Warning: {warning}")
    if decision.fix is not None:
        lines.append(f"To change the answer: {decision.fix.summary}")
    route = decision.via_role
    if route is not None:
        roles = " -> ".join(step.role.rsplit("/", 1)[1] for step in route.steps)
        lines.append(f"But through role {roles}, it {'is' if route.decision.allowed else 'is not'} allowed:")
        for step in route.steps:
            lines.append(f"  assume {step.role}, allowed by:")
            lines += [f"    - {m.path_text} [{m.layer.value}]" for m in step.decision.matched_statements]
        lines.append(f"  then {route.decision.action} on {route.decision.resource}, allowed by:")
        lines += [f"    - {m.path_text} [{m.layer.value}]" for m in route.decision.matched_statements]
    return "\n".join(lines)
