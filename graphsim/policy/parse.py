"""Parse and validate a policy document into a ``PolicyDocument``.

Every problem is collected with its JSON path (``Statement[1].Effect``) before anything is
raised, so a user fixes all of them in one go. Unknown actions are warnings: AWS accepts them.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import PolicyValidationError, Problem
from ..limits import active, how_to_raise, nesting_depth
from .cache import COMPILED
from .conditions import EMPTY_CONDITION, Condition, compile_condition
from .jsontext import key_bytes, loads
from .model import Effect, PolicyDocument, PolicyKind, Principals, Statement
from .patterns import ResourceMatcher, action_matcher, action_problem, resource_matcher, resource_problem

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}
_IAM_SID = re.compile(r"^[A-Za-z0-9]*$")
_PRINCIPAL_KINDS = {PolicyKind.RESOURCE, PolicyKind.TRUST, PolicyKind.RCP}

ActionCheck = Callable[[str], str | None]  # returns a warning for an action name, or None


def load_json(text: str, *, source: str = "policy") -> Any:
    return _load_json(text, source)[0]


def _load_json(text: str, source: str) -> tuple[Any, bool]:
    """The document's value, and whether msgspec read it (``jsontext.loads``)."""
    try:
        value, plain = loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyValidationError(
            [Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")], source=source
        ) from None
    except RecursionError:
        raise PolicyValidationError([_too_deep()], source=source) from None
    except ValueError as exc:  # an integer longer than Python converts (4,300 digits)
        raise PolicyValidationError([Problem("", f"holds a number that cannot be read: {exc}")], source=source) from None
    if not plain:  # msgspec reads no lone surrogate, json does
        _refuse_surrogates(value, source)
    return value, plain


def _refuse_surrogates(value: Any, source: str) -> None:
    """A string of the document holding a lone surrogate (``"\\ud800"`` is valid JSON, but no
    Unicode text: it cannot be written as UTF-8, hashed or stored) makes it invalid, as in AWS,
    whose policies are UTF-8 text. Walked without recursion; the depth is checked later."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode()
                except UnicodeEncodeError as exc:
                    rule = f"holds a lone surrogate (U+{ord(item[exc.start]):04X}) in {item[:40]!r}: not Unicode text (an escaped surrogate must be half of a pair)"
                    raise PolicyValidationError([Problem("", rule)], source=source) from None
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def statement_count(document: str | Mapping[str, Any]) -> int:
    """How many statements ``document`` holds, read as JSON only (no statement is validated or
    compiled): what ``parse_policy`` would give it when it parses, so a request's size can be
    checked before its documents are parsed. A document that is not JSON, or not an object with
    a Statement, counts 0: the parse then says what is wrong with it."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except (ValueError, RecursionError):
            return 0
    body = document.get("Statement") if isinstance(document, Mapping) else None
    if isinstance(body, Mapping):
        return 1
    return len(body) if isinstance(body, list) else 0


def _too_deep() -> Problem:
    limit = active().json_depth
    return Problem("", f"nested deeper than {limit} levels (the limit json_depth; {how_to_raise('json_depth')})")


def parse_policy(
    document: str | Mapping[str, Any],
    *,
    kind: PolicyKind = PolicyKind.IDENTITY,
    check_action: ActionCheck | None = None,
    source: str = "policy",
) -> PolicyDocument:
    """Parse, validate and compile; raises ``PolicyValidationError`` listing every problem."""
    plain = False  # read by msgspec from text: JSON's own types only, so keyed by msgspec's text
    if isinstance(document, str):
        raw, plain = _load_json(document, source)
    else:
        raw = document
        _refuse_surrogates(raw, source)
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if not isinstance(raw, Mapping):
        raise PolicyValidationError([Problem("", f"a policy must be a JSON object, got {type(raw).__name__}")], source=source)
    limit = active().json_depth
    # A text with no more brackets than the limit cannot nest deeper: most documents skip the walk.
    shallow = isinstance(document, str) and document.count("{") + document.count("[") <= limit
    if not shallow and nesting_depth(raw, limit) > limit:
        # Checked before any element is read: the parse below recurses into conditions.
        raise PolicyValidationError([_too_deep()], source=source)

    for key in raw:
        if key not in _TOP_KEYS:
            errors.append(Problem(str(key), f"unknown top-level element; allowed: {', '.join(sorted(_TOP_KEYS))}"))
    version = raw.get("Version")
    if version is None:
        warnings.append(Problem("Version", "missing: policy variables such as ${aws:username} are read as literal text"))
    elif version not in VERSIONS:
        errors.append(Problem("Version", f'must be "2012-10-17" or "2008-10-17", got {json.dumps(version)}'))
    elif version == "2008-10-17":
        warnings.append(Problem("Version", "2008-10-17: policy variables are read as literal text"))
    policy_id = raw.get("Id")
    if policy_id is not None and not isinstance(policy_id, str):
        errors.append(Problem("Id", "must be a string"))

    variables = version == "2012-10-17"
    statements: list[Statement] = []
    body = raw.get("Statement")
    if body is None:
        errors.append(Problem("Statement", "is required"))
        raw_statements: list[tuple[str, Any]] = []
    elif isinstance(body, Mapping):
        raw_statements = [("Statement", body)]
    elif isinstance(body, list):
        if not body:
            errors.append(Problem("Statement", "must hold at least one statement"))
        raw_statements = [(f"Statement[{i}]", s) for i, s in enumerate(body)]
    else:
        errors.append(Problem("Statement", "must be an object or a list of objects"))
        raw_statements = []

    if kind is PolicyKind.RCP and not _is_rcp_full_access(raw_statements):
        _check_customer_rcp(raw_statements, errors)

    seen_sids: dict[str, str] = {}
    for index, (path, st) in enumerate(raw_statements):
        statement = _parse_statement(st, index, path, kind, variables, check_action, errors, warnings, plain)
        if statement is not None:
            if statement.sid:
                if statement.sid in seen_sids and kind in (PolicyKind.IDENTITY, PolicyKind.BOUNDARY):
                    errors.append(Problem(f"{path}.Sid", f"duplicate Sid {statement.sid!r} (also at {seen_sids[statement.sid]})"))
                seen_sids.setdefault(statement.sid, path)
            statements.append(statement)

    if errors:
        raise PolicyValidationError(errors, source=source)
    return PolicyDocument(
        version=version,
        id=policy_id,
        statements=tuple(statements),
        kind=kind,
        warnings=tuple(warnings),
        raw=raw,
    )


def _is_rcp_full_access(statements: list[tuple[str, Any]]) -> bool:
    """AWS's own RCPFullAWSAccess, the one RCP that may Allow."""
    if len(statements) != 1 or not isinstance(statements[0][1], Mapping):
        return False
    st = statements[0][1]
    return (
        st.get("Effect") == "Allow" and st.get("Principal") == "*" and st.get("Action") == "*"
        and st.get("Resource") == "*" and "Condition" not in st
    )


def _check_customer_rcp(statements: list[tuple[str, Any]], errors: list[Problem]) -> None:
    """Customer RCPs: Deny only, Principal "*", no Action "*", no NotAction or NotPrincipal.
    D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps_syntax.html"""
    for path, st in statements:
        if not isinstance(st, Mapping):
            continue
        if st.get("Effect") == "Allow":
            errors.append(Problem(f"{path}.Effect", 'a customer RCP statement must be "Deny"; Allow is only for AWS\'s RCPFullAWSAccess'))
        for elem in ("NotAction", "NotPrincipal"):
            if elem in st:
                errors.append(Problem(f"{path}.{elem}", f"{elem} is not supported in RCPs"))
        principal = st.get("Principal")
        if principal is not None and principal != "*" and principal != {"AWS": "*"}:
            errors.append(Problem(f"{path}.Principal", 'an RCP Principal must be "*"; restrict principals with a Condition'))
        action = st.get("Action")
        if action == "*" or (isinstance(action, list) and "*" in action):
            errors.append(Problem(f"{path}.Action", 'a customer RCP cannot use "*" as an action; name the service (e.g. "s3:*")'))


def _string_list(value: Any, path: str, errors: list[Problem]) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        errors.append(Problem(path, "must not be an empty list"))
        return None
    out: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            where = f"{path}[{i}]" if isinstance(value, list) else path
            errors.append(Problem(where, f"must be a non-empty string, got {json.dumps(item)}"))
            return None
        out.append(item)
    return out


# A statement's compiled body (everything but its Sid and place), its errors and its warnings,
# their paths relative to the statement.
_Body = tuple[tuple[Any, ...] | None, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def _parse_statement(
    st: Any,
    index: int,
    path: str,
    kind: PolicyKind,
    variables: bool,
    check_action: ActionCheck | None,
    errors: list[Problem],
    warnings: list[Problem],
    plain: bool = False,
) -> Statement | None:
    if not isinstance(st, dict) and not isinstance(st, Mapping):
        errors.append(Problem(path, "a statement must be an object"))
        return None
    before = len(errors)
    for key in st if not _STATEMENT_KEYS.issuperset(st) else ():
        if key not in _STATEMENT_KEYS:
            errors.append(Problem(f"{path}.{key}", f"unknown statement element; allowed: {', '.join(sorted(_STATEMENT_KEYS))}"))

    sid = st.get("Sid")
    if sid is not None:
        if not isinstance(sid, str):
            errors.append(Problem(f"{path}.Sid", "must be a string"))
            sid = None
        elif kind in (PolicyKind.IDENTITY, PolicyKind.BOUNDARY) and not _IAM_SID.match(sid):
            errors.append(Problem(f"{path}.Sid", f"IAM policies allow only letters and digits in Sid, got {sid!r}"))

    # Drafts and accounts repeat whole statements but for their Sid: each distinct body (by its
    # compact JSON text, as Condition blocks are keyed) is checked and compiled once. A body
    # msgspec read from text is keyed by msgspec's text of it (bytes, several times cheaper to
    # write), any other by json's (str): the two kinds of key never meet.
    body_raw = st
    if "Sid" in st:
        body_raw = dict(st)  # a copy in C, in the statement's order, less its Sid
        del body_raw["Sid"]
    body_key: str | bytes
    try:
        body_key = key_bytes(body_raw) if plain else _KEY_TEXT(body_raw)
    except (TypeError, ValueError):  # a value no JSON document holds: compile it uncached; it reports itself
        body, body_errors, body_warnings = _statement_body(body_raw, kind, variables, check_action)
    else:
        body, body_errors, body_warnings = COMPILED.get(
            ("statement", body_key, kind, variables, check_action), len(body_key), lambda: _statement_body(body_raw, kind, variables, check_action)
        )
    if body_errors:
        errors.extend(Problem(path + where, rule) for where, rule in body_errors)
    if body_warnings:
        warnings.extend(Problem(path + where, rule) for where, rule in body_warnings)
    if len(errors) > before or body is None:
        return None
    effect, actions, not_action, resources, not_resource, principals, not_principal, condition = body
    return Statement(index, sid, effect, actions, not_action, resources, not_resource, principals, not_principal, condition, st)


def _statement_body(st: Mapping[str, Any], kind: PolicyKind, variables: bool, check_action: ActionCheck | None) -> _Body:
    """The elements of a statement but Sid, checked and compiled; problem paths are relative
    to the statement ("" for the statement itself, ".Effect", ".Action[2]"...)."""
    path = ""
    problems: list[Problem] = []
    warned: list[Problem] = []
    body = _compile_body(st, path, kind, variables, check_action, problems, warned)
    return body, tuple((p.path, p.rule) for p in problems), tuple((p.path, p.rule) for p in warned)


def _compile_body(
    st: Mapping[str, Any], path: str, kind: PolicyKind, variables: bool, check_action: ActionCheck | None, errors: list[Problem], warnings: list[Problem]
) -> tuple[Any, ...] | None:
    before = len(errors)
    effect_raw = st.get("Effect")
    effect = None
    if effect_raw is None:
        errors.append(Problem(f"{path}.Effect", 'is required ("Allow" or "Deny")'))
    elif effect_raw not in ("Allow", "Deny"):
        errors.append(Problem(f"{path}.Effect", f'must be "Allow" or "Deny", got {json.dumps(effect_raw)}'))
    else:
        effect = Effect(effect_raw)

    # Action / NotAction: exactly one.
    actions = None
    not_action = False
    if ("Action" in st) == ("NotAction" in st):
        errors.append(Problem(path, 'must have exactly one of "Action" or "NotAction"'))
    else:
        not_action = "NotAction" in st
        elem = "NotAction" if not_action else "Action"
        value = st[elem]
        names = _string_list(value, f"{path}.{elem}", errors)
        if names is not None:
            tidy_names, problems = _action_list(tuple(names), check_action)
            for i, is_error, rule in problems:
                (errors if is_error else warnings).append(Problem(f"{path}.{elem}[{i}]" if isinstance(value, list) else f"{path}.{elem}", rule))
            actions = action_matcher(tidy_names)

    # Resource / NotResource: exactly one, except in trust policies where it may be absent.
    resources = None
    not_resource = False
    has_r, has_nr = "Resource" in st, "NotResource" in st
    if has_r and has_nr:
        errors.append(Problem(path, 'must not have both "Resource" and "NotResource"'))
    elif not has_r and not has_nr:
        if kind not in (PolicyKind.TRUST,):
            errors.append(Problem(path, 'must have one of "Resource" or "NotResource"'))
    else:
        not_resource = has_nr
        elem = "NotResource" if not_resource else "Resource"
        value = st[elem]
        entries = _string_list(value, f"{path}.{elem}", errors)
        if entries is not None:
            resources, problems = _resource_list(tuple(entries), variables)
            for i, is_error, rule in problems:
                (errors if is_error else warnings).append(Problem(f"{path}.{elem}[{i}]" if isinstance(value, list) else f"{path}.{elem}", rule))

    principals = None
    not_principal = False
    if "Principal" in st or "NotPrincipal" in st:
        elem = "NotPrincipal" if "NotPrincipal" in st else "Principal"
        if kind not in _PRINCIPAL_KINDS:
            errors.append(Problem(f"{path}.{elem}", f"{elem} is not allowed in {kind.value} policies, only in resource-based policies"))
        elif "Principal" in st and "NotPrincipal" in st:
            errors.append(Problem(path, 'must not have both "Principal" and "NotPrincipal"'))
        elif elem == "NotPrincipal" and kind is PolicyKind.TRUST:
            errors.append(Problem(f"{path}.NotPrincipal", "NotPrincipal is not allowed in role trust policies"))
        elif elem == "NotPrincipal" and effect_raw == "Allow":
            # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
            errors.append(Problem(f"{path}.NotPrincipal", 'NotPrincipal must be used with "Effect": "Deny"; with "Allow" it is not supported'))
        else:
            not_principal = elem == "NotPrincipal"
            principals = _parse_principals(st[elem], f"{path}.{elem}", errors)
    elif kind in _PRINCIPAL_KINDS:
        errors.append(Problem(path, f'a {kind.value} policy statement must have "Principal" or "NotPrincipal"'))

    condition = EMPTY_CONDITION
    if "Condition" in st:
        condition, cond_errors, cond_warnings = _condition(st["Condition"], variables)
        errors.extend(Problem(f"{path}.Condition{p}", r) for p, r in cond_errors)
        warnings.extend(Problem(f"{path}.Condition{p}", r) for p, r in cond_warnings)

    if len(errors) > before or effect is None or actions is None:
        return None
    return (effect, actions, not_action, resources, not_resource, principals, not_principal, condition)


# ---- elements compiled once per process ----------------------------------------------------
# A batch's documents differ (Sids, a bucket name) but repeat their Action lists, Resource
# lists and Condition blocks; each distinct one is checked and compiled once. Problems are kept
# relative to the element: (index in the list, is an error, rule).

ElementProblems = tuple[tuple[int, bool, str], ...]


def _action_list(names: tuple[str, ...], check_action: ActionCheck | None) -> tuple[tuple[str, ...], ElementProblems]:
    return COMPILED.get(("action-list", names, check_action), sum(map(len, names)), lambda: _check_actions(names, check_action))


def _check_actions(names: tuple[str, ...], check_action: ActionCheck | None) -> tuple[tuple[str, ...], ElementProblems]:
    tidy_names: list[str] = []
    problems: list[tuple[int, bool, str]] = []
    for i, name in enumerate(names):
        tidy = "".join(name.split())
        if tidy != name and tidy:
            # AWS accepted (and published, in managed policies such as SecurityAudit v5)
            # actions with stray spaces, e.g. "lambda:ListFunctions ": read them without.
            problems.append((i, False, f"stray whitespace in {name!r}; read as {tidy!r}"))
            name = tidy
        tidy_names.append(name)
        problem = action_problem(name)
        if problem:
            problems.append((i, True, problem))
        elif check_action is not None:
            warning = check_action(name)
            if warning:
                problems.append((i, False, warning))
    return tuple(tidy_names), tuple(problems)


def _resource_list(entries: tuple[str, ...], variables: bool) -> tuple[ResourceMatcher, ElementProblems]:
    return COMPILED.get(("resource-list", entries, variables), sum(map(len, entries)), lambda: _check_resources(entries, variables))


def _check_resources(entries: tuple[str, ...], variables: bool) -> tuple[ResourceMatcher, ElementProblems]:
    patterns: list[tuple[str, bool]] = []
    problems: list[tuple[int, bool, str]] = []
    for i, text in enumerate(entries):
        error, warning = resource_problem(text)
        if error:
            problems.append((i, True, error))
            continue
        if warning:
            problems.append((i, False, warning))
        patterns.append((text, warning is not None))
    return resource_matcher(patterns, variables_enabled=variables), tuple(problems)


_KEY_TEXT = json.JSONEncoder(separators=(",", ":")).encode


def _condition(raw: Any, variables: bool) -> tuple[Condition, list[tuple[str, str]], list[tuple[str, str]]]:
    """A Condition block, its problems' paths relative to it (``.Operator.key``). Keyed by its
    compact JSON text, which keeps true, 1 and 1.0 apart as the operators read them apart."""
    try:
        key = _KEY_TEXT(raw)
    except (TypeError, ValueError):  # a value no JSON document holds: compile it uncached; it reports itself
        return compile_condition(raw, "", variables_enabled=variables)
    return COMPILED.get(("condition-block", key, variables), len(key), lambda: compile_condition(raw, "", variables_enabled=variables))


def _parse_principals(value: Any, path: str, errors: list[Problem]) -> Principals | None:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, Mapping) or not value:
        errors.append(Problem(path, 'must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}'))
        return None
    by_type: list[tuple[str, tuple[str, ...]]] = []
    for ptype, ids in value.items():
        if ptype not in _PRINCIPAL_TYPES:
            errors.append(Problem(f"{path}.{ptype}", f"unknown principal type; allowed: {', '.join(sorted(_PRINCIPAL_TYPES))}"))
            continue
        names = _string_list(ids, f"{path}.{ptype}", errors)
        if names is None:
            continue
        for i, name in enumerate(names):
            if name != "*" and ("*" in name or "?" in name):
                # No wildcard may match part of a principal; use a Condition on aws:PrincipalArn.
                # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
                where = f"{path}.{ptype}[{i}]" if isinstance(ids, list) else f"{path}.{ptype}"
                errors.append(Problem(where, f"a wildcard may not match part of a principal ({name!r}); use \"*\" with a Condition on aws:PrincipalArn"))
        by_type.append((ptype, tuple(names)))
    return Principals(everyone=False, by_type=tuple(by_type))
