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

Position = tuple[int, int]  # (line, column)

_COLUMN_BASE = 2


def _close(text: str, tokens: Iterator[re.Match[str]]) -> int:
    """Index of the bracket closing the one just taken from ``tokens``."""
    depth = 1
    for m in tokens:
        c = text[m.start()]
        if c == '"':
            continue
        depth += 1 if c in "{[" else -1
        if depth == 0:
            return m.start()
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
        next(tokens)  # the bracket at j
        if text[j] == "{":
            return [(_position(text, j), _position(text, _close(text, tokens)))]
        out = []
        level = 1  # inside the Statement list
        for t in tokens:
            k = t.start()
            c = text[k]
            if c == '"':
                continue
            if c == "{" and level == 1:
                out.append((_position(text, k), _position(text, _close(text, tokens))))
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
