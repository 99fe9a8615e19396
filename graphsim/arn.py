"""ARNs: one value type, parsed once, and the helpers every part of graphsim shares (a session
ARN's role, a root ARN's account, IAM ARN builders, stable pseudo unique ids).

``arn:partition:service:region:account-id:resource`` — the resource part may itself hold colons
and slashes (``role/path/Name``, ``function:name``), so only the first five colons split.
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from .errors import InvalidRequestError

DEFAULT_PARTITION = "aws"
_FIELDS = ("arn", "partition", "service", "region", "account", "resource")


class InvalidArnError(InvalidRequestError):
    """A text that should be an ARN is not one; ``reason`` says which part is wrong."""

    def __init__(self, text: str, reason: str, *, field: str | None = "arn") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"{text!r} is not an ARN of the form arn:partition:service:region:account:resource ({reason})", field=field)


@dataclass(frozen=True, slots=True)
class Arn:
    """A parsed ARN. ``str(arn)`` gives back the text it was parsed from."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    @classmethod
    def parse(cls, text: str, *, field: str | None = "arn") -> Arn:
        """Parse ``text``; raise InvalidArnError (naming ``field``) when it is not an ARN with a
        partition, a service and a resource part (region and account may be empty, as in S3)."""
        return _parsed(text, field)

    @classmethod
    def maybe(cls, text: str) -> Arn | None:
        """The ARN ``text`` holds, or None when it is not one (a name, an account id, ``*``)."""
        if not text.startswith("arn:"):
            return None
        try:
            return _parsed(text, None)
        except InvalidArnError:
            return None

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"

    @property
    def resource_type(self) -> str:
        """The resource part before its first ``/`` or ``:`` (``user``, ``role``, ``key``); the
        whole part when it has neither (an S3 bucket name, ``root``)."""
        cut = min((i for i in (self.resource.find("/"), self.resource.find(":")) if i >= 0), default=len(self.resource))
        return self.resource[:cut]

    @property
    def name(self) -> str:
        """The last ``/``-separated segment of the resource part (an IAM entity's name)."""
        return self.resource.rsplit("/", 1)[-1]

    @property
    def has_account(self) -> bool:
        return is_account_id(self.account)

    @property
    def is_root(self) -> bool:
        """``arn:aws:iam::ACCOUNT:root``: the account, or its root user as a caller."""
        return self.service == "iam" and self.resource == "root"

    @property
    def session_parts(self) -> tuple[str, str] | None:
        """(role name, session name) of an assumed-role session ARN
        (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``), else None."""
        if self.service != "sts":
            return None
        pieces = self.resource.split("/")
        if len(pieces) != 3 or pieces[0] != "assumed-role" or not pieces[1] or not pieces[2]:
            return None
        return pieces[1], pieces[2]


def fields(text: str) -> list[str]:
    """The colon-separated fields of an ARN or ARN-shaped text (a Resource pattern, a catalog
    template), at most six: the sixth, the resource part, keeps its own colons."""
    return text.split(":", 5)


def _parse_text(text: str, field: str | None) -> Arn:
    if not isinstance(text, str) or not text:
        raise InvalidArnError(str(text), "it is empty", field=field)
    parts = fields(text)
    if parts[0] != "arn":
        raise InvalidArnError(text, "it does not start with 'arn:'", field=field)
    if len(parts) < 6:
        raise InvalidArnError(text, f"it has {len(parts)} of the 6 colon-separated fields", field=field)
    for index, part in ((1, parts[1]), (2, parts[2]), (5, parts[5])):
        if not part:
            raise InvalidArnError(text, f"its {_FIELDS[index]} is empty", field=field)
    return Arn(parts[1], parts[2], parts[3], parts[4], parts[5])


# The longest ARN a cache keyed by ARNs keeps (here, the parsed callers, the targets of requests):
# real ARNs are far shorter, and with it such a cache of N entries holds N x 512 characters at
# most whatever requests send; a longer ARN (up to the request limit arn_length) is worked out
# again each time it is asked.
CACHED_LENGTH = 512
_parse = lru_cache(maxsize=8192)(_parse_text)


