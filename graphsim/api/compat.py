"""No silent breaks: the breaking changes between two versions of the SDL that the schema
changelog (schema/CHANGELOG.md) does not record.

graphql-core finds the breaking changes; each one is named by the schema coordinate its
description starts from (``User.name``, ``Query.world(name:)``, ``Effect.ALLOW``, ``@include``,
or a type name). The changelog records a deliberate break with a line

    - breaking: `User.name` -- why, and what clients use instead

and a change is recorded when its coordinate is one of those lines'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphql import build_schema, find_breaking_changes

_COORDINATE = re.compile(r"@\w+(?:\(\w+:\))?|\b\w+\.\w+(?:\(\w+:\))?")
_RECORDED = re.compile(r"^\s*-\s*breaking:\s*`([^`]+)`", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class UnrecordedBreak:
    coordinate: str
    kind: str
    description: str

    def __str__(self) -> str:
        return f"{self.coordinate}: {self.description} ({self.kind})"


def coordinate(description: str) -> str:
    """The schema coordinate a breaking change's description names first."""
    found = _COORDINATE.search(description)
    if found is not None:
        return found.group(0)
    return description.split()[0].rstrip(".")


def recorded_coordinates(changelog: str) -> set[str]:
    return {m.group(1).strip() for m in _RECORDED.finditer(changelog)}


def unrecorded_breaks(old_sdl: str, new_sdl: str, changelog: str) -> list[UnrecordedBreak]:
    """Every breaking change from OLD_SDL to NEW_SDL whose coordinate CHANGELOG does not record."""
    recorded = recorded_coordinates(changelog)
    out = []
    for change in find_breaking_changes(build_schema(old_sdl), build_schema(new_sdl)):
        name = coordinate(change.description)
        if name not in recorded:
            out.append(UnrecordedBreak(coordinate=name, kind=change.type.name, description=change.description))
    return out
