"""Runs every case in tests/cases/<topic>/*.json: policies, a request, the expected decision
(or validation error) and the AWS doc URL of the rule the case pins."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from graphsim.engine import ContextEntry, CustomSimulation, Decision, simulate
from graphsim.errors import PolicyValidationError

CASES_DIR = Path(__file__).parent / "cases"
# Every key a case may hold: a misspelt one would otherwise be ignored and the case pass untested.
CASE_KEYS = {"name", "doc", "why", "policies", "request", "expect", "expectError", "resourcePolicy", "resourceOwner", "permissionsBoundary",
             "sessionPolicy", "scps", "rcps", "managementAccount"}
REQUEST_KEYS = {"action", "resource", "callerArn", "context"}
EXPECT_KEYS = {"decision", "missingContextValues", "matchedSids", "blockedBy", "allowedByPermissionsBoundary", "allowedByOrganizations"}
EXPECT_ERROR_KEYS = {"path", "contains"}


def _load() -> list[Any]:
    params = []
    for file in sorted(CASES_DIR.glob("*/*.json")):
        data = json.loads(file.read_text(encoding="utf-8"))
        for i, case in enumerate(data["cases"]):
            case_id = f"{file.parent.name}/{file.stem}[{i}] {case['name']}"
            params.append(pytest.param(case, id=case_id))
    return params


ALL_CASES = _load()


def test_corpus_is_well_formed() -> None:
    assert len(ALL_CASES) >= 3
    for param in ALL_CASES:
        case = param.values[0]
        assert case["doc"].startswith("https://docs.aws.amazon.com/") or case["doc"].startswith("https://aws.amazon.com/"), case["name"]
        check_keys(case)


def check_keys(case: dict[str, Any]) -> None:
    """Only known keys, so that a misspelt one fails instead of leaving its check undone."""
    name = case.get("name")
    assert ("expect" in case) != ("expectError" in case), f"{name}: give expect or expectError"
    for where, keys, allowed in (
        ("case", case, CASE_KEYS),
        ("request", case["request"], REQUEST_KEYS),
        ("expect", case.get("expect", {}), EXPECT_KEYS),
        ("expectError", case.get("expectError", {}), EXPECT_ERROR_KEYS),
    ):
        unknown = sorted(set(keys) - allowed)
        assert not unknown, f"{name}: unknown {where} keys {unknown}; known: {sorted(allowed)}"
    if "expect" in case:
        assert "decision" in case["expect"], f"{name}: expect needs a decision"
    else:
        assert set(case["expectError"]) == EXPECT_ERROR_KEYS, f"{name}: expectError needs path and contains"


def test_the_runner_rejects_unknown_expect_keys() -> None:
    case = {"name": "misspelt", "doc": "https://docs.aws.amazon.com/", "policies": [], "request": {"action": "s3:GetObject"},
            "expect": {"decision": "IMPLICIT_DENY", "blockedby": "identity"}}
    with pytest.raises(AssertionError, match=r"unknown expect keys \['blockedby'\]"):
        check_keys(case)
    check_keys({**case, "expect": {"decision": "IMPLICIT_DENY", "blockedBy": "identity"}})


def request_of(case: dict[str, Any]) -> CustomSimulation:
    """The case as the simulateCustomPolicy request the API and the CLI build."""
    request = case["request"]
    levels = {key: None if case.get(key) is None else tuple(tuple(level) for level in case[key]) for key in ("scps", "rcps")}
    return CustomSimulation(
        policies=tuple(case["policies"]),
        actions=(request["action"],),
        resources=(request.get("resource", "*"),),
        context=tuple(ContextEntry(e["key"], tuple(e["values"]), e.get("type", "string")) for e in request.get("context", [])),
        caller_arn=request.get("callerArn"),
        permissions_boundaries=() if case.get("permissionsBoundary") is None else (case["permissionsBoundary"],),
        resource_policy=case.get("resourcePolicy"),
        resource_owner=case.get("resourceOwner"),
        session_policy=case.get("sessionPolicy"),
        scps=levels["scps"],
        rcps=levels["rcps"],
        management_account=case.get("managementAccount"),
    )


def run(case: dict[str, Any]) -> Decision:
    (decision,) = simulate(request_of(case))
    return decision


@pytest.mark.parametrize("case", ALL_CASES)
def test_case(case: dict[str, Any]) -> None:
    check_keys(case)
    if "expectError" in case:
        with pytest.raises(PolicyValidationError) as info:
            run(case)
        want = case["expectError"]
        # Problems carry the input's name (policyInputList[0].Statement[0]...); cases pin the path
        # inside the document.
        paths = {re.sub(r"^policyInputList\[\d+\]\.", "", p.path): p.rule for p in info.value.problems}
        assert want["path"] in paths, f"no problem at {want['path']}; got {paths}"
        assert want["contains"] in paths[want["path"]]
        return
    decision = run(case)
    expect = case["expect"]
    assert decision.decision.value == expect["decision"], decision
    if "missingContextValues" in expect:
        assert sorted(decision.missing_context_values) == sorted(expect["missingContextValues"])
    if "matchedSids" in expect:
        assert [m.sid for m in decision.matched_statements] == expect["matchedSids"]
    if "blockedBy" in expect:
        assert (decision.blocked_by.value if decision.blocked_by else None) == expect["blockedBy"]
    if "allowedByPermissionsBoundary" in expect:
        assert decision.allowed_by_boundary == expect["allowedByPermissionsBoundary"]
    if "allowedByOrganizations" in expect:
        assert decision.allowed_by_organizations == expect["allowedByOrganizations"]
