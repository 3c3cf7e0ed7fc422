"""The WebSession items the store keeps (``sde_avro_texts``, ``page_avro_texts``,
``goal_avro_texts``) and the export that joins them per visit in its queries: on both backends,
the file is the one the rows gave before, to the byte — whatever the stored values, through the
store's own writes, and for rows stored before the migration that added the items."""

from __future__ import annotations

import gzip
import itertools
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdehub.dataaccess import avrotext, export, files
from sdehub.ingest import record
from sdehub.model.types import (
    CartUpdate,
    CustomerInfo,
    CustomerInfoData,
    ErrorData,
    Lead,
    LeadData,
    Product,
    ProductItem,
    SearchContent,
    VisitorError,
)
from sdehub.store import Database, catalogs, events, exports, migrations, tables, visits
from sdehub.store.database import create_engine
from sdehub.store.events import Origin
from tests.dataaccess_util import check_line
from tests.test_avrotext import goal_rows, page_rows, sde_rows

HOUR = files.HOUR_MS
EXAMPLES = itertools.count(1)
T0 = 1_767_225_600_000  # an hour's start


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.engine.dispose()


def previous_lines(conn: sa.Connection, account_id: str, hour_ms: int) -> list[str]:
    """What the export wrote before the stored items: every SDE, page and goal from its row."""
    until = hour_ms + HOUR
    return avrotext.web_session_lines(
        account_id,
        exports.sdes_between(conn, account_id, hour_ms, until),
        exports.pages_between(conn, account_id, hour_ms, until),
        exports.goals_between(conn, account_id, hour_ms, until),
    )


def web_text(conn: sa.Connection, account_id: str, hour_ms: int) -> list[str]:
    """The export's WebSession lines (UTF-8 bytes, as the file holds them) as text; the file
    ``export_hour`` writes (its text written straight into gzip's chunks) holds them."""
    found = export.web_session_lines(conn, account_id, hour_ms)
    text = gzip.decompress(export.web_session_file(conn, account_id, hour_ms))
    assert text == b"".join(line + b"\n" for line in found)
    return [line.decode() for line in found]


def lines(db: Database, account_id: str, hour_ms: int = T0) -> tuple[list[str], list[str]]:
    """The hour's WebSession lines, now and as before."""
    with db.engine.connect() as conn:
        return (
            web_text(conn, account_id, hour_ms),
            previous_lines(conn, account_id, hour_ms),
        )


# --- any stored values ---------------------------------------------------------------------------


def _store_items(
    conn: sa.Connection,
    account: str,
    sdes: list[Any],
    pages: list[Any],
    goals: list[Any],
    moved: int,
) -> None:
    """The items of these rows, as the store writes them: consecutive SDEs of a visit sharing a
    time and authentication are one append (one row); the SDE items up to the ``moved``-th
    append moved to export order (``cluster_sde_texts``), the rest not."""
    runs: list[list[Any]] = []
    for row in sdes:
        key = (row["visitor_id"], row["session_id"], row["server_ms"], row["authenticated"])
        if runs and runs[-1][0] == key:
            runs[-1][1].append(row)
        else:
            runs.append([key, [row]])
    for n, (_, run) in enumerate(runs):
        first = {**run[0], "account_id": account}
        item = events.avro_text_row(first, [(r["wire_type"], r["payload"]) for r in run])
        conn.execute(sa.insert(tables.sde_avro_pending).values(item))
        if n == moved:  # the hour's first items moved to export order, the rest after it
            exports.cluster_sde_texts(conn, account, T0 + HOUR)
    for page in pages:
        conn.execute(sa.insert(tables.page_avro_texts).values(visits.page_text_row(page)))
    for goal in goals:
        conn.execute(sa.insert(tables.goal_avro_texts).values(catalogs.goal_text_row(goal)))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sde_rows(), page_rows, goal_rows, st.booleans(), st.integers(-1, 12))
