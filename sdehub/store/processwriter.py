"""The SQLite writer: a process of its own that owns the database connection
(:class:`ProcessWriter`, and :func:`serve`, its loop). The contract, batching and idle work are
those of :mod:`sdehub.store.writers`; writes reach the process over a socket pair, framed and
pickled, by name when they are module-level functions.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import multiprocessing
import os
import pickle
import select
import signal
import socket
import struct
import time
from typing import Any, Final

import cloudpickle
from sqlalchemy.engine import Connection, Engine

from sdehub.errors import Unavailable
from sdehub.store.walsync import WalSync
from sdehub.store.writers import (
    IDLE_AFTER,
    IDLE_EVERY,
    MAX_BATCH,
    CommitStats,
    Job,
    OnCommit,
    Write,
    busy_step,
    commit_batch,
    log,
    run_idle,
)

_FRAME: Final = struct.Struct("!I")


# --- SQLite: a process ----------------------------------------------------------------------


def _frame(payload: Any) -> bytes:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(data)) + data


def _reference(fn: Write) -> str | None:
    """``module:qualname`` when ``fn`` can be imported by name in another process."""
    qualname = getattr(fn, "__qualname__", "")
    module = getattr(fn, "__module__", None)
    if not module or "<" in qualname or module == "__main__":
        return None
    return f"{module}:{qualname}"


def _resolve_reference(reference: str) -> Write:
    module, _, qualname = reference.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


class ProcessWriter:
    def __init__(
        self,
        engine: Engine,
        stats: CommitStats,
        on_commit: OnCommit,
        *,
        url: str,
        idle: Write | None = None,
    ) -> None:
        self._url = url
        self._idle = None if idle is None else _reference(idle)
        if idle is not None and self._idle is None:
            raise ValueError("the idle work must be a module-level function")
        self._stats = stats
        self._on_commit = on_commit
        self._engine = engine
        self._process: Any = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ids = itertools.count(1)
        self._out = bytearray()
        self._in = bytearray()
        self._stopping = False
        self._closed: asyncio.Future[None] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(
            [
                "sdehub.store.processwriter",
                "sdehub.messaging",
                "sdehub.ingest",
                "sdehub.store.terms",
            ]
        )
        self._process = ctx.Process(
            target=serve, args=(self._url, theirs, self._idle), name="sdehub-writer", daemon=True
        )
        self._process.start()
        theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._closed = self._loop.create_future()
        self._loop.add_reader(ours.fileno(), self._readable)

    async def stop(self) -> None:
        if self._sock is None or self._loop is None:
            return
        self._stopping = True
        # A writer already gone (killed, or it failed) closed the socket: nothing to ask it.
        if self._closed is None or not self._closed.done():
            self._send(_frame(None))
        if self._closed is not None:
            await self._closed
        process = self._process
        if process is not None:
            await self._loop.run_in_executor(None, process.join, 10)
            if process.is_alive():
                process.kill()
        self._process = None

    async def submit(self, fn: Write, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if self._sock is None or self._loop is None or self._stopping:
            raise RuntimeError("database not started")
        if self._closed is not None and self._closed.done():
            raise Unavailable("the database writer has stopped; see the server log")
        reference = _reference(fn)
        target: Any = reference if reference is not None else cloudpickle.dumps(fn)
        job_id = next(self._ids)
        future: asyncio.Future[Any] = self._loop.create_future()
        self._pending[job_id] = future
        self._send(_frame((job_id, target, args, kwargs)))
        return await future

    # -- the socket -----------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        assert self._sock is not None and self._loop is not None
        if self._out:
            self._out += data
            return
        try:
            sent = self._sock.send(data)
        except BlockingIOError:
            sent = 0
        if sent < len(data):
            self._out += data[sent:]
            self._loop.add_writer(self._sock.fileno(), self._writable)

    def _writable(self) -> None:
        assert self._sock is not None and self._loop is not None
        try:
            sent = self._sock.send(self._out)
        except BlockingIOError:
            return
        del self._out[:sent]
        if not self._out:
            self._loop.remove_writer(self._sock.fileno())

    def _readable(self) -> None:
        assert self._sock is not None
        try:
            data = self._sock.recv(1 << 20)
        except BlockingIOError:
            return
        if not data:
            self._gone()
            return
        self._in += data
        while len(self._in) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(self._in)
            if len(self._in) < _FRAME.size + size:
                break
            payload = pickle.loads(bytes(self._in[_FRAME.size : _FRAME.size + size]))
            del self._in[: _FRAME.size + size]
            self._replied(payload)

    def _replied(self, payload: tuple[list[tuple[int, bool, Any]], int, float]) -> None:
        results, size, seconds = payload
        self._stats.batches += 1
        self._stats.jobs += size
        self._on_commit(size, seconds)
        for job_id, ok, value in results:
            future = self._pending.pop(job_id, None)
            if future is None or future.done():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _gone(self) -> None:
        """The writer process closed its end: it stopped, or it died."""
        assert self._sock is not None and self._loop is not None
        self._loop.remove_reader(self._sock.fileno())
        if self._out:
            self._loop.remove_writer(self._sock.fileno())
        self._sock.close()
        if not self._stopping:
            log.error("the database writer process exited unexpectedly")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(Unavailable("the database writer stopped before it answered"))
        self._pending.clear()
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)


def serve(url: str, sock: socket.socket, idle_reference: str | None = None) -> None:
    """The writer process: read writes, run them in batches, commit, answer; idle work when
    none is waiting."""
    from sdehub.store.database import create_engine

    # The server stops the writer (a stop request, after the writes before it): a Ctrl-C or a
    # SIGTERM sent to the whole process group must not kill it mid-batch first, failing the
    # requests in flight. Should the server die instead, its socket closes and this returns.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sock.setblocking(True)
    engine = create_engine(url)
    buffer = bytearray()
    functions: dict[str, Write] = {}
    idle = None if idle_reference is None else _resolve_reference(idle_reference)
    owed_since = None if idle is None else time.monotonic()
    with engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        # Replies go out once their commit is durable, from the fsync thread (walsync).
        sync = WalSync.of(conn, sock.sendall)
        answer = sock.sendall if sync is None else sync.answer
        while True:
            if idle is not None and owed_since is not None:
                if not _waiting(sock, buffer, IDLE_AFTER):  # quiet
                    owed_since = time.monotonic() if run_idle(conn, idle, busy=False) else None
                    continue
                if time.monotonic() - owed_since >= IDLE_EVERY:
                    owed_since = busy_step(conn, idle)
            requests, stop = _read_requests(sock, buffer)
            batch: list[tuple[int, Job]] = []
            for job_id, target, args, kwargs in requests:
                try:
                    if isinstance(target, str):
                        fn = functions.get(target)
                        if fn is None:
                            fn = functions[target] = _resolve_reference(target)
                    else:
                        fn = pickle.loads(target)
                except Exception as exc:
                    job = Job(_nothing, (), error=exc)
                    batch.append((job_id, job))
                    continue
                batch.append((job_id, Job(fn, args, kwargs)))
            jobs = [job for _, job in batch if job.error is None]
            seconds = commit_batch(conn, jobs) if jobs else 0.0
            if jobs and idle is not None and owed_since is None:
                owed_since = time.monotonic()
            results = [_result(job_id, job) for job_id, job in batch]
            if results:
                try:
                    reply = _frame((results, len(jobs), seconds))
                except Exception:
                    reply = _frame(([_sendable(r) for r in results], len(jobs), seconds))
                answer(reply)
            if stop:
                break
        if sync is not None:
            sync.close()
    engine.dispose()
    sock.close()
    os._exit(0)


def _nothing(conn: Connection) -> None:
    return None


Request = tuple[int, Any, tuple[Any, ...], dict[str, Any]]


def _waiting(sock: socket.socket, buffer: bytearray, timeout: float) -> bool:
    """Whether a request (or the request to stop) is there, or comes within ``timeout``."""
    if len(buffer) >= _FRAME.size and len(buffer) >= _FRAME.size + _FRAME.unpack_from(buffer)[0]:
        return True
    return bool(select.select([sock], [], [], timeout)[0])


def _read_requests(sock: socket.socket, buffer: bytearray) -> tuple[list[Request], bool]:
    """Block for at least one request, then take every request already waiting (up to a
    batch). ``None`` asks the writer to stop after what came before it."""
    requests: list[Request] = []
    while True:
        while len(buffer) >= _FRAME.size:
            (size,) = _FRAME.unpack_from(buffer)
            if len(buffer) < _FRAME.size + size:
                break
            request = pickle.loads(bytes(buffer[_FRAME.size : _FRAME.size + size]))
            del buffer[: _FRAME.size + size]
            if request is None:
                return requests, True
            requests.append(request)
        if len(requests) >= MAX_BATCH:
            return requests, False
        if requests and not select.select([sock], [], [], 0)[0]:
            return requests, False
        data = sock.recv(1 << 20)
        if not data:
            return requests, True
        buffer += data


def _result(job_id: int, job: Job) -> tuple[int, bool, Any]:
    return (job_id, True, job.result) if job.error is None else (job_id, False, job.error)


def _sendable(result: tuple[int, bool, Any]) -> tuple[int, bool, Any]:
    """A result that pickles: what cannot cross is replaced by an error saying so."""
    job_id, ok, value = result
    try:
        pickle.dumps(value)
    except Exception as exc:
        what = "result" if ok else f"error ({type(value).__name__}: {value})"
        return (job_id, False, RuntimeError(f"the write's {what} cannot be sent: {exc}"))
    return result
