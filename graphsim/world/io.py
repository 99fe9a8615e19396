"""The native world file: read it into a ``World`` and write a ``World`` back out.

Files are read by ``graphsim.imports`` (the one JSON/YAML reader); this module turns the parsed
dict into a fresh ``World``, returned only when every entry was accepted (each error names the
JSON path of the bad entry), and back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ..bulk import bulk
from ..errors import GraphsimError, PolicyValidationError, Problem, problem_list
from .graph import AWS_MANAGED_ACCOUNT, PolicyParser, World, parse_with_catalog
from .model import EdgeKind, NodeKind
from .nodes import PrincipalNode

FORMAT = "graphsim-world"
FORMAT_VERSION = 1
DEMO_WORLD = "final-friday"


class WorldFileError(GraphsimError):
    """A world file could not be loaded; ``problems`` lists each bad entry with its JSON path."""

    code = "INVALID_WORLD"

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + problem_list([str(p) for p in problems]))

    def extensions(self) -> dict[str, object]:
        ext = super().extensions()
        ext["problems"] = [{"path": p.path, "rule": p.rule} for p in self.problems]
        return ext


def world_from_dict(data: Any, *, source: str = "world file", name: str | None = None, parse: PolicyParser = parse_with_catalog) -> World:
    """Build a world from the native format; raises ``WorldFileError`` listing every problem.
    ``parse`` is the world's policy parser (an import passes one that knows what it parsed)."""
    with bulk():
        return _world_from_dict(data, source=source, name=name, parse=parse)


def _world_from_dict(data: Any, *, source: str, name: str | None, parse: PolicyParser) -> World:
    problems: list[Problem] = []
    if not isinstance(data, Mapping):
        raise WorldFileError(source, [Problem("", "a world file must be a JSON object")])
    if data.get("format") != FORMAT:
        problems.append(Problem("format", f'must be "{FORMAT}", got {json.dumps(data.get("format"))}'))
    if data.get("formatVersion") != FORMAT_VERSION:
        problems.append(Problem("formatVersion", f"must be {FORMAT_VERSION}, got {json.dumps(data.get('formatVersion'))}"))
    if problems:
        raise WorldFileError(source, problems)

    world = World(name or str(data.get("name") or "world"), parse=parse)
    world.description = str(data.get("description", ""))
    provenance = f"world file {source}"

    def attempt(path: str, action: Any) -> Any:
        try:
            return action()
        except PolicyValidationError as exc:
            problems.extend(Problem(f"{path}.{p.path}".rstrip("."), p.rule) for p in exc.problems)
        except GraphsimError as exc:
            problems.append(Problem(path, exc.message))
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(Problem(path, f"malformed entry ({type(exc).__name__}: {exc})"))
        return None

    for i, acct in enumerate(_list(data, "accounts", problems)):
        attempt(f"accounts[{i}]", lambda acct=acct: world.add_account(str(acct["id"]), alias=acct.get("alias"), provenance=provenance))
    default_account = world.default_account or ""

    for i, pol in enumerate(_list(data, "policies", problems)):
        def add_policy(pol: Mapping[str, Any] = pol, i: int = i) -> str:
            versions = [(v["versionId"], v["document"], v.get("createDate")) for v in pol["versions"]]
            return world.add_managed_policy(
                pol["name"], versions[-1][1], account=pol.get("account", default_account), path=pol.get("path", "/"),
                description=pol.get("description", ""), versions=versions, default_version=pol.get("defaultVersionId"),
                provenance=provenance,
            )
        attempt(f"policies[{i}]", add_policy)

    for section, kind in (("groups", NodeKind.GROUP), ("users", NodeKind.USER), ("roles", NodeKind.ROLE)):
        for i, ent in enumerate(_list(data, section, problems)):
            path = f"{section}[{i}]"
            common = {"account": ent.get("account"), "path": ent.get("path", "/"), "unique_id": ent.get("id"), "provenance": provenance} if isinstance(ent, Mapping) else {}
            if kind is NodeKind.GROUP:
                key = attempt(path, lambda ent=ent, common=common: world.add_group(ent["name"], **common))
            elif kind is NodeKind.USER:
                key = attempt(path, lambda ent=ent, common=common: world.add_user(ent["name"], tags=ent.get("tags"), **common))
            else:
                key = attempt(path, lambda ent=ent, common=common: world.add_role(ent["name"], ent["assumeRolePolicyDocument"], tags=ent.get("tags"), description=ent.get("description", ""), **common))
            if key is None:
                continue
            for j, group in enumerate(ent.get("groups", []) if kind is NodeKind.USER else []):
                attempt(f"{path}.groups[{j}]", lambda key=key, group=group: world.add_member(key, group, provenance=provenance))
            for j, pol_arn in enumerate(ent.get("attachedPolicies", [])):
                attempt(f"{path}.attachedPolicies[{j}]", lambda key=key, pol_arn=pol_arn, kind=kind: world.attach_policy(kind, key, pol_arn, provenance=provenance))
            for j, inline in enumerate(ent.get("inlinePolicies", [])):
                attempt(f"{path}.inlinePolicies[{j}]", lambda key=key, inline=inline, kind=kind: world.put_inline_policy(kind, key, inline["name"], inline["document"], provenance=provenance))
            if ent.get("permissionsBoundary") and kind is not NodeKind.GROUP:
                attempt(f"{path}.permissionsBoundary", lambda key=key, ent=ent, kind=kind: world.set_boundary(kind, key, ent["permissionsBoundary"], provenance=provenance))

    for i, res in enumerate(_list(data, "resources", problems)):
        attempt(f"resources[{i}]", lambda res=res: world.add_resource(res["arn"], resource_type=res["type"], account=res.get("account"), tags=res.get("tags"), provenance=provenance))
        if isinstance(res, Mapping) and res.get("policy") is not None:
            attempt(f"resources[{i}].policy", lambda res=res: world.put_resource_policy(res["arn"], res["policy"], provenance=provenance))

    org = data.get("organization")
    if org is not None:
        _load_organization(world, org, attempt, provenance)

    if problems:
        raise WorldFileError(source, problems)
    return world


