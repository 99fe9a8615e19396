"""Access reviews through GraphQL, the CLI, the CSV download and the Python client, with exact
answers on the demo world and the Northwind sample.

The expected answers follow AWS's evaluation logic: an explicit Deny beats an Allow (priya and
the DevOps Deny), a trust policy naming the account needs an identity allow (only
administrators assume ClassifiedReader).
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx
import pytest
from graphsim_client import GraphsimClient

from graphsim.cli import EXIT_OK, main
from tests.conftest import GraphQLClient

CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
ROLE = "arn:aws:iam::111122223333:role/ClassifiedReader"
WHO = ["user/steve direct", "role/ClassifiedReader direct", "user/priya via-roles"]


def test_graphql_reviews(gql: GraphQLClient) -> None:
    data = gql.data("""{
      whoCan(actions: ["s3:GetObject"], resource: "arn:aws:s3:::final-friday-classified/q4.pdf") { label access viaRoles }
      whatCan(principal: "newbie") { policy }
      denialFix(principal: "newbie", action: "s3:PutObject", resource: "final-friday-reports/q4.pdf") { blockedBy statement }
      findings(rules: ["user-direct-policy"]) { path severity }
      accessMatrix(actions: ["s3:GetObject"], resources: ["arn:aws:s3:::final-friday-classified/q4.pdf"], principals: ["newbie", "steve", "priya"]) {
        cells { principal decision } principalGroups }
      whatIf(changes: [{mutation: "addUserToGroup", arguments: {user: "newbie", group: "HR"}}],
             questions: [{principal: "newbie", action: "s3:PutObject", resource: "final-friday-reports/hr/x.csv",
                          context: [{contextKeyName: "aws:SourceIp", contextKeyValues: ["10.1.2.3"]}]}]) {
        changed before { decision } after { decision matchedStatements { path } } }
      escalationPaths(principal: "newbie") { target }
    }""")
    assert [f"{e['label']} {e['access']}" for e in data["whoCan"]] == WHO
    assert data["whoCan"][2]["viaRoles"] == [ROLE]
    assert data["whatCan"]["policy"] == {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::final-friday-reports"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-reports/*"},
    ]}
    assert data["denialFix"] == {"blockedBy": "identity", "statement": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::final-friday-reports/q4.pdf"}}
    assert data["findings"] == [{"path": "user/newbie", "severity": "low"}, {"path": "user/omar", "severity": "low"}]
    assert [(c["principal"].rsplit("/", 1)[1], c["decision"]) for c in data["accessMatrix"]["cells"]] == [
        ("newbie", "IMPLICIT_DENY"), ("steve", "ALLOWED"), ("priya", "EXPLICIT_DENY")]
    (what_if,) = data["whatIf"]
    assert what_if["changed"] and (what_if["before"]["decision"], what_if["after"]["decision"]) == ("IMPLICIT_DENY", "ALLOWED")
    assert what_if["after"]["matchedStatements"] == [{"path": "user/newbie -> group/HR -> policy/HRReports -> Statement[1] (Sid PublishReports)"}]
    assert data["escalationPaths"] == []
    # Nothing was committed by whatIf.
    assert gql.data('{ world { user(name: "newbie") { groups { name } } } }')["world"]["user"]["groups"] == []


def test_the_walkthrough_denial_fix_is_the_missing_statement(gql: GraphQLClient) -> None:
    gql.data('mutation($d: String!) { updatePolicy(policy: "FinalFridayReportsReadOnly", document: $d) { __typename } }', d=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::final-friday-reports"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::final-friday-reports/*"}]}))
    fix = gql.data('{ denialFix(principal: "newbie", action: "s3:ListAllMyBuckets", resource: "*") { blockedBy statement } }')["denialFix"]
    assert fix == {"blockedBy": "identity", "statement": {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}}


def test_cli_reviews(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["who-can", CLASSIFIED, "s3:GetObject", "--json"]) == EXIT_OK
    assert [f"{e['label']} {e['access']}" for e in json.loads(capsys.readouterr().out)] == WHO
    assert main(["what-can", "newbie", "--json"]) == EXIT_OK
    assert len(json.loads(capsys.readouterr().out)["policy"]["Statement"]) == 3
    out = tmp_path / "m.csv"
    assert main(["matrix", "--actions", "s3:GetObject", "s3:ListBucket", "--resources", "final-friday-reports", "final-friday-reports/q4.pdf",
                 "--principals", "newbie", "dana", "--output", str(out), "--quiet"]) == EXIT_OK
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 * 2 * 2
    assert {(r["principal"].rsplit("/", 1)[1], r["action"], r["resource"].split(":::")[1], r["decision"]) for r in rows} == {
        ("newbie", "s3:GetObject", "final-friday-reports", "IMPLICIT_DENY"), ("newbie", "s3:GetObject", "final-friday-reports/q4.pdf", "ALLOWED"),
        ("newbie", "s3:ListBucket", "final-friday-reports", "ALLOWED"), ("newbie", "s3:ListBucket", "final-friday-reports/q4.pdf", "IMPLICIT_DENY"),
        # HRReports' ReadReports lists both actions and both ARNs: every combination matches it.
        ("dana", "s3:GetObject", "final-friday-reports", "ALLOWED"), ("dana", "s3:GetObject", "final-friday-reports/q4.pdf", "ALLOWED"),
        ("dana", "s3:ListBucket", "final-friday-reports", "ALLOWED"), ("dana", "s3:ListBucket", "final-friday-reports/q4.pdf", "ALLOWED"),
    }
    capsys.readouterr()
    assert main(["findings", "--json", "--rule", "unattached-policy"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out) == []
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps([{"mutation": "removeUserFromGroup", "arguments": {"user": "priya", "group": "DevOps"}}]))
    questions = tmp_path / "q.yaml"
    questions.write_text(f"- principal: priya\n  action: s3:GetObject\n  resource: {CLASSIFIED}\n  expect: ALLOWED\n")
    assert main(["what-if", str(changes), "--questions", str(questions), "--json"]) == EXIT_OK
    assert [(r["before"], r["after"]) for r in json.loads(capsys.readouterr().out)] == [("EXPLICIT_DENY", "ALLOWED")]


def test_cli_diff_between_a_fork_and_its_parent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from graphsim.workspace import Workspace
    from graphsim.world.commands import RemoveUserFromGroup

    db = tmp_path / "g.db"
    ws = Workspace.open(db)
    fork = ws.fork("final-friday", "what-if")
    ws.apply(fork, RemoveUserFromGroup("dana", "HR"))
    assert main(["diff", "final-friday", "what-if", "--actions", "s3:GetObject", "--resources", "arn:aws:s3:::final-friday-reports/q4.pdf", "--db", str(db), "--json"]) == EXIT_OK
    assert [(c["principal"].rsplit("/", 1)[1], c["change"]) for c in json.loads(capsys.readouterr().out)] == [("dana", "lost")]


def test_client_reviews_and_csv_download(live_server: str) -> None:
    with GraphsimClient(live_server) as gs:
        assert [f"{e['label']} {e['access']}" for e in gs.who_can("s3:GetObject", CLASSIFIED)] == WHO
        assert gs.what_can("newbie")["policy"]["Statement"][0] == {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
        text = gs.matrix(["s3:GetObject"], [CLASSIFIED], ["newbie", "steve"], csv=True)
        assert [r["decision"] for r in csv.DictReader(io.StringIO(text))] == ["IMPLICIT_DENY", "ALLOWED"]
        grid = gs.matrix(["s3:GetObject"], [CLASSIFIED], ["priya"])
        assert grid["cells"] == [{"principal": "arn:aws:iam::111122223333:user/priya", "action": "s3:GetObject", "resource": CLASSIFIED, "decision": "EXPLICIT_DENY"}]
        changed = gs.what_if([{"mutation": "addUserToGroup", "arguments": {"user": "newbie", "group": "Administrators"}}],
                             [{"principal": "newbie", "action": "iam:CreateUser", "resource": "*"}])
        assert changed[0]["changed"] is True
        assert {f["rule"] for f in gs.findings()} >= {"admin-equivalent", "wildcard-action", "user-direct-policy"}
        assert gs.escalation_paths("steve")[0]["alreadyAdmin"] is True
        assert gs.denial_fix("newbie", "s3:PutObject", "arn:aws:s3:::final-friday-reports/x")["blockedBy"] == "identity"
    bad = httpx.get(f"{live_server}/export/matrix.csv", params={"actions": "s3:GetObject"})
    assert bad.status_code == 400


def test_reviews_on_the_northwind_sample(tmp_path: Path) -> None:
    from graphsim.analysis import who_can
    from graphsim.engine import ContextEntry
    from graphsim.imports import import_sources, load_source_file
    from graphsim.workspace import Workspace

    data = Path(__file__).parent / "data"
    files = [data / "123456789012" / "authorization-details.json", data / "210987654321" / "authorization-details.json",
             data / "123456789012" / "northwind-invoices.bucket-policy.json", data / "123456789012" / "bucket-policy-northwind-shared-artifacts.json",
             data / "northwind-org", data / "northwind-queues.yaml"]
    ws = Workspace()
    world = ws.import_world("northwind", import_sources([load_source_file(f) for f in files]).world)
    ctx = (ContextEntry("aws:RequestedRegion", ("eu-west-1",)), ContextEntry("aws:SecureTransport", ("true",), "boolean"))
    engine = ws.engine("northwind")
    entries = who_can(engine, ["s3:DeleteObject"], "arn:aws:s3:::northwind-invoices/2024/inv-1.pdf", ctx)
    # The bucket policy's OnlyArchiverDeletes Deny leaves exactly the archiver (who_can cross-checked against engine.can).
    allowed = {e.label for e in entries if e.access == "direct"}
    assert allowed == {e.label for e in entries if e.decision is not None and e.decision.allowed}
    assert all(engine.can(e.principal, "s3:DeleteObject", "arn:aws:s3:::northwind-invoices/2024/inv-1.pdf", ctx).allowed for e in entries if e.access == "direct")
    assert any("invoice-archiver" in label for label in allowed) and not any("alice.admin" in label for label in allowed)
    assert world.name == "northwind"
