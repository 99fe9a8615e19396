"""The world graph: provenance on edges, round trips through the world file, failed changes
leave no trace."""

from __future__ import annotations

import copy

import pytest

from graphsim.engine import Engine
from graphsim.errors import ConflictError, NotFoundError, PolicyValidationError
from graphsim.world import EdgeKind, NodeKind, World
from graphsim.world.io import WorldFileError, load_demo_world, world_from_dict, world_to_dict


def _shape(world: World) -> tuple[set[tuple[str, str]], set[tuple[str, str, str]]]:
    nodes = {(k, d["kind"].value) for k, d in world.graph.nodes(data=True)}
    edges = {(u, v, k) for u, v, k in world.graph.edges(keys=True)}
    return nodes, edges


def test_every_edge_records_its_provenance() -> None:
    world = load_demo_world()
    assert world.graph.number_of_edges() > 0
    for _, _, data in world.graph.edges(data=True):
        assert data["provenance"] == "world file final-friday.json (built in)"


def test_demo_world_round_trips_to_the_same_graph_and_decisions() -> None:
    world = load_demo_world()
    again = world_from_dict(world_to_dict(world), source="export")
    assert _shape(again) == _shape(world)
    questions = [
        (user, action, resource)
        for user in ("newbie", "priya", "dana", "steve", "omar")
        for action in ("s3:GetObject", "s3:ListBucket", "s3:PutObject", "iam:CreateUser")
        for resource in ("arn:aws:s3:::final-friday-classified/q4.pdf", "arn:aws:s3:::final-friday-reports", "*")
    ]
    a, b = Engine(world), Engine(again)
    assert [a.can(*q).decision for q in questions] == [b.can(*q).decision for q in questions]


def test_world_file_errors_name_the_json_path() -> None:
    data = world_to_dict(load_demo_world())
    broken = copy.deepcopy(data)
    broken["users"][0]["attachedPolicies"] = ["arn:aws:iam::111122223333:policy/Missing"]
    broken["policies"][1]["versions"][0]["document"]["Statement"][0]["Effect"] = "allow"
    with pytest.raises(WorldFileError) as info:
        world_from_dict(broken, source="broken.json")
    paths = [p.path for p in info.value.problems]
    assert "users[0].attachedPolicies[0]" in paths
    assert "policies[1].versions[0].document.Statement[0].Effect" in paths  # the JSON path in the file
    assert str(info.value).startswith("broken.json: ")


def test_failed_mutations_leave_the_world_unchanged() -> None:
    world = load_demo_world()
    before_shape, before_version = _shape(world), world.version
    with pytest.raises(PolicyValidationError):
        world.update_policy("FinalFridayReportsReadOnly", '{"Version": "2012-10-17", "Statement": {"Effect": "Maybe"}}')
    with pytest.raises(NotFoundError):
        world.attach_policy(NodeKind.USER, "newbie", "NoSuchPolicy")
    with pytest.raises(ConflictError):
        world.add_user("Newbie")  # IAM names are unique regardless of case
    with pytest.raises(ConflictError):
        world.remove_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess")
    assert _shape(world) == before_shape and world.version == before_version


def test_update_policy_keeps_at_most_five_versions() -> None:
    world = load_demo_world()
    doc = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]}'
    pruned = [world.update_policy("HRReports", doc)[1] for _ in range(6)]
    versions = world.node(world.find(NodeKind.POLICY, "HRReports"))["versions"]
    assert [v["versionId"] for v in versions] == ["v3", "v4", "v5", "v6", "v7"]
    assert pruned == [None, None, None, None, "v1", "v2"]
    assert [v["isDefault"] for v in versions] == [False, False, False, False, True]


def test_statements_are_nodes_replaced_with_each_new_version() -> None:
    world = load_demo_world()
    key = world.find(NodeKind.POLICY, "FinalFridayReportsReadOnly")
    assert len(list(world.out_edges(key, EdgeKind.HAS_STATEMENT))) == 3
    world.update_policy(key, '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}')
    assert [t for t, _ in world.out_edges(key, EdgeKind.HAS_STATEMENT)] == [f"{key}#Statement[0]"]


def test_engine_cache_follows_world_changes() -> None:
    world = load_demo_world()
    engine = Engine(world)
    question = ("dana", "s3:GetObject", "arn:aws:s3:::final-friday-reports/q4.pdf")
    assert engine.can(*question).allowed
    world.remove_member("dana", "HR")
    assert not engine.can(*question).allowed


# ---- documents shared by content (an organization repeats them in every account) -------------------

BASELINE = '{"Version": "2012-10-17", "Statement": [{"Sid": "NoUsers", "Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]}'


def test_the_same_document_in_two_accounts_is_one_parsed_document() -> None:
    world = World("org")
    for account in ("111111111111", "222222222222"):
        world.add_account(account)
        world.add_managed_policy("baseline", BASELINE, account=account)
        world.add_role("deploy", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}, account=account)
    first, second = (world.managed_policy(f"arn:aws:iam::{a}:policy/baseline")["document"] for a in ("111111111111", "222222222222"))
    assert first is second
    trusts = [world.trust_policy(f"arn:aws:iam::{a}:role/deploy")[1] for a in ("111111111111", "222222222222")]
    assert trusts[0] is trusts[1]
    # Shared, yet each account's decision is its own: the Deny speaks for the principal it is attached to.
    world.add_user("ann", account="111111111111")
    world.attach_policy(NodeKind.USER, "arn:aws:iam::111111111111:user/ann", "arn:aws:iam::111111111111:policy/baseline")
    assert Engine(world).can("arn:aws:iam::111111111111:user/ann", "iam:CreateUser", "*").decision.value == "EXPLICIT_DENY"


def test_a_shared_text_is_parsed_again_for_another_kind_and_bad_documents_always_fail() -> None:
    bucket = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}'
    world = World("w")
    world.add_account("111111111111")
    world.add_resource("arn:aws:s3:::b", resource_type="s3:bucket")
    world.put_resource_policy("arn:aws:s3:::b", bucket)  # valid as a resource policy...
    for _ in range(2):  # ...and invalid as an identity policy (no Principal there), every time, naming this policy
        with pytest.raises(PolicyValidationError) as raised:
            world.add_managed_policy("copied", bucket, account="111111111111")
        assert "copied" in str(raised.value) and "Principal" in str(raised.value)
