"""The CLI answers as the API does, with exit codes scripts can rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphsim.cli import EXIT_EXPECTATION, EXIT_INPUT, EXIT_OK, main
from graphsim.world.io import load_demo_world, world_to_dict

CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
REPORTS = "arn:aws:s3:::final-friday-reports/q4.pdf"


def test_can_prints_decision_and_explanation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can", "newbie", "s3:GetObject", CLASSIFIED]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"IMPLICIT_DENY: user/newbie may not s3:GetObject on {CLASSIFIED}")
    assert main(["can", "newbie", "s3:GetObject", REPORTS]) == EXIT_OK
    out = capsys.readouterr().out
    assert "user/newbie -> policy/FinalFridayReportsReadOnly -> Statement[1] (Sid DownloadReports)" in out


def test_can_json_matches_the_graphql_field_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can", "newbie", "s3:GetObject", REPORTS, "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["decision"] == "ALLOWED" and data["allowed"] is True
    assert data["matchedStatements"][0]["policy"] == "FinalFridayReportsReadOnly"
    assert data["matchedStatements"][0]["path"].startswith("user/newbie -> policy/")


@pytest.mark.parametrize(
    ("args", "expect", "code"),
    [
        (["newbie", "s3:GetObject", REPORTS], "ALLOWED", EXIT_OK),
        (["newbie", "s3:GetObject", CLASSIFIED], "ALLOWED", EXIT_EXPECTATION),
        (["newbie", "s3:GetObject", CLASSIFIED], "implicitDeny", EXIT_OK),
        (["priya", "s3:GetObject", CLASSIFIED], "EXPLICIT_DENY", EXIT_OK),
    ],
)
def test_expect_sets_the_exit_code(args: list[str], expect: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can", *args, "--expect", expect]) == code


def test_bad_input_exits_2_with_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["can", "nobody", "s3:GetObject", REPORTS]) == EXIT_INPUT
    assert "error (principal): no user or role named 'nobody'" in capsys.readouterr().err
    assert main(["can", "newbie", "s3:GetObjekt", REPORTS]) == EXIT_INPUT
    assert "did you mean s3:GetObject" in capsys.readouterr().err
    assert main(["can", "newbie", "s3:GetObject", REPORTS, "--context", "novalue"]) == EXIT_INPUT


def test_can_reads_a_world_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = world_to_dict(load_demo_world())
    newbie = next(u for u in data["users"] if u["name"] == "newbie")
    newbie["attachedPolicies"] = []
    path = tmp_path / "world.json"
    path.write_text(json.dumps(data))
    assert main(["can", "newbie", "s3:GetObject", REPORTS, "--world", str(path), "--expect", "IMPLICIT_DENY"]) == EXIT_OK
    path.write_text("{ not json")
    assert main(["can", "newbie", "s3:GetObject", REPORTS, "--world", str(path)]) == EXIT_INPUT
    assert "world.json" in capsys.readouterr().err


def test_export_schema_writes_the_committed_sdl(tmp_path: Path) -> None:
    out = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(out)]) == EXIT_OK
    committed = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"
    assert out.read_text() == committed.read_text()


def test_cli_json_and_graphql_agree(capsys: pytest.CaptureFixture[str], gql) -> None:  # type: ignore[no-untyped-def]
    query = """{ can(principal: "priya", action: "s3:GetObject", resource: "final-friday-classified/q4.pdf") {
        decision allowed principal action resource missingContextValues warnings blockedBy explanation
        matchedStatements { policy policyArn policyType sid statementIndex effect layer path }
        layerVerdicts { layer decision } fixHint { summary statement }
        allowedByOrganizations allowedByPermissionsBoundary viaRole { roles } world { name version } } }"""
    from_api = gql.data(query)["can"]
    assert main(["can", "priya", "s3:GetObject", "final-friday-classified/q4.pdf", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == from_api


def test_serve_with_a_world_file_serves_it_from_a_throwaway_store(tmp_path: Path) -> None:
    import argparse

    from graphsim.cli import _workspace

    data = world_to_dict(load_demo_world())
    data["name"] = "staging"
    path = tmp_path / "staging.json"
    path.write_text(json.dumps(data))
    ws = _workspace(argparse.Namespace(world=str(path), db=None), store=True)
    assert ws.default == "staging" and ws.store is not None and ws.store.path == ":memory:"
    assert sorted(ws.worlds) == ["final-friday", "staging"]
    assert ws.engine().can("newbie", "s3:GetObject", REPORTS).allowed