def test_stored_items_give_the_lines_the_rows_gave(
    db: Database, sdes: Any, pages: Any, goals: Any, shared_times: bool, moved: int
) -> None:
    account = f"acc-{uuid.uuid4().hex[:8]}"
    base = next(EXAMPLES) * 1000  # seq numbers are the log's: unique across accounts
    for n, row in enumerate(sdes):
        row["seq"] = base + n + 1
        if shared_times:  # SDEs reported together: one append, one row of items
            row["server_ms"] = T0 + n // 3
    # As the store holds them: a page once per visit, under an id (its own text after a number,
    # so that both backends' collations order them alike; no NUL, which PostgreSQL text lacks),
    # a goal under its own id; and in the order the export's queries read them.
    pages = [
        {
            **p,
            "account_id": account,
            "page_id": f"{n:02d}" + (p["page_id"] or "").replace("\x00", ""),
        }
        for n, p in enumerate(pages)
    ]
    pages.sort(key=lambda p: (p["visitor_id"], p["session_id"], p["first_ms"], p["page_id"]))
    goals = [{**g, "account_id": account, "id": n + 1} for n, g in enumerate(goals)]
    goals.sort(key=lambda g: (g["reached_ms"], g["id"]))

    db.write_sync(lambda conn: _store_items(conn, account, sdes, pages, goals, moved))
    with db.engine.connect() as conn:
        got = web_text(conn, account, T0)
    assert got == avrotext.web_session_lines(account, sdes, pages, goals)
    for line in got:
        check_line(line)


# --- through the store's writes ------------------------------------------------------------------


def _visit(visitor: str, session: str, *, authenticated: bool = False) -> Origin:
    return Origin(
        source="monitoring", authenticated=authenticated, visitor_id=visitor, session_id=session
    )


def _cart(name: str, price: float) -> CartUpdate:
    return CartUpdate(
        total=price, numItems=1, products=[ProductItem(product=Product(name=name, price=price))]
    )


def _goal(account: str, visitor: str, session: str, at: int, **extra: Any) -> catalogs.GoalEvent:
    values: dict[str, Any] = {
        "account_id": account, "visitor_id": visitor, "session_id": session, "goal_id": "21",
        "goal_type": "purchase", "dedup_key": f"k{at}", "duplicate": False,
        "source": "monitoring", "reached_ms": at, "value": 10.0, "details": {"orderId": "O-é"},
    }  # fmt: skip
    return catalogs.GoalEvent(**{**values, **extra})


