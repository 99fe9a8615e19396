"""Bounded input lengths (issue 15): the strings a request brings (ARNs, context values) and the
wildcard patterns of its policies are refused past their limits, each a LIMIT_EXCEEDED naming the
limit and its ``graphsim serve`` flag, before anything is matched; the caches keyed by such strings
keep only short ones; a lone surrogate is a typed refusal everywhere.

The review's reproductions (a StringLike of ``"a?" * 30000`` against 120,000 characters took
5.4 s; an ARN pattern of 3,000 segments against a 100 KB ARN 148 s) are asserted as refusals,
never timed. Expected decisions follow AWS's ARN wildcard rules:
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from graphsim import arn, catalog
from graphsim import limits as L
from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT, main
from graphsim.engine import context as context_module
from graphsim.engine import principals, simulation
from graphsim.engine.simulation import CustomSimulation, simulate
from graphsim.errors import UnknownActionError
from graphsim.limits import DeadlineExceededError, Limits
from graphsim.policy.wildcards import compile_arn, glob_units
from graphsim.workspace import Workspace
from tests.conftest import served

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
SIMULATE = "query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) { evalDecision } }"
LIKE = "*" + "a?" * 30000 + "b*"  # the review's StringLike value
SEGMENTS = "arn:aws:s3:::x*:" + "a*b:" * 3000 + "c*"  # the review's ARN pattern
SEGMENTED_ARN = "arn:aws:s3:::x" + ":ab" * 30000 + ":dX"  # and its 90 KB ARN
HANG_GUARD = 60.0  # seconds, only so that a hang fails instead of stalling the suite


def _policy(resource: str, condition: dict[str, Any] | None = None, action: str = "s3:GetObject") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _context(value: str) -> list[dict[str, Any]]:
    return [{"contextKeyName": "aws:PrincipalTag/t", "contextKeyValues": [value], "contextKeyType": "string"}]


def _client(limits: Limits | None = None) -> TestClient:
    return TestClient(create_app(Workspace.with_world(), limits=limits))


def _post(http: TestClient, path: str, body: dict[str, Any]) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800, as a client that sends one does.
    return http.post(path, content=json.dumps(body), headers={"content-type": "application/json"})


def _gql_error(http: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = _post(http, "/graphql", {"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    errors = response.json().get("errors")
    assert errors, response.text
    return errors[0]  # type: ignore[no-any-return]


def _refused(extensions: dict[str, Any], limit: str, flag: str, maximum: int, asked: int) -> None:
    assert extensions["code"] == "LIMIT_EXCEEDED"
    assert (extensions["limit"], extensions["flag"], extensions["maximum"], extensions["asked"]) == (limit, flag, maximum, asked)


# ---- the review's reproductions: refused before any match ------------------------------------


def test_a_string_like_pattern_and_a_context_value_past_the_caps_are_refused() -> None:
    condition = {"StringLike": {"aws:PrincipalTag/t": LIKE}}
    with _client() as http:
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [_policy("*", condition)], "actionNames": ["s3:GetObject"], "contextEntries": _context("a" * 120_000)}})
        _refused(error["extensions"], "context_value_length", "--max-context-value-length", 4096, 120_000)
        assert error["extensions"]["field"] == "contextEntries[0].contextKeyValues[0]" and "--max-context-value-length" in error["message"]
        # With a short value, the pattern itself (60,003 characters) is over pattern_length.
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [_policy("*", condition)], "actionNames": ["s3:GetObject"], "contextEntries": _context("a" * 100)}})
        _refused(error["extensions"], "pattern_length", "--max-pattern-length", 4096, len(LIKE))
        assert http.get("/healthz").status_code == 200


def test_the_same_pattern_as_a_resource_through_post_aws_is_refused() -> None:
    pattern = "arn:aws:s3:::" + "a?" * 30000 + "b*"
    with _client() as http:
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [_policy(pattern)], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::" + "a" * 120_000]})
        assert response.status_code == 400
        error = response.json()["Error"]
        assert error["Code"] == "LIMIT_EXCEEDED" and error["Field"] == "resourceArns[0]"
        assert "arn_length of 2,048" in error["Message"] and "--max-arn-length" in error["Message"]
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [_policy(pattern)], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::" + "a" * 1000]})
        assert response.status_code == 400
        error = response.json()["Error"]
        assert error["Code"] == "LIMIT_EXCEEDED" and "pattern_length of 4,096" in error["Message"] and "--max-pattern-length" in error["Message"]


def test_the_segmented_arn_pattern_is_refused_and_answered_within_the_caps() -> None:
    with _client() as http:
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [_policy(SEGMENTS)], "ActionNames": ["s3:GetObject"], "ResourceArns": [SEGMENTED_ARN]})
        assert response.status_code == 400 and response.json()["Error"]["Code"] == "LIMIT_EXCEEDED" and "arn_length" in response.json()["Error"]["Message"]
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [_policy(SEGMENTS)], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::x:ab:dX"]})
        assert response.status_code == 400 and "pattern_length" in response.json()["Error"]["Message"]
        # Within the caps, the answer follows the ARN rules: x* runs past colons, each a*b is one
        # segment, and the last segment must start with c.
        pattern = "arn:aws:s3:::x*:" + "a*b:" * 300 + "c*"
        for ending, decision in ((":dX", "implicitDeny"), (":cX", "allowed")):
            resource = "arn:aws:s3:::x" + ":ab" * 600 + ending
            response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [_policy(pattern)], "ActionNames": ["s3:GetObject"], "ResourceArns": [resource]})
            assert response.status_code == 200 and response.json()["EvaluationResults"][0]["EvalDecision"] == decision


def test_the_segment_matcher_stops_at_the_deadline() -> None:
    """Its search from colon to colon checks the deadline (the review's 148 s match kept the world
    read lock after its request was answered DEADLINE_EXCEEDED)."""
    match = compile_arn(glob_units("arn:aws:s3:::x*:a*b:c*"))
    text = "arn:aws:s3:::x" + ":ab" * 600 + ":dX"
    assert match(text) is False and match(text[:-3] + ":cX") is True
    with L.deadline(0.0), pytest.raises(DeadlineExceededError):
        match(text)


def test_a_pattern_shorter_than_it_needs_is_no_match() -> None:
    # "?" x 5 needs five characters in its segment; the input's segment has four.
    assert compile_arn(glob_units("arn:aws:s3:::?????*"))("arn:aws:s3:::abcd") is False
    assert compile_arn(glob_units("arn:aws:s3:::?????*"))("arn:aws:s3:::abcde") is True


def test_the_caps_are_limits_of_the_server() -> None:
    small = Limits(arn_length=40, context_value_length=20, pattern_length=30)  # the key aws:PrincipalTag/t has 18
    with _client(small) as http:
        long_arn = "arn:aws:s3:::" + "b" * 30  # 43 characters
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [_policy("*")], "actionNames": ["s3:GetObject"], "resourceArns": [long_arn]}})
        _refused(error["extensions"], "arn_length", "--max-arn-length", 40, 43)
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [_policy("*")], "actionNames": ["s3:GetObject"], "callerArn": USER + "-and-more-letters"}})
        _refused(error["extensions"], "arn_length", "--max-arn-length", 40, len(USER) + 17)
        assert error["extensions"]["field"] == "callerArn"
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [_policy("*")], "actionNames": ["s3:GetObject"], "contextEntries": _context("v" * 21)}})
        _refused(error["extensions"], "context_value_length", "--max-context-value-length", 20, 21)
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [_policy("arn:aws:s3:::" + "?" * 18)], "actionNames": ["s3:GetObject"]}})
        _refused(error["extensions"], "pattern_length", "--max-pattern-length", 30, 31)
        # can() names a principal and a resource: both bounded.
        error = _gql_error(http, 'query($r: String!) { can(principal: "newbie", action: "s3:GetObject", resource: $r) { decision } }', r=long_arn)
        _refused(error["extensions"], "arn_length", "--max-arn-length", 40, 43)
        error = _gql_error(http, 'query($p: String!) { can(principal: $p, action: "s3:GetObject", resource: "*") { decision } }', p="n" * 41)
        _refused(error["extensions"], "arn_length", "--max-arn-length", 40, 41)
        # Within them, the same requests are answered.
        ok = _post(http, "/graphql", {"query": SIMULATE, "variables": {"in": {"policyInputList": [_policy("arn:aws:s3:::b*")], "actionNames": ["s3:GetObject"], "resourceArns": ["arn:aws:s3:::" + "b" * 27], "contextEntries": _context("v" * 20)}}})
        assert ok.json()["data"]["simulateCustomPolicy"] == [{"evalDecision": "ALLOWED"}]


def test_the_caps_are_serve_flags() -> None:
    with served("--db", ":memory:", "--max-arn-length", "40", "--max-context-value-length", "20", "--max-pattern-length", "30") as url:
        def simulate_aws(**body: Any) -> httpx.Response:
            request = {"PolicyInputList": [_policy("*")], "ActionNames": ["s3:GetObject"], **body}
            return httpx.post(f"{url}/aws/simulate-custom-policy", content=json.dumps(request), headers={"content-type": "application/json"}, timeout=HANG_GUARD)

        for body, limit in (
            ({"ResourceArns": ["arn:aws:s3:::" + "b" * 30]}, "--max-arn-length"),
            ({"ContextEntries": [{"ContextKeyName": "aws:PrincipalTag/t", "ContextKeyValues": ["v" * 21], "ContextKeyType": "string"}]}, "--max-context-value-length"),
            ({"PolicyInputList": [_policy("arn:aws:s3:::" + "?" * 18)]}, "--max-pattern-length"),
        ):
            response = simulate_aws(**body)
            assert response.status_code == 400 and response.json()["Error"]["Code"] == "LIMIT_EXCEEDED" and limit in response.json()["Error"]["Message"]
        assert simulate_aws(ResourceArns=["arn:aws:s3:::" + "b" * 27]).json()["EvaluationResults"][0]["EvalDecision"] == "allowed"


# ---- caches keyed by request strings keep only short ones --------------------------------------


def _sizes() -> dict[str, int]:
    caches = {
        "arn": arn._parse, "resource_warning": catalog._resource_warning_cached, "action_warning": catalog._action_warning_cached,
        "caller": principals._parse_caller_arn_cached, "derived": simulation._derived_cached,
        "context": context_module._build_context_cached, "entry": context_module._checked_entry_cached,
    }
    return {name: cache.cache_info().currsize for name, cache in caches.items()}  # type: ignore[attr-defined]


def _simulate(resource: str, caller: str, value: str, action: str) -> str:
    """One custom simulation: a document whose Action the catalog does not know (a warning),
    and one that allows s3:GetObject when the tag's value starts with v."""
    policies = (_policy("*", action=action), _policy("*", {"StringLike": {"aws:PrincipalTag/t": "v*"}}))
    context = (context_module.ContextEntry("aws:PrincipalTag/t", (value,)),)
    (decision,) = simulate(CustomSimulation(policies, ("s3:GetObject",), (resource,), context, caller_arn=caller))
    return decision.decision.value


