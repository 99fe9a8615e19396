"""Wildcard matching in bounded time (issue 15): the reproductions that used to hang now answer,
with AWS's wildcard semantics unchanged, and the matcher agrees with a plain regex reference on
random patterns and inputs.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from graphsim.awscli import simulate_custom_policy
from graphsim.engine import ContextEntry, CustomSimulation, Decision, simulate
from graphsim.policy.cache import BoundedCache
from graphsim.policy.patterns import ActionMatcher, ArnPattern, like_matcher
from graphsim.policy.variables import Escaped, Literal, Part, parse_template
from graphsim.policy.wildcards import compile_arn, compile_glob, glob_units


def simulate_one(policies: list[dict], action: str, resource: str, context: tuple[ContextEntry, ...] = (), **fields: Any) -> Decision:
    (decision,) = simulate(CustomSimulation(tuple(policies), (action,), (resource,), tuple(context), **fields))
    return decision


ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"


def _policy(statement: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [statement]}


# ---- the reproductions of issue 15 ----------------------------------------------------------

NESTED = "arn:aws:s3:::" + "a*" * 12 + "b"
LONG_A = "arn:aws:s3:::" + "a" * 187  # 200 characters, no "b"


def test_nested_stars_against_a_long_arn_answer() -> None:
    assert len(LONG_A) == 200
    policy = _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": NESTED})
    assert simulate_one([policy], "s3:GetObject", LONG_A).decision.value == "IMPLICIT_DENY"
    # The same pattern still matches what it should: twelve a's (any runs between) then b.
    assert simulate_one([policy], "s3:GetObject", LONG_A[:-1] + "b").decision.value == "ALLOWED"


def test_nested_stars_through_the_aws_json_shape() -> None:
    request = {
        "PolicyInputList": [json.dumps(_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": NESTED}))],
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": [LONG_A, LONG_A[:-1] + "b"],
    }
    answers = [r["EvalDecision"] for r in simulate_custom_policy(request)["EvaluationResults"]]
    assert answers == ["implicitDeny", "allowed"]


def test_star_question_pairs_in_a_bucket_policy() -> None:
    # "*?" x 14 needs at least 14 characters after the slash; the bucket policy's Deny applies
    # to long keys only, and (its stars being inside the ARN's last segment) to keys without colons.
    bucket_policy = _policy({
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/" + "*?" * 14,
    })
    identity = _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    for key, want in (("k" * 13, "ALLOWED"), ("k" * 14, "EXPLICIT_DENY"), ("k" * 180, "EXPLICIT_DENY"), ("a:" * 90, "ALLOWED")):
        decision = simulate_one([identity], "s3:GetObject", f"arn:aws:s3:::bucket/{key}", caller_arn=USER, resource_policy=bucket_policy)
        assert decision.decision.value == want, key


def test_a_final_star_runs_past_colons_after_star_question_pairs() -> None:
    # A "*" that ends the pattern may run past colons; the pairs before it may not.
    bucket_policy = _policy({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/" + "*?" * 14 + "*"})
    identity = _policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    for key, want in (("k" * 14 + ":zz", "EXPLICIT_DENY"), ("k" * 13 + ":zzzzzzzzzzzzzzzz", "ALLOWED")):
        decision = simulate_one([identity], "s3:GetObject", f"arn:aws:s3:::bucket/{key}", caller_arn=USER, resource_policy=bucket_policy)
        assert decision.decision.value == want, key


def test_nested_stars_in_string_like() -> None:
    policy = _policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
                      "Condition": {"StringLike": {"s3:prefix": "a*" * 12 + "b"}}})
    for value, want in (("a" * 200, "IMPLICIT_DENY"), ("a" * 199 + "b", "ALLOWED"), ("a:" * 100 + "b", "ALLOWED")):
        decision = simulate_one([policy], "s3:ListBucket", "arn:aws:s3:::bucket", [ContextEntry("s3:prefix", (value,))])
        assert decision.decision.value == want, value


def test_nested_stars_in_action() -> None:
    policy = _policy({"Effect": "Allow", "Action": "s3:" + "*e" * 10 + "*x", "Resource": "*"})
    assert simulate_one([policy], "s3:GetObjectRetention", "*").decision.value == "IMPLICIT_DENY"
    policy = _policy({"Effect": "Allow", "Action": "s3:*e*e*e*t*t*", "Resource": "*"})
    assert simulate_one([policy], "s3:GetObjectRetention", "*").decision.value == "ALLOWED"


# ---- agreement with a regex reference on small inputs ----------------------------------------


def _reference_glob(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _reference_arn(parts: tuple[Part, ...], text: str) -> bool:
    """The rule as the docs state it, written as a regex (fine on inputs this small)."""
    tokens: list[tuple[str, bool]] = []
    for part in parts:
        if isinstance(part, Literal):
            tokens.extend((c, c in "*?") for c in part.text)
        elif isinstance(part, Escaped):
            tokens.extend((c, False) for c in part.char)
    out = []
    for i, (c, wild) in enumerate(tokens):
        if not wild:
            out.append(re.escape(c))
        elif c == "?":
            out.append("[^:]")
        else:
            ends_segment = i + 1 == len(tokens) or tokens[i + 1] == (":", False)
            out.append(".*" if ends_segment else "[^:]*")
    return re.fullmatch("".join(out), text, re.DOTALL) is not None


PATTERN_TEXT = st.text(alphabet="ab:/*?", max_size=12)
INPUT_TEXT = st.text(alphabet="ab:/\n", max_size=16)


@settings(max_examples=1500, deadline=None)
@given(PATTERN_TEXT, INPUT_TEXT)
def test_glob_agrees_with_the_reference(pattern: str, text: str) -> None:
    assert compile_glob(glob_units(pattern))(text) is _reference_glob(pattern, text)


@settings(max_examples=1500, deadline=None)
@given(PATTERN_TEXT, INPUT_TEXT)
def test_arn_matching_agrees_with_the_reference(pattern: str, text: str) -> None:
    assert compile_arn(glob_units(pattern))(text) is _reference_arn((Literal(pattern),), text)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", ":", "*", "?", "${*}", "${?}", "/"]), max_size=10), INPUT_TEXT.map(lambda s: s.replace("\n", "*")))
def test_arn_patterns_with_escapes_agree_with_the_reference(tokens: list[str], text: str) -> None:
    pattern = "".join(tokens)
    template, _ = parse_template(pattern, variables_enabled=True)
    assert ArnPattern(pattern, variables_enabled=True).matches(text, {}) is _reference_arn(template.parts, text)
    assert like_matcher(template.parts)(text) is _reference_glob_parts(template.parts, text)


def _reference_glob_parts(parts: tuple[Part, ...], text: str) -> bool:
    regex = []
    for part in parts:
        if isinstance(part, Literal):
            regex.extend(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in part.text)
        elif isinstance(part, Escaped):
            regex.append(re.escape(part.char))
    return re.fullmatch("".join(regex), text, re.DOTALL) is not None


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="s3:getobjc*?", min_size=1, max_size=10), min_size=1, max_size=4), st.text(alphabet="s3:getobjc", max_size=14))
def test_action_lists_agree_with_the_reference(patterns: list[str], action: str) -> None:
    want = any(_reference_glob(p.lower(), action) for p in patterns)
    assert ActionMatcher(patterns).matches(action) is want


def test_variables_resolve_into_literal_text() -> None:
    # A variable's value is never a wildcard: "*" in a user name matches only "*".
    pattern = ArnPattern("arn:aws:s3:::home/${aws:username}/*", variables_enabled=True)
    ctx = {"aws:username": ("a*",)}
    assert pattern.matches("arn:aws:s3:::home/a*/x", ctx)
    assert not pattern.matches("arn:aws:s3:::home/abc/x", ctx)


def test_the_cache_stays_within_its_byte_budget() -> None:
    cache = BoundedCache(10_000)
    for i in range(200):
        text = f"arn:aws:s3:::bucket-{i}/*"
        cache.get(text, len(text), lambda text=text: compile_glob(glob_units(text)))
    info = cache.info()
    assert info.bytes <= 10_000 and 0 < info.entries < 200 and info.misses == 200
    cache.get("arn:aws:s3:::bucket-199/*", 24, lambda: compile_glob(glob_units("x")))
    assert cache.info().hits == 1
