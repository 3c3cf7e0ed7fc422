"""The HTTP benches' runs: what one timed run measured, the checks every run passes (statuses,
socket errors, durability: the rows a run added against its 200s), its line, and the medians
over rounds."""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadgen import Load


def is_number(value: float) -> bool:
    return value == value  # not NaN


def count_rows(db: Path, table: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def search_pending(db: Path) -> int | None:
    """Rows of the search index's pending tail (None before the tail existed)."""
    try:
        return count_rows(db, "sde_terms_pending")
    except sqlite3.OperationalError:
        return None


def settled_count(db: Path, table: str) -> int:
    """The row count once requests still in flight at the cutoff have been committed."""
    last = count_rows(db, table)
    stable = 0
    while stable < 3:
        time.sleep(0.2)
        now = count_rows(db, table)
        stable = stable + 1 if now == last else 0
        last = now
    return last


# --- the bench ----------------------------------------------------------------------------------


@dataclass
class Run:
    workload: str
    server: str
    round: int
    load: Load
    rows_before: int | None = None
    rows_after: int | None = None
    cpu_us_per_request: float = float("nan")
    writer_cpu_us_per_request: float = float("nan")
    """The server's child processes (sdehub's SQLite writer), when measured."""
    writer_busy: float = float("nan")
    """Share of the run the writer spent running batches (statements and commits), when
    measured: near 1, the writer is the bottleneck."""
    system_share: float = float("nan")
    writes_per_commit: float = float("nan")
    search_pending: int | None = None
    """SDE rows waiting for the search index's move at the end of the run: work the writer
    left for when the load pauses (sdehub.store.terms.BACKLOG bounds it)."""
    problems: list[str] = field(default_factory=list)


@dataclass
class Summary:
    workload: str
    echo_rps: float
    sdehub_rps: float
    ratio: float
    ratio_of_medians: float
    ratios: list[float]
    echo_p50_ms: float
    echo_p99_ms: float
    sdehub_p50_ms: float
    sdehub_p99_ms: float
    echo_cpu_us: float
    sdehub_cpu_us: float
    target: float
    met: bool
    acknowledged: int
    in_flight: int
    rows: int


def check(run: Run, durable: bool, rows_per_request: int = 1) -> None:
    load = run.load
    if load.bad:
        run.problems.append(f"{load.bad} non-200 responses, e.g. {load.sample}")
    if load.socket_errors or load.timeouts:
        run.problems.append(f"{load.socket_errors} socket errors, {load.timeouts} timeouts")
    if load.wrapped and run.server == "sdehub" and run.workload == "conversation":
        run.problems.append("ran out of fresh consumers (raise --consumer-factor)")
    if durable and run.rows_before is not None and run.rows_after is not None:
        rows = run.rows_after - run.rows_before
        each = "" if rows_per_request == 1 else f" ({rows_per_request} rows per request)"
        if rows < rows_per_request * load.ok:
            run.problems.append(
                f"DURABILITY: {load.ok} requests acknowledged with 200 but only {rows} rows stored"
                + each
            )
        elif rows != rows_per_request * (load.ok + load.in_flight):
            run.problems.append(
                f"row count mismatch: {rows} rows stored, {load.ok} acknowledged + "
                f"{load.in_flight} in flight at the cutoff{each}"
            )


def describe_run(run: Run, table: str) -> str:
    load = run.load
    line = (
        f"  {run.workload:<12} round {run.round}  {run.server:<6} {load.rps:9.1f} req/s  "
        f"p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  "
        f"cpu {run.cpu_us_per_request:6.0f} us/req ({100 * run.system_share:.0f}% system)  "
        + (
            f"writer {run.writer_cpu_us_per_request:.0f} us/req  "
            if is_number(run.writer_cpu_us_per_request)
            else ""
        )
        + (f"writer busy {100 * run.writer_busy:.0f}%  " if is_number(run.writer_busy) else "")
        + (
            f"{run.writes_per_commit:.1f} writes/commit  "
            if is_number(run.writes_per_commit)
            else ""
        )
        + f"({load.ok} x 200"
    )
    if run.rows_after is not None and run.rows_before is not None:
        line += (
            f", {load.in_flight} in flight at cutoff, "
            f"{run.rows_after - run.rows_before} {table} rows"
        )
    line += ")"
    if run.search_pending is not None:
        line += f"  [{run.search_pending} search rows pending]"
    if run.problems:
        line += "\n    ! " + "\n    ! ".join(run.problems)
    return line


def summarize(
    runs: list[Run], workloads: Sequence[str], targets: dict[str, float]
) -> list[Summary]:
    out = []
    for workload in workloads:
        echo = {r.round: r for r in runs if r.workload == workload and r.server == "echo"}
        hub = {r.round: r for r in runs if r.workload == workload and r.server == "sdehub"}
        rounds = sorted(set(echo) & set(hub))
        if not rounds:
            continue
        ratios = [hub[r].load.rps / echo[r].load.rps for r in rounds]
        e_rps = statistics.median(echo[r].load.rps for r in rounds)
        h_rps = statistics.median(hub[r].load.rps for r in rounds)
        ratio = statistics.median(ratios)
        out.append(
            Summary(
                workload=workload,
                echo_rps=e_rps,
                sdehub_rps=h_rps,
                ratio=ratio,
                ratio_of_medians=h_rps / e_rps,
                ratios=ratios,
                echo_p50_ms=statistics.median(echo[r].load.p50_ms for r in rounds),
                echo_p99_ms=statistics.median(echo[r].load.p99_ms for r in rounds),
                sdehub_p50_ms=statistics.median(hub[r].load.p50_ms for r in rounds),
                sdehub_p99_ms=statistics.median(hub[r].load.p99_ms for r in rounds),
                echo_cpu_us=statistics.median(echo[r].cpu_us_per_request for r in rounds),
                sdehub_cpu_us=statistics.median(hub[r].cpu_us_per_request for r in rounds),
                target=targets[workload],
                met=ratio >= targets[workload],
                acknowledged=sum(hub[r].load.ok for r in rounds),
                in_flight=sum(hub[r].load.in_flight for r in rounds),
                rows=sum((hub[r].rows_after or 0) - (hub[r].rows_before or 0) for r in rounds),
            )
        )
    return out


# --- the table of medians: the parts every HTTP bench's table has ------------------------------

RATIO_NOTE = (
    "ratio = median over rounds of (sdehub req/s / echo req/s), echo and sdehub run back to "
    "back in each round"
)


def medians_title(args: argparse.Namespace, version: str) -> str:
    return (
        f"Medians of {args.runs} interleaved rounds, {args.duration:g} s each, "
        f"{args.connections} connections ({version}), one uvicorn worker each"
    )


def medians_cells(s: Summary) -> str:
    """A row's cells from echo req/s to sdehub p50/p99 (a workload without a target: ``-``)."""
    per = " ".join(f"{r:.3f}" for r in s.ratios)
    target, result = "-", "-"
    if is_number(s.target):
        target, result = f"{s.target:.2f}x", "pass" if s.met else "MISS"
    return (
        f"| {s.echo_rps:10.0f} | {s.sdehub_rps:12.0f} "
        f"| {s.ratio:5.3f} | {target:>6} | {result:<6} | {per} "
        f"| {s.echo_p50_ms:6.1f} / {s.echo_p99_ms:6.1f} "
        f"| {s.sdehub_p50_ms:7.1f} / {s.sdehub_p99_ms:7.1f} "
    )


def durability_line(label: str, s: Summary, table: str, rows_per_request: int = 1) -> str:
    """Rows added over the rounds against rows_per_request x (200s + in flight at the cutoffs)."""
    counted = f"{s.acknowledged} acknowledged (200) + {s.in_flight} in flight at the cutoffs"
    if rows_per_request != 1:
        counted = f"{rows_per_request} x ({counted})"
    expected = rows_per_request * (s.acknowledged + s.in_flight)
    return (
        f"durability {label}: {counted} = {expected}; {table} rows added: "
        f"{s.rows} -> {'OK' if s.rows == expected else 'MISMATCH'}"
    )
