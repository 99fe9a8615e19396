"""Bad input anywhere gets a typed error naming the field (exit code 2 in the CLI), never a
traceback or a masked "Unexpected error."; found by review, kept as regressions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphsim.cli import EXIT_INPUT, EXIT_OK, main
from graphsim.engine import Engine
from graphsim.errors import InvalidRequestError
from graphsim.world.io import load_demo_world
from tests.conftest import GraphQLClient

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def test_an_out_of_range_epoch_date_is_a_typed_error(gql: GraphQLClient) -> None:
    body = gql("""{ can(principal: "newbie", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf",
        context: [{contextKeyName: "aws:CurrentTime", contextKeyValues: ["99999999999999999999"], contextKeyType: "date"}]) { decision } }""")
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "context[0].contextKeyValues[0]"}


@pytest.mark.parametrize(("key", "value"), [("ContextEntries", 5), ("CallerArn", 5), ("ResourceOwner", 5), ("SessionPolicy", 5)])
def test_wrongly_typed_aws_cli_fields_exit_2(key: str, value: object, capsys: pytest.CaptureFixture[str]) -> None:
    request = {"PolicyInputList": [POLICY], "ActionNames": ["s3:GetObject"], key: value}
    assert main(["simulate-custom-policy", "--cli-input-json", json.dumps(request)]) == EXIT_INPUT
    assert f"error ({key}):" in capsys.readouterr().err


def test_a_wrongly_typed_policy_source_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate-principal-policy", "--cli-input-json", '{"PolicySourceArn": 5, "ActionNames": ["s3:GetObject"]}']) == EXIT_INPUT
    assert "error (PolicySourceArn):" in capsys.readouterr().err


def test_a_bad_line_in_a_batch_gets_an_error_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = {"PolicyInputList": [POLICY], "ActionNames": ["s3:GetObject"]}
    bad = {**good, "ContextEntries": [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": ["99999999999999999999"], "ContextKeyType": "date"}]}
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(bad) + "\n" + json.dumps(good) + "\n")
    assert main(["simulate-custom-policy", "--input-jsonl", str(path), "--jobs", "1"]) == EXIT_INPUT
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["Error"]["Field"] == "contextEntries[0].contextKeyValues[0]"
    assert lines[1]["EvaluationResults"][0]["EvalDecision"] == "allowed"


@pytest.mark.parametrize(("arguments", "field"), [
    ('"x"', "changes[0].arguments"),
    ('{group: 5, policy: "x"}', "changes[0].arguments.group"),
    ('{group: "HR"}', "changes[0].arguments.policy"),
    ('{group: "HR", policy: "x", grup: "y"}', "changes[0].arguments.grup"),
])
def test_what_if_with_bad_arguments_names_the_change(gql: GraphQLClient, arguments: str, field: str) -> None:
    query = '{ whatIf(changes: [{mutation: "attachGroupPolicy", arguments: ARGS}], questions: []) { changed } }'
    body = gql(query.replace("ARGS", arguments))
    assert body["errors"][0]["extensions"]["field"] == field


def test_cli_file_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.json"
    assert main(["can", "ClassifiedReader", "s3:GetObject", "final-friday-reports/q4.pdf", "--session-policy", f"file://{missing}"]) == EXIT_INPUT
    assert main(["simulate-custom-policy", "--input-jsonl", str(missing)]) == EXIT_INPUT
    plan = tmp_path / "plan.json"
    plan.write_text('{"a": 1}')
    assert main(["what-if", str(plan)]) == EXIT_INPUT
    expectations = tmp_path / "e.yaml"
    expectations.write_text("- principal: newbie\n  action: s3:GetObject\n  resource: '*'\n  expect: ALLOWED\n  context: 5\n")
    assert main(["test", str(expectations)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "Traceback" not in err and "(--session-policy)" in err and "(changes)" in err and "[0].context" in err


def test_principal_org_keys_are_filled_from_the_organization() -> None:
    # AWS's simulator fills in aws:PrincipalOrgID, aws:PrincipalOrgPaths and
    # aws:PrincipalOrgMasterAccountId itself. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_testing-policies.html
    world = load_demo_world()
    world.add_account("999988887777")
    world.create_organization("999988887777", root_id="r-ff01", org_id="o-ff01example")
    world.add_ou("Workloads", "r-ff01", ou_id="ou-ff01-workload")
    world.place_account("111122223333", "Workloads")
    full = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    world.add_org_policy("FullAWSAccess", "scp", full)
    for target in ("r-ff01", "Workloads", "111122223333"):
        world.attach_org_policy("FullAWSAccess", target)
    world.put_resource_policy("arn:aws:s3:::final-friday-classified", {"Version": "2012-10-17", "Statement": [
        {"Sid": "OrgOnly", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-classified/*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-ff01example"},
                       "StringLike": {"aws:PrincipalOrgPaths": "o-ff01example/r-ff01/ou-ff01-workload/*"}}}]})
    decision = Engine(world).can("newbie", "s3:GetObject", "arn:aws:s3:::final-friday-classified/q4.pdf")
    assert decision.allowed and decision.missing_context_values == ()
    assert [m.sid for m in decision.matched_statements] == ["OrgOnly"]
    assert main(["can", "newbie", "s3:ListAllMyBuckets", "*"]) == EXIT_OK


def test_an_unknown_finding_rule_is_named(gql: GraphQLClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = gql('{ findings(rules: ["nosuchrule"]) { rule } }')
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "rules[0]"}
    assert main(["findings", "--rule", "nosuch"]) == EXIT_INPUT
    assert "unknown finding rule 'nosuch'" in capsys.readouterr().err


def test_what_if_about_a_principal_a_change_creates_or_deletes(gql: GraphQLClient) -> None:
    query = """query($c: [ChangeInput!]!) { whatIf(changes: $c, questions: [
        {principal: "zed", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf"},
        {principal: "newbie", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf"}]) {
        principal beforeDecision afterDecision changed } }"""
    changes = [{"mutation": "createUser", "arguments": {"name": "zed"}}, {"mutation": "addUserToGroup", "arguments": {"user": "zed", "group": "HR"}},
               {"mutation": "deleteUser", "arguments": {"name": "newbie"}}]
    assert gql.data(query, c=changes)["whatIf"] == [
        {"principal": "zed", "beforeDecision": "ABSENT", "afterDecision": "ALLOWED", "changed": True},
        {"principal": "newbie", "beforeDecision": "ALLOWED", "afterDecision": "ABSENT", "changed": True},
    ]
    bad = gql('{ whatIf(changes: [], questions: [{principal: "newbie", action: "s3:GetObjekt", resource: "*"}]) { changed } }')
    assert bad["errors"][0]["extensions"]["field"] == "questions[0].action"


def test_what_if_questions_need_no_expect_and_fork_then_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps([{"mutation": "addUserToGroup", "arguments": {"user": "newbie", "group": "HR"}}]))
    questions = tmp_path / "q.yaml"
    questions.write_text("- principal: newbie\n  action: s3:PutObject\n  resource: arn:aws:s3:::final-friday-reports/hr/x.csv\n  context: {aws:SourceIp: 10.1.1.1}\n")
    assert main(["what-if", str(changes), "--questions", str(questions)]) == EXIT_OK
    assert "CHANGED  newbie s3:PutObject arn:aws:s3:::final-friday-reports/hr/x.csv: IMPLICIT_DENY -> ALLOWED" in capsys.readouterr().out
    db = tmp_path / "g.db"
    assert main(["fork", "final-friday", "review", "--db", str(db)]) == EXIT_OK
    assert main(["diff", "final-friday", "review", "--actions", "s3:GetObject", "--resources", "final-friday-reports/q4.pdf", "--db", str(db)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == "no access gained or lost"


def test_a_bad_context_entry_is_named_by_its_own_place_each_time() -> None:
    # Entries are checked once each and remembered (batches repeat them); a bad one is never
    # remembered and names its index in the context it came in.
    from graphsim.engine import ContextEntry, build_context

    good = ContextEntry("aws:SourceIp", ("10.0.0.1",), "ip")
    bad = ContextEntry("aws:EpochTime", ("soon",), "numeric")
    assert build_context([good], field="contextEntries") == {"aws:sourceip": ("10.0.0.1",)}
    for entries, where in (([good, bad], "contextEntries[1].contextKeyValues[0]"), ([bad], "contextEntries[0].contextKeyValues[0]")):
        with pytest.raises(InvalidRequestError) as raised:
            build_context(entries, field="contextEntries")
        assert raised.value.field == where and "'soon' is not a valid numeric value" in raised.value.message
