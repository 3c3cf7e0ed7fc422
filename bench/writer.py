"""The writer benches' writer: sdehub's SQLite writer process's loop, in process. Writes go in
group commits (``sdehub.store.writers.commit_batch``: a savepoint per write, one commit) on a
connection of ``sdehub.store.Database`` (the server's engine and pragmas: WAL), made durable as
the writer process does it: the log fsynced on a thread beside the next batch
(``sdehub.store.walsync``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from sdehub.store.database import Database, sqlite_url
from sdehub.store.walsync import WalSync
from sdehub.store.writers import Job, commit_batch


def fresh_database(path: Path) -> Database:
    db = Database(sqlite_url(path), readers=1)
    db.migrate()
    return db


@dataclass
class Writer:
    conn: Connection
    sync: WalSync

    def commit(
        self, first: int, last: int, batch: int, jobs: Callable[[int, int], list[Job]]
    ) -> tuple[float, float]:
        """Writes ``first`` to ``last`` (``jobs(start, stop)`` gives a batch's), ``batch`` per
        commit: (CPU, wall) seconds of the commits, durability included, jobs' making not."""
        cpu = wall = 0.0
        for start in range(first, last, batch):
            todo = jobs(start, min(start + batch, last))
            c0, w0 = time.process_time(), time.perf_counter()
            commit_batch(self.conn, todo)
            self.sync.answer(b"answered")
            cpu += time.process_time() - c0
            wall += time.perf_counter() - w0
            failed = [j.error for j in todo if j.error is not None]
            if failed:
                raise SystemExit(f"a write failed: {failed[0]!r}")
        return cpu, wall


@contextmanager
def writer(db: Database) -> Iterator[Writer]:
    """The writer's connection on ``db``; the engine is disposed of afterwards."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        sync = WalSync.of(conn, lambda reply: None)
        assert sync is not None
        yield Writer(conn, sync)
        sync.close()
    db.engine.dispose()
