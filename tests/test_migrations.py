"""Migrations: on both backends they build exactly ``tables.metadata``, and they go down and up.

PostgreSQL tests get a database of their own (not the session's shared one), since going down to
base drops every table.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

from sdehub.store import migrations
from sdehub.store.database import create_engine
from sdehub.store.tables import metadata


@pytest.fixture
def fresh_url(db_url: str) -> Iterator[str]:
    """An empty database on the backend of ``db_url``."""
    if db_url.startswith("sqlite"):
        yield db_url
        return
    name = f"sdehub_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield db_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_engine(fresh_url)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        migrations.upgrade(conn, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(migrations.config(conn), revision)


# Indexes on an expression (``sdehub.store.tables`` says why each exists). SQLAlchemy cannot
# reflect them from SQLite, so there the comparison skips them (with a warning each), and
# :func:`diff` checks their definition in SQLite's own catalog instead.
EXPRESSION_INDEXES = {
    "ix_sde_events_day": "(account_id, (server_ms / 86400000), wire_type, source, authenticated)",
}


def diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    if conn.dialect.name != "sqlite":
        return list(compare_metadata(context, metadata))
    with warnings.catch_warnings():
        for name in EXPRESSION_INDEXES:
            warnings.filterwarnings("ignore", f".*expression-based index '?{name}'?")
        found = list(compare_metadata(context, metadata))
    for name, columns in EXPRESSION_INDEXES.items():
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).scalar()
        if sql is None or not " ".join(sql.split()).endswith(columns):
            found.append(("expression index", name, sql))
    return found


def user_tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_exactly_the_metadata(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        assert diff(conn) == []
        assert user_tables(conn) == set(metadata.tables)


def test_current_revision_is_head(engine: Engine) -> None:
    with engine.connect() as conn:
        assert migrations.current(conn) is None
    upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
    assert migrations.head() is not None


def test_head_has_a_single_linear_history() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrations.config())
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1


def test_downgrade_to_base_then_upgrade_again(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    with engine.connect() as conn:
        assert user_tables(conn) == set()
        assert migrations.current(conn) is None
    upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert diff(conn) == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(metadata.tables["accounts"]).values(
                account_id="kept", name=None, emulated=False, created_ms=1
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert diff(conn) == []
        rows = conn.execute(sa.select(metadata.tables["accounts"].c.account_id)).all()
        assert [r.account_id for r in rows] == ["kept"]


def _revision_of(file_part: str) -> tuple[str, str]:
    """The migration whose file name holds ``file_part`` and the one before it (by file name,
    so a renumbering does not break the tests)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrations.config())
    (script,) = (s for s in scripts.walk_revisions() if file_part in (s.path or ""))
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


# The term tables as they were before they were keyed by conversation
# (sdehub.store.tables.search has today's).
OLD_TERMS = sa.table(
    "sde_terms", sa.column("account_id"), sa.column("history_key"), sa.column("term"),
    sa.column("seq"),
)  # fmt: skip
OLD_PENDING = sa.table(
    "sde_terms_pending", sa.column("account_id"), sa.column("history_key"), sa.column("seq"),
    sa.column("terms"),
)  # fmt: skip


def test_going_below_the_pending_terms_moves_them_to_the_index(engine: Engine) -> None:
    revision, before = _revision_of("terms_pending")
    upgrade(engine, revision)
    pending, terms = OLD_PENDING, OLD_TERMS
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # the key is the row: no rowid beside it
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'sde_terms_pending'"
            ).scalar_one()
            assert sql.rstrip().endswith("WITHOUT ROWID")
        conn.execute(
            sa.insert(pending).values(
                account_id="a", history_key="personalInfo", seq=7, terms="\x1fana\x1fana diaz\x1f"
            )
        )
        conn.execute(sa.insert(terms).values(account_id="a", history_key="personalInfo",
                                             term="ana", seq=7))  # fmt: skip
    downgrade(engine, before)
    with engine.connect() as conn:
        assert "sde_terms_pending" not in user_tables(conn)
        moved = conn.execute(sa.select(terms.c.term, terms.c.seq).order_by(terms.c.term)).all()
        assert [tuple(r) for r in moved] == [("ana", 7), ("ana diaz", 7)]


