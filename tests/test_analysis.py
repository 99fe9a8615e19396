"""Access-review analysis (graphsim.analysis): exact answers on the demo world and on a review
world built here, each derived from AWS's documented evaluation rules, and cross-checks of
every shortcut against the engine itself.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
   ("an explicit deny in any policy overrides any allow"; default implicit deny)
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps_evaluation.html
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from graphsim.analysis import (
    ABSENT,
    RULES,
    access_diff,
    access_matrix,
    denial_fix,
    escalation_paths,
    findings,
    is_admin_equivalent,
    what_can,
    who_can,
)
from graphsim.analysis.fastpath import FastDecider
from graphsim.engine import ContextEntry, Engine
from graphsim.errors import InvalidRequestError, UnknownActionError
from graphsim.presentation import to_json
from graphsim.world import NodeKind, World
from graphsim.world.io import load_demo_world, world_from_dict, world_to_dict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from synthetic import ACCOUNT as SYN_ACCOUNT  # noqa: E402
from synthetic import synthetic_world  # noqa: E402

ACCT = "111122223333"
MGMT = "999988887777"
EXT = "444455556666"
CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
REPORTS = "arn:aws:s3:::final-friday-reports"


def arn(kind: str, name: str) -> str:
    return f"arn:aws:iam::{ACCT}:{kind}/{name}"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(load_demo_world())


def review_world() -> World:
    """An organization (SCPs: FullAWSAccess at every level, a Deny of iam:CreateUser on the OU),
    a user with a permissions boundary, a group of two readers, a bucket policy naming another
    account, a service, a user of the world and "*", and users set up for each escalation move."""
    w = World("review")
    w.add_account(ACCT)
    w.add_account(MGMT)
    w.add_managed_policy("AdministratorAccess", doc(allow("*", "*")), account="aws")
    w.add_managed_policy("ReadShared", doc(allow("s3:GetObject", "arn:aws:s3:::shared-data/*")))
    w.add_managed_policy("S3ReadBoundary", doc(allow(["s3:GetObject", "s3:ListBucket"], "arn:aws:s3:::shared-data*")))
    w.add_managed_policy("Orphan", doc(allow("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:{ACCT}:q")))
    w.add_group("Readers")
    w.attach_policy(NodeKind.GROUP, "Readers", "ReadShared")
    w.add_group("Admins")
    w.attach_policy(NodeKind.GROUP, "Admins", "AdministratorAccess")
    for name in ("alice", "bob", "carol", "dave", "ops-admin", "mallory", "eve", "pat", "lou", "gus"):
        w.add_user(name)
    w.put_inline_policy(NodeKind.USER, "alice", "S3All", doc(allow("s3:*", "*")))
    w.set_boundary(NodeKind.USER, "alice", "S3ReadBoundary")
    w.add_member("bob", "Readers")
    w.add_member("carol", "Readers")
    w.add_member("ops-admin", "Admins")
    w.put_inline_policy(NodeKind.USER, "mallory", "SelfService", doc(allow("iam:AttachUserPolicy", arn("user", "mallory"))))
    w.put_inline_policy(NodeKind.USER, "eve", "KeyMaker", doc(allow("iam:CreateAccessKey", arn("user", "ops-admin"))))
    w.put_inline_policy(NodeKind.USER, "pat", "AssumeDeployer", doc(allow("sts:AssumeRole", arn("role", "Deployer"))))
    w.put_inline_policy(NodeKind.USER, "lou", "Builder", doc(
        allow("iam:PassRole", arn("role", "LambdaAdmin")), allow(["lambda:CreateFunction", "lambda:InvokeFunction"], "*"),
    ))
    w.put_inline_policy(NodeKind.USER, "gus", "Joiner", doc(allow("iam:AddUserToGroup", arn("group", "Admins"))))
    w.add_role("Deployer", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"}, "Action": "sts:AssumeRole"}))
    w.put_inline_policy(NodeKind.ROLE, "Deployer", "SelfEdit", doc(allow("iam:PutRolePolicy", arn("role", "Deployer"))))
    w.add_role("LambdaAdmin", doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}))
    w.attach_policy(NodeKind.ROLE, "LambdaAdmin", "AdministratorAccess")
    w.add_resource("arn:aws:s3:::shared-data", resource_type="s3:bucket")
    w.add_resource("arn:aws:s3:::shared-data/report.csv", resource_type="s3:object")
    w.add_resource("arn:aws:s3:::shared-data/public/a.txt", resource_type="s3:object")
    w.put_resource_policy("arn:aws:s3:::shared-data", doc(
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXT}:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-data/*"},
        {"Sid": "Trail", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::shared-data/AWSLogs/*", "Condition": {"StringEquals": {"aws:SourceAccount": ACCT}}},
        {"Sid": "Dave", "Effect": "Allow", "Principal": {"AWS": arn("user", "dave")}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-data/*"},
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-data/public/*"},
    ))
    w.create_organization(MGMT, root_id="r-ff01")
    w.add_ou("Workloads", "r-ff01")
    w.place_account(ACCT, "Workloads")
    w.add_org_policy("FullAWSAccess", "scp", doc(allow("*", "*")))
    w.add_org_policy("NoNewUsers", "scp", doc({"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}))
    for target in ("r-ff01", "Workloads", ACCT):
        w.attach_org_policy("FullAWSAccess", target)
    w.attach_org_policy("NoNewUsers", "Workloads")
    return w


@pytest.fixture(scope="module")
def review() -> Engine:
    return Engine(review_world())


def principals_of(engine: Engine) -> list[str]:
    return sorted(k for kind in (NodeKind.USER, NodeKind.ROLE) for k, _ in engine.world.nodes_of(kind))


def camel_keys(value: Any) -> None:
    """Every dict key of a to_json() result is camelCase (no underscores)."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert "_" not in key, key
            camel_keys(item)
    elif isinstance(value, list):
        for item in value:
            camel_keys(item)


