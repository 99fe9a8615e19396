"""Every bound on one request, in one place, and the deadline of the work it starts.

A server takes questions from anyone allowed to reach it, and one small request must not stop it
for everyone: each kind of work is bounded before it starts (``Limits``), and the work that
remains runs against a deadline. A refusal is a ``LimitExceededError`` (``LIMIT_EXCEEDED``, with
the limit's name, its maximum, what was asked and the flag that raises it); running past the
deadline is a ``DeadlineExceededError`` (``DEADLINE_EXCEEDED``, retryable once the server is less
busy, or with a longer ``--deadline``).

The limits in force are a context variable: ``graphsim serve`` sets them for every request, a CLI
command for its run (their flags are the CLI's: cli.py), and other code (tests, embedding) gets
the defaults. How a refusal says to raise a limit is one too (``how_to_raise``): a server's flag
by default, the command's own flag, or a word that it has none, on the command line. Nothing here
knows HTTP, GraphQL or argparse, so the pure core may check them.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, fields
from typing import Any

from .bulk import collector_paused
from .errors import GraphsimError, InvalidRequestError

MIB = 1024 * 1024


def _limit(default: float, flag: str, help: str) -> Any:
    return field(default=default, metadata={"flag": flag, "help": help})


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds of one server (each with the ``graphsim serve`` flag that sets it; the CLI's
    commands take some of them too)."""

    body_bytes: int = _limit(10 * MIB, "--max-body-bytes", "largest request body, in bytes (default 10 MiB)")
    body_seconds: float = _limit(30.0, "--body-timeout", "seconds a request body may take to arrive, once its headers have (default 30)")
    query_tokens: int = _limit(5_000, "--max-query-tokens", "most tokens of a GraphQL document; the parser stops reading at the first past it (default 5,000)")
    query_cost: int = _limit(20_000, "--max-query-cost", "most fields one GraphQL document may select, each fragment counted at every place it is spread (default 20,000)")
    query_depth: int = _limit(10, "--max-query-depth", "deepest nesting of fields in a GraphQL document, fragments expanded (default 10)")
    query_aliases: int = _limit(30, "--max-query-aliases", "most aliased fields in a GraphQL document, fragments expanded (default 30)")
    json_depth: int = _limit(100, "--max-json-depth", "deepest nesting of a JSON body or policy document (default 100)")
    validation_work: int = _limit(100_000, "--max-validation-work", "most work graphql-core may spend validating one document, comparing fields of one name pair by pair (default 100,000; graphql-core's own is 500,000, some 0.6 s of CPU)")
    json_elements: int = _limit(250_000, "--max-json-elements", "most values (objects, lists, strings, numbers...) in one JSON body (default 250,000)")
    simulation_pairs: int = _limit(10_000, "--max-simulation-pairs", "most action x resource pairs in one simulate request (default 10,000)")
    simulation_work: int = _limit(5_000_000, "--max-simulation-work", "most statements x pairs one simulate request may evaluate (default 5,000,000)")
    matrix_cells: int = _limit(200_000, "--max-matrix-cells", "most cells of an access matrix asked through GraphQL (default 200,000)")
    csv_cells: int = _limit(1_000_000, "--max-csv-cells", "most cells of GET /export/matrix.csv (default 1,000,000)")
    analysis_size: int = _limit(2_000_000, "--max-analysis-size", "most evaluations one review may plan: principals x actions for whoCan, principals x roles for canAssumeEdges (default 2,000,000)")
    deadline_seconds: float = _limit(8.0, "--deadline", "seconds a request may work before it is stopped with DEADLINE_EXCEEDED (default 8)")
    cache_bytes: int = _limit(256 * MIB, "--cache-bytes", "bytes the caches of parsed and compiled policy documents may hold (default 256 MiB)")
    # The strings a request brings, bounded so that matching them (pattern length x input length)
    # and the caches keyed by them stay small. AWS takes ARNs of 1-2,048 characters in a simulate
    # request (ResourceArns, CallerArn, ResourceOwner) and context key names of 5-256, and gives
    # context values no bound: 4,096 holds any ARN or URL a context key carries.
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulateCustomPolicy.html
    # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_ContextEntry.html
    arn_length: int = _limit(2048, "--max-arn-length", "longest ARN or principal name a request may give: resources, caller, policy source (default 2,048, AWS's own bound)")
    context_value_length: int = _limit(4096, "--max-context-value-length", "longest context key name or value a request may give (default 4,096)")
    # A wildcard pattern of a policy (an Action, Resource or NotResource entry, a StringLike or
    # ArnLike value) is matched against those strings. The policies AWS stores hold 2,048 (a
    # user's inline policies) to 10,240 (a role's) characters, SimulateCustomPolicy's documents
    # 131,072. 4,096 is twice the longest ARN a request may give: a pattern's fixed characters
    # must all appear in the string it matches, so a longer one can only match by being mostly
    # wildcards.
    # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html
    pattern_length: int = _limit(4096, "--max-pattern-length", "longest wildcard pattern a policy may hold, once its variables are replaced: Action, Resource, StringLike and ArnLike values (default 4,096)")

    def check(self, name: str, asked: int, *, what: str, field: str | None = None) -> None:
        """Refuse ``asked`` when it is over the limit called ``name`` (a field of Limits)."""
        maximum = getattr(self, name)
        if asked > maximum:
            raise LimitExceededError(name, maximum, asked, what=what, field=field)

    @classmethod
    def flag(cls, name: str) -> str:
        return str(_FIELDS[name].metadata["flag"])

    @classmethod
    def help(cls, name: str) -> str:
        return str(_FIELDS[name].metadata["help"])


