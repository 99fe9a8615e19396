"""The ``graphsim`` command: serve the API, ask questions, export the schema.

Exit codes: 0 success (and any --expect met), 1 an --expect not met, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .engine import DecisionKind, explain, parse_cli_context
from .errors import GraphsimError, InvalidRequestError
from .workspace import Workspace

EXIT_OK, EXIT_EXPECTATION, EXIT_INPUT = 0, 1, 2


def _workspace(world_file: str | None) -> Workspace:
    if world_file is None:
        return Workspace.with_world()
    from .world.io import load_world_file

    return Workspace.with_world(load_world_file(world_file))


def _decision_name(text: str) -> DecisionKind:
    aliases = {"allowed": "ALLOWED", "explicitdeny": "EXPLICIT_DENY", "implicitdeny": "IMPLICIT_DENY"}
    value = aliases.get(text.replace("_", "").replace("-", "").lower(), text.upper())
    try:
        return DecisionKind(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be ALLOWED, EXPLICIT_DENY or IMPLICIT_DENY, got {text!r}") from None


def cmd_can(args: argparse.Namespace) -> int:
    ws = _workspace(args.world)
    session_policy = None
    if args.session_policy is not None:
        session_policy = Path(args.session_policy[len("file://"):]).read_text(encoding="utf-8") if args.session_policy.startswith("file://") else args.session_policy
    decision = ws.engine().can(
        args.principal, args.action, args.resource, parse_cli_context(args.context or []), session_policy=session_policy, via_roles=args.via_roles
    )
    if args.json:
        print(json.dumps({**decision.to_dict(), "explanation": explain(decision)}, indent=2))
    else:
        print(explain(decision))
    if args.expect is not None and decision.decision is not args.expect:
        print(f"expected {args.expect.value}, got {decision.decision.value}", file=sys.stderr)
        return EXIT_EXPECTATION
    return EXIT_OK


def _read_cli_input(text: str) -> Any:
    """``--cli-input-json`` as the AWS CLI takes it: ``file://path`` or the JSON itself."""
    if text.startswith("file://"):
        path = text[len("file://"):]
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidRequestError(f"cannot read {path}: {exc.strerror}", field="--cli-input-json") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidRequestError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", field="--cli-input-json") from None


def _simulate(args: argparse.Namespace, run: Callable[[Any], dict[str, Any]]) -> int:
    if args.cli_input_json is not None:
        print(json.dumps(run(_read_cli_input(args.cli_input_json)), indent=4))
        return EXIT_OK
    # --input-jsonl: one request per line, one response per line, in order; a bad line gets an
    # {"Error": ...} line and the exit code says some failed.
    from .batch import run_jsonl

    stream = sys.stdin if args.input_jsonl == "-" else open(args.input_jsonl, encoding="utf-8")  # noqa: SIM115
    with stream:
        failed = run_jsonl(stream, sys.stdout, run, jobs=args.jobs)
    if failed:
        print(f"{failed} request(s) failed; see the Error lines", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def cmd_simulate_custom(args: argparse.Namespace) -> int:
    from .awscli import simulate_custom_policy

    return _simulate(args, simulate_custom_policy)


def cmd_simulate_principal(args: argparse.Namespace) -> int:
    from .awscli import simulate_principal_policy

    engine = _workspace(args.world).engine()
    return _simulate(args, lambda request: simulate_principal_policy(engine, request))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .api.app import create_app

    ws = _workspace(args.world)
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback:
        print(f"warning: listening on {args.host}, reachable beyond this machine", file=sys.stderr)
    app = create_app(ws, cors_origins=args.cors_origin or [])
    print(f"graphsim: world {ws.default!r}; GraphiQL at http://{args.host}:{args.port}/graphql", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return EXIT_OK


def cmd_export_schema(args: argparse.Namespace) -> int:
    from .api.schema import schema

    sdl = schema.as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(sdl, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphsim", description="Offline AWS IAM policy simulator over a graph of your IAM world.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL API (GraphiQL at /graphql) on a world")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--world", metavar="FILE", help="a world file to serve instead of the built-in final-friday demo")
    serve.add_argument("--cors-origin", action="append", metavar="ORIGIN", help="allow browser pages from ORIGIN (repeatable; none by default)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=cmd_serve)

    can = sub.add_parser("can", help="can PRINCIPAL do ACTION on RESOURCE?")
    can.add_argument("principal", help="user or role name, or ARN")
    can.add_argument("action", help="e.g. s3:GetObject")
    can.add_argument("resource", help="an ARN, '*', or the name of a bucket in the world")
    can.add_argument("--context", action="append", metavar="KEY=VALUE", help="request context (repeat a key for a list)")
    can.add_argument("--json", action="store_true", help="print the decision as JSON")
    can.add_argument("--expect", type=_decision_name, metavar="DECISION", help="exit 1 unless the decision is this (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY)")
    can.add_argument("--world", metavar="FILE", help="a world file (default: the built-in final-friday demo)")
    can.add_argument("--via-roles", action="store_true", help="if not allowed directly, also try the roles the principal can assume")
    can.add_argument("--session-policy", metavar="JSON", help="a session policy for a role principal (JSON, or file://PATH)")
    can.set_defaults(func=cmd_can)

    for name, func, helptext in (
        ("simulate-custom-policy", cmd_simulate_custom, "AWS's simulate-custom-policy: the same --cli-input-json keys, the same output"),
        ("simulate-principal-policy", cmd_simulate_principal, "AWS's simulate-principal-policy against the world"),
    ):
        sim = sub.add_parser(name, help=helptext)
        source = sim.add_mutually_exclusive_group(required=True)
        source.add_argument("--cli-input-json", metavar="JSON", help="a request as `aws iam " + name + " --cli-input-json` takes it (file://PATH or JSON)")
        source.add_argument("--input-jsonl", metavar="FILE", help="many requests, one JSON object per line (- for stdin); one response per line")
        sim.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="processes for --input-jsonl (default: the cores, at most 4)")
        if name == "simulate-principal-policy":
            sim.add_argument("--world", metavar="FILE", help="a world file (default: the built-in final-friday demo)")
        sim.set_defaults(func=func)

    schema = sub.add_parser("export-schema", help="write the GraphQL SDL")
    schema.add_argument("--output", default="schema/schema.graphql", help="file to write, or - for stdout (default: schema/schema.graphql)")
    schema.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except GraphsimError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"error{where}: {exc.message}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
