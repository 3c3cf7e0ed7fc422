"""What agents fill in: the agent surveys and their states, the conversation outcomes, and the
workspace widgets.
"""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import JSON, Id, Ms, account_column, metadata

# Agent surveys for messaging (spec/consume.md §4.2): one row per survey, its configuration as a
# validated document; ``revision`` is drawn from one counter per account (the collection's
# ``ac-revision``). Deleted surveys are kept (``deleted``), as LivePerson's account config does.
agent_surveys = sa.Table(
    "agent_surveys",
    metadata,
    account_column(),
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
    account_column(),
    sa.Column("skill_id", Id, nullable=False),
    sa.Column("survey_id", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "skill_id"),
)


# The agent survey of one conversation at runtime (spec/consume.md §4.3): the answers saved or
# submitted, and ``state_revision`` for optimistic concurrency (``x-lp-state-rev``).
agent_survey_states = sa.Table(
    "agent_survey_states",
    metadata,
    account_column(),
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


# Conversation outcomes (spec/consume.md §4.1): which SDE properties agents of which skills may
# report. One validated document per revision; every revision is kept, like the catalog's.
outcome_configs = sa.Table(
    "outcome_configs",
    metadata,
    account_column(),
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
    account_column(),
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
    account_column(),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("document", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("author", sa.String(256), nullable=True),
    sa.PrimaryKeyConstraint("account_id", "revision"),
)
