"""The Engagement file from the database, on both backends: its reads take a fixed number of
statements however many conversations closed in the hour (no query per conversation), they return
the rows one query per conversation returned, and the export's own rows give the lines the
conversations as mappings give, to the byte, whatever the stored values."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sdehub.dataaccess import avrotext, export, files
from sdehub.store import Database, conversations, engagementlines, exports, tables
from tests.dataaccess_util import check_line
from tests.test_avrotext import scalars

HOUR = files.HOUR_MS
T0 = 1_767_225_600_000  # an hour's start
NS = "com.liveperson.dataaccess"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    yield database
    database.engine.dispose()


def write(conn: sa.Connection, account: str, convs: list[dict[str, Any]]) -> None:
    """Conversations through the store's own writes (the messaging and agent paths' calls).
    ``close``: ``"kept"`` (the default) as they close now, their line kept; ``"unkept"`` as
    they closed before migration 0020 (no line, their items left one by one)."""
    for c in convs:
        conversations.add_conversation(
            conn,
            conversations.Conversation(
                account_id=account, conversation_id=c["id"], consumer_id="cons-1", state="OPEN",
                created_ms=c["created_ms"], skill_id=c.get("skill_id", "11"), campaign_id="61",
                engagement_id=None, visitor_id=c.get("visitor_id"), session_id="s-1",
            ),
        )  # fmt: skip
        for pid, role, joined in c["participants"]:
            conversations.add_participant(
                conn,
                conversations.Participant(
                    account_id=account, conversation_id=c["id"], participant_id=pid, role=role,
                    joined_ms=joined,
                ),
            )  # fmt: skip
        send(conn, account, c, c["messages"])
        closed = c.get("closed_ms")
        if closed is not None:
            reason = c.get("close_reason", "AGENT")
            if c.get("close", "kept") == "unkept":
                conversations.update_conversation(
                    conn, account, c["id"], state="CLOSE", closed_ms=closed, close_reason=reason
                )
                conversations.close_dialogs(conn, account, c["id"], closed)
            else:
                conversations.close(conn, account, c["id"], closed, reason)


def send(conn: sa.Connection, account: str, c: dict[str, Any], messages: list[Any]) -> None:
    for pid, role, kind, dialog, event in messages:
        sequence = conversations.next_sequence(conn, account, c["id"])
        conversations.add_message(
            conn,
            conversations.Message(
                account_id=account, conversation_id=c["id"], sequence=sequence,
                dialog_id=dialog or c["id"], participant_id=pid, role=role, event_type=kind,
                event=event, server_ms=c["created_ms"] + 10 * sequence + 1,
            ),
        )  # fmt: skip


def exported(conn: sa.Connection, account: str, hour_ms: int) -> list[str]:
    """The hour's Engagement lines as the export writes them, as text."""
    return [line.decode() for line in export.engagement_lines(conn, account, hour_ms)]


def closed_one_by_one(conn: sa.Connection, account: str, since: int, until: int) -> list[Any]:
    """The rows as ``conversations_closed_between`` read them before: the conversations, then a
    query for each one's participants and another for its messages. (Participants that joined
    at the same time under the same id were in no set order: by role now.)"""
    c, p, m = tables.conversations.c, tables.participants.c, tables.messages.c
    found = [
        dict(r._mapping)
        for r in conn.execute(
            sa.select(tables.conversations)
            .where(c.account_id == account, c.closed_ms >= since, c.closed_ms < until)
            .order_by(c.closed_ms, c.conversation_id)
        )
    ]
    for conv in found:
        key = conv["conversation_id"]
        conv["participants"] = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(tables.participants)
                .where(p.account_id == account, p.conversation_id == key)
                .order_by(p.joined_ms, p.participant_id, p.role)
            )
        ]
        conv["messages"] = [
            dict(r._mapping)
            for r in conn.execute(
                sa.select(tables.messages)
                .where(m.account_id == account, m.conversation_id == key)
                .order_by(m.sequence)
            )
        ]
    return found


