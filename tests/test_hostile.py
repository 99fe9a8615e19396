"""Hostile input and heavy questions (issue 15): each reproduction of the issue's "Measured today"
gets a clear refusal or the right answer, and the server stays responsive meanwhile.

Timeouts here (on the requests to real server processes) are hang guards, so a request that never
answers fails the test instead of stalling the suite; they are never speed assertions (the figures
are bench/hostile.py's).
"""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.api.limits import measure_document
from graphsim.limits import Limits
from graphsim.policy.cache import DOCUMENTS
from graphsim.workspace import Workspace
from graphsim.world.graph import DOCUMENTS as WORLD_DOCUMENTS

HANG_GUARD = 60.0  # seconds; only so that a hang fails instead of stalling the suite
ACCOUNT = "111122223333"
SIMULATE = "query($in: SimulateCustomPolicyInput!) { simulateCustomPolicy(input: $in) { evalDecision evalResourceName } }"
LONG_ARN = "arn:aws:s3:::" + "a" * 200  # the 200-character resource
BACKTRACKING = "arn:aws:s3:::" + "a*" * 12 + "b"  # matched by a backtracking regex, this never ends


def _client(limits: Limits | None = None, workspace: Workspace | None = None) -> TestClient:
    return TestClient(create_app(workspace or Workspace.with_world(), limits=limits))


def _gql(http: TestClient, query: str, **variables: Any) -> dict[str, Any]:
    response = http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _policy(resource: str, condition: dict[str, Any] | None = None, action: str = "s3:GetObject") -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    return body["errors"][0]  # type: ignore[no-any-return]


# ---- regex backtracking: wildcards match in linear time --------------------------------------------


def test_a_backtracking_resource_pattern_is_answered() -> None:
    with _client() as http:
        body = _gql(http, SIMULATE, **{"in": {"policyInputList": [_policy(BACKTRACKING)], "actionNames": ["s3:GetObject"], "resourceArns": [LONG_ARN, LONG_ARN + "b"]}})
        # The ARN of only a's does not end in b; the one that does matches (a* may match nothing).
        assert [r["evalDecision"] for r in body["data"]["simulateCustomPolicy"]] == ["IMPLICIT_DENY", "ALLOWED"]
        aws = http.post("/aws/simulate-custom-policy", json={"PolicyInputList": [_policy(BACKTRACKING)], "ActionNames": ["s3:GetObject"], "ResourceArns": [LONG_ARN]})
        assert aws.status_code == 200 and aws.json()["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
        assert http.get("/healthz").status_code == 200


def test_a_foreign_page_cannot_post_text_plain_to_the_aws_endpoints() -> None:
    """A browser sends text/plain across origins without a CORS preflight; the endpoint takes
    JSON only, so such a request is refused before anything is evaluated."""
    request = json.dumps({"PolicyInputList": [_policy(BACKTRACKING)], "ActionNames": ["s3:GetObject"], "ResourceArns": [LONG_ARN]})
    with _client() as http:
        response = http.post("/aws/simulate-custom-policy", content=request, headers={"content-type": "text/plain", "origin": "https://attacker.example"})
        assert response.status_code == 415
        assert response.json()["Error"]["Code"] == "UnsupportedMediaType" and "application/json" in response.json()["Error"]["Message"]


def test_a_stored_bucket_policy_of_wildcards_does_not_slow_later_questions() -> None:
    bucket = "arn:aws:s3:::final-friday-reports"
    document = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/newbie"}, "Action": "s3:PutObject", "Resource": bucket + "/" + "*?" * 14 + "x",
    }]})
    with _client() as http:
        put = _gql(http, "mutation($d: String!) { putResourcePolicy(arn: \"arn:aws:s3:::final-friday-reports\", document: $d) { __typename } }", d=document)
        assert put["data"]["putResourcePolicy"]["__typename"] == "ChangePayload"
        ask = 'query($r: String!) { can(principal: "newbie", action: "s3:PutObject", resource: $r) { decision } }'
        # *? needs at least 14 characters before the final x; the key of 30 a's has none.
        assert _gql(http, ask, r=bucket + "/" + "a" * 30)["data"]["can"]["decision"] == "IMPLICIT_DENY"
        assert _gql(http, ask, r=bucket + "/" + "a" * 30 + "x")["data"]["can"]["decision"] == "ALLOWED"


def test_string_like_conditions_match_in_linear_time() -> None:
    condition = {"StringLike": {"aws:PrincipalTag/team": "a*" * 12 + "b"}}
    context = [{"contextKeyName": "aws:PrincipalTag/team", "contextKeyValues": ["a" * 200], "contextKeyType": "string"}]
    with _client() as http:
        body = _gql(http, SIMULATE, **{"in": {"policyInputList": [_policy("*", condition)], "actionNames": ["s3:GetObject"], "contextEntries": context}})
        assert body["data"]["simulateCustomPolicy"][0]["evalDecision"] == "IMPLICIT_DENY"


