#!/usr/bin/env python3
"""Data Access export: records per second for an hour's WebSession and Engagement files, as a
ratio to gzip -6 (stdlib zlib, level 6) of the same bytes in the same run.

An hour of a busy demo shop (seeded ``Random``): ``--visits`` web sessions, each with the demo
visitor's SDEs (``sdehub.demo.web_sdes`` and, logged in, the authenticated ``profile_sdes``), 2-6
page views and sometimes a goal; ``--conversations`` closed messaging conversations with 4-16
messages and an agent.

WebSession: the hour is written into a real SQLite database (the server's engine and pragmas)
through the store's own functions, in time order (``events.append`` per SDE, ``visits.put_page``
per page view, ``catalogs.add_goal_event`` per goal); then, as the exporter does first once the
hour has closed, its SDEs' items are moved into the order the export reads them
(``exports.cluster_sde_texts``, a write: its CPU time is printed, not part of the ratio), and
the WAL is checkpointed. What is timed is the
whole path from that database to the gzip file's bytes, as ``export_hour`` writes it
(``sdehub.dataaccess.export.web_session_file``): the export's queries (the items as UTF-8
bytes), the lines' text and gzip (``files.gzip_text``). The previous
method (rows from ``exports.sdes_between`` / ``pages_between``, every SDE and page written in
Python by ``avrotext.web_session_lines``) is timed beside it, and the two files are checked to be
the same bytes.

Engagement: the conversations are written into the same database through the store's own
writes (those of the messaging and agent paths: ``conversations.add_conversation``,
``add_participant``, ``next_sequence`` and ``add_message`` per message, ``update_conversation``
to close), every step in time order, interleaved; ``add_message`` keeps each transcript
message's item (``transcripts.add_item``). What is timed is the path from the database to the
gzip file's bytes: the export's three queries (``exports.engagement_rows``: the conversations
with their stored transcript items joined by the query), the lines
(``avrotext.engagement_lines_from_rows``) and gzip. Beside it, in the same rounds and checked to
give the same bytes: the transcripts from the messages (the reads before the items were stored:
every transcript message read and its item written in Python, as for a conversation stored
before migration 0018); the rows as mappings (``exports.conversations_closed_between``, three
queries, and ``avrotext.engagement_lines``); the same mappings read two SQLAlchemy queries per
conversation (as before the fourth session); and the mappings generated in memory (no query: the
earlier sessions' method).

The reference is ``zlib`` level 6 alone compressing the decompressed file (what ``gzip -6`` would
do with the text handed to it). A record is one item of a line's ``recordCollection``.

Target (issue 5 §4): export >= 2x the reference's records per second, for each file.

``--postgres URL``: the same on PostgreSQL (databases created on that server and dropped after),
timed in wall time, since the server's process does the queries' work.

Usage: ``.venv/bin/python bench/export.py [--visits 3000] [--conversations 800] [--runs 7]
[--postgres URL]``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.dataaccess import avrotext, export, files
from sdehub.demo import FIRST, LAST, LINES, profile_sdes, web_sdes
from sdehub.model.types import wire_type
from sdehub.store import (
    Database,
    catalogs,
    conversations,
    events,
    exports,
    tables,
    visits,
)
from sdehub.store.database import sqlite_url
from sdehub.store.events import Origin
from sdehub.store.history import AGENT_ROLES
from sdehub.store.sql import Sql, to_json
from sdehub.store.sql import rows as fetch

ACCOUNT = "12345678"
HOUR_MS = 1_767_225_600_000
TARGET = 2.0


def _sde_rows(rng: random.Random, visits: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(visits):
        visitor, session = f"V{i:06d}", f"S{i:06d}"
        at = HOUR_MS + rng.randrange(3_000_000)
        sdes = [(s, False) for s in web_sdes(rng, i)]
        if rng.random() < 0.4:  # logged in: the authenticated profile too
            first, last = rng.choice(FIRST), rng.choice(LAST)
            sdes += [(s, True) for s in profile_sdes(rng, i, first, last)]
        for record, authenticated in sdes:
            at += rng.randint(1_000, 30_000)
            rows.append(
                {
                    "seq": len(rows) + 1, "wire_type": wire_type(record), "record": record,
                    "payload": to_json(record), "authenticated": authenticated,
                    "visitor_id": visitor, "session_id": session, "server_ms": at,
                }
            )  # fmt: skip
    return rows


def _page_rows(rng: random.Random, visits: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(visits):
        at = HOUR_MS + rng.randrange(3_000_000)
        for n in range(rng.randint(2, 6)):
            at += rng.randint(5_000, 60_000)
            section = rng.choice(("home", "kitchen", "sport", "electronics", "checkout"))
            rows.append(
                {
                    "account_id": ACCOUNT, "visitor_id": f"V{i:06d}", "session_id": f"S{i:06d}",
                    "page_id": f"P{i}-{n}", "first_ms": at, "last_ms": at + 1_000,
                    "entry_points": [f"https://shop.example.com/{section}/{n}?ref=nav",
                                     f"sec://{section}"],
                }
            )  # fmt: skip
    return rows


def _goal_rows(rng: random.Random, visits: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(0, visits, 4):
        kind = rng.choice(("purchase", "lead", "serviceActivity", "interact"))
        rows.append(
            {
                "account_id": ACCOUNT, "id": i, "visitor_id": f"V{i:06d}",
                "session_id": f"S{i:06d}", "goal_id": str(21 + i % 3), "goal_type": kind,
                "reached_ms": HOUR_MS + rng.randrange(3_500_000),
                "details": {"orderId": f"ORD-{1000 + i}", "topic": "delivery change",
                            "leadId": f"L-{i}", "status": 1, "revision": 3},
                "value": round(rng.uniform(5, 500), 2), "campaign_id": "61",
                "engagement_id": "71",
            }
        )  # fmt: skip
    return rows


def _conversation_rows(rng: random.Random, n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        consumer = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        start = HOUR_MS - rng.randrange(1_800_000)
        agent = {"participant_id": f"agent-{i % 40}", "role": "ASSIGNED_AGENT",
                 "joined_ms": start + 30_000}  # fmt: skip
        messages = []
        at = start
        for seq in range(rng.randint(4, 16)):
            at += rng.randint(3_000, 90_000)
            by_agent = seq % 2 == 1
            messages.append(
                {
                    "conversation_id": cid, "sequence": seq, "dialog_id": cid,
                    "event_type": "ContentEvent", "server_ms": at,
                    "role": "ASSIGNED_AGENT" if by_agent else "CONSUMER",
                    "participant_id": agent["participant_id"] if by_agent else consumer,
                    "event": {"type": "ContentEvent", "contentType": "text/plain",
                              "message": rng.choice(LINES)},
                }
            )  # fmt: skip
        rows.append(
            {
                "account_id": ACCOUNT, "conversation_id": cid, "consumer_id": consumer,
                "state": "CLOSE", "created_ms": start,
                "closed_ms": HOUR_MS + rng.randrange(3_600_000),
                "close_reason": rng.choice(("CONSUMER", "AGENT")), "skill_id": "11",
                "campaign_id": "61", "engagement_id": "71", "visitor_id": None,
                "session_id": None, "channel_type": "MESSAGING",
                "participants": [
                    {"participant_id": consumer, "role": "CONSUMER", "joined_ms": start}, agent
                ],
                "messages": messages,
            }
        )  # fmt: skip
    return sorted(rows, key=lambda c: (c["closed_ms"], c["conversation_id"]))  # the query's order


def _write_hour(
    conn: Connection,
    sdes: list[dict[str, Any]],
    pages: list[dict[str, Any]],
    goals: list[dict[str, Any]],
) -> None:
    """The hour through the store's own writes, in the order a server would receive it."""
    for r in sorted(sdes, key=lambda r: r["server_ms"]):
        origin = Origin(
            source="webtag",
            authenticated=r["authenticated"],
            visitor_id=r["visitor_id"],
            session_id=r["session_id"],
        )
        events.append(conn, ACCOUNT, [r["record"]], origin, server_ms=r["server_ms"])
    for p in sorted(pages, key=lambda p: p["first_ms"]):
        visits.put_page(
            conn,
            ACCOUNT,
            p["visitor_id"],
            p["session_id"],
            p["page_id"],
            p["entry_points"],
            p["first_ms"],
        )
    for g in sorted(goals, key=lambda g: g["reached_ms"]):
        catalogs.add_goal_event(
            conn,
            catalogs.GoalEvent(
                **{k: v for k, v in g.items() if k != "id"},
                dedup_key=str(g["id"]),
                duplicate=False,
                source="monitoring",
            ),
        )
    # fmt: skip


