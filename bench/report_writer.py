#!/usr/bin/env python3
"""The database writer's CPU per Monitoring report and Engagement Attributes call, in process.

What the SQLite writer process does for ``bench/report.py``'s ``report`` and ``events``
requests, and only that: the request body as ``bench/report.py`` sends it (the same two SDEs, a
``cart`` and a ``prodView``, into one of ``--visits`` visits in turn) goes through
``sdehub.monitorcall.visit_write_body`` with the msgpack ``Call`` the HTTP layer would pack
(``sdehub.monitoring.Monitoring.call``), in batches of ``--batch`` writes, each batch one
``sdehub.store.writers.commit_batch`` (a savepoint per write, one commit) on a connection of
``sdehub.store.Database`` (the server's engine and pragmas: WAL), made durable as the writer
process does it (``sdehub.store.walsync``). The visits are started beforehand, untimed, through
the engagement method's write (``sdehub.monitorcall.visit_write``) with ``bench/report.py``'s
engagement body. The figure is this process's CPU time per call (``time.process_time``); wall
time is given beside it.

Usage: ``.venv/bin/python bench/report_writer.py [--calls 12000] [--visits 1000] [--batch 15]
[--segments 4] [--workloads report,events]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import msgspec
from connector import dumps
from report import ACCOUNT, APP, VisitIds, engagement_body, sdes
from writer import fresh_database, writer

from sdehub.bodies import decode_json
from sdehub.model.monitoring import NOTHING, decode_engagement
from sdehub.monitorcall import Call, Kind, visit_write, visit_write_body
from sdehub.monitoring import new_page_id, new_visit_id
from sdehub.store.database import Database
from sdehub.store.writers import Job

HOUR_MS = 3_600_000
LIFETIME_MS = 6 * HOUR_MS  # monitoring_session_hours
WINDOW_MS = 12 * HOUR_MS  # attribution_hours
NOW_MS = 1_767_225_600_000
APP_CLIENT = "bench-client"  # the AppJWT's client id: the events call's actor


def call(kind: Kind, visit: VisitIds | None, now_ms: int) -> Call:
    """The call the HTTP layer packs (``Monitoring.call``), body still to be decoded."""
    events = kind == "events"
    return Call(
        kind=kind,
        account_id=ACCOUNT,
        app_id=APP_CLIENT if events else APP,
        visitor_id=None if visit is None else visit.visitor_id,
        session_id=None if visit is None else visit.session_id,
        new_visitor_id=new_visit_id(),
        new_session_id=new_visit_id(),
        new_page_id=new_page_id(),
        reported=NOTHING,
        now_ms=now_ms,
        lifetime_ms=LIFETIME_MS,
        window_ms=WINDOW_MS,
        ip_address=None if events else "127.0.0.1",
        source="eaapi" if events else "monitoring",
        actor=APP_CLIENT if events else None,
    )


def start_visits(db: Database, n: int) -> list[VisitIds]:
    """``bench/report.py``'s visits, through the engagement method's write (untimed)."""
    out = []
    with db.engine.begin() as conn:
        for i in range(n):
            raw = dumps(engagement_body(i)).encode()
            reported, errors = decode_engagement(decode_json(raw))
            assert reported is not None, errors
            start = msgspec.structs.replace(call("engagement", None, NOW_MS + i), reported=reported)
            outcome = visit_write(conn, start)
            out.append(VisitIds(outcome.visitor_id, outcome.session_id, outcome.page_id))
    return out


def body(kind: Kind, visit: VisitIds, i: int) -> bytes:
    """``bench/report.py``'s request body (``request_line``)."""
    if kind == "events":
        return dumps(sdes(i)).encode()
    return dumps({"pageId": visit.page_id, "engagementAttributes": sdes(i)}).encode()


def run(path: Path, kind: Kind, n: int, n_visits: int, batch: int, segments: int) -> list[float]:
    db = fresh_database(path)
    visits = start_visits(db, n_visits)
    now0 = NOW_MS + n_visits
    work = [
        (msgspec.msgpack.encode(call(kind, visits[i % n_visits], now0 + i)),
         body(kind, visits[i % n_visits], i))
        for i in range(n)
    ]  # fmt: skip
    out = []
    per_segment = n // segments
    with writer(db) as w:
        for s in range(segments):
            cpu, wall = w.commit(
                s * per_segment,
                (s + 1) * per_segment,
                batch,
                lambda start, stop: [Job(visit_write_body, work[i]) for i in range(start, stop)],
            )
            cpu_us = cpu / per_segment * 1e6
            out.append(cpu_us)
            print(
                f"  {kind:>6}: up to {(s + 1) * per_segment:>7,} calls: writer CPU"
                f" {cpu_us:6.0f} us/call (wall {wall / per_segment * 1e6:6.0f})",
                flush=True,
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--calls", type=int, default=12_000)
    ap.add_argument("--visits", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=15)
    ap.add_argument("--segments", type=int, default=4)
    ap.add_argument("--workloads", default="report,events")
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    summary = []
    for name in args.workloads.split(","):
        kind: Kind = "report" if name == "report" else "events"
        if name != kind:
            raise SystemExit(f"unknown workload {name!r}")
        with tempfile.TemporaryDirectory() as tmp:
            rows = run(
                Path(tmp) / "writer.db", kind, args.calls, args.visits, args.batch, args.segments
            )
        later = rows[1:] or rows
        summary.append(f"{kind} {sum(later) / len(later):.0f} us/call")
    print("after the first segment: " + ", ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
