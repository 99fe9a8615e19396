"""The ``graphsim`` command: serve the API, ask questions, export the schema.

Exit codes: 0 success (and any --expect met), 1 an --expect (or expectation) not met, 2 bad
input or usage, 3 an internal error (a bug), 130 interrupted (Ctrl-C), 141 the output was closed
early (``graphsim findings | head -1``): both end quietly, with the codes a shell gives a program
ended by SIGINT or SIGPIPE (128 + the signal's number), so ``set -o pipefail`` still notices.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import limits as L
from .engine import ContextEntry, DecisionKind, Engine, explain, parse_cli_context
from .errors import GraphsimError, InvalidRequestError
from .limits import JsonInputError, Limits, read_json
from .presentation import to_json
from .store.location import store_location
from .store.sqlite import default_db_path
from .workspace import Workspace
from .world import NodeKind

EXIT_OK, EXIT_EXPECTATION, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 128 + 2, 128 + 13  # SIGINT, SIGPIPE


def _is_world_file(text: str) -> bool:
    return text.endswith((".json", ".yaml", ".yml")) or Path(text).is_file()


def _workspace(args: argparse.Namespace, *, store: bool = False) -> Workspace:
    """The worlds a command works on, by the rule every command and the server share: the
    store (``--db``, else ``$GRAPHSIM_DB``, else the documented path) and its default world,
    unless ``--world`` names another world of it. ``--world FILE`` answers from that file alone
    (``serve`` loads it into a throw-away store, or into ``--db``)."""
    world = getattr(args, "world", None)
    db = getattr(args, "db", None)
    if world is not None and _is_world_file(world):
        from .imports import import_files

        if not store and db is not None:
            raise InvalidRequestError(f"--world {world} is a world file and is answered on its own, so --db would be ignored; import it first (graphsim import {world} --world NAME)", field="--db")
        loaded = import_files([world]).to_world()
        if not store:
            return Workspace.with_world(loaded)
        ws = Workspace.open(db or ":memory:")
        ws.import_world(loaded.name, loaded, replace=True, sources=[world])
        ws.default = ws.pinned = loaded.name
        return ws
    return Workspace.open(store_location(db), default=world)


def _store(args: argparse.Namespace) -> Workspace:
    """The store of a command that works on several worlds by name (import, fork, diff)."""
    return Workspace.open(store_location(getattr(args, "db", None)))


def _answered_by(engine: Engine) -> dict[str, Any]:
    return {"name": engine.world.name, "version": engine.world.version}


def _say_world(engine: Engine, *, to_stdout: bool) -> None:
    """Every answer names the world and version that gave it: on stdout after a text answer, on
    stderr beside JSON lists, CSV and AWS-shaped output (which stay exactly their format)."""
    print(f"answered from world {engine.world.name!r} at version {engine.world.version}", file=sys.stdout if to_stdout else sys.stderr)


def _decision_name(text: str) -> DecisionKind:
    try:
        return DecisionKind.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_can(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    session_policy = None
    if args.session_policy is not None:
        session_policy = _file_or_text(args.session_policy, "--session-policy")
    decision = ws.engine().can(
        args.principal, args.action, args.resource, parse_cli_context(args.context or [], args.context_type or []), session_policy=session_policy, via_roles=args.via_roles
    )
    engine = ws.engine()
    if args.json:
        print(json.dumps({**to_json(decision), "explanation": explain(decision), "world": _answered_by(engine)}, indent=2))
    else:
        print(explain(decision))
        _say_world(engine, to_stdout=True)
    if args.expect is not None and decision.decision is not args.expect:
        print(f"expected {args.expect.value}, got {decision.decision.value}", file=sys.stderr)
        return EXIT_EXPECTATION
    return EXIT_OK


def _file_or_text(text: str, option: str) -> str:
    """An option given as ``file://path`` (as the AWS CLI takes them) or as the text itself."""
    if not text.startswith("file://"):
        return text
    path = text[len("file://"):]
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"{path} is not UTF-8 text (byte {exc.start})", field=option) from None
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {path}: {exc.strerror}", field=option) from None


def _read_cli_input(text: str, option: str = "--cli-input-json") -> Any:
    """JSON given as ``file://path`` or inline, read as a server reads a body (its limits: the
    command's --max-json-depth and the defaults)."""
    try:
        return read_json(_file_or_text(text, option), what=option)
    except JsonInputError as exc:
        exc.field = option
        raise