def _load_organization(world: World, org: Any, attempt: Any, provenance: str) -> None:
    """``organization``: management account, OUs (with parent), account placements, and SCPs
    and RCPs with the targets they are attached to."""
    create = lambda: world.create_organization(  # noqa: E731
        org["managementAccount"], root_id=org.get("rootId", "r-root"), org_id=org.get("id", "o-graphsim"), provenance=provenance
    )
    if attempt("organization", create) is None:
        return
    ous = org.get("organizationalUnits", [])
    for i in _parents_first(ous, org.get("rootId", "r-root")) if isinstance(ous, list) else ():
        attempt(f"organization.organizationalUnits[{i}]", lambda ou=ous[i]: world.add_ou(ou["name"], ou["parent"], ou_id=ou.get("id"), provenance=provenance))
    for i, placement in enumerate(org.get("accounts", [])):
        attempt(f"organization.accounts[{i}]", lambda p=placement: world.place_account(p["id"], p["parent"], provenance=provenance))
    for i, policy in enumerate(org.get("policies", [])):
        path = f"organization.policies[{i}]"
        key = attempt(path, lambda p=policy: world.add_org_policy(p["name"], p["type"], p["document"], description=p.get("description", ""), provenance=provenance))
        if key is None:
            continue
        for j, target in enumerate(policy.get("targets", [])):
            attempt(f"{path}.targets[{j}]", lambda key=key, target=target: world.attach_org_policy(key, target, provenance=provenance))


def _parents_first(ous: list[Any], root_id: Any) -> list[int]:
    """The indices of the OU entries, each after the entry of its parent: a file (or a snapshot
    written before the order was kept) may list a child before its parent. An entry whose parent
    is the root, or no entry of the list, comes first; entries in a cycle come last, and fail to
    load naming the parent they lack."""
    by_id: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}
    for i, ou in enumerate(ous):
        if isinstance(ou, Mapping) and isinstance(ou.get("name"), str):
            ou_id = ou.get("id") or ou["name"]
            if isinstance(ou_id, str):
                by_id.setdefault(ou_id, i)
            by_name.setdefault(ou["name"], []).append(i)
    children: dict[int, list[int]] = {}
    order: list[int] = []
    for i, ou in enumerate(ous):
        parent = ou.get("parent") if isinstance(ou, Mapping) else None
        # As World.add_ou resolves a parent: the root's id, then an OU id, then a unique OU name.
        if not isinstance(parent, str) or parent == root_id:
            order.append(i)
            continue
        named = by_name.get(parent, [])
        j = by_id.get(parent, named[0] if len(named) == 1 else None)
        if j is None or j == i:
            order.append(i)
        else:
            children.setdefault(j, []).append(i)
    k = 0
    while k < len(order):
        order.extend(children.pop(order[k], []))
        k += 1
    order.extend(sorted(i for kids in children.values() for i in kids))
    return order


def _dump_organization(world: World) -> dict[str, Any] | None:
    root = world.org_root
    if root is None:
        return None
    ous = []
    # Parents before children (breadth first from the root), so the file loads in one pass.
    below: dict[str, list[str]] = {}
    for key, _ in world.nodes_of(NodeKind.OU):
        parent = next(p for p, _ in world.out_edges(key, EdgeKind.CHILD_OF))
        below.setdefault(parent, []).append(key)
    level = [root]
    while level:
        level = sorted(child for parent in level for child in below.get(parent, []))
        for key in level:
            data = world.ou_node(key)
            parent = next(p for p, _ in world.out_edges(key, EdgeKind.CHILD_OF))
            ous.append({"id": data["ou_id"], "name": data["name"], "parent": world.name_of(parent) if parent == root else parent.split("/", 1)[1]})
    accounts = []
    for key, _ in sorted(world.nodes_of(NodeKind.ACCOUNT)):
        placed = next((p for p, _ in world.out_edges(key, EdgeKind.CHILD_OF)), None)
        if placed is not None:
            accounts.append({"id": world.account_of(key), "parent": world.name_of(placed) if placed == root else placed.split("/", 1)[1]})
    policies = []
    for key, _ in sorted(world.nodes_of(NodeKind.ORG_POLICY)):
        org_policy = world.org_policy(key)
        targets = []
        for target, _ in sorted(world.in_edges(key, EdgeKind.GOVERNED_BY_ORG)):
            kind = world.kind_of(target)
            targets.append(world.account_of(target) if kind is NodeKind.ACCOUNT else world.name_of(target) if target == root else target.split("/", 1)[1])
        policies.append({"name": org_policy["name"], "type": org_policy["policy_type"], "description": org_policy["description"], "document": org_policy["document"].raw, "targets": targets})
    rdata = world.org_root_node(root)
    return {
        "id": rdata["org_id"], "managementAccount": rdata["management_account"], "rootId": rdata["name"],
        "organizationalUnits": ous, "accounts": accounts, "policies": policies,
    }


