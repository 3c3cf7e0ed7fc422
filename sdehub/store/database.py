"""The database: one writer with group commit, a small pool of readers.

Writes are functions ``fn(conn) -> T`` handed to the one writer (:mod:`sdehub.store.writers`).
It takes every write waiting, runs each inside its own SAVEPOINT (so one failing write does not
fail its neighbours), commits once, and only then answers the callers: a request is acknowledged
only after its write is durable, and under load one fsync covers many requests (group commit).

SQLite runs in WAL mode; a commit survives power loss: connections use ``synchronous=FULL``, and
the writer, which commits with ``NORMAL``, fsyncs the log itself before it answers (on a thread
beside the next batch: sdehub.store.walsync). Readers never block the writer. PostgreSQL uses the
same statements.

When no write is waiting, the writer moves the search terms of newly acknowledged SDEs from their
pending rows to the per-term index (sdehub.store.terms; ``drain_when_idle``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from sdehub.store import terms
from sdehub.store.processwriter import ProcessWriter
from sdehub.store.writers import CommitStats, ThreadWriter, Writer

T = TypeVar("T")
log = logging.getLogger("sdehub.store")


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
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA mmap_size=268435456")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # The writer takes the write lock up front so it can never fail to upgrade later.
        conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))


class Database:
    """Engine, one writer, a reader pool. :meth:`start` it (inside the event loop), then
    :meth:`close` it. ``drain_when_idle=False`` leaves the search terms pending until
    :meth:`drain_terms` (tests that look at the pending state)."""

    def __init__(self, url: str, *, readers: int = 4, drain_when_idle: bool = True) -> None:
        self.url = url
        self.drain_when_idle = drain_when_idle
        self.engine = create_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self._writer: Writer | None = None
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
            writer: Writer
            idle = terms.drain_step if self.drain_when_idle else None
            if self.is_sqlite:
                writer = ProcessWriter(
                    self.engine, self.stats, self._committed, url=self.url, idle=idle
                )
            else:
                writer = ThreadWriter(self.engine, self.stats, self._committed, idle=idle)
            writer.start()
            self._writer = writer

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.stop()
            self._writer = None
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    def _committed(self, jobs: int, seconds: float) -> None:
        if self.on_commit is not None:
            self.on_commit(jobs, seconds)

    # -- access ---------------------------------------------------------------------------

    async def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(conn, *args)`` in the writer's transaction; return its result once the
        commit is durable. Prefer a module-level function with plain arguments: it travels to
        the writer by name (see :mod:`sdehub.store.writers`)."""
        if self._writer is None:
            raise RuntimeError("database not started")
        result: T = await self._writer.submit(fn, args, kwargs)
        return result

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` on a reader connection (a consistent snapshot) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, self.read_sync, fn)

    def read_sync(self, fn: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return fn(conn)

    async def drain_terms(self) -> int:
        """Move every pending SDE's search terms to the per-term index now, a batch per
        transaction; how many SDEs moved."""
        moved = 0
        while step := await self.write(terms.drain_terms):
            moved += step
        return moved

    @staticmethod
    def ping(conn: Connection) -> None:
        """A write that writes nothing (readiness checks the writer answers)."""
        return None

    def write_sync(self, fn: Callable[[Connection], T]) -> T:
        """For the CLI and set-up code running without the writer."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
            with conn.begin():
                return fn(conn)
