"""``export_hour`` and the exporter, on a database of their own: contents, determinism, retention,
the round trip of SDEs, and ``sdehub export``."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdehub.cli import main
from sdehub.clock import ManualClock
from sdehub.dataaccess import files
from sdehub.dataaccess.export import export_hour, hour_lines
from sdehub.dataaccess.scheduler import Exporter, hours_between, pending_hours
from sdehub.ingest import record
from sdehub.model.types import (
    CustomerInfo,
    CustomerInfoData,
    ErrorData,
    Lead,
    LeadData,
    VisitorError,
)
from sdehub.store import Database, accounts, catalogs, exports, tables, visits
from sdehub.store.events import Origin
from tests.dataaccess_util import check_line, read_file, records

pytestmark = pytest.mark.anyio
HOUR = files.HOUR_MS
T0 = 1_767_225_600_000  # an hour's start
ACCOUNT = "da-1"
VISIT = Origin(source="connector", authenticated=False, visitor_id="vis-1", session_id="ses-1")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'export.db'}")
    database.migrate()
    yield database
    database.engine.dispose()


def populate(conn: sa.Connection) -> None:
    accounts.add_account(
        conn, accounts.Account(account_id=ACCOUNT, name=None, emulated=False, created_ms=T0)
    )
    record(
        conn, ACCOUNT,
        [CustomerInfo(info=CustomerInfoData(customerId="C-1", balance=12.5)),
         Lead(lead=LeadData(topic="loan", value=1000.0)),
         VisitorError(error=ErrorData(code="E42", message="oops"))],
        VISIT, now_ms=T0 + 10, window_ms=HOUR,
    )  # fmt: skip
    visits.put_page(
        conn, ACCOUNT, "vis-1", "ses-1", "p-1", ["https://shop.example/", "sec://Sport"], T0 + 5
    )
    catalogs.add_goal_event(
        conn,
        catalogs.GoalEvent(
            account_id=ACCOUNT, visitor_id="vis-1", session_id="ses-1", goal_id="g-1",
            goal_type="purchase", value=99.5, dedup_key="k", duplicate=False, source="monitoring",
            reached_ms=T0 + 20, details={"orderId": "O-1"},
        ),
    )  # fmt: skip
    conn.execute(
        sa.insert(tables.conversations).values(
            account_id=ACCOUNT, conversation_id="conv-1", consumer_id="cons-1", state="CLOSE",
            created_ms=T0 + 1, closed_ms=T0 + 30, channel_type="MESSAGING", last_sequence=-1,
        )
    )  # fmt: skip
    conn.execute(
        sa.insert(tables.agent_surveys).values(
            account_id=ACCOUNT, survey_id=7, revision=1, name="Wrap-up", is_default=True,
            enabled=True, deleted=False, document={}, created_ms=T0, updated_ms=T0,
        )
    )  # fmt: skip
    conn.execute(
        sa.insert(tables.agent_survey_states).values(
            account_id=ACCOUNT, conversation_id="conv-1", survey_id=7, status="submitted",
            state_revision=2, answers=[], submissions=1, last_action_ms=T0 + 40,
            submitted=[{"questionId": 1, "questionText": "Resolved?", "questionDefinition": "x",
                        "questionCategory": "custom", "answers": [{"answer": "Yes"}]}],
        )
    )  # fmt: skip


def as_text(found: dict[str, files.Lines]) -> dict[str, list[str]]:
    """``hour_lines``' lines as text (the Engagement lines come as bytes)."""
    return {
        kind: [line.decode() if isinstance(line, bytes) else line for line in lines]
        for kind, lines in found.items()
    }


def lines(db: Database, hour: int = T0) -> dict[str, list[str]]:
    return as_text(db.read_sync(lambda c: hour_lines(c, ACCOUNT, hour)))