# ---- who_can -------------------------------------------------------------------------------------


def test_who_can_read_classified_on_the_demo_world(demo: Engine) -> None:
    entries = who_can(demo, ["s3:GetObject"], CLASSIFIED)
    assert [(e.label, e.access) for e in entries] == [
        ("user/steve", "direct"),  # AdministratorAccess: Allow * on *
        ("role/ClassifiedReader", "direct"),  # its inline ReadClassified
        ("user/priya", "via-roles"),  # denied directly, allowed as ClassifiedReader
    ]
    steve, reader, priya = entries
    assert steve.paths == ("user/steve -> group/Administrators -> policy/AdministratorAccess -> Statement[0]",)
    assert reader.paths == ("role/ClassifiedReader -> inline-policy/ClassifiedReader/ReadClassified -> Statement[1] (Sid ReadClassified)",)
    # priya is in Administrators and DevOps: the DevOps Deny beats AdministratorAccess, since
    # "an explicit deny in any policy overrides any allow" (evaluation-logic page above).
    assert priya.decision is not None and priya.decision.decision.value == "EXPLICIT_DENY"
    assert [m.path_text for m in priya.decision.matched_statements] == [
        "user/priya -> group/DevOps -> policy/DevOpsDeploy -> Statement[1] (Sid NeverClassified)"
    ]
    assert priya.via_roles == (arn("role", "ClassifiedReader"),)
    # Her route: AdministratorAccess allows sts:AssumeRole, the trust policy names the account,
    # and the role session reads the bucket (a role session has only the role's policies).
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use.html
    assert priya.paths == (
        "user/priya -> group/Administrators -> policy/AdministratorAccess -> Statement[0]",
        "role/ClassifiedReader -> trust-policy/ClassifiedReader -> Statement[0] (Sid TrustTheAccount)",
        "role/ClassifiedReader -> inline-policy/ClassifiedReader/ReadClassified -> Statement[1] (Sid ReadClassified)",
    )
    camel_keys([to_json(e) for e in entries])


def _brute_force(engine: Engine, action: str, resource: str) -> tuple[set[str], set[str]]:
    direct, via = set(), set()
    for p in principals_of(engine):
        d = engine.can(p, action, resource, via_roles=True)
        if d.allowed:
            direct.add(p)
        elif d.via_role is not None:
            via.add(p)
    return direct, via


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", CLASSIFIED),
        ("s3:GetObject", f"{REPORTS}/q4.pdf"),
        ("s3:PutObject", f"{REPORTS}/hr/x.csv"),
        ("s3:ListBucket", REPORTS),
        ("s3:ListAllMyBuckets", "*"),
        ("logs:GetLogEvents", f"arn:aws:logs:eu-west-2:{ACCT}:log-group:/omar/app:log-stream:s"),
        ("sts:AssumeRole", arn("role", "ClassifiedReader")),
        ("iam:CreateUser", arn("user", "x")),
    ],
)
def test_who_can_matches_asking_every_principal(demo: Engine, action: str, resource: str) -> None:
    direct, via = _brute_force(demo, action, resource)
    entries = who_can(demo, [action], resource)
    assert {e.principal for e in entries if e.access == "direct"} == direct
    assert {e.principal for e in entries if e.access == "via-roles"} == via


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("s3:GetObject", "arn:aws:s3:::shared-data/report.csv"),
        ("s3:GetObject", "arn:aws:s3:::shared-data/public/a.txt"),
        ("s3:ListBucket", "arn:aws:s3:::shared-data"),
        ("s3:PutObject", f"arn:aws:s3:::shared-data/AWSLogs/{ACCT}/x"),
        ("iam:CreateUser", arn("user", "x")),
        ("iam:PutRolePolicy", arn("role", "Deployer")),
        ("sts:AssumeRole", arn("role", "Deployer")),
    ],
)
def test_who_can_matches_asking_every_principal_across_layers(review: Engine, action: str, resource: str) -> None:
    direct, via = _brute_force(review, action, resource)
    entries = who_can(review, [action], resource)
    assert {e.principal for e in entries if e.access == "direct"} == direct
    assert {e.principal for e in entries if e.access == "via-roles"} == via