_FIELDS = {f.name: f for f in fields(Limits)}


class LimitExceededError(InvalidRequestError):
    """A request asks for more than a limit of the server allows; nothing was done."""

    code = "LIMIT_EXCEEDED"

    def __init__(self, limit: str, maximum: float, asked: float, *, what: str, field: str | None = None) -> None:
        self.limit = limit
        self.maximum = maximum
        self.asked = asked
        super().__init__(f"{what}: {asked:,} is over the limit {limit} of {maximum:,}; ask for less, or {how_to_raise(limit)}", field=field)

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "limit": self.limit, "maximum": self.maximum, "asked": self.asked, "flag": Limits.flag(self.limit)}


class DeadlineExceededError(GraphsimError):
    """The work of a request ran past the server's deadline and was stopped; nothing changed,
    unless ``changed``: then the request's change was made before (see ``note_change``)."""

    code = "DEADLINE_EXCEEDED"

    def __init__(self, seconds: float, *, changed: bool = False) -> None:
        self.seconds = seconds
        self.changed = changed
        made = "; its change WAS made and recorded before that (read the world for the rest of the answer)" if changed else ""
        super().__init__(
            f"the request was stopped after {seconds:g} s (the limit deadline_seconds){made}; ask a narrower question, or {how_to_raise('deadline_seconds')}",
        )

    def extensions(self) -> dict[str, object]:
        # A request whose change was made must not be sent again as it is: not retryable.
        extensions = {**super().extensions(), "limit": "deadline_seconds", "maximum": self.seconds, "flag": Limits.flag("deadline_seconds"), "retryable": not self.changed}
        if self.changed:
            extensions["changed"] = True
        return extensions


# ---- the limits and deadline in force -------------------------------------------------------

DEFAULTS = Limits()  # frozen: one shared value
_ACTIVE: ContextVar[Limits] = ContextVar("graphsim_limits", default=DEFAULTS)


def _server_flag(name: str) -> str:
    return f"start the server with a larger {Limits.flag(name)}"


_RAISE: ContextVar[Callable[[str], str]] = ContextVar("graphsim_how_to_raise", default=_server_flag)


def how_to_raise(name: str) -> str:
    """How whoever asked raises the limit ``name``, as a refusal's message ends (after "ask for
    less, or"): the server's flag, unless ``raised_with`` says otherwise (the CLI does)."""
    return _RAISE.get()(name)


@contextlib.contextmanager
def raised_with(explain: Callable[[str], str]) -> Iterator[None]:
    token = _RAISE.set(explain)
    try:
        yield
    finally:
        _RAISE.reset(token)
_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("graphsim_deadline", default=None)
_CHANGED: ContextVar[bool] = ContextVar("graphsim_changed", default=False)


def active() -> Limits:
    """The limits of the request being answered (the defaults outside a server)."""
    return _ACTIVE.get()