def test_terms_keyed_by_conversation_are_found_after_the_upgrade_and_go_down(
    engine: Engine,
) -> None:
    """Terms and pending SDEs written in the old layout are searchable after the upgrade, in
    each conversation their SDE is attributed to; going down gives the old rows back."""
    import msgspec

    from sdehub.api.msghist import Range, SearchBody, criteria
    from sdehub.store import history, terms

    revision, before = _revision_of("terms_by_conversation")
    upgrade(engine, before)
    conversations = metadata.tables["conversations"]
    attributions = metadata.tables["sde_attributions"]
    with engine.begin() as conn:
        for n, started in ((1, 1_000), (2, 2_000), (3, 3_000)):
            conn.execute(
                sa.insert(conversations).values(
                    account_id="a", conversation_id=f"c{n}", consumer_id="p", state="OPEN",
                    created_ms=started, channel_type="MESSAGING", last_sequence=-1,
                )
            )  # fmt: skip
        # SDE 7 (indexed) belongs to c1 and c3, SDE 8 (pending) to c2, SDE 9 to none.
        for conversation_id, seq in (("c1", 7), ("c3", 7), ("c2", 8)):
            conn.execute(
                sa.insert(attributions).values(
                    account_id="a", conversation_id=conversation_id, seq=seq
                )
            )
        for term in ("ana", "diaz", "ana diaz"):
            for seq in (7, 9):
                conn.execute(sa.insert(OLD_TERMS).values(
                    account_id="a", history_key="personalInfo", term=term, seq=seq))  # fmt: skip
        conn.execute(
            sa.insert(OLD_PENDING).values(
                account_id="a", history_key="personalInfo", seq=8, terms="\x1fana\x1fsmith\x1f"
            )
        )
    upgrade(engine, revision)

    def found(conn: Connection, value: str) -> tuple[int, list[str]]:
        window = msgspec.convert({"from": 0, "to": 10_000}, Range)
        body = SearchBody(start=window, sdeSearch={"personalInfo": value})
        q = criteria(body, "start:asc", 10_000)
        return history.search(conn, "a", q, offset=0, limit=50)

    with engine.begin() as conn:
        assert found(conn, "ana") == (3, ["c1", "c2", "c3"])
        assert found(conn, "ana diaz") == (2, ["c1", "c3"])
        assert found(conn, "smith") == (1, ["c2"])
        assert terms.drain_terms(conn, "a") == 1  # the pending SDE, in its conversation
        assert found(conn, "ana smith") == (1, ["c2"])
        assert found(conn, "diaz") == (2, ["c1", "c3"])
    downgrade_to(engine, before)
    with engine.connect() as conn:
        old = conn.execute(
            sa.select(OLD_TERMS.c.term, OLD_TERMS.c.seq).order_by(OLD_TERMS.c.term, OLD_TERMS.c.seq)
        ).all()
        assert [tuple(r) for r in old] == [
            ("ana", 7), ("ana", 8), ("ana diaz", 7), ("diaz", 7), ("smith", 8)
        ]  # fmt: skip
        assert conn.execute(sa.select(sa.func.count()).select_from(OLD_PENDING)).scalar_one() == 0


def downgrade_to(engine: Engine, revision: str) -> None:
    """Down to ``revision`` only (:func:`downgrade` goes back up to head after)."""
    with engine.begin() as conn:
        command.downgrade(migrations.config(conn), revision)
        assert migrations.current(conn) == revision


