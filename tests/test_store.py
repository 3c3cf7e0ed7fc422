"""The store's contract: every test runs on SQLite and on PostgreSQL (the ``db_url`` fixture).

The PostgreSQL database is shared by the whole session, so every test works in an account of its
own (the ``account`` fixture): rows of other tests can never show up in its reads.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.errors import BadRequest, NotFound, Unavailable
from sdehub.ingest import HOUR_MS, record
from sdehub.model.monitoring import NOTHING, Identity
from sdehub.model.provenance import Entry
from sdehub.model.types import (
    CartUpdate,
    CustomerInfo,
    CustomerInfoData,
    Date,
    Event,
    ImpressionDisplay,
    MarketingData,
    MarketingSource,
    PersonalData,
    PersonalInfo,
    Product,
    ProductItem,
    PurchaseCart,
    ServiceActivity,
    ServiceData,
    Transaction,
)
from sdehub.monitorcall import Call, visit_write
from sdehub.store import Database, events, migrations, quarantine, visits
from sdehub.store import accounts as acc
from sdehub.store import conversations as conv
from sdehub.store import keys as keystore
from sdehub.store.events import Origin
from sdehub.store.tables import sde_attributions, sde_avro_pending, sde_events

pytestmark = pytest.mark.anyio

NOW = 1_700_000_000_000
WINDOW = 12 * HOUR_MS


@pytest.fixture
def account() -> str:
    return f"acct-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    database.migrate()
    database.start()
    try:
        yield database
    finally:
        await database.close()


# --- helpers -------------------------------------------------------------------------------


def ctmr(**info: Any) -> CustomerInfo:
    return CustomerInfo(info=CustomerInfoData(**info))


def personal(**fields: Any) -> PersonalInfo:
    return PersonalInfo(personal=PersonalData(**fields))


def cart(total: float, *names: str) -> CartUpdate:
    products = [ProductItem(product=Product(name=n, price=1.5), quantity=1) for n in names]
    return CartUpdate(total=total, numItems=len(names), products=products or None)


def purchase(order: str) -> Transaction:
    return Transaction(total=3.0, orderId=order)


def service(topic: str) -> ServiceActivity:
    return ServiceActivity(service=ServiceData(topic=topic, status=1))


def origin(**fields: Any) -> Origin:
    return Origin(**{"source": "api", "authenticated": False, **fields})


def conversation(account: str, conversation_id: str, **fields: Any) -> conv.Conversation:
    values: dict[str, Any] = {"consumer_id": "consumer-1", "state": "OPEN", "created_ms": NOW}
    return conv.Conversation(
        account_id=account, conversation_id=conversation_id, **{**values, **fields}
    )


def consumer(account: str, consumer_id: str = "consumer-1", **fields: Any) -> conv.Consumer:
    values: dict[str, Any] = {
        "ext_consumer_id": "ext-1",
        "acr": "0",
        "claims": None,
        "profile": None,
        "created_ms": NOW,
        "updated_ms": NOW,
    }
    return conv.Consumer(account_id=account, consumer_id=consumer_id, **{**values, **fields})


def by_type(entries: list[Entry]) -> dict[tuple[str, bool], Event]:
    return {(str(e.record.__struct_config__.tag), e.meta.authenticated): e.record for e in entries}


# === 1. the database ========================================================================


async def test_migrate_twice_is_a_no_op(db_url: str, account: str) -> None:
    database = Database(db_url)
    try:
        database.migrate()
        database.write_sync(
            lambda c: acc.add_account(
                c, acc.Account(account_id=account, name="kept", emulated=False, created_ms=NOW)
            )
        )
        database.migrate()
        with database.engine.connect() as conn:
            assert migrations.current(conn) == migrations.head()
        kept = database.read_sync(lambda c: acc.get_account(c, account))
        assert kept is not None and kept.name == "kept"
    finally:
        await database.close()


async def test_start_is_idempotent_and_close_stops_writes(db_url: str) -> None:
    database = Database(db_url)
    database.migrate()
    with pytest.raises(RuntimeError, match="not started"):
        await database.write(lambda c: 1)
    database.start()
    writer = database._writer
    database.start()
    assert database._writer is writer
    assert await database.write(lambda c: 41 + 1) == 42
    await database.close()
    assert writer is not None and writer.running is False
    with pytest.raises(RuntimeError, match="not started"):
        await database.write(lambda c: 1)


async def test_the_sqlite_writer_outlives_a_signal_to_the_process_group(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) or a SIGTERM to the server's process group reaches the writer process
    too: it keeps going, so the server's own shutdown stops it after the writes in flight."""
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'w.db'}")
    database.migrate()
    database.start()
    try:
        process = database._writer._process  # type: ignore[union-attr]
        assert await database.write(lambda c: 1) == 1
        os.kill(process.pid, signal.SIGINT)
        os.kill(process.pid, signal.SIGTERM)
        await asyncio.sleep(0.2)
        assert process.is_alive()
        assert await database.write(lambda c: 41 + 1) == 42
    finally:
        await database.close()
    assert not process.is_alive()


async def test_close_after_the_writer_process_died(tmp_path: Path) -> None:
    """A writer that died (killed) fails the writes after it, and closing the database still
    works: no stop request is sent down its closed socket."""
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'w.db'}")
    database.migrate()
    database.start()
    writer = database._writer
    assert writer is not None
    assert await database.write(lambda c: 1) == 1
    writer._process.kill()  # type: ignore[attr-defined]
    for _ in range(100):
        if not writer.running:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # the event loop sees the socket close
    with pytest.raises(Unavailable):
        await database.write(lambda c: 2)
    await database.close()
    assert not writer.running


async def test_write_returns_the_value_once_committed(db: Database, account: str) -> None:
    def add(c: Connection) -> str:
        acc.add_account(c, acc.Account(account_id=account, name="x", emulated=True, created_ms=1))
        return "done"

    assert await db.write(add) == "done"
    # A fresh reader connection (another transaction) sees it straight away.
    got = await db.read(lambda c: acc.get_account(c, account))
    assert got == acc.Account(account_id=account, name="x", emulated=True, created_ms=1)
    with db.engine.connect() as conn:
        assert acc.get_account(conn, account) == got


class Boom(Exception):
    """Raised by a write on purpose (module level: it crosses to and from the writer)."""


