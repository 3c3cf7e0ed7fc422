"""``sdeSearch`` through the term index's pending tail (sdehub.store.terms), on both backends.

A CONVERSATION acknowledges its SDEs with one pending row each; the writer moves them to the
per-term index later. A search finds an SDE the moment it is acknowledged, finds it once after
the move, and once while it is in both (indexed again after its move); the move is one
transaction per batch, and draining again writes nothing.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.api.msghist import SearchBody, criteria
from sdehub.ingest import HOUR_MS, record
from sdehub.messaging import conversation_from_json
from sdehub.model.types import CustomerInfo, CustomerInfoData
from sdehub.store import Database, events, history, search_plan, terms, writers
from sdehub.store.conversations import Conversation, add_conversation
from sdehub.store.database import create_engine, sqlite_url
from sdehub.store.events import Origin
from sdehub.store.tables import sde_terms, sde_terms_pending
from sdehub.store.writers import CommitStats, ThreadWriter

pytestmark = pytest.mark.anyio
T0 = 1_767_225_600_000
PEOPLE = [("Ana", "Diaz", "C-1"), ("Ana", "Smith", "C-2"), ("John", "Smith", "C-3")]


def body(account_id: str, first: str, last: str, customer_id: str) -> bytes:
    sdes = [
        {"type": "ctmrinfo", "info": {"customerId": customer_id, "cstatus": "active"}},
        {"type": "personal", "personal": {"firstname": first, "lastname": last,
                                          "company": "Acme Widgets Inc"}},
    ]  # fmt: skip
    batch = [
        {"kind": "req", "id": "1,", "type": "userprofile.SetUserProfile",
         "body": {"authenticatedData": {"lp_sdes": sdes}}},
        {"kind": "req", "id": "2,", "type": "cm.ConsumerRequestConversation",
         "body": {"brandId": account_id, "channelType": "MESSAGING"}},
    ]  # fmt: skip
    return json.dumps(batch).encode()


async def converse(db: Database, account_id: str, n: int, who: tuple[str, str, str]) -> str:
    """A Connector CONVERSATION of a new consumer, through the writer as the API runs it."""
    caller = (account_id, "app-1", f"consumer-{n}", None, "0", None, None, None)
    conversation_id = f"conv-{n}"
    await db.write(
        conversation_from_json, caller, body(account_id, *who), conversation_id, T0 + n,
        12 * HOUR_MS,
    )  # fmt: skip
    return conversation_id


def rows(conn: Connection, table: sa.Table, account_id: str) -> int:
    counted = conn.execute(
        sa.select(sa.func.count()).select_from(table).where(table.c.account_id == account_id)
    )
    return int(counted.scalar_one())


def found(db: Database, account_id: str, sde: dict[str, str]) -> tuple[int, list[str]]:
    window = {"from": T0 - HOUR_MS, "to": T0 + HOUR_MS}
    q = criteria(msgspec.convert({"start": window, "sdeSearch": sde}, SearchBody), "start:asc", T0)
    count, page = db.read_sync(lambda c: history.search(c, account_id, q, offset=0, limit=50))
    assert len(page) == len(set(page)), page  # never the same conversation twice
    assert count == len(page), (count, page)  # fewer than a page: the count is the page
    # The count alone, and a page that walks conversations newest first, agree.
    assert db.read_sync(lambda c: history.count(c, account_id, q)) == count
    return count, page


SEARCHES: list[tuple[dict[str, str], list[int]]] = [
    ({"customerInfo": "C-2"}, [1]),
    ({"personalInfo": "ana"}, [0, 1]),
    ({"personalInfo": "ana smith"}, [1]),
    ({"personalInfo": '"acme widgets"'}, [0, 1, 2]),
    ({"personalInfo": '"widgets acme"'}, []),
    ({"personalInfo": "nobody", "customerInfo": "C-3"}, [2]),
    ({"customerInfo": "C-1", "personalInfo": "john"}, [0, 2]),
    ({"purchase": "C-1"}, []),
]


def expect(db: Database, account_id: str, ids: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for sde, wanted in SEARCHES:
        want = sorted(ids[i] for i in wanted)
        assert found(db, account_id, sde) == (len(want), want), sde
        with monkeypatch.context() as m:
            m.setattr(history, "_ordered", lambda _: False)  # conversations by key
            assert found(db, account_id, sde) == (len(want), want), sde
            m.setattr(search_plan, "TERM_FIRST_MAX", -1)  # every page walks conversations
            assert found(db, account_id, sde) == (len(want), want), sde
        with monkeypatch.context() as m:
            m.setattr(search_plan, "TERM_FIRST_MAX", -1)
            m.setattr(search_plan, "MERGE_RATIO", 10**9)  # counts intersect several terms
            assert found(db, account_id, sde) == (len(want), want), sde


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url, drain_when_idle=False)
    database.migrate()
    database.start()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def account() -> str:
    return f"pending-{uuid.uuid4().hex[:10]}"


def reindex(conn: Connection, account_id: str, conversation_ids: list[str]) -> None:
    """Index the conversations' SDEs again (as a later conversation in their window does)."""
    for conversation_id in conversation_ids:
        entries = events.for_conversation(conn, account_id, conversation_id)
        history.index_terms(conn, account_id, [conversation_id], entries)


