"""Where a request's work runs: heavy work in worker threads, never on the event loop, under a
deadline; a cheap question inline on the event loop when nothing is in its way.

The event loop only moves bytes, so ``/healthz`` (and every other request) is answered while a
heavy question is being worked out. The work of a request (a GraphQL operation, a simulate call,
a matrix download) runs in a worker thread of a bounded pool:

- questions share the worlds (``WorldLock.reading``), changes take them alone
  (``WorldLock.writing``): a mutation, an import, or catching up with what another process
  committed to the store never runs beside a question that reads the same world;
- a mutation's work runs as a question's does, reading the worlds under the deadline (its
  arguments checked, its files parsed, its payload read back), and only its change takes them
  alone (``Runner.change``): first it waits for the store's write lock (``Workspace.reserving``:
  another process may hold it) holding nothing of this process, so questions are answered from
  the current worlds meanwhile and never see a change not yet committed; then it takes the world
  lock to apply and commit. While it waits for the questions in flight to finish (each bounded
  by the deadline), other processes' writes wait;
- the work runs under the deadline of ``Limits.deadline_seconds``: the loops of long work check
  it (``graphsim.limits.check_deadline``: analyses, simulations, imports, every GraphQL field),
  and a question still running past it, plus a grace period, is answered DEADLINE_EXCEEDED and
  its thread left to finish alone. A change itself is never stopped or abandoned: it is bounded
  by the store's lock wait instead, and ends in its own answer (STORE_BUSY when another process
  holds the lock); a mutation's request is never abandoned either, and a deadline met after its
  change (a payload that reads too much) says the change was made.

A question the caller says is cheap (``inline``: a few single decisions, see app.py) is answered
on the event loop itself when that costs no wait: the store can tell at once that no other
process committed since the last catch-up (``Workspace.fresh_now``) and the world lock is free
for reading this moment (``WorldLock.try_reading``). A thread hop, a second event loop and the
lock hand-over cost more than such a decision (13 µs); any wait sends it the thread way.

``catch_up`` (``/healthz``, subscriptions) never keeps a request longer than it asks: the
catch-up with the store runs in a thread and goes on after the caller stopped waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

import anyio
import anyio.to_thread

from .. import limits as L
from ..limits import DeadlineExceededError, Limits
from ..workspace import Workspace

T = TypeVar("T")
GRACE_SECONDS = 2.0  # past the deadline, a question that did not stop by itself is answered anyway
THREADS = 8
LOCK_WAIT_SHARE = 0.75  # of the deadline, that a change may wait for another process's write lock


class WorldLock:
    """Many readers or one writer; a waiting writer goes before new readers, so a stream of
    questions cannot starve a change. Waits end at the request's deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._mine = threading.local()  # .reading: the shares this thread holds through reading()

    def _wait(self, ready: Callable[[], bool]) -> None:
        while not ready():
            left = L.remaining()
            if left is not None and left <= 0:
                raise DeadlineExceededError(L.active().deadline_seconds)
            self._cond.wait(timeout=None if left is None else left)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            self._wait(lambda: not self._writing and not self._writers_waiting)
            self._readers += 1
        self._mine.reading = getattr(self._mine, "reading", 0) + 1
        try:
            yield
        finally:
            self._mine.reading -= 1
            self.stop_reading()

    @contextlib.contextmanager
    def handed_back(self) -> Iterator[None]:
        """Inside ``reading``: this thread's shares given back for the block (a reader that waits
        to write would wait for itself), and taken again after it, once no change holds the
        worlds, without a deadline (what the block did must not be lost to a wait after it)."""
        held = getattr(self._mine, "reading", 0)
        for _ in range(held):
            self.stop_reading()
        self._mine.reading = 0
        try:
            yield
        finally:
            with self._cond:
                while self._writing:
                    self._cond.wait()
                self._readers += held
            self._mine.reading = held

    def try_reading(self) -> bool:
        """Start reading if that needs no wait this moment (then ``stop_reading`` after), as on
        the event loop, which must never wait for a change; False otherwise."""
        if not self._cond.acquire(blocking=False):
            return False
        try:
            if self._writing or self._writers_waiting:
                return False
            self._readers += 1
            return True
        finally:
            self._cond.release()

    def stop_reading(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            try:
                self._wait(lambda: not self._writing and self._readers == 0)
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


_loops = threading.local()


def run_coroutine(coroutine: Awaitable[T]) -> T:
    """Run ``coroutine`` to its end on this worker thread's own event loop (kept per thread)."""
    loop = getattr(_loops, "loop", None)
    if loop is None:
        loop = _loops.loop = asyncio.new_event_loop()
    return loop.run_until_complete(coroutine)


class Runner:
    """Runs the work of the requests of one app over ``workspace`` (see the module docstring)."""

    def __init__(self, workspace: Workspace, limits: Limits, *, threads: int = THREADS) -> None:
        self.workspace = workspace
        self.limits = limits
        self.lock = WorldLock()
        self._threads = anyio.CapacityLimiter(threads)
        self._catching_up: asyncio.Task[None] | None = None
        cap = getattr(workspace.store, "cap_lock_wait", None)  # SQLite's; PostgreSQL waits by its own rules
        if cap is not None:
            # A change waiting for another process's lock ends (STORE_BUSY) within the deadline.
            cap(limits.deadline_seconds * LOCK_WAIT_SHARE)

    async def run(self, work: Callable[[], T], *, write: bool = False, inline: Callable[[], Awaitable[T]] | None = None) -> T:
        """``work()`` in a worker thread, after catching up with the store, under the lock and
        the deadline; raises DeadlineExceededError when a question runs past it. ``inline``, the
        same question as a coroutine, is awaited on the event loop instead when that needs no
        wait (see the module docstring)."""
        limits = self.limits
        seconds = limits.deadline_seconds
        if inline is not None and not write and self.workspace.fresh_now() and self.lock.try_reading():
            try:
                with L.using(limits), L.deadline(seconds):
                    return await inline()
            finally:
                self.lock.stop_reading()

        def in_thread() -> T:
            # A mutation reads the worlds as a question does (its arguments checked, its files
            # parsed, its payload read back), under the deadline; only the change itself takes
            # them alone, through ``change`` below.
            with L.using(limits), L.deadline(seconds):
                self._catch_up()
                with self.lock.reading():
                    return work()

        if write:
            return await anyio.to_thread.run_sync(in_thread, limiter=self._threads)
        try:
            with anyio.fail_after(seconds + GRACE_SECONDS):
                return await anyio.to_thread.run_sync(in_thread, abandon_on_cancel=True, limiter=self._threads)
        except TimeoutError:
            raise DeadlineExceededError(seconds) from None

    @contextlib.contextmanager
    def change(self) -> Iterator[None]:
        """Where a mutation's resolver applies and records its change (api/context.py
        ``changing``). It hands back its share of the worlds, waits for the store's write lock
        holding nothing of this process (another process may hold it: questions go on being
        answered meanwhile, and the wait ends in STORE_BUSY), catches up with the store, then
        takes the worlds alone for the block. The block is never cut short by the deadline (a
        change stopped halfway would lose its answer, committed or not); after it the request
        reads on under a deadline started afresh, and a deadline met then says the change was made."""
        try:
            with L.without_deadline():
                with self.lock.handed_back(), self.workspace.reserving():
                    self._catch_up()
                    with self.lock.writing():
                        yield
            L.note_change()
        finally:
            # What is left (the payload, the next mutation of the document) has a whole deadline
            # of its own: the waits above must not leave a change that was made without its answer.
            L.restart_deadline()

    async def catch_up(self, wait: float) -> bool:
        """Catch up with the store for a request that does no work of its own (/healthz, a
        subscription): at once when the store tells at once that nothing was committed, else in a
        worker thread, waited for at most ``wait`` seconds (the catch-up goes on past it, and the
        next request sees it; one at a time). True when caught up."""
        if self.workspace.fresh_now():
            return True
        loop = asyncio.get_running_loop()
        task = self._catching_up
        if task is None or task.done() or task.get_loop() is not loop:
            task = self._catching_up = loop.create_task(anyio.to_thread.run_sync(self._catch_up_in_thread, abandon_on_cancel=True, limiter=self._threads))
            task.add_done_callback(_quietly)
        done, _ = await asyncio.wait({task}, timeout=wait)
        return bool(done) and not task.cancelled() and task.exception() is None

    def _catch_up_in_thread(self) -> None:
        # In a thread, even the check: the store's connection may be busy with a long read.
        with L.using(self.limits), L.deadline(self.limits.deadline_seconds):
            self._catch_up()

    def _catch_up(self) -> None:
        # What other processes committed (one PRAGMA when nothing did); rebuilding worlds is a change.
        if self.workspace.stale():
            with self.lock.writing():
                self.workspace.refresh()


def _quietly(task: asyncio.Task[None]) -> None:
    """A catch-up that failed (its deadline, the store gone) is tried again by the next request."""
    if not task.cancelled():
        task.exception()