async def test_failing_jobs_roll_back_alone_in_a_batch(db: Database, account: str) -> None:
    def job(i: int) -> Any:
        def fn(c: Connection) -> int:
            if i == 0:
                time.sleep(0.05)  # let the others queue up behind the first
            acc.add_account(
                c, acc.Account(account_id=f"{account}-{i}", name=None, emulated=False, created_ms=i)
            )
            if i % 7 == 3:
                raise Boom(i)
            return i

        return fn

    before = db.stats.batches, db.stats.jobs
    results = await asyncio.gather(*(db.write(job(i)) for i in range(50)), return_exceptions=True)
    batches, jobs = db.stats.batches - before[0], db.stats.jobs - before[1]
    assert jobs == 50
    assert batches < jobs  # group commit: one commit carried several writes
    failed = {i for i in range(50) if i % 7 == 3}
    for i, result in enumerate(results):
        if i in failed:
            assert isinstance(result, Boom) and result.args == (i,)
        else:
            assert result == i
    stored = await db.read(acc.list_accounts)
    ours = {a.account_id for a in stored if a.account_id.startswith(f"{account}-")}
    assert ours == {f"{account}-{i}" for i in range(50) if i not in failed}


async def test_a_database_error_in_one_job_spares_its_batch(db: Database, account: str) -> None:
    session = acc.Session(
        account_id=account,
        session_id="s",
        user_id="u",
        csrf="c",
        created_ms=1,
        expires_ms=2,
        revoked=False,
    )
    await db.write(lambda c: acc.add_session(c, session))

    def slow(c: Connection) -> None:
        time.sleep(0.05)
        acc.add_account(c, acc.Account(account_id=account, name="a", emulated=False, created_ms=1))

    def duplicate(c: Connection) -> None:
        acc.add_session(c, session)  # same primary key: IntegrityError

    def after(c: Connection) -> None:
        keystore.add_signing_key(
            c, keystore.SigningKey(account_id=account, kid="k", private_pem="pem", created_ms=1)
        )

    results = await asyncio.gather(
        db.write(slow), db.write(duplicate), db.write(after), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], sa.exc.IntegrityError)
    assert await db.read(lambda c: acc.get_account(c, account)) is not None
    assert [k.kid for k in await db.read(lambda c: keystore.signing_keys_of(c, account))] == ["k"]


async def test_on_commit_reports_every_batch(db: Database, account: str) -> None:
    seen: list[int] = []
    db.on_commit = lambda size, elapsed: seen.append(size)
    await asyncio.gather(*(db.write(lambda c: None) for _ in range(10)))
    assert sum(seen) == 10


async def test_write_sync_for_the_cli(db_url: str, account: str) -> None:
    database = Database(db_url)  # never started: no writer thread
    try:
        database.migrate()
        a = acc.Account(account_id=account, name="cli", emulated=False, created_ms=NOW)

        def add(c: Connection) -> str:
            acc.add_account(c, a)
            return a.account_id

        assert database.write_sync(add) == account
        assert database.read_sync(lambda c: acc.get_account(c, account)) == a

        def fail(c: Connection) -> None:
            acc.put_app(c, app(account, "cid", "h"))
            raise ValueError("no")

        with pytest.raises(ValueError):
            database.write_sync(fail)
        assert database.read_sync(lambda c: acc.list_apps(c, account)) == []
    finally:
        await database.close()


# === 2. events ==============================================================================


async def test_append_gives_increasing_seqs_and_provenance(db: Database, account: str) -> None:
    records: list[Event] = [ctmr(cstatus="gold"), personal(firstname="Ann"), purchase("o1")]
    who = Origin(source="connector", authenticated=True, actor="app-1", consumer_id="c")
    entries = await db.write(
        lambda c: events.append(
            c, account, records, who, server_ms=NOW, original_ms=[NOW - 5, None, NOW - 9]
        )
    )
    assert [e.record for e in entries] == records
    seqs = [e.meta.seq for e in entries]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    assert [e.meta.originalTs for e in entries] == [NOW - 5, NOW, NOW - 9]
    for e in entries:
        assert (e.meta.source, e.meta.authenticated, e.meta.actor) == ("connector", True, "app-1")
        assert e.meta.serverTs == NOW
    later = await db.write(
        lambda c: events.append(c, account, [ctmr(ctype="x")], origin(), server_ms=NOW + 1)
    )
    assert later[0].meta.seq > seqs[-1]
    assert later[0].meta.originalTs == NOW + 1  # defaults to the server time
    assert (later[0].meta.source, later[0].meta.authenticated, later[0].meta.actor) == (
        "api",
        False,
        None,
    )
    assert await db.write(lambda c: events.append(c, account, [], origin(), server_ms=NOW)) == []
    stored = await db.read(lambda c: events.recent(c, account))
    assert [s.entry for s in stored] == [*entries, *later]
    assert stored[0].consumer_id == "c"


async def test_append_in_a_visit_hands_back_the_stored_rows(db: Database, account: str) -> None:
    """SQLite hands back no row for an appended event (its seq is the cursor's lastrowid, its
    payload the text it was given), PostgreSQL the row as stored: the entries and the
    WebSession row written with them agree with what was stored, on both, after a failed
    append as well."""
    who = origin(visitor_id="v1", session_id="s1")
    records: list[Event] = [cart(2.5, "a", "b"), ctmr(ctype="x")]
    first = await db.write(lambda c: events.append(c, account, records, who, server_ms=NOW))

    def failing(c: Connection) -> None:
        events.append(c, account, [ctmr(ctype="y")], who, server_ms=NOW + 1)
        raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await db.write(failing)
    second = await db.write(
        lambda c: events.append(c, account, [purchase("o1")], who, server_ms=NOW + 2)
    )
    stored = await db.read(lambda c: events.for_visit(c, account, "v1", "s1"))
    assert stored == [*first, *second]
    pending = await db.read(
        lambda c: c.execute(
            sa.select(sde_avro_pending.c.seq, sde_avro_pending.c.avro)
            .where(sde_avro_pending.c.account_id == account)
            .order_by(sde_avro_pending.c.seq)
        ).all()
    )
    assert [r.seq for r in pending] == [first[0].meta.seq, second[0].meta.seq]
    texts = await db.read(
        lambda c: c.execute(
            sa.select(sde_events.c.wire_type, sa.cast(sde_events.c.payload, sa.Text))
            .where(sde_events.c.account_id == account)
            .order_by(sde_events.c.seq)
        ).all()
    )
    items = events.avro_text_row(
        {"account_id": account, "seq": first[0].meta.seq, "authenticated": False,
         "visitor_id": "v1", "session_id": "s1", "server_ms": NOW},
        [(w, t) for w, t in texts[:2]],
    )  # fmt: skip
    assert pending[0].avro == items["avro"]


