"""The one writer: runs queued writes, each in its own SAVEPOINT, commits them together, and only
then answers the callers (group commit).

A write is a function ``fn(conn, *args)``. Two ways to run them, one contract
(``tests/test_store.py`` runs on both backends):

* :class:`~sdehub.store.processwriter.ProcessWriter` (SQLite) runs them in a process of their own,
  which owns the database connection. The statements, the page writes and the fsync of a commit are
  most of the CPU a durable write costs; in the server's process they would share its one core and
  its GIL with HTTP, tokens and validation, in their own process they use the machine's second core
  (docs/benchmarks.md). Writes that arrive while a batch runs form the next batch; a batch's fsync
  runs on a thread beside the next batch, and its callers are answered after it
  (sdehub.store.walsync).
  A module-level function travels by name; anything else (a closure) by value, with
  cloudpickle, so it must not rely on changing objects of the server's process.
* :class:`ThreadWriter` (PostgreSQL) runs whole batches on a thread: every statement is a network
  round trip to the database's own processes, which the event loop must not wait for.

Both can run **idle work**: a write ``idle(conn, busy)`` that does a short step of deferred
maintenance (the search index's pending tail, sdehub.store.terms) in a transaction of its own.
When no write has come for ``IDLE_AFTER`` seconds it runs with ``busy=False``, step after step
while it returns something true (more is left). While writes keep coming it is asked with
``busy=True`` every ``IDLE_EVERY`` seconds, and decides: nothing now (false; the work waits for
a quiet moment, as deferred work should under a burst), or a step, returning true to be asked
again after only ``IDLE_AFTER`` seconds, which lets it bound what piles up under a sustained
load. A step is short (a write arriving meanwhile waits for it), is not counted in the commit
statistics, and is owed again after any commit.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
log = logging.getLogger("sdehub.store")

MAX_BATCH: Final = 256
IDLE_AFTER: Final = 0.05
"""Seconds without a write before the writer runs a step of its idle work."""
IDLE_EVERY: Final = 0.5
"""While writes keep coming, the idle work is asked this often (seconds) whether it must run."""
SAVEPOINT: Final = "SAVEPOINT sdehub_job"
ROLLBACK_TO_SAVEPOINT: Final = "ROLLBACK TO SAVEPOINT sdehub_job"
RELEASE_SAVEPOINT: Final = "RELEASE SAVEPOINT sdehub_job"
_FRAME: Final = struct.Struct("!I")


@dataclass
class CommitStats:
    """How many commits the writer made and how many writes they carried."""

    batches: int = 0
    jobs: int = 0


OnCommit = Callable[[int, float], None]
Write = Callable[..., Any]


class Writer(Protocol):
    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, fn: Write, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...


@dataclass
class Job:
    fn: Write
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    error: BaseException | None = None
    future: asyncio.Future[Any] | None = field(default=None, repr=False)
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)


def run_jobs(conn: Connection, batch: list[Job]) -> None:
    """Each job in its own savepoint, on the connection's open transaction. The savepoints are
    plain SQL on the driver connection (SQLite and PostgreSQL spell them alike)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    for job in batch:
        raw.execute(SAVEPOINT)
        try:
            job.result = job.fn(conn, *job.args, **job.kwargs)
        except BaseException as exc:
            raw.execute(ROLLBACK_TO_SAVEPOINT)
            job.error = exc
        raw.execute(RELEASE_SAVEPOINT)


def commit_batch(conn: Connection, batch: list[Job]) -> float:
    """Run a batch in one transaction; on a failed commit every job fails. Returns seconds."""
    started = time.perf_counter()
    try:
        with conn.begin():
            run_jobs(conn, batch)
    except BaseException as exc:  # the commit itself failed: nobody's write is durable
        log.exception("commit failed for a batch of %d writes", len(batch))
        for job in batch:
            job.error = job.error or exc
    return time.perf_counter() - started


def run_idle(conn: Connection, idle: Write, *, busy: bool) -> bool:
    """One step of idle work in its own transaction; what it returned (false after a failure:
    it is logged, and tried again after the next commit)."""
    job = Job(idle, (busy,))
    commit_batch(conn, [job])
    if job.error is not None:
        log.error("idle work %s failed: %r", getattr(idle, "__qualname__", idle), job.error)
        return False
    return bool(job.result)


def busy_step(conn: Connection, idle: Write) -> float:
    """Ask the idle work while writes keep coming; when it is owed next (a ``owed_since``): in
    ``IDLE_EVERY`` seconds, or in ``IDLE_AFTER`` when it took a step and wants another."""
    again = run_idle(conn, idle, busy=True)
    return time.monotonic() - (IDLE_EVERY - IDLE_AFTER if again else 0.0)


def resolve(jobs: list[Job]) -> None:
    for job in jobs:
        if job.future is None or job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


# --- PostgreSQL: a thread -------------------------------------------------------------------


class ThreadWriter:
    def __init__(
        self, engine: Engine, stats: CommitStats, on_commit: OnCommit, idle: Write | None = None
    ) -> None:
        self._engine = engine
        self._stats = stats
        self._on_commit = on_commit
        self._idle = idle
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sdehub-writer", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            self._thread = None

    async def submit(self, fn: Write, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._thread is None:
            raise RuntimeError("database not started")
        loop = asyncio.get_running_loop()
        job = Job(fn, args, kwargs, future=loop.create_future(), loop=loop)
        self._queue.put(job)
        return await job.future  # type: ignore[misc]

    def _next(self, conn: Connection, owed_since: float | None) -> tuple[Job | None, float | None]:
        """The next write (None: stop), running steps of idle work while none comes."""
        while owed_since is not None and self._idle is not None:
            try:
                job = self._queue.get(timeout=IDLE_AFTER)
            except queue.Empty:  # quiet
                owed_since = time.monotonic() if run_idle(conn, self._idle, busy=False) else None
                continue
            if time.monotonic() - owed_since >= IDLE_EVERY:  # the job waits for the step, if any
                owed_since = busy_step(conn, self._idle)
            return job, owed_since
        return self._queue.get(), owed_since

    def _loop(self) -> None:
        with self._engine.connect() as conn:
            owed_since = time.monotonic() if self._idle is not None else None
            while True:
                first, owed_since = self._next(conn, owed_since)
                if first is None:
                    return
                batch: list[Job] = [first]
                stop = False
                while len(batch) < MAX_BATCH:
                    try:
                        job = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stop = True
                        break
                    batch.append(job)
                seconds = commit_batch(conn, batch)
                if self._idle is not None and owed_since is None:
                    owed_since = time.monotonic()
                self._stats.batches += 1
                self._stats.jobs += len(batch)
                self._on_commit(len(batch), seconds)
                by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
                for job in batch:
                    assert job.loop is not None
                    by_loop.setdefault(job.loop, []).append(job)
                for loop, jobs in by_loop.items():
                    try:
                        loop.call_soon_threadsafe(resolve, jobs)
                    except RuntimeError:  # that event loop has gone away; nobody is waiting
                        pass
                if stop:
                    return