def _simulate(args: argparse.Namespace, run: Callable[[Any], dict[str, Any]]) -> int:
    if args.cli_input_json is not None:
        print(json.dumps(run(_read_cli_input(args.cli_input_json)), indent=4))
        return EXIT_OK
    # --input-jsonl: one request per line, one response per line, in order; a bad line gets an
    # {"Error": ...} line and the exit code says some failed.
    from .batch import run_jsonl

    try:
        stream = sys.stdin if args.input_jsonl == "-" else open(args.input_jsonl, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {args.input_jsonl}: {exc.strerror}", field="--input-jsonl") from None
    with stream:
        failed = run_jsonl(stream, sys.stdout, run, jobs=args.jobs)
    global _EXIT_AT_ONCE
    _EXIT_AT_ONCE = True
    if failed:
        print(f"{failed} request(s) failed; see the Error lines", file=sys.stderr)
        return EXIT_INPUT
    return EXIT_OK


def cmd_simulate_custom(args: argparse.Namespace) -> int:
    from .awscli import simulate_custom_policy

    return _simulate(args, simulate_custom_policy)


def cmd_simulate_principal(args: argparse.Namespace) -> int:
    from .awscli import simulate_principal_policy

    engine = _workspace(args).engine()
    _say_world(engine, to_stdout=False)
    return _simulate(args, lambda request: simulate_principal_policy(engine, request))


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .api.metrics import log_requests
    from .api.security import ServerSecurity, is_loopback
    from .api.serving import ServeConfig, build_app, run_workers
    from .store.location import MEMORY

    # Checked before the store is opened: a server that may not start leaves nothing behind.
    ServerSecurity.for_serving(
        args.host, token_file=args.token_file, read_token_file=args.read_token_file, read_only=args.read_only, allowed_hosts=args.allowed_host or [],
    )
    if args.workers < 1:
        raise InvalidRequestError(f"--workers must be at least 1, got {args.workers}", field="--workers")
    if args.workers > 1 and (args.db == MEMORY or (args.db is None and args.world is not None and _is_world_file(args.world))):
        raise InvalidRequestError(
            f"--workers {args.workers} runs {args.workers} processes on one store, and a throw-away (:memory:) store cannot be shared; "
            "give --db PATH (a --world FILE is imported into it)", field="--workers",
        )
    ws = _workspace(args, store=True)
    assert ws.store is not None
    if not is_loopback(args.host):
        print(f"warning: listening on {args.host}, reachable beyond this machine; " + ("read-only" if args.read_only else "mutations need the write token"), file=sys.stderr)
    for name, reason in sorted(ws.unreadable.items()):
        print(f"warning: world {name!r} cannot be read and is not served: {reason}", file=sys.stderr)
    config = ServeConfig(
        host=args.host, db=ws.store.location, world=ws.pinned, cors_origins=tuple(args.cors_origin or ()), token_file=args.token_file,
        read_token_file=args.read_token_file, read_only=args.read_only, allowed_hosts=tuple(args.allowed_host or ()),
        limits=limits_from_arguments(args),
    )
    log_requests(args.log_level)
    processes = f"{args.workers} worker processes on {ws.store.path}" if args.workers > 1 else f"store {ws.store.path}"
    print(f"graphsim: world {ws.default!r}, {processes}; GraphiQL at http://{args.host}:{args.port}/graphql", file=sys.stderr)
    # access_log off: graphsim logs each request itself, as one JSON line (api/metrics.py).
    if args.workers == 1:
        uvicorn.run(build_app(config, workspace=ws), host=args.host, port=args.port, log_level=args.log_level, access_log=False)
        return EXIT_OK
    ws.store.close()  # each worker opens the store itself
    run_workers(config, workers=args.workers, port=args.port, log_level=args.log_level)
    return EXIT_OK


def cmd_worlds(args: argparse.Namespace) -> int:
    ws = _workspace(args, store=True)
    if args.set_default is not None:
        print(f"the default world of {ws.store.path if ws.store else 'the store'} is now {ws.set_default(args.set_default)!r}", file=sys.stderr)
    records = ws.records()
    if args.json:
        print(json.dumps([
            {"name": r.name, "version": r.version, "default": r.name == ws.default, "createdAt": r.created_at, "forkedFrom": r.forked_from,
             "status": "UNREADABLE" if r.name in ws.unreadable else "READY", "error": ws.unreadable.get(r.name)}
            for r in records
        ], indent=2))
        return EXIT_OK
    print(f"{'world':<24} {'version':>7}  {'created':<27} {'status':<10} forked from")
    for r in records:
        mark = "*" if r.name == ws.default else " "
        status = "UNREADABLE" if r.name in ws.unreadable else "ready"
        print(f"{mark}{r.name:<23} {r.version:>7}  {r.created_at:<27} {status:<10} {r.forked_from or ''}")
    for name, reason in sorted(ws.unreadable.items()):
        print(f"world {name!r} cannot be read: {reason}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from .world.io import world_to_dict

    ws = _workspace(args, store=True)
    data = world_to_dict(ws.world(args.world))
    if args.format == "yaml":
        import yaml

        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    else:
        text = json.dumps(data, indent=2) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from .imports import import_files
    from .workspace import check_world_name

    check_world_name(args.world)  # before reading anything
    result = import_files(args.files, name=args.world)
    built = result.to_world()  # before the store is opened: bad input leaves no file behind
    ws = Workspace.open(store_location(getattr(args, "db", None)), load=False)  # adding one world rebuilds none
    world = ws.import_world(args.world, built, replace=args.replace, sources=[str(p) for p in args.files])
    if args.findings:
        for finding in result.findings:
            print(f"finding: {finding.source}: {finding.path}: {finding.message} [{finding.severity}]", file=sys.stderr)
    elif not args.quiet and result.findings:
        print(findings_summary(result.findings), file=sys.stderr)
    counts = {kind: sum(1 for _ in world.nodes_of(kind)) for kind in (NodeKind.USER, NodeKind.GROUP, NodeKind.ROLE, NodeKind.POLICY)}
    print(
        f"imported world {world.name!r} (version {world.version}): {counts[NodeKind.USER]} users, {counts[NodeKind.GROUP]} groups, "
        f"{counts[NodeKind.ROLE]} roles, {counts[NodeKind.POLICY]} managed policies; {len(result.findings)} findings"
    )
    return EXIT_OK


def findings_summary(findings: Sequence[Any], *, top: int = 8) -> str:
    """Import findings counted by severity and by kind (``Finding.kind``), most common first, in
    a few lines whatever their number; ``--findings`` lists each one."""
    from collections import Counter

    severities = Counter(f.severity for f in findings)
    kinds = Counter((f.severity, f.kind) for f in findings)
    lines = [f"findings: {len(findings):,} (" + ", ".join(f"{severities[s]:,} {s}" for s in ("error", "warning", "info") if severities[s]) + "), by kind:"]
    for (severity, kind), n in kinds.most_common(top):
        example = next(f for f in findings if f.severity == severity and f.kind == kind)
        lines.append(f"  {n:>7,}  {severity:<7}  {kind}   (e.g. {example.source}: {example.path})")
    if len(kinds) > top:
        rest = sum(n for _, n in kinds.most_common()[top:])
        lines.append(f"  {rest:>7,}  of {len(kinds) - top} other kinds")
    lines.append("  (--findings lists every one)")
    return "\n".join(lines)


def cmd_test(args: argparse.Namespace) -> int:
    from .expectations import check, junit_xml, load_expectations, table

    expectations = load_expectations(args.file)
    engine = _workspace(args).engine()
    outcomes = check(engine, expectations)
    _say_world(engine, to_stdout=True)
    print(table(outcomes))
    if args.junit:
        Path(args.junit).write_text(junit_xml(outcomes), encoding="utf-8")
    return EXIT_OK if all(o.passed for o in outcomes) else EXIT_EXPECTATION


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2))


