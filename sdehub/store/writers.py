"""The one writer: runs queued writes, each in its own SAVEPOINT, commits them together, and only
then answers the callers (group commit).

Two ways to run it, one contract (``tests/test_store.py`` runs on both backends):

* :class:`InlineWriter` (SQLite) runs the statements on the event loop and only the ``BEGIN
  IMMEDIATE`` and the ``COMMIT`` (the lock and the fsync) in a thread. SQLite statements are
  in-process CPU work of a few microseconds; running them on a second thread made the two threads
  trade the GIL on every statement, which cost more than the statements (docs/benchmarks.md).
  Writes that arrive while a commit is on disk form the next batch.
* :class:`ThreadWriter` (PostgreSQL) runs whole batches on a thread, since every statement is a
  network round trip the event loop must not wait for.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
log = logging.getLogger("sdehub.store")

MAX_BATCH: Final = 256
SAVEPOINT: Final = "SAVEPOINT sdehub_job"
ROLLBACK_TO_SAVEPOINT: Final = "ROLLBACK TO SAVEPOINT sdehub_job"
RELEASE_SAVEPOINT: Final = "RELEASE SAVEPOINT sdehub_job"


@dataclass
class CommitStats:
    """How many commits the writer made and how many writes they carried."""

    batches: int = 0
    jobs: int = 0


@dataclass
class Job(Generic[T]):
    fn: Callable[[Connection], T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    result: Any = None
    error: BaseException | None = None


OnCommit = Callable[[int, float], None]


class Writer(Protocol):
    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, fn: Callable[[Connection], T]) -> T: ...


def run_jobs(conn: Connection, batch: list[Job[Any]]) -> None:
    """Each job in its own savepoint, on the connection's open transaction. The savepoints are
    plain SQL on the driver connection (SQLite and PostgreSQL spell them alike)."""
    raw = conn.connection.driver_connection
    assert raw is not None
    for job in batch:
        raw.execute(SAVEPOINT)
        try:
            job.result = job.fn(conn)
        except BaseException as exc:
            raw.execute(ROLLBACK_TO_SAVEPOINT)
            job.error = exc
        raw.execute(RELEASE_SAVEPOINT)


def resolve(jobs: list[Job[Any]]) -> None:
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


class InlineWriter:
    def __init__(self, engine: Engine, stats: CommitStats, on_commit: OnCommit) -> None:
        self._engine = engine
        self._stats = stats
        self._on_commit = on_commit
        self._pending: list[Job[Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sdehub-commit")
        self._conn: Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def running(self) -> bool:
        return self._conn is not None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        conn = self._engine.connect()
        self._conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")

    async def stop(self) -> None:
        if self._task is not None:
            await asyncio.shield(self._task)
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._disk.shutdown(wait=True)

    async def submit(self, fn: Callable[[Connection], T]) -> T:
        if self._conn is None or self._loop is None:
            raise RuntimeError("database not started")
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.append(Job(fn, future, self._loop))
        if self._task is None:
            self._task = self._loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        assert self._conn is not None and self._loop is not None
        conn, loop = self._conn, self._loop
        try:
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                started = time.perf_counter()
                try:
                    # Taking the write lock may wait on another process: off the event loop.
                    transaction = await loop.run_in_executor(self._disk, conn.begin)
                    run_jobs(conn, batch)
                    await loop.run_in_executor(self._disk, transaction.commit)
                except BaseException as exc:  # nobody's write in this batch is durable
                    log.exception("commit failed for a batch of %d writes", len(batch))
                    if conn.in_transaction():
                        await loop.run_in_executor(self._disk, conn.rollback)
                    for job in batch:
                        job.error = job.error or exc
                self._stats.batches += 1
                self._stats.jobs += len(batch)
                self._on_commit(len(batch), time.perf_counter() - started)
                resolve(batch)
        finally:
            self._task = None


class ThreadWriter:
    def __init__(self, engine: Engine, stats: CommitStats, on_commit: OnCommit) -> None:
        self._engine = engine
        self._stats = stats
        self._on_commit = on_commit
        self._queue: queue.SimpleQueue[Job[Any] | None] = queue.SimpleQueue()
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

    async def submit(self, fn: Callable[[Connection], T]) -> T:
        if self._thread is None:
            raise RuntimeError("database not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(Job(fn, future, loop))
        return await future

    def _loop(self) -> None:
        with self._engine.connect() as conn:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch: list[Job[Any]] = [first]
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
                self._batch(conn, batch)
                if stop:
                    return

    def _batch(self, conn: Connection, batch: list[Job[Any]]) -> None:
        started = time.perf_counter()
        try:
            with conn.begin():
                run_jobs(conn, batch)
        except BaseException as exc:  # the commit itself failed: nobody's write is durable
            log.exception("commit failed for a batch of %d writes", len(batch))
            for job in batch:
                job.error = job.error or exc
        self._stats.batches += 1
        self._stats.jobs += len(batch)
        self._on_commit(len(batch), time.perf_counter() - started)
        by_loop: dict[asyncio.AbstractEventLoop, list[Job[Any]]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            try:
                loop.call_soon_threadsafe(resolve, jobs)
            except RuntimeError:  # that event loop has gone away; nobody is waiting
                pass