def _write_conversations(
    conn: Connection, convs: list[dict[str, Any]], keep: bool, clock: Clock
) -> float:
    """The conversations through the store's own writes (those of the messaging and agent
    paths), every conversation's steps in time order, interleaved as a server receives them.
    ``keep``: closed as the services close them now (``conversations.close``, which keeps the
    Engagement line); else as before migration 0020 (no line kept). Returns the CPU time spent
    keeping the lines."""
    steps: list[tuple[int, int, Callable[[], Any]]] = []
    closing = [0.0]

    def at(ms: int, step: Callable[[], Any]) -> None:
        steps.append((ms, len(steps), step))

    for c in convs:
        cid = c["conversation_id"]
        opened = conversations.Conversation(
            **{k: v for k, v in c.items() if k not in ("participants", "messages")}
            | {"state": "OPEN", "closed_ms": None, "close_reason": None}
        )
        at(c["created_ms"], lambda o=opened: conversations.add_conversation(conn, o))
        for p in c["participants"]:
            joined = conversations.Participant(
                account_id=ACCOUNT, conversation_id=cid, participant_id=p["participant_id"],
                role=p["role"], joined_ms=p["joined_ms"],
            )  # fmt: skip
            at(p["joined_ms"], lambda j=joined: conversations.add_participant(conn, j))
        for m in c["messages"]:
            sent = conversations.Message(account_id=ACCOUNT, **m)

            def send(sent: conversations.Message = sent) -> None:
                conversations.next_sequence(conn, ACCOUNT, sent.conversation_id)
                conversations.add_message(conn, sent)

            at(m["server_ms"], send)
        last = max([c["closed_ms"], *(m["server_ms"] for m in c["messages"])])

        def close(c: dict[str, Any] = c, cid: str = cid) -> None:
            t0 = clock()
            if keep:
                conversations.close(conn, ACCOUNT, cid, c["closed_ms"], c["close_reason"])
            else:
                conversations.update_conversation(
                    conn, ACCOUNT, cid, state="CLOSE", closed_ms=c["closed_ms"],
                    close_reason=c["close_reason"],
                )  # fmt: skip
                conversations.close_dialogs(conn, ACCOUNT, cid, c["closed_ms"])
            closing[0] += clock() - t0

        at(last, close)
    for _, _, step in sorted(steps, key=lambda s: s[:2]):
        step()
    return closing[0]