@contextmanager
def statements(conn: sa.Connection) -> Iterator[list[str]]:
    """The statements the driver runs meanwhile, whichever way they are run (SQLAlchemy or
    the driver connection), but the BEGIN of a transaction: SQLite's trace callback; on
    PostgreSQL, libpq's trace of the protocol, where each statement run is a Bind (extended
    protocol) or a Query (simple)."""
    raw: Any = conn.connection.dbapi_connection
    sent: list[str] = []
    if conn.dialect.name == "sqlite":
        raw.set_trace_callback(sent.append)
        try:
            yield sent
        finally:
            raw.set_trace_callback(None)
            sent[:] = [s for s in sent if not s.startswith("BEGIN")]
        return
    from psycopg import pq

    with tempfile.TemporaryFile("w+") as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield sent
        finally:
            raw.pgconn.untrace()  # flushes
            trace.seek(0)
            for line in trace.read().splitlines():
                fields = line.split("\t")
                if fields[0] == "F" and (
                    fields[2] == "Bind" or (fields[2] == "Query" and "BEGIN" not in fields[3])
                ):
                    sent.append(line)


def conversation(n: int, closed_ms: int | None, messages: int = 3) -> dict[str, Any]:
    agent = f"agent-{n % 3}"
    return {
        "id": f"conv-{n:03d}",
        "created_ms": T0 - 1000 + n,
        "closed_ms": closed_ms,
        "participants": [("cons-1", "CONSUMER", T0 - 1000), (agent, "ASSIGNED_AGENT", T0 - 900)],
        "messages": [
            ("cons-1" if k % 2 == 0 else agent, "CONSUMER" if k % 2 == 0 else "ASSIGNED_AGENT",
             "ContentEvent", None, {"type": "ContentEvent", "message": f"line {k}"})
            for k in range(messages)
        ],
    }  # fmt: skip


def test_the_reads_take_a_few_statements_however_many_conversations(db: Database) -> None:
    """Two statements for an hour whose conversations' lines were kept as they closed, five when
    some closed before lines were kept; three for the rows as mappings."""
    account = f"acc-{uuid.uuid4().hex[:8]}"
    other = f"acc-{uuid.uuid4().hex[:8]}"  # same conversation ids, another account
    for n in range(40):
        closed = T0 + n * 1000 if n % 4 else T0 + HOUR + n  # a quarter close the hour after
        how = "unkept" if n % 5 == 1 else "kept"
        db.write_sync(
            lambda conn, n=n, closed=closed, how=how: write(
                conn, account, [{**conversation(n, closed), "close": how}]
            )
        )
        db.write_sync(lambda conn, n=n: write(conn, other, [conversation(n, T0 + n)]))
        if n in (0, 1, 4, 39):
            with db.engine.connect() as conn:
                with statements(conn) as mapped:
                    found = exports.conversations_closed_between(conn, account, T0, T0 + HOUR)
                with statements(conn) as cut:
                    got = exported(conn, account, T0)
                with statements(conn) as nothing:
                    assert exported(conn, account, T0 + 2 * HOUR) == []
                with statements(conn) as one_by_one:  # the counter counts: 1 + 2 per one
                    assert found == closed_one_by_one(conn, account, T0, T0 + HOUR)
                with statements(conn) as kept_only:
                    assert exported(conn, other, T0) != []
            assert len(one_by_one) == 1 + 2 * len(found)
            assert len(mapped) == 3 and len(nothing) == len(kept_only) == 2, (mapped, kept_only)
            assert len(cut) == (2 if n == 0 else 5), cut  # the 1st one's line was not kept
            assert len(got) == len(found) == n - n // 4
            assert got == avrotext.engagement_lines(account, found)
            assert all(len(c["messages"]) == 3 and len(c["participants"]) == 2 for c in found)
    assert len(found) == 30