def test_who_can_reports_outside_principals_of_a_bucket_policy(review: Engine) -> None:
    entries = who_can(review, ["s3:GetObject"], "arn:aws:s3:::shared-data/report.csv")
    # alice: s3:* capped by a boundary that allows GetObject on shared-data*; bob and carol: their
    # group; dave: the bucket policy names his user ARN, which needs no identity grant in the
    # same account; ops-admin and LambdaAdmin: AdministratorAccess (the SCPs allow * at every level).
    assert [(e.label, e.access) for e in entries] == [
        ("user/alice", "direct"), ("user/bob", "direct"), ("user/carol", "direct"), ("user/dave", "direct"),
        ("user/ops-admin", "direct"), ("role/LambdaAdmin", "direct"),
        (f"account/arn:aws:iam::{EXT}:root", "resource-policy"),
    ]
    partner = entries[-1]
    assert partner.kind == "account" and partner.decision is None and not partner.conditional
    assert partner.paths == ("resource/shared-data/report.csv -> resource/shared-data -> resource-policy/shared-data -> Statement[0] (Sid Partner)",)

    public = who_can(review, ["s3:GetObject"], "arn:aws:s3:::shared-data/public/a.txt")
    assert [(e.kind, e.principal) for e in public if e.access == "resource-policy"] == [("account", f"arn:aws:iam::{EXT}:root"), ("anyone", "*")]
    # With Principal "*", every principal of the account is allowed by the bucket policy alone.
    assert {e.principal for e in public if e.access == "direct"} == set(principals_of(review))

    logs = who_can(review, ["s3:PutObject"], f"arn:aws:s3:::shared-data/AWSLogs/{ACCT}/x")
    trail = [e for e in logs if e.access == "resource-policy"]
    assert [(e.kind, e.principal, e.conditional, e.missing_context) for e in trail] == [
        ("service", "cloudtrail.amazonaws.com", True, ("aws:SourceAccount",))
    ]
    # The same request with the key the service sends: no longer conditional.
    ctx = [ContextEntry("aws:SourceAccount", (ACCT,))]
    trail = [e for e in who_can(review, ["s3:PutObject"], f"arn:aws:s3:::shared-data/AWSLogs/{ACCT}/x", ctx) if e.access == "resource-policy"]
    assert [(e.principal, e.conditional) for e in trail] == [("cloudtrail.amazonaws.com", False)]


def test_who_can_several_actions_and_bad_input(demo: Engine) -> None:
    entries = who_can(demo, ["s3:ListBucket", "s3:GetObject"], f"{REPORTS}/q4.pdf")
    assert [e.action for e in entries] == sorted((e.action for e in entries), key=["s3:ListBucket", "s3:GetObject"].index)
    with pytest.raises(UnknownActionError):
        who_can(demo, ["s3:GetObjekt"], REPORTS)
    with pytest.raises(InvalidRequestError):
        who_can(demo, ["s3:GetObject"], "arn:aws::s3:*")


def test_fast_decider_gives_the_engines_decisions() -> None:
    """The who_can fast path gathers only the policies that speak to the action; its Decision
    must be the engine's, field for field."""
    for world in (load_demo_world(), review_world()):
        engine, reference = Engine(world), Engine(world)
        fast = FastDecider(engine)
        resources = [k for k, _ in world.nodes_of(NodeKind.RESOURCE)] + ["*", arn("role", "Deployer"), arn("user", "x")]
        for p in principals_of(engine):
            for action in ("s3:GetObject", "s3:ListBucket", "s3:PutObject", "sts:AssumeRole", "iam:CreateUser", "iam:PassRole"):
                for resource in resources:
                    assert to_json(fast.evaluate(p, action, resource)) == to_json(reference.evaluate(p, action, resource))
    world = world_from_dict(synthetic_world(users=40, groups=10, policies=60, seed=3))
    engine, reference = Engine(world), Engine(world)
    fast = FastDecider(engine)
    ctx = (ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip"),)
    for p in principals_of(engine):
        for action, resource in (("s3:GetObject", "arn:aws:s3:::alpha-data-1/x"), ("ec2:StopInstances", f"arn:aws:ec2:eu-west-1:{SYN_ACCOUNT}:instance/i-1")):
            assert to_json(fast.evaluate(p, action, resource, ctx)) == to_json(reference.evaluate(p, action, resource, ctx))


def variables_world() -> World:
    """Principals that differ only in the keys AWS derives from them: a condition on
    ``s3:prefix`` holding ``${aws:username}`` with a default, a resource holding
    ``${aws:PrincipalTag/team}``, a tag condition, one user holding a policy both directly and
    through a group (the engine lists it twice), and two users with the same boundary."""
    w = World("variables")
    w.add_account(ACCT)
    w.add_managed_policy("Home", doc(
        allow("s3:ListBucket", "arn:aws:s3:::home", Condition={"StringLike": {"s3:prefix": "${aws:username, 'nobody'}/*"}}),
        allow("s3:GetObject", "arn:aws:s3:::team-${aws:PrincipalTag/team}/*"),
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}},
    ))
    w.add_managed_policy("Reports", doc(allow(["s3:GetObject", "s3:ListBucket"], "*", Condition={"Bool": {"aws:SecureTransport": "true"}})))
    w.add_group("Staff")
    w.attach_policy(NodeKind.GROUP, "Staff", "Home")
    w.add_group("Readers")
    w.attach_policy(NodeKind.GROUP, "Readers", "Reports")
    for name, team, groups in (("ann", "blue", ["Staff"]), ("ben", "blue", ["Staff", "Readers"]), ("cat", "red", ["Staff"]),
                               ("dan", "blue", ["Readers", "Staff"]), ("eli", None, ["Staff"]), ("fay", "blue", []), ("ivy", "blue", ["Staff"])):
        w.add_user(name, tags={"team": team} if team else None)
        for g in groups:
            w.add_member(name, g)
    w.attach_policy(NodeKind.USER, "ann", "Home")  # ann holds Home twice
    w.attach_policy(NodeKind.USER, "fay", "Reports")
    w.add_managed_policy("Cap", doc(allow("s3:*", "*")))
    for name in ("gil", "hal"):  # the same boundary: their matched boundary statements start from each
        w.add_user(name, tags={"team": "blue"})
        w.add_member(name, "Readers")
        w.set_boundary(NodeKind.USER, name, "Cap")
    return w