def test_distinct_long_request_strings_are_not_kept_by_the_caches() -> None:
    before = _sizes()
    for i in range(20):
        tail = f"{i:06d}"
        # Each string is within the caps (2,048 and 4,096) but longer than a cache keeps.
        decision = _simulate("arn:aws:s3:::bucket/" + "k" * 1500 + tail, f"arn:aws:iam::{ACCOUNT}:user/" + "u" * 1500 + tail, "v" * 3000 + tail,
                             action="s3:Get" + "X" * 200 + tail)
        assert decision == "ALLOWED"
    assert _sizes() == before
    # Short ones are kept (the same request asked with short strings).
    assert _simulate("arn:aws:s3:::bucket/short-key-1", USER + "-short-1", "v-short-000001", action="s3:GetThing000001") == "ALLOWED"
    after = _sizes()
    assert all(after[name] > before[name] for name in after), (before, after)


def test_an_action_name_too_long_to_be_close_to_any_gets_no_suggestions() -> None:
    with pytest.raises(UnknownActionError) as raised:
        catalog.require_action("s3:GetObjec" + "t" * 100_000)
    assert raised.value.suggestions == []
    with pytest.raises(UnknownActionError) as raised:
        catalog.require_action("s3:GetObjec")
    assert "s3:GetObject" in raised.value.suggestions