# ---- GraphQL documents: cost, depth and aliases with each fragment measured once --------------------


def _fan_out(levels: int = 40, alias: bool = True) -> str:
    parts = ["query FanOut { ...F0 }"]
    for i in range(levels):
        head = f"a{i}: worlds {{ name }} " if alias else ""
        parts.append(f"fragment F{i} on Query {{ {head}...F{i + 1} ...F{i + 1} }}")
    parts.append(f"fragment F{levels} on Query {{ worlds {{ name }} }}")
    return "\n".join(parts)


def test_fragment_fan_out_is_refused_by_its_cost() -> None:
    document = _fan_out()
    assert len(document) < 2500  # the 1.6 KB query, with aliases added
    with _client() as http:
        body = _gql(http, document)
    assert body["data"] is None
    codes = {(e["extensions"]["code"], e["extensions"]["limit"]) for e in body["errors"]}
    assert codes == {("LIMIT_EXCEEDED", "query_cost"), ("LIMIT_EXCEEDED", "query_aliases")}
    cost = next(e for e in body["errors"] if e["extensions"]["limit"] == "query_cost")
    # 2^41 - 2 worlds/name pairs... counted exactly, without expanding a single spread.
    assert cost["extensions"]["asked"] > 2**40 and cost["extensions"]["flag"] == "--max-query-cost"
    assert "--max-query-cost" in cost["message"]


def test_the_measure_counts_each_spread_and_nests_fragments() -> None:
    from graphql import OperationDefinitionNode, parse

    document = parse("query Q { ...A x: worlds { name } } fragment A on Query { worlds { name isDefault } ...B ...B } fragment B on Query { worlds { name } }")
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    m = measure_document(document, operation)
    # A: worlds + name + isDefault (3) and B twice (2 x 2); then x: worlds + name (2): 9 fields,
    # 2 deep, one alias.
    assert (m.fields, m.depth, m.aliases) == (9, 2, 1)


def test_introspection_is_answered_within_the_limits() -> None:
    """GraphiQL's and schemathesis' introspection query nests type references 15 deep: its
    depth is not counted, its fields are (229 of the 20,000)."""
    from graphql import get_introspection_query

    with _client() as http:
        body = _gql(http, get_introspection_query(descriptions=True))
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_deep_fragment_chains_are_refused_by_depth() -> None:
    chain = ["query Deep { world { ...U0 } }"]
    for i in range(12):
        chain.append(f"fragment U{i} on WorldView {{ users {{ groups {{ name }} }} ...U{i + 1} }}" if i < 11 else "fragment U11 on WorldView { users { name } }")
    with _client() as http:
        body = _gql(http, "\n".join(chain))
    # Fragments spread side by side do not nest: depth 4, and an answer.
    assert "errors" not in body, body
    nested = "query Deep { world { users { ...G0 } } } " + " ".join(f"fragment G{i} on User {{ groups {{ users {{ ...G{i + 1} }} }} }}" for i in range(6)) + " fragment G6 on User { name }"
    with _client() as http:
        error = _error(_gql(http, nested))
    assert (error["extensions"]["limit"], error["extensions"]["maximum"], error["extensions"]["asked"]) == ("query_depth", 10, 15)


def test_a_document_past_the_token_limit_is_refused_naming_the_limit_and_its_flag(caplog: pytest.LogCaptureFixture) -> None:
    # 1,000 aliased fields are 7,000 tokens: the parser stops at the 5,001st.
    many = "{ " + " ".join(f"a{i}: worlds {{ name }}" for i in range(1000)) + " }"
    with _client() as http, caplog.at_level(logging.ERROR):
        error = _error(_gql(http, many))
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "query_tokens", "maximum": 5000, "asked": 5001, "flag": "--max-query-tokens"}
    assert "query_tokens" in error["message"] and "--max-query-tokens" in error["message"]
    assert not [r for r in caplog.records if "Parsing aborted" in r.getMessage()]  # an answer, not an incident logged with the document
    # The limit is the server's: with more tokens allowed, the same document is read, then
    # refused by its aliases.
    with _client(Limits(query_tokens=10_000)) as http:
        error = _error(_gql(http, many))
    assert (error["extensions"]["code"], error["extensions"]["limit"], error["extensions"]["asked"]) == ("LIMIT_EXCEEDED", "query_aliases", 1000)


