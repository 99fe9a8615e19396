"""Access expectations as tests: ``graphsim test expectations.yaml`` for CI gates.

Each entry is ``{name?, principal, action, resource, context?, expect}``; ``context`` maps keys
to a value or a list of values. The report is a pass/fail table, optionally JUnit XML.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis.what_if import DENIED, meets
from .engine import ContextEntry, Decision, DecisionKind, Engine
from .errors import GraphsimError, InvalidRequestError


@dataclass(frozen=True, slots=True)
class Expectation:
    name: str
    principal: str
    action: str
    resource: str
    context: tuple[ContextEntry, ...]
    expect: str | None  # ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, or DENIED (either deny); None: not given (what-if questions)


@dataclass(frozen=True, slots=True)
class Outcome:
    expectation: Expectation
    passed: bool
    got: str
    decision: Decision | None
    error: str | None = None


def load_expectations(path: str | Path, *, require_expect: bool = True) -> list[Expectation]:
    """Expectations from YAML or JSON; without ``require_expect`` (what-if questions) the
    ``expect`` of an entry may be omitted."""
    from .imports import ImportFileError, load_source_file

    p = Path(path)
    try:
        _, data = load_source_file(p)
    except ImportFileError as exc:
        raise InvalidRequestError(exc.message, field="file") from None
    if isinstance(data, dict) and "expectations" in data:
        data = data["expectations"]
    if not isinstance(data, list) or not data:
        raise InvalidRequestError(f"{p}: expected a non-empty list of expectations", field="file")
    out = []
    for i, entry in enumerate(data):
        where = f"{p}: [{i}]"
        if not isinstance(entry, dict):
            raise InvalidRequestError(f"{where}: each expectation is an object", field=f"[{i}]")
        required = ("principal", "action", "resource", "expect") if require_expect else ("principal", "action", "resource")
        missing = [k for k in required if not entry.get(k)]
        if missing:
            raise InvalidRequestError(f"{where}: missing {', '.join(missing)}", field=f"[{i}].{missing[0]}")
        expect = _expected(str(entry["expect"])) if entry.get("expect") else None
        if expect is None and entry.get("expect"):
            raise InvalidRequestError(f"{where}.expect: must be ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY or DENIED, got {entry['expect']!r}", field=f"[{i}].expect")
        raw_context = entry.get("context") or {}
        if not isinstance(raw_context, dict):
            raise InvalidRequestError(f"{where}.context: must map condition keys to a value or a list of values", field=f"[{i}].context")
        context = []
        for key, value in raw_context.items():
            values = tuple(str(v) for v in value) if isinstance(value, list) else (str(value),)
            context.append(ContextEntry(str(key), values, "stringList" if isinstance(value, list) else "string"))
        name = str(entry.get("name") or f"{entry['principal']} {entry['action']} {entry['resource']}")
        out.append(Expectation(name, str(entry["principal"]), str(entry["action"]), str(entry["resource"]), tuple(context), expect))
    return out


def _expected(text: str) -> str | None:
    """A decision in any of its spellings, or DENIED (also ``deny``) for either deny."""
    if text.lower() in ("deny", "denied"):
        return DENIED
    try:
        return DecisionKind.parse(text).value
    except ValueError:
        return None


def check(engine: Engine, expectations: Sequence[Expectation]) -> list[Outcome]:
    outcomes = []
    for e in expectations:
        try:
            decision = engine.can(e.principal, e.action, e.resource, e.context)
        except GraphsimError as exc:
            outcomes.append(Outcome(e, False, "ERROR", None, exc.message))
            continue
        got = decision.decision.value
        passed = meets(e.expect or DENIED, got)
        outcomes.append(Outcome(e, passed, got, decision))
    return outcomes


def table(outcomes: Sequence[Outcome]) -> str:
    width = max(len(o.expectation.name) for o in outcomes)
    lines = [f"{'result':<6}  {'expectation':<{width}}  {'expected':<13}  got"]
    for o in outcomes:
        lines.append(f"{'PASS' if o.passed else 'FAIL':<6}  {o.expectation.name:<{width}}  {o.expectation.expect or '':<13}  {o.got}")
        if not o.passed:
            detail = o.error or (o.decision.fix.summary if o.decision is not None and o.decision.fix is not None else "")
            if detail:
                lines.append(f"{'':<6}  {detail}")
    passed = sum(o.passed for o in outcomes)
    lines.append(f"{passed} passed, {len(outcomes) - passed} failed")
    return "\n".join(lines)


def junit_xml(outcomes: Sequence[Outcome], suite: str = "graphsim access expectations") -> str:
    root = ET.Element("testsuite", name=suite, tests=str(len(outcomes)), failures=str(sum(not o.passed and o.error is None for o in outcomes)),
                      errors=str(sum(o.error is not None for o in outcomes)))
    for o in outcomes:
        case = ET.SubElement(root, "testcase", classname="graphsim.expectations", name=o.expectation.name)
        if o.error is not None:
            ET.SubElement(case, "error", message=o.error)
        elif not o.passed:
            failure = ET.SubElement(case, "failure", message=f"expected {o.expectation.expect}, got {o.got}")
            failure.text = _explain(o.decision)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _explain(decision: Any) -> str:
    from .engine import explain

    return "" if decision is None else explain(decision)
