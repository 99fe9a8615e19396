"""The attributes each kind of world node carries, as typed records.

The graph stores nodes as networkx attribute dicts; these TypedDicts name every attribute a
kind of node has, so that reading one through World's typed accessors (``world.principal(key)
["account"]``) is checked by mypy, and a misspelt attribute is a type error rather than a
KeyError at run time. They cost nothing at run time: the accessors return the graph's own dicts.
``NODE_RECORDS`` maps each NodeKind to its record; a test checks that every node the World
builds has exactly the record's attributes.
"""

from __future__ import annotations

from typing import TypedDict

from ..policy import PolicyDocument, Statement
from .model import NodeKind


class Node(TypedDict):
    """What every node has."""

    kind: NodeKind
    name: str
    label: str


class AccountNode(Node):
    account: str
    arn: str  # arn:aws:iam::ACCOUNT:root, also the node's key
    alias: str | None


class _RoleOnly(TypedDict, total=False):
    # total=False rather than NotRequired: with postponed annotations, Python 3.11 cannot
    # tell a NotRequired key at run time, and NODE_RECORDS is read at run time.
    description: str  # roles only


class PrincipalNode(Node, _RoleOnly):
    """A user, group or role."""

    arn: str
    account: str
    path: str
    tags: dict[str, str]
    unique_id: str


class PolicyVersion(TypedDict):
    versionId: str
    document: PolicyDocument
    createDate: str
    isDefault: bool


class DocumentNode(Node):
    """Any node holding a policy document: managed, inline, trust, resource or organization policy."""

    document: PolicyDocument


class ManagedPolicyNode(DocumentNode):
    arn: str
    account: str  # an account id, or AWS_MANAGED_ACCOUNT
    path: str
    description: str
    versions: list[PolicyVersion]


class OwnedPolicyNode(DocumentNode):
    """An inline policy, a role's trust policy or a resource's policy: it belongs to ``owner``."""

    owner: str
    account: str


class OrgPolicyNode(DocumentNode):
    policy_type: str  # "scp" or "rcp"
    description: str


class ResourceNode(Node):
    arn: str
    account: str
    resource_type: str
    tags: dict[str, str]


class OrgRootNode(Node):
    management_account: str
    org_id: str


class OUNode(Node):
    ou_id: str


class StatementNode(Node):
    statement: Statement


NODE_RECORDS: dict[NodeKind, type[Node]] = {
    NodeKind.ACCOUNT: AccountNode,
    NodeKind.USER: PrincipalNode,
    NodeKind.GROUP: PrincipalNode,
    NodeKind.ROLE: PrincipalNode,
    NodeKind.POLICY: ManagedPolicyNode,
    NodeKind.INLINE_POLICY: OwnedPolicyNode,
    NodeKind.TRUST_POLICY: OwnedPolicyNode,
    NodeKind.RESOURCE_POLICY: OwnedPolicyNode,
    NodeKind.ORG_POLICY: OrgPolicyNode,
    NodeKind.RESOURCE: ResourceNode,
    NodeKind.ORG_ROOT: OrgRootNode,
    NodeKind.OU: OUNode,
    NodeKind.STATEMENT: StatementNode,
}
