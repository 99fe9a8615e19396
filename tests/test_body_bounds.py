"""JSON bodies are bounded in how many values they hold (json_elements), and large ones are read
off the event loop (issue 15): a 10 MB body of millions of tiny values took 13 s to read and walk
on the event loop, and 100,000 canMany questions were converted by GraphQL for 10 s before the
question limit was looked at. Both are now refused as the body is read, naming the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from graphsim.api.app import create_app
from graphsim.cli import EXIT_INPUT
from graphsim.limits import Limits
from graphsim.workspace import Workspace
from tests.conftest import served

CAN_MANY = "query($q: [CanQuestion!]!) { canMany(questions: $q) { __typename ... on Decision { decision } } }"
QUESTION = {"principal": "newbie", "action": "s3:GetObject", "resource": "arn:aws:s3:::final-friday-reports/q4.pdf"}


def _client(limits: Limits | None = None) -> TestClient:
    return TestClient(create_app(Workspace.with_world(), limits=limits))


def _refusal(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return dict(response.json()["errors"][0])


def test_a_graphql_body_of_too_many_values_is_refused_naming_the_limit() -> None:
    with _client() as http:
        error = _refusal(http.post("/graphql", json={"query": "{ worlds { name } }", "variables": {"a": [[]] * 300_000}}))
        assert (error["extensions"]["code"], error["extensions"]["limit"], error["extensions"]["maximum"]) == ("LIMIT_EXCEEDED", "json_elements", 250_000)
        assert "--max-json-elements" in error["message"]
        assert http.get("/healthz").status_code == 200


def test_too_many_can_many_questions_are_refused_before_graphql_reads_them() -> None:
    with _client() as http:
        error = _refusal(http.post("/graphql", json={"query": CAN_MANY, "variables": {"q": [QUESTION] * 100_000}}))
    assert error["extensions"]["limit"] == "json_elements"


def test_the_bound_is_a_server_flag() -> None:
    questions = [QUESTION] * 3_000  # 12,002 values: a body of some 300 KB, read in a worker thread
    body = {"query": CAN_MANY, "variables": {"q": questions}}
    assert len(json.dumps(body)) > 64 * 1024
    with _client(Limits(json_elements=10_000)) as http:
        assert _refusal(http.post("/graphql", json=body))["extensions"]["maximum"] == 10_000
    with _client() as http:
        answers = http.post("/graphql", json=body).json()["data"]["canMany"]
    # The walkthrough's answer, once per question: the read-only policy allows reading reports.
    assert answers == [{"__typename": "Decision", "decision": "ALLOWED"}] * 3_000


def test_an_aws_body_of_too_many_values_is_refused_in_the_aws_shape() -> None:
    with _client() as http:
        response = http.post("/aws/simulate-custom-policy", json={"PolicyInputList": [], "ActionNames": ["s3:GetObject"] * 300_000})
    assert response.status_code == 400
    error = response.json()["Error"]
    assert error["Code"] == "LIMIT_EXCEEDED" and "json_elements" in error["Message"]


# ---- the same reader for the command line: --cli-input-json and --input-jsonl ------------------


def _simulate(tmp_path: Path, option: str, content: bytes) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "request.json"
    path.write_bytes(content)
    where = f"file://{path}" if option == "--cli-input-json" else str(path)
    return subprocess.run([sys.executable, "-m", "graphsim.cli", "simulate-custom-policy", option, where], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("content", "said"), [
    (b'{"a":' * 50_000, "--cli-input-json is nested deeper than the limit json_depth of 100 (run it again with a larger --max-json-depth)"),
    (b'{"ActionNames":[' + b"9" * 5_000 + b"]}", "--cli-input-json holds an integer of more than 4,300 digits"),
    (b"\xff{}", "request.json is not UTF-8 text (byte 0)"),
])
def test_a_malformed_cli_input_file_is_an_input_error_not_a_traceback(tmp_path: Path, content: bytes, said: str) -> None:
    done = _simulate(tmp_path, "--cli-input-json", content)
    assert done.returncode == EXIT_INPUT
    assert said in done.stderr and "Traceback" not in done.stderr


def test_a_line_nested_too_deep_gets_its_error_line(tmp_path: Path) -> None:
    good = json.dumps({"PolicyInputList": ['{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'], "ActionNames": ["s3:GetObject"]})
    done = _simulate(tmp_path, "--input-jsonl", b'{"a":' * 50_000 + b"\n" + good.encode() + b"\n")
    assert done.returncode == EXIT_INPUT
    first, second = (json.loads(line) for line in done.stdout.splitlines())
    assert first["Error"]["Code"] == "LIMIT_EXCEEDED" and "line 1 is nested deeper than the limit json_depth" in first["Error"]["Message"]
    assert second["EvaluationResults"][0]["EvalDecision"] == "allowed"  # the other lines are answered


# ---- a document graphql-core gives up validating ---------------------------------------------------


def test_a_document_too_costly_to_validate_is_a_typed_refusal_with_its_flag() -> None:
    # 600 fields of one name at one level: graphql-core's overlap rule compares them pair by pair
    # and gives up ("Validation aborted.") once its budget is spent.
    query = "{ " + "worlds { name } " * 600 + "}"
    with _client() as http:
        error = http.post("/graphql", json={"query": query}).json()["errors"][0]
    assert (error["extensions"]["code"], error["extensions"]["limit"], error["extensions"]["flag"]) == ("LIMIT_EXCEEDED", "validation_work", "--max-validation-work")
    with _client(Limits(validation_work=50_000_000)) as http:
        answer = http.post("/graphql", json={"query": query}).json()
    assert "errors" not in answer and "final-friday" in [w["name"] for w in answer["data"]["worlds"]]


def test_a_body_too_large_for_aws_is_refused_in_the_aws_shape() -> None:
    with _client(Limits(body_bytes=1_000)) as http:
        response = http.post("/aws/simulate-custom-policy", json={"PolicyInputList": ["x" * 2_000], "ActionNames": ["s3:GetObject"]})
        graphql = http.post("/graphql", json={"query": "{ worlds { name } }", "variables": {"pad": "x" * 2_000}})
    assert response.status_code == 413 and response.json()["Error"]["Code"] == "LIMIT_EXCEEDED" and "body_bytes" in response.json()["Error"]["Message"]
    assert graphql.status_code == 413 and graphql.json()["errors"][0]["extensions"]["limit"] == "body_bytes"


def test_a_body_sent_a_byte_at_a_time_is_cut_off_at_the_body_timeout() -> None:
    import socket
    import time

    with served("--body-timeout", "1") as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            slow.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            started = time.monotonic()
            reply = b""
            while b"\r\n\r\n" not in reply and time.monotonic() - started < 20:
                slow.sendall(b" ")  # a byte now and then: never the whole body
                time.sleep(0.2)
                slow.settimeout(0.01)
                try:
                    reply += slow.recv(65536)
                except TimeoutError:
                    pass
                except OSError:
                    break
            assert reply.startswith(b"HTTP/1.1 408"), reply
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200


def test_a_large_text_is_read_with_the_collector_paused_and_it_is_back_after() -> None:
    import gc

    from graphsim.limits import JsonInputError, read_json

    large = '{"a": [' + ",".join(['{"b": "' + "x" * 20 + '"}'] * 50_000) + "]}"  # 100,001 values
    assert len(large) > 1024 * 1024
    assert len(read_json(large)["a"]) == 50_000 and gc.isenabled()
    with pytest.raises(JsonInputError):
        read_json(large[:-1])  # not valid JSON: refused, and the collector is on again
    assert gc.isenabled()
    gc.disable()
    try:
        read_json(large)
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()
