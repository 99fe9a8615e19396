"""Importers: real AWS exports in, one native world dict out (the dict ``world_from_dict`` takes).

Pure conversion: no SQL, HTTP or GraphQL. ``load_source_file`` reads a file or folder;
``import_sources`` detects each source's format, converts it and merges all of them into one
world, so several ``get-account-authorization-details`` files (one per account) build one
multi-account world. Bad input raises ``ImportFileError`` naming the file and the JSON path of
every problem (``auth.json: UserDetailList[3].AttachedManagedPolicies[0].PolicyArn: ...``).

Formats (detected from the content, see ``IMPORTERS``):

1. ``aws iam get-account-authorization-details`` output, as the AWS CLI prints it (documents as
   JSON objects) or as the raw API returns it (documents as URL-encoded JSON strings). The
   account comes from the ARNs; AWS-managed policies (``arn:aws:iam::aws:policy/...``) go to the
   native account ``"aws"``. Several pages of one export (``IsTruncated``/``Marker``) may be
   given as separate sources. An attachment must name a policy some source provides; for a few
   common AWS-managed policies (``BUILTIN_AWS_MANAGED``) graphsim ships the document.
   D: https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html
2. Bucket policies as ``aws s3api get-bucket-policy --bucket NAME`` prints them:
   ``{"Policy": "<policy JSON as a string>"}``. The bucket name comes from the file name,
   ``<bucket>.bucket-policy.json`` or ``bucket-policy-<bucket>.json``, or from a ``"Bucket"``
   key in the file (a graphsim addition). The owning account comes from an
   ``"ExpectedBucketOwner"`` key (named after the CLI option), else from a folder of the
   source path named by a 12-digit account id (``exports/123456789012/<bucket>.bucket-policy.json``),
   else it is the world's only account.
3. AWS Organizations, as the ``aws organizations`` commands print them, gathered in one folder
   (``load_source_file`` reads a folder into ``{file name: parsed JSON}``):
   ``describe-organization.json``, ``list-roots.json``,
   ``list-organizational-units-for-parent-<parentId>.json``,
   ``list-accounts-for-parent-<parentId>.json``,
   ``list-policies-for-target-<targetId>-<FILTER>.json`` (FILTER ``SERVICE_CONTROL_POLICY`` or
   ``RESOURCE_CONTROL_POLICY``) and ``describe-policy-<policyId>.json``. AWS's
   ``FullAWSAccess`` and ``RCPFullAWSAccess`` need no describe-policy file. Accounts of the
   organization that no IAM export names are added to the world.
4. A native world (``format: graphsim-world``), JSON or YAML, merged with the others.

Documents are never altered. Each is parsed the way the world will parse it: parser warnings
(an action the AWS catalog does not know, ...) become findings, and a document AWS accepted but
graphsim's parser rejects becomes a finding of severity ``"error"``: it stays in the world
dict, and ``world_from_dict`` will reject the world until it is fixed (``ImportResult.errors``).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from ..bulk import bulk
from ..errors import PolicyValidationError, Problem
from ..imports.sources import ImportFileError, decode_document, load_source_file, parse_text
from ..policy import PolicyKind
from ..world.graph import AWS_MANAGED_ACCOUNT, parse_with_catalog
from ..world.io import FORMAT, FORMAT_VERSION

__all__ = [
    "BUILTIN_AWS_MANAGED",
    "IMPORTERS",
    "Finding",
    "ImportFileError",
    "ImportResult",
    "Importer",
    "detect_format",
    "import_sources",
    "load_source_file",
]


# ---- results and errors ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the import noticed but did not refuse: where (file, JSON path) and what.

    ``severity`` is ``"error"`` (graphsim cannot parse a document AWS accepted; the world will not
    load until it is fixed), ``"warning"`` (a parser warning, e.g. an unknown action) or
    ``"info"`` (e.g. graphsim's built-in copy of an AWS-managed policy was used)."""

    source: str
    path: str
    message: str
    severity: str = "warning"

    def __str__(self) -> str:
        where = f"{self.source}: {self.path}" if self.path else self.source
        return f"{where}: {self.message} [{self.severity}]"


