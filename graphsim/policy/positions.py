"""Where each statement sits in a policy's JSON text, as AWS's simulator reports it
(MatchedStatements[].StartPosition/EndPosition).

Lines count from 1. Columns follow the AWS CLI's documented example, where the statement
``{`` at 0-based offset 36 of a one-line policy is reported as column 38 and its closing
``}`` at offset 165 as column 167: the 0-based offset in the line plus two.
D: https://docs.aws.amazon.com/cli/latest/reference/iam/simulate-custom-policy.html
"""

from __future__ import annotations

import re
from functools import lru_cache

_STRING_END = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)

Position = tuple[int, int]  # (line, column)

_COLUMN_BASE = 2


def _skip_string(text: str, i: int) -> int:
    """Index just past the JSON string starting at ``text[i] == '"'``."""
    m = _STRING_END.match(text, i + 1)
    return m.end() if m else len(text)


def _match_close(text: str, i: int) -> int:
    """Index of the bracket closing the one at ``text[i]``."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(text) - 1


def _position(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    line_start = text.rfind("\n", 0, offset) + 1
    return line, offset - line_start + _COLUMN_BASE


@lru_cache(maxsize=4096)
def statement_positions(text: str) -> list[tuple[Position, Position]]:
    """(start, end) of each statement object, in order; [] when the text cannot be scanned."""
    i = text.find("{")
    if i < 0:
        return []
    i += 1
    while i < len(text):
        c = text[i]
        if c == '"':
            end = _skip_string(text, i)
            key = text[i + 1 : end - 1]
            j = text.find(":", end) + 1
            while j < len(text) and text[j] in " \t\r\n":
                j += 1
            if key == "Statement":
                if text[j] == "{":
                    return [(_position(text, j), _position(text, _match_close(text, j)))]
                if text[j] != "[":
                    return []
                out = []
                k = j + 1
                close = _match_close(text, j)
                while k < close:
                    if text[k] == "{":
                        stop = _match_close(text, k)
                        out.append((_position(text, k), _position(text, stop)))
                        k = stop + 1
                    else:
                        k += 1
                return out
            # Skip this member's value.
            if text[j] in "{[":
                i = _match_close(text, j) + 1
            elif text[j] == '"':
                i = _skip_string(text, j)
            else:
                i = j + 1
            continue
        i += 1
    return []
