"""Wildcard matching whose cost is bounded by pattern length x input length, whatever the pattern.

Policy authors (and anyone who can send a policy to the server) choose the patterns, so no
pattern may make a match slow: ``"a*" * 12 + "b"`` compiled to a regex and run against a long ARN
backtracks for hours. Here no regex ever holds a quantifier. A pattern is split at its ``*`` into
fixed-length pieces; the first piece is anchored at the start, the last at the end, and each
middle piece is placed at its leftmost occurrence after the previous one. For ``*`` that matches
any run this greedy placement finds a match whenever one exists (placing a piece earlier never
leaves less room for the rest), and each piece is found with ``str.find`` or, when it holds
``?``, a regex without quantifiers (one ``.`` or ``[^:]`` per ``?``), so a search costs at most
piece length x input length.

Three dialects:
- ``glob`` (Action, ``StringLike``): ``*`` any run, ``?`` one character, colons included.
- ``arn`` (Resource, NotResource, ``ArnLike``/``ArnEquals``): ``*`` and ``?`` stay within a
  colon-separated segment, except that a ``*`` that ends a segment (followed by ``:`` or the end
  of the pattern) may run past colons.
  D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
  D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
  The segment-ending stars split an ARN pattern into pieces as above; a piece that holds a
  star confined to its segment is matched segment by segment (each segment between two colons of
  the input is a glob of its own, and the segments a piece spans are fixed by the colons).

Compiled matchers are kept in the process-wide cache of compiled policy parts (``cache``),
bounded in bytes, since the same patterns recur across thousands of policies.

Pattern x input is kept small by the limits: a pattern is refused past ``pattern_length``
(LIMIT_EXCEEDED, before it is compiled or looked up), and the strings of a request are bounded
where the request is built (``arn_length``, ``context_value_length``). The one loop here that
runs in Python once per colon of the input, a segmented piece's search, also checks the
deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import Protocol

from ..limits import active, check_deadline
from .cache import COMPILED

Matcher = Callable[[str], bool]

# A pattern is a sequence of units: a one-character str is a literal character; STAR and ONE
# are the wildcards (a literal "*" written as ${*} is the str "*", not STAR).
STAR = 0
ONE = 1
Unit = str | int


def glob_units(text: str) -> list[Unit]:
    """``*`` and ``?`` in ``text`` are wildcards, every other character literal."""
    return [STAR if c == "*" else ONE if c == "?" else c for c in text]


# ---- pieces: what lies between two stars ---------------------------------------------------


class _Piece(Protocol):
    min_length: int

    def anchored_end(self, text: str, lo: int, hi: int) -> int: ...

    def search_end(self, text: str, pos: int, hi: int) -> int: ...

    def suffix_ok(self, text: str, pos: int, hi: int) -> bool: ...

    def exact(self, text: str, lo: int, hi: int) -> bool: ...


class _Fixed:
    """A run of literal characters and ``?``: always the same length."""

    __slots__ = ("min_length", "literal", "regex")

    def __init__(self, units: Sequence[Unit], one: str) -> None:
        self.min_length = len(units)
        if all(isinstance(u, str) for u in units):
            self.literal: str | None = "".join(u for u in units if isinstance(u, str))
            self.regex: re.Pattern[str] | None = None
        else:
            # One character class per "?" and escaped literals: no quantifier, no alternation.
            self.literal = None
            self.regex = re.compile("".join(re.escape(u) if isinstance(u, str) else one for u in units), re.DOTALL)

    def at(self, text: str, i: int) -> bool:
        if self.literal is not None:
            return text.startswith(self.literal, i)
        assert self.regex is not None
        return self.regex.match(text, i) is not None

    def anchored_end(self, text: str, lo: int, hi: int) -> int:
        end = lo + self.min_length
        return end if end <= hi and self.at(text, lo) else -1

    def search_end(self, text: str, pos: int, hi: int) -> int:
        if self.literal is not None:
            i = text.find(self.literal, pos, hi)
        else:
            assert self.regex is not None
            m = self.regex.search(text, pos, hi)
            i = -1 if m is None else m.start()
        return -1 if i < 0 else i + self.min_length

    def suffix_ok(self, text: str, pos: int, hi: int) -> bool:
        start = hi - self.min_length
        return start >= pos and self.at(text, start)

    def exact(self, text: str, lo: int, hi: int) -> bool:
        return hi - lo == self.min_length and self.at(text, lo)


class _Glob:
    """Pieces joined by stars that match any run: greedy leftmost placement (see the module)."""

    __slots__ = ("pieces", "min_length")

    def __init__(self, pieces: Sequence[_Piece]) -> None:
        self.pieces = tuple(pieces)
        self.min_length = sum(p.min_length for p in self.pieces)

    def full(self, text: str, lo: int, hi: int) -> bool:
        """Whether ``text[lo:hi]`` matches as a whole."""
        pieces = self.pieces
        if len(pieces) == 1:
            return pieces[0].exact(text, lo, hi)
        last = pieces[-1]
        limit = hi - last.min_length
        pos = pieces[0].anchored_end(text, lo, limit)
        if pos < 0:
            return False
        for piece in pieces[1:-1]:
            pos = piece.search_end(text, pos, limit)
            if pos < 0:
                return False
        return last.suffix_ok(text, pos, hi)

    def prefix_end(self, text: str, lo: int, hi: int) -> int:
        """The least ``e <= hi`` such that ``text[lo:e]`` matches, or -1."""
        pieces = self.pieces
        pos = pieces[0].anchored_end(text, lo, hi)
        for piece in pieces[1:]:
            if pos < 0:
                return -1
            pos = piece.search_end(text, pos, hi)
        return pos


class _Segmented:
    """A piece of an ARN pattern holding stars confined to their segment.

    Its literal colons split it into fields; field ``t`` must match one colon-free stretch of the
    input. Every field but the last ends at a colon, so it must match that whole stretch; the
    last, followed by a star that runs past colons (or by the end), matches a prefix of its
    stretch (or the whole stretch, at the end of the input).
    """

    __slots__ = ("fields", "min_length")

    def __init__(self, units: Sequence[Unit], one: str) -> None:
        fields: list[list[Unit]] = [[]]
        for u in units:
            if u == ":":
                fields.append([])
            else:
                fields[-1].append(u)
        self.fields = tuple(_Glob(_split_fixed(f, one)) for f in fields)
        self.min_length = sum(f.min_length for f in self.fields) + len(self.fields) - 1

    def _rest(self, text: str, first: int, cur: int, hi: int, to_end: bool) -> int:
        """Match fields ``first..`` from ``cur``; the end of the match, or -1."""
        fields = self.fields
        last = len(fields) - 1
        for t in range(first, last):
            colon = text.find(":", cur, hi)
            if colon < 0 or not fields[t].full(text, cur, colon):
                return -1
            cur = colon + 1
        if to_end:
            return hi if text.find(":", cur, hi) < 0 and fields[last].full(text, cur, hi) else -1
        colon = text.find(":", cur)
        return fields[last].prefix_end(text, cur, hi if colon < 0 else min(colon, hi))

    def anchored_end(self, text: str, lo: int, hi: int) -> int:
        return self._rest(text, 0, lo, hi, False)

    def exact(self, text: str, lo: int, hi: int) -> bool:
        return self._rest(text, 0, lo, hi, True) == hi

    def search_end(self, text: str, pos: int, hi: int) -> int:
        # Not the first piece: it starts with a colon (the star before it ended a segment), so
        # it can start only at a colon of the input; the first colon that works ends earliest.
        # Each of its colons needs one of the input's: too few left, and no start can work.
        if text.count(":", pos, hi) < len(self.fields) - 1:
            return -1
        colon = text.find(":", pos, hi)
        tries = 0
        while colon >= 0:
            end = self._rest(text, 1, colon + 1, hi, False)
            if end >= 0:
                return end
            tries += 1
            if not tries & 63:
                check_deadline()  # colons x fields: bounded by the limits, and stopped at the deadline
            colon = text.find(":", colon + 1, hi)
        return -1

    def suffix_ok(self, text: str, pos: int, hi: int) -> bool:
        # The last piece ends the input, so its colons are the input's last ones.
        colon = hi
        for _ in range(len(self.fields) - 1):
            colon = text.rfind(":", 0, colon)
            if colon < 0:
                return False
        return colon >= pos and self._rest(text, 1, colon + 1, hi, True) == hi


def _split_fixed(units: Sequence[Unit], one: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    current: list[Unit] = []
    for u in units:
        if u == STAR:
            pieces.append(_Fixed(current, one))
            current = []
        else:
            current.append(u)
    pieces.append(_Fixed(current, one))
    return pieces


def _collapse(units: Sequence[Unit]) -> list[Unit]:
    out: list[Unit] = []
    for u in units:
        if not (u == STAR and out and out[-1] == STAR):
            out.append(u)
    return out


# ---- compiling a pattern into a matcher ----------------------------------------------------


def _literal_shape(units: Sequence[Unit]) -> Matcher | None:
    """The common shapes, answered by one str method: exact, ``*``, ``prefix*``, ``*suffix``,
    ``prefix*suffix`` (none of them holding ``?``)."""
    if ONE in units:
        return None
    stars = [i for i, u in enumerate(units) if u == STAR]
    text = "".join(u for u in units if isinstance(u, str))
    if not stars:
        return text.__eq__
    if units == [STAR]:
        return _always
    if stars == [len(units) - 1]:
        return lambda s: s.startswith(text)
    if stars == [0]:
        return lambda s: s.endswith(text)
    if len(stars) == 1:
        head, tail = text[: stars[0]], text[stars[0] :]
        need = len(text)
        return lambda s: len(s) >= need and s.startswith(head) and s.endswith(tail)
    return None


def _always(text: str) -> bool:
    return True


def compile_glob(units: Sequence[Unit]) -> Matcher:
    """``*`` any run, ``?`` any one character."""
    units = _collapse(units)
    fast = _literal_shape(units)
    if fast is not None:
        return fast
    glob = _Glob(_split_fixed(units, "."))
    need = glob.min_length  # a shorter text leaves a fixed character unmatched
    return lambda s: len(s) >= need and glob.full(s, 0, len(s))


def compile_arn(units: Sequence[Unit]) -> Matcher:
    """ARN rules: ``?`` one non-colon character; ``*`` a run without colons, or any run when it
    ends a segment."""
    units = _collapse(units)
    pieces: list[_Piece] = []
    current: list[Unit] = []
    narrow = False  # the current piece holds a star confined to its segment
    for i, u in enumerate(units):
        if u == STAR and (i + 1 == len(units) or units[i + 1] == ":"):
            pieces.append(_Segmented(current, "[^:]") if narrow else _Fixed(current, "[^:]"))
            current, narrow = [], False
        else:
            current.append(u)
            narrow = narrow or u == STAR
    pieces.append(_Segmented(current, "[^:]") if narrow else _Fixed(current, "[^:]"))
    if all(isinstance(p, _Fixed) for p in pieces):
        # Only segment-ending stars: the same shapes as a glob, with "?" kept off colons.
        fast = _literal_shape(units)
        if fast is not None:
            return fast
    glob = _Glob(pieces)
    need = glob.min_length
    return lambda s: len(s) >= need and glob.full(s, 0, len(s))


# ---- the process-wide cache ---------------------------------------------------------------


def check_length(size: int) -> None:
    """Refuse a pattern of ``size`` characters over the limit pattern_length."""
    limits = active()
    if size > limits.pattern_length:
        limits.check("pattern_length", size, what="the characters of a wildcard pattern in a policy (once its variables are replaced)")


def cached_glob(text: str) -> Matcher:
    """The matcher of a glob written as text (``*``/``?`` wild), compiled once per process."""
    check_length(len(text))
    return COMPILED.get(("glob", text), len(text), lambda: compile_glob(glob_units(text)))


def cached_units(dialect: str, key: Hashable, size: int, units: Callable[[], Sequence[Unit]]) -> Matcher:
    """The matcher of a pattern given as units, cached under ``(dialect, key)``."""
    check_length(size)
    compile_ = compile_arn if dialect == "arn" else compile_glob
    return COMPILED.get((dialect, key), size, lambda: compile_(units()))


__all__ = [
    "ONE",
    "STAR",
    "Matcher",
    "cached_glob",
    "cached_units",
    "check_length",
    "compile_arn",
    "compile_glob",
    "glob_units",
]
