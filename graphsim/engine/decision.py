"""A decision is data: the outcome, the statements that decided it with their graph paths,
per-layer verdicts, missing context keys, warnings and a fix hint. ``explain`` renders it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..policy import Effect
from ..world import PathStep, PolicyType, render_path


class DecisionKind(StrEnum):
    ALLOWED = "ALLOWED"
    EXPLICIT_DENY = "EXPLICIT_DENY"
    IMPLICIT_DENY = "IMPLICIT_DENY"

    @property
    def aws(self) -> str:
        """AWS's spelling in EvalDecision: allowed, explicitDeny, implicitDeny."""
        return _AWS_SPELLING[self]

    @classmethod
    def parse(cls, text: str) -> DecisionKind:
        """Any spelling of a decision: ours (EXPLICIT_DENY), AWS's (explicitDeny), or with
        dashes (explicit-deny); case does not matter. ValueError for anything else."""
        kind = _BY_SPELLING.get(_folded(text))
        if kind is None:
            raise ValueError(f"must be ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY, got {text!r}")
        return kind


def _folded(text: str) -> str:
    return text.replace("_", "").replace("-", "").lower()


# The one table of decision spellings; every other spelling is folded into these.
_AWS_SPELLING = {DecisionKind.ALLOWED: "allowed", DecisionKind.EXPLICIT_DENY: "explicitDeny", DecisionKind.IMPLICIT_DENY: "implicitDeny"}
_BY_SPELLING = {_folded(kind.value): kind for kind in DecisionKind}


class Layer(StrEnum):
    """The policy layers AWS evaluates (only ``identity`` is wired so far)."""

    SCP = "scp"
    RCP = "rcp"
    RESOURCE = "resource"
    IDENTITY = "identity"
    BOUNDARY = "boundary"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class MatchedStatement:
    policy: str
    policy_key: str
    policy_arn: str | None
    policy_type: PolicyType
    sid: str | None
    index: int
    effect: Effect
    layer: Layer
    path: tuple[PathStep, ...]
    raw: Any = field(compare=False)

    @property
    def path_text(self) -> str:
        return render_path(self.path)


@dataclass(frozen=True, slots=True)
class LayerVerdict:
    layer: Layer
    decision: DecisionKind
    policies_considered: int


@dataclass(frozen=True, slots=True)
class FixHint:
    """What would change the answer: a statement to add (implicit deny), or the denying
    statements to remove or narrow (explicit deny)."""

    statement: dict[str, Any] | None = None
    principal_label: str = ""
    denied_by: tuple[str, ...] = ()
    blocked_by: str = ""

    @property
    def summary(self) -> str:
        if self.denied_by:
            return "an explicit Deny overrides every Allow; to allow this request, remove or narrow: " + "; ".join(self.denied_by)
        assert self.statement is not None
        action, resource, statement = self.statement["Action"], self.statement["Resource"], json.dumps(self.statement)
        where = {
            "scp": f"every SCP level over the caller's account must allow it; add {statement} to an SCP at the level that lacks it",
            "boundary": f"the permissions boundary of {self.principal_label} does not allow it; the boundary needs {statement}",
            "session": f"the session policy does not allow it; the session policy needs {statement}",
            "resource": (
                f"the resource-based policy of {resource} must allow {self.principal_label} itself "
                "(a trust or key policy, or a cross-account request); add a statement naming the caller as Principal"
            ),
        }.get(self.blocked_by)
        if where is not None:
            return where
        return (
            f"no identity-based policy of {self.principal_label} allows {action} on "
            f"{resource}; a statement such as {statement} in one of its policies would"
        )


@dataclass(frozen=True, slots=True)
class AssumeStep:
    """One hop of a role chain: ``source`` may assume ``role``, as this decision shows."""

    source: str
    role: str
    decision: Decision


@dataclass(frozen=True, slots=True)
class RoleRoute:
    steps: tuple[AssumeStep, ...]
    decision: Decision  # the request, asked as a session of the last role


# Not frozen: a frozen dataclass pays for every field on construction, and a decision is built
# for every request. Treat it as immutable all the same (use dataclasses.replace).
@dataclass(slots=True)
class Decision:
    principal: str
    action: str
    resource: str
    decision: DecisionKind
    matched_statements: tuple[MatchedStatement, ...]
    missing_context_values: tuple[str, ...]
    layer_verdicts: tuple[LayerVerdict, ...]
    blocked_by: Layer | None
    warnings: tuple[str, ...]
    fix: FixHint | None
    principal_label: str = ""
    allowed_by_organizations: bool | None = None  # None: no SCP or RCP applies
    allowed_by_boundary: bool | None = None  # None: no permissions boundary applies
    via_role: RoleRoute | None = None  # with viaRoles: how the principal gets there by assuming roles

    @property
    def allowed(self) -> bool:
        return self.decision is DecisionKind.ALLOWED

