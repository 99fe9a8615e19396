"""A native world (``format: graphsim-world``), JSON or YAML, merged with the other sources.

Its documents are checked as the world will parse them (a problem refuses the import, as the
world could not load); its references (groups, attached policies, boundaries) are resolved
against every source, so a hand-written file may add queues or policies to an AWS export.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from ..arn import is_account_id
from ..policy import PolicyKind
from ..world.io import FORMAT, FORMAT_VERSION
from .merge import Merge, Origin, Reader, Ref, join_path


def is_native(source: str, data: Any) -> bool:
    return isinstance(data, Mapping) and ("format" in data or "formatVersion" in data)


def convert_native(source: str, data: Any, m: Merge) -> None:
    r = Reader(m, source)
    if data.get("format") != FORMAT:
        r.problem("format", f'must be "{FORMAT}", got {json.dumps(data.get("format"))}')
    if data.get("formatVersion") != FORMAT_VERSION:
        r.problem("formatVersion", f"must be {FORMAT_VERSION}, got {json.dumps(data.get('formatVersion'))}")
    if m.problems.get(source):
        return
    data = copy.deepcopy(data)
    m.native_names.append((str(data.get("name") or ""), str(data.get("description") or "")))
    default: str | None = None
    for i, acct in enumerate(r.list(data, "accounts", "")):
        if r.obj(acct, f"accounts[{i}]") is None:
            continue
        aid = acct.get("id")
        if not isinstance(aid, str) or not is_account_id(aid):
            r.problem(f"accounts[{i}].id", f"must be a 12-digit account id, got {json.dumps(aid)}")
            continue
        default = default or aid
        m.add_account(aid, acct.get("alias") if isinstance(acct.get("alias"), str) else None)

    for i, pol in enumerate(r.list(data, "policies", "")):
        path = f"policies[{i}]"
        if r.obj(pol, path) is None or r.string(pol, "name", path) is None:
            continue
        pol.setdefault("account", default)
        if not isinstance(pol.get("versions"), list) or not all(isinstance(v, Mapping) and "versionId" in v and "document" in v for v in pol["versions"]):
            r.problem(join_path(path, "versions"), 'must be a list of {"versionId", "document"}')
            continue
        for j, ver in enumerate(pol["versions"]):
            m.check_document(source, f"{path}.versions[{j}].document", ver["document"], PolicyKind.IDENTITY, from_aws=False)
        pol.setdefault("defaultVersionId", pol["versions"][-1]["versionId"] if pol["versions"] else None)
        m.add_policy(pol, Origin(source, path))

    for section in ("groups", "users", "roles"):
        for i, ent in enumerate(r.list(data, section, "")):
            path = f"{section}[{i}]"
            if r.obj(ent, path) is None or r.string(ent, "name", path) is None:
                continue
            if default is not None:
                ent.setdefault("account", default)
            account = ent.get("account")
            if section == "roles" and "assumeRolePolicyDocument" in ent:
                m.check_document(source, f"{path}.assumeRolePolicyDocument", ent["assumeRolePolicyDocument"], PolicyKind.TRUST, from_aws=False)
            for j, inline in enumerate(ent.get("inlinePolicies", []) or []):
                if isinstance(inline, Mapping) and "document" in inline:
                    m.check_document(source, f"{path}.inlinePolicies[{j}].document", inline["document"], PolicyKind.IDENTITY, from_aws=False)
            if section == "users":
                for j, group in enumerate(ent.get("groups", []) or []):
                    if isinstance(group, str):
                        m.refs.append(Ref(Origin(source, f"{path}.groups[{j}]"), "group", account, group))
            for j, pol_ref in enumerate(ent.get("attachedPolicies", []) or []):
                if isinstance(pol_ref, str):
                    m.refs.append(Ref(Origin(source, f"{path}.attachedPolicies[{j}]"), "policy", account, pol_ref))
            if isinstance(ent.get("permissionsBoundary"), str) and section != "groups":
                m.refs.append(Ref(Origin(source, f"{path}.permissionsBoundary"), "policy", account, ent["permissionsBoundary"]))
            m.add_principal(section, ent, Origin(source, path))

    for i, res in enumerate(r.list(data, "resources", "")):
        path = f"resources[{i}]"
        if r.obj(res, path) is None or r.string(res, "arn", path) is None:
            continue
        if default is not None:
            res.setdefault("account", default)
        if res.get("policy") is not None:
            m.check_document(source, f"{path}.policy", res["policy"], PolicyKind.RESOURCE, from_aws=False)
        m.add_resource(res, Origin(source, path))

    org = data.get("organization")
    if org is not None:
        if r.obj(org, "organization") is None:
            return
        for i, pol in enumerate(org.get("policies", []) or []):
            if isinstance(pol, Mapping) and "document" in pol and pol.get("type") in ("scp", "rcp"):
                kind = PolicyKind.SCP if pol["type"] == "scp" else PolicyKind.RCP
                m.check_document(source, f"organization.policies[{i}].document", pol["document"], kind, from_aws=False)
        if m.organization is not None:
            r.problem("organization", f"a second organization (the first came from {m.organization[1].source}): a world has one")
            return
        m.organization = (dict(org), Origin(source, "organization"))
