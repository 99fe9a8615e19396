"""SIGKILL a server again and again under writers, then check that nothing acknowledged was lost
(issue 15 item 7). Run by hand (bounded in time, loopback only):

    .venv/bin/python bench/kill_loop.py                 # 20 kills, 4 writers
    .venv/bin/python bench/kill_loop.py --kills 5 --writers 2

It starts `graphsim serve` on a store in a temporary folder, with an organization in the demo
world. Four writer threads send changes as fast as they are answered: users, and organization
changes (a new account, a new OU, moving accounts between OUs, a new SCP attached to an OU). A
write counts as acknowledged when its answer is HTTP 200 with the success payload. Every 1-2 s
the server is SIGKILLed and started again on the same store; a restart is clean when /healthz
answers and no world of the store is UNREADABLE. At the end every acknowledged user, account,
OU and SCP attachment must be in the world, and each account in the OU of its last acknowledged
move (writers move only their own accounts, so "last" is well defined).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

BIN = Path(sys.executable).parent / "graphsim"
R = "{ __typename ... on ChangePayload { changed } ... on UserError { code message } }"
FULL = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
DENY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]})


@dataclass
class Acknowledged:
    users: set[str] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    attachments: set[tuple[str, str]] = field(default_factory=set)  # (policy, OU)
    placement: dict[str, str] = field(default_factory=dict)  # account -> OU of its last acknowledged move
    writes: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Server:
    """The one `graphsim serve` process of the run: started again after each kill, and stopped
    when the run ends, however it ends (a failed setup, a check that raises, Ctrl-C)."""

    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port = db, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.kill()
        self.proc = subprocess.Popen([str(BIN), "serve", "--db", str(self.db), "--port", str(self.port), "--log-level", "warning"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise SystemExit("the server did not start within 60 s" if self.proc.poll() is None else f"the server exited with {self.proc.returncode} at start")

    def kill(self) -> None:
        """SIGKILL, and wait for it to be gone."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.kill()


def post(url: str, query: str, **variables: Any) -> dict[str, Any] | None:
    try:
        response = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=10)
    except httpx.HTTPError:
        return None  # the server died under us: never acknowledged
    if response.status_code != 200:
        return None
    data = response.json().get("data") or {}
    return next(iter(data.values()), None)