async def test_found_when_acknowledged_and_once_after_the_move(
    db: Database, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [await converse(db, account, n, who) for n, who in enumerate(PEOPLE)]
    # Acknowledged: two pending rows per conversation, nothing in the per-term index yet.
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 6
    assert db.read_sync(lambda c: rows(c, sde_terms, account)) == 0
    expect(db, account, ids, monkeypatch)

    assert await db.drain_terms() >= 6
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 0
    indexed = db.read_sync(lambda c: rows(c, sde_terms, account))
    assert indexed > 6
    expect(db, account, ids, monkeypatch)

    # Indexed again after the move: in both tables, still found once.
    await db.write(reindex, account, ids)
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 6
    expect(db, account, ids, monkeypatch)
    assert await db.drain_terms() >= 6  # idempotent: nothing new in the index
    assert db.read_sync(lambda c: rows(c, sde_terms, account)) == indexed
    assert await db.drain_terms() == 0
    expect(db, account, ids, monkeypatch)

    # Half moved, half pending: each SDE where it is, the conversations found once.
    await db.write(reindex, account, ids[:2])
    assert await db.write(terms.drain_terms, account, limit=3) == 3
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 1
    expect(db, account, ids, monkeypatch)


def drain_then_fail(conn: Connection, account_id: str) -> None:
    assert terms.drain_terms(conn, account_id) > 0
    raise RuntimeError("crash after the move, before the commit")


async def test_a_move_is_one_transaction(db: Database, account: str) -> None:
    await converse(db, account, 0, PEOPLE[0])
    with pytest.raises(RuntimeError, match="before the commit"):
        await db.write(drain_then_fail, account)
    # Rolled back whole: the SDEs are still pending and the index holds none of their terms.
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 2
    assert db.read_sync(lambda c: rows(c, sde_terms, account)) == 0
    assert await db.write(terms.drain_terms, account, limit=1) == 1
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 1
    assert await db.write(terms.drain_terms, account) == 1
    assert await db.write(terms.drain_terms, account) == 0


async def test_draining_one_account_leaves_another_pending(db: Database) -> None:
    run = uuid.uuid4().hex[:10]
    a, b = f"pending-a-{run}", f"pending-b-{run}"
    await converse(db, a, 0, PEOPLE[0])
    await converse(db, b, 0, PEOPLE[0])
    assert await db.write(terms.drain_terms, b) == 2
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, a)) == 2
    assert db.read_sync(lambda c: rows(c, sde_terms, a)) == 0
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, b)) == 0


