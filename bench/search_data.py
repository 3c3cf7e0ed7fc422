"""The search bench's database: ``--conversations`` demo conversations with their SDEs.

Built once and cached under ``--data-dir`` by a version key (this generator's version and the
number of conversations), so re-runs measure without rebuilding; each run migrates the cached
database to the current head first (a new index migration applies to it like to any database).

Each conversation is what ``sdehub demo`` makes of one visitor, thinned to the proportions the
architecture notes measured (1M conversations, about 4.5M SDEs): the authenticated Customer and
Personal Info every demo conversation carries, plus 0-5 of the visit's unauthenticated SDEs
(marketing source, search, viewed products, cart, purchase, lead, service activity, error),
picked at random. The SDE records come from ``sdehub.demo`` (the same typed records the APIs
decode), their payloads from the store's JSON encoder and their ``sde_terms`` rows from
``sdehub.model.sdesearch.terms``, one per term with the conversation's start and id (each SDE
here belongs to one conversation) — what ``sdehub.store.history.index_terms`` writes when an
SDE is attributed to a conversation. Rows go in with plain ``executemany`` on one sqlite3
connection with the journal off (a bench database, rebuilt from scratch when interrupted);
``sde_terms`` is staged unindexed and copied in primary-key order, which keeps its B-tree
append-only. Schema and indexes are the migrations'.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdehub.demo import ACCOUNT, FIRST, LAST, profile_sdes, web_sdes
from sdehub.model.sdesearch import terms
from sdehub.model.types import Event, wire_type
from sdehub.store.database import Database, sqlite_url
from sdehub.store.sql import to_json

GENERATOR = 4
"""Bump when the data changes: the cache key includes it."""
DAY_MS = 86_400_000
START_MS = 1_767_225_600_000
"""2026-01-01T00:00:00Z: conversations start over the 90 days from here."""
SPAN_MS = 90 * DAY_MS
CHUNK = 5_000


def version_key(conversations: int) -> str:
    """Not the schema: a cached database is migrated to head before each run."""
    return f"g{GENERATOR}-n{conversations}"


Generated = tuple[dict[str, Any], list[tuple[Event, bool]]]


def _conversation(rng: random.Random, i: int, total: int) -> Generated:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    created = START_MS + (i * SPAN_MS) // total + rng.randint(0, 5_000)
    closed = created + rng.randint(60_000, 3_600_000) if rng.random() < 0.8 else None
    conv = {
        "conversation_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "consumer_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "state": "CLOSE" if closed else "OPEN",
        "created_ms": created,
        "closed_ms": closed,
        "skill_id": rng.choice(("11", "12", None)),
    }
    web = web_sdes(rng, i)
    picked = rng.sample(web, rng.randint(0, 5))
    sdes = [(s, False) for s in picked] + [(s, True) for s in profile_sdes(rng, i, first, last)]
    return conv, sdes


def _chunks(total: int, seed: int) -> Iterator[list[Generated]]:
    for start in range(0, total, CHUNK):
        rng = random.Random(seed * 1_000_003 + start)
        yield [_conversation(rng, i, total) for i in range(start, min(total, start + CHUNK))]


def build(path: Path, conversations: int, *, seed: int = 42, log: Any = print) -> dict[str, Any]:
    """Create the database at ``path``; returns counts and timings."""
    began = time.perf_counter()
    path.unlink(missing_ok=True)
    db = Database(sqlite_url(path), readers=1)
    db.migrate()
    db.engine.dispose()
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA journal_mode=OFF")
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute("PRAGMA cache_size=-1000000")
    raw.execute("PRAGMA temp_store=FILE")
    stage = path.with_name(path.name + ".stage")
    stage.unlink(missing_ok=True)
    raw.execute("ATTACH DATABASE ? AS stage", (str(stage),))
    raw.execute("PRAGMA stage.journal_mode=OFF")
    raw.execute(
        "CREATE TABLE stage.terms"
        " (history_key TEXT, term TEXT, created_ms INTEGER, conversation_id TEXT, seq INTEGER)"
    )
    raw.execute("BEGIN")
    seq = 0
    n_sdes = n_terms = chunk_no = 0
    generate_s = 0.0
    for chunk in _chunks(conversations, seed):
        t0 = time.perf_counter()
        conv_rows, event_rows, attr_rows, term_rows = [], [], [], []
        for conv, sdes in chunk:
            cid = conv["conversation_id"]
            conv_rows.append(
                (ACCOUNT, cid, conv["consumer_id"], conv["state"], conv["created_ms"],
                 conv["closed_ms"], conv["skill_id"])
            )  # fmt: skip
            at = conv["created_ms"] - 60_000
            for record, authenticated in sdes:
                seq += 1
                at += 1_000
                event_rows.append(
                    (seq, ACCOUNT, wire_type(record), to_json(record), authenticated,
                     "connector" if authenticated else "webtag", conv["consumer_id"], cid, at, at)
                )  # fmt: skip
                attr_rows.append((ACCOUNT, cid, seq))
                found = terms(record)
                if found is not None:
                    key, words = found
                    term_rows.extend((key, t, conv["created_ms"], cid, seq) for t in words)
        generate_s += time.perf_counter() - t0
        raw.executemany(
            "INSERT INTO conversations (account_id, conversation_id, consumer_id, state,"
            " created_ms, closed_ms, skill_id, channel_type, last_sequence)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'MESSAGING', -1)",
            conv_rows,
        )
        raw.executemany(
            "INSERT INTO sde_events (seq, account_id, wire_type, payload, authenticated, source,"
            " consumer_id, conversation_id, original_ms, server_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_rows,
        )
        raw.executemany("INSERT INTO sde_attributions VALUES (?, ?, ?)", attr_rows)
        raw.executemany("INSERT INTO stage.terms VALUES (?, ?, ?, ?, ?)", term_rows)
        n_sdes += len(event_rows)
        n_terms += len(term_rows)
        if (chunk_no := chunk_no + 1) % 40 == 0:
            log(f"  {chunk_no * CHUNK:,} conversations, {time.perf_counter() - began:.0f} s")
    raw.execute("COMMIT")
    took = time.perf_counter() - began
    log(f"  rows generated and inserted in {took:.0f} s ({generate_s:.0f} s of it building")
    log("  records and terms); sorting sde_terms ...")
    t0 = time.perf_counter()
    raw.execute("BEGIN")
    raw.execute(
        "INSERT INTO sde_terms (account_id, history_key, term, created_ms, conversation_id, seq)"
        f" SELECT '{ACCOUNT}', history_key, term, created_ms, conversation_id, seq"
        " FROM stage.terms ORDER BY history_key, term, created_ms, conversation_id, seq"
    )
    raw.execute("COMMIT")
    raw.execute("DETACH DATABASE stage")
    stage.unlink()
    sort_s = time.perf_counter() - t0
    raw.execute("PRAGMA journal_mode=WAL")
    raw.close()
    return {
        "conversations": conversations,
        "sdes": n_sdes,
        "terms": n_terms,
        "build_s": round(time.perf_counter() - began, 1),
        "generate_s": round(generate_s, 1),
        "sort_terms_s": round(sort_s, 1),
        "bytes": path.stat().st_size,
    }