def test_text_that_is_not_graphql_is_a_typed_parse_failure() -> None:
    with _client() as http:
        brackets = http.get("/graphql?query=" + "{" * 60_000)  # the 60 KB query string
        cut = http.post("/graphql", json={"query": "{ worlds { name "})
    for response, where in ((brackets, {"line": 1, "column": 2}), (cut, {"line": 1, "column": 17})):
        assert response.status_code == 200
        error = _error(response.json())
        assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"} and error["message"].startswith("Syntax Error: Expected Name")
        assert error["locations"] == [where]


# ---- imports: an alias bomb through importWorld ----------------------------------------------------


def test_a_yaml_alias_bomb_through_import_world_is_refused() -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n" for i in range(8))
    assert len(bomb) < 700  # the 634 B
    mutation = 'mutation($f: [ImportFileInput!]!) { importWorld(name: "bomb", files: $f) { __typename ... on InvalidImport { code message } } }'
    with _client() as http:
        result = _gql(http, mutation, f=[{"name": "bomb.yaml", "content": bomb}])["data"]["importWorld"]
    assert result["__typename"] == "InvalidImport" and result["code"] == "FILE_LIMIT"
    assert "expanded nodes" in result["message"] and "bomb.yaml" in result["message"]


@pytest.mark.parametrize("name, text, says", [
    ("deep.json", '{"UserDetailList": ' + "[" * 5000 + "]" * 5000 + "}", "levels of nesting"),
    ("deep.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n", "levels of nesting"),
    ("self.yaml", "a: &a [*a]\n", "refers to itself"),
    ("self-map.yaml", "a: &a {b: *a}\n", "refers to itself"),
    ("digits.yaml", "a: " + "9" * 5000 + "\n", "integer digits"),
    ("digits.json", '{"a": ' + "9" * 5000 + "}", "integer digits"),
])
def test_hostile_import_files_exit_2_without_a_traceback(tmp_path: Path, name: str, text: str, says: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    run = subprocess.run([sys.executable, "-m", "graphsim.cli", "import", str(path), "--world", "x", "--db", str(tmp_path / "s.db")],
                         capture_output=True, text=True, timeout=HANG_GUARD)
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and says in run.stderr and name in run.stderr


# ---- cost bounds: matrix cells, simulation size, request bodies, reviews ---------------------------


def test_the_csv_matrix_counts_its_cells_before_any_is_evaluated() -> None:
    actions = ",".join(["s3:GetObject"] * 60)
    resources = ",".join(["*"] * 400)
    principals = ",".join(["kai"] * 200)
    url = f"/export/matrix.csv?actions={actions}&resources={resources}&principals={principals}"
    assert len(url) < 2500
    with _client() as http:
        response = http.get(url)
        assert response.status_code == 400
        assert response.json() == {
            "error": "matrix cells (principals x actions x resources): 4,800,000 is over the limit csv_cells of 1,000,000; ask for less, or start the server with a larger --max-csv-cells",
            "code": "LIMIT_EXCEEDED", "field": "actions",
        }
        small = http.get("/export/matrix.csv?actions=s3:GetObject,s3:GetObject&resources=final-friday-reports/q4.pdf&principals=newbie,kai")
        assert small.status_code == 200
        assert small.text.splitlines()[0] == "principal,action,resource,decision" and len(small.text.splitlines()) == 5
        # 30,000 rows: streamed a chunk of 10,000 rows at a time, all of them.
        mid = http.get("/export/matrix.csv?actions=" + ",".join(["s3:GetObject"] * 10) + "&resources=" + ",".join(["*"] * 100) + "&principals=" + ",".join(["kai"] * 30))
        assert mid.status_code == 200 and mid.text.count("\n") == 30_001 and mid.text.endswith("user/kai,s3:GetObject,*,ALLOWED\r\n")


def test_graphql_matrix_cells_are_bounded_by_the_server_flag() -> None:
    query = "query($a: [String!]!) { accessMatrix(actions: $a, resources: [\"*\"]) { evaluations } }"
    with _client(Limits(matrix_cells=10)) as http:
        error = _error(_gql(http, query, a=["s3:GetObject", "s3:PutObject"]))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED" and error["extensions"]["limit"] == "matrix_cells"
    assert error["extensions"]["maximum"] == 10 and "--max-matrix-cells" in error["message"]


def test_statements_times_pairs_is_bounded() -> None:
    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{i}"} for i in range(1000)]
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    resources = [f"arn:aws:s3:::b/{i}" for i in range(10_000)]
    with _client() as http:
        error = _error(_gql(http, SIMULATE, **{"in": {"policyInputList": [document], "actionNames": ["s3:GetObject"], "resourceArns": resources}}))
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert (error["extensions"]["limit"], error["extensions"]["maximum"], error["extensions"]["asked"]) == ("simulation_work", 5_000_000, 10_000_000)
    assert "1,000 statements x 10,000" in error["message"] and "--max-simulation-work" in error["message"]


def test_statements_times_pairs_is_refused_before_any_document_is_parsed() -> None:
    # 2,000 statements over two documents and a boundary of 1 x 3,000 pairs: 6,003,000 > 5,000,000.
    # Counted from the JSON alone: the parse caches never see the documents (a 10,000-statement
    # document took seconds to compile before it was refused).
    def document(tag: str, n: int) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{tag}/{i}"} for i in range(n)]})

    identity = [document("early-a", 1000), document("early-b", 1000)]
    boundary = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}})
    resources = [f"arn:aws:s3:::early/{i}" for i in range(3000)]
    graphql = {"policyInputList": identity, "permissionsBoundaryPolicyInputList": [boundary], "actionNames": ["s3:GetObject"], "resourceArns": resources}
    aws = {"PolicyInputList": identity, "PermissionsBoundaryPolicyInputList": [boundary], "ActionNames": ["s3:GetObject"], "ResourceArns": resources}
    principal = {"PolicySourceArn": f"arn:aws:iam::{ACCOUNT}:user/newbie", "PolicyInputList": identity, "ActionNames": ["s3:GetObject"], "ResourceArns": resources}
    with _client() as http:
        before = WORLD_DOCUMENTS.info().misses
        error = _error(_gql(http, SIMULATE, **{"in": graphql}))
        answers = [http.post("/aws/simulate-custom-policy", json=aws), http.post("/aws/simulate-principal-policy", json=principal)]
        parsed = WORLD_DOCUMENTS.info().misses - before
        # The same documents over one pair are under the limit, so they are parsed and answered.
        small = _gql(http, SIMULATE, **{"in": {**graphql, "resourceArns": ["arn:aws:s3:::early-a/7"]}})
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED" and error["extensions"]["limit"] == "simulation_work"
    assert error["extensions"]["asked"] == 2001 * 3000 and "2,001 statements x 3,000" in error["message"]
    assert [a.status_code for a in answers] == [400, 400]
    assert [a.json()["Error"]["Code"] for a in answers] == ["LIMIT_EXCEEDED", "LIMIT_EXCEEDED"]
    assert "2,000 statements x 3,000" in answers[1].json()["Error"]["Message"]  # the principal's own policies come on top
    assert parsed == 0
    assert "errors" not in small and small["data"]["simulateCustomPolicy"] == [{"evalDecision": "ALLOWED", "evalResourceName": "arn:aws:s3:::early-a/7"}]
    assert WORLD_DOCUMENTS.info().misses - before >= 3