def _parsed(text: str, field: str | None) -> Arn:
    return _parse_text(text, field) if isinstance(text, str) and len(text) > CACHED_LENGTH else _parse(text, field)


def is_account_id(text: str) -> bool:
    """An AWS account id: exactly twelve digits."""
    return len(text) == 12 and text.isdigit()


# ---- builders -----------------------------------------------------------------------------------


def root_arn(account: str, partition: str = DEFAULT_PARTITION) -> str:
    """``arn:aws:iam::ACCOUNT:root``: the account as a principal (and its root user)."""
    return f"arn:{partition}:iam::{account}:root"


def iam_arn(account: str, kind: str, name: str, path: str = "/", partition: str = DEFAULT_PARTITION) -> str:
    """An IAM entity's ARN: ``arn:aws:iam::ACCOUNT:KIND/PATH/NAME`` (kind user, group, role, policy)."""
    return f"arn:{partition}:iam::{account}:{kind}{path}{name}"


def session_arn(account: str, role_name: str, session: str, partition: str = DEFAULT_PARTITION) -> str:
    """The assumed-role session ARN of a role; a role's path is not part of it."""
    return f"arn:{partition}:sts::{account}:assumed-role/{role_name}/{session}"


def s3_arn(resource: str) -> str:
    """``arn:aws:s3:::BUCKET`` or ``arn:aws:s3:::BUCKET/KEY`` (S3 ARNs carry no region or account)."""
    return f"arn:{DEFAULT_PARTITION}:s3:::{resource}"


# ---- readers ------------------------------------------------------------------------------------


def role_of_session(text: str) -> str | None:
    """The role ARN of an assumed-role session ARN (``arn:aws:iam::ACCOUNT:role/ROLE``), else None."""
    arn = Arn.maybe(text)
    parts = None if arn is None else arn.session_parts
    if arn is None or parts is None:
        return None
    return iam_arn(arn.account, "role", parts[0], partition=arn.partition)


def grantee_arn(text: str) -> str:
    """The ARN a resource-based policy names for a caller: the role for a role session, else the
    caller's own ARN."""
    return role_of_session(text) or text


def account_of_principal(value: str) -> str | None:
    """The account a Principal value names as a whole: a 12-digit id or its root ARN, else None.
    D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts"""
    if is_account_id(value):
        return value
    arn = Arn.maybe(value)
    if arn is not None and arn.is_root:
        return arn.account
    return None


def account_of(text: str) -> str | None:
    """The account field of an ARN when it holds a (numeric) account id; S3 ARNs and ``*`` hold none."""
    arn = Arn.maybe(text)
    return arn.account if arn is not None and arn.account.isdigit() else None


def resource_part(text: str) -> str:
    """The resource part of an ARN (everything after the fifth colon)."""
    return Arn.parse(text).resource


def s3_bucket_arn(text: str) -> str | None:
    """The bucket ARN of an S3 object ARN (``arn:aws:s3:::BUCKET/KEY``), else None."""
    arn = Arn.maybe(text)
    if arn is None or arn.service != "s3" or "/" not in arn.resource:
        return None
    return str(Arn(arn.partition, arn.service, arn.region, arn.account, arn.resource.split("/", 1)[0]))


def pseudo_unique_id(prefix: str, arn: str) -> str:
    """A stable AWS-looking unique id (``AIDA...`` for users, ``AGPA...`` groups, ``AROA...``
    roles) derived from the ARN: 21 upper-case letters, the same on every run."""
    digest = hashlib.sha1(arn.encode()).hexdigest().upper()
    return prefix + digest[:17].translate(_DIGIT_TO_LETTER)


_DIGIT_TO_LETTER = str.maketrans("0123456789", "ABCDEFGHIJ")  # as chr(ord("A") + int(c)), a 100k-role import calls it per role