async def test_recent_pages_and_filters_by_type(db: Database, account: str) -> None:
    records: list[Event] = [ctmr(cstatus=str(i)) if i % 2 else purchase(str(i)) for i in range(6)]
    entries = await db.write(lambda c: events.append(c, account, records, origin(), server_ms=NOW))
    first = await db.read(lambda c: events.recent(c, account, limit=4))
    assert [s.entry for s in first] == entries[:4]
    rest = await db.read(lambda c: events.recent(c, account, after_seq=entries[3].meta.seq))
    assert [s.entry for s in rest] == entries[4:]
    only = await db.read(lambda c: events.recent(c, account, wire_types=["purchase"]))
    assert [s.entry for s in only] == entries[0::2]


async def test_attribution_is_idempotent_and_in_log_order(db: Database, account: str) -> None:
    records = [ctmr(cstatus="a"), purchase("b"), personal(lastname="c")]
    entries = await db.write(lambda c: events.append(c, account, records, origin(), server_ms=NOW))
    seqs = [e.meta.seq for e in entries]
    await db.write(lambda c: events.attribute(c, account, "conv", reversed(seqs)))
    await db.write(lambda c: events.attribute(c, account, "conv", seqs))
    await db.write(lambda c: events.attribute(c, account, "conv", []))
    assert await db.read(lambda c: events.for_conversation(c, account, "conv")) == entries
    count = await db.read(
        lambda c: c.execute(
            sa.select(sa.func.count())
            .select_from(sde_attributions)
            .where(sde_attributions.c.account_id == account)
        ).scalar_one()
    )
    assert count == 3
    assert await db.read(lambda c: events.for_conversation(c, account, "other")) == []


async def test_seqs_in_window(db: Database, account: str) -> None:
    def add(c: Connection) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for ms in (1000, 2000, 3000):
            by_consumer = events.append(
                c, account, [purchase("x")], origin(consumer_id="cons"), server_ms=ms
            )
            by_visit = events.append(
                c, account, [purchase("y")], origin(visitor_id="v", session_id="s"), server_ms=ms
            )
            other = events.append(
                c, account, [purchase("z")], origin(visitor_id="v", session_id="s2"), server_ms=ms
            )
            out.setdefault("consumer", []).append(by_consumer[0].meta.seq)
            out.setdefault("visit", []).append(by_visit[0].meta.seq)
            out.setdefault("other", []).append(other[0].meta.seq)
        return out

    seqs = await db.write(add)

    async def window(since: int, until: int, **who: str | None) -> list[int]:
        args: dict[str, Any] = {"consumer_id": None, "visitor_id": None, "session_id": None, **who}
        found = await db.read(
            lambda c: events.seqs_in_window(c, account, since_ms=since, until_ms=until, **args)
        )
        return sorted(found)

    assert await window(1000, 2000, consumer_id="cons") == seqs["consumer"][:2]  # inclusive
    assert await window(1001, 2999, consumer_id="cons") == seqs["consumer"][1:2]
    assert await window(2000, 3000, visitor_id="v", session_id="s") == seqs["visit"][1:]
    assert await window(0, 9999, visitor_id="v", session_id="s2") == seqs["other"]
    both = await window(3000, 3000, consumer_id="cons", visitor_id="v", session_id="s")
    assert both == sorted([seqs["consumer"][2], seqs["visit"][2]])
    assert await window(0, 9999, visitor_id="v") == []  # a visit needs both ids
    assert await window(0, 9999) == []


async def test_a_visits_events_are_read_through_the_visit_index(tmp_path: Path) -> None:
    """SQLite only (a query plan): reading a visit's events must not walk the account's events in
    seq order, which made every report of an account with a catalog read all of them."""
    path = tmp_path / "plan.db"
    Database(f"sqlite+pysqlite:///{path}").migrate()
    params = {"account_id": "a", "visitor_id": "v", "session_id": "s"}
    with closing(sqlite3.connect(path)) as raw:
        plan = raw.execute("EXPLAIN QUERY PLAN " + events._FOR_VISIT.sqlite, params).fetchall()
    assert any("ix_sde_events_visit" in row[3] for row in plan), plan


async def test_state_merges_in_a_session(db: Database, account: str) -> None:
    scope = events.session_scope("v", "s")

    def report(c: Connection, *records: Event, ms: int = NOW) -> list[Entry]:
        entries = events.append(c, account, list(records), origin(), server_ms=ms)
        events.update_state(c, account, "session", scope, entries)
        return entries

    await db.write(lambda c: report(c, ctmr(cstatus="gold", ctype="vip")))
    await db.write(lambda c: report(c, cart(5.0, "a", "b")))
    last = await db.write(lambda c: report(c, ctmr(balance=10.5, ctype="regular")))
    await db.write(lambda c: report(c, cart(1.5, "c")))
    state = await db.read(lambda c: events.state(c, account, "session", scope))
    current = by_type(state)
    assert current[("ctmrinfo", False)] == ctmr(cstatus="gold", ctype="regular", balance=10.5)
    assert current[("cart", False)] == cart(1.5, "c")  # carts replace
    info = next(e for e in state if e.meta.seq == last[0].meta.seq)
    assert info.meta == last[0].meta  # the merged value carries the newest provenance
    assert await db.read(lambda c: events.state(c, account, "consumer", scope)) == []
    # Several reports of one merge type in one call merge in order, too.
    await db.write(lambda c: report(c, personal(firstname="A"), personal(lastname="B")))
    merged = by_type(await db.read(lambda c: events.state(c, account, "session", scope)))
    assert merged[("personal", False)] == personal(firstname="A", lastname="B")


async def test_state_replaces_for_a_consumer(db: Database, account: str) -> None:
    def report(c: Connection, *records: Event) -> list[Entry]:
        entries = events.append(c, account, list(records), origin(), server_ms=NOW)
        events.update_state(c, account, "consumer", "cons", entries)
        return entries

    await db.write(lambda c: report(c, ctmr(cstatus="gold", ctype="vip")))
    await db.write(lambda c: report(c, ctmr(balance=10.5)))
    await db.write(lambda c: report(c, service("first"), service("second")))
    current = by_type(await db.read(lambda c: events.state(c, account, "consumer", "cons")))
    assert current == {
        ("ctmrinfo", False): ctmr(balance=10.5),
        ("service", False): service("second"),  # service replaces in messaging
    }


async def test_append_types_are_not_state(db: Database, account: str) -> None:
    def report(c: Connection, kind: events.ScopeKind, scope: str) -> None:
        entries = events.append(c, account, [purchase("o"), service("t")], origin(), server_ms=NOW)
        events.update_state(c, account, kind, scope, entries)

    await db.write(lambda c: report(c, "session", "v:s"))
    await db.write(lambda c: report(c, "consumer", "cons"))
    assert await db.read(lambda c: events.state(c, account, "session", "v:s")) == []
    state = await db.read(lambda c: events.state(c, account, "consumer", "cons"))
    assert list(by_type(state)) == [("service", False)]  # purchase appends everywhere


