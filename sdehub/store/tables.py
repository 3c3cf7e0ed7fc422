"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/`` must produce exactly this
(``tests/test_migrations.py`` compares them).

Every table has ``account_id`` leading its key: every query filters by it, and a deployment that
outgrows one PostgreSQL can distribute by tenant. Times are epoch milliseconds (``*_ms``).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
Ms = sa.BigInteger
Id = sa.String(128)


def _account() -> sa.Column[str]:
    return sa.Column("account_id", Id, nullable=False)


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    # Origins whose pages may call the account's Monitoring API (CORS); a JSON list of strings.
    sa.Column("allowed_origins", JSON, nullable=True),
)

app_installations = sa.Table(
    "app_installations",
    metadata,
    _account(),
    sa.Column("client_id", Id, nullable=False),
    sa.Column("secret_hash", sa.String(256), nullable=False),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("rate_limit", sa.String(64), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "client_id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    _account(),
    sa.Column("kid", Id, nullable=False),
    sa.Column("private_pem", sa.Text, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "kid"),
)

# Public keys of the brand's own identity provider, for consumer id_tokens (lp_sdes claims).
brand_keys = sa.Table(
    "brand_keys",
    metadata,
    _account(),
    sa.Column("kid", Id, nullable=False),
    sa.Column("issuer", sa.String(512), nullable=True),
    sa.Column("jwk", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "kid"),
)

users = sa.Table(
    "users",
    metadata,
    _account(),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("login_name", sa.String(256), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("nickname", sa.String(256), nullable=True),
    sa.Column("full_name", sa.String(256), nullable=True),
    sa.Column("email", sa.String(256), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "user_id"),
    sa.UniqueConstraint("account_id", "login_name", name="uq_users_login"),
)

# Agent login sessions: the bearer names one; logout revokes it, refresh extends it.
sessions = sa.Table(
    "sessions",
    metadata,
    _account(),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("csrf", sa.String(128), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("expires_ms", Ms, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.PrimaryKeyConstraint("account_id", "session_id"),
)

consumers = sa.Table(
    "consumers",
    metadata,
    _account(),
    sa.Column("consumer_id", Id, nullable=False),
    sa.Column("ext_consumer_id", sa.String(512), nullable=True),
    sa.Column("acr", sa.String(16), nullable=False, default="0"),
    sa.Column("claims", JSON, nullable=True),
    sa.Column("profile", JSON, nullable=True),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("updated_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "consumer_id"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("consumer_id", Id, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("closed_ms", Ms, nullable=True),
    sa.Column("close_reason", sa.String(32), nullable=True),
    sa.Column("app_id", Id, nullable=True),
    sa.Column("skill_id", Id, nullable=True),
    sa.Column("campaign_id", Id, nullable=True),
    sa.Column("engagement_id", Id, nullable=True),
    sa.Column("visitor_id", Id, nullable=True),
    sa.Column("session_id", Id, nullable=True),
    sa.Column("context", JSON, nullable=True),
    sa.Column("ttr", sa.String(16), nullable=True),
    sa.Column("channel_type", sa.String(16), nullable=False, default="MESSAGING"),
    sa.Column("client_properties", JSON, nullable=True),
    sa.Column("last_sequence", sa.Integer, nullable=False, default=-1),
    sa.Column("chat_state", sa.String(16), nullable=True),
    sa.Column("csat", JSON, nullable=True),
    sa.PrimaryKeyConstraint("account_id", "conversation_id"),
)
sa.Index(
    "ix_conversations_consumer",
    conversations.c.account_id,
    conversations.c.consumer_id,
    conversations.c.state,
)
sa.Index(
    "ix_conversations_visit",
    conversations.c.account_id,
    conversations.c.visitor_id,
    conversations.c.session_id,
)
# Search pages walk conversations newest first; the id makes the walk index-only and breaks ties.
sa.Index(
    "ix_conversations_created",
    conversations.c.account_id,
    conversations.c.created_ms,
    conversations.c.conversation_id,
)
# A conversation found by key (a search's matching SDEs) is checked against the start range here.
sa.Index(
    "ix_conversations_id_created",
    conversations.c.account_id,
    conversations.c.conversation_id,
    conversations.c.created_ms,
)

dialogs = sa.Table(
    "dialogs",
    metadata,
    _account(),
    sa.Column("dialog_id", Id, nullable=False),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("dialog_type", sa.String(32), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("closed_ms", Ms, nullable=True),
    sa.PrimaryKeyConstraint("account_id", "dialog_id"),
)

participants = sa.Table(
    "participants",
    metadata,
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("participant_id", Id, nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("joined_ms", Ms, nullable=False),
    sa.Column("left_ms", Ms, nullable=True),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "participant_id", "role"),
)

messages = sa.Table(
    "messages",
    metadata,
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("dialog_id", Id, nullable=False),
    sa.Column("participant_id", Id, nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("event_type", sa.String(32), nullable=False),
    sa.Column("event", JSON, nullable=False),
    sa.Column("server_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "sequence"),
)

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
    _account(),
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
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "seq"),
)

# Only read by conversation (its events). An index by event served the Messaging Interactions
# search until ``sde_terms`` named the conversation; migration 0016 dropped it.

# The words and adjacent word pairs of each SDE, by its Messaging Interactions key and the
# conversation it is attributed to (one row per term, SDE and conversation), moved here from
# ``sde_terms_pending`` after the SDE is acknowledged: ``sdeSearch`` looks terms up here instead
# of reading payloads (sdehub.model.sdesearch). Keyed by the conversation's start (immutable)
# after the term, so one term's conversations come in the order a page sorts them, within a
# ``start`` range, without reading ``conversations`` (sdehub.store.history); ``seq`` last, so
# the other terms of a match are probed in the same SDE by full key. WITHOUT ROWID on SQLite:
# the key is the row.
sde_terms = sa.Table(
    "sde_terms",
    metadata,
    _account(),
    sa.Column("history_key", sa.String(32), nullable=False),
    sa.Column("term", sa.String(200), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint(
        "account_id", "history_key", "term", "created_ms", "conversation_id", "seq"
    ),
    sqlite_with_rowid=False,
)

# The SDEs whose terms are not in ``sde_terms`` yet: one row per SDE and conversation it is
# attributed to, its terms packed (sdehub.model.sdesearch.pack), appended in the transaction
# that attributes it and moved to ``sde_terms`` in batches by the writer when it is idle
# (sdehub.store.terms). Searches read both. Keyed like ``sde_terms`` without the term.
sde_terms_pending = sa.Table(
    "sde_terms_pending",
    metadata,
    _account(),
    sa.Column("history_key", sa.String(32), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("terms", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "history_key", "created_ms", "conversation_id", "seq"),
    sqlite_with_rowid=False,
)

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
    _account(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("server_ms", Ms, nullable=False),
    sa.Column("avro", sa.Text, nullable=True),
    sa.PrimaryKeyConstraint("account_id", "hour_ms", "visitor_id", "session_id", "seq"),
    sqlite_with_rowid=False,
)

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
    _account(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("server_ms", Ms, nullable=False),
    sa.Column("avro", sa.Text, nullable=True),
)
sa.Index("ix_sde_avro_pending_hour", sde_avro_pending.c.account_id, sde_avro_pending.c.hour_ms)

# Current value of each merge/replace SDE type per scope, maintained with every append.
# Append types have no current value: their entries are the log itself.
sde_state = sa.Table(
    "sde_state",
    metadata,
    _account(),
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
    _account(),
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

# Monitoring: a visitor (a browser or an app install) and its monitor sessions ("visits").
visitors = sa.Table(
    "visitors",
    metadata,
    _account(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("last_ms", Ms, nullable=False),
    sa.Column("visits", sa.Integer, nullable=False, default=0),
    sa.PrimaryKeyConstraint("account_id", "visitor_id"),
)

visits = sa.Table(
    "visits",
    metadata,
    _account(),
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
    _account(),
    sa.Column("visitor_id", Id, nullable=False),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("page_id", Id, nullable=False),
    sa.Column("first_ms", Ms, nullable=False),
    sa.Column("last_ms", Ms, nullable=False),
    sa.Column("entry_points", JSON, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id", "page_id"),
)

# A page's item of a Data Access WebSession line (its ``PageView`` as Avro JSON text), kept
# with the page (rewritten when its entry points are): as ``sde_avro_texts``, keyed by the hour
# of its first view, then as the export orders a visit's pages.
page_avro_texts = sa.Table(
    "page_avro_texts",
    metadata,
    _account(),
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

# Engagements offered in a visit: the engagement context an impression event must refer to.
visit_engagements = sa.Table(
    "visit_engagements",
    metadata,
    _account(),
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
    _account(),
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
    _account(),
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

# A goal's item of a Data Access WebSession line (its ``AchievedGoal`` as Avro JSON text), for
# the goals exported (first reaches: duplicates are not achievements), written with the goal; as
# ``sde_avro_texts``, keyed by the hour reached, then as the export orders a visit's goals.
goal_avro_texts = sa.Table(
    "goal_avro_texts",
    metadata,
    _account(),
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

# OAuth 1.0 API keys (Messaging Interactions and the other data APIs). HMAC-SHA1 needs the
# plaintext secrets to verify a signature, so they are stored as given and never logged. In
# emulator mode an unknown consumer key is recorded with no secrets (``emulated``) and accepted
# until secrets are configured for it.
api_keys = sa.Table(
    "api_keys",
    metadata,
    _account(),
    sa.Column("consumer_key", Id, nullable=False),
    sa.Column("consumer_secret", sa.String(256), nullable=True),
    sa.Column("token", Id, nullable=True),
    sa.Column("token_secret", sa.String(256), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "consumer_key"),
)

# Agent surveys for messaging (spec/consume.md §4.2): one row per survey, its configuration as a
# validated document; ``revision`` is drawn from one counter per account (the collection's
# ``ac-revision``). Deleted surveys are kept (``deleted``), as LivePerson's account config does.
agent_surveys = sa.Table(
    "agent_surveys",
    metadata,
    _account(),
    sa.Column("survey_id", sa.BigInteger, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("document", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("updated_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "survey_id"),
)

# A skill is assigned to at most one survey: the key says so.
agent_survey_skills = sa.Table(
    "agent_survey_skills",
    metadata,
    _account(),
    sa.Column("skill_id", Id, nullable=False),
    sa.Column("survey_id", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "skill_id"),
)

# The agent survey of one conversation at runtime (spec/consume.md §4.3): the answers saved or
# submitted, and ``state_revision`` for optimistic concurrency (``x-lp-state-rev``).
agent_survey_states = sa.Table(
    "agent_survey_states",
    metadata,
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("survey_id", sa.BigInteger, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("state_revision", sa.Integer, nullable=False),
    sa.Column("answers", JSON, nullable=False),
    sa.Column("submitted", JSON, nullable=True),
    sa.Column("submissions", sa.Integer, nullable=False),
    sa.Column("performed_by", Id, nullable=True),
    sa.Column("last_action_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id"),
)

# An agent's skills (users x catalog skills); the agent workspace queue offers an agent the
# conversations waiting for these skills.
agent_skills = sa.Table(
    "agent_skills",
    metadata,
    _account(),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("skill_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "user_id", "skill_id"),
)

# Transfers of a conversation to another skill, numbered per conversation (0, 1, ...).
transfers = sa.Table(
    "transfers",
    metadata,
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("from_agent_id", Id, nullable=False),
    sa.Column("from_skill_id", Id, nullable=True),
    sa.Column("to_skill_id", Id, nullable=True),
    sa.Column("reason", sa.String(512), nullable=True),
    sa.Column("transferred_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "number"),
)

# Data Access: which hours have been written to files (the scheduler's bookkeeping).
export_runs = sa.Table(
    "export_runs",
    metadata,
    _account(),
    sa.Column("hour_ms", Ms, nullable=False),
    sa.Column("done_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "hour_ms"),
)

# Conversation outcomes (spec/consume.md §4.1): which SDE properties agents of which skills may
# report. One validated document per revision; every revision is kept, like the catalog's.
outcome_configs = sa.Table(
    "outcome_configs",
    metadata,
    _account(),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("document", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("author", sa.String(256), nullable=True),
    sa.PrimaryKeyConstraint("account_id", "revision"),
)

# What agents submitted for a conversation, numbered per conversation (0, 1, ...); ``seq`` is
# the SDE event the submission was recorded as.
outcome_submissions = sa.Table(
    "outcome_submissions",
    metadata,
    _account(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("sde", sa.String(16), nullable=False),
    sa.Column("form_values", JSON, nullable=False),
    sa.Column("agent_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("submitted_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "number"),
)

# The custom widgets of an account's agent workspace (docs/widgets.md), one validated document
# per revision like the catalog; every revision is kept.
widget_configs = sa.Table(
    "widget_configs",
    metadata,
    _account(),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("document", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("author", sa.String(256), nullable=True),
    sa.PrimaryKeyConstraint("account_id", "revision"),
)
