#!/usr/bin/env python3
"""Messaging Interactions ``sdeSearch`` at a million conversations: latency of a page of 50, and
of the same page with its ``_metadata.count``, through the code the API runs.

The database (``bench/search_data.py``) is built once, cached under ``--data-dir`` by a version
key, and migrated to the current head before every run. Each query is a request body as a client
sends it, turned into search criteria by ``sdehub.api.msghist.criteria`` (what the search route
calls) and run by ``sdehub.store.history`` on a reader connection of ``sdehub.store.Database``
(the server's engine and pragmas):

* ``page``: ``history.page`` — the ids of the newest 50 matches (what the route renders);
* ``page+count``: ``history.search`` — the page and the count, what the route answers with.

The values asked for change from one repetition to the next (another customer, order, name), so
no repetition reads exactly the pages of the one before. The same-run reference is the same 50
conversations read by primary key (``conversation_id IN (...)``): what any page costs at least
once its ids are known; the ratio says how much finding them adds. Targets (issue 5 §4):
page p50 <= 20 ms, page+count p50 <= 250 ms.

``--pending N`` first moves the terms of the newest N SDEs from ``sde_terms`` back to the pending
tail (``sdehub.store.terms``: one packed row per SDE and conversation, as an attribution writes
them), so the searches also scan a tail the writer has not drained yet; afterwards the bench
drains it again through ``sdehub.store.terms.drain_terms`` and reports the drain's CPU time per
SDE (into an index of this size), leaving the database as it found it.

Usage: ``.venv/bin/python bench/search.py [--conversations 1000000] [--repeat 40]
[--data-dir ~/.cache/sdehub-bench] [--pending 0] [--json out.json]``. Exit status 0 unless
something failed (targets missed are reported, not an error).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import search_data
import sqlalchemy as sa

from sdehub.api.msghist import SearchBody, criteria
from sdehub.demo import ACCOUNT, FIRST, LAST
from sdehub.store import history, terms
from sdehub.store.database import Database, sqlite_url
from sdehub.store.tables import conversations

PAGE_TARGET_MS = 20.0
COUNT_TARGET_MS = 250.0
NOW_MS = search_data.START_MS + search_data.SPAN_MS
# The documented maximum span of ``start`` (three months), covering the whole data set.
START = {"from": NOW_MS - 90 * search_data.DAY_MS, "to": NOW_MS}


def _queries(n: int) -> dict[str, Callable[[random.Random], dict[str, str]]]:
    """Name -> a function giving a fresh ``sdeSearch`` of that kind."""

    def i(rng: random.Random) -> int:
        return rng.randrange(n)

    return {
        "customer id": lambda r: {"customerInfo": f"C-{100 + i(r)}"},
        "common word": lambda r: {"personalInfo": r.choice(FIRST)},
        "two words": lambda r: {"personalInfo": f"{r.choice(FIRST)} {r.choice(LAST)}"},
        "quoted phrase": lambda r: {
            "purchase": r.choice(('"espresso machine"', '"running shoes"', '"yoga mat"'))
        },
        "OR of keys": lambda r: {
            "customerInfo": f"C-{100 + i(r)}",
            "purchase": f"ORD-{1000 + i(r)}",
            "lead": f"L-{i(r)}",
        },
    }


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _by_key(conn: sa.Connection, ids: list[str]) -> list[str]:
    c = conversations.c
    found = conn.execute(
        sa.select(c.conversation_id, c.created_ms).where(
            c.account_id == ACCOUNT, c.conversation_id.in_(ids)
        )
    )
    return [r[0] for r in found]


def measure(db: Database, n: int, repeat: int, seed: int) -> list[dict[str, Any]]:
    results = []
    for name, make in _queries(n).items():
        rng = random.Random(seed)
        page_ms: list[float] = []
        both_ms: list[float] = []
        key_ms: list[float] = []
        counts: list[int] = []
        for rep in range(repeat + 2):  # two warm-ups
            body = msgspec.convert({"start": START, "sdeSearch": make(rng)}, SearchBody)
            query = criteria(body, "start:desc", NOW_MS)
            t0 = time.perf_counter()
            ids = db.read_sync(lambda c, q=query: history.page(c, ACCOUNT, q, offset=0, limit=50))
            t1 = time.perf_counter()
            count, ids2 = db.read_sync(
                lambda c, q=query: history.search(c, ACCOUNT, q, offset=0, limit=50)
            )
            t2 = time.perf_counter()
            db.read_sync(lambda c, ids=ids: _by_key(c, ids))
            t3 = time.perf_counter()
            if ids != ids2:
                raise SystemExit(f"{name}: page and search disagree")
            if rep >= 2:
                page_ms.append((t1 - t0) * 1000)
                both_ms.append((t2 - t1) * 1000)
                key_ms.append((t3 - t2) * 1000)
                counts.append(count)
        row = {
            "query": name,
            "matches_median": statistics.median(counts),
            "page_p50_ms": _pct(page_ms, 0.5),
            "page_p95_ms": _pct(page_ms, 0.95),
            "count_p50_ms": _pct(both_ms, 0.5),
            "count_p95_ms": _pct(both_ms, 0.95),
            "by_key_p50_ms": _pct(key_ms, 0.5),
        }
        row["page_ratio"] = row["page_p50_ms"] / row["by_key_p50_ms"]
        results.append(row)
        print(
            f"  {name:14} matches {row['matches_median']:>9,.0f}"
            f"  page p50 {row['page_p50_ms']:7.2f}"
            f" p95 {row['page_p95_ms']:7.2f} ms  +count p50 {row['count_p50_ms']:7.1f}"
            f" p95 {row['count_p95_ms']:7.1f} ms  by key {row['by_key_p50_ms']:5.2f} ms"
            f"  ({row['page_ratio']:.1f}x)",
            flush=True,
        )
    return results


def to_pending(conn: sa.Connection, n: int) -> int:
    """Move the newest ``n`` SDEs' terms from the per-term index to the pending tail (one row
    per SDE and conversation, as an attribution writes them)."""
    top = conn.exec_driver_sql("SELECT max(seq) FROM sde_events").scalar_one()
    params = (ACCOUNT, top - n)
    conn.exec_driver_sql(
        "INSERT INTO sde_terms_pending"
        " (account_id, history_key, created_ms, conversation_id, seq, terms)"
        " SELECT account_id, history_key, created_ms, conversation_id, seq,"
        " char(31) || group_concat(term, char(31)) || char(31)"
        " FROM (SELECT * FROM sde_terms WHERE account_id = ? AND seq > ?"
        " ORDER BY account_id, history_key, created_ms, conversation_id, seq, term)"
        " GROUP BY account_id, history_key, created_ms, conversation_id, seq",
        params,
    )
    conn.exec_driver_sql("DELETE FROM sde_terms WHERE account_id = ? AND seq > ?", params)
    return int(conn.exec_driver_sql("SELECT count(*) FROM sde_terms_pending").scalar_one())


def drain(db: Database) -> tuple[int, float, float]:
    """Drain the tail as the writer does: SDEs moved, CPU and wall seconds."""
    moved = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while step := db.write_sync(terms.drain_terms):
        moved += step
    return moved, time.process_time() - cpu, time.perf_counter() - wall


def database(data_dir: Path, n: int) -> tuple[Path, dict[str, Any]]:
    path = data_dir / f"search-{search_data.version_key(n)}.db"
    info = path.with_name(path.name + ".json")
    if path.exists() and info.exists():
        print(f"reusing {path}")
        return path, json.loads(info.read_text())
    data_dir.mkdir(parents=True, exist_ok=True)
    print(f"building {path} ({n:,} conversations) ...", flush=True)
    building = path.with_name(path.name + ".building")
    built = search_data.build(building, n, log=lambda m: print(m, flush=True))
    building.rename(path)
    info.write_text(json.dumps(built))
    print(f"  built in {built['build_s']:.0f} s: {built}")
    return path, built


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--conversations", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("SDEHUB_BENCH_DATA", Path.home() / ".cache/sdehub-bench")),
    )
    ap.add_argument("--pending", type=int, default=0, help="newest SDEs to search as pending")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    path, built = database(args.data_dir, args.conversations)
    db = Database(sqlite_url(path), readers=1)
    t0 = time.perf_counter()
    db.migrate()
    migrate_s = time.perf_counter() - t0
    if migrate_s > 1:
        print(f"migrated to head in {migrate_s:.0f} s")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{built['sdes']:,} SDEs, {built['terms']:,} sde_terms rows")  # fmt: skip
    drained = drain(db)  # a tail left by an interrupted run
    if args.pending:
        t0 = time.perf_counter()
        pending = db.write_sync(lambda c: to_pending(c, args.pending))
        print(f"{pending:,} SDEs pending (moved there in {time.perf_counter() - t0:.0f} s)")
    results = measure(db, args.conversations, args.repeat, args.seed)
    if args.pending:
        drained = drain(db)
        moved, cpu, wall = drained
        print(f"drained {moved:,} SDEs: {cpu / moved * 1e6:.0f} us CPU"
              f" ({wall / moved * 1e6:.0f} us wall) per SDE")  # fmt: skip
    missed = [
        r["query"]
        for r in results
        if r["page_p50_ms"] > PAGE_TARGET_MS or r["count_p50_ms"] > COUNT_TARGET_MS
    ]
    print(
        f"targets: page p50 <= {PAGE_TARGET_MS:.0f} ms, page+count p50 <= {COUNT_TARGET_MS:.0f} ms"
        f" -> {'met' if not missed else 'missed by ' + ', '.join(missed)}"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "built": built,
                    "load": os.getloadavg(),
                    "results": results,
                    "missed": missed,
                    "pending": args.pending,
                    "drained": drained,
                },
                indent=2,
            )
        )
    db.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
