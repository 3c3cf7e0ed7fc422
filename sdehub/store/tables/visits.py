"""Web visitors and visits (Monitoring API), their pages and engagements, the campaign catalogs and
the goals reached.
"""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import JSON, Id, Ms, account_column, metadata

# Monitoring: a visitor (a browser or an app install) and its monitor sessions ("visits").
visitors = sa.Table(
    "visitors",
    metadata,
    account_column(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("last_ms", Ms, nullable=False),
    sa.Column("visits", sa.Integer, nullable=False, default=0),
    sa.PrimaryKeyConstraint("account_id", "visitor_id"),
)


visits = sa.Table(
    "visits",
    metadata,
    account_column(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("app_id", Id, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("last_ms", Ms, nullable=False),
    sa.Column("expires_ms", Ms, nullable=False),
    sa.Column("returning_visitor", sa.Boolean, nullable=False),
    sa.Column("consumer_id", sa.String(512), nullable=True),
    sa.Column("identities", JSON, nullable=True),
    sa.Column("client_properties", JSON, nullable=True),
    sa.Column("ip_address", sa.String(64), nullable=True),
    sa.Column("engagements_offered", sa.Integer, nullable=False, default=0),
    sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id"),
)


# The pages (or app screens) of a visit, with the entry points (sections, URLs) they reported.
visit_pages = sa.Table(
    "visit_pages",
    metadata,
    account_column(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("page_id", Id, nullable=False),
    sa.Column("first_ms", Ms, nullable=False),
    sa.Column("last_ms", Ms, nullable=False),
    sa.Column("entry_points", JSON, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id", "page_id"),
)


# Engagements offered in a visit: the engagement context an impression event must refer to.
visit_engagements = sa.Table(
    "visit_engagements",
    metadata,
    account_column(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("context_id", Id, nullable=False),
    sa.Column("campaign_id", Id, nullable=False),
    sa.Column("engagement_id", Id, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("page_id", Id, nullable=False),
    sa.Column("offered_ms", Ms, nullable=False),
    sa.Column("details", JSON, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id", "context_id"),
)


# An account's targeting set-up (skills, campaigns, engagements, visitor profiles and
# behaviours, goals) as one validated document per revision; every revision is kept.
catalogs = sa.Table(
    "catalogs",
    metadata,
    account_column(),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("document", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("author", sa.String(256), nullable=True),
    sa.Column("note", sa.String(512), nullable=True),
    sa.PrimaryKeyConstraint("account_id", "revision"),
)


# Goals reached in visits (spec/consume.md §5.3), ready for reports and exports.
goal_events = sa.Table(
    "goal_events",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    account_column(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("goal_id", Id, nullable=False),
    sa.Column("goal_type", sa.String(32), nullable=False),
    sa.Column("campaign_id", Id, nullable=True),
    sa.Column("engagement_id", Id, nullable=True),
    sa.Column("conversation_id", Id, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("currency", sa.String(16), nullable=True),
    sa.Column("dedup_key", sa.String(512), nullable=False),
    sa.Column("duplicate", sa.Boolean, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("reached_ms", Ms, nullable=False),
    sa.Column("details", JSON, nullable=True),
)
sa.Index("ix_goal_events_account", goal_events.c.account_id, goal_events.c.reached_ms)
sa.Index(
    "ix_goal_events_visit",
    goal_events.c.account_id,
    goal_events.c.visitor_id,
    goal_events.c.session_id,
)
