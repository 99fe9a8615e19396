"""Opaque tokens the API hands out (global ids: ids.py; cursors: connections.py), written one way:
text fields joined by the ASCII unit separator, as unpadded URL-safe base64. Clients must not
take one apart; each kind starts with a prefix of its own, so its format may change under a new
prefix."""

from __future__ import annotations

import base64
from collections.abc import Sequence

SEPARATOR = "\x1f"


def pack(fields: Sequence[str]) -> str:
    return base64.urlsafe_b64encode(SEPARATOR.join(fields).encode()).decode().rstrip("=")


def unpack(text: str, maxsplit: int = -1) -> list[str]:
    """The fields ``pack`` joined (split at most ``maxsplit`` times); ValueError for text that
    is not such a token (not base64, not UTF-8 inside)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split(SEPARATOR, maxsplit)
