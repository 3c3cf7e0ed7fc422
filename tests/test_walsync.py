"""The SQLite writer's fsync thread (sdehub.store.walsync): a reply goes out only after an fsync
of the write-ahead log that began after its commit, and nothing waiting is dropped at close."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sdehub.store import Database, walsync
from sdehub.store.database import create_engine, sqlite_url
from sdehub.store.walsync import WalSync


class Recorder:
    """What happened, in order: commits, fsyncs (which file), sends."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.lock = threading.Lock()
        self.sent = threading.Event()

    def note(self, what: str, detail: Any) -> None:
        with self.lock:
            self.events.append((what, detail))

    def send(self, data: bytes) -> None:
        self.note("send", data)
        self.sent.set()


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    rec = Recorder()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        real_fsync(fd)
        rec.note("fsync", os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(walsync.os, "fsync", fsync)
    return rec


def _wal_db(tmp_path: Path) -> sa.engine.Engine:
    engine = create_engine(sqlite_url(tmp_path / "w.db"))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (v INTEGER)")
    return engine


def test_each_reply_follows_an_fsync_of_the_log_after_its_commit(
    tmp_path: Path, recorder: Recorder
) -> None:
    engine = _wal_db(tmp_path)
    with engine.connect() as conn:
        sync = WalSync.of(conn, recorder.send)
        assert sync is not None
        raw = conn.connection.driver_connection
        assert raw is not None
        # The writer's own connection stops syncing in COMMIT (NORMAL is 1): WalSync does it.
        assert raw.execute("PRAGMA synchronous").fetchone()[0] == 1
        for i in range(20):
            with conn.begin():
                conn.exec_driver_sql(f"INSERT INTO t VALUES ({i})")
            recorder.note("commit", i)
            sync.answer(f"reply{i};".encode())
        sync.close()
    engine.dispose()
    events = recorder.events
    sent = b"".join(d for what, d in events if what == "send")
    assert sent == b"".join(f"reply{i};".encode() for i in range(20))  # all, in order
    wal = str(tmp_path / "w.db") + "-wal"
    assert {d for what, d in events if what == "fsync"} == {wal}
    for i in range(20):
        committed = events.index(("commit", i))
        where = next(
            k for k, (what, d) in enumerate(events) if what == "send" and b"reply%d;" % i in d
        )
        assert any(what == "fsync" for what, _ in events[committed:where]), events


def test_one_fsync_answers_every_commit_waiting(tmp_path: Path, recorder: Recorder) -> None:
    engine = _wal_db(tmp_path)
    gate = threading.Event()
    held: list[bytes] = []

    def slow_send(data: bytes) -> None:
        held.append(data)
        gate.wait(5)
        recorder.send(data)

    with engine.connect() as conn:
        sync = WalSync.of(conn, slow_send)
        assert sync is not None
        sync.answer(b"first;")
        while not held:  # the first is being sent: the next ones queue up behind it
            threading.Event().wait(0.001)
        for i in range(5):
            with conn.begin():
                conn.exec_driver_sql(f"INSERT INTO t VALUES ({i})")
            sync.answer(b"r%d;" % i)
        gate.set()
        sync.close()
    engine.dispose()
    sends = [d for what, d in recorder.events if what == "send"]
    assert sends == [b"first;", b"r0;r1;r2;r3;r4;"]
    assert sum(1 for what, _ in recorder.events if what == "fsync") == 2


def test_a_database_without_a_file_has_nothing_to_sync(tmp_path: Path) -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        assert WalSync.of(conn, lambda data: None) is None
    engine.dispose()


def test_a_failed_fsync_stops_the_writer_without_answering() -> None:
    """In a process of its own, as the writer is: fsync of a /proc file fails (EINVAL), and
    the process exits with 70 before the reply is sent."""
    script = (
        "import sys, time\n"
        "from sdehub.store.walsync import WalSync\n"
        "sync = WalSync('/proc/self/status', lambda data: print('sent', data, flush=True))\n"
        "sync.answer(b'reply')\n"
        "time.sleep(10)\n"
        "sys.exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 70, done
    assert "sent" not in done.stdout
    assert "fsync of /proc/self/status failed" in done.stderr


@pytest.mark.anyio
async def test_writes_through_the_server_writer_are_on_disk_when_answered(
    tmp_path: Path,
) -> None:
    """End to end through the writer process, whose replies now come from its fsync thread:
    every write is answered, in order, and in the file for a fresh connection."""
    db = Database(sqlite_url(tmp_path / "s.db"), readers=1)
    db.migrate()
    db.start()
    try:
        counts = [await db.write(_insert_account, f"9{i:07d}") for i in range(30)]
    finally:
        await db.close()
    assert counts == list(range(1, 31))
    with sqlite3.connect(tmp_path / "s.db") as check:
        assert check.execute("SELECT count(*) FROM accounts").fetchone()[0] == 30


def _insert_account(conn: sa.Connection, account_id: str) -> int:
    conn.exec_driver_sql(
        "INSERT INTO accounts (account_id, emulated, created_ms) VALUES (?, 0, 0)", (account_id,)
    )
    return int(conn.exec_driver_sql("SELECT count(*) FROM accounts").scalar_one())
