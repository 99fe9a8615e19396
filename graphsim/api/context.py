"""What a resolver gets from the request: the workspace holding the worlds, and where a
mutation makes its change."""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

from strawberry.types import Info

from ..workspace import Workspace


def workspace(info: Info) -> Workspace:
    return info.context["workspace"]  # type: ignore[no-any-return]


def changing(info: Info) -> AbstractContextManager[object]:
    """The block in which a mutation looks up its world and applies and records its change: the
    server's runner takes the worlds alone for it (api/running.py ``Runner.change``); a schema
    executed without the app (in-process tests) has nothing to take."""
    change = info.context.get("change") if isinstance(info.context, dict) else None
    return change() if change is not None else contextlib.nullcontext()