def _context_arg(args: argparse.Namespace) -> tuple[ContextEntry, ...]:
    return tuple(parse_cli_context(getattr(args, "context", None) or [], getattr(args, "context_type", None) or []))


@contextlib.contextmanager
def _cluster(args: argparse.Namespace) -> Any:
    """The Dask cluster an analysis runs on (``--cluster ADDRESS`` or ``--dask-workers N``), else
    None: one process, as always. Says on stderr where and how long it ran."""
    address, workers = getattr(args, "cluster", None), getattr(args, "dask_workers", None)
    if address is None and workers is None:
        yield None
        return
    if address is not None and workers is not None:
        raise InvalidRequestError("give --cluster (a running scheduler) or --dask-workers (a local cluster), not both", field="--dask-workers")
    import time

    from . import distributed

    started = time.perf_counter()
    with distributed.connect(address, workers) as cluster:
        yield cluster
        print(f"computed on {cluster.workers} Dask worker(s) {'at ' + address if address else 'on this machine'} in {time.perf_counter() - started:.2f} s", file=sys.stderr)


def _store_of(ws: Workspace) -> str | None:
    """Where a Dask worker reads the world from: the store, unless the world is only in memory."""
    return ws.store.location if ws.store is not None else None


def cmd_who_can(args: argparse.Namespace) -> int:
    from .analysis import who_can

    ws = _workspace(args)
    engine = ws.engine()
    with _cluster(args) as cluster:
        if cluster is None:
            entries = who_can(engine, args.actions, args.resource, _context_arg(args))
        else:
            from . import distributed

            entries = distributed.who_can(cluster, engine, _store_of(ws), args.actions, args.resource, _context_arg(args))
    if args.json:
        _say_world(engine, to_stdout=False)
    if args.json:
        _emit([to_json(e) for e in entries])
        return EXIT_OK
    for e in entries:
        how = e.access + (f" through {' -> '.join(r.rsplit('/', 1)[1] for r in e.via_roles)}" if e.via_roles else "")
        print(f"{e.label:<40} {e.action:<24} {how}")
        for path in e.paths:
            print(f"    {path}")
    if not entries:
        print("nobody")
    _say_world(engine, to_stdout=True)
    return EXIT_OK


def cmd_what_can(args: argparse.Namespace) -> int:
    from .analysis import what_can

    engine = _workspace(args).engine()
    perms = what_can(engine, args.principal, args.service, args.resource_prefix)
    if args.json:
        _emit({**to_json(perms), "world": _answered_by(engine)})
        return EXIT_OK
    for grant in perms.grants:
        print(grant.resource)
        for action in grant.actions:
            mark = " (conditional)" if action in grant.conditional_actions else ""
            print(f"    {action}{mark}")
    _say_world(engine, to_stdout=True)
    return EXIT_OK


def _progress_bar(done: int, total: int) -> None:
    width = 40
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def cmd_matrix(args: argparse.Namespace) -> int:
    from .analysis import access_matrix, all_principals

    ws = _workspace(args)
    engine = ws.engine()
    principals = args.principals or all_principals(engine)
    progress = _progress_bar if sys.stderr.isatty() and not args.quiet else None
    with _cluster(args) as cluster:
        if cluster is None:
            matrix = access_matrix(engine, principals, args.actions, args.resources, _context_arg(args), progress=progress)
        else:
            from . import distributed

            matrix = distributed.matrix(cluster, engine, _store_of(ws), principals, args.actions, args.resources, _context_arg(args))
    to_stdout = args.output in (None, "-")
    out = sys.stdout if to_stdout else open(args.output, "w", newline="", encoding="utf-8")  # noqa: SIM115
    with contextlib.nullcontext(out) if to_stdout else out:
        if args.format == "csv":
            matrix.to_csv(out)
        else:
            out.write(json.dumps({**to_json(matrix), "cells": [{"principal": p, "action": a, "resource": r, "decision": d} for p, a, r, d in matrix.rows()]}) + "\n")
    print(f"{len(principals) * len(matrix.actions) * len(matrix.resources):,} cells; {matrix.counts()}", file=sys.stderr)
    _say_world(engine, to_stdout=False)
    return EXIT_OK


def cmd_fix(args: argparse.Namespace) -> int:
    from .analysis import denial_fix

    engine = _workspace(args).engine()
    fix = denial_fix(engine.can(args.principal, args.action, args.resource, _context_arg(args)))
    if args.json:
        _emit({**to_json(fix), "world": _answered_by(engine)})
    else:
        print(fix.summary)
        if fix.statement is not None:
            print(json.dumps(fix.statement))
        _say_world(engine, to_stdout=True)
    return EXIT_OK


