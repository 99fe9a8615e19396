"""World changes are one registry of typed commands: GraphQL mutations, what-if, the store's log
and its replay all go through it, so what-if means what the real change means, and stores
written in the first log format still replay."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from graphsim.analysis import Question, apply_changes, what_if
from graphsim.engine import Engine
from graphsim.errors import InvalidRequestError
from graphsim.workspace import Workspace
from graphsim.world import NodeKind
from graphsim.world import commands as c
from graphsim.world.io import load_demo_world, world_to_dict
from tests.conftest import GraphQLClient

DATA = Path(__file__).parent / "data" / "store-v1"
REPORT = "arn:aws:s3:::final-friday-reports/q4.pdf"
NOTES = "arn:aws:s3:::team-notes/plan.txt"  # no grant in the demo world but the ones a test makes

# aws:PrincipalTag: "Use this key to compare the tag attached to the principal making the request
# with the tag that you specify in the policy."
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag
RED_TEAM_READS = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
    "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
}]})
TRUST_ACCOUNT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "sts:AssumeRole"}]})


# ---- the registry ------------------------------------------------------------------------------


def example_commands() -> list[c.Command[Any]]:
    doc = RED_TEAM_READS
    return [
        c.CreateAccount("444455556666", alias="member"), c.CreateUser("zed", path="/eng/", tags=(("team", "red"),), account="111122223333"),
        c.DeleteUser("zed"), c.TagUser("zed", (("team", "blue"),)), c.UntagUser("zed", ("team",)), c.CreateGroup("Eng"), c.DeleteGroup("Eng"), c.AddUserToGroup("zed", "Eng"), c.RemoveUserFromGroup("zed", "Eng"),
        c.CreateRole("Deployer", doc, description="deploys", tags=(("env", "prod"),)), c.DeleteRole("Deployer"),
        c.UpdateAssumeRolePolicy("Deployer", {"Version": "2012-10-17", "Statement": []}),
        c.CreatePolicy("P", doc, created="2024-01-02T03:04:05Z"), c.UpdatePolicy("P", doc), c.DeletePolicy("P"),
        c.PutUserPolicy("zed", "I", doc), c.PutGroupPolicy("Eng", "I", doc), c.PutRolePolicy("Deployer", "I", doc),
        c.DeleteUserPolicy("zed", "I"), c.DeleteGroupPolicy("Eng", "I"), c.DeleteRolePolicy("Deployer", "I"),
        c.AttachUserPolicy("zed", "P"), c.AttachGroupPolicy("Eng", "P"), c.AttachRolePolicy("Deployer", "P"),
        c.DetachUserPolicy("zed", "P"), c.DetachGroupPolicy("Eng", "P"), c.DetachRolePolicy("Deployer", "P"),
        c.PutUserPermissionsBoundary("zed", "P"), c.PutRolePermissionsBoundary("Deployer", "P"),
        c.DeleteUserPermissionsBoundary("zed"), c.DeleteRolePermissionsBoundary("Deployer"),
        c.CreateResource("arn:aws:sqs:us-east-1:111122223333:jobs", "sqs:queue", tags=(("data", "internal"),)),
        c.PutResourcePolicy("arn:aws:s3:::b", doc, account="111122223333"), c.DeleteResourcePolicy("arn:aws:s3:::b"),
        c.CreateOrganization("111122223333", root_id="r-ab12"), c.CreateOrganizationalUnit("zeta", "r-ab12"), c.MoveAccount("444455556666", "zeta"),
        c.CreateOrgPolicy("NoLeave", "scp", doc), c.AttachOrgPolicy("NoLeave", "zeta"),
    ]


def test_every_command_round_trips_through_its_logged_fields() -> None:
    examples = example_commands()
    assert {type(e).command_name for e in examples} == set(c.COMMANDS)  # one example of each command
    for example in examples:
        fields = json.loads(json.dumps(example.to_fields()))  # as the store keeps them
        assert c.parse_command(example.command_name, fields) == example


def test_fields_are_checked_whoever_builds_the_command() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        c.CreateUser(5)  # type: ignore[arg-type]
    assert (caught.value.field, caught.value.message) == ("name", "name must be a string, got int")
    cases = [
        ("createUser", {"name": "x", "tags": [{"key": "team"}]}, "changes[0].arguments.tags[0]"),
        ("createUser", {"name": "x", "tags": {"team": 5}}, "changes[0].arguments.tags"),
        ("createRole", {"name": "x"}, "changes[0].arguments.trustPolicy"),
        ("createRole", {"name": "x", "trustPolicy": 5}, "changes[0].arguments.trustPolicy"),
        ("putUserPolicy", {"user": "x", "policy_name": "p", "document": "{}"}, "changes[0].arguments.policy_name"),
        ("nosuchChange", {}, "changes[0].mutation"),
    ]
    for name, fields, field in cases:
        with pytest.raises(InvalidRequestError) as caught:
            c.parse_command(name, fields, path="changes[0]")
        assert caught.value.field == field, (name, fields, caught.value.message)


def test_tags_come_as_graphql_gives_them_or_as_an_object() -> None:
    assert c.parse_command("createUser", {"name": "a", "tags": [{"key": "team", "value": "red"}]}).tags == (("team", "red"),)  # type: ignore[attr-defined]
    assert c.parse_command("createUser", {"name": "a", "tags": {"team": "red"}}).tags == (("team", "red"),)  # type: ignore[attr-defined]


# ---- what-if means what the mutation means (issue 9 item 4) ------------------------------------


def test_what_if_create_user_with_tags_answers_as_the_real_mutation(gql: GraphQLClient) -> None:
    changes = [
        {"mutation": "createUser", "arguments": {"name": "rhea", "tags": [{"key": "team", "value": "red"}]}},
        {"mutation": "putUserPolicy", "arguments": {"user": "rhea", "policyName": "RedReads", "document": RED_TEAM_READS}},
    ]
    query = """query($c: [ChangeInput!]!) { whatIf(changes: $c, questions: [{principal: "rhea", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf"}]) {
        beforeDecision afterDecision } }"""
    assert gql.data(query, c=changes)["whatIf"] == [{"beforeDecision": "ABSENT", "afterDecision": "ALLOWED"}]
    gql.data('mutation { createUser(name: "rhea", tags: [{key: "team", value: "red"}]) { __typename } }')
    gql.data('mutation($d: String!) { putUserPolicy(user: "rhea", policyName: "RedReads", document: $d) { __typename } }', d=RED_TEAM_READS)
    real = gql.data('{ can(principal: "rhea", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf") { decision } }')
    assert real["can"]["decision"] == "ALLOWED"


def test_what_if_create_role_keeps_description_and_tags() -> None:
    engine = Engine(load_demo_world())
    changes: list[tuple[str, object]] = [
        ("createRole", {"name": "RedRole", "trustPolicy": TRUST_ACCOUNT, "description": "the red team's role", "tags": [{"key": "team", "value": "red"}]}),
        ("putRolePolicy", {"role": "RedRole", "policyName": "RedReads", "document": RED_TEAM_READS}),
    ]
    after = apply_changes(engine.world, changes)
    role = after.node(after.find(NodeKind.ROLE, "RedRole"))
    assert (role["description"], role["tags"]) == ("the red team's role", {"team": "red"})
    (result,) = what_if(engine, changes, [Question("RedRole", "s3:GetObject", REPORT)])
    assert (result.before_kind, result.after_kind) == ("ABSENT", "ALLOWED")


# ---- the store logs (name, fields) and replays them ----------------------------------------------


def test_the_store_logs_commands_by_name_and_fields(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    ws = Workspace.open(db)
    ws.apply(ws.world(), c.CreateUser("zed", tags=(("team", "red"),)))
    ws.apply(ws.world(), c.CreatePolicy("P", RED_TEAM_READS))
    with sqlite3.connect(db) as conn:
        logged = conn.execute("SELECT mutation, args, summary FROM changes WHERE version > 0 ORDER BY version").fetchall()
    (user, policy) = [(m, json.loads(a), s) for m, a, s in logged]
    assert user == ("createUser", {"name": "zed", "path": "/", "tags": [{"key": "team", "value": "red"}], "account": None}, "createUser zed")
    # The version's createDate is recorded with the change, so the replay gives the same world.
    assert policy[0] == "createPolicy" and policy[1]["created"] is not None and policy[2] == "createPolicy P"
    assert world_to_dict(Workspace.open(db).world()) == world_to_dict(ws.world())


def legacy_store(tmp_path: Path) -> Path:
    """A store written by graphsim before commands (its first log format), restored from the SQL
    dump that ``tests/data/store-v1/README.md`` says how it was made."""
    db = tmp_path / "legacy.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((DATA / "dump.sql").read_text())
    return db


def by_ou_id(world: dict[str, Any]) -> dict[str, Any]:
    """The world file with its OUs in id order: that graphsim wrote them by key, this one parents first."""
    org = world["organization"]
    return {**world, "organization": {**org, "organizationalUnits": sorted(org["organizationalUnits"], key=lambda ou: ou["id"])}}


def test_a_store_written_in_the_first_log_format_still_replays(tmp_path: Path) -> None:
    db = legacy_store(tmp_path)
    with sqlite3.connect(db) as conn:
        methods = {m for (m,) in conn.execute("SELECT DISTINCT mutation FROM changes WHERE world = 'final-friday' AND version > 0")}
    assert len(methods) == 25 and "put_inline_policy" in methods  # every world method the first format logged
    expected = by_ou_id(json.loads((DATA / "world.json").read_text()))
    ws = Workspace.open(db)
    assert ws.unreadable == {}
    assert by_ou_id(world_to_dict(ws.world("final-friday"))) == expected
    # The other world was snapshotted at version 42 with its OUs child first, then replays 3 changes.
    assert by_ou_id(world_to_dict(ws.world("snapshotted"))) == by_ou_id(json.loads((DATA / "snapshotted.json").read_text()))
    # A new change goes into the log in the new format after the old ones; both replay.
    ws.apply(ws.world(), c.AddUserToGroup("kai", "Eng"))
    reopened = Workspace.open(db)
    assert [h.mutation for h in reopened.history(limit=2)] == ["addUserToGroup", "attach_org_policy"]
    assert world_to_dict(reopened.world()) == world_to_dict(ws.world())
    assert reopened.engine().can("kai", "s3:GetObject", REPORT).decision.value == ws.engine().can("kai", "s3:GetObject", REPORT).decision.value


# ---- the exercise: tagUser / untagUser, one command class and one GraphQL field each -----------


def test_tag_user_and_untag_user_through_graphql_and_after_a_restart(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from graphsim.api.app import create_app

    db = tmp_path / "g.db"
    ws = Workspace.open(db)
    ask = '{ can(principal: "dana", action: "s3:GetObject", resource: "arn:aws:s3:::team-notes/plan.txt") { decision } }'
    with TestClient(create_app(ws)) as http:
        gql = GraphQLClient(http, ws)
        gql.data('mutation($d: String!) { putUserPolicy(user: "dana", policyName: "RedReads", document: $d) { __typename } }', d=RED_TEAM_READS)
        assert gql.data(ask)["can"]["decision"] == "IMPLICIT_DENY"
        tagged = gql.data('mutation { tagUser(user: "dana", tags: [{key: "team", value: "red"}, {key: "floor", value: "3"}]) { ... on UserPayload { user { tags { key value } } } } }')
        assert tagged["tagUser"]["user"]["tags"] == [{"key": "floor", "value": "3"}, {"key": "team", "value": "red"}]
        # "If a tag with the same key name already exists, then that tag is overwritten with the new value."
        # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html
        gql.data('mutation { tagUser(user: "dana", tags: [{key: "floor", value: "4"}]) { __typename } }')
        assert gql.data(ask)["can"]["decision"] == "ALLOWED"  # aws:PrincipalTag/team is red now
        untagged = gql.data('mutation { untagUser(user: "dana", tagKeys: ["team", "nosuch"]) { ... on UserPayload { user { tags { key value } } worldVersion } } }')
        assert untagged["untagUser"] == {"user": {"tags": [{"key": "floor", "value": "4"}]}, "worldVersion": 4}
        assert gql.data(ask)["can"]["decision"] == "IMPLICIT_DENY"
        gql.data('mutation { tagUser(user: "dana", tags: [{key: "team", value: "red"}]) { __typename } }')
        refused = gql.data('mutation { tagUser(user: "nobody", tags: [{key: "a", value: "b"}]) { __typename ... on UserError { field } } }')["tagUser"]
        assert refused == {"__typename": "NotFound", "field": "user"}
        too_long = gql.data('mutation($k: String!) { tagUser(user: "dana", tags: [{key: $k, value: "x"}]) { __typename ... on UserError { field } } }', k="k" * 129)
        assert too_long["tagUser"] == {"__typename": "InvalidInput", "field": "tags"}
    reopened = Workspace.open(db)  # replayed from the log
    assert reopened.world().node(reopened.world().find(NodeKind.USER, "dana"))["tags"] == {"floor": "4", "team": "red"}
    assert [h.summary for h in reopened.history(limit=3)] == ["tagUser dana", "untagUser dana", "tagUser dana"]
    assert reopened.engine().can("dana", "s3:GetObject", NOTES).allowed


def test_at_most_fifty_tags() -> None:
    world = load_demo_world()
    c.CreateUser("tess").apply(world)
    c.TagUser("tess", tuple((f"k{i}", "v") for i in range(50))).apply(world)
    with pytest.raises(InvalidRequestError) as caught:
        c.TagUser("tess", (("one-more", "v"),)).apply(world)
    assert caught.value.field == "tags" and len(world.node(world.find(NodeKind.USER, "tess"))["tags"]) == 50
    # Overwriting a key does not add a tag.
    c.TagUser("tess", (("k0", "new"),)).apply(world)
    assert world.node(world.find(NodeKind.USER, "tess"))["tags"]["k0"] == "new"


def test_what_if_tags_a_user_as_the_mutation_does() -> None:
    engine = Engine(load_demo_world())
    changes: list[tuple[str, object]] = [
        ("putUserPolicy", {"user": "dana", "policyName": "RedReads", "document": RED_TEAM_READS}),
        ("tagUser", {"user": "dana", "tags": [{"key": "team", "value": "red"}]}),
    ]
    (result,) = what_if(engine, changes, [Question("dana", "s3:GetObject", NOTES)])
    assert (result.before_kind, result.after_kind) == ("IMPLICIT_DENY", "ALLOWED")


# ---- the CLI commits the change list what-if tried ------------------------------------------------


def test_cli_apply_commits_what_what_if_tried(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from graphsim.cli import EXIT_INPUT, EXIT_OK, main

    db = tmp_path / "g.db"
    plan = tmp_path / "changes.yaml"
    plan.write_text(
        "- mutation: putUserPolicy\n  arguments: {user: dana, policyName: RedReads, document: " + json.dumps(RED_TEAM_READS) + "}\n"
        "- mutation: tagUser\n  arguments: {user: dana, tags: [{key: team, value: red}]}\n"
    )
    questions = tmp_path / "q.yaml"
    questions.write_text(f"- principal: dana\n  action: s3:GetObject\n  resource: {NOTES}\n")
    assert main(["what-if", str(plan), "--questions", str(questions), "--db", str(db), "--world", "final-friday"]) == EXIT_OK
    assert f"CHANGED  dana s3:GetObject {NOTES}: IMPLICIT_DENY -> ALLOWED" in capsys.readouterr().out
    assert main(["apply", str(plan), "--db", str(db)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines() == [
        "version 1: putUserPolicy dana RedReads", "version 2: tagUser dana", "applied 2 changes to world 'final-friday' (version 2)",
    ]
    assert main(["can", "dana", "s3:GetObject", NOTES, "--db", str(db), "--world", "final-friday", "--expect", "ALLOWED"]) == EXIT_OK
    # A change the world refuses commits nothing, not even the changes before it.
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"mutation": "createUser", "arguments": {"name": "zed"}}, {"mutation": "addUserToGroup", "arguments": {"user": "zed", "group": "Nope"}}]))
    capsys.readouterr()
    assert main(["apply", str(bad), "--db", str(db)]) == EXIT_INPUT
    assert capsys.readouterr().err == "error (changes[1].arguments): changes[1] (addUserToGroup): no group named 'Nope'\n"
    assert Workspace.open(db).world().version == 2
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps([{"mutation": "createUser", "arguments": {"nam": "zed"}}]))
    assert main(["apply", str(typo), "--db", str(db)]) == EXIT_INPUT
    assert "error (changes[0].arguments.nam): createUser takes no argument 'nam'" in capsys.readouterr().err


def test_every_world_mutation_is_a_command_and_every_command_a_mutation(gql: GraphQLClient) -> None:
    """One table of changes: the GraphQL mutations that change a world are the registry's
    commands, with the same argument names (plus ``world``)."""
    body = gql.data("{ __schema { mutationType { fields { name args { name } } } } }")
    fields = {f["name"]: {a["name"] for a in f["args"]} - {"world"} for f in body["__schema"]["mutationType"]["fields"]}
    whole_worlds = {"importWorld", "forkWorld", "deleteWorld", "setDefaultWorld"}  # the store's own records and settings, not changes
    assert set(fields) - whole_worlds == set(c.COMMANDS)
    for name, cls in c.COMMANDS.items():
        assert fields[name] == set(cls.argument_names()) - {"created"}, name  # a policy version's time is set by the workspace
