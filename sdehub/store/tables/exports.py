"""What the Data Access export reads: the WebSession items kept as they are recorded, and the
hourly runs.
"""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import Id, Ms, account_column, metadata

# ``sde_avro_texts``' rows of the hours not moved there yet (the current one, mostly).
sde_avro_pending = sa.Table(
    "sde_avro_pending",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=False,
    ),
    account_column(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("server_ms", Ms, nullable=False),
    sa.Column("avro", sa.Text, nullable=True),
)
sa.Index("ix_sde_avro_pending_hour", sde_avro_pending.c.account_id, sde_avro_pending.c.hour_ms)


# The items of a Data Access WebSession line (``EngagementAttribute``: timestamp and data, as Avro
# JSON text) of the SDEs appended together in a visit (``seq``: the first's), joined with commas;
# NULL when Data Access carries none of their types. Written when they are appended, one row per
# append (a report's SDEs are one row), into ``sde_avro_pending``: in log order, so the writer
# only ever adds to the end of it. Once an hour has closed, the exporter moves its rows here in one
# statement (``exports.cluster_sde_texts``), keyed as an hour's export reads them: the hour's rows
# visit by visit, each visit's in log order, so the export's query aggregates them in one pass
# over contiguous rows instead of Python building each item (docs/benchmarks.md, "Export").
# WITHOUT ROWID on SQLite: the key is the row. (Kept in this order from the first write, every
# report rewrote pages all over the table: a third more of the writer's CPU per report.)
sde_avro_texts = sa.Table(
    "sde_avro_texts",
    metadata,
    account_column(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("server_ms", Ms, nullable=False),
    sa.Column("avro", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("account_id", "hour_ms", "visitor_id", "session_id", "seq"),
    sqlite_with_rowid=False,
)


# A page's item of a Data Access WebSession line (its ``PageView`` as Avro JSON text), kept
# with the page (rewritten when its entry points are): as ``sde_avro_texts``, keyed by the hour
# of its first view, then as the export orders a visit's pages.
page_avro_texts = sa.Table(
    "page_avro_texts",
    metadata,
    account_column(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("first_ms", Ms, nullable=False),
    sa.Column("page_id", Id, nullable=False),
    sa.Column("avro", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint(
        "account_id", "hour_ms", "visitor_id", "session_id", "first_ms", "page_id"
    ),
    sqlite_with_rowid=False,
)


# A goal's item of a Data Access WebSession line (its ``AchievedGoal`` as Avro JSON text), for
# the goals exported (first reaches: duplicates are not achievements), written with the goal; as
# ``sde_avro_texts``, keyed by the hour reached, then as the export orders a visit's goals.
goal_avro_texts = sa.Table(
    "goal_avro_texts",
    metadata,
    account_column(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("reached_ms", Ms, nullable=False),
    sa.Column("id", sa.BigInteger, nullable=False),
    sa.Column("avro", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint(
        "account_id", "hour_ms", "visitor_id", "session_id", "reached_ms", "id"
    ),
    sqlite_with_rowid=False,
)


# A message's item of a Data Access Engagement line's transcript (``avrotext.transcript_item``:
# ContentEvents and RichContentEvents only), written with the message (``transcripts.add_item``)
# so the export's query joins a conversation's items instead of Python reading every message and
# writing its item (docs/benchmarks.md, "Export"). Keyed as the messages are; conversation ids
# begin with their creation time, so rows are appended at the end. ``consumer``: not by an agent
# (a conversation with one is ``isInteractive``). WITHOUT ROWID on SQLite: the key is the row.
transcript_texts = sa.Table(
    "transcript_texts",
    metadata,
    account_column(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("consumer", sa.Boolean, nullable=False),
    sa.Column("avro", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "sequence"),
    sqlite_with_rowid=False,
)


# A closed conversation's Data Access Engagement line, written when it closes
# (``engagementlines.keep``: a closed conversation takes no more messages, participants or
# changes, so its line is final then), keyed by the time it closed: an hour's file is one range
# of this table, in the file's order, read as it lies (docs/benchmarks.md, "Export"). The line
# holds the conversation's transcript, whose items (``transcript_texts``) are removed then.
# WITHOUT ROWID on SQLite: the key is the row (its text, a few kB, continues on overflow pages).
engagement_lines = sa.Table(
    "engagement_lines",
    metadata,
    account_column(),
    sa.Column("closed_ms", Ms, nullable=False),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("line", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "closed_ms", "conversation_id"),
    sqlite_with_rowid=False,
)

# The conversations that had messages when ``transcript_texts`` was created (migration 0018):
# their earlier messages have no item there, so the export writes their transcripts from the
# messages, as it did before.
transcripts_unstored = sa.Table(
    "transcripts_unstored",
    metadata,
    account_column(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id"),
    sqlite_with_rowid=False,
)


# Data Access: which hours have been written to files (the scheduler's bookkeeping).
export_runs = sa.Table(
    "export_runs",
    metadata,
    account_column(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("done_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "hour_ms"),
)
