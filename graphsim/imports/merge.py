"""The world being built from every source: accounts, policies, principals, resources and the
organization, each with the file and JSON path it came from, the references between them, the
problems that refuse the import and the findings that do not.

Every importer (one module per source format) adds to one ``Merge``; ``Merge.world`` gives the
native world dict. AWS-managed policies appear in each account's export and are merged (the
union of their versions); a few common ones graphsim ships (``BUILTIN_AWS_MANAGED``) for an
attachment no file provides.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..arn import fields as arn_fields
from ..arn import iam_arn, is_account_id
from ..errors import PolicyValidationError, Problem
from ..policy import PolicyDocument, PolicyKind
from ..world.graph import AWS_MANAGED_ACCOUNT, parse_with_catalog
from ..world.io import FORMAT, FORMAT_VERSION
from .sources import ImportFileError, decode_document


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

    @property
    def kind(self) -> str:
        """What sort of finding this is, for summaries: the message's first clause with its
        particulars (quoted names, ARNs, numbers) taken out, so that 3,000 unknown actions are one
        kind (``unknown action …``)."""
        return _PARTICULARS.sub("…", self.message.split("; ")[0])


_PARTICULARS = re.compile(r"'[^']*'|\"[^\"]*\"|\barn:\S+|\b\d+\b")


# ---- AWS-managed policies graphsim ships ---------------------------------------------------------
# Written from AWS's published documents (AWS Managed Policy Reference,
# https://docs.aws.amazon.com/aws-managed-policy/latest/reference/). Only small, stable ones:
# ReadOnlyAccess and PowerUserAccess are long and change often, so an export must carry them
# (real get-account-authorization-details output includes every attached AWS-managed policy).

ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
BUILTIN_AWS_MANAGED: dict[str, dict[str, Any]] = {
    # D: https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AdministratorAccess.html
    "AdministratorAccess": {
        "path": "/", "defaultVersionId": "v1", "createDate": "2015-02-06T18:39:46Z",
        "description": "Provides full access to AWS services and resources.",
        "document": {"Version": "2012-10-17", "Statement": [ALLOW_ALL]},
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


def join_path(base: str, sub: str) -> str:
    """``Users[3]`` + ``Arn`` -> ``Users[3].Arn``; + ``[0]`` -> ``Users[3][0]``."""
    if not sub:
        return base
    if not base:
        return sub
    return f"{base}{sub}" if sub.startswith("[") else f"{base}.{sub}"


# ---- IAM ARNs in exports ------------------------------------------------------------------------


_IAM_KINDS = ("user", "group", "role", "policy")


class IamEntity(NamedTuple):
    """An IAM user, group, role or managed policy named by its ARN."""

    partition: str
    account: str  # 12 digits, or "aws" for an AWS-managed policy
    kind: str
    path: str  # "/" or "/a/b/"
    name: str


def iam_entity(text: str) -> IamEntity | None:
    """The parts of ``arn:PARTITION:iam::ACCOUNT:KIND/PATH/NAME``, or None when ``text`` is not
    such an ARN. D: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns"""
    parts = arn_fields(text)  # read for every entity of an export: no Arn object needed
    if len(parts) != 6 or parts[0] != "arn" or not parts[1].startswith("aws") or parts[2] != "iam" or parts[3]:
        return None
    account, resource = parts[4], parts[5]
    if not (is_account_id(account) or account == AWS_MANAGED_ACCOUNT):
        return None
    kind, slash, rest = resource.partition("/")
    if kind not in _IAM_KINDS or not slash or not rest or rest.endswith("/") or "//" in rest:
        return None
    path, _, name = ("/" + rest).rpartition("/")
    return IamEntity(parts[1], account, kind, path + "/", name)


# ---- the merge -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Origin:
    source: str
    path: str

    def __str__(self) -> str:
        return f"{self.source} {self.path}"


@dataclass(slots=True)
class Ref:
    origin: Origin
    kind: str  # "policy" or "group"
    account: str | None
    target: str  # an ARN, or a name resolved within the account


class Merge:
    """The world being built from every source, with where each entry came from."""

    def __init__(self) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, tuple[dict[str, Any], Origin]] = {}
        self.principals: dict[tuple[str, str, str], tuple[dict[str, Any], Origin]] = {}  # (section, account, lower name)
        self.resources: dict[str, tuple[dict[str, Any], Origin]] = {}
        self.organization: tuple[dict[str, Any], Origin] | None = None
        self.refs: list[Ref] = []
        # Entries refused for a problem of their own: references to them are not reported again.
        self.rejected: set[str] = set()
        self.problems: dict[str, list[Problem]] = {}
        self.findings: list[Finding] = []
        self.native_names: list[tuple[str, str]] = []  # (name, description) of native sources
        self.parsed = ParsedDocuments()

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
            self.parsed.keep(document, kind, parsed)
        except PolicyValidationError as exc:
            for p in exc.problems:
                if not from_aws:
                    self.problem(source, join_path(path, p.path), p.rule)
                    continue
                self.finding(source, join_path(path, p.path), f"graphsim cannot parse this {kind.value} policy, which AWS accepted: {p.rule}; "
                             "the world will not load until it is fixed", "error")
            return
        for w in parsed.warnings:
            self.finding(source, join_path(path, w.path), w.rule, "warning")

    # accounts
    def add_account(self, account: str, alias: str | None = None) -> None:
        entry = self.accounts.setdefault(account, {"id": account})
        if alias and not entry.get("alias"):
            entry["alias"] = alias

    # entities
    def add_policy(self, entry: dict[str, Any], origin: Origin, *, merge_aws_managed: bool = True) -> None:
        arn = iam_arn(entry["account"], "policy", entry["name"], entry.get("path", "/"))
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
                self.problem(origin.source, join_path(origin.path, f"PolicyVersionList[{j}].Document"),
                             f"version {v['versionId']} of {arn} differs from the same version in {old_origin.source}")
        old["versions"] = sorted(versions.values(), key=lambda v: version_number(v["versionId"]))
        if entry["defaultVersionId"] != old["defaultVersionId"]:
            newer = max(entry["defaultVersionId"], old["defaultVersionId"], key=version_number)
            self.finding(origin.source, origin.path, f"{arn}: default version {entry['defaultVersionId']} here, "
                         f"{old['defaultVersionId']} in {old_origin.source}; using the newer, {newer}", "info")
            old["defaultVersionId"] = newer

    def add_principal(self, section: str, entry: dict[str, Any], origin: Origin) -> None:
        key = (section, entry.get("account") or "", str(entry.get("name", "")).lower())
        existing = self.principals.get(key)
        if existing is not None:
            # IAM names are unique per account regardless of case.
            kind = section[:-1]
            self.problem(origin.source, join_path(origin.path, "name" if not origin.path.startswith(("User", "Group", "Role")) else f"{kind.capitalize()}Name"),
                         f"duplicate {kind} name {entry.get('name')!r} in account {entry.get('account')} (also at {existing[1]})")
            return
        self.principals[key] = (entry, origin)

    def add_resource(self, entry: dict[str, Any], origin: Origin) -> None:
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
                entity = iam_entity(ref.target)
                if entity and entity.account == AWS_MANAGED_ACCOUNT and entity.path == "/" and entity.name in BUILTIN_AWS_MANAGED:
                    self._add_builtin(entity.name, ref.origin)
                    continue
                hint = ""
                if entity and entity.account == AWS_MANAGED_ACCOUNT:
                    hint = f"; graphsim ships only {', '.join(sorted(BUILTIN_AWS_MANAGED))}: export with get-account-authorization-details, which includes every attached AWS-managed policy"
                self.problem(ref.origin.source, ref.origin.path, f"no policy {ref.target} in the imported files{hint}")
            else:
                found = [a for a, (e, _) in self.policies.items() if e["name"] == ref.target and e["account"] in (ref.account, AWS_MANAGED_ACCOUNT)]
                if not found:
                    if ref.target in BUILTIN_AWS_MANAGED:
                        self._add_builtin(ref.target, ref.origin)
                    else:
                        self.problem(ref.origin.source, ref.origin.path, f"no policy named {ref.target!r} in account {ref.account} in the imported files")

    def _add_builtin(self, name: str, origin: Origin) -> None:
        spec = BUILTIN_AWS_MANAGED[name]
        self.policies[iam_arn(AWS_MANAGED_ACCOUNT, "policy", name)] = ({
            "name": name, "account": AWS_MANAGED_ACCOUNT, "path": spec["path"], "description": spec["description"],
            "defaultVersionId": spec["defaultVersionId"],
            "versions": [{"versionId": spec["defaultVersionId"], "createDate": spec["createDate"], "document": copy.deepcopy(spec["document"])}],
        }, Origin("graphsim built-in", name))
        self.finding(origin.source, origin.path, f"AWS-managed policy {name} is not in the imported files; used graphsim's built-in copy "
                     f"(version {spec['defaultVersionId']})", "info")

    def raise_problems(self, order: list[str]) -> None:
        if not self.problems:
            return
        named = set(order)  # a set: with thousands of files, a list here made this quadratic
        sources = [s for s in order if s in self.problems] + [s for s in self.problems if s not in named]
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


def version_number(version_id: str) -> int:
    digits = version_id.lstrip("vV")
    return int(digits) if digits.isdigit() else -1


# ---- shared helpers for AWS shapes ----------------------------------------------------------------


class Reader:
    """Typed access to one file's JSON with problems recorded by JSON path."""

    def __init__(self, merge: Merge, source: str) -> None:
        self.m = merge
        self.source = source

    def problem(self, path: str, rule: str) -> None:
        self.m.problem(self.source, path, rule)

    def list(self, obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> list[Any]:
        where = join_path(path, key)
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
                self.problem(join_path(path, key), "is required")
            return None
        if not isinstance(value, str) or not value:
            self.problem(join_path(path, key), f"must be a non-empty string, got {json.dumps(value)}")
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
            where = join_path(path, f"Tags[{i}]")
            if not isinstance(tag, Mapping) or not isinstance(tag.get("Key"), str) or not isinstance(tag.get("Value", ""), str):
                self.problem(where, 'must be {"Key": "...", "Value": "..."}')
                continue
            out[tag["Key"]] = tag.get("Value", "")
        return out


class ParsedDocuments:
    """Every document the import has parsed, so that building the world parses none twice.

    Called as the world's parser (``World(parse=...)``): a document the import checked (the same
    object, for the same kind of policy) comes back as parsed then; any other is parsed. Entries
    are kept by identity, which is why the world dict must not be edited between the import and
    ``ImportResult.to_world``."""

    def __init__(self) -> None:
        self._done: dict[tuple[int, PolicyKind], tuple[object, PolicyDocument]] = {}

    def keep(self, document: object, kind: PolicyKind, parsed: PolicyDocument) -> None:
        self._done[(id(document), kind)] = (document, parsed)  # the document itself keeps its id unique

    def __call__(self, document: str | Mapping[str, Any], *, kind: PolicyKind = PolicyKind.IDENTITY, **kwargs: Any) -> PolicyDocument:
        hit = self._done.get((id(document), kind))
        if hit is not None and hit[0] is document:
            return hit[1]
        return parse_with_catalog(document, kind=kind, **kwargs)

    def clear(self) -> None:
        self._done.clear()
