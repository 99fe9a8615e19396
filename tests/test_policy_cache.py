"""Policy parts compiled once per process (issue 11): documents that share an Action list, a
Resource list or a Condition block share the compiled part, and each document's problems still
carry its own paths; the cache stays within its byte budget; statement positions are found by a
scan that skips brackets inside strings."""

from __future__ import annotations

import json

import pytest

from graphsim.errors import PolicyValidationError
from graphsim.policy import PolicyKind, parse_policy
from graphsim.policy.cache import COMPILED
from graphsim.policy.positions import StatementPositions, statement_positions
from graphsim.world.graph import parse_with_catalog

ALLOW_READ = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:Get*"], "Resource": ["arn:aws:s3:::b/*"]}


def _problems(doc: dict[str, object]) -> dict[str, str]:
    with pytest.raises(PolicyValidationError) as info:
        parse_policy(doc)
    return {p.path: p.rule for p in info.value.problems}


def test_a_shared_bad_condition_is_reported_at_each_documents_own_path() -> None:
    bad = {"DateLessThan": {"aws:CurrentTime": "2024-7"}}
    first = _problems({"Version": "2012-10-17", "Statement": [{**ALLOW_READ, "Condition": bad}]})
    second = _problems({"Version": "2012-10-17", "Statement": [ALLOW_READ, {**ALLOW_READ, "Condition": bad}]})
    assert list(first) == ["Statement[0].Condition.DateLessThan.aws:CurrentTime"]
    assert list(second) == ["Statement[1].Condition.DateLessThan.aws:CurrentTime"]
    assert first["Statement[0].Condition.DateLessThan.aws:CurrentTime"] == second["Statement[1].Condition.DateLessThan.aws:CurrentTime"]


def test_shared_action_and_resource_warnings_carry_each_statements_path() -> None:
    statement = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjekt"], "Resource": "arn:aws:s3:::b"}
    one = parse_with_catalog({"Version": "2012-10-17", "Statement": [statement]})
    two = parse_with_catalog({"Version": "2012-10-17", "Statement": [ALLOW_READ, statement]})
    assert [w.path for w in one.warnings] == ["Statement[0].Action[1]"]
    assert [w.path for w in two.warnings] == ["Statement[1].Action[1]"]
    # The same compiled matcher serves both documents.
    assert one.statements[0].actions is two.statements[1].actions


def test_statements_that_differ_only_in_sid_share_their_compiled_body_but_keep_their_sid_and_paths() -> None:
    bad = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"DateLessThan": {"aws:CurrentTime": "2024-7"}}}
    first = _problems({"Version": "2012-10-17", "Statement": [{**bad, "Sid": "Draft1"}]})
    second = _problems({"Version": "2012-10-17", "Statement": [ALLOW_READ, {**bad, "Sid": "Draft-2"}]})
    assert list(first) == ["Statement[0].Condition.DateLessThan.aws:CurrentTime"]
    # The body's problem at this document's own path, and the Sid checked for this statement.
    assert list(second) == ["Statement[1].Sid", "Statement[1].Condition.DateLessThan.aws:CurrentTime"]
    one = parse_policy({"Version": "2012-10-17", "Statement": [{**ALLOW_READ, "Sid": "One"}]})
    two = parse_policy({"Version": "2012-10-17", "Statement": [{"Sid": "Two", **ALLOW_READ}, {**ALLOW_READ, "Sid": "Three"}]})
    assert [(s.index, s.sid) for s in two.statements] == [(0, "Two"), (1, "Three")] and one.statements[0].sid == "One"
    assert one.statements[0].actions is two.statements[1].actions and one.statements[0].resources is two.statements[0].resources
    assert two.statements[1].raw["Sid"] == "Three"
    # The kind is part of the body: the same statement is an error in an identity policy, fine in a resource policy.
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    assert parse_policy({"Version": "2012-10-17", "Statement": [public]}, kind=PolicyKind.RESOURCE).statements[0].principals is not None
    assert "Statement[0].Principal" in _problems({"Version": "2012-10-17", "Statement": [public]})


def test_condition_values_of_different_json_types_are_not_confused() -> None:
    # true and 1 are different texts for the operators ("true" vs "1"); the cache keeps them apart.
    as_bool = parse_policy({"Version": "2012-10-17", "Statement": [{**ALLOW_READ, "Condition": {"Bool": {"aws:SecureTransport": True}}}]})
    problems = _problems({"Version": "2012-10-17", "Statement": [{**ALLOW_READ, "Condition": {"Bool": {"aws:SecureTransport": 1}}}]})
    assert as_bool.statements[0].condition.evaluate({"aws:securetransport": ("true",)})
    assert "Statement[0].Condition.Bool.aws:SecureTransport" in problems


def test_the_compiled_cache_stays_within_its_budget() -> None:
    budget = COMPILED.max_bytes
    try:
        COMPILED.resize(200_000)
        for i in range(400):
            parse_policy({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": f"s3:Get{'x' * (i % 7)}*", "Resource": f"arn:aws:s3:::bucket-{i}/{'k' * 200}/*",
                 "Condition": {"StringLike": {"s3:prefix": f"home/{i}/*"}}}]}, kind=PolicyKind.IDENTITY)
        info = COMPILED.info()
        assert info.bytes <= 200_000 and info.entries > 0
    finally:
        COMPILED.resize(budget)


def test_positions_skip_brackets_inside_strings() -> None:
    text = '{"Id": "a{\\"[", "Version": "2012-10-17",\n "Statement": [{"Sid": "x}]", "Effect": "Deny"},\n  {"Sid": "y"}]}'
    first, second = text.index('{"Sid": "x'), text.index('{"Sid": "y')
    first_end, second_end = text.index('"Deny"}') + 6, text.index('"y"}') + 3
    line_of = lambda i: text.count("\n", 0, i) + 1  # noqa: E731
    col_of = lambda i: i - (text.rfind("\n", 0, i) + 1) + 2  # noqa: E731  (AWS's columns: offset in the line + 2)
    assert statement_positions(text) == [
        ((line_of(first), col_of(first)), (line_of(first_end), col_of(first_end))),
        ((line_of(second), col_of(second)), (line_of(second_end), col_of(second_end))),
    ]
    single = json.dumps({"Version": "Statement", "Statement": {"Sid": "only"}})
    assert statement_positions(single) == [((1, single.index('{"Sid"') + 2), (1, len(single) - 2 + 2))]  # its "}" is second to last


def test_positions_step_over_nested_values_and_escaped_backslashes() -> None:
    statements = [
        {"Sid": "a", "Action": ["s3:*"], "Condition": {"StringLike": {"k": ["x\\", "}]{["]}}},
        {"Sid": "b\\\"}", "Resource": [["nested"], {"deep": [{}]}]},
    ]
    text = json.dumps({"Statement": statements, "Id": "[{"}, indent=1)
    starts = [text.index('"Sid": "a"') - 5, text.index('"Sid": "b') - 5]  # each "{", a newline and three spaces before
    assert [text[i] for i in starts] == ["{", "{"]
    ends = [text.index("\n  },") + 3, text.index("\n  }\n ]") + 3]
    assert [text[i] for i in ends] == ["}", "}"]
    at = lambda i: (text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 2)  # noqa: E731
    assert statement_positions(text) == [(at(starts[0]), at(ends[0])), (at(starts[1]), at(ends[1]))]


def test_positions_are_scanned_only_when_asked_for() -> None:
    lazy = StatementPositions({"PolicyInputList.1": '{"Statement": [{"Sid": "a"}]}', "PolicyInputList.2": "not scanned"})
    assert "PolicyInputList.2" in lazy and len(lazy) == 2
    assert lazy["PolicyInputList.1"] == [((1, 17), (1, 28))]  # "{" at offset 15, "}" at 26