def _list(data: Mapping[str, Any], key: str, problems: list[Problem]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        problems.append(Problem(key, "must be a list"))
        return []
    return value


def load_demo_world() -> World:
    """The built-in ``final-friday`` world, shipped as a world file inside the package."""
    text = resources.files("graphsim.data").joinpath(f"{DEMO_WORLD}.json").read_text(encoding="utf-8")
    return world_from_dict(json.loads(text), source=f"{DEMO_WORLD}.json (built in)")


def world_to_dict(world: World) -> dict[str, Any]:
    """The native format; ``world_from_dict(world_to_dict(w))`` rebuilds the same graph."""

    def attached(key: str) -> list[str]:
        return sorted(t for t, _ in world.out_edges(key, EdgeKind.ATTACHED))

    def inline(key: str) -> list[dict[str, Any]]:
        return [{"name": world.name_of(t), "document": world.owned_policy(t)["document"].raw} for t, _ in sorted(world.out_edges(key, EdgeKind.INLINE))]

    def principal(key: str, data: PrincipalNode) -> dict[str, Any]:
        out: dict[str, Any] = {"name": data["name"], "account": data["account"], "path": data["path"], "id": data["unique_id"]}
        if data["tags"]:
            out["tags"] = dict(data["tags"])
        return out

    users = []
    for key, data in sorted(world.principals_of(NodeKind.USER)):
        entry = principal(key, data)
        entry["groups"] = sorted(world.name_of(t) for t, _ in world.out_edges(key, EdgeKind.MEMBER_OF))
        entry["attachedPolicies"] = attached(key)
        entry["inlinePolicies"] = inline(key)
        if world.boundary_of(key):
            entry["permissionsBoundary"] = world.boundary_of(key)
        users.append(entry)
    groups = []
    for key, data in sorted(world.principals_of(NodeKind.GROUP)):
        entry = principal(key, data)
        entry.pop("tags", None)
        entry["attachedPolicies"] = attached(key)
        entry["inlinePolicies"] = inline(key)
        groups.append(entry)
    roles = []
    for key, data in sorted(world.principals_of(NodeKind.ROLE)):
        entry = principal(key, data)
        entry["description"] = data.get("description", "")
        entry["assumeRolePolicyDocument"] = world.trust_policy(key)[1].raw
        entry["attachedPolicies"] = attached(key)
        entry["inlinePolicies"] = inline(key)
        if world.boundary_of(key):
            entry["permissionsBoundary"] = world.boundary_of(key)
        roles.append(entry)
    policies = []
    for key, _ in sorted(world.nodes_of(NodeKind.POLICY)):
        policy_node = world.managed_policy(key)
        default = next(v["versionId"] for v in policy_node["versions"] if v["isDefault"])
        policies.append({
            "name": policy_node["name"],
            "account": policy_node["account"],
            "path": policy_node["path"],
            "description": policy_node["description"],
            "defaultVersionId": default,
            "versions": [{"versionId": v["versionId"], "createDate": v["createDate"], "document": v["document"].raw} for v in policy_node["versions"]],
        })
    resources_out = []
    for key, _ in sorted(world.nodes_of(NodeKind.RESOURCE)):
        rnode = world.resource_node(key)
        entry = {"arn": key, "type": rnode["resource_type"], "account": rnode["account"]}
        if rnode["tags"]:
            entry["tags"] = dict(rnode["tags"])
        policy = world.resource_policy(key)
        if policy is not None:
            entry["policy"] = world.owned_policy(policy)["document"].raw
        resources_out.append(entry)
    account_nodes = [world.account_node(key) for key, _ in sorted(world.nodes_of(NodeKind.ACCOUNT))]
    accounts = [{"id": d["account"], **({"alias": d["alias"]} if d["alias"] else {})} for d in account_nodes]
    return {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "name": world.name,
        "description": world.description,
        "accounts": accounts,
        "policies": policies,
        "groups": groups,
        "users": users,
        "roles": roles,
        "resources": resources_out,
        **({"organization": org} if (org := _dump_organization(world)) is not None else {}),
    }


__all__ = ["AWS_MANAGED_ACCOUNT", "DEMO_WORLD", "WorldFileError", "load_demo_world", "world_from_dict", "world_to_dict"]