# ---- a lone surrogate is a typed refusal everywhere ----------------------------------------------

SURROGATE_POLICY = _policy("arn:aws:s3:::\ud800")  # json.dumps writes the escape \ud800


def test_a_lone_surrogate_in_a_policy_is_invalid_policy_through_post_aws() -> None:
    with _client() as http:
        # Sent inside the request's JSON string, the document's text holds the surrogate itself.
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [json.dumps(json.loads(SURROGATE_POLICY), ensure_ascii=False)], "ActionNames": ["s3:GetObject"]})
        assert response.status_code == 400
        error = response.json()["Error"]
        assert error["Code"] == "INVALID_POLICY" and "lone surrogate (U+D800)" in error["Message"]
        # Written as an escape in the document's own text, the same.
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [SURROGATE_POLICY], "ActionNames": ["s3:GetObject"]})
        assert response.status_code == 400 and response.json()["Error"]["Code"] == "INVALID_POLICY"


@pytest.mark.parametrize("body, field", [
    ({"CallerArn": f"arn:aws:iam::{ACCOUNT}:user/\ud800"}, "callerArn"),
    ({"ResourceArns": ["arn:aws:s3:::\udfff"]}, "resourceArns[0]"),
    ({"ContextEntries": [{"ContextKeyName": "aws:PrincipalTag/t", "ContextKeyValues": ["\ud800"], "ContextKeyType": "string"}]}, "contextEntries[0].contextKeyValues[0]"),
])
def test_a_lone_surrogate_in_a_request_string_is_invalid_input(body: dict[str, Any], field: str) -> None:
    with _client() as http:
        response = _post(http, "/aws/simulate-custom-policy", {"PolicyInputList": [_policy("*")], "ActionNames": ["s3:GetObject"], **body})
    assert response.status_code == 400
    error = response.json()["Error"]
    assert error["Code"] == "INVALID_INPUT" and error["Field"] == field and "lone surrogate" in error["Message"]