@dataclass(slots=True)
class ImportResult:
    world: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Findings that keep ``world_from_dict`` from loading the world."""
        return [f for f in self.findings if f.severity == "error"]


# ---- AWS-managed policies graphsim ships ---------------------------------------------------------
# Written from AWS's published documents (AWS Managed Policy Reference,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/). Only small, stable ones:
# ReadOnlyAccess and PowerUserAccess are long and change often, so an export must carry them
# (real get-account-authorization-details output includes every attached AWS-managed policy).

_STMT_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
BUILTIN_AWS_MANAGED: dict[str, dict[str, Any]] = {
    # D: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
    "AdministratorAccess": {
        "path": "/", "defaultVersionId": "v1", "createDate": "2015-02-06T18:39:46Z",
        "description": "Provides full access to AWS services and resources.",
        "document": {"Version": "2012-10-17", "Statement": [_STMT_ALL]},
    },
    # D: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/IAMFullAccess.html
    "IAMFullAccess": {
        "path": "/", "defaultVersionId": "v2", "createDate": "2019-06-21T19:40:00Z",
        "description": "Provides full access to IAM via the AWS Management Console.",
        "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "iam:*", "organizations:DescribeAccount", "organizations:DescribeOrganization",
            "organizations:DescribeOrganizationalUnit", "organizations:DescribePolicy", "organizations:ListChildren",
            "organizations:ListParents", "organizations:ListPoliciesForTarget", "organizations:ListRoots",
            "organizations:ListPolicies", "organizations:ListTargetsForPolicy",
        ], "Resource": "*"}]},
    },
    # D: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonS3ReadOnlyAccess.html
    "AmazonS3ReadOnlyAccess": {
        "path": "/", "defaultVersionId": "v3", "createDate": "2023-08-10T21:31:39Z",
        "description": "Provides read only access to all buckets via the AWS Management Console.",
        "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
            "s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*",
        ], "Resource": "*"}]},
    },
    # D: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonS3FullAccess.html
    "AmazonS3FullAccess": {
        "path": "/", "defaultVersionId": "v2", "createDate": "2021-09-27T20:16:37Z",
        "description": "Provides full access to all buckets via the AWS Management Console.",
        "document": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}]},
    },
}

# AWS's own organization policies, attached everywhere by default; their describe-policy files
# are optional. D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_scps.html
# D: https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_rcps.html
_BUILTIN_ORG_POLICIES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "p-FullAWSAccess": ("FullAWSAccess", "scp", {"Version": "2012-10-17", "Statement": [_STMT_ALL]}),
    "p-RCPFullAWSAccess": ("RCPFullAWSAccess", "rcp", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}),
}
_ORG_POLICY_TYPES = {"SERVICE_CONTROL_POLICY": "scp", "RESOURCE_CONTROL_POLICY": "rcp"}

_IAM_ARN = re.compile(r"^arn:(?P<partition>aws[\w-]*):iam::(?P<account>\d{12}|aws):(?P<kind>user|group|role|policy)(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)$")
_ACCOUNT = re.compile(r"^\d{12}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_FILE = re.compile(r"^(?:(?P<a>.+)\.bucket-policy|bucket-policy-(?P<b>.+))\.json$")
_OU_FILE = re.compile(r"^list-organizational-units-for-parent-(?P<parent>.+)\.json$")
_ACCOUNTS_FILE = re.compile(r"^list-accounts-for-parent-(?P<parent>.+)\.json$")
_TARGET_FILE = re.compile(r"^list-policies-for-target-(?P<target>r-[0-9a-z]+|ou-[0-9a-z]+-[0-9a-z]+|\d{12})-(?P<filter>[A-Z0-9_]+)\.json$")
_DESCRIBE_FILE = re.compile(r"^describe-policy-(?P<id>.+)\.json$")
_ORG_FILES = ("describe-organization.json", "list-roots.json")


def _arn(account: str, kind: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def _join(base: str, sub: str) -> str:
    if not sub:
        return base
    if not base:
        return sub
    return f"{base}{sub}" if sub.startswith("[") else f"{base}.{sub}"


# ---- the merge -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Origin:
    source: str
    path: str

    def __str__(self) -> str:
        return f"{self.source} {self.path}"


@dataclass(slots=True)
class _Ref:
    origin: _Origin
    kind: str  # "policy" or "group"
    account: str | None
    target: str  # an ARN, or a name resolved within the account


class _Merge:
    """The world being built from every source, with where each entry came from."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, tuple[dict[str, Any], _Origin]] = {}
        self.principals: dict[tuple[str, str, str], tuple[dict[str, Any], _Origin]] = {}  # (section, account, lower name)
        self.resources: dict[str, tuple[dict[str, Any], _Origin]] = {}
        self.organization: tuple[dict[str, Any], _Origin] | None = None
        self.refs: list[_Ref] = []
        # Entries refused for a problem of their own: references to them are not reported again.
        self.rejected: set[str] = set()
        self.problems: dict[str, list[Problem]] = {}
        self.findings: list[Finding] = []
        self.native_names: list[tuple[str, str]] = []  # (name, description) of native sources

    # problems and findings
    def problem(self, source: str, path: str, rule: str) -> None:
        self.problems.setdefault(source, []).append(Problem(path, rule))

    def finding(self, source: str, path: str, message: str, severity: str = "warning") -> None:
        self.findings.append(Finding(source, path, message, severity))

    def check_document(self, source: str, path: str, document: Any, kind: PolicyKind, *, from_aws: bool = True) -> None:
        """Parse as the world will: warnings become findings. A document from an AWS export that
        graphsim rejects is kept and reported as an error finding (AWS accepted it); one in a
        native world file is a problem of that file."""
        try:
            parsed = parse_with_catalog(document, kind=kind, source=f"{kind.value} policy")
        except PolicyValidationError as exc:
            for p in exc.problems:
                if not from_aws:
                    self.problem(source, _join(path, p.path), p.rule)
                    continue
                self.finding(source, _join(path, p.path), f"graphsim cannot parse this {kind.value} policy, which AWS accepted: {p.rule}; "
                             "the world will not load until it is fixed", "error")
            return
        for w in parsed.warnings:
            self.finding(source, _join(path, w.path), w.rule, "warning")

    # accounts
    def add_account(self, account: str, alias: str | None = None) -> None:
        entry = self.accounts.setdefault(account, {"id": account})
        if alias and not entry.get("alias"):
            entry["alias"] = alias

    # entities
    def add_policy(self, entry: dict[str, Any], origin: _Origin, *, merge_aws_managed: bool = True) -> None:
        arn = _arn(entry["account"], "policy", entry["name"], entry.get("path", "/"))
        existing = self.policies.get(arn)
        if existing is None:
            self.policies[arn] = (entry, origin)
            return
        old, old_origin = existing
        if entry["account"] != AWS_MANAGED_ACCOUNT or not merge_aws_managed:
            self.problem(origin.source, origin.path, f"duplicate policy {arn} (also in {old_origin})")
            return
        # An AWS-managed policy appears in every account's export: the same policy, perhaps
        # exported at different times. Keep the union of its versions.
        versions = {v["versionId"]: v for v in old["versions"]}
        for j, v in enumerate(entry["versions"]):
            seen = versions.get(v["versionId"])
            if seen is None:
                versions[v["versionId"]] = v
            elif seen["document"] != v["document"]:
                self.problem(origin.source, _join(origin.path, f"PolicyVersionList[{j}].Document"),
                             f"version {v['versionId']} of {arn} differs from the same version in {old_origin.source}")
        old["versions"] = sorted(versions.values(), key=lambda v: _version_number(v["versionId"]))
        if entry["defaultVersionId"] != old["defaultVersionId"]:
            newer = max(entry["defaultVersionId"], old["defaultVersionId"], key=_version_number)
            self.finding(origin.source, origin.path, f"{arn}: default version {entry['defaultVersionId']} here, "
                         f"{old['defaultVersionId']} in {old_origin.source}; using the newer, {newer}", "info")
            old["defaultVersionId"] = newer

    def add_principal(self, section: str, entry: dict[str, Any], origin: _Origin) -> None:
        key = (section, entry.get("account") or "", str(entry.get("name", "")).lower())
        existing = self.principals.get(key)
        if existing is not None:
            # IAM names are unique per account regardless of case.
            kind = section[:-1]
            self.problem(origin.source, _join(origin.path, "name" if not origin.path.startswith(("User", "Group", "Role")) else f"{kind.capitalize()}Name"),
                         f"duplicate {kind} name {entry.get('name')!r} in account {entry.get('account')} (also at {existing[1]})")
            return
        self.principals[key] = (entry, origin)

    def add_resource(self, entry: dict[str, Any], origin: _Origin) -> None:
        existing = self.resources.get(entry["arn"])
        if existing is not None:
            old, old_origin = existing
            if old.get("policy") is None and entry.get("policy") is not None and old.get("account", entry.get("account")) == entry.get("account"):
                old["policy"] = entry["policy"]  # a native entry named the bucket; this file brings its policy
                return
            self.problem(origin.source, origin.path, f"duplicate resource {entry['arn']} (also at {old_origin})")
            return
        self.resources[entry["arn"]] = (entry, origin)

    # references
    def resolve(self) -> None:
        for ref in self.refs:
            if (f"group:{ref.target.lower()}" if ref.kind == "group" else ref.target) in self.rejected:
                continue
            if ref.kind == "group":
                if (("groups", ref.account or "", ref.target.lower())) not in self.principals:
                    self.problem(ref.origin.source, ref.origin.path, f"no group {ref.target!r} in account {ref.account} in the imported files")
                continue
            if ref.target.startswith("arn:"):
                if ref.target in self.policies:
                    continue
                m = _IAM_ARN.match(ref.target)
                if m and m["account"] == AWS_MANAGED_ACCOUNT and m["path"] == "/" and m["name"] in BUILTIN_AWS_MANAGED:
                    self._add_builtin(m["name"], ref.origin)
                    continue
                hint = ""
                if m and m["account"] == AWS_MANAGED_ACCOUNT:
                    hint = f"; graphsim ships only {', '.join(sorted(BUILTIN_AWS_MANAGED))}: export with get-account-authorization-details, which includes every attached AWS-managed policy"
                self.problem(ref.origin.source, ref.origin.path, f"no policy {ref.target} in the imported files{hint}")
            else:
                found = [a for a, (e, _) in self.policies.items() if e["name"] == ref.target and e["account"] in (ref.account, AWS_MANAGED_ACCOUNT)]
                if not found:
                    if ref.target in BUILTIN_AWS_MANAGED:
                        self._add_builtin(ref.target, ref.origin)
                    else:
                        self.problem(ref.origin.source, ref.origin.path, f"no policy named {ref.target!r} in account {ref.account} in the imported files")

    def _add_builtin(self, name: str, origin: _Origin) -> None:
        spec = BUILTIN_AWS_MANAGED[name]
        self.policies[_arn(AWS_MANAGED_ACCOUNT, "policy", name)] = ({
            "name": name, "account": AWS_MANAGED_ACCOUNT, "path": spec["path"], "description": spec["description"],
            "defaultVersionId": spec["defaultVersionId"],
            "versions": [{"versionId": spec["defaultVersionId"], "createDate": spec["createDate"], "document": copy.deepcopy(spec["document"])}],
        }, _Origin("graphsim built-in", name))
        self.finding(origin.source, origin.path, f"AWS-managed policy {name} is not in the imported files; used graphsim's built-in copy "
                     f"(version {spec['defaultVersionId']})", "info")

    def raise_problems(self, order: list[str]) -> None:
        if not self.problems:
            return
        sources = [s for s in order if s in self.problems] + [s for s in self.problems if s not in order]
        errors = [ImportFileError(s, self.problems[s]) for s in sources]
        raise ImportFileError(errors[0].source, errors[0].problems, others=errors[1:])

    def world(self, name: str | None, description: str | None, sources: list[str]) -> dict[str, Any]:
        native = self.native_names[0] if self.native_names else ("", "")
        out: dict[str, Any] = {
            "format": FORMAT,
            "formatVersion": FORMAT_VERSION,
            "name": name or native[0] or "imported",
            "description": description if description is not None else (native[1] if len(sources) == 1 and native[1] else "Imported from " + ", ".join(sources)),
            "accounts": list(self.accounts.values()),
            "policies": [e for e, _ in self.policies.values()],
            "groups": [e for (s, _, _), (e, _) in self.principals.items() if s == "groups"],
            "users": [e for (s, _, _), (e, _) in self.principals.items() if s == "users"],
            "roles": [e for (s, _, _), (e, _) in self.principals.items() if s == "roles"],
            "resources": [e for e, _ in self.resources.values()],
        }
        if self.organization is not None:
            out["organization"] = self.organization[0]
        return out


