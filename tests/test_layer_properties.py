"""Property-based tests of the policy layers that can only take permissions away.

SCPs, RCPs, permissions boundaries and role-session policies never grant: each one only sets a
ceiling (or denies outright), so adding one to any request can never turn a decision that was not
ALLOWED into ALLOWED, and can never lift an explicit deny.

- SCPs: "No permissions are granted by an SCP"; every level from the root to the account must allow
  (D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html ,
  https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html).
- RCPs: "No permissions are granted by an RCP"; customer RCPs hold only Deny statements
  (D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html).
- Boundaries: "it limits the user's permissions but does not provide permissions on its own"
  (D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
- Session policies of role sessions: "You cannot use session policies to grant more permissions than
  those allowed by the identity-based policy of the role that is being assumed"
  (D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
  Not for GetFederationToken sessions: one created without a session policy "has no permissions"
  (D: https://docs.aws.amazon.com/STS/latest/APIReference/API_GetFederationToken.html), so there
  adding a session policy can grant; the session property draws role sessions only.

The base request is random over every layer (identity, resource policy with any principal form,
boundary, session policy, SCP and RCP levels, same or cross account) before one layer is added.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from graphsim.engine import ContextEntry, CustomSimulation, simulate

A = "111122223333"
B = "444455556666"
ALICE = f"arn:aws:iam::{A}:user/alice"
ROLE = f"arn:aws:iam::{A}:role/AppRole"
SESSION = f"arn:aws:sts::{A}:assumed-role/AppRole/s1"
FEDERATED = f"arn:aws:sts::{A}:federated-user/bob"
CAROL = f"arn:aws:iam::{B}:user/carol"
KEY = f"arn:aws:kms:us-east-1:{A}:key/1234abcd-12ab-34cd-56ef-1234567890ab"

CALLERS = [ALICE, ROLE, SESSION, FEDERATED, CAROL]
SESSION_CALLERS = [SESSION]
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt"]
REQUEST_RESOURCES = {
    "s3:GetObject": ["arn:aws:s3:::bucket-a/k", "arn:aws:s3:::bucket-b/reports/x"],
    "s3:PutObject": ["arn:aws:s3:::bucket-a/k"],
    "s3:ListBucket": ["arn:aws:s3:::bucket-a"],
    "kms:Decrypt": [KEY],
}
POLICY_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:Get*", "s3:*", "kms:Decrypt", "kms:*", "ec2:*", "*"]
SERVICE_ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:*", "kms:*"]  # customer RCPs may not use "*" alone
POLICY_RESOURCES = ["*", "arn:aws:s3:::bucket-a", "arn:aws:s3:::bucket-a/*", "arn:aws:s3:::bucket-b/*", KEY]
PRINCIPALS: list[Any] = [
    "*",
    {"AWS": "*"},
    {"AWS": A},
    {"AWS": f"arn:aws:iam::{A}:root"},
    {"AWS": B},
    {"AWS": ALICE},
    {"AWS": ROLE},
    {"AWS": SESSION},
    {"AWS": FEDERATED},
    {"AWS": CAROL},
    {"AWS": [ALICE, ROLE]},
]
CONDITIONS: list[dict[str, Any]] = [
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"BoolIfExists": {"aws:SecureTransport": "false"}},
    {"StringEquals": {"aws:PrincipalAccount": A}},
    {"StringNotEquals": {"aws:PrincipalAccount": B}},
    {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-ourorg1234"}},
]


def one_or_list(items: list[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(items), st.lists(st.sampled_from(items), min_size=1, max_size=3, unique=True))


# Strategies are built once: building them inside a composite costs more than the engine does.
_EFFECT = st.sampled_from(["Allow", "Allow", "Allow", "Deny"])  # biased so that more requests are allowed
_SIXTH = st.integers(0, 5)
_FIFTH = st.integers(0, 4)
_ACTIONS = one_or_list(POLICY_ACTIONS)
_SERVICE_ACTIONS = one_or_list(SERVICE_ACTIONS)
_RESOURCES = one_or_list(POLICY_RESOURCES)
_PRINCIPAL = st.sampled_from(PRINCIPALS)
_NOT_PRINCIPAL = one_or_list([ALICE, ROLE, SESSION, f"arn:aws:iam::{A}:root"])
_CONDITION = st.sampled_from([None, None, *CONDITIONS])


@st.composite
def statements(draw: st.DrawFn, kind: str, effect: str | None = None) -> dict[str, Any]:
    """One statement valid for ``kind``: identity (also boundaries, session policies, SCPs), resource or rcp."""
    if kind == "rcp":
        effect = "Deny"
    stmt: dict[str, Any] = {"Effect": effect or draw(_EFFECT)}
    if kind == "resource":
        if stmt["Effect"] == "Deny" and draw(_FIFTH) == 0:
            stmt["NotPrincipal"] = {"AWS": draw(_NOT_PRINCIPAL)}
        else:
            stmt["Principal"] = copy.deepcopy(draw(_PRINCIPAL))
    elif kind == "rcp":
        stmt["Principal"] = "*"
    if kind == "rcp":
        stmt["Action"] = draw(_SERVICE_ACTIONS)
    else:
        stmt["NotAction" if draw(_SIXTH) == 0 else "Action"] = draw(_ACTIONS)
    stmt["NotResource" if draw(_SIXTH) == 0 else "Resource"] = draw(_RESOURCES)
    condition = draw(_CONDITION)
    if condition is not None:
        stmt["Condition"] = copy.deepcopy(condition)
    return stmt


def document(stmts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": stmts}


_DOCUMENTS = {kind: st.lists(statements(kind), min_size=1, max_size=3).map(document) for kind in ("identity", "resource", "rcp")}


def documents(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    return _DOCUMENTS[kind]


FULL_ACCESS = document([{"Effect": "Allow", "Action": "*", "Resource": "*"}])
# SCP levels: mostly FullAWSAccess beside the random documents, so that SCPs often let requests through.
scp_level = st.lists(st.one_of(st.just(FULL_ACCESS), documents("identity")), min_size=1, max_size=3)
rcp_level = st.lists(documents("rcp"), min_size=0, max_size=2)


_ACTION = st.sampled_from(ACTIONS)
_REQUEST_RESOURCE = {action: st.sampled_from(arns) for action, arns in REQUEST_RESOURCES.items()}
_CALLER = {tuple(CALLERS): st.sampled_from(CALLERS), tuple(SESSION_CALLERS): st.sampled_from(SESSION_CALLERS)}
_IDENTITY_POLICIES = st.lists(documents("identity"), min_size=0, max_size=3)
_MAYBE_RESOURCE_POLICY = st.none() | documents("resource")
_MAYBE_IDENTITY_DOC = st.none() | documents("identity")
_OWNER = st.sampled_from([None, A, B])
_SCPS = st.none() | st.lists(scp_level, min_size=1, max_size=3)
_RCPS = st.none() | st.lists(rcp_level, min_size=1, max_size=3)
_MANAGEMENT = st.sampled_from([None, None, A, B])
_IP = st.none() | st.sampled_from(["10.1.2.3", "198.51.100.1"])
_SECURE = st.none() | st.sampled_from(["true", "false"])
_ORG = st.none() | st.sampled_from(["o-ourorg1234", "o-otherorg999"])


@st.composite
def worlds(draw: st.DrawFn, callers: list[str] = CALLERS) -> dict[str, Any]:
    """A random request with every layer optional."""
    action = draw(_ACTION)
    caller = draw(_CALLER[tuple(callers)])
    world: dict[str, Any] = {
        "policies": draw(_IDENTITY_POLICIES),
        "action": action,
        "resource": draw(_REQUEST_RESOURCE[action]),
        "caller_arn": caller,
        "context": [],
        "resource_policy": draw(_MAYBE_RESOURCE_POLICY),
        "resource_owner": None if action == "kms:Decrypt" else draw(_OWNER),
        "permissions_boundary": draw(_MAYBE_IDENTITY_DOC),
        "session_policy": draw(_MAYBE_IDENTITY_DOC) if caller in (SESSION, FEDERATED) else None,
        "scps": draw(_SCPS),
        "rcps": draw(_RCPS),
        "management_account": draw(_MANAGEMENT),
    }
    ip = draw(_IP)
    if ip is not None:
        world["context"].append(ContextEntry("aws:SourceIp", (ip,), "ip"))
    secure = draw(_SECURE)
    if secure is not None:
        world["context"].append(ContextEntry("aws:SecureTransport", (secure,), "boolean"))
    org = draw(_ORG)
    if org is not None:
        world["context"].append(ContextEntry("aws:PrincipalOrgID", (org,), "string"))
    return world


def decide(world: dict[str, Any]) -> str:
    w = dict(world)
    boundary = w.pop("permissions_boundary")
    scps, rcps = (None if levels is None else tuple(tuple(level) for level in levels) for levels in (w.pop("scps"), w.pop("rcps")))
    request = CustomSimulation(
        policies=tuple(w.pop("policies")), actions=(w.pop("action"),), resources=(w.pop("resource"),), context=tuple(w.pop("context")),
        permissions_boundaries=() if boundary is None else (boundary,), scps=scps, rcps=rcps, **w,
    )
    (decision,) = simulate(request)
    return decision.decision.value


def assert_never_grants(before: str, after: str) -> None:
    if before != "ALLOWED":
        assert after != "ALLOWED", f"{before} became ALLOWED"
    if before == "EXPLICIT_DENY":
        assert after == "EXPLICIT_DENY", "a restricting layer cannot lift an explicit deny"


@settings(max_examples=100, deadline=None)
@given(world=worlds(), level=scp_level, data=st.data())
def test_adding_an_scp_level_never_grants(world: dict[str, Any], level: list[dict[str, Any]], data: st.DataObject) -> None:
    before = decide(world)
    grown = copy.deepcopy(world)
    levels = grown["scps"] or []
    levels.insert(data.draw(st.integers(0, len(levels))), level)
    grown["scps"] = levels
    assert_never_grants(before, decide(grown))


@settings(max_examples=100, deadline=None)
@given(world=worlds(), rcp=documents("rcp"), data=st.data())
def test_adding_an_rcp_never_grants(world: dict[str, Any], rcp: dict[str, Any], data: st.DataObject) -> None:
    before = decide(world)
    grown = copy.deepcopy(world)
    levels = grown["rcps"] or [[]]
    if data.draw(st.booleans()):
        levels[data.draw(st.integers(0, len(levels) - 1))].append(rcp)
    else:
        levels.insert(data.draw(st.integers(0, len(levels))), [rcp])
    grown["rcps"] = levels
    assert_never_grants(before, decide(grown))


@settings(max_examples=100, deadline=None)
@given(world=worlds(), boundary=documents("identity"))
def test_adding_a_boundary_never_grants(world: dict[str, Any], boundary: dict[str, Any]) -> None:
    world = dict(world, permissions_boundary=None)
    before = decide(world)
    assert_never_grants(before, decide(dict(world, permissions_boundary=boundary)))


@settings(max_examples=100, deadline=None)
@given(world=worlds(callers=SESSION_CALLERS), session=documents("identity"))
def test_adding_a_session_policy_to_a_role_session_never_grants(world: dict[str, Any], session: dict[str, Any]) -> None:
    world = dict(world, session_policy=None)
    before = decide(world)
    assert_never_grants(before, decide(dict(world, session_policy=session)))


@settings(max_examples=100, deadline=None)
@given(world=worlds(), deny=statements("identity", effect="Deny"), layer=st.sampled_from(["boundary", "session", "scp"]))
def test_a_deny_added_to_a_restricting_layer_never_grants(world: dict[str, Any], deny: dict[str, Any], layer: str) -> None:
    """A Deny statement added beside whatever a boundary, session policy or SCP level already holds."""
    before = decide(world)
    grown = copy.deepcopy(world)
    if layer == "boundary" and grown["permissions_boundary"] is not None:
        grown["permissions_boundary"]["Statement"].append(deny)
    elif layer == "session" and grown["session_policy"] is not None:
        grown["session_policy"]["Statement"].append(deny)
    elif layer == "scp" and grown["scps"]:
        grown["scps"][0].append(document([deny]))
    assert_never_grants(before, decide(grown))