Clock = Callable[[], float]
Where = Callable[[str], str]
"""A new, empty database's URL for a name: a SQLite file in a temporary folder, or a database
created on the PostgreSQL server given (``--postgres``)."""


def _settled(db: Database) -> None:
    """The written hour as a server an hour later holds it: SQLite's WAL checkpointed into the
    database file; PostgreSQL's tables analysed (autovacuum's job by then)."""
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as conn:
        if sqlite:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # VACUUM runs outside a transaction
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")


def _database(
    where: Where,
    sdes: list[dict[str, Any]],
    pages: list[dict[str, Any]],
    goals: list[dict[str, Any]],
    convs: list[dict[str, Any]],
    clock: Clock,
    move: bool = True,
) -> tuple[Database, float, float]:
    db = Database(where("export"), readers=1)
    db.migrate()
    db.write_sync(lambda conn: _write_hour(conn, sdes, pages, goals))
    keeping = db.write_sync(lambda conn: _write_conversations(conn, convs, True, clock))
    # The exporter's first step once the hour has closed, in the writer: the SDE items into the
    # order the export reads them. Timed apart (it is the writer's, not the reading export's).
    t0 = clock()
    if move:
        db.write_sync(
            lambda conn: exports.cluster_sde_texts(conn, ACCOUNT, HOUR_MS + files.HOUR_MS)
        )
    moved = clock() - t0
    _settled(db)
    return db, moved, keeping  # fmt: skip