async def test_the_writer_drains_when_idle(db_url: str, account: str) -> None:
    database = Database(db_url)  # drain_when_idle by default
    database.migrate()
    database.start()
    try:
        conversation_id = await converse(database, account, 0, PEOPLE[1])
        # Found at once (pending or moved), and moved soon after without being asked.
        assert found(database, account, {"personalInfo": "smith"}) == (1, [conversation_id])
        deadline = time.monotonic() + 20
        while database.read_sync(lambda c: rows(c, sde_terms_pending, account)):
            assert time.monotonic() < deadline, "the writer did not drain the pending terms"
            time.sleep(0.05)
        assert database.read_sync(lambda c: rows(c, sde_terms, account)) > 0
        assert found(database, account, {"personalInfo": "smith"}) == (1, [conversation_id])
    finally:
        await database.close()


def test_packed_terms_hold_exactly_their_terms() -> None:
    from sdehub.model.sdesearch import needle, pack, unpack

    packed = pack({"smith", "ana", "ana smith"})
    assert packed == "\x1fana\x1fana smith\x1fsmith\x1f"
    assert unpack(packed) == ["ana", "ana smith", "smith"]
    assert needle("ana") in packed and needle("smith") in packed
    # A term is not found inside a longer one.
    assert needle("an") not in packed and needle("mith") not in packed
    assert needle("ana smit") not in packed


async def test_idle_work_runs_while_no_write_waits(tmp_path: Path) -> None:
    """The writers' contract for idle work (the drain): step after step while it says more is
    left and no write comes, then nothing until a commit owes it again."""
    calls: list[float] = []

    def idle(conn: Connection, busy: bool) -> bool:
        assert not busy  # no write keeps coming
        calls.append(time.monotonic())
        return len(calls) < 3

    async def settle(n: int) -> None:
        deadline = time.monotonic() + 10
        while len(calls) < n:
            assert time.monotonic() < deadline, calls
            await anyio.sleep(0.01)
        await anyio.sleep(0.3)  # and no more
        assert len(calls) == n

    engine = create_engine(sqlite_url(tmp_path / "idle.db"))
    writer = ThreadWriter(engine, CommitStats(), lambda *_: None, idle=idle)
    writer.start()
    try:
        await settle(3)
        assert await writer.submit(Database.ping, (), {}) is None
        await settle(4)
    finally:
        await writer.stop()
        engine.dispose()


@pytest.mark.parametrize("again", [False, True])
async def test_idle_work_is_asked_while_writes_keep_coming(tmp_path: Path, again: bool) -> None:
    """Under a steady stream of writes the idle work is never run as quiet; it is asked with
    ``busy`` every IDLE_EVERY seconds, or every IDLE_AFTER while it says it wants another step
    (a backlog over its bound)."""
    asked: list[tuple[float, bool]] = []

    def idle(conn: Connection, busy: bool) -> bool:
        asked.append((time.monotonic(), busy))
        return again if busy else False

    engine = create_engine(sqlite_url(tmp_path / "busy.db"))
    writer = ThreadWriter(engine, CommitStats(), lambda *_: None, idle=idle)
    writer.start()
    try:
        assert await writer.submit(Database.ping, (), {}) is None  # owed from now
        asked.clear()
        began = time.monotonic()
        while time.monotonic() - began < 1.6:
            assert await writer.submit(Database.ping, (), {}) is None
            await anyio.sleep(0.002)  # well under IDLE_AFTER: never quiet
    finally:
        await writer.stop()
        engine.dispose()
    assert asked and all(busy for _, busy in asked), asked
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(asked)]
    if again:  # about 1.6 s / IDLE_AFTER asks, never IDLE_EVERY apart
        assert len(asked) >= 8 and max(gaps) < writers.IDLE_EVERY / 2, gaps
    else:  # about 1.6 s / IDLE_EVERY asks, none sooner
        assert 2 <= len(asked) <= 4 and min(gaps) >= writers.IDLE_EVERY * 0.9, gaps