def test_a_body_over_the_limit_is_refused_with_413() -> None:
    with _client(Limits(body_bytes=1000)) as http:
        response = http.post("/graphql", content=b"{" + b" " * 2000 + b"}", headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "body_bytes", "maximum": 1000, "asked": 2002, "flag": "--max-body-bytes"}
        chunked = http.post("/aws/simulate-custom-policy", content=iter([b"{", b" " * 1500, b"}"]), headers={"content-type": "application/json"})
        assert chunked.status_code == 413  # no Content-Length: counted as it arrives
        assert http.post("/graphql", json={"query": "{ worlds { name } }"}).status_code == 200


def _big_world(users: int, roles: int) -> dict[str, Any]:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
    read = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "sts:AssumeRole"], "Resource": "*"}]}
    return {
        "format": "graphsim-world", "formatVersion": 1, "name": "big", "description": "many principals", "accounts": [{"id": ACCOUNT}],
        "policies": [{"name": "Read", "account": ACCOUNT, "path": "/", "description": "", "defaultVersionId": "v1",
                      "versions": [{"versionId": "v1", "createDate": "2026-01-01T00:00:00Z", "document": read}]}],
        "groups": [{"name": "everyone", "account": ACCOUNT, "path": "/", "attachedPolicies": [f"arn:aws:iam::{ACCOUNT}:policy/Read"], "inlinePolicies": []}],
        "users": [{"name": f"user-{i:05d}", "account": ACCOUNT, "path": "/", "groups": ["everyone"], "attachedPolicies": [], "inlinePolicies": []} for i in range(users)],
        "roles": [{"name": f"role-{i:04d}", "account": ACCOUNT, "path": "/", "description": "", "assumeRolePolicyDocument": trust,
                   "attachedPolicies": [], "inlinePolicies": []} for i in range(roles)],
        "resources": [],
    }


@pytest.fixture(scope="module")
def big_world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.json"
    path.write_text(json.dumps(_big_world(5000, 400)))
    return path


@pytest.fixture(scope="module")
def big_workspace(big_world_file: Path) -> Workspace:
    from graphsim.imports import import_files

    return Workspace.with_world(import_files([str(big_world_file)]).to_world())


