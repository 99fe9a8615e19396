"""Several questions in one request fail one by one: a bad question is null with its own typed
error (its path names the alias), and the other questions keep their answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from graphsim import analysis
from graphsim.api.schema import schema
from tests.conftest import GraphQLClient

REPORTS = "arn:aws:s3:::final-friday-reports/q4.pdf"
CLASSIFIED = "arn:aws:s3:::final-friday-classified/q4.pdf"
THREE_QUESTIONS = f"""{{
  a: can(principal: "newbie", action: "s3:GetObject", resource: "{REPORTS}") {{ decision }}
  b: can(principal: "newbie", action: "s3:GetObjekt", resource: "{REPORTS}") {{ decision }}
  c: whoCan(actions: ["s3:GetObject"], resource: "{CLASSIFIED}") {{ principal access }}
  d: world(name: "no-such-world") {{ name }}
  e: can(principal: "nobody", action: "s3:GetObject", resource: "{REPORTS}") {{ decision }}
}}"""


def _errors_by_path(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {".".join(map(str, e["path"])): e for e in body["errors"]}


def test_one_typo_nulls_its_own_question_only(gql: GraphQLClient) -> None:
    body = gql(THREE_QUESTIONS)
    data = body["data"]
    assert data["a"] == {"decision": "ALLOWED"}
    assert data["b"] is None and data["d"] is None and data["e"] is None
    # The demo's story: steve (Administrators), the ClassifiedReader role, and priya through it.
    assert [(e["principal"].rsplit(":", 1)[1], e["access"]) for e in data["c"]] == [
        ("user/steve", "direct"), ("role/ClassifiedReader", "direct"), ("user/priya", "via-roles")]
    errors = _errors_by_path(body)
    assert sorted(errors) == ["b", "d", "e"]
    assert errors["b"]["extensions"] == {"code": "UNKNOWN_ACTION", "field": "action", "suggestions": ["s3:GetObject", "s3:GetObjectAcl", "s3:PutObject"]}
    assert errors["b"]["message"].startswith("unknown action 's3:GetObjekt'")
    assert errors["d"]["extensions"] == {"code": "NOT_FOUND", "field": "world"}
    assert errors["e"]["extensions"]["code"] == "NOT_FOUND" and errors["e"]["extensions"]["field"] == "principal"


def test_an_internal_error_in_one_question_is_masked_and_the_others_answer(gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(analysis, "what_can", boom)  # the resolver calls analysis.what_can
    body = gql(f'{{ ok: can(principal: "newbie", action: "s3:GetObject", resource: "{REPORTS}") {{ decision }} broken: whatCan(principal: "newbie") {{ policy }} }}')
    assert body["data"]["ok"] == {"decision": "ALLOWED"}
    assert body["data"]["broken"] is None
    assert [e["message"] for e in body["errors"]] == ["Unexpected error."] and "secret" not in json.dumps(body)


def test_every_top_level_question_is_nullable_so_new_ones_fail_alone_too() -> None:
    query = schema._schema.query_type
    assert query is not None
    non_null = sorted(name for name, field in query.fields.items() if str(field.type).endswith("!"))
    assert non_null == []
