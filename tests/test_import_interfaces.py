"""The Northwind sample imported through the CLI and GraphQL into a store; a restarted server
still holds it and its history; bad input leaves the store exactly as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT, EXIT_OK, main
from graphsim.workspace import Workspace
from tests.conftest import GraphQLClient

DATA = Path(__file__).parent / "data"
SAMPLE = [
    DATA / "123456789012" / "authorization-details.json",
    DATA / "210987654321" / "authorization-details.json",
    DATA / "123456789012" / "northwind-invoices.bucket-policy.json",
    DATA / "123456789012" / "bucket-policy-northwind-shared-artifacts.json",
    DATA / "northwind-org",
    DATA / "northwind-queues.yaml",
]
INVOICE = "arn:aws:s3:::northwind-invoices/2024/inv-1.pdf"
HTTPS = ["--context", "aws:RequestedRegion=eu-west-1", "--context", "aws:SecureTransport=true"]


def store_state(db: Path) -> list[object]:
    with sqlite3.connect(db) as conn:
        return [conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in ("worlds", "changes", "snapshots")]


def test_cli_import_then_questions_from_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "g.db"
    assert main(["import", *map(str, SAMPLE), "--world", "northwind", "--db", str(db)]) == EXIT_OK
    assert "imported world 'northwind' (version 0): 20 users, 10 groups, 15 roles" in capsys.readouterr().out
    # A bucket policy Deny beats AdministratorAccess: only the archiver deletes invoices.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    assert main(["can", "alice.admin", "s3:DeleteObject", INVOICE, *HTTPS, "--world", "northwind", "--db", str(db), "--expect", "EXPLICIT_DENY"]) == EXIT_OK
    assert main(["can", "invoice-archiver", "s3:DeleteObject", INVOICE, *HTTPS, "--world", "northwind", "--db", str(db), "--expect", "ALLOWED"]) == EXIT_OK
    capsys.readouterr()
    assert main(["worlds", "--db", str(db), "--json"]) == EXIT_OK
    assert [w["name"] for w in json.loads(capsys.readouterr().out)] == ["final-friday", "northwind"]
    # Export then import reproduces the same decisions.
    out = tmp_path / "northwind.yaml"
    assert main(["export", "--world", "northwind", "--format", "yaml", "--output", str(out), "--db", str(db)]) == EXIT_OK
    assert main(["can", "alice.admin", "s3:DeleteObject", INVOICE, *HTTPS, "--world", str(out), "--expect", "EXPLICIT_DENY"]) == EXIT_OK


def test_cli_bad_input_names_the_file_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "g.db"
    Workspace.open(db)
    before = store_state(db)
    truncated = tmp_path / "auth.json"
    truncated.write_text(SAMPLE[0].read_text()[:5000])
    assert main(["import", str(truncated), "--world", "broken", "--db", str(db)]) == EXIT_INPUT
    assert f"{truncated}: not valid JSON" in capsys.readouterr().err
    missing = json.loads(SAMPLE[0].read_text())
    missing["Policies"] = [p for p in missing["Policies"] if p["PolicyName"] != "NorthwindFinanceInvoices"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(missing))
    assert main(["import", str(partial), "--world", "broken", "--db", str(db)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert str(partial) in err and "PolicyArn: no policy arn:aws:iam::123456789012:policy/" in err
    assert main(["import", str(SAMPLE[0]), "--world", "final-friday", "--db", str(db)]) == EXIT_INPUT
    assert "already exists" in capsys.readouterr().err
    assert store_state(db) == before


def test_graphql_import_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    files = []
    for path in SAMPLE:
        if path.is_dir():
            content = json.dumps({p.name: json.loads(p.read_text()) for p in sorted(path.glob("*.json"))})
            files.append({"name": f"{path.name}/", "content": content})
        else:
            files.append({"name": str(path.relative_to(DATA)), "content": path.read_text()})
    mutation = """mutation($files: [ImportFileInput!]!) { importWorld(name: "northwind", files: $files) {
        __typename ... on WorldPayload { world { name version } findings { message } }
        ... on InvalidImport { message problems { source path rule } } } }"""
    ws = Workspace.open(db)
    with TestClient(create_app(ws)) as http:
        result = GraphQLClient(http, ws).data(mutation, files=files)["importWorld"]
        assert result == {"__typename": "WorldPayload", "world": {"name": "northwind", "version": 0}, "findings": []}
        bad = GraphQLClient(http, ws).data(mutation, files=[{"name": "auth.json", "content": '{"UserDetailList": ['}])["importWorld"]
        assert bad["__typename"] == "InvalidImport" and bad["problems"][0]["source"] == "auth.json"
    restarted = Workspace.open(db)
    with TestClient(create_app(restarted)) as http:
        gql = GraphQLClient(http, restarted)
        world = gql.data('{ world(name: "northwind") { version history { mutation summary } } }')["world"]
        assert world["history"][0]["mutation"] == "importWorld"
        query = """query($ctx: [ContextEntryInput!]) { can(principal: "alice.admin", action: "s3:DeleteObject", world: "northwind",
            resource: "arn:aws:s3:::northwind-invoices/2024/inv-1.pdf", context: $ctx) { decision blockedBy matchedStatements { sid } } }"""
        ctx = [{"contextKeyName": "aws:RequestedRegion", "contextKeyValues": ["eu-west-1"]},
               {"contextKeyName": "aws:SecureTransport", "contextKeyValues": ["true"], "contextKeyType": "boolean"}]
        assert gql.data(query, ctx=ctx)["can"] == {"decision": "EXPLICIT_DENY", "blockedBy": "RESOURCE", "matchedStatements": [{"sid": "OnlyArchiverDeletes"}]}