def test_heavy_reviews_on_a_large_world_are_refused_before_they_start(big_workspace: Workspace) -> None:
    with _client(workspace=big_workspace) as http:
        edges = _error(_gql(http, "{ canAssumeEdges { role } }"))
        # 5,400 principals x 400 roles: 2,160,000 evaluations planned, over 2,000,000.
        assert (edges["extensions"]["code"], edges["extensions"]["limit"], edges["extensions"]["asked"]) == ("LIMIT_EXCEEDED", "analysis_size", 2_160_000)
        assert "--max-analysis-size" in edges["message"]
        assert http.get("/healthz").status_code == 200


def test_review_size_bound_is_a_server_flag(big_workspace: Workspace) -> None:
    with _client(Limits(analysis_size=10_000), workspace=big_workspace) as http:
        who = _error(_gql(http, '{ whoCan(actions: ["s3:GetObject", "s3:PutObject"], resource: "*") { principal } }'))
    assert (who["extensions"]["limit"], who["extensions"]["maximum"], who["extensions"]["asked"]) == ("analysis_size", 10_000, 10_800)


def test_browsing_a_large_world_stops_at_the_deadline(big_workspace: Workspace) -> None:
    browse = "{ world { users { name arn groups { name policies { name statements { actions resources } } } } } }"
    with _client(Limits(deadline_seconds=0.2), workspace=big_workspace) as http:
        body = _gql(http, browse)
        assert body["data"] is None
        assert body["errors"] == [{"message": "the request was stopped after 0.2 s (the limit deadline_seconds); ask a narrower question, or start the server with a larger --deadline",
                                   "extensions": {"code": "DEADLINE_EXCEEDED", "limit": "deadline_seconds", "maximum": 0.2, "flag": "--deadline", "retryable": True}}]
        assert _gql(http, "{ worlds { name } }")["data"]["worlds"] == [{"name": "big"}]  # the next question is answered
    with _client(workspace=big_workspace) as http:
        users = _gql(http, "{ world { users { name } } }")["data"]["world"]["users"]
    assert len(users) == 5000


# ---- memory: the document caches are bounded in bytes ----------------------------------------------


def test_distinct_large_documents_stay_within_the_cache_bound() -> None:
    with _client(Limits(cache_bytes=24 * 1024 * 1024)) as http:
        for i in range(40):
            values = [f"value-{i}-{j:06d}" for j in range(5000)]  # a document of about 100 KB
            document = _policy("*", {"StringEquals": {"aws:PrincipalTag/team": values}})
            assert len(document) > 90_000
            body = _gql(http, SIMULATE, **{"in": {"policyInputList": [document], "actionNames": ["s3:GetObject"]}})
            assert body["data"]["simulateCustomPolicy"][0]["evalDecision"] == "IMPLICIT_DENY"
        for cache in (DOCUMENTS, WORLD_DOCUMENTS):  # the input sets built, the documents parsed
            info = cache.info()
            assert info.max_bytes == 8 * 1024 * 1024 and info.bytes <= info.max_bytes
            assert 0 < info.entries < 40  # older documents went; the bound held
        metrics = http.get("/metrics").text
        assert 'graphsim_cache_max_bytes{cache="world-documents"} 8.388608e+06' in metrics


def test_long_documents_are_parsed_each_time_not_kept() -> None:
    from graphsim.api import caching
    from graphsim.api.limits import PARSED_LENGTH, parse_cached

    def ask(http: TestClient, principal: str, code: str = "NOT_FOUND") -> None:
        error = _error(_gql(http, f'{{ can(principal: "{principal}", action: "s3:GetObject", resource: "*") {{ decision }} }}'))
        assert error["extensions"]["code"] == code  # parsed, validated and run

    def looked_up() -> tuple[int, int]:  # by the caches of parsed and of validated documents
        info = parse_cached.cache_info()
        return info.hits + info.misses, caching.stats["hits"] + caching.stats["misses"]

    with _client() as http:
        before = looked_up()
        for i in range(3):  # distinct documents of 30,000 characters: an entry each would hold one
            ask(http, f"{i}-" + "x" * 30_000, "LIMIT_EXCEEDED")  # a principal past arn_length, refused as it runs
        assert len("x" * 30_000) > PARSED_LENGTH
        assert looked_up() == before  # neither cache was asked, so neither keeps them
        ask(http, "nobody-by-this-name-long-docs")  # a short one is kept, for the next time it comes
        after = looked_up()
        assert after[0] > before[0] and after[1] == before[1] + 1


# ---- malformed input: a 4xx or a typed error, never a 500 ------------------------------------------


