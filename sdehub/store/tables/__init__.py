"""The schema, as SQLAlchemy Core tables, one module per area. Migrations in ``migrations/`` must
produce exactly this (``tests/test_migrations.py`` compares them).

Every table has ``account_id`` leading its key: every query filters by it, and a deployment that
outgrows one PostgreSQL can distribute by tenant. Times are epoch milliseconds (``*_ms``).
"""

from __future__ import annotations

from sdehub.store.tables.accounts import (
    accounts,
    api_keys,
    app_installations,
    brand_keys,
    sessions,
    signing_keys,
    users,
)
from sdehub.store.tables.agents import (
    agent_survey_skills,
    agent_survey_states,
    agent_surveys,
    outcome_configs,
    outcome_submissions,
    widget_configs,
)
from sdehub.store.tables.base import JSON, Id, Ms, metadata
from sdehub.store.tables.conversations import (
    agent_skills,
    consumer_identities,
    consumers,
    conversations,
    dialogs,
    messages,
    participants,
    transfers,
)
from sdehub.store.tables.exports import (
    engagement_lines,
    export_runs,
    goal_avro_texts,
    page_avro_texts,
    sde_avro_pending,
    sde_avro_texts,
    transcript_texts,
    transcripts_unstored,
)
from sdehub.store.tables.sdes import (
    quarantine,
    sde_attributions,
    sde_events,
    sde_state,
)
from sdehub.store.tables.search import (
    sde_terms,
    sde_terms_pending,
)
from sdehub.store.tables.visits import (
    catalogs,
    goal_events,
    visit_engagements,
    visit_pages,
    visitors,
    visits,
)

__all__ = [
    "JSON",
    "Id",
    "Ms",
    "metadata",
    "accounts",
    "agent_skills",
    "agent_survey_skills",
    "agent_survey_states",
    "agent_surveys",
    "api_keys",
    "app_installations",
    "brand_keys",
    "catalogs",
    "consumer_identities",
    "consumers",
    "conversations",
    "dialogs",
    "engagement_lines",
    "export_runs",
    "goal_avro_texts",
    "goal_events",
    "messages",
    "outcome_configs",
    "outcome_submissions",
    "page_avro_texts",
    "participants",
    "quarantine",
    "sde_attributions",
    "sde_avro_pending",
    "sde_avro_texts",
    "sde_events",
    "sde_state",
    "sde_terms",
    "sde_terms_pending",
    "sessions",
    "signing_keys",
    "transcript_texts",
    "transcripts_unstored",
    "transfers",
    "users",
    "visit_engagements",
    "visit_pages",
    "visitors",
    "visits",
    "widget_configs",
]
