"""Consumers and their messaging conversations: dialogs, participants, messages, transfers, and the
agents' skills.
"""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import JSON, Id, Ms, account_column, metadata

consumers = sa.Table(
    "consumers",
    metadata,
    account_column(),
    sa.Column("consumer_id", Id, nullable=False),
    sa.Column("ext_consumer_id", sa.String(512), nullable=True),
    sa.Column("acr", sa.String(16), nullable=False, default="0"),
    sa.Column("claims", JSON, nullable=True),
    sa.Column("profile", JSON, nullable=True),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("updated_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "consumer_id"),
)


# The consumer id the IdP gave each external identity of an account (a brand's consumer id, or
# an id_token's issuer and subject), remembered: ids are allocated in creation order
# (sdehub.store.identities), so they cannot be recomputed from the identity. Keyed by a hash of
# the identity (external ids run to hundreds of characters), the one a consumer id was before.
consumer_identities = sa.Table(
    "consumer_identities",
    metadata,
    account_column(),
    sa.Column("identity_key", sa.String(64), nullable=False),
    sa.Column("consumer_id", Id, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "identity_key"),
    sqlite_with_rowid=False,
)


conversations = sa.Table(
    "conversations",
    metadata,
    account_column(),
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
# The hourly Engagement export reads the conversations closed in its hour (sdehub.store.exports),
# which without this read every conversation of the account, every hour. Partial: an open
# conversation has no entry, so creating one costs nothing here; closing one appends (time
# order), and the id after the time gives the export its order without a sort. Unique (as the
# id alone is) so SQLite knows no two of its entries share a key, and reads the rows joined to
# each in their own index's order rather than sorting them again.
sa.Index(
    "ix_conversations_closed",
    conversations.c.account_id,
    conversations.c.closed_ms,
    conversations.c.conversation_id,
    unique=True,
    sqlite_where=conversations.c.closed_ms.is_not(None),
    postgresql_where=conversations.c.closed_ms.is_not(None),
)


dialogs = sa.Table(
    "dialogs",
    metadata,
    account_column(),
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
    account_column(),
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
    account_column(),
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


# Transfers of a conversation to another skill, numbered per conversation (0, 1, ...).
transfers = sa.Table(
    "transfers",
    metadata,
    account_column(),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("from_agent_id", Id, nullable=False),
    sa.Column("from_skill_id", Id, nullable=True),
    sa.Column("to_skill_id", Id, nullable=True),
    sa.Column("reason", sa.String(512), nullable=True),
    sa.Column("transferred_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "conversation_id", "number"),
)


# An agent's skills (users x catalog skills); the agent workspace queue offers an agent the
# conversations waiting for these skills.
agent_skills = sa.Table(
    "agent_skills",
    metadata,
    account_column(),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("skill_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "user_id", "skill_id"),
)
