"""The database: one writer with group commit, a small pool of readers.

Writes are functions ``fn(conn) -> T`` queued to a single writer thread. The writer takes every
job waiting, runs each inside its own SAVEPOINT (so one failing job does not fail its
neighbours), commits once, and only then resolves the callers' futures: a request is acknowledged
only after its write is durable, and under load one fsync covers many requests (group commit).

SQLite runs in WAL mode with ``synchronous=FULL`` so a commit survives power loss; readers never
block the writer. PostgreSQL uses the same code path.
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
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

T = TypeVar("T")
log = logging.getLogger("sdehub.store")

MAX_BATCH = 512
_SAVEPOINT = "SAVEPOINT sdehub_job"
_ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT sdehub_job"
_RELEASE_SAVEPOINT = "RELEASE SAVEPOINT sdehub_job"


def _json_dumps(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def sqlite_url(path: str | Path) -> str:
    return f"sqlite+pysqlite:///{path}"


def create_engine(url: str) -> Engine:
    """An engine with our JSON codec, and for SQLite: WAL, full sync, working SAVEPOINTs."""
    is_sqlite = url.startswith("sqlite")
    kwargs: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": msgspec.json.decode,
    }
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        kwargs["poolclass"] = sa.pool.QueuePool
        kwargs["pool_size"] = 8
    else:
        kwargs["pool_size"] = 8
        kwargs["pool_pre_ping"] = True
    engine = sa.create_engine(url, **kwargs)
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; take it over (SQLAlchemy's recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # The writer takes the write lock up front so it can never fail to upgrade later.
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


@dataclass
class _Job(Generic[T]):
    fn: Callable[[Connection], T]
    future: asyncio.Future[T]
    loop: asyncio.AbstractEventLoop
    result: Any = None
    error: BaseException | None = None


@dataclass
class CommitStats:
    """How many commits the writer made and how many writes they carried."""

    batches: int = 0
    jobs: int = 0


class Database:
    """Engine, one writer thread, a reader pool. :meth:`start` it, :meth:`close` it."""

    def __init__(self, url: str, *, readers: int = 4) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self._queue: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sdehub-read")
        self.stats = CommitStats()
        self.on_commit: Callable[[int, float], None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def migrate(self) -> None:
        from sdehub.store.migrations import upgrade

        with self.engine.begin() as conn:
            upgrade(conn)

    def start(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_loop, name="sdehub-writer", daemon=True
            )
            self._writer.start()

    async def close(self) -> None:
        if self._writer is not None:
            self._queue.put(None)
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
            self._writer = None
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    # -- access ---------------------------------------------------------------------------

    async def write(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` in the writer's transaction; return once its commit is durable."""
        if self._writer is None:
            raise RuntimeError("database not started")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Job(fn, future, loop))
        return await future

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a reader connection (a consistent snapshot) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.read_sync, fn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """For the CLI and set-up code running without the writer thread."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                return fn(conn)

    # -- the writer -----------------------------------------------------------------------

    def _write_loop(self) -> None:
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch: list[_Job[Any]] = [first]
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
                self._run_batch(conn, batch)
                if stop:
                    return

    def _run_batch(self, conn: Connection, batch: list[_Job[Any]]) -> None:
        started = time.perf_counter()
        try:
            with conn.begin():
                for job in batch:
                    # Plain SQL savepoints (SQLite and PostgreSQL spell them alike): the same
                    # statements conn.begin_nested() issues, without compiling a fresh
                    # SAVEPOINT clause (a new name each time) for every job.
                    conn.exec_driver_sql(_SAVEPOINT)
                    try:
                        job.result = job.fn(conn)
                    except BaseException as exc:
                        conn.exec_driver_sql(_ROLLBACK_TO_SAVEPOINT)
                        job.error = exc
                    conn.exec_driver_sql(_RELEASE_SAVEPOINT)
        except BaseException as exc:  # the commit itself failed: nobody's write is durable
            log.exception("commit failed for a batch of %d writes", len(batch))
            for job in batch:
                job.error = job.error or exc
        elapsed = time.perf_counter() - started
        self.stats.batches += 1
        self.stats.jobs += len(batch)
        if self.on_commit is not None:
            self.on_commit(len(batch), elapsed)
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job[Any]]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, jobs)
            except RuntimeError:  # that event loop has gone away; nobody is waiting
                pass


def _resolve(jobs: list[_Job[Any]]) -> None:
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)