def _written(conn: sa.Connection, account: str) -> None:
    one = _visit("v-1", 'sé"\\s\n')
    two = _visit("v-2\u2028", "s", authenticated=True)
    record(
        conn, account,
        [CustomerInfo(info=CustomerInfoData(customerId='C"é\x01', balance=-0.5)),
         SearchContent(keywords=["x"]), Lead(lead=LeadData(topic="loan 😀", value=1e21))],
        one, now_ms=T0 + 30, window_ms=HOUR,
    )  # fmt: skip
    record(conn, account, [_cart("tea", 3.0)], one, now_ms=T0 + 10, window_ms=HOUR)
    # Numbers PostgreSQL's jsonb writes back differently: the export reads what is stored.
    record(conn, account, [Lead(lead=LeadData(value=-0.0)), _cart("zero", -0.0)], one,
           now_ms=T0 + 11, window_ms=HOUR)  # fmt: skip
    record(conn, account, [_cart("tea", 3.0)], two, now_ms=T0 + 20, window_ms=HOUR)
    # Only types Data Access does not carry: an engagement-attributes record, empty.
    record(conn, account, [SearchContent(keywords=["y"])], _visit("v-3", "s"),
           now_ms=T0 + 5, window_ms=HOUR)  # fmt: skip
    # Neighbouring hours, and SDEs with no visit (a consumer's), are not this hour's.
    record(conn, account, [_cart("late", 1.0)], one, now_ms=T0 + HOUR, window_ms=HOUR)
    record(conn, account, [_cart("early", 1.0)], two, now_ms=T0 - 1, window_ms=HOUR)
    consumer = Origin(source="connector", authenticated=True, consumer_id="c-1")
    record(conn, account, [_cart("msg", 1.0)], consumer, now_ms=T0 + 40, window_ms=HOUR)
    record(conn, account, [VisitorError(error=ErrorData(code="E1"))], _visit("v-1", "s2"),
           now_ms=T0 + 50, window_ms=HOUR)  # fmt: skip

    visits.put_page(conn, account, "v-1", 'sé"\\s\n', "p-b", ["https://a/é", "sec://x"], T0 + 7)
    visits.put_page(conn, account, "v-1", 'sé"\\s\n', "p-a", None, T0 + 7)
    visits.put_page(conn, account, "v-1", 'sé"\\s\n', "p-b", None, T0 + 60)  # seen again
    visits.put_page(conn, account, "v-4", "s", "p", ["sec://old"], T0 + 8)
    visits.put_page(conn, account, "v-4", "s", "p", ["https://new/", "sec://new"], T0 + 90)
    visits.put_page(conn, account, "v-4", "s", "q", [], T0 + HOUR + 1)

    catalogs.add_goal_event(conn, _goal(account, "v-2\u2028", "s", T0 + 99))
    catalogs.add_goal_event(conn, _goal(account, "v-2\u2028", "s", T0 + 99, goal_type="lead"))
    catalogs.add_goal_event(conn, _goal(account, "v-2\u2028", "s", T0 + 98, duplicate=True))
    catalogs.add_goal_event(conn, _goal(account, "v-5", "s", T0 + 3, goal_type="interact"))
    odd = {"revision": 1e16, "status": -0.0, "topic": 'é"\n'}
    catalogs.add_goal_event(
        conn, _goal(account, "v-5", "s", T0 + 4, goal_type="serviceActivity", details=odd)
    )


def _late_cart(conn: sa.Connection) -> None:
    record(conn, "acc-1", [_cart("late", 2.0)], _visit("v-1", 'sé"\\s\n'), now_ms=T0 + 1,
           window_ms=HOUR)  # fmt: skip


def test_the_store_keeps_what_the_export_wrote_from_the_rows(db: Database) -> None:
    db.write_sync(lambda conn: _written(conn, "acc-1"))
    db.write_sync(lambda conn: _written(conn, "acc-2"))  # another account: not in acc-1's file
    hours = (T0 - HOUR, T0, T0 + HOUR)
    # As recorded (the SDE items pending), after the exporter's move of the closed hours, and
    # with an SDE of a moved hour arriving late.
    for step in ("pending", "moved", "late"):
        if step == "moved":
            db.write_sync(lambda conn: exports.cluster_sde_texts(conn, "acc-1", T0 + HOUR))
        if step == "late":
            db.write_sync(_late_cart)
        with db.engine.connect() as conn:
            pending = conn.execute(
                sa.select(sa.func.count()).select_from(tables.sde_avro_pending)
                .where(tables.sde_avro_pending.c.account_id == "acc-1")
                .where(tables.sde_avro_pending.c.hour_ms == T0)
            ).scalar()  # fmt: skip
        assert pending == {"pending": 6, "moved": 0, "late": 1}[step]
        for hour in hours:
            now, before = lines(db, "acc-1", hour)
            assert now == before
            for line in now:
                check_line(line)
                assert "acc-2" not in line
    now, _ = lines(db, "acc-1")
    assert len(now) == 6  # v-1's two visits, v-2, v-3, v-4 and v-5
    assert '"sections":{"array":["new"]}' in "".join(now)  # the page's entry points, replaced


def test_the_queries_read_the_hour_in_key_order_without_sorting(tmp_path: Any) -> None:
    """SQLite's group_concat joins in the order it reads: the key's, only while nothing sorts."""
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'plan.db'}")
    database.migrate()
    with database.engine.connect() as conn:
        for queries in (exports.WEB_SDE_TEXTS, exports.WEB_PAGE_TEXTS, exports.WEB_GOAL_TEXTS):
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + queries["sqlite"].sqlite,
                {"account_id": "a", "hour_ms": T0},
            ).all()
            steps = [row[-1] for row in plan]
            assert len(steps) == 1 and "USING PRIMARY KEY (account_id=? AND hour_ms=?)" in steps[0]
    database.engine.dispose()


