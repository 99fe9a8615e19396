"""graphsim test: the walkthrough's expectations pass on the demo world, and fail (exit 1) when
newbie's policy loses s3:ListAllMyBuckets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from graphsim.cli import EXIT_EXPECTATION, EXIT_INPUT, EXIT_OK, main
from graphsim.world.io import load_demo_world, world_to_dict

EXAMPLE = Path(__file__).resolve().parent.parent / "client" / "examples" / "walkthrough-expectations.yaml"


def test_the_walkthrough_expectations_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "junit.xml"
    assert main(["test", str(EXAMPLE), "--junit", str(report)]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == "8 passed, 0 failed"
    suite = ET.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("8", "0")


def test_they_fail_when_the_policy_loses_list_all_my_buckets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = world_to_dict(load_demo_world())
    policy = next(p for p in data["policies"] if p["name"] == "FinalFridayReportsReadOnly")
    policy["defaultVersionId"] = "v1"  # the walkthrough's first draft, without s3:ListAllMyBuckets
    world = tmp_path / "first-draft.json"
    world.write_text(json.dumps(data))
    report = tmp_path / "junit.xml"
    assert main(["test", str(EXAMPLE), "--world", str(world), "--junit", str(report)]) == EXIT_EXPECTATION
    out = capsys.readouterr().out
    assert "FAIL    newbie sees the bucket list (the permission the first draft forgot)" in out
    assert '{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}' in out
    assert out.splitlines()[-1] == "7 passed, 1 failed"
    failures = ET.parse(report).getroot().findall("testcase/failure")
    assert [f.get("message") for f in failures] == ["expected ALLOWED, got IMPLICIT_DENY"]


def test_a_malformed_expectation_names_the_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- principal: newbie\n  action: s3:GetObject\n  resource: '*'\n  expect: maybe\n")
    assert main(["test", str(bad)]) == EXIT_INPUT
    assert "[0].expect: must be ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY or DENIED" in capsys.readouterr().err
