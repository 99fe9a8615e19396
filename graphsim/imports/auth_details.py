"""``aws iam get-account-authorization-details`` output, as the AWS CLI prints it (documents as
JSON objects) or as the raw API returns it (documents as URL-encoded JSON strings).

The account comes from the ARNs; AWS-managed policies (``arn:aws:iam::aws:policy/...``) go to
the native account ``"aws"``. Several pages of one export (``IsTruncated``/``Marker``) may be
given as separate sources. An attachment must name a policy some source provides; for a few
common AWS-managed policies (``BUILTIN_AWS_MANAGED``) graphsim ships the document.
D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..arn import iam_arn
from ..policy import PolicyKind
from ..world.graph import AWS_MANAGED_ACCOUNT
from .merge import Merge, Origin, Reader, Ref, iam_entity, join_path, version_number

DETAIL_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_ENTITY = {
    "UserDetailList": ("users", "user", "UserName", "UserId", "UserPolicyList"),
    "GroupDetailList": ("groups", "group", "GroupName", "GroupId", "GroupPolicyList"),
    "RoleDetailList": ("roles", "role", "RoleName", "RoleId", "RolePolicyList"),
}


def is_auth_details(source: str, data: Any) -> bool:
    return isinstance(data, Mapping) and any(k in data for k in DETAIL_KEYS)


def convert_auth_details(source: str, data: Any, m: Merge) -> None:
    r = Reader(m, source)
    accounts: dict[str, str] = {}  # account -> first path that named it

    def arn_of(obj: Mapping[str, Any], path: str, kind: str, name: str | None, given_path: str | None) -> tuple[str, str] | None:
        """(account, path) from an entity's Arn, checked against its name and Path."""
        arn = r.string(obj, "Arn", path)
        if arn is None:
            return None
        entity = iam_entity(arn)
        if entity is None or entity.kind != kind:
            r.problem(join_path(path, "Arn"), f"not an IAM {kind} ARN (arn:aws:iam::ACCOUNT:{kind}/PATH/NAME): {arn!r}")
            return None
        if entity.partition != "aws":
            r.problem(join_path(path, "Arn"), f"partition {entity.partition!r}: graphsim models the aws partition only")
            return None
        if name is not None and entity.name != name:
            r.problem(join_path(path, "Arn"), f"ARN names {entity.name!r}, but the entry is {name!r}")
            return None
        if given_path is not None and given_path != entity.path:
            r.problem(join_path(path, "Path"), f"{given_path!r} does not match the ARN's path {entity.path!r}")
            return None
        account = entity.account
        if account != AWS_MANAGED_ACCOUNT:
            first = next(iter(accounts.items()), None)
            if first is not None and first[0] != account:
                r.problem(join_path(path, "Arn"), f"account {account}, but this export is of account {first[0]} ({first[1]}): one file per account")
                return None
            accounts.setdefault(account, join_path(path, "Arn"))
        return account, entity.path

    if data.get("IsTruncated") is True:
        m.finding(source, "IsTruncated", "this is one page of a truncated export (Marker is set): import every page, or run the AWS CLI, "
                  "which fetches all pages", "warning")

    # Managed policies first: attachments refer to them.
    def reject(value: Any, prefix: str = "") -> None:
        if isinstance(value, str) and value:
            m.rejected.add(prefix + value.lower() if prefix else value)

    for i, pol in enumerate(r.list(data, "Policies", "")):
        path = f"Policies[{i}]"
        if r.obj(pol, path) is None:
            continue
        reject(pol.get("Arn"))  # withdrawn below once the policy is accepted
        name = r.string(pol, "PolicyName", path)
        where = arn_of(pol, path, "policy", name, pol.get("Path"))
        if name is None or where is None:
            continue
        account, ppath = where
        # An AWS-managed policy already imported from another account's export: its versions
        # were checked there (findings once, not once per account).
        known = m.policies.get(iam_arn(account, "policy", name, ppath)) if account == AWS_MANAGED_ACCOUNT else None
        known_docs = {v["versionId"]: v["document"] for v in known[0]["versions"]} if known else {}
        versions: list[dict[str, Any]] = []
        default = pol.get("DefaultVersionId")
        flagged: list[str] = []
        listed = r.list(pol, "PolicyVersionList", path, required=True)
        for j, ver in enumerate(listed):
            vpath = f"{path}.PolicyVersionList[{j}]"
            if r.obj(ver, vpath) is None:
                continue
            vid = r.string(ver, "VersionId", vpath)
            if "Document" not in ver:
                r.problem(join_path(vpath, "Document"), "is required")
                continue
            doc = r.document(ver["Document"], join_path(vpath, "Document"), PolicyKind.IDENTITY, check=False)
            if vid is None or doc is None:
                continue
            if known_docs.get(vid) != doc:
                m.check_document(source, join_path(vpath, "Document"), doc, PolicyKind.IDENTITY)
            if any(v["versionId"] == vid for v in versions):
                r.problem(join_path(vpath, "VersionId"), f"duplicate version {vid}")
                continue
            if ver.get("IsDefaultVersion") is True:
                flagged.append(vid)
            entry_v: dict[str, Any] = {"versionId": vid, "document": doc}
            if isinstance(ver.get("CreateDate"), str):
                entry_v["createDate"] = ver["CreateDate"]
            versions.append(entry_v)
        if not versions:
            if "PolicyVersionList" in pol and not listed:
                r.problem(join_path(path, "PolicyVersionList"), "holds no version: the policy document is missing")
            continue
        if default is None:
            default = flagged[0] if flagged else None
        if default is None:
            r.problem(join_path(path, "DefaultVersionId"), "is required (or a version with IsDefaultVersion true)")
            continue
        if default not in {v["versionId"] for v in versions}:
            r.problem(join_path(path, "DefaultVersionId"), f"{default!r} is not among the versions in PolicyVersionList")
            continue
        if flagged and flagged != [default]:
            r.problem(join_path(path, "DefaultVersionId"), f"{default!r}, but IsDefaultVersion is true on {', '.join(flagged)}")
            continue
        entry: dict[str, Any] = {
            "name": name, "account": account, "path": ppath,
            "description": pol.get("Description", "") if isinstance(pol.get("Description", ""), str) else "",
            "defaultVersionId": default,
            "versions": sorted(versions, key=lambda v: version_number(v["versionId"])),
        }
        m.rejected.discard(pol["Arn"])
        m.add_policy(entry, Origin(source, path))

    for list_key, (section, kind, name_key, id_key, inline_key) in _ENTITY.items():
        for i, ent in enumerate(r.list(data, list_key, "")):
            path = f"{list_key}[{i}]"
            if r.obj(ent, path) is None:
                continue
            if kind == "group":
                reject(ent.get(name_key), "group:")  # withdrawn below once the group is accepted
            name = r.string(ent, name_key, path)
            where = arn_of(ent, path, kind, name, ent.get("Path"))
            if name is None or where is None:
                continue
            account, epath = where
            if account == AWS_MANAGED_ACCOUNT:
                r.problem(join_path(path, "Arn"), f"a {kind} belongs to a 12-digit account, not to 'aws'")
                continue
            if kind == "group" and len(name) > 64:
                m.finding(source, join_path(path, name_key), f"group name of {len(name)} characters: AWS allows 128, graphsim 64; the world will not load", "error")
            out: dict[str, Any] = {"name": name, "account": account, "path": epath}
            if isinstance(ent.get(id_key), str):
                out["id"] = ent[id_key]
            if kind == "role":
                if "AssumeRolePolicyDocument" not in ent:
                    r.problem(join_path(path, "AssumeRolePolicyDocument"), "is required for a role")
                    continue
                trust = r.document(ent["AssumeRolePolicyDocument"], join_path(path, "AssumeRolePolicyDocument"), PolicyKind.TRUST)
                if trust is None:
                    continue
                out["assumeRolePolicyDocument"] = trust
                if isinstance(ent.get("Description"), str):
                    out["description"] = ent["Description"]
            if kind != "group":
                tags = r.tags(ent, path)
                if tags:
                    out["tags"] = tags
            if kind == "user":
                groups = []
                for j, group in enumerate(r.list(ent, "GroupList", path)):
                    gpath = f"{path}.GroupList[{j}]"
                    if not isinstance(group, str) or not group:
                        r.problem(gpath, "must be a group name")
                        continue
                    groups.append(group)
                    m.refs.append(Ref(Origin(source, gpath), "group", account, group))
                out["groups"] = groups
            attached = []
            for j, att in enumerate(r.list(ent, "AttachedManagedPolicies", path)):
                apath = f"{path}.AttachedManagedPolicies[{j}]"
                if r.obj(att, apath) is None:
                    continue
                pol_arn = r.string(att, "PolicyArn", apath)
                if pol_arn is None:
                    continue
                if pol_arn in attached:
                    continue
                attached.append(pol_arn)
                m.refs.append(Ref(Origin(source, join_path(apath, "PolicyArn")), "policy", account, pol_arn))
            out["attachedPolicies"] = attached
            inline: list[dict[str, Any]] = []
            for j, pol in enumerate(r.list(ent, inline_key, path)):
                ipath = f"{path}.{inline_key}[{j}]"
                if r.obj(pol, ipath) is None:
                    continue
                pname = r.string(pol, "PolicyName", ipath)
                if "PolicyDocument" not in pol:
                    r.problem(join_path(ipath, "PolicyDocument"), "is required")
                    continue
                doc = r.document(pol["PolicyDocument"], join_path(ipath, "PolicyDocument"), PolicyKind.IDENTITY)
                if pname is None or doc is None:
                    continue
                if any(p["name"] == pname for p in inline):
                    r.problem(join_path(ipath, "PolicyName"), f"duplicate inline policy {pname!r} on {kind} {name}")
                    continue
                inline.append({"name": pname, "document": doc})
            out["inlinePolicies"] = inline
            boundary = ent.get("PermissionsBoundary")
            if boundary is not None and kind != "group":
                bpath = join_path(path, "PermissionsBoundary")
                if r.obj(boundary, bpath) is not None:
                    barn = r.string(boundary, "PermissionsBoundaryArn", bpath)
                    if barn is not None:
                        out["permissionsBoundary"] = barn
                        m.refs.append(Ref(Origin(source, join_path(bpath, "PermissionsBoundaryArn")), "policy", account, barn))
            if kind == "group":
                m.rejected.discard(f"group:{name.lower()}")
            m.add_principal(section, out, Origin(source, path))

    for account in accounts:
        m.add_account(account)