async def test_authenticated_and_unauthenticated_kept_apart(db: Database, account: str) -> None:
    def report(c: Connection, record: Event, authenticated: bool, kind: events.ScopeKind) -> None:
        who = origin(authenticated=authenticated)
        entries = events.append(c, account, [record], who, server_ms=NOW)
        events.update_state(c, account, kind, "scope", entries)

    kinds: tuple[events.ScopeKind, ...] = ("session", "consumer")
    for kind in kinds:
        await db.write(lambda c, k=kind: report(c, ctmr(cstatus="auth"), True, k))
        await db.write(lambda c, k=kind: report(c, ctmr(ctype="unauth"), False, k))
        await db.write(lambda c, k=kind: report(c, ctmr(balance=1.0), True, k))
    session = by_type(await db.read(lambda c: events.state(c, account, "session", "scope")))
    assert session == {
        ("ctmrinfo", True): ctmr(cstatus="auth", balance=1.0),
        ("ctmrinfo", False): ctmr(ctype="unauth"),
    }
    consumer = by_type(await db.read(lambda c: events.state(c, account, "consumer", "scope")))
    assert consumer == {
        ("ctmrinfo", True): ctmr(balance=1.0),
        ("ctmrinfo", False): ctmr(ctype="unauth"),
    }


async def test_state_is_ordered_by_latest_report(db: Database, account: str) -> None:
    def report(c: Connection, record: Event) -> None:
        entries = events.append(c, account, [record], origin(), server_ms=NOW)
        events.update_state(c, account, "consumer", "cons", entries)

    for reported in (personal(firstname="a"), ctmr(cstatus="b"), cart(1.0, "x"), ctmr(ctype="c")):
        await db.write(lambda c, r=reported: report(c, r))
    state = await db.read(lambda c: events.state(c, account, "consumer", "cons"))
    assert [e.record.__struct_config__.tag for e in state] == ["personal", "cart", "ctmrinfo"]
    assert [e.meta.seq for e in state] == sorted(e.meta.seq for e in state)


async def test_payloads_round_trip_to_the_same_records(db: Database, account: str) -> None:
    records: list[Event] = [
        ctmr(
            balance=10.0,
            companySize=3,
            lastPaymentDate=Date(day=1, month=2, year=2023),
            registrationDate=Date(day=31, month=12, year=1999),
            cstatus='é ✓ "quoted" \\ back',
        ),
        personal(firstname="Zoë", contacts=None, gender="FEMALE"),
        CartUpdate(
            total=100.0,
            numItems=2,
            currency="EUR",
            products=[
                ProductItem(product=Product(name="p1", price=0.1, sku="s1"), quantity=1),
                ProductItem(product=Product(name="p2", price=99.9, quantityInStock=5), quantity=3),
            ],
        ),
        Transaction(
            total=7.0,
            cart=PurchaseCart(products=[ProductItem(product=Product(price=7.0))], numItems=1),
        ),
        MarketingSource(info=MarketingData(channel=2, campaignId="camp")),
    ]

    def report(c: Connection) -> list[Entry]:
        entries = events.append(c, account, records, origin(consumer_id="cons"), server_ms=NOW)
        events.attribute(c, account, "conv", [e.meta.seq for e in entries])
        events.update_state(c, account, "session", "v:s", entries)
        return entries

    entries = await db.write(report)
    from_log = [s.entry for s in await db.read(lambda c: events.recent(c, account))]
    attributed = await db.read(lambda c: events.for_conversation(c, account, "conv"))
    assert from_log == entries and attributed == entries
    assert [msgspec.json.encode(e.record) for e in attributed] == [
        msgspec.json.encode(r) for r in records
    ]
    info = attributed[0].record
    assert isinstance(info, CustomerInfo)
    assert isinstance(info.info.balance, float) and info.info.balance == 10.0
    assert isinstance(info.info.companySize, int)
    got_cart = attributed[2].record
    assert isinstance(got_cart, CartUpdate) and isinstance(got_cart.total, float)
    assert got_cart.products is not None
    assert all(isinstance(p.product.price, float) for p in got_cart.products)
    state = await db.read(lambda c: events.state(c, account, "session", "v:s"))
    assert {e.record.__struct_config__.tag: e.record for e in state} == {
        "ctmrinfo": records[0],
        "personal": records[1],
        "cart": records[2],
        "mrktInfo": records[4],
    }


# === 3. ingest.record =======================================================================


async def test_record_attributes_to_the_open_conversation(db: Database, account: str) -> None:
    await db.write(lambda c: conv.add_conversation(c, conversation(account, "open")))
    await db.write(
        lambda c: conv.add_conversation(c, conversation(account, "theirs", consumer_id="other"))
    )
    entries = await db.write(
        lambda c: record(
            c, account, [ctmr(cstatus="a")], origin(consumer_id="consumer-1"),
            now_ms=NOW + 1000, window_ms=WINDOW,
        )
    )  # fmt: skip
    assert await db.read(lambda c: events.for_conversation(c, account, "open")) == entries
    assert await db.read(lambda c: events.for_conversation(c, account, "theirs")) == []
    state = await db.read(lambda c: events.state(c, account, "consumer", "consumer-1"))
    assert [e.record for e in state] == [ctmr(cstatus="a")]


async def test_record_attributes_within_the_window_after_close(db: Database, account: str) -> None:
    def closed(conversation_id: str, closed_ms: int) -> conv.Conversation:
        return conversation(
            account, conversation_id, state="CLOSE", created_ms=NOW - 30 * HOUR_MS,
            closed_ms=closed_ms,
        )  # fmt: skip

    now = NOW
    await db.write(lambda c: conv.add_conversation(c, closed("recent", now - WINDOW + 1)))
    await db.write(lambda c: conv.add_conversation(c, closed("hour", now - HOUR_MS)))
    await db.write(lambda c: conv.add_conversation(c, closed("old", now - WINDOW - 1)))
    await db.write(lambda c: conv.add_conversation(c, closed("ancient", now - 20 * HOUR_MS)))
    entries = await db.write(
        lambda c: record(
            c, account, [purchase("o")], origin(consumer_id="consumer-1"),
            now_ms=now, window_ms=WINDOW,
        )
    )  # fmt: skip
    for conversation_id, expected in [
        ("recent", entries),
        ("hour", entries),
        ("old", []),
        ("ancient", []),
    ]:
        got = await db.read(lambda c, i=conversation_id: events.for_conversation(c, account, i))
        assert got == expected, conversation_id