def _closed_before_lines(
    where: Where, convs: list[dict[str, Any]], clock: Clock
) -> tuple[Database, float]:
    """The same conversations in another database, closed as before migration 0020: no line
    kept, their transcript items left one by one; and the CPU time of those closes."""
    db = Database(where("before"), readers=1)
    db.migrate()
    closing = db.write_sync(lambda conn: _write_conversations(conn, convs, False, clock))
    _settled(db)
    return db, closing


def _previous_lines(conn: Connection) -> list[str]:
    """The WebSession lines as the export wrote them before the stored items."""
    until = HOUR_MS + files.HOUR_MS
    return avrotext.web_session_lines(
        ACCOUNT,
        exports.sdes_between(conn, ACCOUNT, HOUR_MS, until),
        exports.pages_between(conn, ACCOUNT, HOUR_MS, until),
        exports.goals_between(conn, ACCOUNT, HOUR_MS, until),
    )


# The Engagement file's reads of the fourth session, before the transcript items were stored:
# every transcript message of the hour's conversations read, and its item written in Python
# (the conversations' rows given no stored transcript, so the lines writer renders them all).
_AGENTS = "('" + "', '".join(AGENT_ROLES) + "')"
_HOURS_CONVERSATIONS = (
    " WHERE c.account_id = :account_id AND c.closed_ms >= :since_ms AND c.closed_ms < :until_ms"
)
_CONVERSATIONS_READ = Sql(
    "SELECT conversation_id, consumer_id, created_ms, closed_ms, close_reason, skill_id,"
    " campaign_id, engagement_id, visitor_id, session_id, channel_type, NULL, 0"
    f" FROM conversations c{_HOURS_CONVERSATIONS} ORDER BY closed_ms, conversation_id"
)
_MESSAGES_READ = Sql(
    "SELECT t.conversation_id, t.sequence,"
    " CASE WHEN t.dialog_id = t.conversation_id THEN NULL ELSE t.dialog_id END,"
    f" t.participant_id, t.role IN {_AGENTS}, t.event_type = 'ContentEvent', t.event,"
    f" t.server_ms FROM conversations c CROSS JOIN messages t{_HOURS_CONVERSATIONS}"
    " AND t.account_id = :account_id AND t.conversation_id = c.conversation_id"
    " AND t.event_type IN ('ContentEvent', 'RichContentEvent')"
    " ORDER BY c.conversation_id, t.sequence"
)


def _messages_read(conn: Connection, until: int) -> list[str]:
    """The Engagement lines as the fourth session's export wrote them: from the messages."""
    params = {"account_id": ACCOUNT, "since_ms": HOUR_MS, "until_ms": until}
    found = exports.EngagementRows(
        fetch(conn, _CONVERSATIONS_READ, params),
        fetch(conn, exports._ENGAGEMENT_AGENTS, params),
        fetch(conn, _MESSAGES_READ, params),
    )
    return avrotext.engagement_lines_from_rows(ACCOUNT, found)


def _one_by_one(conn: Connection, until: int) -> list[dict[str, Any]]:
    """The Engagement file's rows as ``exports.conversations_closed_between`` read them before
    this session: the conversations, then two queries per conversation (participants,
    messages), through SQLAlchemy."""
    c, p, m = tables.conversations.c, tables.participants.c, tables.messages.c
    found = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(tables.conversations)
            .where(c.account_id == ACCOUNT, c.closed_ms >= HOUR_MS, c.closed_ms < until)
            .order_by(c.closed_ms, c.conversation_id)
        )
    ]
    for conv in found:
        key = conv["conversation_id"]
        conv["participants"] = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(tables.participants)
                .where(p.account_id == ACCOUNT, p.conversation_id == key)
                .order_by(p.joined_ms, p.participant_id)
            )
        ]
        conv["messages"] = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(tables.messages)
                .where(m.account_id == ACCOUNT, m.conversation_id == key)
                .order_by(m.sequence)
            )
        ]
    return found