@pytest.mark.parametrize("body, says", [
    (b'"x"', "must be a JSON object or a JSON list, got a string"),
    (b"42", "got a number"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{bad", "not valid JSON: Expecting property name"),
    (b'{"query": "{ worlds { name } }", "variables": {"n": ' + b"9" * 5000 + b"}}", "an integer of more than 4,300 digits, which graphsim does not read"),
    (b'{"query": 12}', "`query` must be a string"),
    (b'{"query": "{ worlds { name } }", "variables": [1]}', "`variables` must be an object"),
    (b'{"query": "{ worlds { name } }", "operationName": 5}', "operationName must be a string or null, got a number"),
])
def test_malformed_graphql_bodies_are_400_in_the_api_error_shape(body: bytes, says: str) -> None:
    with _client() as http:
        response = http.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_INPUT" and says in error["message"]
    if b"operationName" in body:
        assert error["extensions"]["field"] == "operationName"


def test_a_graphql_body_nested_too_deep_is_refused_naming_json_depth() -> None:
    with _client() as http:
        response = http.post("/graphql", content=b"[" * 100_000 + b"]" * 100_000, headers={"content-type": "application/json"})
        shallow = http.post("/graphql", content=b'{"query": "{ worlds { name } }", "variables": {"v": ' + b"[" * 150 + b"]" * 150 + b"}}", headers={"content-type": "application/json"})
    for refused in (response, shallow):
        assert refused.status_code == 400
        (error,) = refused.json()["errors"]
        assert error["extensions"] == {"code": "LIMIT_EXCEEDED", "limit": "json_depth", "maximum": 100, "flag": "--max-json-depth"}
        assert "nested deeper than the limit json_depth of 100 (start the server with a larger --max-json-depth)" in error["message"]


@pytest.mark.parametrize("body, code, says", [
    (b'"x"', "InvalidInput", "must be a JSON object, got a string"),
    (b"\xff{}", "InvalidInput", "not UTF-8"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "LIMIT_EXCEEDED", "nested deeper than the limit json_depth of 100 (start the server with a larger --max-json-depth)"),
    (b'{"ActionNames": [' + b"1" * 5000 + b"]}", "InvalidInput", "an integer of more than 4,300 digits"),
])
def test_malformed_aws_bodies_are_400(body: bytes, code: str, says: str) -> None:
    with _client() as http:
        response = http.post("/aws/simulate-custom-policy", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["Error"]["Code"] == code and says in response.json()["Error"]["Message"]


def test_a_policy_nested_100000_deep_is_a_typed_error() -> None:
    deep = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}}]}"
    with _client() as http:
        error = _error(_gql(http, SIMULATE, **{"in": {"policyInputList": [deep], "actionNames": ["s3:GetObject"]}}))
        assert error["extensions"]["code"] == "INVALID_POLICY" and "nested deeper than 100 levels" in error["message"] and "--max-json-depth" in error["message"]
        created = _gql(http, 'mutation($d: String!) { createPolicy(name: "Deep", document: $d) { __typename ... on InvalidPolicy { problems { rule } } } }', d=deep)["data"]["createPolicy"]
        assert created["__typename"] == "InvalidPolicy" and "nested deeper" in created["problems"][0]["rule"]
        aws = http.post("/aws/simulate-custom-policy", json={"PolicyInputList": [deep], "ActionNames": ["s3:GetObject"]})
        assert aws.status_code == 400 and aws.json()["Error"]["Code"] == "INVALID_POLICY"


def test_malformed_csv_export_parameters_are_4xx() -> None:
    with _client() as http:
        for url, status, codes in (
            ("/export/matrix.csv?actions=%FF%FE&resources=*", 400, ("INVALID_INPUT", "UNKNOWN_ACTION")),
            ("/export/matrix.csv?actions=s3:GetObject&resources=*&principals=nobody", 404, ("NOT_FOUND",)),
            ("/export/matrix.csv?actions=s3:GetObject", 400, ("INVALID_INPUT",)),
            # A resource longer than any ARN is refused by its length (arn_length) before it is read.
            ("/export/matrix.csv?actions=s3:GetObject&resources=" + "a" * 5000, 400, ("LIMIT_EXCEEDED",)),
        ):
            response = http.get(url)
            assert response.status_code == status, (url, response.text)
            assert response.json()["code"] in codes, (url, response.text)


# ---- responsiveness: the event loop stays free -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(*args: str) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "graphsim.cli", "serve", "--port", str(port), "--log-level", "warning", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() - started < HANG_GUARD and proc.poll() is None, "server did not start"
                time.sleep(0.1)
        yield url
    finally:
        proc.kill()
        proc.wait()


def _while_running(url: str, request: dict[str, Any]) -> tuple[httpx.Response, list[int]]:
    """Send ``request`` and ask /healthz again and again until it is answered; the statuses of
    the health checks answered while it was still running."""
    answer: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: answer.append(httpx.post(f"{url}/graphql", json=request, timeout=HANG_GUARD)))
    worker.start()
    health: list[int] = []
    while worker.is_alive():
        status = httpx.get(f"{url}/healthz", timeout=HANG_GUARD).status_code
        if worker.is_alive():
            health.append(status)
        time.sleep(0.05)
    worker.join()
    return answer[0], health


