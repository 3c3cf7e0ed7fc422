"""The SDE event log, what belongs to which conversation, the current state per scope, and the
quarantine of rejected payloads.
"""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import JSON, Id, Ms, account_column, metadata

# The append-only SDE log: one row per reported attribute, with its provenance.
sde_events = sa.Table(
    "sde_events",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    account_column(),
    sa.Column("wire_type", sa.String(32), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("authenticated", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("actor", Id, nullable=True),
    sa.Column("consumer_id", Id, nullable=True),
    sa.Column("visitor_id", Id, nullable=True),
    sa.Column("session_id", Id, nullable=True),
    sa.Column("conversation_id", Id, nullable=True),
    sa.Column("original_ms", Ms, nullable=False),
    sa.Column("server_ms", Ms, nullable=False),
    sa.Column("request_id", sa.String(64), nullable=True),
)
sa.Index("ix_sde_events_account", sde_events.c.account_id, sde_events.c.seq)
sa.Index(
    "ix_sde_events_consumer",
    sde_events.c.account_id,
    sde_events.c.consumer_id,
    sde_events.c.server_ms,
)
sa.Index(
    "ix_sde_events_visit",
    sde_events.c.account_id,
    sde_events.c.visitor_id,
    sde_events.c.session_id,
    sde_events.c.server_ms,
)
# The SDE activity report (sdehub.reports) counts an account's events per UTC day, type, source
# and authentication over a range of days: the index holds them in that order, so the database
# reads only the range and counts each group as it passes, with no sort (11x faster than sorting
# the range's events on SQLite, docs/reports.md).
sa.Index(
    "ix_sde_events_day",
    sde_events.c.account_id,
    sa.text("(server_ms / 86400000)"),
    sde_events.c.wire_type,
    sde_events.c.source,
    sde_events.c.authenticated,
)


# Which events belong to which conversation (messaging attribution: from 12 h before the
# conversation starts until 12 h after it closes), decided when either side is written.
sde_attributions = sa.Table(
    "sde_attributions",
    metadata,
    account_column(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "seq"),
)

# Only read by conversation (its events). An index by event served the Messaging Interactions
# search until ``sde_terms`` named the conversation; migration 0016 dropped it.


# Current value of each merge/replace SDE type per scope, maintained with every append.
# Append types have no current value: their entries are the log itself.
sde_state = sa.Table(
    "sde_state",
    metadata,
    account_column(),
    sa.Column("scope_kind", sa.String(16), nullable=False),
    sa.Column("scope_id", sa.String(300), nullable=False),
    sa.Column("wire_type", sa.String(32), nullable=False),
    sa.Column("authenticated", sa.Boolean, nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("meta", JSON, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "scope_kind", "scope_id", "wire_type", "authenticated"),
)


# Payloads that failed validation: kept with their errors, never silently dropped.
quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    account_column(),
    sa.Column("received_ms", Ms, nullable=False),
    sa.Column("api", sa.String(64), nullable=False),
    sa.Column("actor", Id, nullable=True),
    sa.Column("request_id", sa.String(64), nullable=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("content_type", sa.String(128), nullable=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("errors", JSON, nullable=False),
)
sa.Index("ix_quarantine_account", quarantine.c.account_id, quarantine.c.id)