# --- rows stored before the items ----------------------------------------------------------------


def _items_revision() -> tuple[str, str]:
    scripts = ScriptDirectory.from_config(migrations.config())
    (script,) = (s for s in scripts.walk_revisions() if "sde_avro_text" in (s.path or ""))
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


def test_the_migration_gives_stored_rows_their_items(db_url: str, tmp_path: Any) -> None:
    """Rows written before the migration (as the store wrote them then: no items) export the
    same after it."""
    if db_url.startswith("postgresql"):  # a database of its own, to migrate from empty
        name = f"sdehub_items_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(
            db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = db_url.rsplit("/", 1)[0] + f"/{name}"
    else:
        admin, url = None, db_url
    engine = create_engine(url)
    try:
        revision, before = _items_revision()
        with engine.begin() as conn:
            migrations.upgrade(conn, before)
        with engine.begin() as conn:
            assert "sde_avro_texts" not in sa.inspect(conn).get_table_names()
            _write_old_rows(conn)
        with engine.begin() as conn:
            migrations.upgrade(conn, revision)
        with engine.connect() as conn:
            count = sa.select(sa.func.count()).select_from(tables.sde_avro_texts)
            assert conn.execute(count).scalar() == 5  # the SDEs of visits, in two hours
            for hour in (T0, T0 + HOUR):
                now = web_text(conn, "acc-1", hour)
                assert now == previous_lines(conn, "acc-1", hour)
                for line in now:
                    check_line(line)
            assert len(export.web_session_lines(conn, "acc-1", T0)) == 3
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def _write_old_rows(conn: sa.Connection) -> None:
    """sde_events, visit_pages and goal_events rows as the revision before the items holds them."""
    payloads = [
        ("ctmrinfo", True, {"type": "ctmrinfo", "info": {"customerId": 'é"\n', "balance": "12"}}),
        ("searchInfo", False, {"type": "searchInfo", "keywords": ["a"]}),
        ("lead", False, {"type": "lead", "lead": {"topic": None, "value": 5}}),
        ("cart", False, {"type": "cart", "products": "not a list"}),
    ]
    for n, (wire, auth, payload) in enumerate(payloads):
        conn.execute(
            sa.insert(tables.sde_events).values(
                account_id="acc-1", wire_type=wire, payload=payload, authenticated=auth,
                source="monitoring", visitor_id="v-1", session_id=f"s-{n % 2}",
                original_ms=T0 + n, server_ms=T0 + n,
            )
        )  # fmt: skip
    conn.execute(
        sa.insert(tables.sde_events).values(
            account_id="acc-1", wire_type="lead", payload={"type": "lead"}, authenticated=False,
            source="monitoring", visitor_id="v-2", session_id="s", original_ms=T0 + HOUR,
            server_ms=T0 + HOUR + 5,
        )
    )  # fmt: skip
    conn.execute(
        sa.insert(tables.sde_events).values(
            account_id="acc-1", wire_type="lead", payload={"type": "lead"}, authenticated=False,
            source="connector", consumer_id="c", original_ms=T0, server_ms=T0,
        )
    )  # fmt: skip
    for page, first, points in (("p", T0 + 9, ["https://x/", "sec://é"]), ("o", T0 + 9, [])):
        conn.execute(
            sa.insert(tables.visit_pages).values(
                account_id="acc-1", visitor_id="v-3", session_id="s", page_id=page,
                first_ms=first, last_ms=first, entry_points=points,
            )
        )  # fmt: skip
    for n, duplicate in enumerate((False, True, False)):
        conn.execute(
            sa.insert(tables.goal_events).values(
                account_id="acc-1", visitor_id="v-1", session_id="s-0", goal_id="21",
                goal_type="lead", dedup_key=f"k{n}", duplicate=duplicate, source="monitoring",
                reached_ms=T0 + 100 - n, value=None if n else 2.5,
                details=None if n else {"topic": "t", "revision": 2},
            )
        )  # fmt: skip


