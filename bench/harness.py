"""The HTTP benches' harness: sdehub and echo started once, then per workload an untimed
preparation, warm-ups and rounds of an echo run then an sdehub run, each run measured and checked
the same way. ``connector.py`` and ``report.py`` subclass ``Bench`` with their workloads."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loadgen import PyLoad, Wrk
from prep import PrepClient
from runs import Run, Summary, check, count_rows, describe_run, search_pending, settled_count
from servers import BenchError, Server, commit_counts, descendants_cpu, start_pair
from spy import finish_py_spy, start_py_spy


def add_round_options(p: argparse.ArgumentParser) -> None:
    """The options of the rounds every HTTP bench has, first in its usage."""
    p.add_argument("--duration", type=float, default=10, help="seconds per timed run")
    p.add_argument("--runs", type=int, default=5, help="rounds (echo run + sdehub run each)")
    p.add_argument("--warmup", type=float, default=3, help="warm-up seconds per server")
    p.add_argument("--connections", type=int, default=48)
    p.add_argument("--threads", type=int, default=1, help="wrk threads")


def add_output_options(p: argparse.ArgumentParser) -> None:
    """Where the work directory goes and what is kept of it."""
    p.add_argument("--tmpdir", help="where the SQLite file goes (a real disk: fsync matters)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", help="also write the results as JSON to this file")


@dataclass
class Workload:
    """A workload's request file (``data``); subclasses keep what its requests need."""

    name: str
    data: Path


