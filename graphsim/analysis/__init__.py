"""Access reviews, as pure analysis over the engine: who can do what, what a principal can do,
the access matrix, how to fix a denial, privilege-escalation paths, findings, and the access
difference between two worlds. No HTTP, SQL or GraphQL: every result is a frozen dataclass;
``graphsim.presentation.to_json`` shapes it for JSON (camelCase keys).
"""

from .diff import ABSENT, AccessChange, access_diff
from .escalation import ADMIN_PROBES, EscalationPath, EscalationStep, admin_probes, escalation_paths, is_admin_equivalent
from .findings import RULES, Finding, admin_equivalent_findings, check_rules, findings
from .findings import in_order as findings_in_order
from .fix import DenyingStatement, Fix, denial_fix, smallest_statement
from .matrix import DECISIONS, Matrix, access_matrix, all_principals
from .what_can import EffectivePermissions, ResourceGrant, what_can
from .what_if import DENIED, ChangeInput, Question, WhatIfResult, apply_changes, meets, parse_changes, what_if
from .who_can import WhoCanEntry, principal_order, who_can, who_can_direct, who_can_outside, who_can_request, who_can_via_roles

__all__ = [
    "DENIED",
    "meets",
    "ABSENT",
    "ChangeInput",
    "Question",
    "WhatIfResult",
    "apply_changes",
    "parse_changes",
    "what_if",
    "ADMIN_PROBES",
    "DECISIONS",
    "RULES",
    "AccessChange",
    "DenyingStatement",
    "EffectivePermissions",
    "EscalationPath",
    "EscalationStep",
    "Finding",
    "Fix",
    "Matrix",
    "ResourceGrant",
    "WhoCanEntry",
    "access_diff",
    "access_matrix",
    "all_principals",
    "admin_probes",
    "denial_fix",
    "escalation_paths",
    "findings",
    "is_admin_equivalent",
    "smallest_statement",
    "what_can",
    "who_can",
    "admin_equivalent_findings",
    "check_rules",
    "findings_in_order",
    "principal_order",
    "who_can_direct",
    "who_can_outside",
    "who_can_request",
    "who_can_via_roles",
]