async def test_record_attributes_by_visit(db: Database, account: str) -> None:
    await db.write(
        lambda c: conv.add_conversation(
            c, conversation(account, "visit", consumer_id="x", visitor_id="v", session_id="s")
        )
    )
    await db.write(
        lambda c: conv.add_conversation(
            c, conversation(account, "other", consumer_id="y", visitor_id="v", session_id="s2")
        )
    )
    entries = await db.write(
        lambda c: record(
            c, account, [ctmr(cstatus="a"), purchase("p")],
            origin(visitor_id="v", session_id="s"), now_ms=NOW, window_ms=WINDOW,
        )
    )  # fmt: skip
    assert await db.read(lambda c: events.for_conversation(c, account, "visit")) == entries
    assert await db.read(lambda c: events.for_conversation(c, account, "other")) == []
    session = await db.read(lambda c: events.state(c, account, "session", "v:s"))
    assert [e.record for e in session] == [ctmr(cstatus="a")]
    assert await db.read(lambda c: events.state(c, account, "consumer", "x")) == []
    stored = await db.read(lambda c: events.recent(c, account))
    assert {(s.visitor_id, s.session_id, s.consumer_id) for s in stored} == {("v", "s", None)}


async def test_record_attributes_to_a_named_conversation(db: Database, account: str) -> None:
    entries = await db.write(
        lambda c: record(
            c, account, [purchase("o")], origin(conversation_id="named"),
            now_ms=NOW, window_ms=WINDOW,
        )
    )  # fmt: skip
    assert await db.read(lambda c: events.for_conversation(c, account, "named")) == entries
    none = await db.write(
        lambda c: record(c, account, [], origin(consumer_id="c"), now_ms=NOW, window_ms=WINDOW)
    )
    assert none == []


# === 4. conversations =======================================================================


async def test_conversation_add_get_and_open_of(db: Database, account: str) -> None:
    full = conversation(
        account, "c1", app_id="app", skill_id="sk", visitor_id="v", session_id="s",
        context={"type": "SharkContext", "lang": "en-US"}, client_properties={"os": "x"},
        csat={"score": 5}, ttr="URGENT",
    )  # fmt: skip
    await db.write(lambda c: conv.add_conversation(c, full))
    assert await db.read(lambda c: conv.get_conversation(c, account, "c1")) == full
    assert await db.read(lambda c: conv.get_conversation(c, account, "nope")) is None
    assert await db.read(lambda c: conv.open_conversation_of(c, account, "consumer-1")) == full
    await db.write(
        lambda c: conv.update_conversation(c, account, "c1", state="CLOSE", closed_ms=NOW + 5)
    )
    assert await db.read(lambda c: conv.open_conversation_of(c, account, "consumer-1")) is None
    closed = await db.read(lambda c: conv.get_conversation(c, account, "c1"))
    assert closed is not None and (closed.state, closed.closed_ms) == ("CLOSE", NOW + 5)
    assert closed.last_sequence == -1 and closed.channel_type == "MESSAGING"


async def test_next_sequence_counts_from_zero(db: Database, account: str) -> None:
    await db.write(lambda c: conv.add_conversation(c, conversation(account, "c1")))
    await db.write(lambda c: conv.add_conversation(c, conversation(account, "c2")))
    got = [await db.write(lambda c: conv.next_sequence(c, account, "c1")) for _ in range(3)]
    assert got == [0, 1, 2]
    assert await db.write(lambda c: conv.next_sequence(c, account, "c2")) == 0
    concurrent = await asyncio.gather(
        *(db.write(lambda c: conv.next_sequence(c, account, "c1")) for _ in range(20))
    )
    assert sorted(concurrent) == list(range(3, 23))
    c1 = await db.read(lambda c: conv.get_conversation(c, account, "c1"))
    assert c1 is not None and c1.last_sequence == 22


async def test_messages_in_order_and_after(db: Database, account: str) -> None:
    def message(sequence: int) -> conv.Message:
        return conv.Message(
            account_id=account, conversation_id="c1", sequence=sequence, dialog_id="c1",
            participant_id="p", role="CONSUMER", event_type="ContentEvent",
            event={"type": "ContentEvent", "message": f"m{sequence}", "n": 1.0},
            server_ms=NOW + sequence,
        )  # fmt: skip

    for sequence in (2, 0, 3, 1):
        await db.write(lambda c, s=sequence: conv.add_message(c, message(s)))
    got = await db.read(lambda c: conv.messages_of(c, account, "c1"))
    assert got == [message(s) for s in range(4)]
    assert isinstance(got[0].event["n"], float)
    after = await db.read(lambda c: conv.messages_of(c, account, "c1", after=1))
    assert [m.sequence for m in after] == [2, 3]
    assert await db.read(lambda c: conv.messages_of(c, account, "c2")) == []
    with pytest.raises(sa.exc.IntegrityError):
        await db.write(lambda c: conv.add_message(c, message(1)))


async def test_close_dialogs_closes_only_open_ones(db: Database, account: str) -> None:
    def dialog(dialog_id: str, conversation_id: str, state: str, ms: int) -> conv.Dialog:
        return conv.Dialog(
            account_id=account, dialog_id=dialog_id, conversation_id=conversation_id,
            dialog_type="MAIN", state=state, created_ms=ms,
            closed_ms=ms if state == "CLOSE" else None,
        )  # fmt: skip

    await db.write(lambda c: conv.add_dialog(c, dialog("d1", "c1", "OPEN", 1)))
    await db.write(lambda c: conv.add_dialog(c, dialog("d0", "c1", "CLOSE", 0)))
    await db.write(lambda c: conv.add_dialog(c, dialog("d2", "c2", "OPEN", 2)))
    await db.write(lambda c: conv.close_dialogs(c, account, "c1", 99))
    got = await db.read(lambda c: conv.dialogs_of(c, account, "c1"))
    assert [(d.dialog_id, d.state, d.closed_ms) for d in got] == [
        ("d0", "CLOSE", 0),
        ("d1", "CLOSE", 99),
    ]
    other = await db.read(lambda c: conv.dialogs_of(c, account, "c2"))
    assert [(d.state, d.closed_ms) for d in other] == [("OPEN", None)]


async def test_participants_upsert_is_idempotent(db: Database, account: str) -> None:
    first = conv.Participant(
        account_id=account, conversation_id="c1", participant_id="p", role="CONSUMER", joined_ms=1
    )
    again = msgspec.structs.replace(first, joined_ms=5, left_ms=9)
    agent = msgspec.structs.replace(first, role="ASSIGNED_AGENT", joined_ms=3)
    await db.write(lambda c: conv.add_participant(c, first))
    await db.write(lambda c: conv.add_participant(c, again))
    await db.write(lambda c: conv.add_participant(c, agent))
    got = await db.read(lambda c: conv.participants_of(c, account, "c1"))
    assert got == [first, agent]  # the first join is kept; roles are distinct rows