def cmd_escalation(args: argparse.Namespace) -> int:
    from .analysis import escalation_paths

    engine = _workspace(args).engine()
    paths = escalation_paths(engine, args.principal)
    _say_world(engine, to_stdout=not args.json)
    if args.json:
        _emit([to_json(p) for p in paths])
        return EXIT_OK
    for i, path in enumerate(paths, start=1):
        if path.already_admin:
            print(f"{i}. already admin-equivalent")
            continue
        print(f"{i}. to {path.target}")
        for step in path.steps:
            print(f"   - {step.technique}: {step.explanation}")
    if not paths:
        print("no path to admin-equivalent access")
    return EXIT_OK


def cmd_findings(args: argparse.Namespace) -> int:
    from .analysis import findings

    ws = _workspace(args)
    with _cluster(args) as cluster:
        if cluster is None:
            found = findings(ws.world(), ws.engine(), args.rule or None)
        else:
            from . import distributed

            found = distributed.findings(cluster, ws.engine(), _store_of(ws), args.rule or None)
    if args.json:
        _say_world(ws.engine(), to_stdout=False)
        _emit([to_json(f) for f in found])
        return EXIT_OK
    several = len(ws.world().accounts()) > 1  # then labels repeat across accounts: say whose
    for f in found:
        whose = "" if not several or not f.account else ("  [AWS-managed]" if f.account == "aws" else f"  [account {f.account}]")
        print(f"{f.severity.upper():<7} {f.rule_id:<24} {f.path}{whose}\n        {f.why}")
    _say_world(ws.engine(), to_stdout=True)
    return EXIT_OK


def cmd_what_if(args: argparse.Namespace) -> int:
    from .analysis import Question, what_if
    from .expectations import load_expectations

    changes = _read_changes(args.changes)
    questions = [Question(e.principal, e.action, e.resource, e.context, expect=e.expect) for e in load_expectations(args.questions, require_expect=False)] if args.questions else []
    engine = _workspace(args).engine()
    results = what_if(engine, changes, questions)
    _say_world(engine, to_stdout=not args.json)
    unmet = [r for r in results if r.met is False]
    if args.json:
        _emit([{**to_json(r), "expect": r.question.expect, "met": r.met} for r in results])
    else:
        for r in results:
            q = r.question
            mark = "CHANGED" if r.changed else "same"
            verdict = "" if r.met is None else f"  (expected {q.expect}: {'met' if r.met else 'NOT MET'})"
            print(f"{mark:<8} {q.principal} {q.action} {q.resource}: {r.before_kind} -> {r.after_kind}{verdict}")
    if unmet:
        print(f"{len(unmet)} of {sum(r.met is not None for r in results)} expectations not met after the changes", file=sys.stderr)
        return EXIT_EXPECTATION
    return EXIT_OK


def _read_changes(path: str) -> list[Any]:
    """A change list file (JSON or YAML), as what-if and the API take it, as world commands."""
    from .analysis import parse_changes
    from .imports import load_source_file

    _, plan = load_source_file(path.removeprefix("file://"))
    if not isinstance(plan, list) or not all(isinstance(c, dict) and isinstance(c.get("mutation"), str) for c in plan):
        raise InvalidRequestError('changes must be a JSON list of {"mutation": NAME, "arguments": {...}}', field="changes")
    return parse_changes([(c["mutation"], c.get("arguments", {})) for c in plan])


def cmd_apply(args: argparse.Namespace) -> int:
    """Commit a change list (the one what-if tried) to a world of the store, one recorded change
    each; tried on a copy first, so a change the world refuses commits nothing."""
    from .analysis import apply_changes

    commands = _read_changes(args.changes)
    ws = Workspace.open(store_location(args.db), default=args.world)
    world = ws.world()
    apply_changes(world, commands)  # raises naming the refused change; the store is untouched
    for command in commands:
        ws.apply(world, command)
        world = ws.world(world.name)  # a new object if another process's change came first
        print(f"version {world.version}: {command.summary}")
    print(f"applied {len(commands)} changes to world {world.name!r} (version {world.version})")
    return EXIT_OK


def cmd_fork(args: argparse.Namespace) -> int:
    ws = _store(args)
    world = ws.fork(args.source, args.name)
    print(f"forked {args.source!r} as {world.name!r} (version {world.version})")
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from .analysis import access_diff

    ws = _store(args)
    changes = access_diff(ws.engine(args.world_a), ws.engine(args.world_b), args.principals or None, actions=args.actions, resources=args.resources)
    if args.json:
        _emit([to_json(c) for c in changes])
        return EXIT_OK
    for c in changes:
        print(f"{c.change.upper():<7} {c.principal} {c.action} {c.resource}: {c.before} -> {c.after}")
    if not changes:
        print("no access gained or lost")
    return EXIT_OK


