"""graphsim.policy.jsontext reads and writes JSON as Python's json module does, with msgspec."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphsim.policy.jsontext import dumps_compact, loads

# Texts json reads and msgspec refuses: each is read again by json, with json's value.
JSON_ONLY = ["NaN", "[Infinity, -Infinity]", "1e400", '"\\ud800"', "9" * 30 + ".5e400", "-" + "9" * 4300]


@pytest.mark.parametrize("text", JSON_ONLY)
def test_what_msgspec_refuses_is_read_by_json(text: str) -> None:
    value, fast = loads(text)
    assert not fast
    assert repr(value) == repr(json.loads(text))


@pytest.mark.parametrize("text", ['{"a":1,"b":2,"a":3}', '{"x":[1,1.0,true,null,"caf\\u00e9"]}', "12345678901234567890", "-0.0", "0.30000000000000004"])
def test_what_msgspec_reads_is_json_s_value(text: str) -> None:
    value, fast = loads(text)
    assert fast
    assert repr(value) == repr(json.loads(text))


@pytest.mark.parametrize("text", ["", "{", '{"a":1}x', "\ufeff{}", '"a\x01b"', "[1,]", "9" * 5000, "[" * 5000 + "]" * 5000])
def test_errors_are_json_s_errors(text: str) -> None:
    with pytest.raises((ValueError, RecursionError)) as expected:
        json.loads(text)
    with pytest.raises(type(expected.value)) as got:
        loads(text)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("value", [
    {"a": "caf\u00e9", "b": [1, True, None]},
    {"k": "tab\there", "q": 'quote " and back \\ slash'},
    ["\x7f", "\x01", "\u2028", "\U0001f600"],
    {"n": 2**70},  # past 64 bits: msgspec does not write it, json does
    ("tuple", 1),
])
def test_dumps_compact_is_json_s_text(value: object) -> None:
    assert dumps_compact(value) == json.dumps(value, separators=(",", ":"))


_scalars = st.none() | st.booleans() | st.integers() | st.text()
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


@given(_values)
def test_any_value_without_floats_round_trips_as_json_does(value: object) -> None:
    text = json.dumps(value, separators=(",", ":"))
    assert dumps_compact(value) == text
    assert loads(text)[0] == value
