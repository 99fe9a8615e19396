"""What a resolver gets from the request: the workspace holding the worlds."""

from __future__ import annotations

from strawberry.types import Info

from ..workspace import Workspace


def workspace(info: Info) -> Workspace:
    return info.context["workspace"]  # type: ignore[no-any-return]
