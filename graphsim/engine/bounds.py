"""Bounds on the strings a request brings (ARNs, principal names, context keys and values),
checked where the request is built, before any of them is matched or kept in a cache.

A string over its limit is refused (``LIMIT_EXCEEDED``, naming the limit and its ``graphsim
serve`` flag), which keeps pattern x input small for every match (``policy.wildcards``) and every
entry of a cache keyed by such strings bounded. A string holding a lone surrogate (``"\\ud800"``
is valid JSON, but no Unicode text: it cannot be encoded, hashed or stored) is ``INVALID_INPUT``.
"""

from __future__ import annotations

from ..errors import InvalidRequestError
from ..limits import active


def check_text(text: str, limit: str, *, what: str, field: str | None) -> None:
    """Refuse ``text`` when it is longer than the limit called ``limit`` or is not Unicode text."""
    limits = active()
    if len(text) > getattr(limits, limit):
        limits.check(limit, len(text), what=f"the characters of {what}", field=field)
    if not text.isascii():
        check_unicode(text, what=what, field=field)


def check_arn(text: str, *, field: str | None, what: str = "an ARN") -> None:
    check_text(text, "arn_length", what=what, field=field)


def check_unicode(text: str, *, what: str, field: str | None) -> None:
    """Refuse a text holding a lone surrogate (every character of a Python str that cannot be
    written as UTF-8 is one)."""
    try:
        text.encode()
    except UnicodeEncodeError as exc:
        raise InvalidRequestError(
            f"{what} holds a lone surrogate (U+{ord(text[exc.start]):04X}) at character {exc.start}: "
            "not Unicode text (an escaped surrogate must be half of a pair)", field=field,
        ) from None