def test_consumers_from_before_allocated_ids_keep_theirs(engine: Engine) -> None:
    """A consumer of a database below 0017 (its id the hash of its identity) is still the one
    its external id maps to after the upgrade; a new external id gets a time-ordered id."""
    from sdehub.store import identities

    revision, before = _revision_of("consumer_identities")
    upgrade(engine, before)
    legacy = identities.identity_key("a", "ext", "crm-4711")
    consumers = sa.table(
        "consumers", sa.column("account_id"), sa.column("consumer_id"),
        sa.column("ext_consumer_id"), sa.column("acr"), sa.column("created_ms"),
        sa.column("updated_ms"),
    )  # fmt: skip
    with engine.begin() as conn:
        assert "consumer_identities" not in user_tables(conn)
        conn.execute(
            sa.insert(consumers).values(
                account_id="a", consumer_id=legacy, ext_consumer_id="crm-4711", acr="0",
                created_ms=1, updated_ms=1,
            )
        )  # fmt: skip
    upgrade(engine, revision)
    now = 1_767_225_600_000
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # the key is the row: no rowid beside it
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'consumer_identities'"
            ).scalar_one()
            assert sql.rstrip().endswith("WITHOUT ROWID")
        assert identities.consumer_of(conn, "a", "ext", "crm-4711", now) == legacy
        fresh = identities.consumer_of(conn, "a", "ext", "crm-4712", now)
        assert fresh.startswith(f"{now:012x}") and fresh != legacy
    downgrade_to(engine, before)
    with engine.connect() as conn:
        assert "consumer_identities" not in user_tables(conn)
        assert conn.execute(sa.select(consumers.c.consumer_id)).scalars().all() == [legacy]


def opened_at(conn: Connection, cid: str, created_ms: int) -> None:
    """An open conversation of account "a" (the store's write, at the head's code)."""
    from sdehub.store import conversations as convs

    convs.add_conversation(
        conn,
        convs.Conversation(
            account_id="a", conversation_id=cid, consumer_id="cons", state="OPEN",
            created_ms=created_ms,
        ),
    )  # fmt: skip


def test_conversations_from_before_the_transcript_items_export_as_before(engine: Engine) -> None:
    """Messages stored below 0018 have no transcript item: their conversations (closed before,
    or still open and written to after the upgrade) export from their messages, those written
    after from the items, and every line is the one the messages give."""
    from sdehub.dataaccess import avrotext, export
    from sdehub.store import conversations as convs
    from sdehub.store import exports, tables
    from tests.dataaccess_util import check_line

    revision, before = _revision_of("transcript_texts")
    t0 = 1_767_225_600_000

    def opened(conn: Connection, cid: str) -> None:
        opened_at(conn, cid, t0)
        convs.add_participant(
            conn,
            convs.Participant(
                account_id="a", conversation_id=cid, participant_id="ag", role="ASSIGNED_AGENT",
                joined_ms=t0 + 1,
            ),
        )  # fmt: skip

    def said(cid: str, pid: str, role: str, text: Any) -> convs.Message:
        return convs.Message(
            account_id="a", conversation_id=cid, sequence=0, dialog_id=cid, participant_id=pid,
            role=role, event_type="ContentEvent",
            event={"type": "ContentEvent", "message": text}, server_ms=t0 + 2,
        )  # fmt: skip

    def stored(conn: Connection, message: convs.Message, *, old: bool) -> None:
        message.sequence = convs.next_sequence(conn, "a", message.conversation_id)
        if old:  # as the store wrote it below 0018: the message only
            conn.execute(sa.insert(tables.messages).values(msgspec.structs.asdict(message)))
        else:
            convs.add_message(conn, message)

    def closed(conn: Connection, cid: str) -> None:
        convs.update_conversation(conn, "a", cid, state="CLOSE", closed_ms=t0 + 10)

    upgrade(engine, before)
    with engine.begin() as conn:
        opened(conn, "c-old")
        stored(conn, said("c-old", "cons", "CONSUMER", "before"), old=True)
        stored(conn, said("c-old", "ag", "ASSIGNED_AGENT", -0.0), old=True)
        closed(conn, "c-old")
        opened(conn, "c-mixed")
        stored(conn, said("c-mixed", "ag", "ASSIGNED_AGENT", "before"), old=True)
    upgrade(engine)  # the export reads the tables of every revision since
    with engine.begin() as conn:
        stored(conn, said("c-mixed", "cons", "CONSUMER", "after"), old=False)
        closed(conn, "c-mixed")
        opened(conn, "c-new")
        stored(conn, said("c-new", "ag", "ASSIGNED_AGENT", 1e16), old=False)
        closed(conn, "c-new")
    with engine.connect() as conn:
        unstored = conn.execute(sa.select(tables.transcripts_unstored.c.conversation_id))
        assert sorted(unstored.scalars()) == ["c-mixed", "c-old"]
        rows = exports.engagement_rows(conn, "a", t0, t0 + 3_600_000)
        found = exports.conversations_closed_between(conn, "a", t0, t0 + 3_600_000)
        got = [line.decode() for line in export.engagement_lines(conn, "a", t0)]
    assert [(m[0], m[1]) for m in rows.messages] == [("c-mixed", 0), ("c-mixed", 1),
                                                     ("c-old", 0), ("c-old", 1)]  # fmt: skip
    assert len(got) == 3 and got == avrotext.engagement_lines("a", found)
    mixed = next(line for line in got if '"c-mixed"' in line)
    assert '"before"' in mixed and '"after"' in mixed
    assert '"isInteractive":{"boolean":false}' in next(line for line in got if '"c-new"' in line)
    for line in got:
        check_line(line)
    downgrade_to(engine, before)
    with engine.connect() as conn:
        assert not {"transcript_texts", "transcripts_unstored"} & user_tables(conn)