def test_the_rows_carry_what_their_queries_leave_out(db: Database) -> None:
    """Messages outside the transcript, participants that are not agents, dialogs other than
    the conversation's, another account's rows under the same ids, an open conversation."""
    account, other = f"acc-{uuid.uuid4().hex[:8]}", f"acc-{uuid.uuid4().hex[:8]}"
    rich = {"type": "RichContentEvent", "content": {"type": "vertical", "elements": []}}
    conv = {
        "id": "c-1", "created_ms": T0, "closed_ms": T0 + 500, "visitor_id": 'v"é',
        "participants": [("cons-1", "CONSUMER", T0), ("m-1", "MANAGER", T0 + 3),
                         ("a-1", "ASSIGNED_AGENT", T0 + 3), ("a-1", "READER", T0 + 3)],
        "messages": [
            ("cons-1", "CONSUMER", "ContentEvent", None,
             {"type": "ContentEvent", "contentType": "text/html", "message": "<b>\\x\"</b>\n"}),
            ("cons-1", "CONSUMER", "AcceptStatusEvent", None,
             {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]}),
            ("a-1", "ASSIGNED_AGENT", "RichContentEvent", "d-2", rich),
            ("a-1", "ASSIGNED_AGENT", "ContentEvent", "d-2", {"type": "ContentEvent"}),
        ],
        "close": "unkept",  # closed before 0020: its items are kept one by one
    }  # fmt: skip
    db.write_sync(lambda conn: write(conn, account, [conv, {**conversation(1, None), "id": "c-2"}]))
    db.write_sync(lambda conn: write(conn, other, [{**conv, "messages": conv["messages"][:1]}]))
    with db.engine.connect() as conn:
        found = exports.conversations_closed_between(conn, account, T0, T0 + HOUR)
        assert found == closed_one_by_one(conn, account, T0, T0 + HOUR)
        rows = exports.engagement_rows(conn, account, T0, T0 + HOUR)
        (line,) = exported(conn, account, T0)
    t = tables.transcript_texts.c
    # The conversation as if written before the items were kept: its messages are read.
    unstored = tables.transcripts_unstored
    db.write_sync(
        lambda conn: conn.execute(
            sa.insert(unstored).values(account_id=account, conversation_id="c-1")
        )
    )
    with db.engine.connect() as conn:
        items = conn.execute(
            sa.select(t.sequence).where(t.account_id == account, t.conversation_id == "c-1")
        ).scalars()
        assert list(items) == [0, 2, 3]  # the accept status is no transcript line
        read = exports.engagement_rows(conn, account, T0, T0 + HOUR)
        assert exported(conn, account, T0) == [line]
    assert [c["conversation_id"] for c in found] == ["c-1"]
    assert len(found[0]["messages"]) == 4 and len(found[0]["participants"]) == 4
    assert rows.messages == [] and read.conversations == rows.conversations
    assert [m[1] for m in read.messages] == [0, 2, 3]
    assert [m[2] for m in read.messages] == [None, "d-2", "d-2"]
    assert [a[1] for a in rows.agents] == ["a-1", "a-1", "m-1"]  # joined together: by id, role
    assert [line] == avrotext.engagement_lines(account, found)
    check_line(line)
    record = json.loads(line)["recordCollection"]["array"][0]["body"][f"{NS}.EngagementData"]
    engagement = record["engagements"]["array"][0][f"{NS}.Conversation"]
    texts = [t["text"] for t in engagement["transcripts"]["array"]]
    assert texts == [{"string": '<b>\\x"</b>\n'}, None, None]
    assert [t["dialogId"] for t in engagement["transcripts"]["array"]] == [
        {"string": "c-1"}, {"string": "d-2"}, {"string": "d-2"}
    ]  # fmt: skip
    assert engagement["agentId"] == {"string": "m-1"}