def test_a_lone_surrogate_in_a_policy_through_graphql_is_invalid_policy() -> None:
    with _client() as http:
        error = _gql_error(http, SIMULATE, **{"in": {"policyInputList": [SURROGATE_POLICY], "actionNames": ["s3:GetObject"]}})
        assert error["extensions"]["code"] == "INVALID_POLICY" and "lone surrogate (U+D800)" in error["message"]
        for query, name in (
            ("query($d: String!) { validatePolicy(document: $d) { valid problems { rule } } }", "validatePolicy"),
            ('mutation($d: String!) { createPolicy(name: "S", document: $d) { __typename ... on InvalidPolicy { problems { rule } } } }', "createPolicy"),
        ):
            body = _post(http, "/graphql", {"query": query, "variables": {"d": SURROGATE_POLICY}}).json()
            assert "errors" not in body, body
            answer = body["data"][name]
            assert answer.get("valid", False) is False and answer.get("__typename", "InvalidPolicy") == "InvalidPolicy"
            assert "lone surrogate (U+D800)" in answer["problems"][0]["rule"]
        error = _gql_error(http, 'query($p: String!) { can(principal: $p, action: "s3:GetObject", resource: "*") { decision } }', p="new\ud800bie")
        assert error["extensions"]["code"] == "INVALID_INPUT" and "lone surrogate" in error["message"]


def test_a_lone_surrogate_through_the_cli_exits_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"PolicyInputList": [SURROGATE_POLICY], "ActionNames": ["s3:GetObject"]}))
    assert main(["simulate-custom-policy", "--cli-input-json", f"file://{request}"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "lone surrogate (U+D800)" in err and "Traceback" not in err


def test_the_simulate_commands_take_the_caps_as_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"PolicyInputList": [_policy("*")], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::" + "b" * 3000]}))
    assert main(["simulate-custom-policy", "--cli-input-json", f"file://{request}"]) == EXIT_INPUT
    assert "run it again with a larger --max-arn-length" in capsys.readouterr().err
    assert main(["simulate-custom-policy", "--cli-input-json", f"file://{request}", "--max-arn-length", "3013"]) == 0
    assert json.loads(capsys.readouterr().out)["EvaluationResults"][0]["EvalDecision"] == "allowed"


def test_questions_on_long_resources_are_not_kept_by_the_engine() -> None:
    """An engine keeps the target and the prepared layers of each resource a question names, up to
    65,536 of each: only for short resource texts, so distinct long ones add nothing."""
    from graphsim.engine import Engine
    from graphsim.world.io import load_demo_world

    expected = Engine(load_demo_world()).can("kai", "s3:GetObject", "arn:aws:s3:::final-friday-reports/short").decision
    engine = Engine(load_demo_world())
    for i in range(5):
        resource = "arn:aws:s3:::final-friday-reports/" + "k" * 1500 + str(i)
        assert engine.can("kai", "s3:GetObject", resource).decision == expected  # the same answer, as for any key of the bucket
    assert (len(engine._targets), len(engine._prepared), len(engine._gatherer._targets)) == (0, 0, 0)
    assert engine.can("kai", "s3:GetObject", "arn:aws:s3:::final-friday-reports/short").decision == expected
    assert (len(engine._targets), len(engine._prepared), len(engine._gatherer._targets)) == (1, 1, 1)


def test_a_condition_of_many_values_against_many_request_values_stops_at_the_deadline() -> None:
    """Each string is within its limit, but 300 policy values x 300 request values are 90,000
    matches of one clause: the deadline is checked between request values."""
    from graphsim.policy import parse_policy

    patterns = [f"v{i:04d}*x" for i in range(300)]
    document = parse_policy(_policy("*", {"StringLike": {"aws:PrincipalTag/t": patterns}}))
    condition = document.statements[0].condition
    ctx = {"aws:principaltag/t": tuple(f"w{i:04d}" for i in range(300))}
    assert condition.evaluate(ctx) is False  # no value starts with v
    assert condition.evaluate({"aws:principaltag/t": ("w1", "v0007-and-x")}) is True
    with L.deadline(0.0), pytest.raises(DeadlineExceededError):
        condition.evaluate(ctx)