def _timed(fn: Callable[[], Any], runs: int, clock: Clock) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(runs):
        t0 = clock()
        out = fn()
        times.append(clock() - t0)
    return times, out


def measure(
    name: str,
    exported: Callable[[], bytes],
    records: int,
    runs: int,
    clock: Clock,
    others: dict[str, Callable[[], bytes]] | None = None,
) -> dict[str, Any]:
    """Time ``exported`` against zlib -6 of its file, and each of ``others`` (other ways to the
    same file, which must give the same bytes) in the same rounds."""
    others = others or {}
    exported()  # warm-up: schema compiled, pages cached
    data = exported()
    text = gzip.decompress(data)
    for other, way in others.items():
        assert gzip.decompress(way()) == text, f"{name}: the {other} wrote other bytes"
    ratios, ex_rates, ref_rates = [], [], []
    other_ratios: dict[str, list[float]] = {other: [] for other in others}
    for _ in range(runs):  # interleaved, so all see the same machine
        (ex,), _ = _timed(exported, 1, clock)
        (ref,), _ = _timed(lambda: zlib.compress(text, 6), 1, clock)
        ex_rates.append(records / ex)
        ref_rates.append(records / ref)
        ratios.append(ref / ex)
        for other, way in others.items():
            (took,), _ = _timed(way, 1, clock)
            other_ratios[other].append(ref / took)
    row = {
        "file": name,
        "records": records,
        "raw_mb": len(text) / 1e6,
        "gz_mb": len(data) / 1e6,
        "export_rec_s": statistics.median(ex_rates),
        "zlib6_rec_s": statistics.median(ref_rates),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratios": ratios,
        "others": {other: statistics.median(r) for other, r in other_ratios.items()},
    }
    mb_s = row["raw_mb"] * row["export_rec_s"] / records
    print(
        f"  {name:11} {records:6,} records, {row['raw_mb']:5.1f} MB -> {row['gz_mb']:4.1f} MB gz:"
        f" export {row['export_rec_s']:9,.0f} rec/s ({mb_s:5.0f} MB/s),"
        f" zlib -6 {row['zlib6_rec_s']:9,.0f} rec/s -> {row['ratio']:.2f}x"
        f" (min {row['ratio_min']:.2f}x; rounds {' '.join(f'{r:.2f}' for r in ratios)})",
        flush=True,
    )
    for other, ratio in row["others"].items():
        print(f"  {'':11} {other}: {ratio:.2f}x", flush=True)
    return row