def cmd_graph(args: argparse.Namespace) -> int:
    """A subgraph as GraphML or networkx's JSON node-link, to stdout or --output."""
    from .analysis import subgraph

    engine = _workspace(args).engine()
    _say_world(engine, to_stdout=False)
    if args.graph == "decision":
        sg = subgraph.decision_graph(engine, args.principal, args.action, args.resource, _context_arg(args), via_roles=args.via_roles)
    elif args.graph == "who-can":
        sg = subgraph.who_can_graph(engine, args.actions, args.resource, _context_arg(args))
    elif args.graph == "neighbourhood":
        sg = subgraph.neighbourhood(engine, args.node, args.hops)
    else:
        sg = subgraph.escalation_graph(engine, args.principal, path=args.path)
    text = sg.to_graphml() if args.format == "graphml" else json.dumps(sg.to_node_link(), indent=2) + "\n"
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: {sg.graph.number_of_nodes()} nodes, {sg.graph.number_of_edges()} edges", file=sys.stderr)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    """A world's users, groups, roles, policies, resources or accounts, filtered and sorted as
    GraphQL's connections are (graphsim.world.listing)."""
    from .world.listing import FILTERS_OF, KINDS, Filter, SortField, listing

    ws = _workspace(args)
    world = ws.world()
    tag_key, _, tag_value = (args.tag or "").partition("=")
    given = {
        "name_prefix": args.name_prefix, "name_contains": args.name_contains, "account": args.account, "path_prefix": args.path_prefix,
        "tag_key": tag_key or None, "tag_value": tag_value or None, "attached_policy": args.attached_policy, "member_of": args.group,
        "resource_type": args.type, "aws_managed": args.aws_managed, "attached": args.attached,
    }
    options = {"tag_key": "--tag", "tag_value": "--tag", "member_of": "--group", "resource_type": "--type", "aws_managed": "--aws-managed"}
    for name, value in given.items():
        if value is not None and name not in FILTERS_OF[args.kind]:
            option = options.get(name, "--" + name.replace("_", "-"))
            raise InvalidRequestError(f"{option} does not filter {args.kind}", field=option)
    if args.tag is not None and not tag_key:
        raise InvalidRequestError("--tag takes KEY or KEY=VALUE", field="--tag")
    if args.attached_policy is not None:
        given["attached_policy"] = world.find(NodeKind.POLICY, args.attached_policy, field="--attached-policy")
    if args.group is not None:
        given["member_of"] = world.find(NodeKind.GROUP, args.group, field="--group")
    keys = listing(world, KINDS[args.kind], Filter(**given), sort=SortField.ARN if args.order == "arn" else SortField.NAME, descending=args.desc)
    if args.json:
        _say_world(ws.engine(), to_stdout=False)
        _emit([{"name": world.name_of(k), "arn": k, "account": world.node(k).get("account"), "path": world.node(k).get("path")} for k in keys])
        return EXIT_OK
    for key in keys:
        print(f"{world.name_of(key):<40} {key}")
    print(f"{len(keys)} {args.kind}")
    _say_world(ws.engine(), to_stdout=True)
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    """Print each change committed to a world of the store as it is committed (by any process),
    as GraphQL's worldChanged subscription pushes it; --count N stops after N changes."""
    import asyncio

    from .api.subscriptions import world_changes

    if args.count is not None and args.count < 1:
        raise InvalidRequestError("--count must be 1 or more", field="--count")
    ws = Workspace.open(store_location(args.db), default=args.world)
    name = ws.world().name
    print(f"watching world {name!r} from version {ws.world().version} (Ctrl-C to stop)", file=sys.stderr, flush=True)

    async def watch() -> None:
        seen = 0
        async for change in world_changes(ws, name):
            if args.json:
                print(json.dumps({"world": change.world, "version": change.version, "at": change.at, "mutation": change.mutation,
                                  "summary": change.summary, "arguments": change.arguments}), flush=True)
            else:
                print(f"{change.version:>6} {change.at:<20} {change.mutation:<24} {change.summary}", flush=True)
            seen += 1
            if args.count is not None and seen >= args.count:
                return

    try:
        asyncio.run(watch())
    except KeyboardInterrupt:
        pass
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


def cmd_completion(args: argparse.Namespace) -> int:
    """The shell's completion script (argcomplete's): `eval "$(graphsim completion bash)"`."""
    import argcomplete

    sys.stdout.write(argcomplete.shellcode(["graphsim"], shell=args.shell))
    return EXIT_OK


def _world_names(prefix: str, parsed_args: argparse.Namespace, **_: Any) -> list[str]:
    """Completes --world with the worlds of the store the command line names (read, never created)."""
    from .store.location import check_location

    try:
        location = check_location(store_location(getattr(parsed_args, "db", None)))
        if location == ":memory:" or not Path(location).is_file():
            return []
        ws = Workspace.open(location, load=False)
        return [r.name for r in ws.records() if r.name.startswith(prefix)]
    except Exception:  # noqa: BLE001 - completion must never print an error into the shell
        return []


# ---- limits: serve takes every one, the simulate commands the ones a simulation meets -----------

SIMULATION_LIMITS = ("json_depth", "json_elements", "simulation_pairs", "simulation_work", "arn_length", "context_value_length", "pattern_length")


def add_limit_arguments(parser: argparse.ArgumentParser, names: Sequence[str] | None = None) -> None:
    """The flags of the limits ``names`` (graphsim.limits; every one when None), as ``--max-...``."""
    group = parser.add_argument_group("limits", "bounds on one request; a refusal names the limit and its flag")
    for f in dataclasses.fields(Limits):
        if names is not None and f.name not in names:
            continue
        kind = float if f.type in (float, "float") else int
        metavar = "SECONDS" if kind is float else "BYTES" if f.name.endswith("bytes") else "N"
        group.add_argument(Limits.flag(f.name), dest=f"limit_{f.name}", type=_positive(kind), metavar=metavar, default=None, help=Limits.help(f.name))


def limits_from_arguments(args: argparse.Namespace) -> Limits:
    """The defaults, with the limits the command line gave."""
    given = {f.name: getattr(args, f"limit_{f.name}") for f in dataclasses.fields(Limits) if getattr(args, f"limit_{f.name}", None) is not None}
    return dataclasses.replace(Limits(), **given)