async def test_consumers_put_and_update(db: Database, account: str) -> None:
    original = consumer(account, claims={"lp_sdes": []}, profile={"firstName": "A"})
    await db.write(lambda c: conv.put_consumer(c, original, update=()))
    assert await db.read(lambda c: conv.get_consumer(c, account, "consumer-1")) == original
    assert await db.read(lambda c: conv.get_consumer(c, account, "nobody")) is None

    changed = consumer(
        account, ext_consumer_id="ext-2", acr="loa1", claims={"x": 1}, profile={"lastName": "B"},
        created_ms=NOW + 10, updated_ms=NOW + 10,
    )  # fmt: skip
    await db.write(lambda c: conv.put_consumer(c, changed, update=()))
    kept = await db.read(lambda c: conv.get_consumer(c, account, "consumer-1"))
    assert kept == msgspec.structs.replace(original, updated_ms=NOW + 10)

    await db.write(lambda c: conv.put_consumer(c, changed, update=("profile", "acr")))
    updated = await db.read(lambda c: conv.get_consumer(c, account, "consumer-1"))
    assert updated == msgspec.structs.replace(
        original, profile={"lastName": "B"}, acr="loa1", updated_ms=NOW + 10
    )


async def test_first_profile_creates_or_fills_a_missing_profile_only(
    db: Database, account: str
) -> None:
    new = consumer(account, consumer_id="new", profile={"firstName": "N"})
    assert await db.write(lambda c: conv.first_profile(c, new)) is True
    assert await db.read(lambda c: conv.get_consumer(c, account, "new")) == new

    registered = consumer(account, consumer_id="reg", claims={"x": 1}, profile=None)
    await db.write(lambda c: conv.put_consumer(c, registered, update=()))
    later = consumer(
        account, consumer_id="reg", ext_consumer_id="other", acr="loa1", profile={"lastName": "R"},
        created_ms=NOW + 10, updated_ms=NOW + 10,
    )  # fmt: skip
    assert await db.write(lambda c: conv.first_profile(c, later)) is True
    filled = await db.read(lambda c: conv.get_consumer(c, account, "reg"))
    assert filled == msgspec.structs.replace(
        registered, profile={"lastName": "R"}, updated_ms=NOW + 10
    )  # only the profile and updated_ms

    again = msgspec.structs.replace(later, profile={"lastName": "S"}, updated_ms=NOW + 20)
    assert await db.write(lambda c: conv.first_profile(c, again)) is False
    assert await db.read(lambda c: conv.get_consumer(c, account, "reg")) == filled


async def test_list_conversations_pages(db: Database, account: str) -> None:
    for i in range(7):
        state = "OPEN" if i % 2 else "CLOSE"
        await db.write(
            lambda c, i=i, s=state: conv.add_conversation(
                c, conversation(account, f"c{i}", consumer_id=f"k{i}", state=s, created_ms=NOW + i)
            )
        )
    everything = await db.read(lambda c: conv.list_conversations(c, account))
    assert [x.conversation_id for x in everything] == [f"c{i}" for i in range(6, -1, -1)]
    pages = [
        await db.read(lambda c, o=offset: conv.list_conversations(c, account, limit=3, offset=o))
        for offset in (0, 3, 6, 9)
    ]
    assert [[x.conversation_id for x in page] for page in pages] == [
        ["c6", "c5", "c4"],
        ["c3", "c2", "c1"],
        ["c0"],
        [],
    ]
    open_ones = await db.read(lambda c: conv.list_conversations(c, account, state="OPEN"))
    assert [x.conversation_id for x in open_ones] == ["c5", "c3", "c1"]


async def test_attributable_conversations(db: Database, account: str) -> None:
    await db.write(lambda c: conv.add_conversation(c, conversation(account, "open")))
    await db.write(
        lambda c: conv.add_conversation(
            c, conversation(account, "closed", state="CLOSE", closed_ms=NOW)
        )
    )

    async def found(since: int, **who: str | None) -> list[str]:
        args: dict[str, Any] = {"consumer_id": None, "visitor_id": None, "session_id": None, **who}
        got = await db.read(lambda c: conv.attributable(c, account, closed_since_ms=since, **args))
        return sorted(got)

    assert await found(NOW, consumer_id="consumer-1") == ["closed", "open"]
    assert await found(NOW + 1, consumer_id="consumer-1") == ["open"]
    assert await found(0, consumer_id="nobody") == []
    assert await found(0) == []


# === 5. accounts, apps, users, sessions, keys, quarantine ===================================


def app(account: str, client_id: str, secret: str, **fields: Any) -> acc.App:
    values: dict[str, Any] = {"name": None, "rate_limit": None, "emulated": False, "created_ms": 1}
    return acc.App(
        account_id=account, client_id=client_id, secret_hash=secret, **{**values, **fields}
    )


def user(account: str, user_id: str, login: str, **fields: Any) -> acc.User:
    values: dict[str, Any] = {
        "password_hash": "h",
        "nickname": None,
        "full_name": None,
        "email": None,
        "emulated": False,
        "created_ms": 1,
    }
    return acc.User(account_id=account, user_id=user_id, login_name=login, **{**values, **fields})


async def test_add_account_is_idempotent(db: Database, account: str) -> None:
    first = acc.Account(account_id=account, name="first", emulated=False, created_ms=1)
    await db.write(lambda c: acc.add_account(c, first))
    await db.write(
        lambda c: acc.add_account(c, msgspec.structs.replace(first, name="second", emulated=True))
    )
    assert await db.read(lambda c: acc.get_account(c, account)) == first
    assert await db.read(lambda c: acc.get_account(c, account + "-none")) is None
    listed = await db.read(acc.list_accounts)
    assert [a for a in listed if a.account_id == account] == [first]
    ids = [a.account_id for a in listed]
    assert ids == sorted(ids)


async def test_apps_put_update_and_add_if_absent(db: Database, account: str) -> None:
    await db.write(lambda c: acc.put_app(c, app(account, "b", "h1", name="B", emulated=True)))
    await db.write(lambda c: acc.put_app(c, app(account, "a", "h0")))
    await db.write(
        lambda c: acc.put_app(
            c, app(account, "b", "h2", name="B2", rate_limit="10/second", created_ms=9)
        )
    )
    b = await db.read(lambda c: acc.get_app(c, account, "b"))
    # secret, name and rate limit change; emulated and created_ms stay.
    assert b == app(account, "b", "h2", name="B2", rate_limit="10/second", emulated=True)
    await db.write(lambda c: acc.add_app_if_absent(c, app(account, "b", "h3", name="ignored")))
    await db.write(lambda c: acc.add_app_if_absent(c, app(account, "c", "h4")))
    assert await db.read(lambda c: acc.get_app(c, account, "b")) == b
    listed = await db.read(lambda c: acc.list_apps(c, account))
    assert [(a.client_id, a.secret_hash) for a in listed] == [("a", "h0"), ("b", "h2"), ("c", "h4")]
    assert await db.read(lambda c: acc.get_app(c, account, "z")) is None


