"""The one reader of world and export files: JSON or YAML, from a path or from text.

Every place that reads a file a user hands graphsim (``graphsim import``, ``--world FILE``,
GraphQL ``importWorld``, ``graphsim test``, ``what-if`` change files) goes through
``load_source_file`` or ``parse_text``, so a file reads the same everywhere:

- YAML is read with a bounded safe loader. A timestamp (``Version: 2012-10-17``,
  ``CreateDate: 2026-01-02T03:04:05Z``) comes back as the text that was written, since AWS
  documents hold these as strings; aliases, nesting and integer length are limited, so an alias
  bomb or a hostile file fails with a ``SourceLimitError`` naming the file and the limit.
- JSON is read with the same limits on nesting and integer length.
- Every failure is an ``ImportFileError`` naming the file (and line and column where known).

``decode_document`` reads a policy document as the AWS CLI prints it (an object) or as the IAM
API returns it (URL-encoded JSON text).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from ..errors import GraphsimError, Problem, problem_list
from ..limits import check_deadline

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "MAX_INT_DIGITS",
    "ImportFileError",
    "SourceLimitError",
    "decode_document",
    "load_source_file",
    "parse_text",
]

MAX_DEPTH = 100  # nested lists/objects; a policy inside a world is about 10 deep
MAX_ALIASES = 100  # YAML aliases (*name) in one file
MAX_EXPANDED_NODES = 1_000_000  # YAML nodes once every alias is expanded (an alias bomb's size)
MAX_INT_DIGITS = 100  # no AWS field holds a longer integer

_YAML_SUFFIXES = (".yaml", ".yml")


class ImportFileError(GraphsimError):
    """A file could not be read or imported: ``source`` names the file, ``problems`` each bad
    entry by JSON path. When several files are bad, ``others`` holds one error per further file."""

    code = "INVALID_IMPORT"

    def __init__(self, source: str, problems: list[Problem], *, others: Iterable[ImportFileError] = ()) -> None:
        self.source = source
        self.problems = list(problems)
        self.others = list(others)
        parts = [f"{source}: {p}" for p in self.problems]
        for other in self.others:
            parts += [f"{other.source}: {p}" for p in other.problems]
        super().__init__(problem_list(parts))

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["source"] = self.source
        ext["problems"] = [{"source": e.source, "path": p.path, "rule": p.rule} for e in (self, *self.others) for p in e.problems]
        return ext


class SourceLimitError(ImportFileError):
    """A file goes beyond one of the reader's limits: ``limit`` names it (``"depth"``,
    ``"aliases"``, ``"expanded nodes"``, ``"integer digits"``), ``maximum`` is its value."""

    code = "FILE_LIMIT"

    def __init__(self, source: str, limit: str, maximum: int, detail: str) -> None:
        self.limit = limit
        self.maximum = maximum
        super().__init__(source, [Problem("", f"{detail}: graphsim reads at most {maximum:,} {limit}")])

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["limit"] = self.limit
        ext["maximum"] = self.maximum
        return ext


class _Limit(Exception):
    """Raised inside a parser; turned into a ``SourceLimitError`` once the file name is known."""

    def __init__(self, limit: str, maximum: int, detail: str) -> None:
        super().__init__(detail)
        self.limit = limit
        self.maximum = maximum
        self.detail = detail


# ---- reading ---------------------------------------------------------------------------------


def load_source_file(path: str | Path) -> tuple[str, object]:
    """Read one source: a JSON file, a YAML file (``.yaml``/``.yml``), or a folder (the
    organizations export) read into ``{file name: parsed JSON}``. Returns (the path as given,
    the parsed object); raises ``ImportFileError`` for a file that cannot be read or parsed."""
    p = Path(path)
    source = str(path)
    if p.is_dir():
        files: dict[str, object] = {}
        for child in sorted(p.iterdir()):
            if child.is_file() and child.suffix == ".json":
                files[child.name] = _read(child, f"{source.rstrip('/')}/{child.name}")
        if not files:
            raise ImportFileError(source, [Problem("", "the folder holds no .json files (expected the aws organizations export)")])
        return source, files
    return source, _read(p, source)


def parse_text(source: str, text: str) -> object:
    """A file given as text (through the API, or read from disk): YAML when its name ends in
    ``.yaml``/``.yml``, else JSON. ``source`` names the file in every error."""
    check_deadline()  # an import of many files, read by a server, stops at the request's deadline
    if source.lower().endswith(_YAML_SUFFIXES):
        return _parse_yaml(text, source)
    return _parse_json(text, source)


def _read(p: Path, source: str) -> object:
    try:
        text = p.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark (Windows editors) is not content
    except UnicodeDecodeError:
        raise ImportFileError(source, [Problem("", "not a text file (not UTF-8): expected JSON")]) from None
    except OSError as exc:
        raise ImportFileError(source, [Problem("", f"cannot read file: {exc.strerror}")]) from None
    return parse_text(source, text)


# ---- JSON ------------------------------------------------------------------------------------


_HUGE = 10**MAX_INT_DIGITS


def _parse_json(text: str, source: str) -> object:
    if not text.strip():
        raise ImportFileError(source, [Problem("", "the file is empty: expected a JSON document")])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (the file ends early: is it truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise ImportFileError(source, [Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}{hint}")]) from None
    except RecursionError:
        raise SourceLimitError(source, "levels of nesting", MAX_DEPTH, "lists and objects nested too deeply") from None
    except ValueError:  # Python refuses integers of more than sys.get_int_max_str_digits() digits
        raise SourceLimitError(source, "integer digits", MAX_INT_DIGITS, f"an integer of more than {sys.get_int_max_str_digits():,} digits") from None
    try:
        if type(data) is dict or type(data) is list:
            _check(data, 1)
        elif type(data) is int:
            _check([data], 0)
    except _Limit as exc:
        raise SourceLimitError(source, exc.limit, exc.maximum, exc.detail) from None
    return data


def _check(value: dict[str, Any] | list[Any], level: int) -> None:
    """Refuse nesting beyond ``MAX_DEPTH`` and integers of more than ``MAX_INT_DIGITS`` digits.
    One pass, in C-speed type checks per value; the recursion stops at ``MAX_DEPTH``."""
    children: Iterable[Any] = value.values() if type(value) is dict else value
    for child in children:
        kind = type(child)
        if kind is dict or kind is list:
            if level == MAX_DEPTH:
                raise _Limit("levels of nesting", MAX_DEPTH, f"lists and objects nested more than {MAX_DEPTH:,} levels deep")
            _check(child, level + 1)
        elif kind is int and not -_HUGE < child < _HUGE:
            raise _Limit("integer digits", MAX_INT_DIGITS, f"an integer of {len(str(abs(child))):,} digits")


# ---- YAML ------------------------------------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits, and timestamps kept as the text written.

    Aliases are counted while composing, and the composed document's size with every alias
    expanded is checked before anything is constructed: a "billion laughs" file stays a few
    hundred bytes in memory but would be expanded by every later step (JSON, copies)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        check_deadline()  # PyYAML reads some 20,000 nodes a second: a large file meets the deadline
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Limit("aliases", MAX_ALIASES, f"more than {MAX_ALIASES:,} aliases{_at(self.peek_event())}")
            return super().compose_node(parent, index)
        nests = self.check_event(yaml.SequenceStartEvent, yaml.MappingStartEvent)
        if nests:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise _Limit("levels of nesting", MAX_DEPTH, f"lists and mappings nested more than {MAX_DEPTH:,} levels deep{_at(self.peek_event())}")
        try:
            return super().compose_node(parent, index)
        finally:
            if nests:
                self._depth -= 1

    def compose_document(self) -> Any:
        node = super().compose_document()
        if self._aliases:
            size = _expanded_size(node, {})
            if size > MAX_EXPANDED_NODES:
                raise _Limit("expanded nodes", MAX_EXPANDED_NODES, f"{size:,} nodes once its {self._aliases} aliases are expanded")
        return node

    def construct_text_timestamp(self, node: yaml.ScalarNode) -> str:
        # AWS documents hold dates as strings ("Version": "2012-10-17"); keep what was written.
        return str(node.value)

    def construct_bounded_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _Limit("integer digits", MAX_INT_DIGITS, f"an integer of {digits:,} digits{_at(node)}")
        return int(self.construct_yaml_int(node))


_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _BoundedLoader.construct_text_timestamp)
_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_bounded_int)


def _at(event_or_node: Any) -> str:
    mark = getattr(event_or_node, "start_mark", None)
    return f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """Nodes in ``node`` with aliases counted in full; ``sizes`` memoises shared nodes, so this
    takes time in the number of distinct nodes (depth is already bounded by the composer)."""
    known = sizes.get(id(node))
    if known is not None:
        if known < 0:
            # An alias inside the node it names (``a: &a [*a]``): infinitely deep once expanded.
            raise _Limit("levels of nesting", MAX_DEPTH, f"an alias that refers to itself{_at(node)} would nest without end")
        return known
    sizes[id(node)] = -1  # being counted
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(child, sizes) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    sizes[id(node)] = size
    return size


def _parse_yaml(text: str, source: str) -> object:
    if not text.strip():
        raise ImportFileError(source, [Problem("", "the file is empty: expected a YAML document")])
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    except _Limit as exc:
        raise SourceLimitError(source, exc.limit, exc.maximum, exc.detail) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise ImportFileError(source, [Problem("", f"not valid YAML: {getattr(exc, 'problem', None) or exc}{where}")]) from None
    finally:
        loader.dispose()


# ---- policy documents inside exports -----------------------------------------------------------


def decode_document(value: object) -> dict[str, Any] | None:
    """A policy document as the AWS CLI prints it (a JSON object) or as the IAM API returns it
    (JSON text, URL-encoded: ``%7B%22Version%22...``); None when it is neither. "Policies
    returned by this operation are URL-encoded compliant with RFC 3986."
    D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html"""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        return None
    for text in (value, unquote(value)):
        try:
            parsed = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            continue
        return parsed if isinstance(parsed, dict) else None
    return None