def _version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else -1


# ---- shared helpers for AWS shapes ----------------------------------------------------------------


class _Reader:
    """Typed access to one file's JSON with problems recorded by JSON path."""

    def __init__(self, merge: _Merge, source: str) -> None:
        self.m = merge
        self.source = source

    def problem(self, path: str, rule: str) -> None:
        self.m.problem(self.source, path, rule)

    def list(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> list[Any]:
        where = _join(path, key)
        if key not in obj:
            if required:
                self.problem(where, "is required")
            return []
        value = obj[key]
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(where, f"must be a list, got {type(value).__name__}")
            return []
        return value

    def string(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str | None:
        value = obj.get(key)
        if value is None:
            if required:
                self.problem(_join(path, key), "is required")
            return None
        if not isinstance(value, str) or not value:
            self.problem(_join(path, key), f"must be a non-empty string, got {json.dumps(value)}")
            return None
        return value

    def obj(self, value: Any, path: str) -> Mapping[str, Any] | None:
        if not isinstance(value, Mapping):
            self.problem(path, f"must be an object, got {type(value).__name__}")
            return None
        return value

    def document(self, value: Any, path: str, kind: PolicyKind, *, check: bool = True) -> dict[str, Any] | None:
        """A policy document as the CLI prints it (an object) or as the API returns it (URL-encoded
        JSON text); checked with graphsim's parser, problems becoming findings."""
        doc = decode_document(value)
        if doc is None:
            text = value if isinstance(value, str) else json.dumps(value)
            self.problem(path, f"not a policy document: expected a JSON object or (URL-encoded) JSON text, got {text[:60]!r}")
            return None
        if check:
            self.m.check_document(self.source, path, doc, kind)
        return doc

    def tags(self, obj: Mapping[str, Any], path: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for i, tag in enumerate(self.list(obj, "Tags", path)):
            where = _join(path, f"Tags[{i}]")
            if not isinstance(tag, Mapping) or not isinstance(tag.get("Key"), str) or not isinstance(tag.get("Value", ""), str):
                self.problem(where, 'must be {"Key": "...", "Value": "..."}')
                continue
            out[tag["Key"]] = tag.get("Value", "")
        return out


# ---- 1. get-account-authorization-details --------------------------------------------------


_DETAIL_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
_ENTITY = {
    "UserDetailList": ("users", "user", "UserName", "UserId", "UserPolicyList"),
    "GroupDetailList": ("groups", "group", "GroupName", "GroupId", "GroupPolicyList"),
    "RoleDetailList": ("roles", "role", "RoleName", "RoleId", "RolePolicyList"),
}


def _is_auth_details(source: str, data: Any) -> bool:
    return isinstance(data, Mapping) and any(k in data for k in _DETAIL_KEYS)


def _convert_auth_details(source: str, data: Any, m: _Merge) -> None:
    r = _Reader(m, source)
    accounts: dict[str, str] = {}  # account -> first path that named it

    def arn_of(obj: Mapping[str, Any], path: str, kind: str, name: str | None, given_path: str | None) -> tuple[str, str] | None:
        """(account, path) from an entity's Arn, checked against its name and Path."""
        arn = r.string(obj, "Arn", path)
        if arn is None:
            return None
        match = _IAM_ARN.match(arn)
        if match is None or match["kind"] != kind:
            r.problem(_join(path, "Arn"), f"not an IAM {kind} ARN (arn:aws:iam::ACCOUNT:{kind}/PATH/NAME): {arn!r}")
            return None
        if match["partition"] != "aws":
            r.problem(_join(path, "Arn"), f"partition {match['partition']!r}: graphsim models the aws partition only")
            return None
        if name is not None and match["name"] != name:
            r.problem(_join(path, "Arn"), f"ARN names {match['name']!r}, but the entry is {name!r}")
            return None
        if given_path is not None and given_path != match["path"]:
            r.problem(_join(path, "Path"), f"{given_path!r} does not match the ARN's path {match['path']!r}")
            return None
        account = match["account"]
        if account != AWS_MANAGED_ACCOUNT:
            first = next(iter(accounts.items()), None)
            if first is not None and first[0] != account:
                r.problem(_join(path, "Arn"), f"account {account}, but this export is of account {first[0]} ({first[1]}): one file per account")
                return None
            accounts.setdefault(account, _join(path, "Arn"))
        return account, match["path"]

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
        known = m.policies.get(_arn(account, "policy", name, ppath)) if account == AWS_MANAGED_ACCOUNT else None
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
                r.problem(_join(vpath, "Document"), "is required")
                continue
            doc = r.document(ver["Document"], _join(vpath, "Document"), PolicyKind.IDENTITY, check=False)
            if vid is None or doc is None:
                continue
            if known_docs.get(vid) != doc:
                m.check_document(source, _join(vpath, "Document"), doc, PolicyKind.IDENTITY)
            if any(v["versionId"] == vid for v in versions):
                r.problem(_join(vpath, "VersionId"), f"duplicate version {vid}")
                continue
            if ver.get("IsDefaultVersion") is True:
                flagged.append(vid)
            entry_v: dict[str, Any] = {"versionId": vid, "document": doc}
            if isinstance(ver.get("CreateDate"), str):
                entry_v["createDate"] = ver["CreateDate"]
            versions.append(entry_v)
        if not versions:
            if "PolicyVersionList" in pol and not listed:
                r.problem(_join(path, "PolicyVersionList"), "holds no version: the policy document is missing")
            continue
        if default is None:
            default = flagged[0] if flagged else None
        if default is None:
            r.problem(_join(path, "DefaultVersionId"), "is required (or a version with IsDefaultVersion true)")
            continue
        if default not in {v["versionId"] for v in versions}:
            r.problem(_join(path, "DefaultVersionId"), f"{default!r} is not among the versions in PolicyVersionList")
            continue
        if flagged and flagged != [default]:
            r.problem(_join(path, "DefaultVersionId"), f"{default!r}, but IsDefaultVersion is true on {', '.join(flagged)}")
            continue
        entry: dict[str, Any] = {
            "name": name, "account": account, "path": ppath,
            "description": pol.get("Description", "") if isinstance(pol.get("Description", ""), str) else "",
            "defaultVersionId": default,
            "versions": sorted(versions, key=lambda v: _version_number(v["versionId"])),
        }
        m.rejected.discard(pol["Arn"])
        m.add_policy(entry, _Origin(source, path))

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
                r.problem(_join(path, "Arn"), f"a {kind} belongs to a 12-digit account, not to 'aws'")
                continue
            if kind == "group" and len(name) > 64:
                m.finding(source, _join(path, name_key), f"group name of {len(name)} characters: AWS allows 128, graphsim 64; the world will not load", "error")
            out: dict[str, Any] = {"name": name, "account": account, "path": epath}
            if isinstance(ent.get(id_key), str):
                out["id"] = ent[id_key]
            if kind == "role":
                if "AssumeRolePolicyDocument" not in ent:
                    r.problem(_join(path, "AssumeRolePolicyDocument"), "is required for a role")
                    continue
                trust = r.document(ent["AssumeRolePolicyDocument"], _join(path, "AssumeRolePolicyDocument"), PolicyKind.TRUST)
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
                    m.refs.append(_Ref(_Origin(source, gpath), "group", account, group))
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
                m.refs.append(_Ref(_Origin(source, _join(apath, "PolicyArn")), "policy", account, pol_arn))
            out["attachedPolicies"] = attached
            inline: list[dict[str, Any]] = []
            for j, pol in enumerate(r.list(ent, inline_key, path)):
                ipath = f"{path}.{inline_key}[{j}]"
                if r.obj(pol, ipath) is None:
                    continue
                pname = r.string(pol, "PolicyName", ipath)
                if "PolicyDocument" not in pol:
                    r.problem(_join(ipath, "PolicyDocument"), "is required")
                    continue
                doc = r.document(pol["PolicyDocument"], _join(ipath, "PolicyDocument"), PolicyKind.IDENTITY)
                if pname is None or doc is None:
                    continue
                if any(p["name"] == pname for p in inline):
                    r.problem(_join(ipath, "PolicyName"), f"duplicate inline policy {pname!r} on {kind} {name}")
                    continue
                inline.append({"name": pname, "document": doc})
            out["inlinePolicies"] = inline
            boundary = ent.get("PermissionsBoundary")
            if boundary is not None and kind != "group":
                bpath = _join(path, "PermissionsBoundary")
                if r.obj(boundary, bpath) is not None:
                    barn = r.string(boundary, "PermissionsBoundaryArn", bpath)
                    if barn is not None:
                        out["permissionsBoundary"] = barn
                        m.refs.append(_Ref(_Origin(source, _join(bpath, "PermissionsBoundaryArn")), "policy", account, barn))
            if kind == "group":
                m.rejected.discard(f"group:{name.lower()}")
            m.add_principal(section, out, _Origin(source, path))

    for account in accounts:
        m.add_account(account)


# ---- 2. bucket policies ----------------------------------------------------------------------------


def _bucket_from_name(source: str) -> str | None:
    match = _BUCKET_FILE.match(PurePath(source).name)
    return None if match is None else (match["a"] or match["b"])


def _is_bucket_policy(source: str, data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    policy = data.get("Policy")
    if policy is not None and not any(k in data for k in _DETAIL_KEYS) and not (isinstance(policy, Mapping) and "PolicySummary" in policy):
        return True
    return "Statement" in data and _bucket_from_name(source) is not None


def _convert_bucket_policy(source: str, data: Any, m: _Merge) -> None:
    r = _Reader(m, source)
    bucket = data.get("Bucket")
    if bucket is not None and not isinstance(bucket, str):
        r.problem("Bucket", "must be a bucket name")
        return
    bucket = bucket or _bucket_from_name(source)
    if bucket is None:
        r.problem("", "cannot tell the bucket: name the file <bucket>.bucket-policy.json or bucket-policy-<bucket>.json, or add \"Bucket\"")
        return
    if not _BUCKET.match(bucket) or ".." in bucket:
        r.problem("Bucket" if "Bucket" in data else "", f"{bucket!r} is not a valid S3 bucket name")
        return
    owner = data.get("ExpectedBucketOwner")
    if owner is not None:
        if not isinstance(owner, str) or not _ACCOUNT.match(owner):
            r.problem("ExpectedBucketOwner", f"must be a 12-digit account id, got {json.dumps(owner)}")
            return
    else:
        folders = [part for part in PurePath(source).parts[:-1] if _ACCOUNT.match(part)]
        if folders:
            owner = folders[-1]
        elif len(m.accounts) == 1:
            owner = next(iter(m.accounts))
        else:
            known = ", ".join(m.accounts) or "none"
            r.problem("", f"cannot tell which account owns bucket {bucket} (the world's accounts: {known}); put the file in a folder named "
                      f"by the owner's account id (123456789012/{bucket}.bucket-policy.json) or add \"ExpectedBucketOwner\"")
            return
    if "Policy" in data:
        doc = r.document(data["Policy"], "Policy", PolicyKind.RESOURCE)
    else:
        doc = r.document(dict(data), "", PolicyKind.RESOURCE)
    if doc is None:
        return
    m.add_account(owner)
    m.add_resource({"arn": f"arn:aws:s3:::{bucket}", "type": "s3:bucket", "account": owner, "policy": doc}, _Origin(source, "Policy"))


# ---- 3. organizations folder -------------------------------------------------------------------------


def _is_org_folder(source: str, data: Any) -> bool:
    """A folder read by ``load_source_file``: {file name: parsed JSON}, with organizations files."""
    patterns = (_OU_FILE, _ACCOUNTS_FILE, _TARGET_FILE, _DESCRIBE_FILE)
    return isinstance(data, Mapping) and any(
        isinstance(f, str) and (f in _ORG_FILES or any(p.match(f) for p in patterns)) for f in data
    )


def _convert_org_folder(source: str, data: Any, m: _Merge) -> None:
    folder = source.rstrip("/")

    def reader(file: str) -> _Reader:
        return _Reader(m, f"{folder}/{file}")

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
        if management is not None and not _ACCOUNT.match(management):
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
                    r.problem(_join(path, "Id"), f"OU {ou_id} is listed twice")
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
                if not _ACCOUNT.match(account):
                    r.problem(_join(path, "Id"), f"must be a 12-digit account id, got {account!r}")
                    continue
                if account in placed:
                    r.problem(_join(path, "Id"), f"account {account} is already placed under {placed[account]}")
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
                    r.problem(_join(path, "Id"), f"no describe-policy-{pid}.json in the folder (aws organizations describe-policy --policy-id {pid})")
                    continue
            if described[pid][1] != _ORG_POLICY_TYPES[ptype]:
                r.problem(_join(path, "Id"), f"policy {pid} is a {described[pid][1].upper()}, but this file lists {ptype}")
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
    m.organization = (org, _Origin(folder, ""))


# ---- 4. native world files ---------------------------------------------------------------------------


def _is_native(source: str, data: Any) -> bool:
    return isinstance(data, Mapping) and ("format" in data or "formatVersion" in data)


def _convert_native(source: str, data: Any, m: _Merge) -> None:
    r = _Reader(m, source)
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
        if not isinstance(aid, str) or not _ACCOUNT.match(aid):
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
            r.problem(_join(path, "versions"), 'must be a list of {"versionId", "document"}')
            continue
        for j, ver in enumerate(pol["versions"]):
            m.check_document(source, f"{path}.versions[{j}].document", ver["document"], PolicyKind.IDENTITY, from_aws=False)
        pol.setdefault("defaultVersionId", pol["versions"][-1]["versionId"] if pol["versions"] else None)
        m.add_policy(pol, _Origin(source, path))

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
                        m.refs.append(_Ref(_Origin(source, f"{path}.groups[{j}]"), "group", account, group))
            for j, pol_ref in enumerate(ent.get("attachedPolicies", []) or []):
                if isinstance(pol_ref, str):
                    m.refs.append(_Ref(_Origin(source, f"{path}.attachedPolicies[{j}]"), "policy", account, pol_ref))
            if isinstance(ent.get("permissionsBoundary"), str) and section != "groups":
                m.refs.append(_Ref(_Origin(source, f"{path}.permissionsBoundary"), "policy", account, ent["permissionsBoundary"]))
            m.add_principal(section, ent, _Origin(source, path))

    for i, res in enumerate(r.list(data, "resources", "")):
        path = f"resources[{i}]"
        if r.obj(res, path) is None or r.string(res, "arn", path) is None:
            continue
        if default is not None:
            res.setdefault("account", default)
        if res.get("policy") is not None:
            m.check_document(source, f"{path}.policy", res["policy"], PolicyKind.RESOURCE, from_aws=False)
        m.add_resource(res, _Origin(source, path))

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
        m.organization = (dict(org), _Origin(source, "organization"))


# ---- the registry and the entry point -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Importer:
    """One export format: ``detect`` looks at (source name, parsed data); ``convert`` adds it to
    the world being built. Importers run by ``phase``, then in the order of the sources: IAM
    exports and native worlds first (the first account named is the world's default), then the
    organization, then bucket policies (which need to know the world's accounts)."""

    name: str
    description: str
    detect: Callable[[str, Any], bool]
    convert: Callable[[str, Any, _Merge], None]
    phase: int = 0


IMPORTERS: tuple[Importer, ...] = (
    Importer("graphsim-world", "a native world file (JSON or YAML)", _is_native, _convert_native),
    Importer("iam-authorization-details", "aws iam get-account-authorization-details", _is_auth_details, _convert_auth_details),
    Importer("organizations", "a folder of aws organizations describe-*/list-* outputs", _is_org_folder, _convert_org_folder, phase=1),
    Importer("s3-bucket-policy", "aws s3api get-bucket-policy", _is_bucket_policy, _convert_bucket_policy, phase=2),
)


def detect_format(source: str, data: object) -> Importer | None:
    """The importer for a parsed source, or None when no importer recognises it."""
    return next((imp for imp in IMPORTERS if imp.detect(source, data)), None)


def import_sources(sources: list[tuple[str, object]], *, name: str | None = None, description: str | None = None) -> ImportResult:
    with bulk():
        return _import_sources(sources, name=name, description=description)


def _import_sources(sources: list[tuple[str, object]], *, name: str | None, description: str | None) -> ImportResult:
    """Convert and merge (source name, parsed JSON) pairs into one native world dict.

    Raises ``ImportFileError`` (naming the first bad file, ``others`` the rest) for anything
    that cannot be imported: an unrecognised or malformed document, a reference to a policy or
    group no source provides, a duplicate name. Returns the world and the findings."""
    m = _Merge()
    order = [source for source, _ in sources]
    if not sources:
        raise ImportFileError("(no sources)", [Problem("", "nothing to import: give at least one file")])
    plan: list[tuple[Importer, str, object]] = []
    for source, data in sources:
        if isinstance(data, str):
            try:
                data = parse_text(source, data)
            except ImportFileError as exc:
                m.problems.setdefault(source, []).extend(exc.problems)
                continue
        importer = detect_format(source, data)
        if importer is None:
            what = type(data).__name__ if not isinstance(data, Mapping) else "an object with keys " + ", ".join(list(map(str, data))[:6])
            m.problem(source, "", f"not a recognised export (got {what}); expected one of: " + "; ".join(i.description for i in IMPORTERS))
            continue
        plan.append((importer, source, data))
    for importer, source, data in sorted(plan, key=lambda p: p[0].phase):
        try:
            importer.convert(source, data, m)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a shape no check above foresaw
            m.problem(source, "", f"malformed {importer.name} export ({type(exc).__name__}: {exc})")
    m.resolve()
    m.raise_problems(order)
    return ImportResult(m.world(name, description, order), m.findings)