def test_every_kind_of_record_from_one_hour(db: Database) -> None:
    db.write_sync(populate)
    found = lines(db)
    for kind_lines in found.values():
        for line in kind_lines:
            check_line(line)
    web = records([json.loads(x) for x in found["WebSession"]])
    assert [name for name, _ in web] == [
        "WebSessionEngAttrsData", "WebSessionNavigationData", "WebSessionGoalAchievedData",
    ]  # fmt: skip
    attrs = web[0][1]["engagementAttributes"]["array"]
    error = attrs[2]["data"]["com.liveperson.dataaccess.VisitorError"]
    assert error["code"] is None and error["message"] == {"string": "oops"}  # a long in Data Access
    page = web[1][1]["pageViews"]["array"][0]
    assert page["url"] == {"string": "https://shop.example/"}
    goal = web[2][1]["achievedGoals"]["array"][0]
    assert goal["campaignGoalId"] == {"string": "g-1"} and goal["campaignGoalType"] == {"int": 2}
    assert goal["goalMetaData"] == {
        "com.liveperson.dataaccess.PurchaseMetadata": {
            "total": {"double": 99.5}, "orderId": {"string": "O-1"}, "cartStatus": None,
        }
    }  # fmt: skip
    (survey,) = records([json.loads(x) for x in found["Survey"]])
    entry = survey[1]["surveys"]["array"][0]
    assert entry["type"] == {"int": 3} and entry["conversationId"] == {"string": "conv-1"}
    content = entry["contents"]["array"][0]
    assert content["question"] == {"string": "Resolved?"} and content["answer"] == {"string": "Yes"}
    assert content["surveyName"] == {"string": "Wrap-up"}
    assert len(found["Engagement"]) == 1 and found["AgentActivity"] == []
    assert lines(db, T0 + HOUR) == {k: [] for k in files.KINDS}


def test_export_is_idempotent_and_atomic(db: Database, tmp_path: Path) -> None:
    db.write_sync(populate)
    root = tmp_path / "out"
    first = db.read_sync(lambda c: export_hour(c, ACCOUNT, T0, root))
    assert [p.name for p in first] == [files.file_name(k, T0) for k in files.KINDS]
    before = {p: p.read_bytes() for p in first}
    inodes = {p: os.stat(p).st_ino for p in first}
    again = db.read_sync(lambda c: export_hour(c, ACCOUNT, T0, root))
    assert again == first
    assert {p: p.read_bytes() for p in again} == before
    # Rewritten through a rename, never in place; no temporary file is left behind.
    assert all(os.stat(p).st_ino != inodes[p] for p in again)
    assert sorted(q.name for q in root.rglob("*") if q.is_file()) == sorted(p.name for p in first)
    docs = read_file(before[root / ACCOUNT / "WebSession" / files.file_name("WebSession", T0)])
    assert len(docs) == 1
    with pytest.raises(ValueError):
        db.read_sync(lambda c: export_hour(c, ACCOUNT, T0 + 1, root))


def test_pending_hours() -> None:
    now = T0 + 5 * HOUR + 7
    assert pending_hours(now, T0 + 3, 30 * 24 * HOUR, []) == [T0 + i * HOUR for i in range(5)]
    assert pending_hours(now, T0, 2 * HOUR, [T0 + 4 * HOUR]) == [T0 + 3 * HOUR]
    assert pending_hours(T0, T0, HOUR, []) == []
    assert hours_between(T0 + 1, T0 + 2 * HOUR) == [T0, T0 + HOUR]


async def test_exporter_runs_each_hour_once_and_forgets_old_ones(
    db: Database, tmp_path: Path
) -> None:
    db.write_sync(populate)
    db.start()
    try:
        clock = ManualClock(T0 + 3 * HOUR)
        exporter = Exporter(db, clock, tmp_path / "out", retention_days=1)
        assert await exporter.run_once() == {ACCOUNT: [T0, T0 + HOUR, T0 + 2 * HOUR]}
        assert await exporter.run_once() == {ACCOUNT: []}
        clock.advance(24 * HOUR)
        done = await exporter.run_once()
        assert done[ACCOUNT] == [T0 + i * HOUR for i in range(3, 27)]
        kept = files.listing(tmp_path / "out", ACCOUNT, "Survey", 0, T0 + 100 * HOUR)
        assert kept[0].start_ms == T0 + 3 * HOUR and len(kept) == 24
        marked = await db.read(lambda c: exports.exported_hours(c, ACCOUNT, 0, T0 + 100 * HOUR))
        assert marked == [T0 + i * HOUR for i in range(3, 27)]
    finally:
        await db.close()


