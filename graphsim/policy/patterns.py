"""Compiled matchers for Action, Resource (ARN) and string-like patterns.

Every pattern is compiled when a policy is loaded, once per process for each distinct pattern
(see ``wildcards``: matching costs at most pattern length x input length, whatever the pattern);
a pattern holding policy variables is compiled per distinct set of variable values, through the
same bounded cache.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from ..arn import fields as arn_fields
from .cache import COMPILED
from .variables import Escaped, Literal, Part, Template, Variable, parse_template
from .wildcards import Matcher, Unit, cached_glob, cached_units, glob_units

# Case rules: action names are case-insensitive, ARNs are case-sensitive.
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
# D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html

_ACTION_SHAPE = re.compile(r"^[A-Za-z0-9*?\-]+:[A-Za-z0-9*?\-_]*$")


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _prefix_shape(text: str) -> bool:
    """``prefix*`` with no other wildcard: one ``startswith`` (for ARNs too, since a final ``*``
    may run past colons)."""
    return text.endswith("*") and not _wild(text[:-1])


class ActionMatcher:
    """The Action (or NotAction) list of one statement: a set of exact names, a tuple of
    prefixes (``s3:Get*``) tested in one ``startswith``, and compiled globs for the rest."""

    __slots__ = ("patterns", "match_all", "exact", "exact_only", "services", "_prefixes", "_globs")

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self.match_all = any(p == "*" for p in self.patterns)
        exact: set[str] = set()
        prefixes: list[str] = []
        globs: list[Matcher] = []
        services: set[str] | None = set()
        for p in self.patterns:
            low = p.lower()
            if not _wild(low):
                exact.add(low)
            elif _prefix_shape(low):
                prefixes.append(low[:-1])
            else:
                globs.append(cached_glob(low))
            service = low.split(":", 1)[0]
            if services is not None:
                if _wild(service) or ":" not in low:
                    services = None
                else:
                    services.add(service)
        self.exact = frozenset(exact)
        self.exact_only = not prefixes and not globs and not self.match_all
        self._prefixes = tuple(prefixes)
        self._globs = tuple(globs)
        # The services this list can name, or None when a wildcard makes it any service.
        self.services: frozenset[str] | None = frozenset(services) if services is not None else None

    def matches(self, action_lower: str) -> bool:
        if self.match_all or action_lower in self.exact:
            return True
        if self._prefixes and action_lower.startswith(self._prefixes):
            return True
        return any(m(action_lower) for m in self._globs)


def action_problem(pattern: str) -> str | None:
    """Why an Action entry is malformed, or None. AWS requires ``service:action`` or ``*``."""
    if pattern == "*":
        return None
    if "${" in pattern:
        return "policy variables are not allowed in Action"
    if not _ACTION_SHAPE.match(pattern):
        return f'must be "*" or "service:action" (letters, digits, "*", "?"), got {pattern!r}'
    return None


def _units(parts: Iterable[Part]) -> list[Unit]:
    """Wildcards stay wild in literal text; escaped characters and variable values do not."""
    out: list[Unit] = []
    for part in parts:
        if isinstance(part, Literal):
            out.extend(glob_units(part.text))
        elif isinstance(part, Escaped):
            out.extend(part.char)
    return out


def _size(parts: Sequence[Part]) -> int:
    return sum(len(p.text) if isinstance(p, Literal) else len(p.char) if isinstance(p, Escaped) else 0 for p in parts)


def arn_matcher(parts: Sequence[Part]) -> Matcher:
    """ARN wildcard rules: ``*``/``?`` stay within a colon-separated segment, except that a ``*``
    that is the last character of a segment may run past colons.
    D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
    """
    parts = tuple(parts)
    if len(parts) == 1 and isinstance(parts[0], Literal):
        text = parts[0].text
        return cached_units("arn", text, len(text), lambda: glob_units(text))
    return cached_units("arn", parts, _size(parts), lambda: _units(parts))


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

    __slots__ = ("text", "template", "match_all", "never", "static", "_match")

    def __init__(self, text: str, *, variables_enabled: bool, never: bool = False) -> None:
        self.text = text
        self.template, _ = parse_template(text, variables_enabled=variables_enabled)
        self.match_all = text == "*"
        self.never = never
        # Written without variables: one text (maybe with ${*}-style escapes), compiled now.
        self.static = not self.template.has_variables
        self._match: Matcher | None = arn_matcher(self.template.parts) if self.static and not never else None

    @property
    def variables(self) -> tuple[Variable, ...]:
        return self.template.variables

    def matches(self, arn: str, context: Mapping[str, Sequence[str]]) -> bool:
        if self.never:
            return False
        if self.match_all:
            return True
        match = self._match
        if match is None:
            resolved = self.template.resolve(context)
            if resolved is None:
                return False  # a missing variable makes the entry match nothing
            match = arn_matcher(resolved)
        return match(arn)


class ResourceMatcher:
    """The Resource (or NotResource) list of one statement: exact ARNs in a set, ``prefix*``
    entries in one ``startswith``, compiled matchers for the other entries without variables,
    and the entries with variables resolved per request."""

    __slots__ = ("patterns", "match_all", "has_variables", "_exact", "_prefixes", "_static", "_dynamic")

    def __init__(self, patterns: Sequence[ArnPattern]) -> None:
        self.patterns = tuple(patterns)
        self.match_all = any(p.match_all for p in self.patterns)
        self.has_variables = any(p.template.has_variables for p in self.patterns)
        exact: set[str] = set()
        prefixes: list[str] = []
        static: list[Matcher] = []
        dynamic: list[ArnPattern] = []
        for p in self.patterns:
            if p.never or p.match_all:
                continue
            plain = len(p.template.parts) == 1 and isinstance(p.template.parts[0], Literal)
            if plain and not _wild(p.text):
                exact.add(p.text)
            elif plain and _prefix_shape(p.text):
                prefixes.append(p.text[:-1])
            elif p._match is not None:
                static.append(p._match)
            else:
                dynamic.append(p)
        self._exact = frozenset(exact)
        self._prefixes = tuple(prefixes)
        self._static = tuple(static)
        self._dynamic = tuple(dynamic)

    def matches(self, arn: str, context: Mapping[str, Sequence[str]]) -> bool:
        if self.match_all or arn in self._exact:
            return True
        if self._prefixes and arn.startswith(self._prefixes):
            return True
        for match in self._static:
            if match(arn):
                return True
        return any(p.matches(arn, context) for p in self._dynamic)

    def missing_keys(self, context: Mapping[str, Sequence[str]]) -> list[str]:
        if not self.has_variables:
            return []
        out: list[str] = []
        for p in self.patterns:
            out.extend(p.template.missing_keys(context))
        return out


def action_matcher(names: Sequence[str]) -> ActionMatcher:
    """The ActionMatcher of a list of Action entries, shared by every statement that lists them."""
    key = tuple(names)
    return COMPILED.get(("actions", key), sum(map(len, key)), lambda: ActionMatcher(key))


def arn_pattern(text: str, *, variables_enabled: bool, never: bool = False) -> ArnPattern:
    """The ArnPattern of one entry, shared by every policy that holds it."""
    return COMPILED.get(("arn-entry", text, variables_enabled, never), len(text), lambda: ArnPattern(text, variables_enabled=variables_enabled, never=never))


def resource_matcher(entries: Sequence[tuple[str, bool]], *, variables_enabled: bool) -> ResourceMatcher:
    """The ResourceMatcher of a Resource/NotResource list given as (text, matches-nothing) pairs."""
    key = tuple(entries)
    return COMPILED.get(
        ("resources", key, variables_enabled), sum(len(t) for t, _ in key),
        lambda: ResourceMatcher([arn_pattern(t, variables_enabled=variables_enabled, never=n) for t, n in key]),
    )


def like_matcher(parts: Sequence[Part]) -> Matcher:
    """StringLike: ``*`` any run (colons included), ``?`` one character; case-sensitive."""
    parts = tuple(parts)
    if len(parts) == 1 and isinstance(parts[0], Literal):
        return cached_glob(parts[0].text)
    return cached_units("glob", parts, _size(parts), lambda: _units(parts))


__all__ = [
    "ActionMatcher",
    "ArnPattern",
    "ResourceMatcher",
    "Template",
    "action_matcher",
    "action_problem",
    "arn_matcher",
    "arn_pattern",
    "like_matcher",
    "resource_matcher",
    "resource_problem",
]
