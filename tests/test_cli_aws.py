"""graphsim simulate-custom-policy / simulate-principal-policy accept AWS CLI input and print
AWS's output shape.

D: https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from graphsim import batch
from graphsim.awscli import simulate_custom_policy
from graphsim.cli import EXIT_INPUT, EXIT_OK, main

# The AWS CLI's own example: a policy allowing dynamodb:* after 2018-08-16T12:00:00Z, asked at
# 2019-04-25T11:00:00Z; its documented output follows.
AWS_EXAMPLE_POLICY = '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}'


def aws_request(when: str) -> dict[str, object]:
    return {
        "PolicyInputList": [AWS_EXAMPLE_POLICY],
        "ActionNames": ["dynamodb:CreateBackup"],
        "ContextEntries": [{"ContextKeyName": "aws:CurrentTime", "ContextKeyValues": [when], "ContextKeyType": "date"}],
    }


def test_the_aws_cli_example_gives_the_documented_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps(aws_request("2019-04-25T11:00:00Z")))
    assert main(["simulate-custom-policy", "--cli-input-json", f"file://{request}"]) == EXIT_OK
    (result,) = json.loads(capsys.readouterr().out)["EvaluationResults"]
    assert result["EvalActionName"] == "dynamodb:CreateBackup"
    assert result["EvalResourceName"] == "*"
    assert result["EvalDecision"] == "allowed"
    assert result["MissingContextValues"] == []
    (statement,) = result["MatchedStatements"]
    assert statement["SourcePolicyId"] == "PolicyInputList.1"
    assert statement["StartPosition"] == {"Line": 1, "Column": 38}
    assert statement["EndPosition"] == {"Line": 1, "Column": 167}


def test_the_aws_cli_example_before_the_date_is_an_implicit_deny() -> None:
    (result,) = simulate_custom_policy(aws_request("2014-04-25T11:00:00Z"))["EvaluationResults"]
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MatchedStatements"] == []


def test_every_layer_input_and_its_detail_fields() -> None:
    allow_s3 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    only_list = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
    full = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    request = {
        "PolicyInputList": [allow_s3],
        "PermissionsBoundaryPolicyInputList": [only_list],
        "ActionNames": ["s3:GetObject", "s3:ListBucket"],
        "ResourceArns": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/q4.pdf"],
        "CallerArn": "arn:aws:iam::111122223333:user/alice",
        "ServiceControlPolicyInputList": [[full], [full]],
        "MaxItems": 3,
    }
    page = simulate_custom_policy(request)
    assert page["IsTruncated"] is True and page["Marker"] == "3"
    rest = simulate_custom_policy({**request, "Marker": page["Marker"]})
    assert rest["IsTruncated"] is False
    results = {(r["EvalActionName"], r["EvalResourceName"]): r for r in page["EvaluationResults"] + rest["EvaluationResults"]}
    assert len(results) == 4
    # The boundary caps the identity grant: only ListBucket survives (access_policies_boundaries.html).
    get = results[("s3:GetObject", "arn:aws:s3:::reports/q4.pdf")]
    assert get["EvalDecision"] == "implicitDeny"
    assert get["PermissionsBoundaryDecisionDetail"] == {"AllowedByPermissionsBoundary": False}
    assert get["OrganizationsDecisionDetail"] == {"AllowedByOrganizations": True}
    assert get["GraphsimBlockedBy"] == "boundary"
    listed = results[("s3:ListBucket", "arn:aws:s3:::reports")]
    assert listed["EvalDecision"] == "allowed"
    assert listed["ResourceSpecificResults"][0]["EvalResourceDecision"] == "allowed"


def test_unknown_and_unsupported_keys_are_named() -> None:
    from graphsim.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError) as info:
        simulate_custom_policy({"PolicyInputList": [AWS_EXAMPLE_POLICY], "ActionNames": ["s3:GetObject"], "ActionName": ["x"]})
    assert info.value.field == "ActionName"
    with pytest.raises(InvalidRequestError) as info:
        simulate_custom_policy({"ActionNames": ["s3:GetObject"]})
    assert info.value.field == "PolicyInputList"


def test_input_jsonl_answers_in_order_and_reports_bad_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = [json.dumps(aws_request("2019-04-25T11:00:00Z")), "{not json", json.dumps(aws_request("2014-01-01T00:00:00Z")), json.dumps({"ActionNames": []})]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert main(["simulate-custom-policy", "--input-jsonl", str(path), "--jobs", "1"]) == EXIT_INPUT
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["EvaluationResults"][0]["EvalDecision"] if "EvaluationResults" in o else o["Error"]["Line"] for o in out] == ["allowed", 2, "implicitDeny", 4]
    assert out[3]["Error"]["Field"] == "PolicyInputList"


def test_parallel_jobs_keep_the_input_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch, "FIRST", 5)
    monkeypatch.setattr(batch, "CHUNK", 7)
    dates = [f"20{10 + i % 15}-06-01T00:00:00Z" for i in range(60)]
    text = "".join(json.dumps(aws_request(d)) + "\n" for d in dates)
    sequential, parallel = io.StringIO(), io.StringIO()
    assert batch.run_jsonl(io.StringIO(text), sequential, simulate_custom_policy, jobs=1) == 0
    assert batch.run_jsonl(io.StringIO(text), parallel, simulate_custom_policy, jobs=2) == 0
    assert parallel.getvalue() == sequential.getvalue()
    decisions = [json.loads(line)["EvaluationResults"][0]["EvalDecision"] for line in parallel.getvalue().splitlines()]
    assert decisions == ["allowed" if d > "2018-08-16" else "implicitDeny" for d in dates]


def test_simulate_principal_policy_against_the_demo_world(capsys: pytest.CaptureFixture[str]) -> None:
    request = {
        "PolicySourceArn": "arn:aws:iam::111122223333:user/newbie",
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": ["arn:aws:s3:::final-friday-reports/q4.pdf", "arn:aws:s3:::final-friday-classified/q4.pdf"],
    }
    assert main(["simulate-principal-policy", "--cli-input-json", json.dumps(request)]) == EXIT_OK
    results = json.loads(capsys.readouterr().out)["EvaluationResults"]
    assert [r["EvalDecision"] for r in results] == ["allowed", "implicitDeny"]
    assert results[0]["MatchedStatements"][0]["SourcePolicyId"] == "FinalFridayReportsReadOnly"
    assert results[0]["MatchedStatements"][0]["SourcePolicyType"] == "user-managed"


def test_simulate_principal_policy_with_a_replacing_boundary() -> None:
    # PermissionsBoundaryPolicyInputList replaces the principal's boundary for the simulation.
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html
    from graphsim.awscli import simulate_principal_policy
    from graphsim.engine import Engine
    from graphsim.world.io import load_demo_world

    only_list = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})
    out = simulate_principal_policy(Engine(load_demo_world()), {
        "PolicySourceArn": "arn:aws:iam::111122223333:user/newbie",
        "ActionNames": ["s3:GetObject", "s3:ListBucket"],
        "ResourceArns": ["arn:aws:s3:::final-friday-reports/q4.pdf", "arn:aws:s3:::final-friday-reports"],
        "PermissionsBoundaryPolicyInputList": [only_list],
    })
    got = {(r["EvalActionName"], r["EvalResourceName"]): (r["EvalDecision"], r["PermissionsBoundaryDecisionDetail"]["AllowedByPermissionsBoundary"]) for r in out["EvaluationResults"]}
    assert got[("s3:GetObject", "arn:aws:s3:::final-friday-reports/q4.pdf")] == ("implicitDeny", False)
    assert got[("s3:ListBucket", "arn:aws:s3:::final-friday-reports")] == ("allowed", True)


def test_missing_context_values_are_listed_where_aws_lists_them() -> None:
    # EvaluationResult.MissingContextValues: "This list is used when the resource in a simulation
    # is "*" ... If you include a list of resources, then any missing context values are instead
    # included under the ResourceSpecificResults section."
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ResourceSpecificResult.html
    needs_ip = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]})
    request = {"PolicyInputList": [needs_ip], "ActionNames": ["s3:GetObject"], "ResourceArns": ["*", "arn:aws:s3:::reports/q4.pdf"]}
    star, specific = simulate_custom_policy(request)["EvaluationResults"]
    assert star["EvalResourceName"] == "*" and star["MissingContextValues"] == ["aws:SourceIp"]
    assert "ResourceSpecificResults" not in star
    assert specific["MissingContextValues"] == []
    (per_resource,) = specific["ResourceSpecificResults"]
    assert per_resource["EvalResourceName"] == "arn:aws:s3:::reports/q4.pdf"
    assert per_resource["MissingContextValues"] == ["aws:SourceIp"]
