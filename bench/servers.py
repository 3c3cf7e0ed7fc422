#!/usr/bin/env python3
"""The HTTP benches' servers: sdehub and the echo reference as subprocesses, their CPU time from
``/proc`` and sdehub's metrics.

The echo reference is a bare Starlette app, one route answering with the request body, on the
same uvicorn settings ``sdehub serve`` uses; it runs as ``bench/servers.py --echo-server PORT``.
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class BenchError(Exception):
    """An error that ends the bench (a server died or failed to start, a failed preparation)."""


def serve_echo(port: int) -> None:
    """The reference: a bare Starlette app, one route answering with the request body, on the
    same uvicorn settings ``sdehub serve`` uses (``sdehub.cli.run_server``)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def echo(request: Request) -> Response:
        return Response(await request.body(), media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", echo, methods=["GET", "POST", "PUT"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    log: Path
    db: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (all its threads)."""
        user, system = self.cpu_split()
        return user + system

    def cpu_split(self) -> tuple[float, float]:
        """(user, system) CPU seconds of the server process so far."""
        return process_cpu(self.pid)

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def process_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far (all its threads, not its children)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan"), float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (sdehub's writer is a child of its forkserver)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, p in parent.items() if p == current]
        found += children
        todo += children
    return found


def descendants_cpu(pid: int) -> float:
    seconds = (sum(process_cpu(child)) for child in descendants(pid))
    # A child that exited between the listing and the read gives NaN: it no longer counts.
    return sum(s for s in seconds if not math.isnan(s))


def sdehub_command() -> list[str]:
    exe = Path(sys.executable).parent / "sdehub"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sdehub"]


def start(name: str, argv: list[str], port: int, workdir: Path, db: Path | None = None) -> Server:
    log = workdir / f"{name}.log"
    # The servers run this checkout's code, whichever checkout the virtualenv was installed from.
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    server = Server(name, f"http://127.0.0.1:{port}", process, log, db)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not server.alive():
            raise BenchError(f"{name} exited during start:\n{server.tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise BenchError(f"{name} did not answer /healthz within 60 s:\n{server.tail()}")


def start_pair(workdir: Path, db: Path, servers: list[Server]) -> tuple[Server, Server]:
    """``sdehub serve --emulator`` on ``db`` (durable defaults, no rate limit, quiet) and the echo
    app, each on a free port; both are added to ``servers`` as soon as they run."""
    port = free_port()
    argv = [*sdehub_command(), "serve", "--emulator", "--db", str(db)]
    argv += ["--port", str(port), "--setting", "app_rate_limit", "1000000/second"]
    argv += ["--setting", "log_level", "WARNING"]
    servers.append(start("sdehub", argv, port, workdir, db))
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--echo-server", str(port)]
    servers.append(start("echo", argv, port, workdir))
    return servers[-2], servers[-1]


def metrics(base: str) -> dict[str, float]:
    """sdehub's unlabelled metrics (``/metrics``, Prometheus text) by name."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("sdehub_") and "{" not in line:
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def commit_counts(base: str) -> tuple[float, float, float]:
    """(writes, commits, seconds spent in batches) so far, from sdehub's commit histograms."""
    values = metrics(base)
    return (
        values.get("sdehub_commit_batch_size_sum", 0.0),
        values.get("sdehub_commit_batch_size_count", 0.0),
        values.get("sdehub_commit_seconds_sum", 0.0),
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description="the echo reference server")
    p.add_argument("--echo-server", type=int, metavar="PORT", required=True)
    serve_echo(p.parse_args().echo_server)
