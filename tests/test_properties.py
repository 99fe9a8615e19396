"""Property-based tests of the decision engine's evaluation logic.

They pin rules that hold for every policy, whatever its content:

- an explicit Deny beats every Allow, so adding a Deny statement can never produce ALLOWED
  (D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html);
- the default is implicit deny and only an Allow grants, so removing an Allow can never produce ALLOWED;
- the conditions of a statement are ANDed, so adding a condition that is always true changes nothing
  (D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html);
- statement and policy order do not matter.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from graphsim.engine import ContextEntry, CustomSimulation, simulate

POLICY_ACTIONS = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:Get*",
    "s3:*Object",
    "s3:*",
    "ec2:RunInstances",
    "ec2:TerminateInstances",
    "ec2:*",
    "*",
]
REQUEST_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "ec2:RunInstances", "ec2:TerminateInstances"]
POLICY_RESOURCES = [
    "*",
    "arn:aws:s3:::bucket-a",
    "arn:aws:s3:::bucket-a/*",
    "arn:aws:s3:::bucket-b/*",
    "arn:aws:s3:::bucket-?/reports/*",
    "arn:aws:s3:::bucket-a/home/${aws:username}/*",
    "arn:aws:ec2:*:111122223333:instance/*",
]
REQUEST_RESOURCES = [
    "arn:aws:s3:::bucket-a",
    "arn:aws:s3:::bucket-a/k",
    "arn:aws:s3:::bucket-a/home/bob/notes.txt",
    "arn:aws:s3:::bucket-b/reports/x",
    "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:username": "bob"}},
    {"StringEquals": {"aws:username": ["alice", "carol"]}},
    {"StringNotEquals": {"aws:username": "bob"}},
    {"StringLike": {"aws:username": "b*"}},
    {"StringEqualsIfExists": {"aws:username": "alice"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
    {"IpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEquals": {"aws:username": "bob"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
]
# Conditions that are true whatever the request holds: the key graphsim:neverSet is never in a request.
ALWAYS_TRUE: list[dict[str, Any]] = [
    {"Null": {"graphsim:neverSet": "true"}},
    {"StringNotEquals": {"graphsim:neverSet": "x"}},
    {"StringEqualsIfExists": {"graphsim:neverSet": "x"}},
    {"ForAllValues:StringEquals": {"graphsim:neverSet": "x"}},
]


def one_or_list(items: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(items), st.lists(st.sampled_from(items), min_size=1, max_size=3, unique=True))


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    stmt["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = draw(one_or_list(POLICY_ACTIONS))
    stmt["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = draw(one_or_list(POLICY_RESOURCES))
    condition = draw(st.none() | st.sampled_from(CONDITIONS))
    if condition is not None:
        stmt["Condition"] = copy.deepcopy(condition)
    return stmt


def document(stmts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": stmts}


policy_sets = st.lists(st.lists(statements(), min_size=1, max_size=3), min_size=1, max_size=3)


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, list[ContextEntry], str | None]:
    action = draw(st.sampled_from(REQUEST_ACTIONS))
    resource = draw(st.sampled_from(REQUEST_RESOURCES))
    context: list[ContextEntry] = []
    ip = draw(st.none() | st.sampled_from(["10.1.2.3", "192.0.2.7", "198.51.100.1"]))
    if ip is not None:
        context.append(ContextEntry("aws:SourceIp", (ip,), "ip"))
    secure = draw(st.none() | st.sampled_from(["true", "false"]))
    if secure is not None:
        context.append(ContextEntry("aws:SecureTransport", (secure,), "boolean"))
    caller = draw(st.none() | st.sampled_from(["arn:aws:iam::111122223333:user/bob", "arn:aws:iam::111122223333:user/alice"]))
    return action, resource, context, caller


def decide(policies: list[list[dict[str, Any]]], request: tuple[str, str, list[ContextEntry], str | None]) -> str:
    action, resource, context, caller = request
    docs = [document(stmts) for stmts in policies if stmts]
    (decision,) = simulate(CustomSimulation(tuple(docs), (action,), (resource,), tuple(context), caller_arn=caller))
    return decision.decision.value


@settings(max_examples=150, deadline=None)
@given(policies=policy_sets, deny=statements(effect="Deny"), as_new_policy=st.booleans(), request=requests())
def test_adding_a_deny_never_grants(policies: list[list[dict[str, Any]]], deny: dict[str, Any], as_new_policy: bool, request: Any) -> None:
    before = decide(policies, request)
    grown = copy.deepcopy(policies)
    if as_new_policy:
        grown.append([deny])
    else:
        grown[0].append(deny)
    after = decide(grown, request)
    if before != "ALLOWED":
        assert after != "ALLOWED"
    if before == "EXPLICIT_DENY":
        assert after == "EXPLICIT_DENY"


@settings(max_examples=150, deadline=None)
@given(policies=policy_sets, extra=statements(effect="Allow"), data=st.data(), request=requests())
def test_removing_an_allow_never_grants(
    policies: list[list[dict[str, Any]]], extra: dict[str, Any], data: st.DataObject, request: Any
) -> None:
    # Make sure there is an Allow to remove and that some statement remains afterwards.
    policies = copy.deepcopy(policies)
    policies.append([extra, {"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}])
    before = decide(policies, request)
    allows = [(p, s) for p, stmts in enumerate(policies) for s, stmt in enumerate(stmts) if stmt["Effect"] == "Allow"]
    p, s = data.draw(st.sampled_from(allows))
    shrunk = copy.deepcopy(policies)
    del shrunk[p][s]
    after = decide(shrunk, request)
    if before != "ALLOWED":
        assert after != "ALLOWED"
    if before == "EXPLICIT_DENY":
        assert after == "EXPLICIT_DENY", "removing an Allow cannot remove an explicit deny"


@settings(max_examples=150, deadline=None)
@given(policies=policy_sets, data=st.data(), always=st.sampled_from(ALWAYS_TRUE), request=requests())
def test_always_true_condition_changes_nothing(
    policies: list[list[dict[str, Any]]], data: st.DataObject, always: dict[str, Any], request: Any
) -> None:
    before = decide(policies, request)
    p = data.draw(st.integers(0, len(policies) - 1))
    s = data.draw(st.integers(0, len(policies[p]) - 1))
    changed = copy.deepcopy(policies)
    stmt = changed[p][s]
    # AND the always-true clause into whatever condition the statement has (none, or others).
    condition = stmt.setdefault("Condition", {})
    for operator, block in copy.deepcopy(always).items():
        condition.setdefault(operator, {}).update(block)
    assert decide(changed, request) == before


@settings(max_examples=150, deadline=None)
@given(policies=policy_sets, data=st.data(), request=requests())
def test_statement_and_policy_order_do_not_matter(policies: list[list[dict[str, Any]]], data: st.DataObject, request: Any) -> None:
    before = decide(policies, request)
    shuffled = [data.draw(st.permutations(stmts)) for stmts in policies]
    shuffled = data.draw(st.permutations(shuffled))
    assert decide([list(s) for s in shuffled], request) == before
