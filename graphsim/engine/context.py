"""Request context: typed entries as AWS's simulator takes them, and the keys derived from the caller.

D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ContextEntry.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InvalidRequestError
from ..limits import active
from ..policy.conditions import parse_binary, parse_bool, parse_date, parse_number
from .bounds import check_text

Context = dict[str, tuple[str, ...]]

_PARSERS = {
    "string": None,
    "numeric": parse_number,
    "boolean": parse_bool,
    "ip": lambda s: ipaddress.ip_address(s.strip()),
    "binary": parse_binary,
    "date": parse_date,
}
CONTEXT_TYPES = tuple(_PARSERS) + tuple(f"{t}List" for t in _PARSERS)


# Not frozen: a batch builds a dozen per request, and a frozen dataclass pays for every field on
# construction. Hashed and compared as before (it keys the caches below); treat it as immutable.
@dataclass(slots=True, unsafe_hash=True)
class ContextEntry:
    key: str
    values: tuple[str, ...]
    type: str = "string"


# The caches below keep only contexts and entries of at most this many characters (keys and
# values), so 1,024 contexts and 16,384 entries hold a few MB whatever a request sends; a larger
# one (bounded by context_value_length per string) is checked each time it is asked.
_CACHED_CHARACTERS = 512


def build_context(entries: Iterable[ContextEntry], *, field: str = "context", checked: bool = False) -> Context:
    """Validate typed entries into a context keyed by lower-cased key name (names are
    case-insensitive); ``checked``: their lengths were checked when the request was built."""
    entries = tuple(entries)
    if not entries:
        return {}
    size = sum(len(e.key) + sum(map(len, e.values)) for e in entries) if checked else check_context(entries, field)
    if size > _CACHED_CHARACTERS:
        return _build_context(entries, field)
    return _build_context_cached(entries, field)


def check_context(entries: Iterable[ContextEntry], field: str) -> int:
    """Refuse a key name or value longer than the limit context_value_length, or one that is not
    Unicode text, before anything is parsed or matched; the characters of all of them."""
    limit = active().context_value_length
    total = 0
    for i, entry in enumerate(entries):
        size = len(entry.key) + sum(map(len, entry.values))
        total += size
        # Asked per request (a batch line carries a dozen entries): each string is looked at
        # alone only when the entry as a whole is too long, or not ASCII.
        if size > limit or not (entry.key.isascii() and all(map(str.isascii, entry.values))):
            check_text(entry.key, "context_value_length", what="a context key name", field=f"{field}[{i}].contextKeyName")
            for j, value in enumerate(entry.values):
                check_text(value, "context_value_length", what=f"a value of {entry.key}", field=f"{field}[{i}].contextKeyValues[{j}]")
    return total


def _build_context(entries: tuple[ContextEntry, ...], field: str) -> Context:
    ctx: Context = {}
    for i, entry in enumerate(entries):
        try:
            small = len(entry.key) + sum(map(len, entry.values)) <= _CACHED_CHARACTERS
            key, values = _checked_entry_cached(entry) if small else _checked_entry(entry)
        except _EntryError as exc:
            raise InvalidRequestError(exc.message, field=f"{field}[{i}]{exc.where}") from None
        ctx[key] = ctx.get(key, ()) + values
    return ctx


# Access reviews ask many questions with one context: validate each distinct context once.
_build_context_cached = lru_cache(maxsize=1024)(_build_context)


class _EntryError(Exception):
    def __init__(self, message: str, where: str) -> None:
        self.message = message
        self.where = where


def _checked_entry(entry: ContextEntry) -> tuple[str, tuple[str, ...]]:
    """(lower-cased key, values) of one valid entry; batches whose every request carries its
    own context still repeat its entries (a region, a tag, a time), so each is checked once."""
    if not entry.key or not entry.key.strip():
        raise _EntryError("contextKeyName must not be empty", ".contextKeyName")
    ctype = entry.type
    match = next((t for t in CONTEXT_TYPES if t.lower() == ctype.lower()), None)
    if match is None:
        raise _EntryError(f"contextKeyType must be one of {', '.join(CONTEXT_TYPES)}, got {ctype!r}", ".contextKeyType")
    is_list = match.endswith("List")
    if not is_list and len(entry.values) != 1:
        raise _EntryError(f"{entry.key}: type {match} takes exactly one value, got {len(entry.values)}; use {match}List for several", ".contextKeyValues")
    parser = _PARSERS[match.removesuffix("List")]
    values: list[str] = []
    for j, value in enumerate(entry.values):
        if parser is not None:
            try:
                parser(value)
            except (ValueError, TypeError, OverflowError, OSError) as exc:
                raise _EntryError(f"{entry.key}: {value!r} is not a valid {match.removesuffix('List')} value ({exc})", f".contextKeyValues[{j}]") from None
        if match.startswith("boolean"):
            value = "true" if value.strip().lower() == "true" else "false"
        values.append(value)
    return entry.key.strip().lower(), tuple(values)


_checked_entry_cached = lru_cache(maxsize=16384)(_checked_entry)


def parse_cli_context(pairs: Sequence[str], types: Sequence[str] = ()) -> list[ContextEntry]:
    """``KEY=VALUE`` pairs from the CLI (a key given twice becomes a list), typed by optional
    ``KEY=TYPE`` pairs (string, numeric, boolean, ip, binary, date); untyped keys are strings."""
    grouped: dict[str, list[str]] = {}
    order: list[str] = []
    for i, pair in enumerate(pairs):
        if "=" not in pair:
            raise InvalidRequestError(f"context must be KEY=VALUE, got {pair!r}", field=f"context[{i}]")
        key, value = pair.split("=", 1)
        if key not in grouped:
            order.append(key)
        grouped.setdefault(key, []).append(value)
    typed: dict[str, str] = {}
    for i, pair in enumerate(types):
        key, sep, kind = pair.partition("=")
        base = kind.removesuffix("List")
        if not sep or base not in _PARSERS:
            raise InvalidRequestError(f"context types are KEY=TYPE with TYPE one of {', '.join(_PARSERS)}, got {pair!r}", field=f"contextType[{i}]")
        if key not in grouped:
            raise InvalidRequestError(f"{key!r} has a type but no --context value", field=f"contextType[{i}]")
        typed[key] = base
    return [
        ContextEntry(k, tuple(grouped[k]), typed.get(k, "string") + ("List" if len(grouped[k]) > 1 else ""))
        for k in order
    ]


def merge_derived(derived: Mapping[str, tuple[str, ...]], explicit: Context) -> Context:
    """Keys AWS derives from the caller, overridden by anything the caller supplied."""
    if not explicit:
        return dict(derived)
    merged = dict(derived)
    merged.update(explicit)
    return merged