def test_decide_many_gives_the_engines_decisions() -> None:
    """Principals decided once per group get what the engine says of each, field for field:
    names, labels, paths (along each one's own groups), policy counts and missing keys, where
    conditions and resources read aws:username, principal tags and policy variables."""
    synthetic = world_from_dict(synthetic_world(users=60, groups=12, policies=80, seed=11))
    tls = ContextEntry("aws:SecureTransport", ("true",), "boolean")
    cases: list[tuple[World, list[str], list[str], list[list[ContextEntry]]]] = [
        (load_demo_world(), ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "sts:AssumeRole", "iam:CreateUser"],
         [CLASSIFIED, f"{REPORTS}/q4.pdf", REPORTS, "*", arn("role", "ClassifiedReader")], [[]]),
        (review_world(), ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "iam:CreateUser", "sts:AssumeRole"],
         ["arn:aws:s3:::shared-data/report.csv", "arn:aws:s3:::shared-data/public/a.txt", f"arn:aws:s3:::shared-data/AWSLogs/{ACCT}/x",
          arn("role", "Deployer"), arn("user", "x")], [[]]),
        (variables_world(), ["s3:GetObject", "s3:ListBucket"], ["arn:aws:s3:::home", "arn:aws:s3:::team-blue/x", "arn:aws:s3:::team-red/x"],
         [[], [ContextEntry("s3:prefix", ("ann/x",))], [ContextEntry("s3:prefix", ("ben/x",)), tls], [ContextEntry("aws:username", ("ann",))]]),
        (synthetic, ["s3:GetObject", "s3:ListBucket", "ec2:StopInstances", "dynamodb:GetItem", "logs:GetLogEvents"],
         ["arn:aws:s3:::alpha-data-1/home/user-0003/x", "arn:aws:s3:::bravo-data-2", f"arn:aws:ec2:eu-west-1:{SYN_ACCOUNT}:instance/i-1",
          f"arn:aws:dynamodb:eu-west-1:{SYN_ACCOUNT}:table/alpha-3", f"arn:aws:logs:eu-west-1:{SYN_ACCOUNT}:log-group:/delta/a:log-stream:s"],
         [[], [ContextEntry("s3:prefix", ("home/user-0003/",)), ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip"), tls]]),
    ]
    for world, actions, resources, contexts in cases:
        engine, reference = Engine(world), Engine(world)
        principals = principals_of(engine)
        decider = FastDecider(engine)
        shared = 0
        for action in actions:
            for resource in resources:
                for ctx in contexts:
                    got = decider.decide_many(principals, action, resource, tuple(ctx))
                    allowed = decider.decide_many(principals, action, resource, tuple(ctx), allowed_only=True)
                    assert set(got) == set(principals)
                    expected = {p: to_json(reference.evaluate(p, action, resource, ctx)) for p in principals}
                    assert {p: to_json(d) for p, d in got.items()} == expected, (world.name, action, resource, ctx)
                    assert set(allowed) == {p for p in principals if expected[p]["decision"] == "ALLOWED"}
                    assert {p: to_json(d) for p, d in allowed.items()} == {p: expected[p] for p in allowed}
                    shared += len({to_json(d)["decision"] for d in got.values()}) < len(principals)
        assert shared  # some principals were decided together


def test_who_can_sees_changes_to_the_world() -> None:
    world = load_demo_world()
    engine = Engine(world)
    assert "user/dana" in {e.label for e in who_can(engine, ["s3:GetObject"], f"{REPORTS}/q4.pdf")}
    world.remove_member("dana", "HR")
    assert "user/dana" not in {e.label for e in who_can(engine, ["s3:GetObject"], f"{REPORTS}/q4.pdf")}


def test_an_engine_nobody_holds_is_freed_and_the_one_in_use_still_sees_changes() -> None:
    import gc
    import weakref

    world = load_demo_world()
    kept, dropped = Engine(world), Engine(world)
    assert kept.can("dana", "s3:GetObject", f"{REPORTS}/q4.pdf").allowed
    dropped.can("dana", "s3:GetObject", f"{REPORTS}/q4.pdf")
    ref = weakref.ref(dropped)
    del dropped
    gc.collect()
    assert ref() is None  # the world's change listener does not keep it (and its caches) alive
    world.remove_member("dana", "HR")
    assert not kept.can("dana", "s3:GetObject", f"{REPORTS}/q4.pdf").allowed


# ---- what_can ------------------------------------------------------------------------------------


def test_what_can_newbie_is_exactly_the_reports_policy(demo: Engine) -> None:
    perms = what_can(demo, "newbie")
    assert perms.by_resource() == {
        "*": ["s3:ListAllMyBuckets"],
        REPORTS: ["s3:ListBucket"],
        f"{REPORTS}/*": ["s3:GetObject"],
    }
    assert perms.as_policy() == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": REPORTS},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{REPORTS}/*"},
        ],
    }
    assert not any(g.conditional for g in perms.grants)
    camel_keys(to_json(perms))


