"""The hostile-input corpus against a real `graphsim serve` (issue 15), run by hand:

    .venv/bin/python bench/hostile.py            # every case, a table, exit 1 on a hang, 5xx or crash
    .venv/bin/python bench/hostile.py --json     # the same as JSON lines
    .venv/bin/python bench/hostile.py --only 10k --only alias   # only the cases so named

It starts `graphsim serve` on a throw-away store in a temporary folder (loopback, a free port)
with the demo world and a 5,000-user world, sends each case (over HTTP; the last ones over the
GraphQL websocket, status 101, where "close 4400" is the socket closed with that code) while a
second thread asks /healthz every 20 ms, and prints per case: the HTTP status, the error code,
how long the answer took, and the slowest /healthz answer meanwhile. Every request has a timeout (a hang is a
timeout); the server must still be alive after each case. Bounded: a few minutes at most.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_hostile import BACKTRACKING, LONG_ARN, SIMULATE, _big_world, _fan_out, _free_port, _policy  # noqa: E402

BIN = Path(sys.executable).parent / "graphsim"
TIMEOUT = 60.0  # a case that takes longer is a hang
DEMO = "final-friday"


@dataclass
class Outcome:
    case: str
    status: int | None
    code: str
    seconds: float
    health_max_ms: float
    health_checks: int
    note: str = ""


def _code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:40].replace("\n", " ")
    if isinstance(body, dict):
        if body.get("errors"):
            return str(body["errors"][0].get("extensions", {}).get("code", "ERROR"))
        if "Error" in body:
            return str(body["Error"].get("Code"))
        if "code" in body:
            return str(body["code"])
        data = body.get("data") or {}
        for value in data.values() if isinstance(data, dict) else []:
            if isinstance(value, dict) and value.get("code"):
                return str(value["code"])
            if isinstance(value, dict) and value.get("__typename"):
                return str(value["__typename"])
        return "ok"
    return "ok"


def gql(url: str, query: str, **variables: Any) -> httpx.Response:
    return httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=TIMEOUT)


WHO_CAN_20 = '{ whoCan(world: "big", actions: ["s3:GetObject","s3:PutObject","s3:ListBucket","s3:DeleteObject","s3:GetObjectAcl","s3:PutObjectAcl","s3:GetBucketPolicy","s3:PutBucketPolicy","s3:GetObjectTagging","s3:PutObjectTagging","s3:GetBucketLocation","s3:ListAllMyBuckets","s3:CreateBucket","s3:DeleteBucket","s3:GetBucketAcl","s3:PutBucketAcl","s3:GetLifecycleConfiguration","s3:PutLifecycleConfiguration","s3:GetBucketTagging","s3:PutBucketTagging"], resource: "*") { principal } }'
# Users of the big world's one group, three levels down: 5,000^3 names without a deadline.
NESTED_USERS = '{ world(name: "big") { users { groups { users { groups { users { name } } } } } } }'


def ws(url: str, message: str | dict[str, Any]) -> Callable[[], httpx.Response]:
    """A case over the GraphQL websocket (graphql-transport-ws): ``message`` sent after the
    connection_init was acknowledged; the answer as a response, as the HTTP cases give theirs:
    status 101 (the socket), the operation's errors or data, or {"code": "close CODE"} when the
    server closed the socket."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    def send() -> httpx.Response:
        with connect(url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"], open_timeout=TIMEOUT, max_size=None) as sock:  # type: ignore[list-item]
            sock.send(json.dumps({"type": "connection_init", "payload": {}}))
            sock.recv(TIMEOUT)
            sock.send(message if isinstance(message, str) else json.dumps(message))
            try:
                answer = json.loads(sock.recv(TIMEOUT))
            except ConnectionClosed:
                return httpx.Response(101, json={"code": f"close {sock.close_code}"})
            except TimeoutError:
                raise httpx.ReadTimeout("no answer over the websocket") from None
        payload = answer.get("payload")
        errors = payload if answer.get("type") == "error" else (payload or {}).get("errors")
        return httpx.Response(101, json={"errors": errors} if errors else {"data": (payload or {}).get("data")})

    return send


def cases(url: str, db: Path) -> list[tuple[str, Callable[[], httpx.Response]]]:
    big_doc = [f"value-{j:06d}" for j in range(5000)]
    statements = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b/{i}"} for i in range(10_000)]
    many = json.dumps({"Version": "2012-10-17", "Statement": statements})
    deep_policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}}]}"
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
    bucket_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/newbie"},
                                                                      "Action": "s3:PutObject", "Resource": "arn:aws:s3:::final-friday-reports/" + "*?" * 14 + "x"}]})

    def distinct_documents() -> httpx.Response:
        last = None
        for i in range(500):
            document = _policy("*", {"StringEquals": {"aws:PrincipalTag/team": [f"{i}-{v}" for v in big_doc]}})
            last = gql(url, SIMULATE, **{"in": {"policyInputList": [document], "actionNames": ["s3:GetObject"]}})
        assert last is not None
        return last

    def aws(body: dict[str, Any]) -> httpx.Response:
        # json.dumps writes a lone surrogate as the escape \ud800, as a client sending one does.
        return httpx.post(f"{url}/aws/simulate-custom-policy", content=json.dumps(body), headers={"content-type": "application/json"}, timeout=TIMEOUT)

    def distinct_long_strings() -> httpx.Response:
        last = None
        for i in range(100):
            big = f"{i:07d}" + "a" * (2 * 1024 * 1024)
            for body in ({"ResourceArns": ["arn:aws:s3:::" + big]}, {"CallerArn": "arn:aws:iam::111122223333:user/" + big},
                         {"ContextEntries": [{"ContextKeyName": "aws:PrincipalTag/t", "ContextKeyValues": [big], "ContextKeyType": "string"}]}):
                last = aws({"PolicyInputList": [_policy("*")], "ActionNames": ["s3:GetObject"], **body})
        assert last is not None
        return last

    like = "*" + "a?" * 30000 + "b*"
    segmented = "arn:aws:s3:::x*:" + "a*b:" * 3000 + "c*"
    surrogate = _policy("arn:aws:s3:::\ud800")

    def lock_wait() -> httpx.Response:
        other = sqlite3.connect(db, isolation_level=None, timeout=30)
        other.execute("BEGIN IMMEDIATE")
        try:
            return gql(url, f'mutation {{ addUserToGroup(user: "newbie", group: "HR", world: "{DEMO}") {{ __typename ... on UserError {{ code }} }} }}')
        finally:
            other.execute("ROLLBACK")
            other.close()

    def concurrent_heavy() -> httpx.Response:
        browse = "{ world(name: \"big\") { users { name groups { name policies { name statements { actions } } } } } }"
        answers: list[httpx.Response] = []
        threads = [threading.Thread(target=lambda: answers.append(gql(url, browse))) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return answers[-1]

    def slow_body() -> httpx.Response:
        """A body sent a byte at a time (a slowloris): cut off at body_seconds with 408."""
        import socket

        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
            sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: " + host.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
            started, reply = time.monotonic(), b""
            while b"\r\n\r\n" not in reply and time.monotonic() - started < TIMEOUT:
                sock.sendall(b" ")
                sock.settimeout(1.0)
                try:
                    reply += sock.recv(65536)
                except TimeoutError:
                    pass
        if not reply:
            raise httpx.ReadTimeout("no answer to a slow body")
        status = int(reply.split(b" ", 2)[1])
        return httpx.Response(status, content=reply.split(b"\r\n\r\n", 1)[1], headers={"content-type": "application/json"})

    many_files = [{"name": f"f{i}.json", "content": "{}"} for i in range(60_000)]
    slow_yaml = "users:\n" + "".join(f"  - {{name: u{i}}}\n" for i in range(300_000))
    raw = lambda path, body, ctype="application/json", **h: (lambda: httpx.post(f"{url}{path}", content=body, headers={"content-type": ctype, **h}, timeout=TIMEOUT))  # noqa: E731
    return [
        ("backtracking Resource, GraphQL", lambda: gql(url, SIMULATE, **{"in": {"policyInputList": [_policy(BACKTRACKING)], "actionNames": ["s3:GetObject"], "resourceArns": [LONG_ARN]}})),
        ("backtracking Resource, POST /aws JSON", lambda: httpx.post(f"{url}/aws/simulate-custom-policy", json={"PolicyInputList": [_policy(BACKTRACKING)], "ActionNames": ["s3:GetObject"], "ResourceArns": [LONG_ARN]}, timeout=TIMEOUT)),
        ("backtracking, text/plain foreign Origin", raw("/aws/simulate-custom-policy", json.dumps({"PolicyInputList": [_policy(BACKTRACKING)], "ActionNames": ["s3:GetObject"], "ResourceArns": [LONG_ARN]}), "text/plain", origin="https://attacker.example")),
        ("bucket policy *? x 14 stored", lambda: gql(url, 'mutation($d: String!) { putResourcePolicy(arn: "arn:aws:s3:::final-friday-reports", document: $d, world: "final-friday") { __typename } }', d=bucket_policy)),
        ("then can on that bucket", lambda: gql(url, 'query($r: String!) { can(principal: "newbie", action: "s3:PutObject", resource: $r, world: "final-friday") { decision } }', r="arn:aws:s3:::final-friday-reports/" + "a" * 200)),
        ("StringLike a* x 12 + b", lambda: gql(url, SIMULATE, **{"in": {"policyInputList": [_policy("*", {"StringLike": {"aws:PrincipalTag/t": "a*" * 12 + "b"}})], "actionNames": ["s3:GetObject"],
                                                                      "contextEntries": [{"contextKeyName": "aws:PrincipalTag/t", "contextKeyValues": ["a" * 200], "contextKeyType": "string"}]}})),
        ("fragment fan-out 2^40", lambda: gql(url, _fan_out())),
        ("fragment fan-out 2^40, no aliases", lambda: gql(url, _fan_out(alias=False))),
        ("1,000 aliases", lambda: gql(url, "{ " + " ".join(f"a{i}: worlds {{ name }}" for i in range(1000)) + " }")),
        ("batch of 200 fan-out documents", lambda: httpx.post(f"{url}/graphql", json=[{"query": _fan_out()}] * 200, timeout=TIMEOUT)),
        ("YAML alias bomb, importWorld", lambda: gql(url, 'mutation($f: [ImportFileInput!]!) { importWorld(name: "bomb", files: $f) { __typename ... on UserError { code } } }', f=[{"name": "bomb.yaml", "content": bomb}])),
        ("YAML self alias, importWorld", lambda: gql(url, 'mutation($f: [ImportFileInput!]!) { importWorld(name: "self", files: $f) { __typename ... on UserError { code } } }', f=[{"name": "self.yaml", "content": "a: &a [*a]\n"}])),
        ("matrix.csv, repeated lists (2.4 KB URL)", lambda: httpx.get(f"{url}/export/matrix.csv?world={DEMO}&actions=" + ",".join(["s3:GetObject"] * 60) + "&resources=" + ",".join(["*"] * 400) + "&principals=" + ",".join(["kai"] * 200), timeout=TIMEOUT)),
        ("10k statements x 10k pairs", lambda: gql(url, SIMULATE, **{"in": {"policyInputList": [many], "actionNames": ["s3:GetObject"], "resourceArns": [f"arn:aws:s3:::b/{i}" for i in range(10_000)]}})),
        ("20 MB body", raw("/graphql", b"{" + b" " * (20 * 1024 * 1024) + b"}")),
        ("canAssumeEdges, 5,000 users", lambda: gql(url, '{ canAssumeEdges(world: "big") { role } }')),
        ("whoCan 20 actions, 5,000 users", lambda: gql(url, WHO_CAN_20)),
        ("world browse, 5,000 users", lambda: gql(url, '{ world(name: "big") { users { name arn groups { name policies { name statements { actions resources } } } } } }')),
        ("findings, 5,000 users", lambda: gql(url, '{ findings(world: "big") { rule } }')),
        ("8 browses at once, 5,000 users", concurrent_heavy),
        ("500 distinct 100 KB documents", distinct_documents),
        ("policy nested 100,000 deep", lambda: gql(url, SIMULATE, **{"in": {"policyInputList": [deep_policy], "actionNames": ["s3:GetObject"]}})),
        ("GraphQL body a string", raw("/graphql", b'"x"')),
        ("GraphQL body invalid UTF-8", raw("/graphql", b"\xff\xfe{}")),
        ("GraphQL body 100,000 deep", raw("/graphql", b"[" * 100_000 + b"]" * 100_000)),
        ("GraphQL variable of 5,000 digits", raw("/graphql", b'{"query": "{ worlds { name } }", "variables": {"n": ' + b"9" * 5000 + b"}}")),
        ("/aws body a string", raw("/aws/simulate-custom-policy", b'"x"')),
        ("/aws body invalid UTF-8", raw("/aws/simulate-custom-policy", b"\xff{}")),
        ("/aws body 50,000 deep", raw("/aws/simulate-custom-policy", b'{"a":' * 50_000 + b"1" + b"}" * 50_000)),
        ("/aws number of 5,000 digits", raw("/aws/simulate-custom-policy", b'{"ActionNames": [' + b"1" * 5000 + b"]}")),
        ("matrix.csv action not UTF-8", lambda: httpx.get(f"{url}/export/matrix.csv?actions=%FF%FE&resources=*", timeout=TIMEOUT)),
        ("60 KB query string", lambda: httpx.get(f"{url}/graphql?query=" + "{" * 60_000, timeout=TIMEOUT)),
        ("lock held by another process", lock_wait),
        # Found by a review of the corpus above (2026-12-04): other entry points, other shapes.
        ("mutation with a fan-out payload, 5,000 users", lambda: gql(url, 'mutation { tagUser(world: "big", user: "user-00000", tags: [{key: "a", value: "b"}]) { __typename ... on UserPayload { user { groups { users { groups { users { name } } } } } } } }')),
        ("importWorld of 60,000 files", lambda: gql(url, 'mutation($f: [ImportFileInput!]!) { importWorld(name: "many", files: $f) { __typename } }', f=many_files)),
        ("importWorld of a 300,000-entry YAML list", lambda: gql(url, 'mutation($f: [ImportFileInput!]!) { importWorld(name: "slow", files: $f) { __typename } }', f=[{"name": "slow.yaml", "content": slow_yaml}])),
        ("variables of 3.3 M empty lists (10 MB)", raw("/graphql", b'{"query": "{ worlds { name } }", "variables": {"a": [' + b",".join([b"[]"] * 3_300_000) + b"]}}")),
        ("/aws body of 3.3 M empty lists", raw("/aws/simulate-custom-policy", b'{"ActionNames": [' + b",".join([b"[]"] * 3_300_000) + b"]}")),
        ("canMany of 100,000 questions", lambda: gql(url, 'query($q: [CanQuestion!]!) { canMany(questions: $q, world: "big") { __typename } }',
                                                      q=[{"principal": "user-00001", "action": "s3:GetObject", "resource": "*"}] * 100_000)),
        ("600 fields of one name", lambda: gql(url, "{ " + "worlds { name } " * 600 + "}")),
        ("body sent a byte at a time", slow_body),
        ("websocket: users x3 levels, 5,000 users", ws(url, {"id": "1", "type": "subscribe", "payload": {"query": NESTED_USERS}})),
        ("websocket: whoCan 20 actions, 5,000 users", ws(url, {"id": "1", "type": "subscribe", "payload": {"query": WHO_CAN_20}})),
        ("websocket: fragment fan-out 2^40", ws(url, {"id": "1", "type": "subscribe", "payload": {"query": _fan_out()}})),
        ("websocket: message a string", ws(url, '"x"')),
        ("websocket: variables 100,000 deep", ws(url, '{"id": "1", "type": "subscribe", "payload": {"query": "{ worlds { name } }", "variables": {"v": ' + "[" * 100_000 + "]" * 100_000 + "}}}")),
        ("websocket: number of 5,000 digits", ws(url, '{"id": "1", "type": "subscribe", "payload": {"query": "{ worlds { name } }", "variables": {"n": ' + "9" * 5000 + "}}}")),
        ("StringLike a? x 30,000 vs 120,000 a's", lambda: gql(url, SIMULATE, **{"in": {"policyInputList": [_policy("*", {"StringLike": {"aws:PrincipalTag/t": like}})], "actionNames": ["s3:GetObject"],
                                                                                     "contextEntries": [{"contextKeyName": "aws:PrincipalTag/t", "contextKeyValues": ["a" * 120_000], "contextKeyType": "string"}]}})),
        ("StringLike a? x 30,000, short value", lambda: gql(url, SIMULATE, **{"in": {"policyInputList": [_policy("*", {"StringLike": {"aws:PrincipalTag/t": like}})], "actionNames": ["s3:GetObject"],
                                                                                   "contextEntries": [{"contextKeyName": "aws:PrincipalTag/t", "contextKeyValues": ["a" * 100], "contextKeyType": "string"}]}})),
        ("Resource a? x 30,000, POST /aws", lambda: aws({"PolicyInputList": [_policy("arn:aws:s3:::" + "a?" * 30000 + "b*")], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::" + "a" * 120_000]})),
        ("ARN of 3,000 segments vs 90 KB ARN", lambda: aws({"PolicyInputList": [_policy(segmented)], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::x" + ":ab" * 30000 + ":dX"]})),
        ("ARN of 300 segments vs 600 (caps)", lambda: aws({"PolicyInputList": [_policy("arn:aws:s3:::x*:" + "a*b:" * 300 + "c*")], "ActionNames": ["s3:GetObject"], "ResourceArns": ["arn:aws:s3:::x" + ":ab" * 600 + ":dX"]})),
        ("300 distinct 2 MB ARNs/callers/values", distinct_long_strings),
        ("lone surrogate in a policy, POST /aws", lambda: aws({"PolicyInputList": [json.dumps(json.loads(surrogate), ensure_ascii=False)], "ActionNames": ["s3:GetObject"]})),
        ("lone surrogate in a policy, GraphQL", lambda: httpx.post(f"{url}/graphql", content=json.dumps({"query": SIMULATE, "variables": {"in": {"policyInputList": [surrogate], "actionNames": ["s3:GetObject"]}}}),
                                                                    headers={"content-type": "application/json"}, timeout=TIMEOUT)),
        ("lone surrogate in callerArn, POST /aws", lambda: aws({"PolicyInputList": [_policy("*")], "ActionNames": ["s3:GetObject"], "CallerArn": "arn:aws:iam::111122223333:user/\ud800"})),
    ]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", action="append", metavar="TEXT", help="run only the cases whose name holds TEXT (repeatable)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "big.json"
        world.write_text(json.dumps(_big_world(5000, 400)))
        db = Path(tmp) / "store.db"
        port = _free_port()
        proc = subprocess.Popen([str(BIN), "serve", "--db", str(db), "--world", str(world), "--port", str(port), "--log-level", "warning"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            started = time.monotonic()
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() - started > 120 or proc.poll() is not None:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            rss_start = _rss_kb(proc.pid)
            outcomes = []
            for name, send in cases(url, db):
                if args.only and not any(text in name for text in args.only):
                    continue
                outcomes.append(run_case(url, name, send, proc))
                print(f"... {name}: {outcomes[-1].code} in {outcomes[-1].seconds:.2f} s", file=sys.stderr, flush=True)
            rss_end = _rss_kb(proc.pid)
        finally:
            proc.kill()
            proc.wait()
    hangs = sum(o.code == "HANG" for o in outcomes)
    errors = sum(o.status is not None and o.status >= 500 for o in outcomes)
    crashes = sum(o.note == "server died" for o in outcomes)
    if args.json:
        for o in outcomes:
            print(json.dumps(o.__dict__))
    else:
        print(f"{'case':<42} {'status':>6}  {'answer':<22} {'seconds':>8} {'healthz max ms':>15} {'checks':>7}")
        for o in outcomes:
            print(f"{o.case:<42} {o.status if o.status is not None else '-':>6}  {o.code[:22]:<22} {o.seconds:>8.3f} {o.health_max_ms:>15.1f} {o.health_checks:>7}  {o.note}")
        print(f"\n{len(outcomes)} cases: {hangs} hangs, {errors} 5xx, {crashes} crashes; server RSS {rss_start // 1024} MB at start, {rss_end // 1024} MB at the end")
    return 1 if hangs or errors or crashes else 0


def run_case(url: str, name: str, send: Callable[[], httpx.Response], proc: subprocess.Popen[bytes]) -> Outcome:
    done = threading.Event()
    health: list[float] = []

    def probe() -> None:
        while not done.is_set():
            t = time.perf_counter()
            try:
                httpx.get(f"{url}/healthz", timeout=TIMEOUT)
                health.append((time.perf_counter() - t) * 1000)
            except httpx.HTTPError:
                health.append(float("inf"))
            done.wait(0.02)

    prober = threading.Thread(target=probe)
    prober.start()
    t = time.perf_counter()
    status: int | None = None
    try:
        response = send()
        status, code = response.status_code, _code(response)
    except httpx.TimeoutException:
        code = "HANG"
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        code = f"{type(exc).__name__}"
    seconds = time.perf_counter() - t
    done.set()
    prober.join()
    note = "server died" if proc.poll() is not None else ""
    return Outcome(name, status, code, seconds, max(health, default=0.0), len(health), note)


if __name__ == "__main__":
    sys.exit(main())
