"""What would change a denial: the layer that blocked it and the smallest statement that would
allow it (implicit deny), or the statements that deny it (explicit deny).

AWS allows a request only when no policy denies it and every layer that must allow it does:
identity-based policies (or a resource-based grant), the permissions boundary, the session
policy, every SCP level, and for role trust and KMS key policies, or across accounts, the
resource-based policy. An explicit Deny wins over every Allow, so it can only be removed or
narrowed. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .. import catalog
from ..arn import grantee_arn
from ..engine import Decision, DecisionKind, Layer

_WHERE = {
    Layer.IDENTITY: "an identity-based policy of {who} (attached to it or to one of its groups)",
    Layer.BOUNDARY: "the permissions boundary of {who}",
    Layer.SESSION: "the session policy passed when the role session was created",
    Layer.SCP: "an SCP at every level (root, OUs, account) above the caller's account that lacks it",
    Layer.RCP: "the resource control policies of the resource owner's organization",
    Layer.RESOURCE: "the resource-based policy of {resource} (a trust policy for a role, a key policy for a KMS key), naming the caller as Principal",
}


@dataclass(frozen=True, slots=True)
class DenyingStatement:
    policy: str
    sid: str | None
    index: int
    layer: str
    path: str


@dataclass(frozen=True, slots=True)
class Fix:
    """How to change a decision. ``statement`` (implicit deny) is the smallest statement that
    would allow the request, to add ``where``; ``denied_by`` (explicit deny) lists the Deny
    statements to remove or narrow."""

    decision: str
    principal: str
    action: str
    resource: str
    blocked_by: str | None  # identity | boundary | session | scp | rcp | resource
    statement: dict[str, Any] | None
    where: str
    denied_by: tuple[DenyingStatement, ...]
    missing_context: tuple[str, ...]
    summary: str

    @property
    def needed(self) -> bool:
        return self.decision != DecisionKind.ALLOWED.value


def smallest_statement(action: str, resource: str, *, principal: str | None = None, trust: bool = False) -> dict[str, Any]:
    """``{"Effect": "Allow", "Action": action, "Resource": resource}``, with Resource ``*`` for an
    action that acts on no specific resource (the catalog lists no resource type for it: AWS
    evaluates it against ``*``), a Principal for a resource-based policy, and no Resource in a
    role trust policy (trust policies name no Resource).
    D: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html"""
    statement: dict[str, Any] = {"Effect": "Allow"}
    if principal is not None:
        statement["Principal"] = {"AWS": principal}
    statement["Action"] = action
    if not trust:
        statement["Resource"] = resource if catalog.resource_types(action) else "*"
    return statement


def denial_fix(decision: Decision) -> Fix:
    """The fix for one decision (``needed`` is False for an allowed one)."""
    who = decision.principal_label or decision.principal or "the caller"
    missing = decision.missing_context_values
    if decision.decision is DecisionKind.ALLOWED:
        return Fix(decision.decision.value, decision.principal, decision.action, decision.resource, None, None, "", (), missing, "already allowed")
    if decision.decision is DecisionKind.EXPLICIT_DENY:
        denied = tuple(
            DenyingStatement(m.policy, m.sid, m.index, m.layer.value, m.path_text) for m in decision.matched_statements if m.effect.value == "Deny"
        )
        layer = decision.blocked_by.value if decision.blocked_by is not None else None
        summary = "an explicit Deny overrides every Allow; remove or narrow " + "; ".join(d.path for d in denied)
        return Fix(decision.decision.value, decision.principal, decision.action, decision.resource, layer, None, "", denied, missing, summary)
    blocked = decision.blocked_by or Layer.IDENTITY
    trust = blocked is Layer.RESOURCE and decision.action.lower().startswith("sts:") and ":role/" in decision.resource
    principal = grantee_arn(decision.principal) if blocked is Layer.RESOURCE and decision.principal else None
    statement: dict[str, Any] | None = smallest_statement(decision.action, decision.resource, principal=principal, trust=trust)
    where = _WHERE[blocked].format(who=who, resource=decision.resource)
    if blocked is Layer.RCP:
        summary = "resource control policies deny only by explicit Deny; check the RCPs of the resource owner"
        statement = None
    else:
        summary = f"add {json.dumps(statement)} to {where}"
    if missing:
        summary += f"; or supply the context keys a conditioned statement needs: {', '.join(missing)}"
    return Fix(decision.decision.value, decision.principal, decision.action, decision.resource, blocked.value, statement, where, (), missing, summary)