def test_lines_kept_at_close_go_down_to_their_messages_and_come_back(engine: Engine) -> None:
    """Below 0020 no line is kept: the conversations closed then export as before after the
    upgrade; those closed after have their line kept (and their items removed). Going down lists
    those in transcripts_unstored (their messages are all kept): every line comes back the
    same."""
    from sdehub.dataaccess import export
    from sdehub.store import conversations as convs
    from sdehub.store import tables

    revision, before = _revision_of("engagement_lines")
    t0 = 1_767_225_600_000

    def written(conn: Connection, cid: str, *, keep: bool) -> None:
        opened_at(conn, cid, t0)
        for n, (pid, role) in enumerate([("cons", "CONSUMER"), ("ag", "ASSIGNED_AGENT")]):
            convs.add_message(
                conn,
                convs.Message(
                    account_id="a", conversation_id=cid, sequence=n, dialog_id=cid,
                    participant_id=pid, role=role, event_type="ContentEvent",
                    event={"type": "ContentEvent", "message": f"{cid} {n}"}, server_ms=t0 + n,
                ),
            )  # fmt: skip
        if keep:
            convs.close(conn, "a", cid, t0 + 10, "AGENT")
        else:  # as the store closed it below 0020
            convs.update_conversation(conn, "a", cid, state="CLOSE", closed_ms=t0 + 10)

    def lines() -> list[bytes]:
        with engine.connect() as conn:
            return export.engagement_lines(conn, "a", t0)

    upgrade(engine, before)
    with engine.begin() as conn:
        written(conn, "c-before", keep=False)
    upgrade(engine, revision)
    with engine.begin() as conn:
        written(conn, "c-after", keep=True)
    got = lines()
    assert len(got) == 2 and b'"c-before 1"' in got[1] and b'"c-after 0"' in got[0]
    with engine.connect() as conn:
        kept = conn.execute(sa.select(tables.engagement_lines.c.conversation_id))
        assert list(kept.scalars()) == ["c-after"]
        items = conn.execute(sa.select(tables.transcript_texts.c.conversation_id).distinct())
        assert list(items.scalars()) == ["c-before"]
    downgrade_to(engine, before)
    with engine.connect() as conn:
        assert "engagement_lines" not in user_tables(conn)
        unstored = conn.execute(sa.select(tables.transcripts_unstored.c.conversation_id))
        assert list(unstored.scalars()) == ["c-after"]
    upgrade(engine)
    assert lines() == got