async def test_the_drain_waits_for_its_backlog_under_load(db: Database, account: str) -> None:
    """Under load the drain moves nothing until the pending rows (every account's) reach its
    bound; quiet, it moves whatever is pending."""
    for n in range(3):
        await converse(db, account, n, PEOPLE[n])
    pending = db.read_sync(
        lambda c: c.execute(sa.select(sa.func.count()).select_from(sde_terms_pending)).scalar_one()
    )
    assert pending >= 6
    assert await db.write(terms.drain_step, True, backlog=pending + 1) is False
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 6
    assert await db.write(terms.drain_step, True, backlog=pending) is True
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 0
    assert db.read_sync(lambda c: rows(c, sde_terms, account)) > 0
    await converse(db, account, 3, PEOPLE[0])
    assert await db.write(terms.drain_step, False) is True
    assert await db.write(terms.drain_step, False) is False  # nothing left
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 0


def started(account_id: str, conversation_id: str, created_ms: int) -> Conversation:
    return Conversation(
        account_id=account_id, conversation_id=conversation_id, consumer_id="consumer-x",
        state="OPEN", created_ms=created_ms,
    )  # fmt: skip


async def test_an_sde_in_two_conversations_is_found_from_each(
    db: Database, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consumer has two open conversations: an SDE reported now belongs to both, and is
    found from each (pending and once moved), within a ``start`` range holding one or both."""
    for conversation_id, n in (("early", 0), ("late", 1_200_000)):
        await db.write(
            lambda c, i=conversation_id, n=n: add_conversation(c, started(account, i, T0 + n))
        )
    reported = CustomerInfo(info=CustomerInfoData(customerId="C-77"))
    origin = Origin(source="api", authenticated=True, consumer_id="consumer-x")
    await db.write(
        lambda c: record(c, account, [reported], origin, now_ms=T0 + 1_500_000, window_ms=HOUR_MS)
    )
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 2  # one per conversation

    def searched(start_from: int, start_to: int) -> list[tuple[int, list[str]]]:
        window = {"from": start_from, "to": start_to}
        body = msgspec.convert({"start": window, "sdeSearch": {"customerInfo": "c-77"}}, SearchBody)
        out = []
        for sort in ("start:desc", "start:asc", "end:desc"):
            q = criteria(body, sort, T0 + 1_500_000)
            out.append(
                db.read_sync(lambda c, q=q: history.search(c, account, q, offset=0, limit=50))
            )
            assert db.read_sync(lambda c, q=q: history.count(c, account, q)) == out[-1][0]
        return out

    def expect() -> None:
        both = searched(T0 - HOUR_MS, T0 + HOUR_MS)
        assert [(n, sorted(page)) for n, page in both] == [(2, ["early", "late"])] * 3
        assert [page for _, page in both[:2]] == [["late", "early"], ["early", "late"]]
        assert searched(T0 + 600_000, T0 + HOUR_MS) == [(1, ["late"])] * 3  # 10-minute steps
        assert searched(T0 - HOUR_MS, T0) == [(1, ["early"])] * 3
        with monkeypatch.context() as m:
            m.setattr(search_plan, "TERM_FIRST_MAX", -1)  # pages by end time walk
            assert searched(T0 - HOUR_MS, T0 + HOUR_MS)[2][0] == 2

    expect()
    assert await db.drain_terms() == 2
    assert db.read_sync(lambda c: rows(c, sde_terms_pending, account)) == 0
    expect()


def test_value_terms_reach_every_scalar() -> None:
    from enum import StrEnum

    from sdehub.model.sdesearch import value_terms

    class Kind(StrEnum):
        GOLD = "Gold Member"

    value = {
        "a": "Ana Diaz", "n": [1, 2.5, True, None, {"deep": ["ORD-9", {"x": "ana@example.com"}]}],
        "k": Kind.GOLD, "e": [], "d": {},
    }  # fmt: skip
    assert value_terms(value) == {
        "ana", "diaz", "ana diaz", "1", "2.5", "ord-9", "ana@example.com", "gold", "member",
        "gold member",
    }  # fmt: skip