class Bench:
    """One bench: subclasses give the load generator, the preparation client, each workload's
    preparation and table, and may act before and after each run."""

    rows_per_request = 1
    """Rows of the workload's table each acknowledged request adds (the durability check)."""
    pending_terms = False
    """Report the search index's pending rows after each sdehub run."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.db = workdir / "bench.db"
        self.servers: list[Server] = []
        self.runs: list[Run] = []
        self.failed = False
        self.loop = asyncio.new_event_loop()
        self.version = ""

    def log(self, line: str) -> None:
        print(line, flush=True)

    # -- what a bench gives ----------------------------------------------------------------------

    def generator(self) -> Wrk | PyLoad:
        raise NotImplementedError

    def client(self) -> PrepClient:
        """The preparation client, once sdehub answers."""
        raise NotImplementedError

    def prepare(self, name: str) -> Workload:
        raise NotImplementedError

    def table(self, w: Workload) -> str:
        """The table whose rows the workload's requests add."""
        raise NotImplementedError

    def calibrate(self, w: Workload) -> None:
        """Before the warm-ups (untimed preparation may depend on sdehub's rate)."""

    def before_run(self, w: Workload, server: Server, duration: float) -> None:
        """Before the run's measurements start (preparation over HTTP goes here)."""

    def write_requests(self, w: Workload) -> None:
        """The request file, just before the load starts (the bench's own work only)."""

    def after_run(self, w: Workload, server: Server, run: Run) -> None:
        """After the run's measurements."""

    def describe(self, w: Workload, server: Server, run: Run) -> str:
        return describe_run(run, self.table(w))

    # -- servers ---------------------------------------------------------------------------------

    def start_servers(self) -> None:
        args = self.args
        self.sdehub, self.echo = start_pair(self.workdir, self.db, self.servers)
        self.gen = self.generator()
        self.version = f"{self.gen.version}, connection {args.connection}"
        self.log(
            f"sdehub pid {self.sdehub.pid} ({self.sdehub.base}, db {self.db}), "
            f"echo pid {self.echo.pid} ({self.echo.base}); load: {self.version}, "
            f"{args.connections} connections, {args.duration:g} s x {args.runs} rounds; "
            f"{os.cpu_count()} CPUs"
        )
        self.prep = self.client()

    def stop_servers(self) -> None:
        if hasattr(self, "prep"):
            self.loop.run_until_complete(self.prep.close())
        self.loop.close()
        for s in self.servers:
            s.stop()

    # -- runs ------------------------------------------------------------------------------------

    def timed(self, w: Workload, server: Server, round_: int, duration: float) -> Run:
        args = self.args
        is_sdehub = server is self.sdehub
        table = self.table(w)
        self.before_run(w, server, duration)
        before = count_rows(self.db, table) if is_sdehub else None
        commits_before = commit_counts(server.base) if is_sdehub else (0.0, 0.0, 0.0)
        writer_cpu = descendants_cpu(server.pid)
        spy = None
        if args.py_spy and is_sdehub and round_ == 1:
            spy = start_py_spy(args, server, w.name, duration, subprocesses=True)
        cpu = server.cpu_seconds()
        user0, system0 = server.cpu_split()
        # Echo and sdehub both start at the request file's first line: both get the same bytes.
        self.write_requests(w)
        load = self.gen.run(server.base, w.data, 0, duration)
        if spy is not None:
            finish_py_spy(spy, self.log)
        run = Run(w.name, server.name, round_, load, before)
        if is_sdehub:
            run.rows_after = settled_count(self.db, table)
            jobs, commits, busy = commit_counts(server.base)
            run.writes_per_commit = (jobs - commits_before[0]) / max(commits - commits_before[1], 1)
            run.writer_busy = (busy - commits_before[2]) / load.duration_s
            spent = descendants_cpu(server.pid) - writer_cpu
            run.writer_cpu_us_per_request = spent / max(load.ok + max(load.in_flight, 0), 1) * 1e6
            if self.pending_terms:
                run.search_pending = search_pending(self.db)
        # CPU the server spent per request it processed (those in flight at the cutoff too):
        # much less sensitive to the neighbours' load than req/s.
        processed = load.ok + load.bad + max(load.in_flight, 0)
        run.cpu_us_per_request = (server.cpu_seconds() - cpu) / max(processed, 1) * 1e6
        user1, system1 = server.cpu_split()
        run.system_share = (system1 - system0) / max(user1 - user0 + system1 - system0, 1e-9)
        self.after_run(w, server, run)
        for s in self.servers:
            if not s.alive():
                raise BenchError(f"{s.name} died:\n{s.tail()}")
        check(run, durable=is_sdehub, rows_per_request=self.rows_per_request)
        self.failed |= bool(run.problems)
        return run

    def workload(self, name: str) -> None:
        w = self.prepare(name)
        self.calibrate(w)
        if self.args.warmup > 0:
            for server in (self.echo, self.sdehub):
                run = self.timed(w, server, 0, self.args.warmup)
                self.log(self.describe(w, server, run) + "  [warm-up]")
        for round_ in range(1, self.args.runs + 1):
            for server in (self.echo, self.sdehub):
                run = self.timed(w, server, round_, self.args.duration)
                self.runs.append(run)
                self.log(self.describe(w, server, run))

    def run_workloads(self, names: Sequence[str]) -> None:
        """Start the servers, run each workload, stop them; an error is logged, and ends it."""
        try:
            if names:
                self.start_servers()
                for name in names:
                    self.workload(name)
        except BenchError as exc:
            self.log(f"ERROR: {exc}")
            self.failed = True
        finally:
            self.stop_servers()
            if self.args.keep:
                self.log(f"kept {self.workdir}")
            else:
                shutil.rmtree(self.workdir, ignore_errors=True)

    def finish(
        self, settings: dict[str, Any], summaries: list[Summary], extra: dict[str, Any]
    ) -> int:
        """The JSON file (``--json``) and the exit status."""
        if self.args.json:
            result = {
                "settings": settings,
                "load_generator": self.version,
                "cpus": os.cpu_count(),
                "summary": [asdict(s) for s in summaries],
                "runs": [asdict(r) for r in self.runs],
                **extra,
                "errors": self.failed,
            }
            Path(self.args.json).write_text(json.dumps(result, indent=2))
        if self.failed:
            self.log("\nERRORS: see the ERROR line or the lines marked '!' above.")
        return 1 if self.failed else 0