@contextlib.contextmanager
def _databases(postgres: str | None) -> Iterator[Where]:
    """New databases for the run, removed after it: SQLite files in a temporary folder, or
    databases of their own on the PostgreSQL server ``postgres`` (a URL to one of its
    databases, the way in to create the others)."""
    if postgres is None:
        with tempfile.TemporaryDirectory() as folder:
            yield lambda name: sqlite_url(Path(folder) / f"{name}.db")
        return
    admin = sa.create_engine(postgres, isolation_level="AUTOCOMMIT")
    made: list[str] = []
    run = uuid.uuid4().hex[:10]

    def where(name: str) -> str:
        made.append(f"sdehub_bench_{name}_{run}")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{made[-1]}"')
        return admin.url.set(database=made[-1]).render_as_string(hide_password=False)

    try:
        yield where
    finally:
        with admin.connect() as conn:
            for name in made:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--visits", type=int, default=3_000)
    ap.add_argument("--conversations", type=int, default=800)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--unmoved",
        action="store_true",
        help="leave the hour's SDE items where they were written: the export joins them itself",
    )
    ap.add_argument(
        "--postgres",
        metavar="URL",
        help="measure on PostgreSQL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres:"
        " the bench creates its databases there and drops them after), in wall time",
    )
    args = ap.parse_args(argv)
    # On PostgreSQL the queries' work is done by the server's process: CPU time of this one
    # would leave it out. Wall time counts both (they take turns) and the waits between them.
    clock: Clock = time.process_time if args.postgres is None else time.perf_counter
    rng = random.Random(args.seed)
    sdes = _sde_rows(rng, args.visits)
    pages = _page_rows(rng, args.visits)
    goals = _goal_rows(rng, args.visits)
    convs = _conversation_rows(rng, args.conversations)
    on = "SQLite, CPU time" if args.postgres is None else "PostgreSQL, wall time"
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {on},"
          f" median of {args.runs} interleaved rounds")  # fmt: skip
    # A record is an item of a line's recordCollection: per visit, one for its SDEs, one for its
    # pages and one for its goals; per conversation, one.
    visits = {(r["visitor_id"], r["session_id"]) for r in sdes}
    pages_of = {(r["visitor_id"], r["session_id"]) for r in pages}
    goals_of = {(r["visitor_id"], r["session_id"]) for r in goals}
    web = len(visits) + len(pages_of) + len(goals_of)
    spent = "CPU" if args.postgres is None else "wall time"
    with _databases(args.postgres) as where:
        t0 = time.perf_counter()
        db, moved, keeping = _database(
            where, sdes, pages, goals, convs, clock, move=not args.unmoved
        )
        before, closing = _closed_before_lines(where, convs, clock)
        print(f"  (hour written through the store in {time.perf_counter() - t0:.1f} s; its SDE"
              f" items moved into export order in {moved * 1000:.0f} ms of {spent}, once; a"
              f" conversation closed in {keeping / len(convs) * 1e6:.0f} us of {spent} with its"
              f" Engagement line kept, {closing / len(convs) * 1e6:.0f} us without)")  # fmt: skip

        def web_file() -> bytes:
            with db.engine.connect() as conn:
                return export.web_session_file(conn, ACCOUNT, HOUR_MS)

        def previous_file() -> bytes:
            with db.engine.connect() as conn:
                return files.gzip_lines(_previous_lines(conn))

        def engagement_file() -> bytes:
            with db.engine.connect() as conn:
                return files.gzip_lines(export.engagement_lines(conn, ACCOUNT, HOUR_MS))

        def engagement_from_rows() -> bytes:
            with before.engine.connect() as conn:
                found = exports.engagement_rows(conn, ACCOUNT, HOUR_MS, until)
                return files.gzip_lines(avrotext.engagement_lines_from_rows(ACCOUNT, found))

        def engagement_messages_read() -> bytes:
            with before.engine.connect() as conn:
                return files.gzip_lines(_messages_read(conn, until))

        def engagement_mappings() -> bytes:
            with db.engine.connect() as conn:
                found = exports.conversations_closed_between(conn, ACCOUNT, HOUR_MS, until)
                return files.gzip_lines(avrotext.engagement_lines(ACCOUNT, found))

        def engagement_one_by_one() -> bytes:
            with db.engine.connect() as conn:
                found = _one_by_one(conn, until)
                return files.gzip_lines(avrotext.engagement_lines(ACCOUNT, found))

        def engagement_in_memory() -> bytes:
            return files.gzip_lines(avrotext.engagement_lines(ACCOUNT, convs))

        until = HOUR_MS + files.HOUR_MS
        results = [
            measure(
                "webSession", web_file, web, args.runs, clock, {"previous method": previous_file}
            ),
            measure(
                "engagement",
                engagement_file,
                len(convs),
                args.runs,
                clock,
                {
                    "lines written from the rows (closed before 0020; before the kept lines)": (
                        engagement_from_rows
                    ),
                    # (its messages' query is SQLite's: the event as JSON text)
                    **(
                        {
                            "transcripts from the messages (before the stored items)": (
                                engagement_messages_read
                            )
                        }
                        if args.postgres is None
                        else {}
                    ),
                    "mappings (conversations_closed_between, engagement_lines)": (
                        engagement_mappings
                    ),
                    "mappings, two queries per conversation (before)": engagement_one_by_one,
                    "mappings generated in memory (no query)": engagement_in_memory,
                },
            ),
        ]
        db.engine.dispose()
        before.engine.dispose()
    missed = [r["file"] for r in results if r["ratio"] < TARGET]
    verdict = "met" if not missed else "missed by " + ", ".join(missed)
    print(f"target: >= {TARGET:.0f}x zlib -6 -> {verdict}")
    if args.json:
        args.json.write_text(json.dumps({"load": os.getloadavg(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
