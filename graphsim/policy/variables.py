"""Policy variables: ``${aws:username}``, defaults and the ``${*}``/``${?}``/``${$}`` escapes.

A string that may hold variables is parsed once into a ``Template``: a tuple of parts, each a
literal run of text (wildcards still active), an escaped literal character, or a variable.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# ${key} or ${key, 'default'}; the key may hold letters, digits, ':', '/', '-', '_', '.', '@', '+', '='.
_TOKEN = re.compile(r"\$\{([^}]*)\}")
_VARIABLE = re.compile(r"^\s*([A-Za-z0-9:/_.@+=\-]+)\s*(?:,\s*'([^']*)'\s*)?$")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


@dataclass(frozen=True, slots=True)
class Literal:
    """Text copied as written: ``*`` and ``?`` in it keep their wildcard meaning where one applies."""

    text: str


@dataclass(frozen=True, slots=True)
class Escaped:
    """A character written as ``${*}``, ``${?}`` or ``${$}``: always the literal character."""

    char: str


@dataclass(frozen=True, slots=True)
class Variable:
    key: str
    default: str | None

    @property
    def key_lower(self) -> str:
        return self.key.lower()


Part = Literal | Escaped | Variable


@dataclass(frozen=True, slots=True)
class Template:
    parts: tuple[Part, ...]
    variables: tuple[Variable, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", tuple(p for p in self.parts if isinstance(p, Variable)))

    @property
    def has_variables(self) -> bool:
        return bool(self.variables)

    def resolve(self, context: Mapping[str, Sequence[str]]) -> tuple[Part, ...] | None:
        """Replace each variable with an ``Escaped``-like literal value; None when one is missing.

        Only single-valued keys can be variables; a multi-valued or absent key without a default
        is a missing value, and the docs say such an entry matches nothing.
        """
        out: list[Part] = []
        for part in self.parts:
            if isinstance(part, Variable):
                values = context.get(part.key_lower)
                if values is not None and len(values) == 1:
                    out.append(Escaped(values[0]))
                elif part.default is not None:
                    out.append(Escaped(part.default))
                else:
                    return None
            else:
                out.append(part)
        return tuple(out)

    def missing_keys(self, context: Mapping[str, Sequence[str]]) -> list[str]:
        return [
            v.key
            for v in self.variables
            if v.default is None and (context.get(v.key_lower) is None or len(context[v.key_lower]) != 1)
        ]


def parse_template(text: str, *, variables_enabled: bool) -> tuple[Template, list[str]]:
    """Split ``text`` into parts; returns the template and a list of problems (bad ``${...}``)."""
    if not variables_enabled or "${" not in text:
        return Template((Literal(text),)), []
    parts: list[Part] = []
    problems: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            parts.append(Literal(text[pos : m.start()]))
        inner = m.group(1)
        if inner in _ESCAPES:
            parts.append(Escaped(_ESCAPES[inner]))
        else:
            vm = _VARIABLE.match(inner)
            if vm is None:
                problems.append(f"malformed policy variable ${{{inner}}}")
                parts.append(Literal(m.group(0)))
            else:
                parts.append(Variable(vm.group(1), vm.group(2)))
        pos = m.end()
    if pos < len(text):
        parts.append(Literal(text[pos:]))
    return Template(tuple(parts)), problems


def plain_text(parts: Sequence[Part]) -> str:
    """The literal string a resolved template stands for (used for exact-match operators)."""
    chunks: list[str] = []
    for p in parts:
        if isinstance(p, Literal):
            chunks.append(p.text)
        elif isinstance(p, Escaped):
            chunks.append(p.char)
        else:  # pragma: no cover - resolve() never leaves variables behind
            raise ValueError("unresolved variable")
    return "".join(chunks)
