"""Bucket policies as ``aws s3api get-bucket-policy --bucket NAME`` prints them:
``{"Policy": "<policy JSON as a string>"}``.

The bucket name comes from the file name, ``<bucket>.bucket-policy.json`` or
``bucket-policy-<bucket>.json``, or from a ``"Bucket"`` key in the file (a graphsim addition).
The owning account comes from an ``"ExpectedBucketOwner"`` key (named after the CLI option),
else from a folder of the source path named by a 12-digit account id
(``exports/123456789012/<bucket>.bucket-policy.json``), else it is the world's only account.
D: https://docs.aws.amazon.com/cli/latest/reference/s3api/get-bucket-policy.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from ..arn import is_account_id, s3_arn
from ..policy import PolicyKind
from .auth_details import DETAIL_KEYS
from .merge import Merge, Origin, Reader

# D: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_FILE = re.compile(r"^(?:(?P<a>.+)\.bucket-policy|bucket-policy-(?P<b>.+))\.json$")


def _bucket_from_name(source: str) -> str | None:
    match = _BUCKET_FILE.match(PurePath(source).name)
    return None if match is None else (match["a"] or match["b"])


def is_bucket_policy(source: str, data: Any) -> bool:
    if not isinstance(data, Mapping):
        return False
    policy = data.get("Policy")
    if policy is not None and not any(k in data for k in DETAIL_KEYS) and not (isinstance(policy, Mapping) and "PolicySummary" in policy):
        return True
    return "Statement" in data and _bucket_from_name(source) is not None


def convert_bucket_policy(source: str, data: Any, m: Merge) -> None:
    r = Reader(m, source)
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
        if not isinstance(owner, str) or not is_account_id(owner):
            r.problem("ExpectedBucketOwner", f"must be a 12-digit account id, got {json.dumps(owner)}")
            return
    else:
        folders = [part for part in PurePath(source).parts[:-1] if is_account_id(part)]
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
    m.add_resource({"arn": s3_arn(bucket), "type": "s3:bucket", "account": owner, "policy": doc}, Origin(source, "Policy"))