@contextlib.contextmanager
def using(limits: Limits) -> Iterator[Limits]:
    token = _ACTIVE.set(limits)
    try:
        yield limits
    finally:
        _ACTIVE.reset(token)


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Work inside this block stops with DeadlineExceededError at its next ``check_deadline``
    once ``seconds`` have passed."""
    token = _DEADLINE.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


@contextlib.contextmanager
def without_deadline() -> Iterator[None]:
    """Work inside this block is not stopped by the deadline (a change being applied and
    recorded: stopped halfway, its answer would be lost)."""
    token = _DEADLINE.set(None)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def restart_deadline() -> None:
    """The deadline in force, if any, counts again from now (after a change: see api/running.py)."""
    current = _DEADLINE.get()
    if current is not None:
        _DEADLINE.set((time.monotonic() + current[1], current[1]))


def note_change() -> None:
    """The request made a change: a deadline met after this says so (DeadlineExceededError.changed)."""
    _CHANGED.set(True)


def check_deadline() -> None:
    """Called in the loops of long work (analyses, simulations, GraphQL execution): cheap, and a
    no-op outside a deadline."""
    current = _DEADLINE.get()
    if current is not None and time.monotonic() > current[0]:
        raise DeadlineExceededError(current[1], changed=_CHANGED.get())


def nesting_depth(value: Any, stop: int) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0, ``[]`` is 1), counted
    without recursion and given up once past ``stop`` (then ``stop + 1``)."""
    return json_shape(value, stop)[0]


def json_shape(value: Any, depth_stop: int, count_stop: int | None = None) -> tuple[int, int]:
    """How deeply lists and objects nest in ``value`` and how many values it holds (itself, and
    every member, key-value pairs counting their value), in one walk without recursion, given up
    once past either stop (that figure is then its stop + 1): the cost of the walk, and of every
    later step that reads the value, is bounded by the stops."""
    deepest = 0
    count = 1
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > depth_stop:
                return depth_stop + 1, count
        count += len(children)
        if count_stop is not None and count > count_stop:
            return deepest, count_stop + 1
        stack.extend((child, depth) for child in children if isinstance(child, (dict, list, tuple)))
    return deepest, count


def remaining() -> float | None:
    """Seconds left before the deadline, or None without one."""
    current = _DEADLINE.get()
    return None if current is None else current[0] - time.monotonic()


# ---- JSON from users -------------------------------------------------------------------------


class JsonInputError(InvalidRequestError):
    """JSON from a user (a request body, a --cli-input-json file, a line of --input-jsonl) that
    is not what was asked for (INVALID_INPUT); its message says why (a route answers 400)."""


class JsonLimitError(JsonInputError):
    """JSON past one of its limits (json_depth, json_elements): LIMIT_EXCEEDED naming the
    limit and its flag (how far past is not known: the count stops at the limit)."""

    code = "LIMIT_EXCEEDED"

    def __init__(self, what: str, limit: str, maximum: int) -> None:
        self.limit = limit
        self.maximum = maximum
        beyond = "is nested deeper than" if limit == "json_depth" else "holds more values than"
        super().__init__(f"{what} {beyond} the limit {limit} of {maximum:,} ({how_to_raise(limit)})")

    def extensions(self) -> dict[str, object]:
        return {**super().extensions(), "limit": self.limit, "maximum": self.maximum, "flag": Limits.flag(self.limit)}


# A text this long is decoded with the cyclic garbage collector paused (graphsim.bulk): decoding
# allocates millions of lists or objects, none of them garbage, and the collector's passes over
# them were two thirds of the time (10 MB of empty lists: 1.9 s, 0.6 s paused), all of it
# holding the GIL.
_LARGE_TEXT = 1024 * 1024


def read_json(data: str | bytes, *, what: str = "the body", shapes: Sequence[type] = (dict,)) -> Any:
    """Read JSON from a user (a request body, a file or line a command reads): UTF-8, at most ``json_depth`` deep, numbers Python can hold, and one of
    ``shapes`` at the top (an object by default; GraphQL also takes a batch list)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"{what} is not UTF-8 text (byte {exc.start})") from None
    limits = active()
    limit = limits.json_depth
    try:
        with collector_paused() if len(data) > _LARGE_TEXT else contextlib.nullcontext():
            value = json.loads(data)
    except RecursionError:
        raise JsonLimitError(what, "json_depth", limit) from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError:  # an integer of more digits than Python converts
        raise JsonInputError(f"{what} holds an integer of more than {sys.get_int_max_str_digits():,} digits, which graphsim does not read") from None
    depth, count = json_shape(value, limit, limits.json_elements)
    if depth > limit:
        raise JsonLimitError(what, "json_depth", limit)
    if count > limits.json_elements:
        # Bounds what reads it next: GraphQL's conversion of variables, a simulation's inputs.
        raise JsonLimitError(what, "json_elements", limits.json_elements)
    if not isinstance(value, tuple(shapes)):
        names = " or ".join("a JSON object" if s is dict else "a JSON list" for s in shapes)
        raise JsonInputError(f"{what} must be {names}, got {json_kind(value)}")
    return value


def json_kind(value: Any) -> str:
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number", list: "a list", type(None): "null"}.get(type(value), type(value).__name__)
