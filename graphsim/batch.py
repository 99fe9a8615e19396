"""Many requests, one JSON object per line, answered in order: ``--input-jsonl``.

Lines are answered in chunks; with more than one job, the first (small) chunk is answered here,
which warms the catalog and caches, then the process forks its workers (which inherit them) and
the other chunks go to them and come back in input order. Chunks are small enough that the
workers finish together (a request takes about a millisecond) and large enough that sending one
(its lines as one list) costs little beside answering it.
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TextIO

from .bulk import collector_paused
from .errors import GraphsimError
from .limits import read_json
from .policy.jsontext import dumps_compact, loads

Run = Callable[[Any], dict[str, Any]]
Chunk = list[tuple[int, str]]
FIRST = 200  # lines answered before the workers fork
CHUNK = 500  # lines per chunk after that

_encode = dumps_compact  # the responses hold strings, ints, bools and None: json's text, msgspec's speed
_run: Run | None = None  # set in the parent before forking workers


def answer(run: Run, chunk: Chunk) -> tuple[str, int]:
    """The output lines for a chunk, and how many failed. A bad line gets an Error line.

    The cycle collector is off while a chunk is answered: a request's objects are freed by their
    counts, and the collections that its thousands of allocations set off found nothing but cost
    a tenth of the time (walking the growing caches). It is back on after each chunk, and then
    collects at the next allocation whatever cycles the chunk left (an error's traceback)."""
    with collector_paused():
        return _answer(run, chunk)


def _answer(run: Run, chunk: Chunk) -> tuple[str, int]:
    out: list[str] = []
    failed = 0
    for number, line in chunk:
        try:
            try:
                request = loads(line)[0]
            except (RecursionError, ValueError) as exc:
                if isinstance(exc, json.JSONDecodeError):
                    raise
                read_json(line, what=f"line {number}")  # nested too deep, a huge number: its typed refusal
                raise
            result = run(request)
        except json.JSONDecodeError as exc:
            failed += 1
            result = {"Error": {"Code": "InvalidInput", "Message": f"line {number}: not valid JSON: {exc.msg}", "Line": number}}
        except GraphsimError as exc:
            failed += 1
            result = {"Error": {"Code": exc.code, "Message": exc.message, "Field": exc.field, "Line": number}}
        except Exception as exc:  # a bug on one line must not lose the answers to the others
            failed += 1
            result = {"Error": {"Code": "INTERNAL", "Message": f"line {number}: internal error ({type(exc).__name__}: {exc})", "Line": number}}
        out.append(_encode(result))
        out.append("\n")
    return "".join(out), failed


def _worker(chunk: Chunk) -> tuple[str, int]:
    assert _run is not None
    return answer(_run, chunk)


def _chunks(lines: Iterable[str]) -> Iterator[Chunk]:
    numbered = ((n, line) for n, line in enumerate(lines, start=1) if line.strip())
    size = FIRST
    while chunk := list(itertools.islice(numbered, size)):
        yield chunk
        size = CHUNK


def run_jsonl(stream: TextIO, out: TextIO, run: Run, *, jobs: int = 1) -> int:
    """Answer every line of ``stream`` to ``out`` in order; returns the number that failed."""
    global _run
    # A batch allocates many short-lived objects and keeps few: collect young objects less
    # often, and leave the long-lived ones (catalog, compiled policies) out of collections.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    chunks = _chunks(stream)
    first = next(chunks, [])
    second = next(chunks, [])
    failed = 0
    if jobs <= 1 or len(second) < CHUNK:  # one job, or too few lines to be worth a fork
        for chunk in itertools.chain([first, second], chunks):
            text, bad = answer(run, chunk)
            out.write(text)
            failed += bad
        return failed
    text, bad = answer(run, first)  # also warms the catalog and caches the workers inherit
    out.write(text)
    failed += bad
    _run = run
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for text, bad in pool.imap(_worker, itertools.chain([second], chunks)):
            out.write(text)
            failed += bad
    return failed
