"""The SQLite writer's fsync, on a thread of its own, so the next batch runs while the last one
is made durable.

With ``synchronous=FULL`` a commit in WAL mode appends its pages to the write-ahead log and then
fsyncs the log before it returns: about a millisecond on the development machine's disk, a fifth
of the writer's time under CONVERSATION load (docs/benchmarks.md), during which the writer
could run nothing else. Instead the writer's connection commits with ``synchronous=NORMAL`` (the
pages are appended, not synced; checkpoints still sync the log before they copy it into the
database and the database after, so the file stays consistent), and :class:`WalSync` fsyncs the
log before the batch's callers are answered. A batch committed while an fsync is on the disk is
covered by the next one, which also covers everything committed before it: so nothing is
acknowledged before it is durable, as with ``FULL``, and one fsync answers several commits.

What differs from ``FULL``: for the millisecond between a commit and its fsync, other
connections (the server's readers) can already see writes that a power cut would still take
away. The callers have not been answered, and nothing the server acknowledged is ever lost.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Final

from sqlalchemy.engine import Connection

log = logging.getLogger("sdehub.store")

STOP: Final = b""


class WalSync:
    """Answers (``send``) each batch's reply once the log holding its commit is on disk."""

    def __init__(self, wal_path: str, send: Callable[[bytes], object]) -> None:
        self._wal = wal_path
        self._send = send
        self._fd = -1
        self._replies: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sdehub-wal-sync", daemon=True)
        self._thread.start()

    @classmethod
    def of(cls, conn: Connection, send: Callable[[bytes], object]) -> WalSync | None:
        """One for the writer's connection, which it switches to ``synchronous=NORMAL``; None
        when the database has no file (``:memory:``), whose commits have nothing to sync."""
        raw = conn.connection.driver_connection
        assert raw is not None
        path = raw.execute("PRAGMA database_list").fetchone()[2]
        if not path:
            return None
        raw.execute("PRAGMA synchronous=NORMAL")
        return cls(path + "-wal", send)

    def answer(self, reply: bytes) -> None:
        """Send ``reply`` once everything committed so far is durable."""
        if reply:
            self._replies.put(reply)

    def close(self) -> None:
        """Answer what is waiting, then stop."""
        self._replies.put(STOP)
        self._thread.join()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _run(self) -> None:
        while True:
            replies = [self._replies.get()]
            while True:
                try:
                    replies.append(self._replies.get_nowait())
                except queue.Empty:
                    break
            # The writer puts STOP after its last reply: it can only be the last one taken.
            stop = replies[-1] == STOP
            if stop:
                replies.pop()
            if replies:
                self._sync()
                self._send(b"".join(replies))
            if stop:
                return

    def _sync(self) -> None:
        try:
            if self._fd < 0 or os.fstat(self._fd).st_nlink == 0:
                # First use, or the log was removed (SQLite deletes it when its last
                # connection closes) and a new one created since.
                if self._fd >= 0:
                    os.close(self._fd)
                    self._fd = -1
                try:
                    self._fd = os.open(self._wal, os.O_RDONLY)
                except FileNotFoundError:
                    return  # no log yet: nothing has been committed to one
            os.fsync(self._fd)
        except OSError:
            # After a failed fsync nothing says what reached the disk: answering would risk
            # acknowledging lost writes, so the writer stops (its callers get "unavailable")
            # and the server must be restarted, which recovers from what the disk holds.
            log.critical("fsync of %s failed: stopping the database writer", self._wal)
            os._exit(70)