def test_the_file_text_in_chunks_is_the_lines() -> None:
    """``web_session_text_from_texts`` writes the lines' pieces straight into chunks of
    ``lines`` lines: whatever the chunk's size, the text is the lines, each with its newline."""
    item = b'{"timestamp":{"long":1},"data":null}'
    sdes = [avrotext.VisitText(f"v{n}", "s", item if n % 3 else None, n, n + 1) for n in range(5)]
    pages = [avrotext.VisitText("v1", "s", item, 7, 9), avrotext.VisitText("v9", "s", item, 0, 0)]
    goals = [avrotext.VisitText("v0", "s", item, 2, 2)]
    found = avrotext.web_session_lines_from_texts("acc-1", sdes, pages, goals)
    assert len(found) == 6
    for size in (1, 2, 4, 6, 7):
        chunks = list(avrotext.web_session_text_from_texts("acc-1", sdes, pages, goals, size))
        assert len(chunks) == -(-6 // size)
        assert b"".join(chunks) == b"".join(line + b"\n" for line in found)
    assert gzip.decompress(files.gzip_text([])) == b""


_IDS = st.sampled_from(["a", "b", "é", "Z", "a b", "\U0001f600", "aa"])
_VISITS = st.sets(st.tuples(_IDS, _IDS), max_size=8)


@settings(max_examples=200, deadline=None)
@given(sdes=_VISITS, pages=_VISITS, goals=_VISITS)
def test_every_visit_is_one_line_in_visit_order(
    sdes: set[tuple[str, str]], pages: set[tuple[str, str]], goals: set[tuple[str, str]]
) -> None:
    """The SDEs' texts come in visit order, the pages' and goals' in any: each visit of any kind
    is one line, in visit order (by code point, as SQLite's binary order and PostgreSQL's "C"),
    with the bodies of the kinds it has and the span of their times."""

    def texts(visits: set[tuple[str, str]], at: int) -> list[avrotext.VisitText]:
        item = b'{"timestamp":{"long":%d},"data":null}' % at
        return [avrotext.VisitText(v, s, item, at, at + 1) for v, s in visits]

    found = avrotext.web_session_lines_from_texts(
        "acc-1",
        sorted(texts(sdes, 10)),
        list(reversed(texts(pages, 5))),
        texts(goals, 20),
    )
    expected = sorted(sdes | pages | goals)
    assert len(found) == len(expected)
    kinds = ("WebSessionEngAttrsData", "WebSessionNavigationData", "WebSessionGoalAchievedData")
    for line, visit in zip(found, expected, strict=True):
        decoded = json.loads(line)
        bodies = decoded["recordCollection"]["array"]
        names = [next(iter(b["body"])).rsplit(".", 1)[1] for b in bodies]
        has = [visit in sdes, visit in pages, visit in goals]
        assert names == [k for k, yes in zip(kinds, has, strict=True) if yes]
        for body in bodies:
            head = next(iter(body["body"].values()))["header"]
            (ids,) = head.values()
            assert (ids["visitorId"]["string"], ids["visitId"]["string"]) == visit
        times = [t for t, yes in zip((10, 5, 20), has, strict=True) if yes]
        meta = decoded["metaData"]["com.liveperson.dataaccess.MetaData"]
        assert meta["startTime"] == {"long": min(times)}
        assert meta["endTime"] == {"long": max(times) + 1}


def test_sde_texts_out_of_visit_order_are_refused() -> None:
    """The SDEs' texts are merged as they come: out of order, a visit could be written twice."""
    item = b'{"timestamp":{"long":1},"data":null}'
    sdes = [avrotext.VisitText(v, "s", item, 1, 1) for v in ("b", "a")]
    with pytest.raises(ValueError, match="not in visit order"):
        avrotext.web_session_lines_from_texts("acc-1", sdes, [], [])
