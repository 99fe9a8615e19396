"""GraphQL views of a world, for browsing: users, groups, roles, policies, resources, the
organization, and the world's history."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.scalars import JSON

from ..errors import NotFoundError
from ..policy import Statement as DomainStatement
from ..world import EdgeKind, NodeKind, World
from ..world import PolicyType as DomainPolicyType
from ..world.graph import statement_key
from ..world.listing import listing
from .connections import Connection, ListingScope, paginate
from .decision import Effect, PolicyType
from .errors import Problem, typed_errors
from .filters import GroupFilter, Order, PolicyFilter, ResourceFilter, RoleFilter, UserFilter, arguments_of, sort_of, to_filter
from .ids import Node, global_id


@strawberry.type
class Tag:
    key: str
    value: str


def _tags(data: Mapping[str, Any]) -> list[Tag]:
    return [Tag(key=k, value=v) for k, v in sorted(data.get("tags", {}).items())]


@strawberry.type
class Statement(Node):
    index: int
    sid: str | None
    label: str
    effect: Effect  # type: ignore[valid-type]
    actions: list[str]
    not_actions: list[str]
    resources: list[str]
    not_resources: list[str]
    condition: JSON | None

    @classmethod
    def of(cls, st: DomainStatement, world: str, policy_key: str) -> Statement:
        acts = list(st.actions.patterns)
        res = [p.text for p in st.resources.patterns] if st.resources else []
        return cls(
            id=global_id("Statement", world, statement_key(policy_key, st.index)), index=st.index, sid=st.sid, label=st.label, effect=st.effect,
            actions=[] if st.not_action else acts, not_actions=acts if st.not_action else [],
            resources=[] if st.not_resource else res, not_resources=res if st.not_resource else [],
            condition=st.raw.get("Condition"),
        )


@strawberry.type
class PolicyVersion:
    version_id: str
    is_default: bool
    create_date: str
    document: JSON


@strawberry.type(description="A managed or inline identity policy.")
class Policy(Node):
    key: strawberry.ID
    name: str
    arn: str | None
    inline: bool
    policy_type: PolicyType  # type: ignore[valid-type]
    description: str
    document: JSON
    statements: list[Statement]
    warnings: list[Problem]
    versions: list[PolicyVersion]
    default_version_id: str | None
    attached_to: list[str] = strawberry.field(description="Labels of the users, groups and roles holding it.")

    @classmethod
    def of(cls, world: World, key: str) -> Policy:
        data = world.node(key)
        doc = data["document"]
        inline = data["kind"] is NodeKind.INLINE_POLICY
        if inline:
            owner_kind = world.node(data["owner"])["kind"]
            ptype = {NodeKind.USER: DomainPolicyType.USER, NodeKind.GROUP: DomainPolicyType.GROUP}.get(owner_kind, DomainPolicyType.ROLE)
            holders = [world.node(data["owner"])["label"]]
            versions: list[PolicyVersion] = []
            default = None
        else:
            ptype = DomainPolicyType.AWS_MANAGED if data["account"] == "aws" else DomainPolicyType.USER_MANAGED
            holders = sorted(world.node(s)["label"] for s, _ in world.in_edges(key, EdgeKind.ATTACHED))
            versions = [
                PolicyVersion(version_id=v["versionId"], is_default=v["isDefault"], create_date=v["createDate"], document=JSON(dict(v["document"].raw)))
                for v in data["versions"]
            ]
            default = next(v.version_id for v in versions if v.is_default)
        return cls(
            id=global_id("Policy", world.name, key), key=strawberry.ID(key), name=data["name"], arn=data.get("arn"), inline=inline, policy_type=ptype,
            description=data.get("description", ""), document=JSON(dict(doc.raw)), statements=[Statement.of(s, world.name, key) for s in doc.statements],
            warnings=[Problem.of(w) for w in doc.warnings], versions=versions, default_version_id=default, attached_to=holders,
        )


def _policies_of(world: World, key: str) -> list[Policy]:
    out = [Policy.of(world, p) for p, _ in sorted(world.out_edges(key, EdgeKind.INLINE))]
    out += [Policy.of(world, p) for p, _ in sorted(world.out_edges(key, EdgeKind.ATTACHED))]
    return out


def _boundary_of(world: World, key: str) -> Policy | None:
    boundary = world.boundary_of(key)
    return None if boundary is None else Policy.of(world, boundary)


@strawberry.type
class Group(Node):
    arn: str
    name: str
    unique_id: str = strawberry.field(description="AWS's unique id (AGPA...); was `id` before the global ids.")
    account: str
    path: str
    _world: strawberry.Private[World]

    @classmethod
    def of(cls, world: World, key: str) -> Group:
        d = world.node(key)
        return cls(id=global_id("Group", world.name, key), arn=key, name=d["name"], unique_id=d["unique_id"], account=d["account"], path=d["path"], _world=world)

    @strawberry.field(description="The group's own inline and attached policies.")
    def policies(self) -> list[Policy]:
        return _policies_of(self._world, self.arn)

    @strawberry.field
    def users(self) -> list[User]:
        return [User.of(self._world, u) for u, _ in sorted(self._world.in_edges(self.arn, EdgeKind.MEMBER_OF))]


@strawberry.type
class User(Node):
    arn: str
    name: str
    unique_id: str = strawberry.field(description="AWS's unique id (AIDA...); was `id` before the global ids.")
    account: str
    path: str
    tags: list[Tag]
    _world: strawberry.Private[World]

    @classmethod
    def of(cls, world: World, key: str) -> User:
        d = world.node(key)
        return cls(id=global_id("User", world.name, key), arn=key, name=d["name"], unique_id=d["unique_id"], account=d["account"], path=d["path"], tags=_tags(d), _world=world)

    @strawberry.field
    def groups(self) -> list[Group]:
        return [Group.of(self._world, g) for g, _ in sorted(self._world.out_edges(self.arn, EdgeKind.MEMBER_OF))]

    @strawberry.field(description="The user's own inline and attached policies (not its groups').")
    def policies(self) -> list[Policy]:
        return _policies_of(self._world, self.arn)

    @strawberry.field
    def permissions_boundary(self) -> Policy | None:
        return _boundary_of(self._world, self.arn)


@strawberry.type
class Role(Node):
    arn: str
    name: str
    unique_id: str = strawberry.field(description="AWS's unique id (AROA...); was `id` before the global ids.")
    account: str
    path: str
    description: str
    tags: list[Tag]
    trust_policy: JSON
    _world: strawberry.Private[World]

    @classmethod
    def of(cls, world: World, key: str) -> Role:
        d = world.node(key)
        return cls(
            id=global_id("Role", world.name, key), arn=key, name=d["name"], unique_id=d["unique_id"], account=d["account"], path=d["path"], description=d.get("description", ""),
            tags=_tags(d), trust_policy=JSON(dict(world.trust_policy(key)[1].raw)), _world=world,
        )

    @strawberry.field
    def policies(self) -> list[Policy]:
        return _policies_of(self._world, self.arn)

    @strawberry.field
    def permissions_boundary(self) -> Policy | None:
        return _boundary_of(self._world, self.arn)


@strawberry.type
class Resource(Node):
    arn: str
    name: str
    type: str
    account: str | None
    policy: JSON | None = strawberry.field(description="Its resource-based policy (bucket policy, key policy, ...), if any.")

    @classmethod
    def of(cls, world: World, key: str) -> Resource:
        d = world.node(key)
        return cls(id=global_id("Resource", world.name, key), arn=key, name=d["name"], type=d["resource_type"], account=d.get("account"), policy=_resource_policy_json(world, key))


@strawberry.type(description="An SCP or RCP.")
class OrgPolicy(Node):
    name: str
    type: str
    document: JSON
    attached_to: list[str]

    @classmethod
    def of(cls, world: World, key: str) -> OrgPolicy:
        d = world.node(key)
        return cls(id=global_id("OrgPolicy", world.name, key), name=d["name"], type=d["policy_type"], document=JSON(dict(d["document"].raw)),
                   attached_to=sorted(world.node(t)["label"] for t, _ in world.in_edges(key, EdgeKind.GOVERNED_BY_ORG)))


@strawberry.type(description="The root or an OU, with its children and the SCPs/RCPs attached to it.")
class OrgUnit(Node):
    key: str = strawberry.field(description="The unit's key in the world graph (`org-root/r-...`, `ou/ou-...`), which `parent` names; was `id` before the global ids.")
    name: str
    kind: str
    parent: str | None
    accounts: list[str]
    policies: list[str]

    @classmethod
    def of(cls, world: World, key: str) -> OrgUnit:
        d = world.node(key)
        parent = next((p for p, _ in world.out_edges(key, EdgeKind.CHILD_OF)), None)
        accounts = sorted(world.node(a)["account"] for a, _ in world.in_edges(key, EdgeKind.CHILD_OF) if world.node(a)["kind"] is NodeKind.ACCOUNT)
        return cls(
            id=global_id("OrgUnit", world.name, key), key=key, name=d["name"], kind=d["kind"].value, parent=parent, accounts=accounts,
            policies=[world.node(p)["label"] for p, _ in sorted(world.out_edges(key, EdgeKind.GOVERNED_BY_ORG))],
        )


@strawberry.type(description="An AWS account of the world.")
class Account(Node):
    account_id: str
    arn: str = strawberry.field(description="The account's root ARN, arn:aws:iam::ACCOUNT:root.")
    alias: str | None

    @classmethod
    def of(cls, world: World, key: str) -> Account:
        d = world.account_node(key)
        return cls(id=global_id("Account", world.name, key), account_id=d["account"], arn=key, alias=d.get("alias"))


@strawberry.type
class Organization:
    management_account: str
    units: list[OrgUnit]
    policies: list[OrgPolicy]

    @classmethod
    def of(cls, world: World) -> Organization | None:
        root = world.org_root
        if root is None:
            return None
        units = [OrgUnit.of(world, key) for key, _ in sorted([*world.nodes_of(NodeKind.ORG_ROOT), *world.nodes_of(NodeKind.OU)])]
        policies = [OrgPolicy.of(world, k) for k, _ in sorted(world.nodes_of(NodeKind.ORG_POLICY))]
        return cls(management_account=world.node(root)["management_account"], units=units, policies=policies)


@strawberry.type(description="One committed change to a world.")
class HistoryEntry:
    version: int
    at: str
    mutation: str = strawberry.field(description="The change: a mutation's name (createUser, ...), or importWorld, forkWorld, createWorld; stores written before commands name world methods (add_user, ...).")
    summary: str = strawberry.field(description="The API mutation that made it, and what it named.")
    arguments: JSON

    @classmethod
    def of(cls, change: Any) -> HistoryEntry:
        return cls(version=change.version, at=change.at, mutation=change.mutation, summary=change.summary, arguments=JSON(dict(change.args)))


@strawberry.type(description="A world the server holds.")
class WorldSummary:
    name: str
    version: int
    is_default: bool
    created_at: str
    forked_from: str | None
    forked_at_version: int | None
    status: WorldStatus = strawberry.field(description="READY, or UNREADABLE when the store holds the world but it cannot be rebuilt.")
    error: str | None = strawberry.field(description="Why an UNREADABLE world cannot be rebuilt; null for a READY one.")


@strawberry.enum(description="Whether a world of the store could be rebuilt.")
class WorldStatus(enum.Enum):
    READY = "READY"
    UNREADABLE = "UNREADABLE"


@strawberry.type(description="One IAM configuration snapshot.")
class WorldView:
    name: str
    description: str
    version: int = strawberry.field(description="How many changes have been committed to this world.")
    _world: strawberry.Private[World]
    _history: strawberry.Private[Any]

    @classmethod
    def of(cls, world: World, history: Any = None) -> WorldView:
        return cls(name=world.name, description=world.description, version=world.version, _world=world, _history=history)

    @strawberry.field
    def accounts(self) -> list[str]:
        # Read when asked: listing the accounts scans the graph (about 10 ms on 5,000 users).
        return self._world.accounts()

    @strawberry.field(description="Committed changes, newest first (empty for a world that is not stored).", deprecation_reason="use historyConnection, which pages")
    def history(self, limit: int = 50) -> list[HistoryEntry]:
        if self._history is None:
            return []
        return [HistoryEntry.of(c) for c in self._history(self.name, limit=max(1, min(limit, 1000)))]

    @strawberry.field(description="Committed changes, newest first, a page at a time (empty for a world that is not stored).")
    @typed_errors
    def history_connection(self, first: int | None = None, after: str | None = None) -> Connection[HistoryEntry]:
        changes = [] if self._history is None else self._history(self.name, limit=None)
        return paginate(self._scope("WorldView.historyConnection"), changes, HistoryEntry.of, first, after)

    @strawberry.field(deprecation_reason="use usersConnection, which pages, filters and sorts")
    def users(self) -> list[User]:
        return [User.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.USER))]

    @strawberry.field(deprecation_reason="use groupsConnection, which pages, filters and sorts")
    def groups(self) -> list[Group]:
        return [Group.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.GROUP))]

    @strawberry.field(deprecation_reason="use rolesConnection, which pages, filters and sorts")
    def roles(self) -> list[Role]:
        return [Role.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.ROLE))]

    @strawberry.field(description="Managed policies (customer and AWS managed).", deprecation_reason="use policiesConnection, which pages, filters and sorts")
    def policies(self) -> list[Policy]:
        return [Policy.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.POLICY))]

    @strawberry.field(deprecation_reason="use resourcesConnection, which pages, filters and sorts")
    def resources(self) -> list[Resource]:
        return [Resource.of(self._world, k) for k, _ in sorted(self._world.nodes_of(NodeKind.RESOURCE))]

    @strawberry.field(description="The world's users, a page at a time; by name unless `orderBy` says otherwise.")
    @typed_errors
    def users_connection(self, first: int | None = None, after: str | None = None, filter: UserFilter | None = None, order_by: Order | None = None) -> Connection[User]:
        return self._page("usersConnection", NodeKind.USER, User.of, first, after, filter, order_by)

    @strawberry.field(description="The world's groups, a page at a time; by name unless `orderBy` says otherwise.")
    @typed_errors
    def groups_connection(self, first: int | None = None, after: str | None = None, filter: GroupFilter | None = None, order_by: Order | None = None) -> Connection[Group]:
        return self._page("groupsConnection", NodeKind.GROUP, Group.of, first, after, filter, order_by)

    @strawberry.field(description="The world's roles, a page at a time; by name unless `orderBy` says otherwise.")
    @typed_errors
    def roles_connection(self, first: int | None = None, after: str | None = None, filter: RoleFilter | None = None, order_by: Order | None = None) -> Connection[Role]:
        return self._page("rolesConnection", NodeKind.ROLE, Role.of, first, after, filter, order_by)

    @strawberry.field(description="Managed policies (customer and AWS managed), a page at a time; by name unless `orderBy` says otherwise.")
    @typed_errors
    def policies_connection(self, first: int | None = None, after: str | None = None, filter: PolicyFilter | None = None, order_by: Order | None = None) -> Connection[Policy]:
        return self._page("policiesConnection", NodeKind.POLICY, Policy.of, first, after, filter, order_by)

    @strawberry.field(description="Resources, a page at a time; by name unless `orderBy` says otherwise.")
    @typed_errors
    def resources_connection(self, first: int | None = None, after: str | None = None, filter: ResourceFilter | None = None, order_by: Order | None = None) -> Connection[Resource]:
        return self._page("resourcesConnection", NodeKind.RESOURCE, Resource.of, first, after, filter, order_by)

    @strawberry.field(description="The world's accounts, a page at a time, by account id.")
    @typed_errors
    def accounts_connection(self, first: int | None = None, after: str | None = None) -> Connection[Account]:
        keys = sorted(k for k, _ in self._world.nodes_of(NodeKind.ACCOUNT))
        return paginate(self._scope("WorldView.accountsConnection"), keys, lambda k: Account.of(self._world, k), first, after)

    def _scope(self, field: str, arguments: Any = None) -> ListingScope:
        return ListingScope(world=self._world.name, version=self._world.version, listing=field, arguments=arguments)

    def _page(self, field: str, kind: NodeKind, make: Any, first: int | None, after: str | None, given: Any, order_by: Order | None) -> Any:
        sort, descending = sort_of(order_by)
        keys = listing(self._world, [kind], to_filter(self._world, given), sort=sort, descending=descending)
        return paginate(self._scope(f"WorldView.{field}", arguments_of(given, order_by)), keys, lambda k: make(self._world, k), first, after)

    @strawberry.field
    def organization(self) -> Organization | None:
        return Organization.of(self._world)

    @strawberry.field
    def user(self, name: str) -> User | None:
        return _maybe(self._world, NodeKind.USER, name, User.of)

    @strawberry.field
    def group(self, name: str) -> Group | None:
        return _maybe(self._world, NodeKind.GROUP, name, Group.of)

    @strawberry.field(description="A managed policy by name or ARN.")
    def policy(self, name: str) -> Policy | None:
        return _maybe(self._world, NodeKind.POLICY, name, Policy.of)

    @strawberry.field
    def role(self, name: str) -> Role | None:
        return _maybe(self._world, NodeKind.ROLE, name, Role.of)


def _resource_policy_json(world: World, key: str) -> JSON | None:
    policy = world.resource_policy(key)
    return None if policy is None else JSON(dict(world.node(policy)["document"].raw))


def _maybe(world: World, kind: NodeKind, name: str, make: Any) -> Any:
    try:
        return make(world, world.find(kind, name))
    except NotFoundError:
        return None