# PostgreSQL's jsonb holds no NUL character.
stored = scalars.filter(lambda v: not (isinstance(v, str) and "\x00" in v))
events = st.fixed_dictionaries(
    {"type": st.just("ContentEvent")},
    optional={
        "message": stored,
        "contentType": st.sampled_from(["text/plain", "hosted/file", "text/html", "x/y"]) | stored,
    },
)
messages = st.lists(
    st.tuples(
        st.sampled_from(["cons-1", "a-1", 'é"2']),
        st.sampled_from(["CONSUMER", "ASSIGNED_AGENT", "MANAGER", "READER", "AGENT"]),
        st.sampled_from(["ContentEvent", "RichContentEvent", "AcceptStatusEvent"]),
        st.sampled_from([None, "d-2", "é\\"]),
        events,
    ),
    max_size=6,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            messages,
            st.lists(
                st.tuples(
                    st.sampled_from(["cons-1", "a-1", "a-2"]),
                    st.sampled_from(["CONSUMER", "ASSIGNED_AGENT", "MANAGER"]),
                    st.integers(0, 3),
                ),
                max_size=3,
                unique_by=lambda p: p[:2],
            ),
            st.integers(-2, 2),  # the hour it closes in, relative to the exported one
            st.sampled_from(["11", None, "x"]),
            st.sampled_from([None, 'v"é']),
            st.sampled_from(["AGENT", "CONSUMER", "TIMEOUT", None]),
            st.sampled_from(["kept", "unkept"]),
        ),
        max_size=5,
    )
)
def test_the_export_rows_give_the_lines_of_the_mappings(db: Database, convs: list[Any]) -> None:
    account = f"acc-{uuid.uuid4().hex[:8]}"
    written = [
        {
            "id": f"c-{n}", "created_ms": T0 - 5, "closed_ms": T0 + hour * HOUR + n,
            "participants": [(pid, role, T0 + joined) for pid, role, joined in participants],
            "messages": msgs, "skill_id": skill, "visitor_id": visitor, "close_reason": reason,
            "close": how,
        }
        for n, (msgs, participants, hour, skill, visitor, reason, how) in enumerate(convs)
    ]  # fmt: skip
    db.write_sync(lambda conn: write(conn, account, written))
    with db.engine.connect() as conn:
        found = exports.conversations_closed_between(conn, account, T0, T0 + HOUR)
        assert found == closed_one_by_one(conn, account, T0, T0 + HOUR)
        got = exported(conn, account, T0)
    assert got == avrotext.engagement_lines(account, found)
    assert len(got) == sum(1 for c in written if T0 <= c["closed_ms"] < T0 + HOUR)
    for line in got:
        check_line(line)


def plan(conn: sa.Connection, sql: str) -> list[str]:
    found = conn.exec_driver_sql(
        "EXPLAIN QUERY PLAN " + sql, {"account_id": "a", "since_ms": T0, "until_ms": T0 + HOUR}
    ).all()
    return [row[-1] for row in found]


def test_the_hours_rows_are_found_by_the_time_their_conversations_closed(
    tmp_path: Any,
) -> None:
    """Every read of the hour starts from ix_conversations_closed's range (not from every
    conversation of the account), then reads each conversation's rows by key. What sorts is
    only the rows within one conversation (a sort of all of them would hold every message's
    event text at once)."""
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'plan.db'}")
    database.migrate()
    by_close = "USING COVERING INDEX ix_conversations_closed (account_id=? AND closed_ms>? AND"
    with database.engine.connect() as conn:
        for query in (
            exports._CLOSED_MESSAGES,
            exports._CLOSED_PARTICIPANTS,
            exports._ENGAGEMENT_AGENTS,
            exports._ENGAGEMENT_MESSAGES,
        ):
            steps = plan(conn, query.sqlite)
            assert steps[0].startswith(f"SEARCH c {by_close}"), steps
            assert all(s.startswith("SEARCH ") for s in steps[1:-1]), steps
            assert steps[-1] == "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY", steps
        # The conversations written before the items were kept: each looked up by key.
        steps = plan(conn, exports._ENGAGEMENT_MESSAGES.sqlite)
        assert [s.split(" ")[:2] for s in steps[:3]] == [["SEARCH", "c"], ["SEARCH", "u"],
                                                         ["SEARCH", "t"]], steps  # fmt: skip
        steps = plan(conn, exports._CLOSED_CONVERSATIONS.sqlite)
        assert steps == [
            "SEARCH conversations USING INDEX ix_conversations_closed"
            " (account_id=? AND closed_ms>? AND closed_ms<?)"
        ], steps
    database.engine.dispose()


