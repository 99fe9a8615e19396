"""Where each statement sits in a policy's JSON text, as AWS's simulator reports it
(MatchedStatements[].StartPosition/EndPosition).

Lines count from 1. Columns follow the AWS CLI's documented example, where the statement
``{`` at 0-based offset 36 of a one-line policy is reported as column 38 and its closing
``}`` at offset 165 as column 167: the 0-based offset in the line plus two.
D: https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from .cache import DOCUMENTS

# JSON strings (escapes included) and brackets: the only tokens that decide where a statement
# starts and ends. The scan walks these tokens, not characters.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]', re.DOTALL)
_COLON = re.compile(r"\s*:\s*")
# The next bracket outside strings: a match runs over strings and other characters in C and
# captures one bracket, so the walk over a statement list visits brackets only. Possessive
# (Python 3.11): nothing is given back, so a text without another bracket fails in one pass.
# Used on texts that parsed as JSON, whose every string is closed.
_BRACKET = re.compile(r'(?:"(?:[^"\\]++|\\.)*+"|[^"{}\[\]]++)*+([{}\[\]])', re.DOTALL)

Position = tuple[int, int]  # (line, column)

_COLUMN_BASE = 2


def _brackets(text: str, pos: int) -> Iterator[int]:
    """Offsets of the brackets outside strings from ``pos`` on. Each match is anchored where the
    last ended, so the scan is one pass even where no bracket follows."""
    match = _BRACKET.match
    while (m := match(text, pos)) is not None:
        yield m.start(1)
        pos = m.end()


def _close(text: str, brackets: Iterator[int]) -> int:
    """Offset of the bracket closing the one just before ``brackets``."""
    depth = 1
    for k in brackets:
        depth += 1 if text[k] in "{[" else -1
        if depth == 0:
            return k
    return len(text) - 1


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    return line, offset - line_start + _COLUMN_BASE


def statement_positions(text: str) -> list[tuple[Position, Position]]:
    """(start, end) of each statement object, in order; [] when the text cannot be scanned.
    Kept per text in the byte-bounded document cache (a few numbers per statement)."""
    return DOCUMENTS.get(("positions", text), len(text) // 3, lambda: _statement_positions(text))


def _statement_positions(text: str) -> list[tuple[Position, Position]]:
    tokens = _TOKEN.finditer(text)
    depth = 0
    for m in tokens:
        c = text[m.start()]
        if c != '"':
            depth += 1 if c in "{[" else -1
            continue
        if depth != 1 or m.group() != '"Statement"':
            continue
        colon = _COLON.match(text, m.end())
        if colon is None:
            continue  # a value, not a key
        j = colon.end()
        if j >= len(text) or text[j] not in "{[":
            return []
        brackets = _brackets(text, j + 1)  # those after the one at j
        if text[j] == "{":
            return [(_position(text, j), _position(text, _close(text, brackets)))]
        out = []
        level = 1  # inside the Statement list
        for k in brackets:
            c = text[k]
            if c == "{" and level == 1:
                out.append((_position(text, k), _position(text, _close(text, brackets))))
            elif c in "{[":
                level += 1
            else:
                level -= 1
                if level == 0:
                    break
        return out
    return []


class StatementPositions(Mapping[str, list[tuple[Position, Position]]]):
    """Positions of the statements of named policy texts, each text scanned only when a
    statement of it is reported (most policies of a batch have none matched)."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Mapping[str, str]) -> None:
        self._texts = texts

    def __getitem__(self, name: str) -> list[tuple[Position, Position]]:
        return statement_positions(self._texts[name])

    def __contains__(self, name: object) -> bool:
        return name in self._texts

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)
