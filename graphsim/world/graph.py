"""The IAM world as a ``networkx.MultiDiGraph``.

Nodes are keyed by ARN (inline policies and statements by their owner's key plus a suffix) and
carry ``kind`` and ``label``. Every edge carries ``provenance``: the world file or mutation
that made it, so any path explains itself. Mutations validate everything first, then change
the graph, so a failed mutation leaves the world exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import networkx as nx

from ..arn import Arn, iam_arn, pseudo_unique_id, root_arn, s3_bucket_arn
from ..catalog import policy_action_warning
from ..errors import ConflictError, InvalidRequestError, NotFoundError, PolicyValidationError, Problem
from ..policy import PolicyDocument, PolicyKind, parse_policy
from ..policy.cache import DOCUMENT_WEIGHT, BoundedCache
from .model import EdgeKind, NodeKind, PathStep, PolicyType
from .nodes import (
    AccountNode,
    DocumentNode,
    ManagedPolicyNode,
    Node,
    OrgPolicyNode,
    OrgRootNode,
    OUNode,
    OwnedPolicyNode,
    PolicyVersion,
    PrincipalNode,
    ResourceNode,
    StatementNode,
)

AWS_MANAGED_ACCOUNT = "aws"
# D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html (Tags: at most 50 items),
# https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html (Key 1-128, Value 0-256 characters)
MAX_TAGS, MAX_TAG_KEY, MAX_TAG_VALUE = 50, 128, 256
MAX_POLICY_VERSIONS = 5  # D: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html

PolicyParser = Callable[..., PolicyDocument]


# Parsed documents by content: an organization attaches the same AWS-managed policy, baseline and
# trust policy in every account (and each account's export repeats it), so each distinct text is
# parsed and compiled once per process and its PolicyDocument shared (it is frozen).
DOCUMENTS = BoundedCache(64 * 1024 * 1024)


def parse_with_catalog(document: str | Mapping[str, Any], *, kind: PolicyKind = PolicyKind.IDENTITY, **kwargs: Any) -> PolicyDocument:
    """Parse a policy, warning about actions the AWS catalog does not know; a document whose
    text (and kind) was parsed before comes back as then. Only documents that parse are kept:
    an invalid one raises each time, naming its own ``source``."""
    try:
        text = document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # not JSON data (a YAML date, ...; nested past json's reach): parse it as it is
        return parse_policy(document, kind=kind, check_action=policy_action_warning, **kwargs)
    # A lone surrogate cannot be written as UTF-8: keyed as it is, and refused by the parse.
    key = (kind, hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest())
    # A parsed document holds some 30 times its text's bytes (DOCUMENT_WEIGHT): counted so, the
    # byte bound holds (500 distinct 100 KB documents had held 1.5 GB).
    return DOCUMENTS.get(key, len(text) * DOCUMENT_WEIGHT, lambda: parse_policy(document, kind=kind, check_action=policy_action_warning, **kwargs))


def _path_ok(path: str) -> bool:
    return path.startswith("/") and path.endswith("/")


def statement_key(policy_key: str, index: int) -> str:
    """The node key of statement ``index`` of the policy node ``policy_key``."""
    return f"{policy_key}#Statement[{index}]"


@dataclass(frozen=True, slots=True)
class PolicyAttachment:
    """A policy that speaks for a principal, and the graph path that brought it."""

    policy: str  # node key
    name: str
    arn: str | None  # managed policies only
    policy_type: PolicyType
    document: PolicyDocument
    path: tuple[PathStep, ...]


class World:
    """One IAM configuration snapshot."""

    def __init__(self, name: str, *, parse: PolicyParser = parse_with_catalog) -> None:
        self.name = name
        self.description = ""
        import networkx as nx  # here, not at import: custom simulations never build a graph

        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.version = 0
        self.default_account: str | None = None
        self._parse = parse
        self._listeners: list[Callable[[], None]] = []
        # (kind, lower-case name) -> node keys: name lookups without scanning the graph.
        self._by_name: dict[tuple[NodeKind, str], set[str]] = {}
        # (kind, lower-case name, account) -> node keys: the per-account uniqueness check stays
        # constant time when a name repeats in every account of an organization.
        self._in_account: dict[tuple[NodeKind, str, str | None], set[str]] = {}
        self._org_root: str | None = None

    # ---- change notification (caches hang off this) --------------------------------------

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        # The version counts committed mutations and is kept by the workspace; this only tells
        # caches that the graph moved.
        for listener in self._listeners:
            listener()

    # ---- keys ----------------------------------------------------------------------------

    @staticmethod
    def account_key(account: str) -> str:
        return root_arn(account)

    @staticmethod
    def entity_arn(account: str, kind: str, name: str, path: str = "/") -> str:
        return iam_arn(account, kind, name, path)

    # ---- reading -------------------------------------------------------------------------

    def node(self, key: str) -> Mapping[str, Any]:
        """A node's attributes, untyped; prefer the typed accessors below, which mypy checks."""
        return self.graph.nodes[key]

    # Typed views of a node's attributes (see nodes.py): the graph's own dicts, read through
    # records that name each kind's attributes, so a misspelt one is a type error.

    def kind_of(self, key: str) -> NodeKind:
        kind: NodeKind = self.graph.nodes[key]["kind"]
        return kind

    def label_of(self, key: str) -> str:
        label: str = self.graph.nodes[key]["label"]
        return label

    def name_of(self, key: str) -> str:
        name: str = self.graph.nodes[key]["name"]
        return name

    def account_of(self, key: str) -> str:
        """The account of an account, user, group, role, policy (``aws`` for AWS managed
        ones), resource, or of the owner of an inline, trust or resource policy."""
        account: str = self.graph.nodes[key]["account"]
        return account

    def info(self, key: str) -> Node:
        return cast(Node, self.graph.nodes[key])

    def account_node(self, key: str) -> AccountNode:
        return cast(AccountNode, self.graph.nodes[key])

    def principal(self, key: str) -> PrincipalNode:
        """A user, group or role."""
        return cast(PrincipalNode, self.graph.nodes[key])

    def managed_policy(self, key: str) -> ManagedPolicyNode:
        return cast(ManagedPolicyNode, self.graph.nodes[key])

    def document_node(self, key: str) -> DocumentNode:
        """Any node holding a policy document."""
        return cast(DocumentNode, self.graph.nodes[key])

    def owned_policy(self, key: str) -> OwnedPolicyNode:
        """An inline policy, a trust policy or a resource policy."""
        return cast(OwnedPolicyNode, self.graph.nodes[key])

    def org_policy(self, key: str) -> OrgPolicyNode:
        return cast(OrgPolicyNode, self.graph.nodes[key])

    def resource_node(self, key: str) -> ResourceNode:
        return cast(ResourceNode, self.graph.nodes[key])

    def org_root_node(self, key: str) -> OrgRootNode:
        return cast(OrgRootNode, self.graph.nodes[key])

    def ou_node(self, key: str) -> OUNode:
        return cast(OUNode, self.graph.nodes[key])

    def statement_node(self, key: str) -> StatementNode:
        return cast(StatementNode, self.graph.nodes[key])

    def principals_of(self, kind: NodeKind) -> Iterator[tuple[str, PrincipalNode]]:
        """The users, groups or roles of the world."""
        for key, data in self.nodes_of(kind):
            yield key, cast(PrincipalNode, data)

    def documents_of(self, kind: NodeKind) -> Iterator[tuple[str, DocumentNode]]:
        """The nodes of a policy kind (managed, inline, trust, resource, organization policies)."""
        for key, data in self.nodes_of(kind):
            yield key, cast(DocumentNode, data)

    def nodes_of(self, kind: NodeKind) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for key, data in self.graph.nodes(data=True):
            if data["kind"] is kind:
                yield key, data

    def out_edges(self, key: str, kind: EdgeKind) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for _, target, edge_kind, data in self.graph.out_edges(key, keys=True, data=True):
            if edge_kind == kind.value:
                yield target, data

    def in_edges(self, key: str, kind: EdgeKind) -> Iterator[tuple[str, Mapping[str, Any]]]:
        for source, _, edge_kind, data in self.graph.in_edges(key, keys=True, data=True):
            if edge_kind == kind.value:
                yield source, data

    def named(self, kind: NodeKind, name: str) -> list[str]:
        """Keys of the nodes of ``kind`` called exactly ``name``."""
        keys = self._by_name.get((kind, name.lower()), ())
        return sorted(k for k in keys if self.name_of(k) == name)

    def _index(self, key: str) -> None:
        data = self.info(key)
        self._by_name.setdefault((data["kind"], data["name"].lower()), set()).add(key)
        self._in_account.setdefault((data["kind"], data["name"].lower(), cast(str | None, data.get("account"))), set()).add(key)

    def _unindex(self, key: str) -> None:
        data = self.info(key)
        self._by_name.get((data["kind"], data["name"].lower()), set()).discard(key)
        self._in_account.get((data["kind"], data["name"].lower(), cast(str | None, data.get("account"))), set()).discard(key)

    def accounts(self) -> list[str]:
        return sorted(self.account_of(key) for key, _ in self.nodes_of(NodeKind.ACCOUNT))

    def find(self, kind: NodeKind, name_or_arn: str, *, account: str | None = None, field: str | None = None) -> str:
        """The node key of a user/group/role/managed policy given its name or ARN."""
        if name_or_arn in self.graph and self.kind_of(name_or_arn) is kind:
            return name_or_arn
        if name_or_arn.startswith("arn:"):
            raise NotFoundError(kind.value, name_or_arn, field=field)
        matches = [
            key
            for key in self.named(kind, name_or_arn)
            if account is None or self.account_of(key) in (account, AWS_MANAGED_ACCOUNT)
        ]
        if not matches:
            raise NotFoundError(kind.value, name_or_arn, field=field)
        if len(matches) > 1:
            raise InvalidRequestError(
                f"{kind.value} name {name_or_arn!r} is ambiguous ({', '.join(sorted(matches))}); give the ARN",
                field=field,
            )
        return matches[0]

    def identity_policies(self, principal: str, *, only: frozenset[str] | None = None) -> list[PolicyAttachment]:
        """Every identity-based policy of a user (with its groups') or role, with its path;
        ``only`` restricts them to those policy nodes (a question about one action needs only
        the policies that name it)."""
        graph = self.graph
        data = self.info(principal)
        start = PathStep(principal, data["kind"], data["label"])
        out: list[PolicyAttachment] = []
        self._collect_policies(principal, (start,), out, only)
        if data["kind"] is NodeKind.USER:
            adjacency = graph.adj
            for group, edge in sorted(self.out_edges(principal, EdgeKind.MEMBER_OF)):
                if only is not None and not any(t in only for t in adjacency[group]):
                    continue
                step = PathStep(group, NodeKind.GROUP, self.label_of(group), EdgeKind.MEMBER_OF, edge["provenance"])
                self._collect_policies(group, (start, step), out, only)
        return out

    def own_policies(self, owner: str) -> list[PolicyAttachment]:
        """The inline and attached policies of one user, group or role, in the order
        ``identity_policies`` lists them, each path holding only the step from its owner."""
        out: list[PolicyAttachment] = []
        self._collect_policies(owner, (), out, None)
        return out

    def _collect_policies(self, owner: str, prefix: tuple[PathStep, ...], out: list[PolicyAttachment], only: frozenset[str] | None) -> None:
        owner_kind = self.kind_of(owner)
        for edge_kind in (EdgeKind.INLINE, EdgeKind.ATTACHED):
            for policy, edge in sorted(self.out_edges(owner, edge_kind)):
                if only is not None and policy not in only:
                    continue
                pdata = self.document_node(policy)
                step = PathStep(policy, pdata["kind"], pdata["label"], edge_kind, edge["provenance"])
                arn: str | None = None
                if edge_kind is EdgeKind.INLINE:
                    ptype = {NodeKind.USER: PolicyType.USER, NodeKind.GROUP: PolicyType.GROUP}.get(owner_kind, PolicyType.ROLE)
                else:
                    managed = self.managed_policy(policy)
                    arn = managed["arn"]
                    ptype = PolicyType.AWS_MANAGED if managed["account"] == AWS_MANAGED_ACCOUNT else PolicyType.USER_MANAGED
                out.append(PolicyAttachment(policy, pdata["name"], arn, ptype, pdata["document"], (*prefix, step)))

    # ---- building ------------------------------------------------------------------------

    def _require_account(self, account: str | None) -> str:
        account = account or self.default_account
        if account is None:
            raise InvalidRequestError("the world has no account yet; create one first", field="account")
        if self.account_key(account) not in self.graph:
            raise NotFoundError("account", account, field="account")
        return account

    def _edge(self, source: str, target: str, kind: EdgeKind, provenance: str) -> None:
        self.graph.add_edge(source, target, key=kind.value, provenance=provenance)

    def add_account(self, account: str, *, alias: str | None = None, provenance: str = "mutation") -> str:
        if not (account.isdigit() and len(account) == 12):
            raise InvalidRequestError(f"account id must be 12 digits, got {account!r}", field="account")
        key = self.account_key(account)
        if key in self.graph:
            raise ConflictError(f"account {account} already exists", field="account")
        self.graph.add_node(key, kind=NodeKind.ACCOUNT, name=alias or account, label=f"account/{account}", account=account, arn=key, alias=alias)
        if self.default_account is None:
            self.default_account = account
        self._changed()
        return key

    def _check_name(self, kind: NodeKind, name: str, path: str, field: str = "name") -> None:
        # IAM names: 1-64 (users, groups, roles) or 1-128 (policies) of [\w+=,.@-].
        limit = 128 if kind in (NodeKind.POLICY, NodeKind.INLINE_POLICY) else 64
        if not name or len(name) > limit or any(not (c.isalnum() or c in "_+=,.@-") for c in name):
            raise InvalidRequestError(
                f"{kind.value} name must be 1-{limit} characters of letters, digits and _+=,.@-, got {name!r}", field=field
            )
        if not _path_ok(path):
            raise InvalidRequestError(f"path must start and end with '/', got {path!r}", field="path")

    def _add_principal(self, kind: NodeKind, prefix: str, name: str, account: str | None, path: str, tags: Mapping[str, str] | None, unique_id: str | None, provenance: str, **extra: Any) -> str:
        account = self._require_account(account)
        self._check_name(kind, name, path)
        if self._in_account.get((kind, name.lower(), account)):
            # IAM names are unique per account regardless of case.
            raise ConflictError(f"{kind.value} {name!r} already exists in account {account}", field="name")
        arn = self.entity_arn(account, kind.value, name, path)
        self.graph.add_node(
            arn,
            kind=kind,
            name=name,
            label=f"{kind.value}/{name}",
            arn=arn,
            account=account,
            path=path,
            tags=dict(tags or {}),
            unique_id=unique_id or pseudo_unique_id(prefix, arn),
            **extra,
        )
        self._index(arn)
        self._edge(arn, self.account_key(account), EdgeKind.IN_ACCOUNT, provenance)
        self._changed()
        return arn

    def add_user(self, name: str, *, account: str | None = None, path: str = "/", tags: Mapping[str, str] | None = None, unique_id: str | None = None, provenance: str = "mutation") -> str:
        return self._add_principal(NodeKind.USER, "AIDA", name, account, path, tags, unique_id, provenance)

    def add_group(self, name: str, *, account: str | None = None, path: str = "/", unique_id: str | None = None, provenance: str = "mutation") -> str:
        return self._add_principal(NodeKind.GROUP, "AGPA", name, account, path, None, unique_id, provenance)

    def add_role(self, name: str, trust_policy: str | Mapping[str, Any], *, account: str | None = None, path: str = "/", tags: Mapping[str, str] | None = None, unique_id: str | None = None, description: str = "", provenance: str = "mutation") -> str:
        trust = self._parse(trust_policy, kind=PolicyKind.TRUST, source="trust policy")
        key = self._add_principal(NodeKind.ROLE, "AROA", name, account, path, tags, unique_id, provenance, description=description)
        self._policy_node(f"{key}#trust-policy", NodeKind.TRUST_POLICY, f"{name} trust policy", f"trust-policy/{name}", trust, provenance, owner=key, account=self.account_of(key))
        self._edge(key, f"{key}#trust-policy", EdgeKind.TRUSTS, provenance)
        return key

    def trust_policy(self, role: str) -> tuple[str, PolicyDocument]:
        key = f"{role}#trust-policy"
        return key, self.owned_policy(key)["document"]

    def update_trust_policy(self, role: str, document: str | Mapping[str, Any], *, provenance: str = "mutation") -> str:
        """AWS's UpdateAssumeRolePolicy."""
        key = self.find(NodeKind.ROLE, role, field="role")
        parsed = self._parse(document, kind=PolicyKind.TRUST, source="trust policy")
        node = f"{key}#trust-policy"
        self.owned_policy(node)["document"] = parsed
        self._set_statements(node, parsed, provenance)
        self._changed()
        return key

    # ---- permissions boundaries ----------------------------------------------------------

    def boundary_of(self, key: str) -> str | None:
        return next((p for p, _ in self.out_edges(key, EdgeKind.BOUNDED_BY)), None)

    def set_boundary(self, kind: NodeKind, owner: str, policy: str, *, provenance: str = "mutation") -> tuple[str, str]:
        """A user or role has at most one permissions boundary; setting one replaces the old."""
        if kind not in (NodeKind.USER, NodeKind.ROLE):
            raise InvalidRequestError("only users and roles have permissions boundaries", field="kind")
        key = self.find(kind, owner, field=kind.value)
        policy_key = self.find(NodeKind.POLICY, policy, account=self.account_of(key), field="policy")
        old = self.boundary_of(key)
        if old is not None:
            self.graph.remove_edge(key, old, key=EdgeKind.BOUNDED_BY.value)
        self._edge(key, policy_key, EdgeKind.BOUNDED_BY, provenance)
        self._changed()
        return key, policy_key

    def delete_boundary(self, kind: NodeKind, owner: str) -> str:
        key = self.find(kind, owner, field=kind.value)
        old = self.boundary_of(key)
        if old is None:
            raise NotFoundError("permissions boundary", self.label_of(key), field=kind.value)
        self.graph.remove_edge(key, old, key=EdgeKind.BOUNDED_BY.value)
        self._changed()
        return key

    def tag_principal(self, kind: NodeKind, name_or_arn: str, tags: Mapping[str, str]) -> str:
        """AWS's TagUser / TagRole: "If a tag with the same key name already exists, then that tag
        is overwritten with the new value"; an invalid tag, or more than 50, fails the whole request
        (D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_TagUser.html)."""
        key = self.find(kind, name_or_arn, field=kind.value)
        merged = {**self.graph.nodes[key]["tags"], **tags}
        for tag_key, value in tags.items():
            # D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Tag.html (Key 1-128, Value 0-256 characters)
            if not 1 <= len(tag_key) <= MAX_TAG_KEY:
                raise InvalidRequestError(f"a tag key must be 1-{MAX_TAG_KEY} characters, got {tag_key!r}", field="tags")
            if len(value) > MAX_TAG_VALUE:
                raise InvalidRequestError(f"the value of tag {tag_key!r} is longer than {MAX_TAG_VALUE} characters", field="tags")
        if len(merged) > MAX_TAGS:
            raise InvalidRequestError(f"{self.graph.nodes[key]['label']} would have {len(merged)} tags; at most {MAX_TAGS}", field="tags")
        self.graph.nodes[key]["tags"] = merged
        self._changed()
        return key

    def untag_principal(self, kind: NodeKind, name_or_arn: str, keys: Iterable[str]) -> str:
        """AWS's UntagUser / UntagRole: "The tags with matching keys are removed"; a key the
        principal does not carry removes nothing (D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_UntagUser.html)."""
        key = self.find(kind, name_or_arn, field=kind.value)
        gone = set(keys)
        self.graph.nodes[key]["tags"] = {k: v for k, v in self.graph.nodes[key]["tags"].items() if k not in gone}
        self._changed()
        return key

    def remove_entity(self, kind: NodeKind, name_or_arn: str) -> str:
        """Delete a user, group or role with its memberships, attachments and inline policies,
        as the IAM console does."""
        key = self.find(kind, name_or_arn, field="name")
        for edge_kind in (EdgeKind.INLINE, EdgeKind.TRUSTS):
            for policy, _ in list(self.out_edges(key, edge_kind)):
                self._remove_policy_node(policy)
        self._unindex(key)
        self.graph.remove_node(key)
        self._changed()
        return key

    def _policy_node(self, key: str, kind: NodeKind, name: str, label: str, document: PolicyDocument, provenance: str, **extra: Any) -> None:
        self.graph.add_node(key, kind=kind, name=name, label=label, document=document, **extra)
        if kind is NodeKind.POLICY:
            self._index(key)
        self._set_statements(key, document, provenance)

    def _set_statements(self, key: str, document: PolicyDocument, provenance: str) -> None:
        for stmt_key, _ in list(self.out_edges(key, EdgeKind.HAS_STATEMENT)):
            self.graph.remove_node(stmt_key)
        for statement in document.statements:
            stmt_key = statement_key(key, statement.index)
            self.graph.add_node(stmt_key, kind=NodeKind.STATEMENT, name=statement.label, label=statement.label, statement=statement)
            self._edge(key, stmt_key, EdgeKind.HAS_STATEMENT, provenance)

    def _remove_policy_node(self, key: str) -> None:
        for stmt_key, _ in list(self.out_edges(key, EdgeKind.HAS_STATEMENT)):
            self.graph.remove_node(stmt_key)
        self._unindex(key)
        self.graph.remove_node(key)

    def add_managed_policy(
        self,
        name: str,
        document: str | Mapping[str, Any],
        *,
        account: str | None = None,
        path: str = "/",
        description: str = "",
        versions: list[tuple[str, str | Mapping[str, Any], str | None]] | None = None,
        default_version: str | None = None,
        created: str | None = None,
        provenance: str = "mutation",
    ) -> str:
        """Create a managed policy. ``versions`` (id, document, created) restores a history; the
        default version's document is the one evaluated."""
        aws_managed = account == AWS_MANAGED_ACCOUNT
        if not aws_managed:
            account = self._require_account(account)
        assert account is not None
        self._check_name(NodeKind.POLICY, name, path)
        arn = self.entity_arn(account, "policy", name, path)
        if arn in self.graph:
            raise ConflictError(f"policy {arn} already exists", field="name")
        history = versions or [("v1", document, created)]
        parsed: dict[str, PolicyDocument] = {}
        problems: list[Problem] = []
        for i, (vid, doc, _) in enumerate(history):
            try:
                parsed[vid] = self._parse(doc, kind=PolicyKind.IDENTITY, source=f"policy {name} version {vid}")
            except PolicyValidationError as exc:
                if versions is None:
                    raise
                # Every bad version, each named by its place in the version list.
                problems.extend(Problem(f"versions[{i}].document.{p.path}".rstrip("."), p.rule) for p in exc.problems)
        if problems:
            raise PolicyValidationError(problems, source=f"policy {name}")
        default = default_version or history[-1][0]
        if default not in parsed:
            raise InvalidRequestError(f"default version {default!r} is not among the versions of {name}", field="defaultVersionId")
        version_list = [
            PolicyVersion(versionId=vid, document=parsed[vid], createDate=created or _now(), isDefault=vid == default)
            for vid, _, created in history
        ]
        self._policy_node(
            arn, NodeKind.POLICY, name, f"policy/{name}", parsed[default], provenance,
            arn=arn, account=account, path=path, description=description, versions=version_list,
        )
        if not aws_managed:
            self._edge(arn, self.account_key(account), EdgeKind.IN_ACCOUNT, provenance)
        self._changed()
        return arn

    def update_policy(self, name_or_arn: str, document: str | Mapping[str, Any], *, created: str | None = None, provenance: str = "mutation") -> tuple[str, str | None]:
        """Add a new default version; returns (new version id, pruned version id or None).

        AWS keeps at most five versions; we drop the oldest non-default one to make room, as
        the console offers to, and say which.
        """
        key = self.find(NodeKind.POLICY, name_or_arn, field="policy")
        data = self.managed_policy(key)
        if data["account"] == AWS_MANAGED_ACCOUNT:
            raise ConflictError(f"{key} is AWS managed and cannot be changed", field="policy")
        parsed = self._parse(document, kind=PolicyKind.IDENTITY, source=f"policy {data['name']}")
        versions = [PolicyVersion(**v) for v in data["versions"]]
        pruned = None
        if len(versions) >= MAX_POLICY_VERSIONS:
            oldest = next(v for v in versions if not v["isDefault"])
            versions.remove(oldest)
            pruned = oldest["versionId"]
        next_id = 1 + max(int(v["versionId"].lstrip("v")) for v in data["versions"])
        for v in versions:
            v["isDefault"] = False
        new_id = f"v{next_id}"
        versions.append(PolicyVersion(versionId=new_id, document=parsed, createDate=created or _now(), isDefault=True))
        data["versions"] = versions
        data["document"] = parsed
        self._set_statements(key, parsed, provenance)
        self._changed()
        return new_id, pruned

    def remove_managed_policy(self, name_or_arn: str) -> str:
        key = self.find(NodeKind.POLICY, name_or_arn, field="policy")
        holders = sorted(
            self.label_of(s) for kind in (EdgeKind.ATTACHED, EdgeKind.BOUNDED_BY) for s, _ in self.in_edges(key, kind)
        )
        if holders:
            # As AWS's DeleteConflict: detach first, so a deletion never silently removes access.
            raise ConflictError(f"policy {key} is still attached to {', '.join(holders)}; detach it first", field="policy")
        self._remove_policy_node(key)
        self._changed()
        return key

    def put_inline_policy(self, owner_kind: NodeKind, owner: str, name: str, document: str | Mapping[str, Any], *, provenance: str = "mutation") -> str:
        owner_key = self.find(owner_kind, owner, field=owner_kind.value)
        self._check_name(NodeKind.INLINE_POLICY, name, "/", field="policyName")
        parsed = self._parse(document, kind=PolicyKind.IDENTITY, source=f"inline policy {name}")
        key = f"{owner_key}#inline/{name}"
        owner_name = self.name_of(owner_key)
        if key in self.graph:
            self.owned_policy(key)["document"] = parsed
            self._set_statements(key, parsed, provenance)
        else:
            self._policy_node(key, NodeKind.INLINE_POLICY, name, f"inline-policy/{owner_name}/{name}", parsed, provenance, owner=owner_key, account=self.account_of(owner_key))
            self._edge(owner_key, key, EdgeKind.INLINE, provenance)
        self._changed()
        return key

    def delete_inline_policy(self, owner_kind: NodeKind, owner: str, name: str) -> str:
        owner_key = self.find(owner_kind, owner, field=owner_kind.value)
        key = f"{owner_key}#inline/{name}"
        if key not in self.graph:
            raise NotFoundError("inline policy", f"{self.name_of(owner_key)}/{name}", field="policyName")
        self._remove_policy_node(key)
        self._changed()
        return key

    def attach_policy(self, owner_kind: NodeKind, owner: str, policy: str, *, provenance: str = "mutation") -> tuple[str, str]:
        owner_key = self.find(owner_kind, owner, field=owner_kind.value)
        policy_key = self.find(NodeKind.POLICY, policy, account=self.account_of(owner_key), field="policy")
        if self.graph.has_edge(owner_key, policy_key, key=EdgeKind.ATTACHED.value):
            return owner_key, policy_key  # AWS treats a repeated attach as success
        self._edge(owner_key, policy_key, EdgeKind.ATTACHED, provenance)
        self._changed()
        return owner_key, policy_key

    def detach_policy(self, owner_kind: NodeKind, owner: str, policy: str) -> tuple[str, str]:
        owner_key = self.find(owner_kind, owner, field=owner_kind.value)
        policy_key = self.find(NodeKind.POLICY, policy, account=self.account_of(owner_key), field="policy")
        if not self.graph.has_edge(owner_key, policy_key, key=EdgeKind.ATTACHED.value):
            raise NotFoundError("attachment", f"{policy_key} on {self.label_of(owner_key)}", field="policy")
        self.graph.remove_edge(owner_key, policy_key, key=EdgeKind.ATTACHED.value)
        self._changed()
        return owner_key, policy_key

    def add_member(self, user: str, group: str, *, provenance: str = "mutation") -> tuple[str, str]:
        user_key = self.find(NodeKind.USER, user, field="user")
        group_key = self.find(NodeKind.GROUP, group, account=self.account_of(user_key), field="group")
        if self.account_of(user_key) != self.account_of(group_key):
            raise InvalidRequestError("a user can only join a group of its own account", field="group")
        if not self.graph.has_edge(user_key, group_key, key=EdgeKind.MEMBER_OF.value):
            self._edge(user_key, group_key, EdgeKind.MEMBER_OF, provenance)
            self._changed()
        return user_key, group_key

    def remove_member(self, user: str, group: str) -> tuple[str, str]:
        user_key = self.find(NodeKind.USER, user, field="user")
        group_key = self.find(NodeKind.GROUP, group, account=self.account_of(user_key), field="group")
        if not self.graph.has_edge(user_key, group_key, key=EdgeKind.MEMBER_OF.value):
            raise NotFoundError("membership", f"{self.name_of(user_key)} in {self.name_of(group_key)}", field="group")
        self.graph.remove_edge(user_key, group_key, key=EdgeKind.MEMBER_OF.value)
        self._changed()
        return user_key, group_key

    def add_resource(self, arn: str, *, resource_type: str, account: str | None = None, tags: Mapping[str, str] | None = None, provenance: str = "mutation") -> str:
        resource_part = Arn.parse(arn, field="arn").resource
        if arn in self.graph:
            raise ConflictError(f"resource {arn} already exists", field="arn")
        account = self._require_account(account)
        self.graph.add_node(arn, kind=NodeKind.RESOURCE, name=resource_part, label=f"resource/{resource_part}", arn=arn, account=account, resource_type=resource_type, tags=dict(tags or {}))
        self._edge(self.account_key(account), arn, EdgeKind.OWNS, provenance)
        if resource_type == "s3:object":
            bucket = s3_bucket_arn(arn)
            if bucket is not None and bucket in self.graph:
                self._edge(bucket, arn, EdgeKind.CONTAINS, provenance)
        self._changed()
        return arn

    # ---- resource-based policies ---------------------------------------------------------

    def put_resource_policy(self, arn: str, document: str | Mapping[str, Any], *, account: str | None = None, provenance: str = "mutation") -> str:
        """Set the resource-based policy of ``arn`` (a bucket policy, key policy, queue policy...),
        adding the resource to the world when it is not there yet."""
        parsed = self._parse(document, kind=PolicyKind.RESOURCE, source=f"resource policy of {arn}")
        if arn not in self.graph:
            target = Arn.parse(arn, field="arn")
            kind = "s3:bucket" if target.service == "s3" and "/" not in target.resource else f"{target.service}:resource"
            self.add_resource(arn, resource_type=kind, account=account, provenance=provenance)
        elif self.kind_of(arn) is not NodeKind.RESOURCE:
            raise InvalidRequestError(f"{arn} is a {self.kind_of(arn).value}; roles take trust policies", field="arn")
        key = f"{arn}#resource-policy"
        if key in self.graph:
            self.owned_policy(key)["document"] = parsed
            self._set_statements(key, parsed, provenance)
        else:
            name = self.name_of(arn)
            self._policy_node(key, NodeKind.RESOURCE_POLICY, f"{name} resource policy", f"resource-policy/{name}", parsed, provenance, owner=arn, account=self.account_of(arn))
            self._edge(arn, key, EdgeKind.GOVERNED_BY, provenance)
        self._changed()
        return key

    def delete_resource_policy(self, arn: str) -> str:
        key = f"{arn}#resource-policy"
        if key not in self.graph:
            raise NotFoundError("resource policy", arn, field="arn")
        self._remove_policy_node(key)
        self._changed()
        return key

    def governing_resource(self, arn: str) -> str | None:
        """The resource node whose policy governs a request on ``arn``: the resource itself, or
        for an S3 object, its bucket (a bucket policy speaks for the objects in it)."""
        graph = self.graph
        bucket = s3_bucket_arn(arn)
        if bucket is not None and bucket in graph:
            return bucket
        if arn in graph and self.kind_of(arn) in (NodeKind.RESOURCE, NodeKind.ROLE):
            return arn
        return None

    def resource_policy(self, resource: str) -> str | None:
        """The key of the resource-based policy node governing ``resource`` (a resource or role key)."""
        kind = self.kind_of(resource)
        edge = EdgeKind.TRUSTS if kind is NodeKind.ROLE else EdgeKind.GOVERNED_BY
        return next((p for p, _ in self.out_edges(resource, edge)), None)

    # ---- organizations -------------------------------------------------------------------

    @property
    def org_root(self) -> str | None:
        return self._org_root

    @property
    def management_account(self) -> str | None:
        root = self.org_root
        return None if root is None else self.org_root_node(root)["management_account"]

    def create_organization(self, management_account: str, *, root_id: str = "r-root", org_id: str = "o-graphsim", provenance: str = "mutation") -> str:
        if self.org_root is not None:
            raise ConflictError("the world already has an organization", field="organization")
        account = self._require_account(management_account)
        key = f"org-root/{root_id}"
        self.graph.add_node(key, kind=NodeKind.ORG_ROOT, name=root_id, label=f"root/{root_id}", management_account=account, org_id=org_id)
        self._org_root = key
        self._edge(self.account_key(account), key, EdgeKind.CHILD_OF, provenance)
        self._changed()
        return key

    def _org_target(self, target: str, field: str) -> str:
        """A root, OU or account of the organization, by key, id, name or account id."""
        root = self.org_root
        if root is None:
            raise InvalidRequestError("the world has no organization", field=field)
        graph = self.graph
        for candidate in (target, f"org-root/{target}", f"ou/{target}", self.account_key(target)):
            if candidate in graph and self.kind_of(candidate) in (NodeKind.ORG_ROOT, NodeKind.OU, NodeKind.ACCOUNT):
                return candidate
        ous = [k for k, _ in self.nodes_of(NodeKind.OU) if self.name_of(k) == target]
        if len(ous) == 1:
            return ous[0]
        raise NotFoundError("organization root, OU or account", target, field=field)

    def add_ou(self, name: str, parent: str, *, ou_id: str | None = None, provenance: str = "mutation") -> str:
        parent_key = self._org_target(parent, "parent")
        if self.kind_of(parent_key) is NodeKind.ACCOUNT:
            raise InvalidRequestError("an OU's parent is the root or another OU", field="parent")
        key = f"ou/{ou_id or name}"
        if key in self.graph:
            raise ConflictError(f"OU {ou_id or name} already exists", field="name")
        self.graph.add_node(key, kind=NodeKind.OU, name=name, label=f"ou/{name}", ou_id=ou_id or name)
        self._edge(key, parent_key, EdgeKind.CHILD_OF, provenance)
        self._changed()
        return key

    def place_account(self, account: str, parent: str, *, provenance: str = "mutation") -> str:
        account_key = self.account_key(self._require_account(account))
        parent_key = self._org_target(parent, "parent")
        if self.kind_of(parent_key) is NodeKind.ACCOUNT:
            raise InvalidRequestError("an account's parent is the root or an OU", field="parent")
        for old, _ in list(self.out_edges(account_key, EdgeKind.CHILD_OF)):
            self.graph.remove_edge(account_key, old, key=EdgeKind.CHILD_OF.value)
        self._edge(account_key, parent_key, EdgeKind.CHILD_OF, provenance)
        self._changed()
        return account_key

    def add_org_policy(self, name: str, policy_type: str, document: str | Mapping[str, Any], *, description: str = "", provenance: str = "mutation") -> str:
        kinds = {"scp": PolicyKind.SCP, "rcp": PolicyKind.RCP}
        if policy_type not in kinds:
            raise InvalidRequestError(f'policy type must be "scp" or "rcp", got {policy_type!r}', field="type")
        key = f"org-policy/{policy_type}/{name}"
        if key in self.graph:
            raise ConflictError(f"{policy_type.upper()} {name} already exists", field="name")
        parsed = self._parse(document, kind=kinds[policy_type], source=f"{policy_type.upper()} {name}")
        self._policy_node(key, NodeKind.ORG_POLICY, name, f"{policy_type}/{name}", parsed, provenance, policy_type=policy_type, description=description)
        self._changed()
        return key

    def attach_org_policy(self, policy: str, target: str, *, provenance: str = "mutation") -> tuple[str, str]:
        policy_key = policy if policy in self.graph else next(
            (k for t in ("scp", "rcp") for k in [f"org-policy/{t}/{policy}"] if k in self.graph), None
        )
        if policy_key is None or self.kind_of(policy_key) is not NodeKind.ORG_POLICY:
            raise NotFoundError("SCP or RCP", policy, field="policy")
        target_key = self._org_target(target, "target")
        if not self.graph.has_edge(target_key, policy_key, key=EdgeKind.GOVERNED_BY_ORG.value):
            self._edge(target_key, policy_key, EdgeKind.GOVERNED_BY_ORG, provenance)
            self._changed()
        return policy_key, target_key

    def org_chain(self, account: str) -> list[str]:
        """The levels that govern an account, root first: [root, OU..., account]; [] outside the org."""
        key = self.account_key(account)
        if key not in self.graph:
            return []
        chain = [key]
        seen = {key}
        while True:
            parent = next((p for p, _ in self.out_edges(chain[-1], EdgeKind.CHILD_OF)), None)
            if parent is None or parent in seen:
                break
            chain.append(parent)
            seen.add(parent)
        if self.kind_of(chain[-1]) is not NodeKind.ORG_ROOT:
            return []
        return list(reversed(chain))

    def org_policies(self, level: str, policy_type: str) -> list[str]:
        return sorted(
            p for p, _ in self.out_edges(level, EdgeKind.GOVERNED_BY_ORG) if self.org_policy(p)["policy_type"] == policy_type
        )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