def writer(url: str, n: int, ack: Acknowledged, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    mine: list[str] = []  # this writer's accounts
    units = ["ou/Base"]
    i = 0
    while not stop.is_set():
        i += 1
        kind = rng.choice(["user", "user", "account", "unit", "move", "move", "scp"])
        if kind == "account" or (kind == "move" and not mine):
            account = f"{n:02d}{i:010d}"
            answer = post(url, f'mutation {{ createAccount(id: "{account}") {R} }}')
            if answer and answer.get("__typename") == "ChangePayload":
                with ack.lock:
                    ack.accounts.add(account)
                    ack.placement[account] = ""  # a new account is in no unit until it is moved
                    ack.writes += 1
                mine.append(account)
            continue
        if kind == "user":
            name, query = f"w{n}-u{i}", f'mutation {{ createUser(name: "w{n}-u{i}") {{ __typename ... on UserError {{ code }} }} }}'
            answer = post(url, query)
            if answer and answer.get("__typename") == "UserPayload":
                with ack.lock:
                    ack.users.add(name)
                    ack.writes += 1
            else:
                _failed(ack, answer)
        elif kind == "unit":
            name = f"W{n}U{i}"
            answer = post(url, f'mutation {{ createOrganizationalUnit(name: "{name}", parent: "{rng.choice(units)}") {R} }}')
            if answer and answer.get("__typename") == "ChangePayload":
                with ack.lock:
                    ack.units.add(f"ou/{name}")
                    ack.writes += 1
                units.append(f"ou/{name}")
            else:
                _failed(ack, answer)
        elif kind == "move":
            account, target = rng.choice(mine), rng.choice(units)
            answer = post(url, f'mutation {{ moveAccount(account: "{account}", parent: "{target}") {R} }}')
            if answer and answer.get("__typename") == "ChangePayload":
                with ack.lock:
                    ack.placement[account] = target
                    ack.writes += 1
            elif answer is None:
                # Unknown outcome (the server died mid-answer): the account may be in either place.
                with ack.lock:
                    ack.placement[account] = f"{ack.placement[account]}|{target}"
            else:
                _failed(ack, answer)
        else:
            policy, target = f"W{n}P{i}", rng.choice(units)
            answer = post(url, f'mutation($d: String!) {{ createOrgPolicy(name: "{policy}", type: "scp", document: $d) {R} }}', d=DENY)
            if not answer or answer.get("__typename") != "ChangePayload":
                _failed(ack, answer)
                continue
            answer = post(url, f'mutation {{ attachOrgPolicy(policy: "{policy}", target: "{target}") {R} }}')
            if answer and answer.get("__typename") == "ChangePayload":
                with ack.lock:
                    ack.attachments.add((policy, target))
                    ack.writes += 2
            else:
                _failed(ack, answer)


def _failed(ack: Acknowledged, answer: dict[str, Any] | None) -> None:
    code = "no answer" if answer is None else str(answer.get("code") or answer.get("__typename"))
    with ack.lock:
        ack.failures[code] = ack.failures.get(code, 0) + 1


def check(url: str, ack: Acknowledged) -> list[str]:
    world = post(url, "{ world { users { name } accounts organization { units { key accounts policies } } } }")
    assert world is not None, "the final server does not answer"
    users = {u["name"] for u in world["users"]}
    units = {u["key"]: u for u in world["organization"]["units"]}
    lost = [f"user {u}" for u in sorted(ack.users - users)]
    lost += [f"OU {u}" for u in sorted(ack.units - set(units))]
    where = {a: key for key, u in units.items() for a in u["accounts"]}
    lost += [f"account {a}" for a in sorted(ack.accounts - set(world["accounts"]))]
    for account, expected in sorted(ack.placement.items()):
        if where.get(account, "") not in expected.split("|"):
            lost += [f"move of {account}: in {where[account]}, acknowledged {expected}"]
    names = {k: {p for p in u["policies"]} for k, u in units.items()}
    lost += [f"SCP {p} on {t}" for p, t in sorted(ack.attachments) if f"scp/{p}" not in names.get(t, set())]
    return lost


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--writers", type=int, default=4)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from test_hostile import _free_port

    ack = Acknowledged()
    unclean: list[str] = []
    restarts: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp) / "store.db", _free_port()) as server:
        url = f"http://127.0.0.1:{server.port}"
        server.start()
        for setup in ('mutation { createOrganization(managementAccount: "111122223333") ' + R + " }",
                      'mutation { createOrganizationalUnit(name: "Base", parent: "org-root/r-root") ' + R + " }"):
            answer = post(url, setup)
            if (answer or {}).get("__typename") != "ChangePayload":
                raise SystemExit(f"setup failed: {setup} answered {answer}")
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(url, n, ack, stop, n)) for n in range(args.writers)]
        for t in threads:
            t.start()
        rng = random.Random(0)
        try:
            for kill in range(args.kills):
                time.sleep(rng.uniform(1.0, 2.0))
                server.kill()  # SIGKILL
                t0 = time.perf_counter()
                server.start()
                restarts.append(time.perf_counter() - t0)
                worlds = post(url, "{ worlds { name status error } }") or []
                bad = [w for w in worlds if w["status"] != "READY"] if isinstance(worlds, list) else ["no answer"]
                if bad:
                    unclean.append(f"restart {kill + 1}: {bad}")
        finally:
            stop.set()
            for t in threads:
                t.join()
        server.start()  # once more, with no writer: what the store holds now
        lost = check(url, ack)
    print(f"{args.kills} SIGKILLs under {args.writers} writers: {ack.writes:,} acknowledged writes "
          f"({len(ack.users)} users, {len(ack.accounts)} accounts, {len(ack.units)} OUs, {len(ack.attachments)} SCPs attached, "
          f"{sum(1 for v in ack.placement.values() if '|' not in v)} accounts placed), {len(lost)} lost; "
          f"{args.kills - len(unclean)} of {args.kills} restarts clean (slowest {max(restarts):.2f} s)")
    print(f"writes refused or unanswered: {dict(sorted(ack.failures.items()))}")
    for line in lost[:20] + unclean[:20]:
        print("  " + line)
    return 1 if lost or unclean else 0


if __name__ == "__main__":
    sys.exit(main())