def test_the_stored_items_are_joined_in_sequence_order(tmp_path: Any) -> None:
    """SQLite's group_concat joins in the order it reads: the subquery reads one
    conversation's items by their key (its sequence last), with no sort in between."""
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'plan.db'}")
    database.migrate()
    with database.engine.connect() as conn:
        steps = plan(conn, exports._ENGAGEMENT_CONVERSATIONS["sqlite"].sqlite)
    database.engine.dispose()
    key = "SEARCH t USING PRIMARY KEY (account_id=? AND conversation_id=?)"
    assert steps.count(key) == 2, steps  # the items, and whether one is the consumer's
    assert steps[0].startswith("SEARCH c USING INDEX ix_conversations_closed "), steps
    assert not [s for s in steps if "TEMP B-TREE" in s], steps  # ordered in Python


def test_an_hours_kept_lines_are_read_in_the_files_order_with_no_sort(tmp_path: Any) -> None:
    """The lines kept as conversations closed are one range of their key, in the file's order;
    the conversations to check them against come from ix_conversations_closed alone; a closing
    conversation's rows are found by its key."""
    database = Database(f"sqlite+pysqlite:///{tmp_path / 'plan.db'}")
    database.migrate()
    with database.engine.connect() as conn:
        kept = plan(conn, engagementlines._BETWEEN["sqlite"].sqlite)
        ids = plan(conn, exports._CLOSED_IDS.sqlite)
        one = [
            conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + sql.sqlite, {"account_id": "a", "conversation_id": "c"}
            ).all()
            for sql in (exports._ENGAGEMENT_OF_ONE[0]["sqlite"], *exports._ENGAGEMENT_OF_ONE[1:])
        ]
    database.engine.dispose()
    assert kept == [
        "SEARCH engagement_lines USING PRIMARY KEY (account_id=? AND closed_ms>? AND closed_ms<?)"
    ], kept
    assert ids == [
        "SEARCH c USING COVERING INDEX ix_conversations_closed"
        " (account_id=? AND closed_ms>? AND closed_ms<?)"
    ], ids
    by_key = "SEARCH c USING INDEX sqlite_autoindex_conversations_1 (account_id=? AND"
    for steps in one:
        assert steps[0][-1].startswith(by_key), steps
        # (Sorting only its own agents or messages among themselves.)
        rest = [s[-1] for s in steps if s[-1] != "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"]
        assert all(s.startswith(("SEARCH ", "CORRELATED ")) for s in rest), steps


