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


class EdgeKind(StrEnum):
    IN_ACCOUNT = "in-account"  # user/group/role/policy -> account
    MEMBER_OF = "member-of"  # user -> group
    ATTACHED = "attached"  # user/group/role -> managed policy
    INLINE = "inline"  # user/group/role -> inline policy
    HAS_STATEMENT = "has-statement"  # policy -> statement
    OWNS = "owns"  # account -> resource
    CONTAINS = "contains"  # bucket -> object


class PolicyType(StrEnum):
    """AWS simulator's SourcePolicyType values."""

    USER = "user"  # inline policy of a user
    GROUP = "group"  # inline policy of a group
    ROLE = "role"  # inline policy of a role
    AWS_MANAGED = "aws-managed"
    USER_MANAGED = "user-managed"


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
