"""A set of policy statements compiled for fast lookup, and the scan of one set for one request."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..policy import Effect, Statement
from ..world import NodeKind, PathStep, PolicyAttachment
from .context import Context
from .decision import Layer, MatchedStatement
from .principals import CallerIdentity, MatchKind, match_principal


def matched_statement(st: Statement, att: PolicyAttachment, layer: Layer) -> MatchedStatement:
    step = PathStep(f"{att.policy}#Statement[{st.index}]", NodeKind.STATEMENT, st.label)
    return MatchedStatement(
        policy=att.name,
        policy_key=att.policy,
        policy_arn=att.arn,
        policy_type=att.policy_type,
        sid=st.sid,
        index=st.index,
        effect=st.effect,
        layer=layer,
        path=(*att.path, step),
        raw=st.raw,
    )


class Entry:
    """A statement of a set, with the attachment that brought it. ``matched`` (its path and
    provenance, as a decision reports it) is built the first time a decision reports it, then
    kept: most statements of a set never match, and a set built for one question (who-can's
    per-principal sets, a batch request's documents) would otherwise build them all."""

    __slots__ = ("statement", "attachment", "layer", "_matched")

    def __init__(self, statement: Statement, attachment: PolicyAttachment, layer: Layer) -> None:
        self.statement = statement
        self.attachment = attachment
        self.layer = layer
        self._matched: MatchedStatement | None = None

    @property
    def matched(self) -> MatchedStatement:
        found = self._matched
        if found is None:
            found = self._matched = matched_statement(self.statement, self.attachment, self.layer)
        return found

    def __repr__(self) -> str:
        return f"Entry({self.attachment.policy}#Statement[{self.statement.index}], {self.layer.value})"


class PolicySet:
    """Statements of one layer, indexed so a request scans only those whose Action can name it:
    exact names by action, wildcard patterns by service, the rest (``*``, ``NotAction``,
    service wildcards) for every request."""

    __slots__ = ("attachments", "layer", "_by_action", "_by_service", "_any", "_merged", "_few")

    # A set of at most this many statements is not indexed: every request scans them all (the
    # scan checks each statement's Action anyway), which costs less than building the index for
    # the one or two questions a set built for one request (a batch's documents) is asked.
    FEW = 8

    def __init__(self, attachments: Sequence[PolicyAttachment], layer: Layer = Layer.IDENTITY) -> None:
        self.attachments = tuple(attachments)
        self.layer = layer
        self._by_action: dict[str, list[tuple[int, Entry]]] = {}
        self._by_service: dict[str, list[tuple[int, Entry]]] = {}
        self._any: list[tuple[int, Entry]] = []
        self._merged: dict[str, tuple[Entry, ...]] = {}
        self._few: tuple[Entry, ...] | None = None
        if sum(len(att.document.statements) for att in self.attachments) <= self.FEW:
            self._few = tuple(Entry(st, att, layer) for att in self.attachments for st in att.document.statements)
            return
        order = 0
        for att in self.attachments:
            for st in att.document.statements:
                item = (order, Entry(st, att, layer))
                order += 1
                actions = st.actions
                if st.not_action or actions.services is None:
                    self._any.append(item)
                elif actions.exact_only:
                    for name in actions.exact:
                        self._by_action.setdefault(name, []).append(item)
                else:
                    for svc in actions.services:
                        self._by_service.setdefault(svc, []).append(item)

    def candidates(self, action_lower: str) -> tuple[Entry, ...]:
        """The statements that may name ``action_lower``, in policy order (merged once per action)."""
        if self._few is not None:
            return self._few
        found = self._merged.get(action_lower)
        if found is None:
            service = action_lower.split(":", 1)[0]
            items = self._by_action.get(action_lower, []) + self._by_service.get(service, []) + self._any
            found = tuple(entry for _, entry in sorted(items, key=lambda item: item[0]))
            if len(self._merged) > 4096:
                self._merged.clear()
            self._merged[action_lower] = found
        return found


@dataclass(slots=True)
class Scan:
    """What one policy set says about one request."""

    allows: list[Entry]
    denies: list[Entry]
    allow_kinds: set[MatchKind]  # how resource-policy allows matched the caller

    @property
    def allowed(self) -> bool:
        return bool(self.allows) and not self.denies


def scan(policies: PolicySet, action_lower: str, resource: str, ctx: Context, missing: list[str], caller: CallerIdentity | None = None) -> Scan:
    """Statements of ``policies`` that apply to the request, split by effect. Keys that an
    applicable statement reads but ``ctx`` lacks are appended to ``missing``."""
    allows: list[Entry] = []
    denies: list[Entry] = []
    kinds: set[MatchKind] = set()
    for entry in policies.candidates(action_lower):
        st = entry.statement
        if st.actions.matches(action_lower) is st.not_action:  # st.matches_action, inlined
            continue
        if not st.matches_resource(resource, ctx):
            if st.resources is not None and st.resources.has_variables:
                # A missing variable made an entry match nothing: supplying it could change that.
                missing.extend(st.missing_resource_keys(ctx))
            continue
        kind = None
        if st.principals is not None:
            if caller is None:
                continue
            kind = match_principal(st.principals, caller)
            if st.not_principal:
                # Only a principal named in NotPrincipal is exempt: listing its account's root
                # exempts the root user, not the account's other users; listing a role exempts
                # none of its sessions unless the session ARN is listed too ("The assumed-role
                # user is identified by the role session name"). Deny + NotPrincipal always
                # denies a principal that has a permissions boundary.
                # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
                exempt = kind is not None and kind is not MatchKind.ACCOUNT and kind is not MatchKind.ROLE
                if exempt and not (st.effect is Effect.DENY and caller.has_boundary):
                    continue
                kind = MatchKind.WILDCARD
            elif kind is None:
                continue
        if st.condition.clauses:
            missing.extend(st.condition.missing_keys(ctx))
            if not st.condition.evaluate(ctx):
                continue
        if st.effect is Effect.DENY:
            denies.append(entry)
        else:
            allows.append(entry)
            if kind is not None:
                kinds.add(kind)
    return Scan(allows, denies, kinds)