async def test_users_have_unique_logins_per_account(db: Database, account: str) -> None:
    other = account + "-other"
    await db.write(lambda c: acc.put_user(c, user(account, "1", "ann", full_name="Ann")))
    await db.write(lambda c: acc.put_user(c, user(account, "2", "bob")))
    await db.write(lambda c: acc.put_user(c, user(other, "1", "ann")))  # another account: fine
    with pytest.raises(sa.exc.IntegrityError):
        await db.write(lambda c: acc.put_user(c, user(account, "3", "ann")))
    with pytest.raises(sa.exc.IntegrityError):
        await db.write(lambda c: acc.put_user(c, user(account, "2", "ann")))  # rename onto ann
    assert await db.read(lambda c: acc.get_user(c, account, "3")) is None
    await db.write(
        lambda c: acc.put_user(c, user(account, "1", "anne", email="a@x", password_hash="h2"))
    )
    got = await db.read(lambda c: acc.get_user_by_login(c, account, "anne"))
    assert got == user(account, "1", "anne", email="a@x", password_hash="h2")
    assert await db.read(lambda c: acc.get_user_by_login(c, account, "ann")) is None
    assert await db.read(lambda c: acc.get_user(c, account, "2")) == user(account, "2", "bob")
    listed = await db.read(lambda c: acc.list_users(c, account))
    assert [u.login_name for u in listed] == ["anne", "bob"]
    assert await db.read(lambda c: acc.next_user_id(c, account, 1000)) == "1003"


async def test_sessions_extend_and_revoke(db: Database, account: str) -> None:
    session = acc.Session(
        account_id=account, session_id="s1", user_id="1", csrf="tok",
        created_ms=NOW, expires_ms=NOW + 10, revoked=False,
    )  # fmt: skip
    other = msgspec.structs.replace(session, session_id="s2")
    await db.write(lambda c: acc.add_session(c, session))
    await db.write(lambda c: acc.add_session(c, other))
    assert await db.read(lambda c: acc.get_session(c, account, "s1")) == session
    await db.write(lambda c: acc.extend_session(c, account, "s1", NOW + 99))
    assert await db.read(lambda c: acc.get_session(c, account, "s1")) == msgspec.structs.replace(
        session, expires_ms=NOW + 99
    )
    await db.write(lambda c: acc.revoke_session(c, account, "s1"))
    revoked = await db.read(lambda c: acc.get_session(c, account, "s1"))
    assert revoked is not None and revoked.revoked is True and revoked.expires_ms == NOW + 99
    assert await db.read(lambda c: acc.get_session(c, account, "s2")) == other
    assert await db.read(lambda c: acc.get_session(c, account, "s3")) is None


async def test_signing_keys_first_writer_wins(db: Database, account: str) -> None:
    first = keystore.SigningKey(account_id=account, kid="k1", private_pem="one", created_ms=2)
    await db.write(lambda c: keystore.add_signing_key(c, first))
    await db.write(
        lambda c: keystore.add_signing_key(c, msgspec.structs.replace(first, private_pem="two"))
    )
    second = keystore.SigningKey(account_id=account, kid="k0", private_pem="zero", created_ms=5)
    await db.write(lambda c: keystore.add_signing_key(c, second))
    assert await db.read(lambda c: keystore.signing_keys_of(c, account)) == [first, second]


async def test_brand_keys_put_and_delete(db: Database, account: str) -> None:
    jwk = {"kty": "RSA", "kid": "b", "n": "abc", "e": "AQAB", "x": 1.5}
    b = keystore.BrandKey(account_id=account, kid="b", issuer="iss", jwk=jwk, created_ms=1)
    a = keystore.BrandKey(account_id=account, kid="a", issuer=None, jwk={"k": 1}, created_ms=2)
    await db.write(lambda c: keystore.put_brand_key(c, b))
    await db.write(lambda c: keystore.put_brand_key(c, a))
    changed = msgspec.structs.replace(b, issuer="iss2", jwk={"k": 2}, created_ms=9)
    await db.write(lambda c: keystore.put_brand_key(c, changed))
    got = await db.read(lambda c: keystore.brand_keys_of(c, account))
    assert got == [a, msgspec.structs.replace(changed, created_ms=1)]
    assert await db.write(lambda c: keystore.delete_brand_keys(c, account)) == 2
    assert await db.read(lambda c: keystore.brand_keys_of(c, account)) == []
    assert await db.write(lambda c: keystore.delete_brand_keys(c, account)) == 0


async def test_quarantine_add_list_count(db: Database, account: str) -> None:
    def item(i: int, api: str) -> quarantine.Quarantined:
        return quarantine.Quarantined(
            account_id=account, received_ms=NOW + i, api=api, status=400,
            body=b"\x00\xffraw " + str(i).encode(),
            errors=[{"path": "$.x", "message": f"bad {i}"}],
            actor="app" if i % 2 else None, request_id=f"r{i}", content_type="application/json",
        )  # fmt: skip

    ids = []
    for i in range(5):
        api = "connector" if i % 2 else "eaapi"
        ids.append(await db.write(lambda c, i=i, a=api: quarantine.add(c, item(i, a))))
    assert ids == sorted(ids) and len(set(ids)) == 5
    everything = await db.read(lambda c: quarantine.list_for(c, account))
    assert everything == [
        msgspec.structs.replace(item(i, "connector" if i % 2 else "eaapi"), id=ids[i])
        for i in range(5)
    ]
    assert all(type(q.body) is bytes for q in everything)
    page = await db.read(lambda c: quarantine.list_for(c, account, after_id=ids[1], limit=2))
    assert [q.id for q in page] == ids[2:4]
    connector = await db.read(lambda c: quarantine.list_for(c, account, api="connector"))
    assert [q.id for q in connector] == [ids[1], ids[3]]
    assert await db.read(lambda c: quarantine.count_for(c, account)) == 5
    assert await db.read(lambda c: quarantine.count_for(c, account + "-none")) == 0