def test_what_can_marks_conditional_grants_and_partial_denies(demo: Engine) -> None:
    dana = what_can(demo, "dana", service="s3")
    hr = {g.key: g for g in dana.grants}[f"{REPORTS}/hr/*"]
    # PublishReports holds only from 10.0.0.0/8 (aws:SourceIp): kept, marked conditional.
    assert hr.actions == ("s3:PutObject",) and hr.conditional_actions == ("s3:PutObject",)
    assert f"{REPORTS}/hr/*" not in {s.get("Resource") for s in dana.as_policy()["Statement"]}
    assert f"{REPORTS}/hr/*" in {s.get("Resource") for s in dana.as_policy(include_conditional=True)["Statement"]}

    priya = what_can(demo, "priya", service="s3", resource_prefix="arn:aws:s3:::final-friday-classified")
    # AdministratorAccess grants s3:* on "*"; the DevOps Deny covers only part of "*", so the
    # grant stays, with the Deny listed.
    (grant,) = priya.grants
    assert grant.resource == "*" and "s3:GetObject" in grant.actions
    assert grant.partially_denied_by == ("user/priya -> group/DevOps -> policy/DevOpsDeploy -> Statement[1] (Sid NeverClassified)",)


def test_what_can_applies_boundaries_denies_and_not_action() -> None:
    world = review_world()
    world.put_inline_policy(NodeKind.USER, "bob", "NoDelete", doc(
        allow("s3:*", "*"),
        {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"},
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "arn:aws:sqs:*:*:*"},
    ))
    engine = Engine(world)
    # alice: s3:* on "*" through a boundary allowing GetObject and ListBucket on shared-data*:
    # the effective permissions are the intersection.
    assert what_can(engine, "alice").by_resource() == {"arn:aws:s3:::shared-data*": ["s3:GetObject", "s3:ListBucket"]}
    bob = what_can(engine, "bob", service="s3").by_resource()
    # The Deny of s3:Delete* on "*" removes those actions outright.
    assert "s3:GetObject" in bob["*"] and not any(a.startswith("s3:Delete") for a in bob["*"])
    # NotAction s3:* grants every other action; of s3, none.
    assert "arn:aws:sqs:*:*:*" not in bob
    sqs = what_can(engine, "bob", service="sqs").by_resource()
    assert "sqs:SendMessage" in sqs["arn:aws:sqs:*:*:*"]


# ---- the matrix ----------------------------------------------------------------------------------


DEMO_ACTIONS = ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:ListAllMyBuckets", "s3:DeleteBucket", "iam:CreateUser",
                "sts:AssumeRole", "ec2:RunInstances", "logs:GetLogEvents", "s3:GetObjectAcl"]


def _check_cells(engine: Engine, principals: list[str], actions: list[str], resources: list[str], context: list[ContextEntry] | None = None) -> None:
    matrix = access_matrix(engine, principals, actions, resources, context or ())
    reference = Engine(engine.world)
    cells = 0
    for p, a, r, d in matrix.rows():
        assert reference.can(p, a, r, context or ()).decision.value == d, (p, a, r)
        cells += 1
    assert cells == len(principals) * len(actions) * len(resources)