def test_messages_keep_their_items_as_they_are_written(db: Database) -> None:
    """A conversation written now is exported from its stored items: no message is read; the
    items are those of the transcript's messages only, joined in sequence order into one row
    when it closes (a conversation closed before that kept them one by one: same lines)."""
    account, before = f"acc-{uuid.uuid4().hex[:8]}", f"acc-{uuid.uuid4().hex[:8]}"
    rich = {"type": "RichContentEvent", "content": {"type": "vertical", "elements": []}}
    conv = conversation(1, T0 + 5, messages=4)
    conv["messages"].insert(1, ("cons-1", "CONSUMER", "AcceptStatusEvent", None,
                                {"type": "AcceptStatusEvent", "status": "READ",
                                 "sequenceList": [0]}))  # fmt: skip
    conv["messages"].append(("agent-1", "ASSIGNED_AGENT", "RichContentEvent", "d-2", rich))
    silent = {**conversation(2, T0 + 6, messages=0), "messages": [conv["messages"][1]]}
    agents_only = {**conversation(3, T0 + 7, messages=0), "messages": [conv["messages"][2]]}
    written = [conv, silent, agents_only]
    db.write_sync(lambda conn: write(conn, account, written))
    db.write_sync(lambda conn: write(conn, before, [{**c, "close": "unkept"} for c in written]))
    t, k = tables.transcript_texts.c, tables.engagement_lines.c
    with db.engine.connect() as conn:

        def items(of: str) -> list[Any]:
            query = sa.select(t.conversation_id, t.sequence, t.consumer)
            return conn.execute(
                query.where(t.account_id == of).order_by(t.conversation_id, t.sequence)
            ).all()

        def kept(of: str) -> list[Any]:
            query = sa.select(k.closed_ms, k.conversation_id, k.line).where(k.account_id == of)
            return conn.execute(query.order_by(k.closed_ms, k.conversation_id)).all()

        one_by_one, lines = items(before), kept(account)
        assert items(account) == [] and kept(before) == []  # the line holds the items
        rows = exports.engagement_rows(conn, before, T0, T0 + HOUR)
        found = exports.conversations_closed_between(conn, account, T0, T0 + HOUR)
        got = exported(conn, account, T0)
        same = [line.replace(before, account) for line in exported(conn, before, T0)]
    assert same == got == [line for _, _, line in lines]
    assert [tuple(r[:2]) for r in lines] == [(T0 + 5, "conv-001"), (T0 + 6, "conv-002"),
                                             (T0 + 7, "conv-003")]  # fmt: skip
    assert [tuple(r) for r in one_by_one] == [
        ("conv-001", 0, True), ("conv-001", 2, False), ("conv-001", 3, True),
        ("conv-001", 4, False), ("conv-001", 5, False), ("conv-003", 0, False),
    ]  # fmt: skip
    assert rows.messages == []
    assert [(r[0], r[11] is None, bool(r[12])) for r in rows.conversations] == [
        ("conv-001", False, True), ("conv-002", True, False), ("conv-003", False, False),
    ]  # fmt: skip
    assert got == avrotext.engagement_lines(account, found)
    for line in got:
        check_line(line)
    interactive = [
        json.loads(line)["recordCollection"]["array"][0]["body"][f"{NS}.EngagementData"][
            "engagements"
        ]["array"][0][f"{NS}.Conversation"]["isInteractive"]
        for line in got
    ]
    assert interactive == [{"boolean": True}, {"boolean": False}, {"boolean": False}]


@pytest.mark.parametrize(
    "message", [-0.0, 1e16, 12345678901234567890, 1.5, True, [1, "x"], {"a": -0.0}, None, ""]
)
def test_an_item_is_written_from_the_event_as_stored(db: Database, message: Any) -> None:
    """Values that PostgreSQL's jsonb writes its own way: the item is the one the export
    writes from the stored event, on both backends."""
    account = f"acc-{uuid.uuid4().hex[:8]}"
    conv = conversation(1, T0 + 5, messages=1)
    event = {"type": "ContentEvent", "contentType": ["x"], "message": message}
    conv["messages"] = [("cons-1", "CONSUMER", "ContentEvent", None, event)]
    db.write_sync(lambda conn: write(conn, account, [conv]))
    with db.engine.connect() as conn:
        assert exports.engagement_rows(conn, account, T0, T0 + HOUR).messages == []
        found = exports.conversations_closed_between(conn, account, T0, T0 + HOUR)
        got = exported(conn, account, T0)
    assert got == avrotext.engagement_lines(account, found)
    check_line(got[0])


def test_the_lines_are_in_the_order_conversations_closed_then_by_id(db: Database) -> None:
    account = f"acc-{uuid.uuid4().hex[:8]}"
    written = [conversation(1, T0 + 9), conversation(2, T0 + 9), conversation(3, T0 + 1)]
    db.write_sync(lambda conn: write(conn, account, written[::-1]))
    with db.engine.connect() as conn:
        found = exports.conversations_closed_between(conn, account, T0, T0 + HOUR)
        rows = exports.engagement_rows(conn, account, T0, T0 + HOUR)
        got = exported(conn, account, T0)
    assert [r[0] for r in rows.conversations] == ["conv-003", "conv-001", "conv-002"]
    assert got == avrotext.engagement_lines(account, found)
