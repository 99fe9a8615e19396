"""Condition operators as a registry of small units, and the logic that combines them.

Each operator is a name, a family, whether it is negated, and a function that compiles one
policy value into a matcher ``(request_value, context) -> bool``. The combining rules live in
``ConditionClause.evaluate`` and follow the docs:
- values for one key are ORed; under a negated operator they are NORed;
- operators and keys are ANDed (``Condition.evaluate``);
- a missing key: plain operator false, negated operator true, ``...IfExists`` true;
- ``ForAllValues``: true when the key is absent or empty; ``ForAnyValue``: false when absent.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from ..limits import check_deadline
from .cache import COMPILED
from .patterns import arn_pattern, like_matcher
from .variables import Template, parse_template, plain_text

Context = Mapping[str, Sequence[str]]
ValueMatcher = Callable[[str, Context], bool]


class ConditionValueError(ValueError):
    """A policy value that does not fit its operator (the message says why)."""


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    family: str
    negated: bool
    takes_variables: bool
    compile_value: Callable[[str, bool], ValueMatcher]


# ---- value parsing shared by policy values and request values -----------------------------

_EPOCH = re.compile(r"^[+-]?\d+(\.\d+)?$")
_YEAR = re.compile(r"^\d{4}$")
# The W3C profiles of ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD, then Thh:mm, Thh:mm:ss or
# Thh:mm:ss.s (any number of digits) with a zone (Z or +hh:mm/-hh:mm).
# D: https://www.w3.org/TR/NOTE-datetime
_W3C = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?)?)?$"
)


@lru_cache(maxsize=4096)
def parse_date(text: str) -> datetime:
    """A date condition value or date context value: any W3C profile of ISO 8601, or epoch seconds.

    The docs: "You must specify date/time values with one of the W3C implementations of the ISO
    8601 date formats or in epoch (UNIX) time."
    D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date
    A bare four-digit value fits both; the docs do not say which wins. graphsim reads it as a
    year (the W3C ``YYYY`` profile, so ``"2024"`` is 2024-01-01T00:00:00Z), since epoch seconds
    1000-9999 are the first hours of 1970 and no policy means them; write ``"1700.0"`` for such
    an epoch value. Every other run of digits (with an optional sign or fraction) is epoch
    seconds. A date or time without a zone is UTC. Other ISO 8601 forms Python reads (a space for
    the ``T``, ``+hhmm`` zones, week dates) are accepted as before.
    """
    s = text.strip()
    if _YEAR.match(s):
        return datetime(int(s), 1, 1, tzinfo=UTC)
    if _EPOCH.match(s):
        try:
            return datetime.fromtimestamp(float(s), tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch seconds out of range: {s}") from None
    m = _W3C.match(s)
    if m is not None:
        return _w3c(*m.groups())
    dt = datetime.fromisoformat(s.replace("z", "Z").replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _w3c(
    year: str, month: str | None, day: str | None, hour: str | None, minute: str | None,
    second: str | None, fraction: str | None, zone: str | None,
) -> datetime:
    tz = UTC
    if zone and zone not in "Zz":
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        if offset >= timedelta(hours=24) or int(zone[4:6]) > 59:
            raise ValueError(f"time zone offset out of range: {zone}")
        tz = timezone(sign * offset)
    h = int(hour) if hour is not None else 0
    extra = timedelta(0)
    if h == 24 and int(minute or 0) == 0 and int(second or 0) == 0 and not (fraction or "").strip("0"):
        h, extra = 0, timedelta(days=1)  # 24:00 is the end of the day, ISO 8601's midnight
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    dt = datetime(int(year), int(month or 1), int(day or 1), h, int(minute or 0), int(second or 0), micro, tzinfo=tz)
    return dt + extra


def parse_number(text: str) -> float:
    n = float(text.strip())
    if math.isnan(n) or math.isinf(n):
        raise ValueError("not a finite number")
    return n


def parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low == "true":
        return True
    if low == "false":
        return False
    raise ValueError('must be "true" or "false"')


def parse_ip_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    # A bare address means one host (/32 or /128).
    return ipaddress.ip_network(text.strip(), strict=False)


def parse_binary(text: str) -> bytes:
    return base64.b64decode(text.strip(), validate=True)


def _try(parse: Callable[[str], object], text: str) -> object | None:
    try:
        return parse(text)
    except (ValueError, binascii.Error, OverflowError, OSError):
        return None


# ---- compilers: one policy value -> matcher -------------------------------------------------


def _string_template(value: str, variables: bool) -> Template:
    template, problems = parse_template(value, variables_enabled=variables)
    if problems:
        raise ConditionValueError(problems[0])
    return template


def _string_equals(ignore_case: bool) -> Callable[[str, bool], ValueMatcher]:
    def compile_value(value: str, variables: bool) -> ValueMatcher:
        template = _string_template(value, variables)
        norm = str.casefold if ignore_case else (lambda s: s)
        if not template.has_variables:
            want = norm(plain_text(template.parts))
            return lambda req, ctx: norm(req) == want

        def match(req: str, ctx: Context) -> bool:
            resolved = template.resolve(ctx)
            return resolved is not None and norm(req) == norm(plain_text(resolved))

        return match

    return compile_value


def _string_like(value: str, variables: bool) -> ValueMatcher:
    template = _string_template(value, variables)
    if not template.has_variables:
        like = like_matcher(template.parts)
        return lambda req, ctx: like(req)

    def match(req: str, ctx: Context) -> bool:
        resolved = template.resolve(ctx)
        return resolved is not None and like_matcher(resolved)(req)

    return match


_HINTS = {"date": " (write ISO 8601 as the W3C profiles it, from 2024 or 2024-07 to 2024-07-01T10:20:30.5Z, or epoch seconds)"}


def _ordered(parse: Callable[[str], object], compare: Callable[[object, object], bool], what: str) -> Callable[[str, bool], ValueMatcher]:
    def compile_value(value: str, variables: bool) -> ValueMatcher:
        if "${" in value:
            raise ConditionValueError(f"policy variables are not allowed in {what} conditions")
        want = _try(parse, value)
        if want is None:
            raise ConditionValueError(f"not a valid {what} value: {value!r}{_HINTS.get(what, '')}")

        def match(req: str, ctx: Context) -> bool:
            got = _try(parse, req)
            return got is not None and compare(got, want)

        return match

    return compile_value


def _bool(value: str, variables: bool) -> ValueMatcher:
    # The operators page allows variables with Bool (the variables page does not); we accept them.
    template = _string_template(value, variables)
    if not template.has_variables:
        want = _try(parse_bool, value)
        if want is None:
            raise ConditionValueError(f'Bool values must be "true" or "false", got {value!r}')
        return lambda req, ctx: _try(parse_bool, req) == want

    def match(req: str, ctx: Context) -> bool:
        resolved = template.resolve(ctx)
        if resolved is None:
            return False
        want = _try(parse_bool, plain_text(resolved))
        return want is not None and _try(parse_bool, req) == want

    return match


def _binary(value: str, variables: bool) -> ValueMatcher:
    want = _try(parse_binary, value)
    if want is None:
        raise ConditionValueError(f"BinaryEquals values must be base64, got {value!r}")
    return lambda req, ctx: _try(parse_binary, req) == want


def _ip(value: str, variables: bool) -> ValueMatcher:
    if "${" in value:
        raise ConditionValueError("policy variables are not allowed in IP address conditions")
    net = _try(parse_ip_network, value)
    if net is None:
        raise ConditionValueError(f"not an IPv4/IPv6 address or CIDR block: {value!r}")
    network: ipaddress.IPv4Network | ipaddress.IPv6Network = net  # type: ignore[assignment]

    def match(req: str, ctx: Context) -> bool:
        addr = _try(_address, req)
        return addr is not None and addr.version == network.version and addr in network  # type: ignore[attr-defined,operator]

    return match


@lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text.strip())


def _arn(value: str, variables: bool) -> ValueMatcher:
    # ArnEquals and ArnLike behave alike: each colon-separated segment matched on its own.
    pattern = arn_pattern(value, variables_enabled=variables)

    def match(req: str, ctx: Context) -> bool:
        return req.startswith("arn:") and req.count(":") >= 5 and pattern.matches(req, ctx)

    return match


def _eq(a: object, b: object) -> bool:
    return a == b


def _lt(a: object, b: object) -> bool:
    return a < b  # type: ignore[operator]


def _le(a: object, b: object) -> bool:
    return a <= b  # type: ignore[operator]


def _gt(a: object, b: object) -> bool:
    return a > b  # type: ignore[operator]


def _ge(a: object, b: object) -> bool:
    return a >= b  # type: ignore[operator]


# ---- the registry ---------------------------------------------------------------------------

OPERATORS: dict[str, Operator] = {}


def _register(name: str, family: str, compile_value: Callable[[str, bool], ValueMatcher], *, negated: bool = False, variables: bool = False) -> None:
    OPERATORS[name.lower()] = Operator(name, family, negated, variables, compile_value)


_register("StringEquals", "String", _string_equals(False), variables=True)
_register("StringNotEquals", "String", _string_equals(False), negated=True, variables=True)
_register("StringEqualsIgnoreCase", "String", _string_equals(True), variables=True)
_register("StringNotEqualsIgnoreCase", "String", _string_equals(True), negated=True, variables=True)
_register("StringLike", "String", _string_like, variables=True)
_register("StringNotLike", "String", _string_like, negated=True, variables=True)
for _suffix, _cmp in (("Equals", _eq), ("LessThan", _lt), ("LessThanEquals", _le), ("GreaterThan", _gt), ("GreaterThanEquals", _ge)):
    _register(f"Numeric{_suffix}", "Numeric", _ordered(parse_number, _cmp, "numeric"))
    _register(f"Date{_suffix}", "Date", _ordered(parse_date, _cmp, "date"))
_register("NumericNotEquals", "Numeric", _ordered(parse_number, _eq, "numeric"), negated=True)
_register("DateNotEquals", "Date", _ordered(parse_date, _eq, "date"), negated=True)
_register("Bool", "Bool", _bool, variables=True)
_register("BinaryEquals", "Binary", _binary)
_register("IpAddress", "IpAddress", _ip)
_register("NotIpAddress", "IpAddress", _ip, negated=True)
_register("ArnEquals", "Arn", _arn, variables=True)
_register("ArnLike", "Arn", _arn, variables=True)
_register("ArnNotEquals", "Arn", _arn, negated=True, variables=True)
_register("ArnNotLike", "Arn", _arn, negated=True, variables=True)
# Null is handled in ConditionClause; registered so the name is known.
_register("Null", "Null", lambda value, variables: (lambda req, ctx: False))

_QUALIFIERS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}


@dataclass(frozen=True, slots=True)
class OperatorName:
    operator: Operator
    qualifier: str | None  # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool

    @property
    def text(self) -> str:
        prefix = f"{self.qualifier}:" if self.qualifier else ""
        return f"{prefix}{self.operator.name}{'IfExists' if self.if_exists else ''}"


def parse_operator_name(raw: str) -> OperatorName:
    """``[ForAllValues:|ForAnyValue:]Base[IfExists]``; raises ConditionValueError naming what is wrong."""
    qualifier = None
    name = raw
    if ":" in raw:
        prefix, name = raw.split(":", 1)
        qualifier = _QUALIFIERS.get(prefix.lower())
        if qualifier is None:
            raise ConditionValueError(f'unknown set operator "{prefix}"; use ForAllValues or ForAnyValue')
    if_exists = False
    op = OPERATORS.get(name.lower())
    if op is None and name.lower().endswith("ifexists"):
        op = OPERATORS.get(name.lower()[: -len("ifexists")])
        if_exists = op is not None
    if op is None:
        names = [o.name for o in OPERATORS.values()]
        close = difflib.get_close_matches(name.removesuffix("IfExists"), names, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConditionValueError(f'unknown condition operator "{raw}"{hint}')
    if op.name == "Null" and (if_exists or qualifier):
        raise ConditionValueError("Null cannot take IfExists or a set operator")
    return OperatorName(op, qualifier, if_exists)


_CHECKED_MATCHES = 10_000


def _checking(values: Iterable[str]) -> Iterator[str]:
    for value in values:
        check_deadline()
        yield value


@dataclass(frozen=True, slots=True)
class ConditionClause:
    """One operator applied to one key with its list of policy values."""

    name: OperatorName
    key: str
    key_lower: str
    values: tuple[str, ...]
    matchers: tuple[ValueMatcher, ...]
    null_wants_absent: tuple[bool, ...]
    variable_keys: tuple[str, ...]

    def evaluate(self, ctx: Context) -> bool:
        op = self.name.operator
        got = ctx.get(self.key_lower)
        if op.family == "Null":
            absent = not got
            return any(want == absent for want in self.null_wants_absent)
        matchers = self.matchers
        qualifier = self.name.qualifier
        if qualifier is not None and got and all(v == "" for v in got):
            # A value that resolves to a null data set, such as an empty string, counts as no
            # value for the set operators.
            # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
            got = ()
        # Request values x policy values matches: when there are many, the deadline is checked
        # before each request value is tried against the policy's.
        values: Iterable[str] = _checking(got) if got and len(got) * len(matchers) > _CHECKED_MATCHES else (got or ())
        if qualifier == "ForAllValues":
            if not got:
                return True
            if op.negated:
                return all(not any(m(r, ctx) for m in matchers) for r in values)
            return all(any(m(r, ctx) for m in matchers) for r in values)
        if qualifier == "ForAnyValue":
            if got is None:
                return self.name.if_exists
            if op.negated:
                return any(not any(m(r, ctx) for m in matchers) for r in values)
            return any(m(r, ctx) for r in values for m in matchers)
        if not got:
            return self.name.if_exists or op.negated
        # any(m(r, ctx) for r in values for m in matchers), as loops: most clauses test one value.
        for r in values:
            for m in matchers:
                if m(r, ctx):
                    return not op.negated
        return op.negated

    def referenced_keys(self) -> tuple[str, ...]:
        return (self.key, *self.variable_keys)


@dataclass(frozen=True, slots=True)
class Condition:
    clauses: tuple[ConditionClause, ...]

    def evaluate(self, ctx: Context) -> bool:
        for clause in self.clauses:
            if not clause.evaluate(ctx):
                return False
        return True

    def missing_keys(self, ctx: Context) -> list[str]:
        """The keys the clauses read (each clause's key, then its variables') that ``ctx`` lacks."""
        out: list[str] = []
        for clause in self.clauses:
            if clause.key_lower not in ctx:
                out.append(clause.key)
            for key in clause.variable_keys:
                if key.lower() not in ctx:
                    out.append(key)
        return out


EMPTY_CONDITION = Condition(())


def _scalar_text(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, str):
        return value
    return None


def compile_condition(raw: object, path: str, *, variables_enabled: bool) -> tuple[Condition, list[tuple[str, str]], list[tuple[str, str]]]:
    """Compile a ``Condition`` block; returns (condition, errors, warnings) as (path, rule) pairs."""
    errors: list[tuple[str, str]] = []
    warnings: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return EMPTY_CONDITION, [(path, "must be an object of operator -> {key: value(s)}")], warnings
    clauses: list[ConditionClause] = []
    for op_raw, block in raw.items():
        op_path = f"{path}.{op_raw}"
        try:
            name = parse_operator_name(op_raw)
        except ConditionValueError as exc:
            errors.append((op_path, str(exc)))
            continue
        if name.text != op_raw:
            warnings.append((op_path, f"operator written as {op_raw!r}; AWS documents it as {name.text!r}"))
        if not isinstance(block, dict) or not block:
            errors.append((op_path, "must be a non-empty object of condition key -> value(s)"))
            continue
        for key, value in block.items():
            key_path = f"{op_path}.{key}"
            if not isinstance(key, str) or not key:
                errors.append((key_path, "condition key must be a non-empty string"))
                continue
            raw_values = value if isinstance(value, list) else [value]
            if not raw_values:
                errors.append((key_path, "must have at least one value"))
                continue
            texts: list[str] = []
            for i, v in enumerate(raw_values):
                text = _scalar_text(v)
                if text is None:
                    where = f"{key_path}[{i}]" if isinstance(value, list) else key_path
                    errors.append((where, f"condition values must be strings, numbers or booleans, got {type(v).__name__}"))
                else:
                    texts.append(text)
            if len(texts) != len(raw_values):
                continue
            op = name.operator
            matchers: list[ValueMatcher] = []
            nulls: list[bool] = []
            variable_keys: list[str] = []
            bad = False
            for i, text in enumerate(texts):
                where = f"{key_path}[{i}]" if isinstance(value, list) else key_path
                if op.family == "Null":
                    parsed = _try(parse_bool, text)
                    if parsed is None:
                        errors.append((where, f'Null takes "true" or "false", got {text!r}'))
                        bad = True
                    else:
                        nulls.append(bool(parsed))
                    continue
                use_vars = variables_enabled and op.takes_variables
                try:
                    # Each distinct value is compiled once per process: matchers are pure.
                    matchers.append(COMPILED.get(("condition", op.name, text, use_vars), len(text), lambda: op.compile_value(text, use_vars)))  # noqa: B023
                except ConditionValueError as exc:
                    errors.append((where, str(exc)))
                    bad = True
                    continue
                if use_vars and "${" in text:
                    template, _ = parse_template(text, variables_enabled=True)
                    variable_keys.extend(v.key for v in template.variables if v.default is None)
            if bad:
                continue
            clauses.append(
                ConditionClause(name, key, key.lower(), tuple(texts), tuple(matchers), tuple(nulls), tuple(variable_keys))
            )
    return Condition(tuple(clauses)), errors, warnings
