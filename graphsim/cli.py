"""The ``graphsim`` command: serve the API, ask questions, export the schema.

Exit codes: 0 success (and any --expect met), 1 an --expect not met, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .engine import DecisionKind, explain, parse_cli_context
from .errors import GraphsimError
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
    decision = ws.engine().can(args.principal, args.action, args.resource, parse_cli_context(args.context or []))
    if args.json:
        print(json.dumps({**decision.to_dict(), "explanation": explain(decision)}, indent=2))
    else:
        print(explain(decision))
    if args.expect is not None and decision.decision is not args.expect:
        print(f"expected {args.expect.value}, got {decision.decision.value}", file=sys.stderr)
        return EXIT_EXPECTATION
    return EXIT_OK


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
    can.set_defaults(func=cmd_can)

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