def test_matrix_matches_the_engine_cell_by_cell_on_the_demo_world(demo: Engine) -> None:
    world = demo.world
    resources = [k for k, _ in world.nodes_of(NodeKind.RESOURCE)] + ["*", arn("role", "ClassifiedReader"),
                                                                     f"arn:aws:logs:eu-west-2:{ACCT}:log-group:/omar/app:log-stream:s"]
    # An assumed-role session counts as its own principal, named by its session ARN.
    principals = [*principals_of(demo), f"arn:aws:sts::{ACCT}:assumed-role/ClassifiedReader/audit"]
    _check_cells(demo, principals, DEMO_ACTIONS, resources)
    _check_cells(demo, principals, DEMO_ACTIONS, resources, [ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip")])
    matrix = access_matrix(demo, principals, ["s3:GetObject"], [CLASSIFIED])
    assert matrix.principals[-1] == f"arn:aws:sts::{ACCT}:assumed-role/ClassifiedReader/audit"
    assert matrix.decision(matrix.principals[-1], "s3:GetObject", CLASSIFIED) == "ALLOWED"


def test_matrix_matches_the_engine_across_layers(review: Engine) -> None:
    resources = [k for k, _ in review.world.nodes_of(NodeKind.RESOURCE)] + [
        "*", f"arn:aws:s3:::shared-data/AWSLogs/{ACCT}/x", arn("role", "Deployer"), arn("role", "LambdaAdmin"), arn("user", "x"),
    ]
    actions = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "iam:CreateUser", "iam:PutRolePolicy",
               "sts:AssumeRole", "iam:PassRole", "lambda:CreateFunction"]
    _check_cells(review, principals_of(review), actions, resources)


def test_matrix_matches_the_engine_with_principal_dependent_conditions() -> None:
    # The synthetic organization's statements read aws:PrincipalTag/team and ${aws:username}: a
    # principal group must split on them.
    world = world_from_dict(synthetic_world(users=60, groups=12, policies=80, seed=11))
    engine = Engine(world)
    rng = random.Random(2)
    resources = ["*"] + [f"arn:aws:s3:::{t}-data-{rng.randint(0, 9)}/home/user-000{rng.randint(0, 9)}/x" for t in ("alpha", "bravo", "charlie")] + [
        f"arn:aws:ec2:eu-west-1:{SYN_ACCOUNT}:instance/i-1", f"arn:aws:dynamodb:eu-west-1:{SYN_ACCOUNT}:table/alpha-3",
        f"arn:aws:kms:eu-west-1:{SYN_ACCOUNT}:key/1", f"arn:aws:logs:eu-west-1:{SYN_ACCOUNT}:log-group:/delta/a:log-stream:s",
    ]
    actions = ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "ec2:StopInstances", "ec2:DescribeInstances", "dynamodb:GetItem",
               "dynamodb:Scan", "kms:Decrypt", "logs:GetLogEvents", "lambda:InvokeFunction"]
    principals = principals_of(engine)
    ctx = [ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip"), ContextEntry("aws:SecureTransport", ("true",), "boolean"),
           ContextEntry("s3:prefix", ("home/user-0003/",))]
    _check_cells(engine, principals, actions, resources, ctx)
    matrix = access_matrix(engine, principals, actions, resources, ctx)
    assert matrix.principal_groups <= len(principals)
    assert matrix.evaluations < len(principals) * len(actions) * len(resources)


def test_matrix_matches_the_engine_with_policy_variables() -> None:
    # ann and ivy hold the same policies; with s3:prefix "ann/x" the condition
    # "${aws:username, 'nobody'}/*" holds for ann only (a default does not stop the variable's
    # value from counting), and the tag in a Resource sets blue apart from red.
    engine = Engine(variables_world())
    actions = ["s3:ListBucket", "s3:GetObject"]
    resources = ["arn:aws:s3:::home", "arn:aws:s3:::team-blue/x", "arn:aws:s3:::team-red/x"]
    for ctx in ([], [ContextEntry("s3:prefix", ("ann/x",))], [ContextEntry("s3:prefix", ("ben/x",)), ContextEntry("aws:SecureTransport", ("true",), "boolean")]):
        _check_cells(engine, principals_of(engine), actions, resources, ctx)
    matrix = access_matrix(engine, ["ann", "ivy"], ["s3:ListBucket"], ["arn:aws:s3:::home"], [ContextEntry("s3:prefix", ("ann/x",))])
    assert [d for *_, d in matrix.rows()] == ["ALLOWED", "IMPLICIT_DENY"]


def test_matrix_groups_identical_principals_and_writes_csv(demo: Engine) -> None:
    calls: list[tuple[int, int]] = []
    principals = ["dana", "harriet", "newbie"]
    actions = ["s3:GetObject", "s3:ListBucket"]
    resources = [f"{REPORTS}/q4.pdf", REPORTS]
    matrix = access_matrix(demo, principals, actions, resources, progress=lambda done, total: calls.append((done, total)))
    assert matrix.principal_groups == 2  # dana and harriet hold exactly the HR group's policy
    assert calls[-1] == (12, 12) and len(calls) == 2
    assert matrix.decision(arn("user", "dana"), "s3:GetObject", f"{REPORTS}/q4.pdf") == "ALLOWED"
    assert matrix.decision(arn("user", "newbie"), "s3:ListBucket", f"{REPORTS}/q4.pdf") == "IMPLICIT_DENY"
    out = io.StringIO()
    matrix.to_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["principal", "action", "resource", "decision"]
    assert rows[1:] == [list(r) for r in matrix.rows()]
    data = to_json(matrix)
    camel_keys(data)
    assert data["decisions"][0][0] == ["ALLOWED", "ALLOWED"]  # dana: GetObject on the object and (ReadReports lists it) the bucket
    assert json.loads(json.dumps(data)) == data


# ---- denial_fix ----------------------------------------------------------------------------------


def _walkthrough_v1() -> Engine:
    """The walkthrough before the fix: FinalFridayReportsReadOnly v1 forgot s3:ListAllMyBuckets."""
    data = world_to_dict(load_demo_world())
    for policy in data["policies"]:
        if policy["name"] == "FinalFridayReportsReadOnly":
            policy["defaultVersionId"] = "v1"
    return Engine(world_from_dict(data))


