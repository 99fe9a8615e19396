"""graphsim.world.nodes: typed records of the world's node attributes, read through World's
typed accessors; a misspelt attribute is a type error (mypy), and the records match what the
World stores."""

from __future__ import annotations

import json
from pathlib import Path

from graphsim.world import NodeKind, World
from graphsim.world.io import load_demo_world
from graphsim.world.nodes import NODE_RECORDS


def doc(*statements: dict[str, object]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def every_kind_world() -> World:
    world = load_demo_world()
    world.add_account("444455556666", alias="member")
    world.create_organization("111122223333")
    world.add_ou("Workloads", "r-root", ou_id="ou-root-work")
    world.place_account("444455556666", "ou-root-work")
    world.add_org_policy("DenyLeave", "scp", doc({"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}))
    world.attach_org_policy("DenyLeave", "r-root")
    world.put_resource_policy("arn:aws:sqs:us-east-1:444455556666:jobs", doc(
        {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sqs:SendMessage", "Resource": "*"}), account="444455556666")
    world.update_policy(next(k for k, _ in world.nodes_of(NodeKind.POLICY) if world.account_of(k) != "aws"), doc({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))
    return world


def test_every_node_has_exactly_its_records_attributes() -> None:
    world = every_kind_world()
    seen = set()
    for key, data in world.graph.nodes(data=True):
        record = NODE_RECORDS[data["kind"]]
        required, optional = record.__required_keys__, record.__optional_keys__
        assert required <= set(data) <= required | optional, (key, set(data) ^ required)
        seen.add(data["kind"])
    assert seen == set(NodeKind), set(NodeKind) - seen


def test_managed_policy_versions_have_the_version_record_keys() -> None:
    world = every_kind_world()
    for key, _ in world.nodes_of(NodeKind.POLICY):
        for version in world.managed_policy(key)["versions"]:
            assert set(version) == {"versionId", "document", "createDate", "isDefault"}


def test_accessors_read_the_graphs_own_attributes() -> None:
    world = every_kind_world()
    user = "arn:aws:iam::111122223333:user/newbie"
    assert world.principal(user) is world.graph.nodes[user]
    assert (world.kind_of(user), world.label_of(user), world.name_of(user), world.account_of(user)) == (NodeKind.USER, "user/newbie", "newbie", "111122223333")
    assert world.org_root_node("org-root/r-root")["management_account"] == "111122223333"
    assert world.ou_node("ou/ou-root-work")["ou_id"] == "ou-root-work"
    assert world.account_node(World.account_key("444455556666"))["alias"] == "member"
    assert world.resource_node("arn:aws:sqs:us-east-1:444455556666:jobs")["resource_type"] == "sqs:resource"
    assert world.owned_policy("arn:aws:sqs:us-east-1:444455556666:jobs#resource-policy")["owner"] == "arn:aws:sqs:us-east-1:444455556666:jobs"
    assert {k for k, _ in world.principals_of(NodeKind.USER)} == {k for k, _ in world.nodes_of(NodeKind.USER)}


def test_a_misspelt_attribute_is_a_type_error(tmp_path: Path) -> None:
    from mypy import api

    snippet = tmp_path / "reader.py"
    snippet.write_text(
        "from graphsim.world import World\n\n\n"
        "def account(world: World, key: str) -> str:\n"
        '    return world.principal(key)["acount"]\n'
    )
    out, _, status = api.run(["--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), str(snippet)])
    assert status == 1
    assert 'TypedDict "PrincipalNode" has no key "acount"' in out
    snippet.write_text(snippet.read_text().replace('"acount"', '"account"'))
    out, _, status = api.run(["--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"), str(snippet)])
    assert status == 0, out