def test_healthz_answers_while_a_heavy_question_runs(big_world_file: Path) -> None:
    with _server("--db", ":memory:", "--world", str(big_world_file), "--deadline", "3", "--max-analysis-size", "100000000") as url:
        response, health = _while_running(url, {"query": "{ canAssumeEdges { role } }"})
        assert response.status_code == 200
        assert response.json()["errors"][0]["extensions"]["code"] == "DEADLINE_EXCEEDED"
        # Health checks were answered while the question was still being worked out.
        assert health and set(health) == {200}
        worlds = httpx.post(f"{url}/graphql", json={"query": "{ worlds { name } }"}, timeout=HANG_GUARD).json()["data"]["worlds"]
        assert worlds[0] == {"name": "big"}  # the next question is answered, from the world served


def test_a_change_waiting_for_another_process_lock_ends_store_busy(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    Workspace.open(db).store.close()  # type: ignore[union-attr]
    other = sqlite3.connect(db, isolation_level=None)
    try:
        with _server("--db", str(db), "--deadline", "2") as url:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            add = {"query": 'mutation { addUserToGroup(user: "newbie", group: "HR") { __typename ... on Conflict { code message } } }'}
            response, health = _while_running(url, add)
            assert response.json().get("data"), response.text
            busy = response.json()["data"]["addUserToGroup"]
            assert busy["__typename"] == "Conflict" and busy["code"] == "STORE_BUSY" and "try again" in busy["message"]
            assert health and set(health) == {200}
            other.execute("ROLLBACK")
            again = httpx.post(f"{url}/graphql", json=add, timeout=HANG_GUARD).json()["data"]["addUserToGroup"]
            assert again["__typename"] == "MembershipPayload"
    finally:
        other.close()


# ---- observability: /metrics and the request log ----------------------------------------------------


def test_metrics_are_scraped_after_questions_changes_and_refusals(caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace.open(":memory:")
    with caplog.at_level(logging.INFO, logger="graphsim.requests"), _client(Limits(matrix_cells=1), workspace=ws) as http:
        _gql(http, 'query Ask { can(principal: "newbie", action: "s3:GetObject", resource: "final-friday-reports/q4.pdf") { decision } }')
        _gql(http, 'mutation { addUserToGroup(user: "newbie", group: "HR") { __typename } }')
        _gql(http, '{ accessMatrix(actions: ["s3:GetObject"], resources: ["*"]) { evaluations } }')
        page = http.get("/metrics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/plain")
    text = page.text
    assert 'graphsim_requests_total{operation="query:can",outcome="ok"} 1.0' in text
    assert 'graphsim_requests_total{operation="mutation:addUserToGroup",outcome="ok"} 1.0' in text
    assert 'graphsim_requests_total{operation="query:accessMatrix",outcome="LIMIT_EXCEEDED"} 1.0' in text
    assert 'graphsim_refusals_total{limit="matrix_cells"} 1.0' in text
    assert 'graphsim_request_seconds_count{operation="query:can"} 1.0' in text
    assert "graphsim_store_write_seconds_count 1.0" in text
    assert 'graphsim_cache_entries{cache="compiled-parts"}' in text and 'graphsim_cache_hits_total{cache="documents"}' in text
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "graphsim.requests"]
    ask = next(line for line in lines if line["operation"] == "Ask")
    assert (ask["fields"], ask["outcome"], ask["status"], ask["path"]) == (["can"], "ok", 200, "/graphql") and ask["seconds"] > 0
    assert [line["outcome"] for line in lines][:3] == ["ok", "ok", "LIMIT_EXCEEDED"]


def test_refusals_of_the_body_are_counted_by_limit_and_the_log_names_the_world_used(caplog: pytest.LogCaptureFixture) -> None:
    ws = Workspace.open(":memory:")
    ws.fork("final-friday", "copy")
    json_body = {"content-type": "application/json"}
    many_tokens = "{ " + " ".join(f"a{i}: worlds {{ name }}" for i in range(1000)) + " }"
    with caplog.at_level(logging.INFO, logger="graphsim.requests"), _client(Limits(body_bytes=50_000), workspace=ws) as http:
        assert http.post("/graphql", content=b"{" + b" " * 60_000 + b"}", headers=json_body).status_code == 413
        assert http.post("/aws/simulate-custom-policy", content=b"{" + b" " * 60_000 + b"}", headers=json_body).status_code == 413
        assert http.post("/graphql", content=b"[" * 200 + b"]" * 200, headers=json_body).status_code == 400
        assert http.post("/aws/simulate-custom-policy", content=b'{"a":' * 150 + b"1" + b"}" * 150, headers=json_body).status_code == 400
        _error(_gql(http, many_tokens))
        # Worlds named in the query text, not in variables; the default one when none is named.
        _gql(http, '{ can(principal: "newbie", action: "s3:GetObject", resource: "*", world: "copy") { decision } }')
        _gql(http, '{ can(principal: "newbie", action: "s3:GetObject", resource: "*") { decision } }')
        _gql(http, 'query Both { a: can(principal: "newbie", action: "s3:GetObject", resource: "*", world: "copy") { decision } '
                   'b: whoCan(actions: ["s3:GetObject"], resource: "*", world: "final-friday") { principal } }')
        _gql(http, "{ worlds { name } }")
        http.get("/export/matrix.csv", params={"actions": "s3:GetObject", "resources": "*", "principals": "newbie"})
        text = http.get("/metrics").text
    assert 'graphsim_refusals_total{limit="body_bytes"} 2.0' in text
    assert 'graphsim_refusals_total{limit="json_depth"} 2.0' in text
    assert 'graphsim_refusals_total{limit="query_tokens"} 1.0' in text
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "graphsim.requests"]
    assert [(line["status"], line["outcome"]) for line in lines[:5]] == [(413, "LIMIT_EXCEEDED")] * 2 + [(400, "LIMIT_EXCEEDED")] * 2 + [(200, "LIMIT_EXCEEDED")]
    assert [line["world"] for line in lines[5:10]] == ["copy", "final-friday", ["copy", "final-friday"], None, "final-friday"]