def _positive(kind: type) -> Any:
    def parse(text: str) -> float | int:
        try:
            value = kind(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be a finite number above 0, got {text!r}")
        return value  # type: ignore[no-any-return]

    return parse


def _command_limits(args: argparse.Namespace) -> contextlib.ExitStack:
    """A command's limits (its flags over the defaults), with refusals saying how to raise one
    here: the command's own flag, or that only a server takes one. ``serve`` sets its limits per
    request, with its own flags in every refusal (api/limits.py)."""
    stack = contextlib.ExitStack()
    if args.func is cmd_serve:
        return stack
    own = {f.name for f in dataclasses.fields(Limits) if hasattr(args, f"limit_{f.name}")}

    def explain(name: str) -> str:
        if name in own:
            return f"run it again with a larger {Limits.flag(name)}"
        return f"ask a server started with a larger {Limits.flag(name)} (graphsim {args.command} uses the default)"

    stack.enter_context(L.using(limits_from_arguments(args)))
    stack.enter_context(L.raised_with(explain))
    return stack


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="graphsim", description="Offline AWS IAM policy simulator over a graph of your IAM world.")
    parser.add_argument("--version", action="version", version=f"graphsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the GraphQL API (GraphiQL at /graphql) on a world")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--world", metavar="NAME|FILE", help="the default world: a world of the store, or a world file loaded into a throw-away store")
    serve.add_argument("--db", metavar="PATH", help=f"the SQLite store (default: $GRAPHSIM_DB or {default_db_path()}; :memory: for throw-away)")
    serve.add_argument("--cors-origin", action="append", metavar="ORIGIN", help="allow browser pages from ORIGIN (repeatable; none by default)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    serve.add_argument("--token-file", metavar="FILE", help="the write token (mutations need it; default $GRAPHSIM_TOKEN); required beyond loopback unless --read-only")
    serve.add_argument("--read-token-file", metavar="FILE", help="a read token: with it, questions need a token too (default $GRAPHSIM_READ_TOKEN)")
    serve.add_argument("--read-only", action="store_true", help="answer questions only; every mutation is refused")
    serve.add_argument("--workers", type=int, default=1, metavar="N", help="serve from N processes on one store (they stay coherent; needs a store file, not :memory:)")
    serve.add_argument("--allowed-host", action="append", metavar="NAME", help="a Host name the server answers to besides loopback and --host (a proxy's or DNS name; repeatable)")
    add_limit_arguments(serve)  # --max-body-bytes, --max-query-cost, ..., --deadline, --cache-bytes
    serve.set_defaults(func=cmd_serve)

    can = sub.add_parser("can", help="can PRINCIPAL do ACTION on RESOURCE?")
    can.add_argument("principal", help="user or role name, or ARN")
    can.add_argument("action", help="e.g. s3:GetObject")
    can.add_argument("resource", help="an ARN, '*', or the name of a bucket in the world")
    can.add_argument("--context", action="append", metavar="KEY=VALUE", help="request context (repeat a key for a list)")
    can.add_argument("--context-type", action="append", metavar="KEY=TYPE", help="type a context key: string, numeric, boolean, ip, binary or date (default string)")
    can.add_argument("--json", action="store_true", help="print the decision as JSON")
    can.add_argument("--expect", type=_decision_name, metavar="DECISION", help="exit 1 unless the decision is this (ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY)")
    can.add_argument("--world", metavar="NAME|FILE", help="a world of the store, or a world file (default: the built-in demo)")
    can.add_argument("--db", metavar="PATH", help="the SQLite store to read --world from (default: the documented path)")
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
        # The limits a simulation meets; a refusal names the flag (and --input-jsonl's processes keep them).
        add_limit_arguments(sim, SIMULATION_LIMITS)
        if name == "simulate-principal-policy":
            sim.add_argument("--world", metavar="NAME|FILE", help="a world of the store, or a world file (default: the built-in demo)")
            sim.add_argument("--db", metavar="PATH", help="the SQLite store (default: the documented path)")
        sim.set_defaults(func=func)

    worlds = sub.add_parser("worlds", help="list the worlds of the store")
    worlds.add_argument("--db", metavar="PATH", help="the SQLite store (default: the documented path)")
    worlds.add_argument("--json", action="store_true")
    worlds.add_argument("--set-default", metavar="NAME", help="make NAME the store's default world (the one commands and servers answer from without --world)")
    worlds.set_defaults(func=cmd_worlds)

    export = sub.add_parser("export", help="write a world as a native world file")
    export.add_argument("--world", default="default", metavar="NAME")
    export.add_argument("--format", choices=["json", "yaml"], default="json")
    export.add_argument("--output", metavar="FILE", help="file to write (default: stdout)")
    export.add_argument("--db", metavar="PATH", help="the SQLite store (default: the documented path)")
    export.set_defaults(func=cmd_export)

    imp = sub.add_parser("import", help="import AWS exports (authorization details, bucket policies, an organizations folder) or world files")
    imp.add_argument("files", nargs="+", metavar="FILE|FOLDER", help="exports, or folders of them (an account folder per account, an organizations folder)")
    imp.add_argument("--world", required=True, metavar="NAME", help="the world to create")
    imp.add_argument("--replace", action="store_true", help="replace the world if it exists (as one change, kept in its history)")
    imp.add_argument("--db", metavar="PATH", help="the SQLite store (default: the documented path)")
    shown = imp.add_mutually_exclusive_group()
    shown.add_argument("--quiet", action="store_true", help="print only the imported world's line (no findings summary)")
    shown.add_argument("--findings", action="store_true", help="list every finding (default: a summary by kind)")
    imp.set_defaults(func=cmd_import)

    test = sub.add_parser("test", help="check access expectations (YAML or JSON); exit 1 when any fails")
    test.add_argument("file", help="a list of {name?, principal, action, resource, context?, expect}")
    test.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    test.add_argument("--world", metavar="NAME|FILE", help="a world of the store, or a world file (default: the built-in demo)")
    test.add_argument("--db", metavar="PATH", help="the SQLite store to read --world from")
    test.set_defaults(func=cmd_test)

    def world_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--world", metavar="NAME|FILE", help="a world of the store, or a world file (default: the built-in demo)")
        p.add_argument("--db", metavar="PATH", help="the SQLite store to read --world from")
        p.add_argument("--json", action="store_true", help="print JSON")

    def cluster_args(p: argparse.ArgumentParser) -> None:
        # Not --workers: that is serve's number of server processes.
        p.add_argument("--cluster", metavar="ADDRESS", help="run on the Dask scheduler at ADDRESS (tcp://scheduler:8786); needs graphsim[distributed]")
        p.add_argument("--dask-workers", type=int, metavar="N", help="run on a local Dask cluster of N worker processes; needs graphsim[distributed]")

    who = sub.add_parser("who-can", help="every principal allowed ACTION(s) on RESOURCE, with the paths")
    who.add_argument("resource")
    who.add_argument("actions", nargs="+", metavar="ACTION")
    who.add_argument("--context", action="append", metavar="KEY=VALUE")
    who.add_argument("--context-type", action="append", metavar="KEY=TYPE")
    world_args(who)
    cluster_args(who)
    who.set_defaults(func=cmd_who_can)

    what = sub.add_parser("what-can", help="a principal's effective permissions")
    what.add_argument("principal")
    what.add_argument("--service", help="only this service prefix (e.g. s3)")
    what.add_argument("--resource-prefix", help="only resource patterns starting with this")
    world_args(what)
    what.set_defaults(func=cmd_what_can)

    mat = sub.add_parser("matrix", help="the access matrix: principals x actions x resources")
    mat.add_argument("--actions", nargs="+", required=True, metavar="ACTION")
    mat.add_argument("--resources", nargs="+", required=True, metavar="RESOURCE")
    mat.add_argument("--principals", nargs="+", metavar="PRINCIPAL", help="default: every user and role")
    mat.add_argument("--format", choices=["csv", "json"], default="csv")
    mat.add_argument("--output", metavar="FILE", help="default: stdout")
    mat.add_argument("--context", action="append", metavar="KEY=VALUE")
    mat.add_argument("--context-type", action="append", metavar="KEY=TYPE")
    mat.add_argument("--quiet", action="store_true", help="no progress bar")
    mat.add_argument("--world", metavar="NAME|FILE")
    mat.add_argument("--db", metavar="PATH")
    cluster_args(mat)
    mat.set_defaults(func=cmd_matrix)

    fix = sub.add_parser("fix", help="why a request is denied, and the smallest statement that would allow it")
    fix.add_argument("principal")
    fix.add_argument("action")
    fix.add_argument("resource")
    fix.add_argument("--context", action="append", metavar="KEY=VALUE")
    fix.add_argument("--context-type", action="append", metavar="KEY=TYPE")
    world_args(fix)
    fix.set_defaults(func=cmd_fix)

    esc = sub.add_parser("escalation", help="paths by which a principal can become admin-equivalent")
    esc.add_argument("principal")
    world_args(esc)
    esc.set_defaults(func=cmd_escalation)

    fnd = sub.add_parser("findings", help="least-privilege findings")
    fnd.add_argument("--rule", action="append", help="only these rule ids")
    world_args(fnd)
    cluster_args(fnd)
    fnd.set_defaults(func=cmd_findings)

    wif = sub.add_parser("what-if", help="questions before and after hypothetical changes (nothing is committed)")
    wif.add_argument("changes", help='a JSON or YAML file: [{"mutation": "attachGroupPolicy", "arguments": {"group": "HR", "policy": "..."}}, ...]')
    wif.add_argument("--questions", metavar="FILE", help="questions in the expectations format; an expect is checked against the answer after the changes (exit 1 when one is not met)")
    world_args(wif)
    wif.set_defaults(func=cmd_what_if)

    app = sub.add_parser("apply", help="commit a change list (as what-if takes it) to a world of the store")
    app.add_argument("changes", help='a JSON or YAML file: [{"mutation": "attachGroupPolicy", "arguments": {"group": "HR", "policy": "..."}}, ...]')
    app.add_argument("--world", metavar="NAME", help="the world of the store to change (default: the default world)")
    app.add_argument("--db", metavar="PATH")
    app.set_defaults(func=cmd_apply)

    frk = sub.add_parser("fork", help="copy a world of the store under a new name, for what-if work")
    frk.add_argument("source")
    frk.add_argument("name")
    frk.add_argument("--db", metavar="PATH")
    frk.set_defaults(func=cmd_fork)

    dif = sub.add_parser("diff", help="access gained and lost between two worlds of the store")
    dif.add_argument("world_a")
    dif.add_argument("world_b")
    dif.add_argument("--actions", nargs="+", required=True)
    dif.add_argument("--resources", nargs="+", required=True)
    dif.add_argument("--principals", nargs="+")
    dif.add_argument("--db", metavar="PATH")
    dif.add_argument("--json", action="store_true")
    dif.set_defaults(func=cmd_diff)

    graph = sub.add_parser("graph", help="a subgraph (decision, who-can, neighbourhood, escalation) as GraphML or JSON node-link")
    kinds = graph.add_subparsers(dest="graph", required=True)

    def graph_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=["graphml", "json"], default="json", help="GraphML, or networkx's JSON node-link (default)")
        p.add_argument("--output", metavar="FILE", help="file to write (default: stdout)")
        p.add_argument("--world", metavar="NAME|FILE", help="a world of the store, or a world file (default: the built-in demo)")
        p.add_argument("--db", metavar="PATH", help="the SQLite store to read --world from")

    g_dec = kinds.add_parser("decision", help="every path considered for PRINCIPAL doing ACTION on RESOURCE, each marked allow, deny or not matching")
    g_dec.add_argument("principal")
    g_dec.add_argument("action")
    g_dec.add_argument("resource")
    g_dec.add_argument("--via-roles", action="store_true", help="if not allowed directly, also draw the role route")
    g_dec.add_argument("--context", action="append", metavar="KEY=VALUE")
    g_dec.add_argument("--context-type", action="append", metavar="KEY=TYPE")
    graph_args(g_dec)
    g_who = kinds.add_parser("who-can", help="the principals allowed ACTION(s) on RESOURCE, and their routes")
    g_who.add_argument("resource")
    g_who.add_argument("actions", nargs="+", metavar="ACTION")
    g_who.add_argument("--context", action="append", metavar="KEY=VALUE")
    g_who.add_argument("--context-type", action="append", metavar="KEY=TYPE")
    graph_args(g_who)
    g_nb = kinds.add_parser("neighbourhood", help="a node's groups, members, policies, boundaries and assumable roles")
    g_nb.add_argument("node", help="a user, role, group or managed policy (name or ARN)")
    g_nb.add_argument("--hops", type=int, default=1, help="how far to go (1 to 4, default 1)")
    graph_args(g_nb)
    g_esc = kinds.add_parser("escalation", help="a principal's escalation paths")
    g_esc.add_argument("principal")
    g_esc.add_argument("--path", type=int, help="only the path at this index")
    graph_args(g_esc)
    graph.set_defaults(func=cmd_graph)

    lst = sub.add_parser("list", help="a world's users, groups, roles, policies, resources or accounts, filtered and sorted")
    lst.add_argument("kind", choices=["users", "groups", "roles", "policies", "resources", "accounts"])
    lst.add_argument("--name-prefix", metavar="TEXT", help="names starting with TEXT (case-insensitive)")
    lst.add_argument("--name-contains", metavar="TEXT", help="names containing TEXT (case-insensitive)")
    lst.add_argument("--account", metavar="ID", help="in this account (aws: AWS-managed policies)")
    lst.add_argument("--path-prefix", metavar="PATH", help="IAM path starting with PATH (case-sensitive), e.g. /engineering/")
    lst.add_argument("--tag", metavar="KEY[=VALUE]", help="carrying this tag (with this value)")
    lst.add_argument("--attached-policy", metavar="POLICY", help="with this managed policy attached directly (name or ARN)")
    lst.add_argument("--group", metavar="GROUP", help="users in this group")
    lst.add_argument("--type", metavar="TYPE", help="resources of this type, e.g. s3:bucket")
    lst.add_argument("--aws-managed", action=argparse.BooleanOptionalAction, default=None, help="policies: only AWS-managed (--aws-managed) or only the account's own (--no-aws-managed)")
    lst.add_argument("--attached", action=argparse.BooleanOptionalAction, default=None, help="policies: only attached ones, or (--no-attached) only unattached ones")
    lst.add_argument("--order", choices=["name", "arn"], default="name", help="sort by name (then ARN; the default) or by ARN")
    lst.add_argument("--desc", action="store_true", help="in descending order")
    world_args(lst)
    lst.set_defaults(func=cmd_list)

    watch = sub.add_parser("watch", help="print each change committed to a world of the store as it is committed, by any process")
    watch.add_argument("--world", metavar="NAME", help="a world of the store (default: the store's default world)")
    watch.add_argument("--db", metavar="PATH", help="the SQLite store (default: $GRAPHSIM_DB or the documented path)")
    watch.add_argument("--count", type=int, metavar="N", help="stop after N changes")
    watch.add_argument("--json", action="store_true", help="one JSON object per change (the fields of GraphQL's WorldChange)")
    watch.set_defaults(func=cmd_watch)

    comp = sub.add_parser("completion", help="print the shell completion script: eval \"$(graphsim completion bash)\" (or zsh; fish: graphsim completion fish | source)")
    comp.add_argument("shell", choices=["bash", "zsh", "fish"])
    comp.set_defaults(func=cmd_completion)

    for action in (a for p in _subparsers(parser) for a in p._actions):
        if "--world" in action.option_strings:
            action.completer = _world_names  # type: ignore[attr-defined]

    schema = sub.add_parser("export-schema", help="write the GraphQL SDL")
    schema.add_argument("--output", default="schema/schema.graphql", help="file to write, or - for stdout (default: schema/schema.graphql)")
    schema.set_defaults(func=cmd_export_schema)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every sub-command's parser, at any depth."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += _subparsers(child)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (graphsim completion SHELL)
        import argcomplete

        argcomplete.autocomplete(parser)
    try:
        args = parser.parse_args(argv)
        with _command_limits(args):
            code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's flush at exit
        return code
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly. Point stdout at /dev/null so the flush at
        # exit does not fail again (the SIGPIPE note of Python's signal module documentation).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print(file=sys.stderr)  # end a progress bar's line; no traceback
        return EXIT_INTERRUPTED
    except GraphsimError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"error{where}: {exc.message}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INPUT
    except Exception:
        # A bug, not bad input: say so, with the traceback, and an exit code no script mistakes
        # for a failed expectation.
        import traceback

        traceback.print_exc()
        print("internal error: please report it with the traceback above", file=sys.stderr)
        return EXIT_INTERNAL


# Set by a batch (--input-jsonl): its process then ends without freeing, one object at a time,
# the caches of every document it compiled. That teardown took 2.0 of 7.0 CPU seconds of a
# 5,000-request batch; the OS takes the memory back at once.
_EXIT_AT_ONCE = False


def entry() -> None:
    """The ``graphsim`` program: ``main``, and its exit code. After a batch, ``os._exit`` once
    the output is flushed (no atexit work is pending: the workers' pool is closed); any other
    command, and ``main`` called in-process, exit as usual."""
    code = main()
    if _EXIT_AT_ONCE:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
