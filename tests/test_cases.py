"""Runs every case in tests/cases/<topic>/*.json: policies, a request, the expected decision
(or validation error) and the AWS doc URL of the rule the case pins."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from graphsim.engine import ContextEntry, simulate_custom
from graphsim.errors import PolicyValidationError

CASES_DIR = Path(__file__).parent / "cases"


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
        assert ("expect" in case) != ("expectError" in case), case["name"]


@pytest.mark.parametrize("case", ALL_CASES)
def test_case(case: dict[str, Any]) -> None:
    request = case["request"]
    context = [ContextEntry(e["key"], tuple(e["values"]), e.get("type", "string")) for e in request.get("context", [])]
    # The layer inputs mirror simulateCustomPolicy's (resourcePolicy, resourceOwner, ...).
    run = lambda: simulate_custom(  # noqa: E731
        case["policies"],
        request["action"],
        request.get("resource", "*"),
        context,
        caller_arn=request.get("callerArn"),
        resource_policy=case.get("resourcePolicy"),
        resource_owner=case.get("resourceOwner"),
        permissions_boundary=case.get("permissionsBoundary"),
        session_policy=case.get("sessionPolicy"),
        scps=case.get("scps"),
        rcps=case.get("rcps"),
        management_account=case.get("managementAccount"),
    )
    if "expectError" in case:
        with pytest.raises(PolicyValidationError) as info:
            run()
        want = case["expectError"]
        # Problems carry the input's name (policyInputList[0].Statement[0]...); cases pin the path
        # inside the document.
        paths = {re.sub(r"^policyInputList\[\d+\]\.", "", p.path): p.rule for p in info.value.problems}
        assert want["path"] in paths, f"no problem at {want['path']}; got {paths}"
        assert want["contains"] in paths[want["path"]]
        return
    decision = run()
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