def test_denial_fix_for_the_walkthrough() -> None:
    engine = _walkthrough_v1()
    fix = denial_fix(engine.can("newbie", "s3:ListAllMyBuckets", "*"))
    assert fix.needed and fix.blocked_by == "identity"
    assert fix.statement == {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    # ListAllMyBuckets acts on no resource type: the statement says "*" whatever was asked.
    # D: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
    fix = denial_fix(engine.can("newbie", "s3:ListAllMyBuckets", REPORTS))
    assert fix.statement == {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    fix = denial_fix(engine.can("newbie", "s3:GetObject", CLASSIFIED))
    assert fix.statement == {"Effect": "Allow", "Action": "s3:GetObject", "Resource": CLASSIFIED}
    camel_keys(to_json(fix))
    # After the fix (v2, the demo world's default) nothing is needed.
    assert not denial_fix(Engine(load_demo_world()).can("newbie", "s3:ListAllMyBuckets", "*")).needed


def test_denial_fix_names_the_blocking_layer(demo: Engine, review: Engine) -> None:
    fix = denial_fix(demo.can("priya", "s3:GetObject", CLASSIFIED))
    assert fix.decision == "EXPLICIT_DENY" and fix.statement is None
    assert [d.path for d in fix.denied_by] == ["user/priya -> group/DevOps -> policy/DevOpsDeploy -> Statement[1] (Sid NeverClassified)"]
    # alice's s3:* is capped by her boundary. D: access_policies_boundaries.html (above)
    fix = denial_fix(review.can("alice", "s3:PutObject", "arn:aws:s3:::shared-data/x"))
    assert fix.blocked_by == "boundary" and fix.statement == {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::shared-data/x"}
    # An SCP Deny of iam:CreateUser on the OU: an explicit deny in the scp layer.
    fix = denial_fix(review.can("ops-admin", "iam:CreateUser", arn("user", "x")))
    assert fix.decision == "EXPLICIT_DENY" and fix.blocked_by == "scp"
    assert [d.layer for d in fix.denied_by] == ["scp"]
    # LambdaAdmin's trust policy names only the Lambda service: ops-admin's AdministratorAccess
    # is not enough, the trust policy must name it.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_update-role-trust-policy.html
    fix = denial_fix(review.can("ops-admin", "sts:AssumeRole", arn("role", "LambdaAdmin")))
    assert fix.blocked_by == "resource"
    assert fix.statement == {"Effect": "Allow", "Principal": {"AWS": arn("user", "ops-admin")}, "Action": "sts:AssumeRole"}
    # A conditioned grant: the fix also names the context key that would satisfy it.
    fix = denial_fix(demo.can("dana", "s3:PutObject", f"{REPORTS}/hr/x.csv"))
    assert fix.missing_context == ("aws:SourceIp",)


# ---- escalation ----------------------------------------------------------------------------------


def test_escalation_admin_versus_newbie(demo: Engine) -> None:
    assert is_admin_equivalent(demo, "steve") and is_admin_equivalent(demo, "priya")
    assert not is_admin_equivalent(demo, "newbie") and not is_admin_equivalent(demo, "ClassifiedReader")
    (steve,) = escalation_paths(demo, "steve")
    assert steve.already_admin and steve.steps == ()
    assert escalation_paths(demo, "newbie") == []
    assert escalation_paths(demo, "omar") == []  # DevOps may run code, but may not pass a role


def test_escalation_moves(review: Engine) -> None:
    def summary(principal: str) -> list[tuple[str, list[tuple[str, str]]]]:
        return [(p.target, [(s.technique, s.target) for s in p.steps]) for p in escalation_paths(review, principal)]

    # The SCP Deny of iam:CreateUser does not stop ops-admin from being admin-equivalent.
    assert is_admin_equivalent(review, "ops-admin") and is_admin_equivalent(review, "LambdaAdmin")
    assert summary("mallory") == [(arn("user", "mallory"), [("attach-user-policy", arn("user", "mallory"))])]
    assert summary("eve") == [(arn("user", "ops-admin"), [("create-access-key", arn("user", "ops-admin"))])]
    assert summary("pat") == [(arn("role", "Deployer"), [("assume-role", arn("role", "Deployer")), ("put-role-policy", arn("role", "Deployer"))])]
    assert summary("lou") == [(arn("role", "LambdaAdmin"), [("pass-role", arn("role", "LambdaAdmin"))])]
    assert summary("gus") == [(arn("user", "gus"), [("add-user-to-group", arn("user", "gus"))])]
    # alice may write s3 only; her boundary would cap any grant anyway.
    assert summary("alice") == [] and summary("bob") == []
    (path,) = escalation_paths(review, "lou")
    (step,) = path.steps
    assert step.actions == ("iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction")
    assert all(d.allowed for d in step.decisions)
    assert "user/lou may pass role/LambdaAdmin" in path.explain()
    camel_keys(to_json(path))


def test_self_grant_capped_by_a_boundary_is_no_escalation() -> None:
    world = review_world()
    world.add_managed_policy("OnlyIam", doc(allow("iam:*", "*")))
    world.set_boundary(NodeKind.USER, "mallory", "OnlyIam")
    # AttachUserPolicy is still allowed, but with the boundary any grant stays within iam:*:
    # not "*" on "*". D: access_policies_boundaries.html (above)
    assert escalation_paths(Engine(world), "mallory") == []


# ---- findings ------------------------------------------------------------------------------------


def test_findings_on_the_demo_world(demo: Engine) -> None:
    found = [(f.severity, f.rule_id, f.path) for f in findings(demo.world, demo)]
    assert found == [
        ("high", "admin-equivalent", "user/priya"),
        ("high", "admin-equivalent", "user/steve"),
        ("high", "wildcard-action", "policy/AdministratorAccess -> Statement[0]"),
        ("medium", "wildcard-action", "policy/DevOpsDeploy -> Statement[0] (Sid BuildAndDeploy)"),
        ("medium", "wildcard-resource", "policy/DevOpsDeploy -> Statement[0] (Sid BuildAndDeploy)"),
        ("low", "user-direct-policy", "user/newbie"),
        ("low", "user-direct-policy", "user/omar"),
        # s3:GetBucketLocation acts on a bucket, yet HR is granted it on "*".
        ("low", "wildcard-resource", "policy/HRReports -> Statement[2] (Sid SeeAllBuckets)"),
    ]
    camel_keys([to_json(f) for f in findings(demo.world, demo)])


def test_findings_rules_for_statements_that_never_match(review: Engine) -> None:
    world = review_world()
    world.put_inline_policy(NodeKind.GROUP, "Readers", "Odd", doc(
        allow(["s3:GetObjekt", "s3:PutObject"], "arn:aws:s3:::shared-data/*"),
        allow("s3:ListBucket", "arn:aws:s3:::shared-data/*"),
        allow("s3:ListAllMyBuckets", "arn:aws:s3:::shared-data"),
        allow("s3:Frobnicate", "*"),
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
    ))
    engine = Engine(world)
    found = {(f.rule_id, f.severity, f.statement) for f in findings(world, engine) if f.policy == "inline-policy/Readers/Odd"}
    assert found == {
        ("unknown-action", "low", "Statement[0]"),
        # ListBucket acts on buckets; "shared-data/*" names objects only.
        ("resource-type-mismatch", "medium", "Statement[1]"),
        # ListAllMyBuckets acts on "*" only: a bucket ARN never matches the request.
        ("resource-type-mismatch", "medium", "Statement[2]"),
        ("unknown-action", "medium", "Statement[3]"),
        ("allow-not-action", "medium", "Statement[4]"),
    }
    unattached = [f.policy for f in findings(world, engine, ["unattached-policy"])]
    assert unattached == ["policy/Orphan"]
    assert set(RULES) == {
        "wildcard-action", "wildcard-resource", "admin-equivalent", "allow-not-action", "unknown-action",
        "resource-type-mismatch", "unattached-policy", "user-direct-policy",
    }


# ---- access_diff ---------------------------------------------------------------------------------


def test_access_diff_after_dana_leaves_hr() -> None:
    before = load_demo_world()
    after = world_from_dict(world_to_dict(before))
    after.remove_member("dana", "HR")
    actions = ["s3:GetObject", "s3:ListBucket", "s3:PutObject", "s3:ListAllMyBuckets"]
    resources = [REPORTS, f"{REPORTS}/q4.pdf", f"{REPORTS}/hr/headcount.csv", "*"]
    changes = access_diff(Engine(before), Engine(after), actions=actions, resources=resources)
    assert {c.principal for c in changes} == {arn("user", "dana")}
    assert all(c.change == "lost" and c.before == "ALLOWED" and c.after == "IMPLICIT_DENY" for c in changes)
    # HRReports: ReadReports (GetObject, ListBucket on the bucket and its objects, both listed in
    # one statement) and SeeAllBuckets (ListAllMyBuckets on "*", which matches any request
    # resource). PublishReports needs the office network, absent here.
    expected = {(a, r) for a in ("s3:GetObject", "s3:ListBucket") for r in resources[:3]} | {("s3:ListAllMyBuckets", r) for r in resources}
    assert {(c.action, c.resource) for c in changes} == expected
    office = [ContextEntry("aws:SourceIp", ("10.1.2.3",), "ip")]
    with_office = access_diff(Engine(before), Engine(after), actions=actions, resources=resources, context=office)
    assert {(c.action, c.resource) for c in with_office} == expected | {("s3:PutObject", f"{REPORTS}/hr/headcount.csv")}
    camel_keys([to_json(c) for c in changes])
    # The other way round the same accesses are gained; a principal missing from one side is ABSENT.
    gained = access_diff(Engine(after), Engine(before), actions=actions, resources=resources)
    assert {(c.action, c.resource, c.change) for c in gained} == {(a, r, "gained") for a, r in expected}
    after.add_user("zoe")
    after.add_member("zoe", "Administrators")
    new = access_diff(Engine(before), Engine(after), [arn("user", "zoe")], actions=["s3:ListAllMyBuckets"], resources=["*"])
    assert [(c.before, c.after, c.change) for c in new] == [(ABSENT, "ALLOWED", "gained")]