def test_metrics_need_the_read_token_when_the_server_has_one() -> None:
    from graphsim.api.security import ServerSecurity

    security = ServerSecurity.for_serving("127.0.0.1", read_token_file=None, environ={"GRAPHSIM_READ_TOKEN": "r" * 20, "GRAPHSIM_TOKEN": "w" * 20})
    with TestClient(create_app(Workspace.with_world(), security=security), base_url="http://127.0.0.1") as http:
        assert http.get("/metrics").status_code == 401
        assert http.get("/metrics", headers={"authorization": "Bearer " + "r" * 20}).status_code == 200
        assert http.get("/healthz").status_code == 200  # stays open


def test_cli_limit_errors_name_the_flag_the_command_takes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from graphsim.cli import EXIT_INPUT, EXIT_OK, main

    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{i}"} for i in range(3)]
    request = json.dumps({"PolicyInputList": [json.dumps({"Version": "2012-10-17", "Statement": statements})], "ActionNames": ["s3:GetObject", "s3:PutObject"], "ResourceArns": ["arn:aws:s3:::b/1"]})
    # 3 statements x 2 pairs: refused under --max-simulation-work 5, naming the command's own flag.
    assert main(["simulate-custom-policy", "--cli-input-json", request, "--max-simulation-work", "5"]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "3 statements x 2 action x resource pairs: 6 is over the limit simulation_work of 5; ask for less, or run it again with a larger --max-simulation-work" in err
    assert "start the server" not in err
    assert main(["simulate-custom-policy", "--cli-input-json", request, "--max-simulation-work", "6"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count('"EvalDecision": "allowed"') == 1 and out.count('"EvalDecision": "implicitDeny"') == 1  # b/1 by its statement; no PutObject
    lines = tmp_path / "requests.jsonl"
    lines.write_text(request + "\n")
    assert main(["simulate-custom-policy", "--input-jsonl", str(lines), "--jobs", "2", "--max-simulation-pairs", "1"]) == EXIT_INPUT
    out = capsys.readouterr().out
    assert "SIMULATION_TOO_LARGE" in out and "run it again with a larger --max-simulation-pairs" in out  # in the job's process too
    # A command without the flag says only a server takes one.
    deep = json.dumps({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"a": [[[[[[[[[[["x"]]]]]]]]]]]}}}})
    nested = json.loads(deep)
    for _ in range(100):
        nested["Statement"]["Condition"]["StringEquals"]["a"] = [nested["Statement"]["Condition"]["StringEquals"]["a"]]
    role_session = ["can", "ClassifiedReader", "s3:GetObject", "final-friday-reports/q4.pdf", "--session-policy", json.dumps(nested)]
    assert main(role_session) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "the limit json_depth; ask a server started with a larger --max-json-depth (graphsim can uses the default)" in err, err


@pytest.mark.parametrize("value", ["nan", "inf", "0", "0.0"])
def test_a_limit_flag_that_is_not_a_finite_positive_number_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from graphsim.cli import main

    with pytest.raises(SystemExit) as ended:
        main(["serve", "--port", "0", "--deadline", value])
    assert ended.value.code == 2
    assert f"must be a finite number above 0, got {value!r}" in capsys.readouterr().err
