"""AWS Organizations, as the ``aws organizations`` commands print them, gathered in one folder
(``load_source_file`` reads a folder into ``{file name: parsed JSON}``).

``describe-organization.json``, ``list-roots.json``,
``list-organizational-units-for-parent-<parentId>.json``,
``list-accounts-for-parent-<parentId>.json``,
``list-policies-for-target-<targetId>-<FILTER>.json`` (FILTER ``SERVICE_CONTROL_POLICY`` or
``RESOURCE_CONTROL_POLICY``) and ``describe-policy-<policyId>.json``. AWS's ``FullAWSAccess``
and ``RCPFullAWSAccess`` need no describe-policy file. Accounts of the organization that no IAM
export names are added to the world.
D: https://docs.aws.amazon.com/cli/latest/reference/organizations/
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from ..arn import is_account_id
from ..policy import PolicyKind
from .merge import ALLOW_ALL, Merge, Origin, Reader, join_path

_OU_FILE = re.compile(r"^list-organizational-units-for-parent-(?P<parent>.+)\.json$")
_ACCOUNTS_FILE = re.compile(r"^list-accounts-for-parent-(?P<parent>.+)\.json$")
_TARGET_FILE = re.compile(r"^list-policies-for-target-(?P<target>r-[0-9a-z]+|ou-[0-9a-z]+-[0-9a-z]+|\d{12})-(?P<filter>[A-Z0-9_]+)\.json$")
_DESCRIBE_FILE = re.compile(r"^describe-policy-(?P<id>.+)\.json$")
_ORG_FILES = ("describe-organization.json", "list-roots.json")
ORG_FOLDER_MARKERS = _ORG_FILES  # a folder holding one of these is an organizations export

# AWS's own organization policies, attached everywhere by default; their describe-policy files
# are optional. D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
# D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
_BUILTIN_ORG_POLICIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "p-FullAWSAccess": ("FullAWSAccess", "scp", {"Version": "2012-10-17", "Statement": [ALLOW_ALL]}),
    "p-RCPFullAWSAccess": ("RCPFullAWSAccess", "rcp", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
}
_ORG_POLICY_TYPES = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}


def is_org_folder(source: str, data: Any) -> bool:
    """A folder read by ``load_source_file``: {file name: parsed JSON}, with organizations files."""
    patterns = (_OU_FILE, _ACCOUNTS_FILE, _TARGET_FILE, _DESCRIBE_FILE)
    return isinstance(data, Mapping) and any(
        isinstance(f, str) and (f in _ORG_FILES or any(p.match(f) for p in patterns)) for f in data
    )


def convert_org_folder(source: str, data: Any, m: Merge) -> None:
    folder = source.rstrip("/")

    def reader(file: str) -> Reader:
        return Reader(m, f"{folder}/{file}")

    for required in _ORG_FILES:
        if required not in data:
            m.problem(folder, "", f"{required} is missing from the folder (aws organizations {required[:-5]} > {required})")
    if any(f not in data for f in _ORG_FILES):
        return

    r = reader("describe-organization.json")
    org_obj = r.obj(data["describe-organization.json"], "")
    organization = r.obj(org_obj.get("Organization"), "Organization") if org_obj is not None else None
    management = None
    org_id = organization.get("Id") if organization is not None else None
    if organization is not None:
        key = "MasterAccountId" if "MasterAccountId" in organization else "ManagementAccountId"
        management = r.string(organization, key, "Organization")
        if management is not None and not is_account_id(management):
            r.problem(f"Organization.{key}", f"must be a 12-digit account id, got {management!r}")
            management = None

    r = reader("list-roots.json")
    roots_obj = r.obj(data["list-roots.json"], "")
    roots = r.list(roots_obj, "Roots", "", required=True) if roots_obj is not None else []
    root_id = None
    if len(roots) != 1:
        if roots_obj is not None:
            r.problem("Roots", f"an organization has exactly one root, got {len(roots)}")
    elif r.obj(roots[0], "Roots[0]") is not None:
        root_id = r.string(roots[0], "Id", "Roots[0]")
    if management is None or root_id is None:
        return

    used = {"describe-organization.json", "list-roots.json"}
    ous: list[dict[str, Any]] = []
    placements: list[dict[str, Any]] = []
    levels = {root_id}
    placed: dict[str, str] = {}
    queue = [root_id]
    while queue:
        parent = queue.pop(0)
        file = f"list-organizational-units-for-parent-{parent}.json"
        if file in data:
            used.add(file)
            r = reader(file)
            body = r.obj(data[file], "")
            for i, ou in enumerate(r.list(body, "OrganizationalUnits", "", required=True) if body is not None else []):
                path = f"OrganizationalUnits[{i}]"
                if r.obj(ou, path) is None:
                    continue
                ou_id, name = r.string(ou, "Id", path), r.string(ou, "Name", path)
                if ou_id is None or name is None:
                    continue
                if ou_id in levels:
                    r.problem(join_path(path, "Id"), f"OU {ou_id} is listed twice")
                    continue
                levels.add(ou_id)
                ous.append({"id": ou_id, "name": name, "parent": parent})
                queue.append(ou_id)
        file = f"list-accounts-for-parent-{parent}.json"
        if file in data:
            used.add(file)
            r = reader(file)
            body = r.obj(data[file], "")
            for i, acct in enumerate(r.list(body, "Accounts", "", required=True) if body is not None else []):
                path = f"Accounts[{i}]"
                if r.obj(acct, path) is None:
                    continue
                account = r.string(acct, "Id", path)
                if account is None:
                    continue
                if not is_account_id(account):
                    r.problem(join_path(path, "Id"), f"must be a 12-digit account id, got {account!r}")
                    continue
                if account in placed:
                    r.problem(join_path(path, "Id"), f"account {account} is already placed under {placed[account]}")
                    continue
                placed[account] = parent
                name = acct.get("Name") if isinstance(acct.get("Name"), str) else None
                m.add_account(account, name)
                placements.append({"id": account, "parent": parent})
    m.add_account(management)

    # Organization policies: what each target lists, and each policy's content.
    described: dict[str, tuple[str, str, str, dict[str, Any], str]] = {}  # id -> (name, type, description, doc, file)
    for file in sorted(data):
        match = _DESCRIBE_FILE.match(file)
        if match is None:
            continue
        used.add(file)
        r = reader(file)
        body = r.obj(data[file], "")
        policy = r.obj(body.get("Policy"), "Policy") if body is not None else None
        summary = r.obj(policy.get("PolicySummary"), "Policy.PolicySummary") if policy is not None else None
        if policy is None or summary is None:
            continue
        pid = r.string(summary, "Id", "Policy.PolicySummary")
        name = r.string(summary, "Name", "Policy.PolicySummary")
        ptype = r.string(summary, "Type", "Policy.PolicySummary")
        if pid is None or name is None or ptype is None:
            continue
        if pid != match["id"]:
            r.problem("Policy.PolicySummary.Id", f"{pid!r}, but the file is named for {match['id']!r}")
            continue
        if ptype not in _ORG_POLICY_TYPES:
            m.finding(r.source, "Policy.PolicySummary.Type", f"{ptype} policies do not govern access; not imported", "info")
            continue
        if "Content" not in policy:
            r.problem("Policy.Content", "is required")
            continue
        kind = PolicyKind.SCP if _ORG_POLICY_TYPES[ptype] == "scp" else PolicyKind.RCP
        doc = r.document(policy["Content"], "Policy.Content", kind)
        if doc is None:
            continue
        description = summary.get("Description", "") if isinstance(summary.get("Description", ""), str) else ""
        described[pid] = (name, _ORG_POLICY_TYPES[ptype], description, doc, r.source)

    targets: dict[str, list[str]] = {}
    for file in sorted(data):
        match = _TARGET_FILE.match(file)
        if match is None:
            continue
        used.add(file)
        r = reader(file)
        target, ptype = match["target"], match["filter"]
        if ptype not in _ORG_POLICY_TYPES:
            m.finding(r.source, "", f"{ptype} policies do not govern access; not imported", "info")
            continue
        if target not in levels and target not in placed and target != management:
            r.problem("", f"target {target} is not the root, an OU or an account of the organization (per the list-* files)")
            continue
        body = r.obj(data[file], "")
        for i, pol in enumerate(r.list(body, "Policies", "", required=True) if body is not None else []):
            path = f"Policies[{i}]"
            if r.obj(pol, path) is None:
                continue
            pid = r.string(pol, "Id", path)
            if pid is None:
                continue
            if pid not in described:
                if pid in _BUILTIN_ORG_POLICIES:
                    name, btype, doc = _BUILTIN_ORG_POLICIES[pid]
                    described[pid] = (name, btype, "AWS managed", copy.deepcopy(doc), "")
                else:
                    r.problem(join_path(path, "Id"), f"no describe-policy-{pid}.json in the folder (aws organizations describe-policy --policy-id {pid})")
                    continue
            if described[pid][1] != _ORG_POLICY_TYPES[ptype]:
                r.problem(join_path(path, "Id"), f"policy {pid} is a {described[pid][1].upper()}, but this file lists {ptype}")
                continue
            if target not in targets.setdefault(pid, []):
                targets[pid].append(target)

    for file in sorted(set(data) - used):
        match_parent = _OU_FILE.match(file) or _ACCOUNTS_FILE.match(file)
        if match_parent is not None:
            parent = match_parent["parent"]
            m.problem(f"{folder}/{file}", "", f"parent {parent} is not the root or an OU reachable from root {root_id}")
        else:
            m.finding(f"{folder}/{file}", "", "not an organizations export graphsim reads; ignored", "info")

    policies = []
    names: dict[tuple[str, str], str] = {}
    for pid, (name, ptype, description, doc, file) in described.items():
        if (ptype, name) in names:
            m.problem(file or folder, "Policy.PolicySummary.Name", f"duplicate {ptype.upper()} name {name!r} (also {names[(ptype, name)]})")
            continue
        names[(ptype, name)] = pid
        policies.append({"name": name, "type": ptype, "description": description, "document": doc, "targets": targets.get(pid, [])})

    org = {"managementAccount": management, "rootId": root_id, "organizationalUnits": ous, "accounts": placements, "policies": policies}
    if isinstance(org_id, str) and org_id:
        org["id"] = org_id
    if m.organization is not None:
        m.problem(folder, "", f"a second organization (the first came from {m.organization[1].source}): a world has one")
        return
    m.organization = (org, Origin(folder, ""))