# --- the round trip: SDEs in, files out, the same facts back ----------------------------------

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
customers = st.builds(
    CustomerInfoData,
    customerId=texts | st.none(),
    ctype=texts | st.none(),
    balance=st.floats(allow_nan=False, allow_infinity=False, width=32) | st.none(),
    companySize=st.integers(0, 10**6) | st.none(),
)
leads = st.builds(
    LeadData, topic=texts | st.none(), leadId=texts | st.none(),
    value=st.floats(allow_nan=False, allow_infinity=False) | st.none(),
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(st.lists(customers | leads, min_size=1, max_size=3), max_size=4))
def test_sdes_survive_the_export(db: Database, batches: list[list[Any]]) -> None:
    def clear(conn: sa.Connection) -> None:
        for table in (
            tables.sde_events,
            tables.sde_avro_texts,
            tables.sde_avro_pending,
            tables.sde_terms,
            tables.sde_terms_pending,
            tables.sde_state,
            tables.sde_attributions,
        ):
            conn.execute(sa.delete(table))

    db.write_sync(clear)
    sent = []
    for i, batch in enumerate(batches):
        sdes = [
            CustomerInfo(info=d) if isinstance(d, CustomerInfoData) else Lead(lead=d) for d in batch
        ]
        origin = VISIT._replace(visitor_id=f"vis-{i % 2}")
        db.write_sync(
            lambda c, s=sdes, o=origin, n=i: record(c, ACCOUNT, s, o, now_ms=T0 + n, window_ms=HOUR)
        )
        for d in batch:
            if isinstance(d, CustomerInfoData):
                fact = ("CustomerInfo", d.customerId, d.ctype, d.balance, d.companySize)
            else:
                fact = ("Lead", d.topic, d.leadId, d.value)
            sent.append((origin.visitor_id, T0 + i, fact))
    got = []
    for line in lines(db)["WebSession"]:
        datum = check_line(line)
        for item in datum["recordCollection"]:
            _, body = item["body"]
            _, visitor = body["header"]
            for attr in body["engagementAttributes"]:
                name, data = attr["data"]
                short = name.rsplit(".", 1)[1]
                if short == "CustomerInfo":
                    fact = (short, data["customerId"], data["customerType"], data["balance"],
                            data["companySize"])  # fmt: skip
                else:
                    fact = (short, data["topic"], data["leadId"], data["value"])
                got.append((visitor["visitorId"], attr["timestamp"], fact))
    assert sorted(got, key=repr) == sorted(sent, key=repr)


def test_the_export_command(db: Database, tmp_path: Path) -> None:
    db.write_sync(populate)
    url = str(db.engine.url)
    out = tmp_path / "cli-out"
    runner = CliRunner()
    args = ["export", "--db", url, "--setting", "export_dir", str(out)]
    done = runner.invoke(main, [*args, "--from", str(T0), "--to", "2026-01-01T02:00:00"])
    assert done.exit_code == 0, done.output
    assert done.output.strip().endswith(f"8 files for 2 hours in {out}")
    assert len(files.listing(out, ACCOUNT, "Engagement", 0, T0 + 9 * HOUR)) == 2
    done = runner.invoke(main, [*args, "--from", str(T0), "--to", str(T0), "--account", "nobody"])
    assert done.exit_code == 2 and "no account nobody" in done.output
    done = runner.invoke(main, [*args, "--from", "yesterday", "--to", str(T0)])
    assert done.exit_code == 2


def forget_account(conn: sa.Connection) -> None:
    """The PostgreSQL database is shared by the session's tests."""
    for table in reversed(tables.metadata.sorted_tables):
        if "account_id" in table.c:
            conn.execute(sa.delete(table).where(table.c.account_id == ACCOUNT))


def same_goal_ids(found: dict[str, list[str]]) -> dict[str, list[str]]:
    """A goal's id derives from its row's, which the shared PostgreSQL database numbers after
    the goals other tests stored: one id for all."""
    uuid = re.compile(r'"id":\{"string":"[0-9a-f-]{36}"\}')
    return {
        kind: [uuid.sub('"id":{"string":"x"}', line) for line in lines]
        for kind, lines in found.items()
    }


def test_both_backends_write_the_same_lines(db_url: str, tmp_path: Path) -> None:
    """The SDE query hands the payload over as its stored JSON text (PostgreSQL's jsonb writes
    it its own way): the lines do not depend on it."""
    reference = Database(f"sqlite+pysqlite:///{tmp_path / 'reference.db'}")
    database = Database(db_url)
    try:
        for each in (reference, database):
            each.migrate()
            each.write_sync(forget_account)
            each.write_sync(populate)
        expected = same_goal_ids(lines(reference))
        assert same_goal_ids(lines(database)) == expected
        assert len(expected["WebSession"]) == 1
    finally:
        reference.engine.dispose()
        database.engine.dispose()
