"""The one reader (graphsim.imports.sources): every entry point reads the same YAML world the same
way, YAML timestamps stay the text written, and hostile files fail with a typed error naming the
file and the limit."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_EXPECTATION, EXIT_INPUT, EXIT_OK, _workspace, main
from graphsim.imports import ImportFileError, SourceLimitError, decode_document, load_source_file, parse_text
from graphsim.imports.sources import MAX_ALIASES, MAX_DEPTH, MAX_EXPANDED_NODES, MAX_INT_DIGITS
from graphsim.workspace import Workspace
from tests.conftest import GraphQLClient

# Unquoted, ``2012-10-17`` and ``2026-01-02T03:04:05Z`` are YAML timestamps; AWS documents hold
# them as strings. "2012-10-17. This is the current version of the policy language ... Otherwise,
# you cannot use features such as policy variables that were introduced with this version."
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
WORLD_YAML = """\
format: graphsim-world
formatVersion: 1
name: yaml-dates
accounts:
  - id: "111122223333"
policies:
  - name: OwnPrefix
    versions:
      - versionId: v1
        createDate: 2026-01-02T03:04:05Z
        document:
          Version: 2012-10-17
          Statement:
            - Effect: Allow
              Action: s3:GetObject
              Resource: arn:aws:s3:::shared/${aws:username}/*
              Condition:
                DateLessThan:
                  aws:CurrentTime: 2030-01-01T00:00:00Z
users:
  - name: alice
    attachedPolicies: [OwnPrefix]
"""
OWN = "arn:aws:s3:::shared/alice/report.csv"
OTHERS = "arn:aws:s3:::shared/bob/report.csv"
# With Version 2012-10-17, ${aws:username} is alice's name, so only her own prefix matches; an
# action no statement allows is implicitly denied.
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
BEFORE_2030 = ["--context", "aws:CurrentTime=2029-06-30T12:00:00Z"]


@pytest.fixture
def world_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "w.yaml"
    path.write_text(WORLD_YAML, encoding="utf-8")
    return path


# ---- the reader ------------------------------------------------------------------------------


def test_yaml_timestamps_come_back_as_the_text_written(tmp_path: Path) -> None:
    path = tmp_path / "dates.yaml"
    path.write_text("Version: 2012-10-17\nCreateDate: 2024-05-06 07:08:09+02:00\nlist: [2024-07, 2024-07-01]\n2012-10-17: key\n")
    source, data = load_source_file(path)
    assert source == str(path)
    assert data == {"Version": "2012-10-17", "CreateDate": "2024-05-06 07:08:09+02:00", "list": ["2024-07", "2024-07-01"], "2012-10-17": "key"}
    assert parse_text("api.yml", "Version: 2012-10-17\n") == {"Version": "2012-10-17"}
    assert parse_text("api.json", '{"Version": "2012-10-17"}') == {"Version": "2012-10-17"}


def test_a_byte_order_mark_is_not_content(tmp_path: Path) -> None:
    path = tmp_path / "auth.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"UserDetailList": []}).encode())
    assert load_source_file(path)[1] == {"UserDetailList": []}


def test_empty_files_say_so(tmp_path: Path) -> None:
    for name in ("empty.yaml", "empty.json"):
        (tmp_path / name).write_text("  \n")
        with pytest.raises(ImportFileError, match=rf"{name}: the file is empty"):
            load_source_file(tmp_path / name)


def _limit(path: Path) -> SourceLimitError:
    with pytest.raises(SourceLimitError) as info:
        load_source_file(path)
    err = info.value
    assert err.source == str(path) and str(path) in err.message and isinstance(err, ImportFileError)
    assert err.extensions()["limit"] == err.limit and err.extensions()["maximum"] == err.maximum
    return err


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    # Nine levels of nine aliases: 81 aliases (under the alias limit), 9**9 nodes expanded.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    err = _limit(bomb)
    assert err.limit == "expanded nodes" and err.maximum == MAX_EXPANDED_NODES
    assert f"graphsim reads at most {MAX_EXPANDED_NODES:,} expanded nodes" in err.message


def test_too_many_aliases_are_refused_and_a_few_are_fine(tmp_path: Path) -> None:
    many = tmp_path / "many.yaml"
    many.write_text("base: &b {Effect: Allow}\nitems:\n" + "".join("  - *b\n" for _ in range(MAX_ALIASES + 1)))
    err = _limit(many)
    assert err.limit == "aliases" and err.maximum == MAX_ALIASES and "at line" in err.message
    few = tmp_path / "few.yaml"
    few.write_text("base: &b {Effect: Allow}\nitems: [*b, *b]\n")
    assert load_source_file(few)[1] == {"base": {"Effect": "Allow"}, "items": [{"Effect": "Allow"}, {"Effect": "Allow"}]}


def test_deep_nesting_is_refused_in_yaml_and_json(tmp_path: Path) -> None:
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n")
    err = _limit(deep_yaml)
    assert err.limit == "levels of nesting" and err.maximum == MAX_DEPTH
    for depth in (MAX_DEPTH + 1, 100_000):  # the second is past Python's recursion limit
        deep_json = tmp_path / f"deep{depth}.json"
        deep_json.write_text("[" * depth + "]" * depth)
        assert _limit(deep_json).limit == "levels of nesting"
    ok = tmp_path / "ok.json"
    ok.write_text("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    load_source_file(ok)


def test_huge_integers_are_refused(tmp_path: Path) -> None:
    big = "9" * (MAX_INT_DIGITS + 1)
    for name, text in (("big.json", f'{{"n": {big}}}'), ("big.yaml", f"n: {big}\n")):
        (tmp_path / name).write_text(text)
        err = _limit(tmp_path / name)
        assert err.limit == "integer digits" and f"an integer of {MAX_INT_DIGITS + 1} digits" in err.message
    for name, text in (("huge.json", f'[{"9" * 5000}]'), ("top.json", big)):  # past Python's own limit; a bare number
        (tmp_path / name).write_text(text)
        assert _limit(tmp_path / name).limit == "integer digits"
    (tmp_path / "fine.yaml").write_text("n: 123456789012\n")
    assert load_source_file(tmp_path / "fine.yaml")[1] == {"n": 123456789012}


def test_url_encoded_documents_are_decoded() -> None:
    # "Policies returned by this operation are URL-encoded compliant with RFC 3986."
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"
    assert decode_document(encoded) == doc
    assert decode_document(json.dumps(doc)) == doc
    assert decode_document(doc) == doc
    assert decode_document("[1]") is None and decode_document(5) is None and decode_document("not json") is None


# ---- every entry point reads the same YAML file ------------------------------------------------------


def test_can_with_a_yaml_world_file(world_yaml: Path) -> None:
    assert main(["can", "alice", "s3:GetObject", OWN, *BEFORE_2030, "--world", str(world_yaml), "--expect", "ALLOWED"]) == EXIT_OK
    assert main(["can", "alice", "s3:GetObject", OTHERS, *BEFORE_2030, "--world", str(world_yaml), "--expect", "IMPLICIT_DENY"]) == EXIT_OK


def test_import_then_export_keeps_the_text(world_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "g.db"
    assert main(["import", str(world_yaml), "--world", "dates", "--db", str(db)]) == EXIT_OK
    assert main(["can", "alice", "s3:GetObject", OWN, *BEFORE_2030, "--world", "dates", "--db", str(db), "--expect", "ALLOWED"]) == EXIT_OK
    capsys.readouterr()
    assert main(["export", "--world", "dates", "--db", str(db)]) == EXIT_OK
    policy = json.loads(capsys.readouterr().out)["policies"][0]
    assert policy["versions"][0]["createDate"] == "2026-01-02T03:04:05Z"
    document = policy["versions"][0]["document"]
    assert document["Version"] == "2012-10-17"
    assert document["Statement"][0]["Condition"] == {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}


def test_graphsim_test_with_a_yaml_world_and_yaml_dates(world_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # DateLessThan compares the request's aws:CurrentTime with the policy's date.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
    expectations = tmp_path / "e.yaml"
    expectations.write_text(
        f"- principal: alice\n  action: s3:GetObject\n  resource: {OWN}\n  context: {{aws:CurrentTime: 2029-06-30T12:00:00Z}}\n  expect: ALLOWED\n"
        f"- principal: alice\n  action: s3:GetObject\n  resource: {OWN}\n  context: {{aws:CurrentTime: 2030-06-30T12:00:00Z}}\n  expect: IMPLICIT_DENY\n"
    )
    assert main(["test", str(expectations), "--world", str(world_yaml)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == "2 passed, 0 failed"
    expectations.write_text(f"- principal: alice\n  action: s3:GetObject\n  resource: {OTHERS}\n  expect: ALLOWED\n")
    assert main(["test", str(expectations), "--world", str(world_yaml)]) == EXIT_EXPECTATION


def test_serve_with_a_yaml_world_file(world_yaml: Path) -> None:
    ws = _workspace(argparse.Namespace(world=str(world_yaml), db=None), store=True)
    assert ws.default == "yaml-dates" and ws.store is not None
    from graphsim.engine import ContextEntry

    assert ws.engine().can("alice", "s3:GetObject", OWN, [ContextEntry("aws:CurrentTime", ("2029-06-30T12:00:00Z",), "date")]).allowed


def test_what_if_reads_a_yaml_changes_file(world_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changes = tmp_path / "changes.yaml"
    changes.write_text(
        "- mutation: putUserPolicy\n  arguments:\n    user: alice\n    policyName: Others\n    document:\n"
        "      Version: 2012-10-17\n      Statement: [{Effect: Allow, Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*'}]\n"
    )
    questions = tmp_path / "q.yaml"
    questions.write_text(f"- principal: alice\n  action: s3:GetObject\n  resource: {OTHERS}\n")
    assert main(["what-if", str(changes), "--questions", str(questions), "--world", str(world_yaml)]) == EXIT_OK
    assert f"CHANGED  alice s3:GetObject {OTHERS}: IMPLICIT_DENY -> ALLOWED" in capsys.readouterr().out


def test_graphql_import_world_reads_the_same_yaml(world_yaml: Path) -> None:
    ws = Workspace.open(":memory:")
    mutation = """mutation($files: [ImportFileInput!]!) { importWorld(name: "dates", files: $files) {
        __typename ... on WorldPayload { world { name } } ... on InvalidImport { code message problems { source rule } } } }"""
    query = """query($ctx: [ContextEntryInput!]) { can(principal: "alice", action: "s3:GetObject", resource: "%s", world: "dates", context: $ctx) { decision } }"""
    ctx = [{"contextKeyName": "aws:CurrentTime", "contextKeyValues": ["2029-06-30T12:00:00Z"], "contextKeyType": "date"}]
    with TestClient(create_app(ws)) as http:
        gql = GraphQLClient(http, ws)
        result = gql.data(mutation, files=[{"name": "w.yaml", "content": world_yaml.read_text()}])["importWorld"]
        assert result == {"__typename": "WorldPayload", "world": {"name": "dates"}}
        assert gql.data(query % OWN, ctx=ctx)["can"] == {"decision": "ALLOWED"}
        assert gql.data(query % OTHERS, ctx=ctx)["can"] == {"decision": "IMPLICIT_DENY"}
        bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True))
        refused = gql.data(mutation, files=[{"name": "bomb.yaml", "content": bomb}])["importWorld"]
        assert refused["__typename"] == "InvalidImport" and refused["code"] == "FILE_LIMIT"
        assert refused["problems"][0]["source"] == "bomb.yaml" and "expanded nodes" in refused["problems"][0]["rule"]


def test_every_entry_point_names_a_hostile_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 500 + "]" * 500 + "\n")
    for argv in (["import", str(deep), "--world", "x", "--db", str(tmp_path / "g.db")],
                 ["can", "alice", "s3:GetObject", "*", "--world", str(deep)],
                 ["test", str(deep)],
                 ["what-if", str(deep)]):
        assert main(argv) == EXIT_INPUT
        err = capsys.readouterr().err
        assert "Traceback" not in err and f"{deep}: lists and mappings nested more than {MAX_DEPTH} levels deep" in err, argv
