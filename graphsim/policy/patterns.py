"""Compiled matchers for Action, Resource (ARN) and string-like patterns.

Everything is compiled when a policy is loaded; a request only runs ready regexes, and a pattern
holding policy variables caches one regex per distinct set of variable values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from ..arn import fields as arn_fields
from .variables import Escaped, Literal, Part, Template, Variable, parse_template

# Case rules: action names are case-insensitive, ARNs are case-sensitive.
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html

_ACTION_SHAPE = re.compile(r"^[A-Za-z0-9*?\-]+:[A-Za-z0-9*?\-_]*$")


@lru_cache(maxsize=65536)
def _glob_regex(text: str) -> str:
    # Escape runs of literal text at once; policies repeat patterns, so cache them.
    return "".join(".*" if piece == "*" else "." if piece == "?" else re.escape(piece) for piece in _WILD.split(text) if piece)


_WILD = re.compile(r"([*?])")


class ActionMatcher:
    """The Action (or NotAction) list of one statement."""

    __slots__ = ("patterns", "match_all", "exact", "exact_only", "_regex", "services")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self.match_all = any(p == "*" for p in self.patterns)
        exact: set[str] = set()
        wild: list[str] = []
        services: set[str] | None = set()
        for p in self.patterns:
            low = p.lower()
            if "*" in low or "?" in low:
                wild.append(_glob_regex(low))
            else:
                exact.add(low)
            service = low.split(":", 1)[0]
            if services is not None:
                if "*" in service or "?" in service or ":" not in low:
                    services = None
                else:
                    services.add(service)
        self.exact = frozenset(exact)
        self.exact_only = not wild and not self.match_all
        self._regex = re.compile("|".join(f"(?:{w})" for w in wild)) if wild else None
        # The services this list can name, or None when a wildcard makes it any service.
        self.services: frozenset[str] | None = frozenset(services) if services is not None else None

    def matches(self, action_lower: str) -> bool:
        if self.match_all or action_lower in self.exact:
            return True
        return self._regex is not None and self._regex.fullmatch(action_lower) is not None


def action_problem(pattern: str) -> str | None:
    """Why an Action entry is malformed, or None. AWS requires ``service:action`` or ``*``."""
    if pattern == "*":
        return None
    if "${" in pattern:
        return "policy variables are not allowed in Action"
    if not _ACTION_SHAPE.match(pattern):
        return f'must be "*" or "service:action" (letters, digits, "*", "?"), got {pattern!r}'
    return None


@lru_cache(maxsize=65536)
def _static_arn_regex(text: str) -> re.Pattern[str]:
    """The compiled regex of an ARN pattern without variables; the same patterns recur across
    thousands of policies."""
    return _arn_regex((Literal(text),))


def _arn_regex(parts: Iterable[Part]) -> re.Pattern[str]:
    """ARN wildcard rules: ``*``/``?`` stay within a colon-separated segment, except that a ``*``
    that is the last character of a segment may run past colons.
    D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    """
    tokens: list[tuple[str, bool]] = []  # (char, is_wildcard)
    for part in parts:
        if isinstance(part, Literal):
            tokens.extend((c, c in "*?") for c in part.text)
        elif isinstance(part, Escaped):
            tokens.extend((c, False) for c in part.char)
    out: list[str] = []
    for i, (c, wild) in enumerate(tokens):
        if not wild:
            out.append(re.escape(c))
        elif c == "?":
            out.append("[^:]")
        else:
            at_segment_end = i + 1 == len(tokens) or tokens[i + 1] == (":", False)
            out.append(".*" if at_segment_end else "[^:]*")
    return re.compile("".join(out), re.DOTALL)


def resource_problem(text: str) -> tuple[str | None, str | None]:
    """(error, warning) for one Resource entry. ``*`` or an ARN are accepted."""
    if text == "*":
        return None, None
    if not text.startswith("arn:"):
        return f'must be "*" or an ARN starting with "arn:", got {text!r}', None
    segments = arn_fields(text)
    if len(segments) < 6 and not text.endswith("*"):
        return None, f"{text!r} has fewer than 6 colon-separated segments, so it matches no ARN"
    if len(segments) > 2 and ("*" in segments[2] or "?" in segments[2]):
        return None, (
            f"{text!r}: AWS does not allow wildcards in the service segment, so this entry matches nothing"
        )
    return None, None


class ArnPattern:
    """One Resource/NotResource entry (or an ArnLike condition value), compiled once."""

    __slots__ = ("text", "template", "match_all", "never", "_regex", "_cache")

    def __init__(self, text: str, *, variables_enabled: bool, never: bool = False) -> None:
        self.text = text
        self.template, _ = parse_template(text, variables_enabled=variables_enabled)
        self.match_all = text == "*"
        self.never = never
        self._regex = None if self.template.has_variables else (
            _static_arn_regex(text) if len(self.template.parts) == 1 and isinstance(self.template.parts[0], Literal) else _arn_regex(self.template.parts)
        )
        self._cache: dict[tuple[Part, ...], re.Pattern[str]] = {}

    @property
    def variables(self) -> tuple[Variable, ...]:
        return self.template.variables

    def matches(self, arn: str, context: Mapping[str, Sequence[str]]) -> bool:
        if self.never:
            return False
        if self.match_all:
            return True
        regex = self._regex
        if regex is None:
            resolved = self.template.resolve(context)
            if resolved is None:
                return False  # a missing variable makes the entry match nothing
            regex = self._cache.get(resolved)
            if regex is None:
                if len(self._cache) > 4096:
                    self._cache.clear()
                regex = self._cache[resolved] = _arn_regex(resolved)
        return regex.fullmatch(arn) is not None


class ResourceMatcher:
    """The Resource (or NotResource) list of one statement. Entries without variables are
    joined into one regex, so most statements cost a single ``fullmatch``."""

    __slots__ = ("patterns", "match_all", "has_variables", "_static", "_dynamic")

    def __init__(self, patterns: Sequence[ArnPattern]) -> None:
        self.patterns = tuple(patterns)
        self.match_all = any(p.match_all for p in self.patterns)
        self.has_variables = any(p.template.has_variables for p in self.patterns)
        static = [p._regex.pattern for p in self.patterns if p._regex is not None and not p.never and not p.match_all]
        self._static = re.compile("|".join(f"(?:{r})" for r in static), re.DOTALL) if static else None
        self._dynamic = tuple(p for p in self.patterns if p._regex is None and not p.never)

    def matches(self, arn: str, context: Mapping[str, Sequence[str]]) -> bool:
        if self.match_all:
            return True
        if self._static is not None and self._static.fullmatch(arn) is not None:
            return True
        return any(p.matches(arn, context) for p in self._dynamic)

    def missing_keys(self, context: Mapping[str, Sequence[str]]) -> list[str]:
        if not self.has_variables:
            return []
        out: list[str] = []
        for p in self.patterns:
            out.extend(p.template.missing_keys(context))
        return out


def like_regex(parts: Iterable[Part], *, ignore_case: bool = False) -> re.Pattern[str]:
    """StringLike: ``*`` any run (colons included), ``?`` one character; case-sensitive."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, Literal):
            out.append(_glob_regex(part.text))
        elif isinstance(part, Escaped):
            out.append(re.escape(part.char))
    return re.compile("".join(out), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


__all__ = [
    "ActionMatcher",
    "ArnPattern",
    "ResourceMatcher",
    "Template",
    "action_problem",
    "like_regex",
    "resource_problem",
]
