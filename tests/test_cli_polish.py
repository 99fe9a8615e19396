"""A CLI that feels finished: --version, shell completion, import of folders with a findings
summary, quiet ends on a closed pipe (141) and Ctrl-C (130), what-if that checks its
expectations, findings that name their account. Exit codes are checked on real processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from graphsim import __version__
from graphsim.cli import EXIT_BROKEN_PIPE, EXIT_EXPECTATION, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, main
from graphsim.workspace import Workspace
from graphsim.world.io import world_to_dict

DATA = Path(__file__).parent / "data"
GRAPHSIM = [sys.executable, "-m", "graphsim.cli"]


def _run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRAPHSIM, *args], capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload, no-any-return]


def test_version() -> None:
    done = _run("--version")
    assert (done.returncode, done.stdout.strip()) == (0, f"graphsim {__version__}")


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o nospace -o default -o bashdefault -F"), ("zsh", "#compdef graphsim"), ("fish", "complete --command graphsim")])
def test_completion_prints_the_shells_script(shell: str, marker: str) -> None:
    done = _run("completion", shell)
    assert done.returncode == 0 and marker in done.stdout and "graphsim" in done.stdout


def _complete(line: str, env: dict[str, str]) -> list[str]:
    """What the shell scripts do: run graphsim with argcomplete's variables and its answers on
    fd 8 (its debug stream on fd 9), here both through sh as the bash script redirects them."""
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m graphsim.cli 8>&1 9>/dev/null 1>/dev/null 2>/dev/null', sys.executable],
        env={**env, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line, "COMP_POINT": str(len(line)), "COMP_TYPE": "9"},
        capture_output=True, text=True, timeout=60,
    )
    return sorted(word.strip() for word in done.stdout.split("\n") if word.strip())


def test_completion_completes_commands_options_and_the_stores_world_names(tmp_path: Path) -> None:
    db = str(tmp_path / "team.db")
    assert main(["fork", "final-friday", "review", "--db", db]) == EXIT_OK
    env = dict(os.environ)
    assert _complete("graphsim wor", env) == ["worlds"]
    assert _complete("graphsim serve --wor", env) == ["--workers", "--world"]
    assert _complete(f"graphsim can --db {db} --world re", env) == ["review"]


def test_import_takes_a_folder_of_account_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The README's layout: an account folder per account (its authorization details and bucket
    policies, which the folder's name says the account owns), the organizations folder, a native
    world file, and a README the import passes over."""
    exports = tmp_path / "northwind"
    for name in ("123456789012", "210987654321", "northwind-org"):
        shutil.copytree(DATA / name, exports / name)
    shutil.copy(DATA / "northwind-queues.yaml", exports)
    (exports / "README.md").write_text("exports of 2026-11-30\n")
    db = str(tmp_path / "s.db")
    assert main(["import", str(exports), "--world", "by-folder", "--db", db]) == EXIT_OK
    files = [DATA / "123456789012" / "authorization-details.json", DATA / "210987654321" / "authorization-details.json",
             DATA / "123456789012" / "northwind-invoices.bucket-policy.json", DATA / "123456789012" / "bucket-policy-northwind-shared-artifacts.json",
             DATA / "northwind-org", DATA / "northwind-queues.yaml"]
    assert main(["import", *map(str, files), "--world", "by-file", "--db", db]) == EXIT_OK
    ws = Workspace.open(db)
    by_folder, by_file = world_to_dict(ws.world("by-folder")), world_to_dict(ws.world("by-file"))
    assert by_folder.pop("name") == "by-folder" and by_file.pop("name") == "by-file"
    described = by_folder.pop("description")  # names every source the folder stood for, not the README
    assert "northwind/210987654321/authorization-details.json" in described and "README" not in described
    by_file.pop("description")
    assert by_folder == by_file
    assert len(by_folder["accounts"]) == 3 and any(r.get("policy") for r in by_folder["resources"])
    empty = tmp_path / "empty"
    (empty / "notes").mkdir(parents=True)
    (empty / "README.md").write_text("nothing here\n")
    capsys.readouterr()
    assert main(["import", str(empty), "--world", "nothing", "--db", db]) == EXIT_INPUT
    assert "holds no exports" in capsys.readouterr().err


def _typos_export(path: Path, count: int) -> Path:
    """An authorization-details export whose one inline policy has ``count`` misspelt actions."""
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [f"s3:GetObjekt{i}" for i in range(count)], "Resource": "*"}]}
    user = {"UserName": "u", "UserId": "AIDAEXAMPLE0000000001", "Arn": "arn:aws:iam::123456789012:user/u", "Path": "/", "CreateDate": "2026-01-01T00:00:00Z",
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": doc}], "GroupList": [], "AttachedManagedPolicies": []}
    path.write_text(json.dumps({"UserDetailList": [user], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}))
    return path


def test_a_large_import_summarises_its_findings_by_kind(tmp_path: Path) -> None:
    export = str(_typos_export(tmp_path / "auth.json", 2500))
    db = str(tmp_path / "s.db")
    summary = _run("import", export, "--world", "a", "--db", db)
    assert summary.returncode == 0
    lines = summary.stderr.splitlines()
    assert len(lines) < 10
    assert lines[0] == "findings: 2,500 (2,500 warning), by kind:"
    assert lines[1].split()[:4] == ["2,500", "warning", "unknown", "action"]
    assert summary.stdout.strip() == "imported world 'a' (version 0): 1 users, 0 groups, 0 roles, 0 managed policies; 2500 findings"
    quiet = _run("import", export, "--world", "b", "--db", db, "--quiet")
    assert (quiet.returncode, quiet.stderr) == (0, "") and quiet.stdout.startswith("imported world 'b'")
    listed = _run("import", export, "--world", "c", "--db", db, "--findings")
    assert listed.returncode == 0 and len([line for line in listed.stderr.splitlines() if line.startswith("finding: ")]) == 2500


def test_a_closed_pipe_ends_quietly_with_141(tmp_path: Path) -> None:
    proc = subprocess.Popen([*GRAPHSIM, "findings"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "GRAPHSIM_DB": str(tmp_path / "s.db")})
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before graphsim writes its first line (`| head -0`)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == EXIT_BROKEN_PIPE == 141
    assert err == ""


def test_ctrl_c_ends_quietly_with_130(tmp_path: Path) -> None:
    fifo = tmp_path / "expectations.yaml"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*GRAPHSIM, "test", str(fifo)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "GRAPHSIM_DB": str(tmp_path / "s.db")}, text=True)
    try:
        with open(fifo, "w") as writer:  # returns once graphsim has opened the file: it is inside the command
            time.sleep(0.2)  # and waiting to read it
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
            del writer
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err and err.strip() == ""


