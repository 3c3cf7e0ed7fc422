#!/usr/bin/env python3
"""The database writer's CPU per CONVERSATION, in process: no HTTP, no load generator.

What the SQLite writer process does for a Connector CONVERSATION, and only that: the request
body (``bench/connector.py``'s, a new consumer each time) goes through
``sdehub.messaging.conversation_from_json`` in batches of ``--batch`` writes, each batch one
``sdehub.store.writers.commit_batch`` (a savepoint per write, one commit) on a connection of
``sdehub.store.Database`` (the server's engine and pragmas: WAL), made durable as the writer
process does it: the log fsynced on a thread beside the next batch (``sdehub.store.walsync``).
The figure is this process's CPU time per conversation (``time.process_time``), far less
sensitive to a loaded machine than wall time; wall time is given beside it.

When the store defers the per-term search index (``sdehub.store.terms.drain_terms``), the drain
is timed separately afterwards, as the writer would run it when idle: per conversation too, so
"acknowledged" and "acknowledged + drained" can be compared with the per-term index written in
the acknowledging transaction.

Usage: ``.venv/bin/python bench/conversation_writer.py [--conversations 20000] [--batch 15]
[--segments 4] [--hashed-consumer-ids]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import connector
import prep
from writer import fresh_database, writer

from sdehub.messaging import conversation_from_json, time_ordered_id
from sdehub.store.identities import identity_key, new_consumer_id
from sdehub.store.writers import Job, commit_batch

WINDOW_MS = 12 * 3_600_000
NOW_MS = 1_767_225_600_000


def caller(i: int, hashed: bool = False) -> tuple[Any, ...]:
    # The consumer id the server's IdP gives bench/connector.py's consumers when it registers
    # them, a couple per millisecond, before the runs (sdehub.store.identities): in creation
    # order. --hashed-consumer-ids gives the ids of before (the identity's hash), which put every
    # consumer-keyed index's new entries at random places.
    key = identity_key(connector.ACCOUNT, "ext", f"bench-consumer-{i}")
    consumer = key if hashed else new_consumer_id(key, NOW_MS - 3_600_000 + i // 2)
    return (connector.ACCOUNT, prep.CLIENT_ID, consumer, None, "0", None, None, None)


def _drain() -> Any:
    try:
        from sdehub.store import terms  # absent before the pending tail existed
    except ImportError:
        return None
    return terms.drain_terms


def run(
    path: Path, n: int, batch: int, segments: int, hashed: bool = False
) -> list[dict[str, float]]:
    db = fresh_database(path)
    drain = _drain()
    bodies = [connector.dumps(connector.conversation_body(i)).encode() for i in range(n)]
    out = []
    per_segment = n // segments

    def jobs(start: int, stop: int) -> list[Job]:
        now = NOW_MS + start
        return [
            Job(conversation_from_json,
                (caller(i, hashed), bodies[i], time_ordered_id(now), now, WINDOW_MS))
            for i in range(start, stop)
        ]  # fmt: skip

    with writer(db) as w:
        for s in range(segments):
            cpu, wall = w.commit(s * per_segment, (s + 1) * per_segment, batch, jobs)
            drain_cpu = drain_wall = 0.0
            if drain is not None:
                c0, w0 = time.process_time(), time.perf_counter()
                while True:
                    job = Job(drain, ())
                    commit_batch(w.conn, [job])
                    if job.error is not None:
                        raise SystemExit(f"the drain failed: {job.error!r}")
                    if not job.result:
                        break
                drain_cpu = time.process_time() - c0
                drain_wall = time.perf_counter() - w0
            row = {
                "conversations": (s + 1) * per_segment,
                "cpu_us": cpu / per_segment * 1e6,
                "wall_us": wall / per_segment * 1e6,
                "drain_cpu_us": drain_cpu / per_segment * 1e6,
                "drain_wall_us": drain_wall / per_segment * 1e6,
            }
            out.append(row)
            print(
                f"  up to {row['conversations']:>7,} conversations: writer CPU"
                f" {row['cpu_us']:6.0f} us/conversation (wall {row['wall_us']:6.0f})"
                + (
                    f", drain {row['drain_cpu_us']:5.0f} us (wall {row['drain_wall_us']:5.0f})"
                    if drain is not None
                    else ""
                ),
                flush=True,
            )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--conversations", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=15)
    ap.add_argument("--segments", type=int, default=4)
    ap.add_argument(
        "--hashed-consumer-ids",
        action="store_true",
        help="consumer ids as they were before the IdP allocated them (hashes of the identity)",
    )
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        rows = run(
            Path(tmp) / "writer.db", args.conversations, args.batch, args.segments,
            args.hashed_consumer_ids,
        )  # fmt: skip
    later = rows[1:] or rows
    cpu = sum(r["cpu_us"] for r in later) / len(later)
    drain = sum(r["drain_cpu_us"] for r in later) / len(later)
    print(f"after the first segment: {cpu:.0f} us/conversation acknowledged"
          f" + {drain:.0f} us drained = {cpu + drain:.0f} us")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
