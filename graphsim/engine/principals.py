"""Who is calling: the caller's identity as AWS sees it, and how a Principal element names it.

D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html (principal key values)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from ..arn import CACHED_LENGTH, Arn, account_of_principal, iam_arn, pseudo_unique_id, session_arn
from ..errors import InvalidRequestError
from ..policy import Principals
from .bounds import check_arn

DEFAULT_SESSION = "graphsim"
_IAM_KINDS = frozenset({"User", "AssumedRole", "FederatedUser", "Account"})


class MatchKind(StrEnum):
    """How a Principal element named the caller."""

    WILDCARD = "wildcard"  # "*", {"AWS": "*"}, or an Allow with NotPrincipal
    ACCOUNT = "account"  # the caller's account (id or :root): a delegation to the account's IAM
    USER = "user"  # the IAM user's ARN
    ROLE = "role"  # the ARN of the role the caller's session belongs to
    SESSION = "session"  # the assumed-role session ARN
    FEDERATED = "federated"  # the federated-user session ARN
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    kind: str  # aws:PrincipalType: User, AssumedRole, FederatedUser, Account, Service
    arn: str  # the ARN a resource policy would name (session ARN for sessions)
    account: str
    principal_arn: str | None  # aws:PrincipalArn: the role ARN for a role session
    role_arn: str | None = None
    user_id: str = ""
    username: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    has_boundary: bool = False
    service_linked: bool = False

    @property
    def is_session(self) -> bool:
        return self.kind in ("AssumedRole", "FederatedUser")

    @property
    def is_root(self) -> bool:
        """The account's root user (``arn:aws:iam::ACCOUNT:root`` as the caller), whose
        principal type is ``Account``. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable"""
        return self.kind == "Account"

    def derived_context(self) -> dict[str, tuple[str, ...]]:
        """Keys AWS fills in from an IAM caller (user, role session, federated user, root user);
        none for callers outside IAM (anonymous, services, federated identity providers).
        The one place these keys are derived: the engine adds the organization keys of the
        caller's account (``Engine.derived_context``).
        D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"""
        if self.kind not in _IAM_KINDS:
            return {}
        ctx: dict[str, tuple[str, ...]] = {
            "aws:principalaccount": (self.account,),
            "aws:principaltype": (self.kind,),
        }
        if self.user_id:
            ctx["aws:userid"] = (self.user_id,)
        if self.principal_arn:
            ctx["aws:principalarn"] = (self.principal_arn,)
        if self.username:
            ctx["aws:username"] = (self.username,)
        for key, value in self.tags.items():
            ctx[f"aws:principaltag/{key.lower()}"] = (value,)
        return ctx


def parse_caller_arn(arn: str, *, field: str = "callerArn", has_boundary: bool = False) -> CallerIdentity:
    """A caller given only by ARN (simulateCustomPolicy's CallerArn, which here may be a user,
    role, assumed-role session, federated user or account root)."""
    check_arn(arn, field=field, what="the caller's ARN")
    if len(arn) > CACHED_LENGTH:  # 4,096 callers of at most 512 characters are kept
        return _parse_caller_arn(arn, field, has_boundary)
    return _parse_caller_arn_cached(arn, field, has_boundary)


def _parse_caller_arn(arn: str, field: str, has_boundary: bool) -> CallerIdentity:
    parsed = Arn.maybe(arn)
    if parsed is None or parsed.service not in ("iam", "sts") or not parsed.account.isdigit():
        raise InvalidRequestError(
            f"callerArn must be an IAM user, role, assumed-role session, federated user or root ARN, got {arn!r}", field=field
        )
    account, resource = parsed.account, parsed.resource
    if parsed.service == "iam" and resource.startswith("user/"):
        return CallerIdentity("User", arn, account, arn, user_id=pseudo_unique_id("AIDA", arn), username=parsed.name, has_boundary=has_boundary)
    if parsed.service == "iam" and resource.startswith("role/"):
        role_id = pseudo_unique_id("AROA", arn)
        return CallerIdentity(
            "AssumedRole", session_arn(account, parsed.name, DEFAULT_SESSION, parsed.partition), account, arn, role_arn=arn,
            user_id=f"{role_id}:{DEFAULT_SESSION}", has_boundary=has_boundary, service_linked=resource.startswith("role/aws-service-role/"),
        )
    session_parts = parsed.session_parts
    if session_parts is not None:
        role_arn = iam_arn(account, "role", session_parts[0], partition=parsed.partition)
        return CallerIdentity("AssumedRole", arn, account, role_arn, role_arn=role_arn, user_id=f"{pseudo_unique_id('AROA', role_arn)}:{session_parts[1]}", has_boundary=has_boundary)
    if parsed.service == "sts" and resource.startswith("federated-user/"):
        name = resource.split("/", 1)[1]
        return CallerIdentity("FederatedUser", arn, account, arn, user_id=f"{account}:{name}", has_boundary=has_boundary)
    if parsed.is_root:
        return CallerIdentity("Account", arn, account, arn, user_id=account)
    raise InvalidRequestError(f"callerArn {arn!r} is not a user, role, session, federated user or root ARN", field=field)


_parse_caller_arn_cached = lru_cache(maxsize=4096)(_parse_caller_arn)


_DIRECT = {"User": MatchKind.USER, "AssumedRole": MatchKind.SESSION, "FederatedUser": MatchKind.FEDERATED, "Account": MatchKind.USER}


def match_principal(principals: Principals, caller: CallerIdentity) -> MatchKind | None:
    """How (if at all) a Principal element names the caller; the most specific way wins."""
    if principals.everyone:
        return MatchKind.WILDCARD
    best: MatchKind | None = None
    for ptype, values in principals.by_type:
        for value in values:
            if ptype == "AWS":
                if value == "*":
                    best = MatchKind.ROLE if best is MatchKind.ROLE else MatchKind.WILDCARD
                elif value == caller.arn and caller.kind != "Service":
                    return _DIRECT[caller.kind]
                elif caller.role_arn is not None and value == caller.role_arn:
                    best = MatchKind.ROLE  # a later value may still name the session itself
                elif account_of_principal(value) == caller.account and caller.kind != "Service":
                    best = best or MatchKind.ACCOUNT
            elif ptype == "Service" and caller.kind == "Service" and value == caller.arn:
                return MatchKind.SERVICE
    return best
