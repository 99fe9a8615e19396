"""JSON text read and written with msgspec's C parser and writer, with exactly the results of
Python's ``json`` module: batches of simulations read a JSON line and half a dozen policy
documents per request, and the stdlib decoder was a tenth of their time.

Reading: msgspec accepts a subset of what ``json.loads`` accepts, and where it accepts a text it
gives the same value (objects in order, the last of duplicate keys, exact floats and ints). What
it refuses (``NaN``, numbers out of float or int64 range, lone surrogates, nesting past its
limit, malformed text) is read again by ``json.loads``, which then answers or raises as it always
did, so every value and every error message is the stdlib's. ``loads`` says which parser read the
text: a value msgspec read holds only JSON's own types and no NaN or infinity.

Writing: ``dumps_compact`` is ``json.dumps(value, separators=(",", ":"))`` for values made of
strings, ints, bools, None, lists, tuples and dicts with string keys (no floats: msgspec spells
some floats differently). Output that holds a non-ASCII character, DEL or an escape is written by
``json`` again, since it escapes those as ``\\uXXXX`` where msgspec writes them raw.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_fast_decode = msgspec.json.Decoder().decode
_fast_encode = msgspec.json.Encoder().encode
_std_encode = json.JSONEncoder(separators=(",", ":")).encode


def loads(text: str) -> tuple[Any, bool]:
    """The value of ``text`` as ``json.loads`` reads it, and whether msgspec read it (so it
    holds only dict, list, str, int, float, bool and None, no float NaN or infinity)."""
    try:
        return _fast_decode(text), True
    except Exception:  # noqa: BLE001 - whatever msgspec refuses, json reads or refuses in its own words
        return json.loads(text), False


def dumps_compact(value: Any) -> str:
    """``json.dumps(value, separators=(",", ":"))`` for values without floats."""
    try:
        data = _fast_encode(value)
    except Exception:  # noqa: BLE001 - a type msgspec does not write (an int past 64 bits, ...): json's answer
        return _std_encode(value)
    if data.isascii() and b"\\" not in data and b"\x7f" not in data:
        return data.decode("ascii")
    return _std_encode(value)


def key_bytes(value: Any) -> bytes:
    """A compact text of a value ``loads`` read with msgspec, for keying caches by content:
    equal texts are equal values (true, 1 and 1.0 apart)."""
    return _fast_encode(value)
