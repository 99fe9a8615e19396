"""Render a ``Decision`` as text. The CLI, the API's ``explanation`` and the web page all use this."""

from __future__ import annotations

from .decision import Decision, DecisionKind


def explain(decision: Decision) -> str:
    who = decision.principal_label or decision.principal
    head = f"{decision.decision.value}: {who} {{verb}} {decision.action} on {decision.resource}"
    lines: list[str]
    if decision.decision is DecisionKind.ALLOWED:
        lines = [head.format(verb="may"), "Allowed by:"]
        lines += [f"  - {m.path_text} [{m.layer.value}, {m.policy_type.value}]" for m in decision.matched_statements]
    elif decision.decision is DecisionKind.EXPLICIT_DENY:
        lines = [head.format(verb="may not"), "Explicitly denied by (a Deny overrides every Allow):"]
        lines += [f"  - {m.path_text} [{m.layer.value}, {m.policy_type.value}]" for m in decision.matched_statements]
    else:
        considered = sum(v.policies_considered for v in decision.layer_verdicts)
        lines = [
            head.format(verb="may not"),
            f"No statement allows it (implicit deny): {considered} identity-based "
            f"polic{'y was' if considered == 1 else 'ies were'} considered and none matched.",
        ]
    if decision.missing_context_values:
        lines.append(
            "Missing context values (statements that apply read them; supply them to be sure): "
            + ", ".join(decision.missing_context_values)
        )
    for warning in decision.warnings:
        lines.append(f"Warning: {warning}")
    if decision.fix is not None:
        lines.append(f"To change the answer: {decision.fix.summary}")
    return "\n".join(lines)