async def test_visit_write_continues_only_a_live_visit(db: Database, account: str) -> None:
    """A report continues its visit in one UPDATE that also says whether the visit is live: an
    expired visit is left alone and a new one started, an events call on it is refused, a page
    seen again without entry points keeps its own."""

    def call(kind: Any, vid: str | None, sid: str | None, now: int, **reported: Any) -> Call:
        return Call(
            kind=kind, account_id=account, app_id="app", visitor_id=vid, session_id=sid,
            new_visitor_id=f"nv{now}", new_session_id=f"ns{now}", new_page_id="p1",
            reported=msgspec.structs.replace(NOTHING, **reported), now_ms=now,
            lifetime_ms=HOUR_MS, window_ms=WINDOW, ip_address=f"10.0.0.{now % 7}",
        )  # fmt: skip

    first = await db.write(
        lambda c: visit_write(
            c, call("report", None, None, NOW, identities=[Identity(iss="i", acr="0", sub="c1")],
                    entry_points=["sec://a"], page_id="p1", sdes=[ctmr(cstatus="a")])
        )
    )  # fmt: skip
    assert first.created
    vid, sid = first.visitor_id, first.session_id
    visit = await db.read(lambda c: visits.get_visit(c, account, vid, sid))
    assert visit is not None
    assert (visit.consumer_id, visit.ip_address, visit.last_ms) == ("c1", f"10.0.0.{NOW % 7}", NOW)
    assert visit.identities == [{"iss": "i", "acr": "0", "sub": "c1"}]

    later = NOW + 1000
    again = await db.write(
        lambda c: visit_write(c, call("report", vid, sid, later, page_id="p1", sdes=[ctmr()]))
    )
    assert not again.created and (again.visitor_id, again.session_id) == (vid, sid)
    visit = await db.read(lambda c: visits.get_visit(c, account, vid, sid))
    assert visit is not None
    assert (visit.consumer_id, visit.last_ms, visit.ip_address) == (
        "c1",
        later,
        f"10.0.0.{later % 7}",
    )
    [page] = await db.read(lambda c: visits.pages(c, account, vid, sid))
    assert (page.first_ms, page.last_ms, page.entry_points) == (NOW, later, ["sec://a"])

    # A call rejected in the writer (an impression of an engagement never offered) leaves the
    # visit as it was: the touch that found it is undone with the rest.
    bad = call("report", vid, sid, later + 1, sdes=[ImpressionDisplay(campaign=1, engId=2)])
    with pytest.raises(BadRequest):
        await db.write(lambda c: visit_write(c, bad))
    visit = await db.read(lambda c: visits.get_visit(c, account, vid, sid))
    assert visit is not None and visit.last_ms == later

    gone = NOW + HOUR_MS
    events_call = call("events", vid, sid, gone, sdes=[ctmr()])
    with pytest.raises(NotFound):
        await db.write(lambda c: visit_write(c, events_call))
    fresh = await db.write(lambda c: visit_write(c, call("report", vid, sid, gone, sdes=[ctmr()])))
    assert fresh.created and fresh.visitor_id == vid and fresh.session_id == f"ns{gone}"
    old = await db.read(lambda c: visits.get_visit(c, account, vid, sid))
    assert old is not None and old.last_ms == later


async def test_touch_sets_only_the_facts_given(db: Database, account: str) -> None:
    """A touch writes the identity facts it is given and keeps the others (it picks its
    statement by the facts given); with ``live_at`` it leaves an expired visit alone."""
    facts: dict[str, Any] = {
        "consumer_id": "c1",
        "identities": [{"iss": "i", "acr": "0", "sub": "c1"}],
        "client_properties": {"os": "WINDOWS"},
        "ip_address": "10.0.0.1",
    }
    visit = visits.Visit(
        account_id=account, visitor_id="v1", session_id="s1", app_id="app", created_ms=NOW,
        last_ms=NOW, expires_ms=NOW + HOUR_MS, returning_visitor=False, **facts,
    )  # fmt: skip
    await db.write(lambda c: visits.start_visit(c, visit))
    later: dict[str, Any] = {
        "consumer_id": "c2",
        "identities": [{"iss": "j", "acr": "1", "sub": "c2"}],
        "client_properties": {"os": "LINUX"},
        "ip_address": "10.0.0.2",
    }
    expected = dict(facts)
    for i, name in enumerate(later):
        touched = await db.write(
            lambda c, n=name, i=i: visits.touch_visit(
                c, account, "v1", "s1", last_ms=NOW + i + 1, live_at=NOW + i + 1,
                **{n: later[n]},
            )
        )  # fmt: skip
        assert touched
        expected[name] = later[name]
        got = await db.read(lambda c: visits.get_visit(c, account, "v1", "s1"))
        assert got is not None and got.last_ms == NOW + i + 1
        assert {k: getattr(got, k) for k in facts} == expected
    assert await db.write(
        lambda c: visits.touch_visit(c, account, "v1", "s1", last_ms=NOW + 9)
    )  # no live_at: touched whatever its expiry
    expired = await db.write(
        lambda c: visits.touch_visit(
            c, account, "v1", "s1", last_ms=NOW + HOUR_MS, live_at=NOW + HOUR_MS, **facts
        )
    )
    got = await db.read(lambda c: visits.get_visit(c, account, "v1", "s1"))
    assert not expired and got is not None and got.last_ms == NOW + 9
    assert {k: getattr(got, k) for k in facts} == expected


def test_an_append_insert_names_columns_of_its_table() -> None:
    from sdehub.store.sql import AppendSql

    sql = AppendSql(events.EVENTS, ("account_id", "payload"), "seq, {text:payload}")
    assert sql.sqlite == "INSERT INTO sde_events (account_id, payload) VALUES (?, ?)"
    assert sql.postgresql.endswith("VALUES (%s, CAST(%s AS jsonb)) RETURNING seq, payload::text")
    with pytest.raises(ValueError, match="sde_events has no column"):
        AppendSql(events.EVENTS, ("account_id", "nothing"), "seq")


def test_a_row_insert_holds_every_column_of_its_table() -> None:
    from sdehub.store.sql import RowSql

    assert "(?, ?, ?, ?, ?, ?, ?, ?)" in RowSql(conv.CONSUMERS, conv.Consumer).sqlite
    with pytest.raises(ValueError, match="columns of consumers"):
        RowSql(conv.CONSUMERS, conv.Dialog)


async def test_a_binary_statement_gives_the_same_values(db: Database) -> None:
    """``Sql(binary=True)``: PostgreSQL sends the results in its binary format (bytea as bytes,
    not hex text); every value comes back as in the text format, on both backends."""
    from sdehub.store.sql import Sql, run

    cast = (
        "CAST(:text AS BLOB)" if db.engine.dialect.name == "sqlite" else "convert_to(:text, 'UTF8')"
    )
    source = f"SELECT {cast}, :text, :number, :big"
    params = {"text": 'é"\n,x', "number": 7, "big": 1_767_225_600_000}

    def both(c: Any) -> list[Any]:
        return [tuple(run(c, Sql(source, binary=b), params).fetchone()) for b in (False, True)]

    text, binary = await db.read(both)
    assert binary == text == ('é"\n,x'.encode(), 'é"\n,x', 7, 1_767_225_600_000)
