"""Node and edge vocabulary of the IAM world graph, and small value types for paths."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NodeKind(StrEnum):
    ACCOUNT = "account"
    USER = "user"
    GROUP = "group"
    ROLE = "role"
    POLICY = "policy"  # managed policy (customer or AWS managed)
    INLINE_POLICY = "inline-policy"
    STATEMENT = "statement"
    RESOURCE = "resource"
    RESOURCE_POLICY = "resource-policy"  # a resource's own policy (bucket policy, key policy, ...)
    TRUST_POLICY = "trust-policy"  # a role's trust policy: its resource-based policy
    ORG_ROOT = "org-root"
    OU = "ou"
    ORG_POLICY = "org-policy"  # an SCP or RCP


class EdgeKind(StrEnum):
    IN_ACCOUNT = "in-account"  # user/group/role/policy -> account
    MEMBER_OF = "member-of"  # user -> group
    ATTACHED = "attached"  # user/group/role -> managed policy
    INLINE = "inline"  # user/group/role -> inline policy
    HAS_STATEMENT = "has-statement"  # policy -> statement
    OWNS = "owns"  # account -> resource
    CONTAINS = "contains"  # bucket -> object
    GOVERNED_BY = "governed-by"  # resource -> resource policy
    TRUSTS = "trusts"  # role -> its trust policy
    BOUNDED_BY = "bounded-by"  # user/role -> managed policy used as its permissions boundary
    CHILD_OF = "child-of"  # account -> OU/root, OU -> OU/root
    GOVERNED_BY_ORG = "governed-by-org-policy"  # root/OU/account -> SCP or RCP
    CAN_ASSUME = "can-assume"  # user/role -> role (derived by the engine, not stored in the world)


class PolicyType(StrEnum):
    """AWS simulator's SourcePolicyType values."""

    USER = "user"  # inline policy of a user
    GROUP = "group"  # inline policy of a group
    ROLE = "role"  # inline policy of a role
    AWS_MANAGED = "aws-managed"
    USER_MANAGED = "user-managed"
    RESOURCE = "resource"  # resource-based policy, trust policies included
    SCP = "scp"
    RCP = "rcp"
    SESSION = "session"


@dataclass(frozen=True, slots=True)
class PathStep:
    """One node on a path, with the edge that led to it (None for the first node)."""

    node: str
    kind: NodeKind
    label: str
    via: EdgeKind | None = None
    provenance: str | None = None


def render_path(steps: tuple[PathStep, ...]) -> str:
    return " -> ".join(step.label for step in steps)