def test_ctrl_c_in_matrix_is_quiet(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("graphsim.analysis.access_matrix", interrupted)
    assert main(["matrix", "--actions", "s3:GetObject", "--resources", "final-friday-reports/q4.pdf"]) == EXIT_INTERRUPTED
    assert "Traceback" not in capsys.readouterr().err


CHANGES = [{"mutation": "addUserToGroup", "arguments": {"user": "newbie", "group": "HR"}}]


def test_what_if_checks_each_expect_against_the_answer_after_the_changes(tmp_path: Path) -> None:
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps(CHANGES))
    questions = tmp_path / "questions.yaml"
    # HR's policy lets its members list the reports bucket, and only that.
    questions.write_text(
        "- {principal: newbie, action: s3:GetBucketLocation, resource: final-friday-reports, expect: ALLOWED}\n"
        "- {principal: newbie, action: s3:GetObject, resource: final-friday-classified/q4.pdf, expect: DENIED}\n"
        "- {principal: newbie, action: s3:GetObject, resource: final-friday-reports/q4.pdf}\n"
    )
    met = _run("what-if", str(changes), "--questions", str(questions))
    assert met.returncode == EXIT_OK, met.stderr
    assert "CHANGED  newbie s3:GetBucketLocation final-friday-reports: IMPLICIT_DENY -> ALLOWED  (expected ALLOWED: met)" in met.stdout
    assert "(expected DENIED: met)" in met.stdout
    questions.write_text("- {principal: newbie, action: s3:GetObject, resource: final-friday-classified/q4.pdf, expect: ALLOWED}\n")
    unmet = _run("what-if", str(changes), "--questions", str(questions))
    assert unmet.returncode == EXIT_EXPECTATION
    assert "IMPLICIT_DENY -> IMPLICIT_DENY  (expected ALLOWED: NOT MET)" in unmet.stdout
    assert "1 of 1 expectations not met after the changes" in unmet.stderr
    as_json = _run("what-if", str(changes), "--questions", str(questions), "--json")
    assert as_json.returncode == EXIT_EXPECTATION
    assert [(r["expect"], r["met"]) for r in json.loads(as_json.stdout)] == [("ALLOWED", False)]


def test_graphql_what_if_answers_met(gql) -> None:  # type: ignore[no-untyped-def]
    data = gql.data("""{ whatIf(changes: [{mutation: "addUserToGroup", arguments: {user: "newbie", group: "HR"}}],
        questions: [{principal: "newbie", action: "s3:GetBucketLocation", resource: "final-friday-reports", expect: "ALLOWED"},
                    {principal: "newbie", action: "s3:GetObject", resource: "final-friday-classified/q4.pdf", expect: "allowed"},
                    {principal: "newbie", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf"}]) { afterDecision met } }""")
    assert data["whatIf"] == [{"afterDecision": "ALLOWED", "met": True}, {"afterDecision": "IMPLICIT_DENY", "met": False}, {"afterDecision": "ALLOWED", "met": None}]
    bad = gql('{ whatIf(changes: [], questions: [{principal: "newbie", action: "s3:GetObject", resource: "*", expect: "MAYBE"}]) { met } }')
    assert bad["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "questions[0].expect"}


def test_findings_name_the_account_in_a_world_of_several(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    files = [DATA / "123456789012" / "authorization-details.json", DATA / "210987654321" / "authorization-details.json"]
    assert main(["import", *map(str, files), "--world", "nw", "--db", db, "--quiet"]) == EXIT_OK
    capsys.readouterr()
    assert main(["findings", "--world", "nw", "--db", db, "--rule", "admin-equivalent", "--rule", "wildcard-action"]) == EXIT_OK
    out = capsys.readouterr().out
    # Each account has its OrganizationAccountAccessRole: the two lines differ by their account.
    assert "role/OrganizationAccountAccessRole  [account 123456789012]" in out
    assert "role/OrganizationAccountAccessRole  [account 210987654321]" in out
    assert "policy/AdministratorAccess -> Statement[0]  [AWS-managed]" in out
    assert main(["findings", "--world", "nw", "--db", db, "--rule", "admin-equivalent", "--json"]) == EXIT_OK
    accounts = sorted(f["account"] for f in json.loads(capsys.readouterr().out) if f["path"] == "role/OrganizationAccountAccessRole")
    assert accounts == ["123456789012", "210987654321"]
    # One account: no account column (the demo world's findings read as before).
    assert main(["findings", "--rule", "admin-equivalent"]) == EXIT_OK
    assert "[account" not in capsys.readouterr().out
