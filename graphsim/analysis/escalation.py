"""Privilege-escalation paths: from a principal, breadth-first over the known escalation moves
to an admin-equivalent principal, every step decided by the engine with its Decision.

**Admin-equivalent** (``is_admin_equivalent``): a principal is admin-equivalent when the engine,
with no request context, ALLOWS it every action of ``ADMIN_PROBES`` on a resource of that
action's type that exists nowhere in the world (``graphsim-admin-probe`` names in the
principal's account): IAM write enough to grant anything (attach and write user and role
policies, pass any role) plus data, compute, storage and key actions of unrelated services.
Actions that organizations commonly deny by SCP for everyone (``iam:CreateUser``,
``organizations:LeaveOrganization``) are deliberately not probed. Only an
effective ``"*"`` on ``"*"`` (``AdministratorAccess``, or service wildcards for all those
services on ``*``) passes them all: a grant scoped to resources or services fails at least one
probe. A Deny on a specific resource (priya's DevOps Deny on the classified bucket) does not
stop a principal from being admin-equivalent: with IAM write it can take that Deny away.

**Moves** (after Rhino Security Labs' list of IAM privilege-escalation methods, the basis of
most tools: https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/;
the actions' meaning is in https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsidentityandaccessmanagementiam.html):

- ``create-access-key`` / ``create-login-profile`` / ``update-login-profile`` on another user
  (``iam:CreateAccessKey`` ... on its ARN): sign in as that user;
- ``attach-user-policy`` / ``put-user-policy`` on itself: grant itself AdministratorAccess;
- ``attach-group-policy`` / ``put-group-policy`` on a group it is in: the same through the group;
- ``attach-role-policy`` / ``put-role-policy`` on a role it can assume (or is): the role becomes
  admin, then it assumes the role;
- ``create-policy-version`` on a customer managed policy attached to it (``iam:CreatePolicyVersion``
  with ``--set-as-default``): rewrite its own policy;
- ``add-user-to-group``: join a group (``iam:AddUserToGroup`` on the group ARN); the new state is
  the user with that group's policies too;
- ``update-assume-role-policy`` on a role: rewrite its trust policy to name itself, then assume it;
- ``pass-role``: ``iam:PassRole`` on a role whose trust policy lets a code-running service
  assume it, with that service's actions to run code as the role: ``lambda:CreateFunction`` +
  ``lambda:InvokeFunction``, ``ec2:RunInstances``, ``cloudformation:CreateStack``,
  ``glue:CreateDevEndpoint``;
- ``assume-role``: the can-assume edges (``Engine.assumable_roles``).

Moves to a role end in a session of that role (its default session), as the engine evaluates
roles. Actions on resources that do not exist yet (a new function, instance, stack) are decided
on a ``graphsim-escalation-probe`` ARN in the principal's account.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..engine import CallerIdentity, Decision, Engine, PolicySet, parse_document, scan
from ..policy import Effect, PolicyKind
from ..world import AWS_MANAGED_ACCOUNT, EdgeKind, NodeKind, PathStep, PolicyAttachment, PolicyType, World

PROBE = "graphsim-admin-probe"
ADMIN_PROBES: tuple[tuple[str, str], ...] = (
    ("iam:AttachUserPolicy", "arn:aws:iam::{account}:user/" + PROBE),
    ("iam:PutUserPolicy", "arn:aws:iam::{account}:user/" + PROBE),
    ("iam:AttachRolePolicy", "arn:aws:iam::{account}:role/" + PROBE),
    ("iam:PutRolePolicy", "arn:aws:iam::{account}:role/" + PROBE),
    ("iam:PassRole", "arn:aws:iam::{account}:role/" + PROBE),
    ("s3:GetObject", "arn:aws:s3:::" + PROBE + "/object"),
    ("s3:PutBucketPolicy", "arn:aws:s3:::" + PROBE),
    ("ec2:RunInstances", "arn:aws:ec2:us-east-1:{account}:instance/i-0" + PROBE),
    ("lambda:CreateFunction", "arn:aws:lambda:us-east-1:{account}:function:" + PROBE),
    ("dynamodb:DeleteTable", "arn:aws:dynamodb:us-east-1:{account}:table/" + PROBE),
    ("kms:CreateKey", "*"),
)

_ESC = "graphsim-escalation-probe"
# Services that run code as a role passed to them, the actions that make them do so, and the
# service principal the role's trust policy must let assume it.
CODE_SERVICES: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("lambda", "lambda.amazonaws.com", (
        ("lambda:CreateFunction", "arn:aws:lambda:us-east-1:{account}:function:" + _ESC),
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:{account}:function:" + _ESC),
    )),
    ("ec2", "ec2.amazonaws.com", (("ec2:RunInstances", "arn:aws:ec2:us-east-1:{account}:instance/i-0" + _ESC),)),
    ("cloudformation", "cloudformation.amazonaws.com", (("cloudformation:CreateStack", "arn:aws:cloudformation:us-east-1:{account}:stack/" + _ESC + "/1"),)),
    ("glue", "glue.amazonaws.com", (("glue:CreateDevEndpoint", "*"),)),
)
MAX_DEPTH = 5
MAX_STATES = 500


@dataclass(frozen=True, slots=True)
class EscalationStep:
    technique: str
    source: str  # the state's principal label (with any groups joined)
    target: str  # the ARN of the principal this step reaches or makes admin-equivalent
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    decisions: tuple[Decision, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class EscalationPath:
    principal: str  # the start, by ARN
    target: str  # the admin-equivalent principal reached (ARN), or the start after granting itself
    steps: tuple[EscalationStep, ...]
    already_admin: bool = False

    def explain(self) -> str:
        if self.already_admin:
            return f"{self.principal} is already admin-equivalent"
        lines = [f"{self.principal} becomes admin-equivalent in {len(self.steps)} step{'s' if len(self.steps) != 1 else ''}:"]
        lines += [f"  {i}. [{s.technique}] {s.explanation}" for i, s in enumerate(self.steps, start=1)]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _State:
    key: str
    groups: tuple[str, ...] = ()  # groups joined on the way (AddUserToGroup)


class _Explorer:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.world: World = engine.world
        self._overrides: dict[_State, PolicySet] = {}
        self._admin: dict[_State, bool] = {}
        self._granted: dict[_State, bool] = {}

    # ---- deciding as a state --------------------------------------------------------------------

    def _override(self, state: _State) -> PolicySet:
        policies = self._overrides.get(state)
        if policies is None:
            attachments = list(self.engine.caller(state.key).policies.attachments)
            for group in state.groups:
                attachments += self.world.identity_policies(group)
            policies = self._overrides[state] = PolicySet(attachments)
        return policies

    def decide(self, state: _State, action: str, resource: str) -> Decision:
        if not state.groups:
            return self.engine.evaluate(state.key, action, resource)
        return self.engine.evaluate(state.key, action, resource, policies=self._override(state))

    def may(self, state: _State, action: str) -> bool:
        """Cheap pre-check: some identity Allow statement of the state names the action."""
        action_lower = action.lower()
        policies = self._override(state) if state.groups else self.engine.caller(state.key).policies
        return any(e.statement.effect is Effect.ALLOW and e.statement.matches_action(action_lower) for e in policies.candidates(action_lower))

    def is_admin(self, state: _State) -> bool:
        found = self._admin.get(state)
        if found is None:
            account = self.world.account_of(state.key)
            found = all(self.decide(state, a, r.format(account=account)).allowed for a, r in ADMIN_PROBES)
            self._admin[state] = found
        return found

    def admin_if_granted(self, state: _State) -> bool:
        """Whether the state would be admin-equivalent with ``"*"`` on ``"*"`` added to its
        identity policies: a self-grant escalates only when no boundary or SCP caps it."""
        found = self._granted.get(state)
        if found is None:
            base = self._override(state) if state.groups else self.engine.caller(state.key).policies
            policies = PolicySet([*base.attachments, _granted_admin()])
            account = self.world.account_of(state.key)
            found = all(self.engine.evaluate(state.key, a, r.format(account=account), policies=policies).allowed for a, r in ADMIN_PROBES)
            self._granted[state] = found
        return found

    def label(self, state: _State) -> str:
        text: str = self.world.label_of(state.key)
        if state.groups:
            text += " (+" + ", ".join(self.world.label_of(g) for g in state.groups) + ")"
        return text

    # ---- moves ----------------------------------------------------------------------------------

    def moves(self, state: _State) -> list[tuple[_State | None, EscalationStep]]:
        """(next state, step) for every move; the next state is None when the move itself makes
        ``step.target`` admin-equivalent (a policy written or attached to itself, its group, or
        a role it then assumes)."""
        world = self.world
        key = state.key
        kind = world.kind_of(key)
        account = world.account_of(key)
        me = self.label(state)
        out: list[tuple[_State | None, EscalationStep]] = []

        def first_allowed(actions: Sequence[str], resource: str) -> Decision | None:
            for action in actions:
                if self.may(state, action):
                    decision = self.decide(state, action, resource)
                    if decision.allowed:
                        return decision
            return None

        granting = self.admin_if_granted(state)
        if kind is NodeKind.USER and granting:
            for act, technique in (("iam:AttachUserPolicy", "attach-user-policy"), ("iam:PutUserPolicy", "put-user-policy")):
                d = first_allowed([act], key)
                if d is not None:
                    out.append((None, EscalationStep(technique, me, key, (act,), (key,), (d,), f"{me} may {act} on itself: it grants itself AdministratorAccess")))
        if kind is NodeKind.USER:
            groups = sorted({g for g, _ in world.out_edges(key, EdgeKind.MEMBER_OF)} | set(state.groups))
            for group in groups if granting else []:
                for act, technique in (("iam:AttachGroupPolicy", "attach-group-policy"), ("iam:PutGroupPolicy", "put-group-policy")):
                    d = first_allowed([act], group)
                    if d is not None:
                        glabel = world.label_of(group)
                        out.append((None, EscalationStep(technique, me, key, (act,), (group,), (d,), f"{me} may {act} on {glabel}, a group it is in: it grants the group AdministratorAccess")))
            if self.may(state, "iam:AddUserToGroup"):
                for group, gdata in sorted(world.principals_of(NodeKind.GROUP)):
                    if group in groups or gdata["account"] != account:
                        continue
                    d = self.decide(state, "iam:AddUserToGroup", group)
                    if d.allowed:
                        nxt = _State(key, tuple(sorted((*state.groups, group))))
                        out.append((nxt, EscalationStep("add-user-to-group", me, key, ("iam:AddUserToGroup",), (group,), (d,), f"{me} may iam:AddUserToGroup on {gdata['label']}: it joins the group and gains its policies")))
        if kind is NodeKind.ROLE and granting:
            for act, technique in (("iam:AttachRolePolicy", "attach-role-policy"), ("iam:PutRolePolicy", "put-role-policy")):
                d = first_allowed([act], key)
                if d is not None:
                    out.append((None, EscalationStep(technique, me, key, (act,), (key,), (d,), f"{me} may {act} on its own role: it grants itself AdministratorAccess")))

        # Another user's credentials.
        if any(self.may(state, a) for a in ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile")):
            for user, udata in sorted(world.principals_of(NodeKind.USER)):
                if user == key:
                    continue
                for act, technique in (("iam:CreateAccessKey", "create-access-key"), ("iam:CreateLoginProfile", "create-login-profile"), ("iam:UpdateLoginProfile", "update-login-profile")):
                    d = first_allowed([act], user)
                    if d is not None:
                        out.append((_State(user), EscalationStep(technique, me, user, (act,), (user,), (d,), f"{me} may {act} on {udata['label']}: it signs in as that user")))
                        break

        # Customer managed policies attached to it: rewrite them.
        if granting and self.may(state, "iam:CreatePolicyVersion"):
            attached = {a.policy: a for a in self.engine.caller(key).policies.attachments}
            for group in state.groups:
                attached.update({a.policy: a for a in world.identity_policies(group)})
            for policy in sorted(attached):
                if world.kind_of(policy) is not NodeKind.POLICY:
                    continue
                pdata = world.managed_policy(policy)
                if pdata["account"] == AWS_MANAGED_ACCOUNT:
                    continue
                d = self.decide(state, "iam:CreatePolicyVersion", policy)
                if d.allowed:
                    out.append((None, EscalationStep("create-policy-version", me, key, ("iam:CreatePolicyVersion",), (policy,), (d,), f"{me} may iam:CreatePolicyVersion on {pdata['label']}, attached to it: it makes a new default version allowing \"*\"")))

        # Roles: assume, modify then assume, rewrite the trust policy, pass to a service.
        assumable = self._assumable(state)
        for role, d in assumable:
            rlabel = world.label_of(role)
            out.append((_State(role), EscalationStep("assume-role", me, role, ("sts:AssumeRole",), (role,), (d,), f"{me} may assume {rlabel} (its trust policy and {me}'s policies allow sts:AssumeRole)")))
            for act, technique in (("iam:AttachRolePolicy", "attach-role-policy"), ("iam:PutRolePolicy", "put-role-policy")):
                if not self.admin_if_granted(_State(role)):
                    break
                m = first_allowed([act], role)
                if m is not None:
                    out.append((None, EscalationStep(technique, me, role, (act, "sts:AssumeRole"), (role, role), (m, d), f"{me} may {act} on {rlabel}, which it can assume: it grants the role AdministratorAccess, then assumes it")))
        assumable_keys = {r for r, _ in assumable}
        may_trust = self.may(state, "iam:UpdateAssumeRolePolicy")
        may_pass = self.may(state, "iam:PassRole")
        if may_trust or may_pass:
            for role, rdata in sorted(world.principals_of(NodeKind.ROLE)):
                if role == key:
                    continue
                if may_trust and role not in assumable_keys:
                    d = self.decide(state, "iam:UpdateAssumeRolePolicy", role)
                    if d.allowed:
                        out.append((_State(role), EscalationStep("update-assume-role-policy", me, role, ("iam:UpdateAssumeRolePolicy",), (role,), (d,), f"{me} may iam:UpdateAssumeRolePolicy on {rdata['label']}: it names itself in the trust policy, then assumes the role")))
                        continue
                if may_pass:
                    step = self._pass_role(state, me, role, rdata["label"], account)
                    if step is not None:
                        out.append((_State(role), step))
        return out

    def _assumable(self, state: _State) -> list[tuple[str, Decision]]:
        if not state.groups:
            return self.engine.assumable_roles(state.key)
        out = []
        for role, _ in sorted(self.world.nodes_of(NodeKind.ROLE)):
            if role != state.key:
                d = self.decide(state, "sts:AssumeRole", role)
                if d.allowed:
                    out.append((role, d))
        return out

    def _pass_role(self, state: _State, me: str, role: str, rlabel: str, account: str) -> EscalationStep | None:
        trust = self.engine.target(role, "resource").resource_policy
        for service, principal, needs in CODE_SERVICES:
            if trust is None or not _trusts_service(trust, role, principal):
                continue
            passed = self.decide(state, "iam:PassRole", role)
            if not passed.allowed:
                return None
            decisions = [passed]
            for action, resource in needs:
                d = self.decide(state, action, resource.format(account=account))
                if not d.allowed:
                    break
                decisions.append(d)
            else:
                actions = ("iam:PassRole", *(a for a, _ in needs))
                resources = (role, *(r.format(account=account) for _, r in needs))
                return EscalationStep(
                    "pass-role", me, role, actions, resources, tuple(decisions),
                    f"{me} may pass {rlabel} (trusted by {principal}) to {service} and run code there ({', '.join(a for a, _ in needs)}): the code acts as the role",
                )
        return None


@lru_cache(maxsize=1)
def _granted_admin() -> PolicyAttachment:
    """AdministratorAccess as a self-granting move would add it."""
    document = parse_document({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, PolicyKind.IDENTITY, "escalation")
    step = PathStep("escalation:granted-admin", NodeKind.POLICY, "policy/AdministratorAccess (granted by the move)")
    return PolicyAttachment("escalation:granted-admin", "AdministratorAccess", None, PolicyType.AWS_MANAGED, document, (step,))


def _trusts_service(trust: PolicySet, role: str, principal: str) -> bool:
    """Whether the role's trust policy lets the service principal assume it (conditions the
    service supplies, such as aws:SourceAccount, are assumed to hold)."""
    caller = CallerIdentity("Service", principal, "", None)
    missing: list[str] = []
    result = scan(trust, "sts:assumerole", role, {}, missing, caller)
    if result.denies:
        return False
    if result.allows:
        return True
    for entry in trust.candidates("sts:assumerole"):
        st = entry.statement
        if st.effect is Effect.ALLOW and st.principals is not None and st.matches_action("sts:assumerole"):
            if any(ptype == "Service" and principal in values for ptype, values in st.principals.by_type):
                return True
    return False


def is_admin_equivalent(engine: Engine, principal: str) -> bool:
    """Whether the principal (name or ARN) is admin-equivalent, as defined in this module."""
    key, _ = engine.resolve_principal(principal)
    return _Explorer(engine).is_admin(_State(key))


def admin_probes(engine: Engine, principal: str) -> list[Decision]:
    """The decisions behind ``is_admin_equivalent``, one per probe."""
    key, _ = engine.resolve_principal(principal)
    account = engine.world.account_of(key)
    return [engine.evaluate(key, a, r.format(account=account)) for a, r in ADMIN_PROBES]


def escalation_paths(engine: Engine, principal: str, *, max_depth: int = MAX_DEPTH) -> list[EscalationPath]:
    """The shortest escalation path to each admin-equivalent end reachable from the principal
    (a user or role, by name or ARN). An admin-equivalent principal gets one path with no steps
    (``already_admin``); a principal with no route gets none."""
    key, _ = engine.resolve_principal(principal)
    explorer = _Explorer(engine)
    start = _State(key)
    if explorer.is_admin(start):
        return [EscalationPath(key, key, (), already_admin=True)]
    paths: list[EscalationPath] = []
    reached: set[str] = set()
    seen = {start}
    queue: deque[tuple[_State, tuple[EscalationStep, ...]]] = deque([(start, ())])
    while queue and len(seen) <= MAX_STATES:
        state, steps = queue.popleft()
        if len(steps) >= max_depth:
            continue
        for nxt, step in explorer.moves(state):
            chain = (*steps, step)
            if nxt is None:
                if step.target not in reached:
                    reached.add(step.target)
                    paths.append(EscalationPath(key, step.target, chain))
                continue
            if nxt in seen:
                continue
            seen.add(nxt)
            if explorer.is_admin(nxt):
                if nxt.key not in reached:
                    reached.add(nxt.key)
                    paths.append(EscalationPath(key, nxt.key, chain))
                continue
            queue.append((nxt, chain))
    return sorted(paths, key=lambda p: (len(p.steps), p.target, [s.technique for s in p.steps]))
