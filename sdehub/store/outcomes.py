"""Conversation outcomes: the configuration of each account by revision (every revision kept),
and what agents submitted for each conversation."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import outcome_configs, outcome_submissions


class ConfigRevision(msgspec.Struct, kw_only=True):
    account_id: str
    revision: int
    document: dict[str, Any]
    created_ms: int
    author: str | None = None


class Submission(msgspec.Struct, kw_only=True):
    account_id: str
    conversation_id: str
    number: int
    sde: str
    form_values: dict[str, Any]
    agent_id: str
    seq: int
    submitted_ms: int


_c, _s = outcome_configs.c, outcome_submissions.c


def latest_config(conn: Connection, account_id: str) -> ConfigRevision | None:
    q = (
        sa.select(outcome_configs)
        .where(_c.account_id == account_id)
        .order_by(_c.revision.desc())
        .limit(1)
    )
    row = conn.execute(q).first()
    return None if row is None else ConfigRevision(**row._mapping)


def get_config(conn: Connection, account_id: str, revision: int) -> ConfigRevision | None:
    q = sa.select(outcome_configs).where(_c.account_id == account_id, _c.revision == revision)
    row = conn.execute(q).first()
    return None if row is None else ConfigRevision(**row._mapping)


def config_revisions(
    conn: Connection, account_id: str, *, before: int = 2**31 - 1, limit: int = 50
) -> list[ConfigRevision]:
    """Revision history, newest first, without the documents."""
    q = (
        sa.select(_c.account_id, _c.revision, _c.created_ms, _c.author)
        .where(_c.account_id == account_id, _c.revision < before)
        .order_by(_c.revision.desc())
        .limit(limit)
    )
    return [ConfigRevision(**r._mapping, document={}) for r in conn.execute(q)]


def add_config(conn: Connection, config: ConfigRevision) -> None:
    conn.execute(sa.insert(outcome_configs).values(**msgspec.structs.asdict(config)))


def submissions_of(conn: Connection, account_id: str, conversation_id: str) -> list[Submission]:
    q = (
        sa.select(outcome_submissions)
        .where(_s.account_id == account_id, _s.conversation_id == conversation_id)
        .order_by(_s.number)
    )
    return [Submission(**r._mapping) for r in conn.execute(q)]


def add_submission(conn: Connection, submission: Submission) -> None:
    conn.execute(sa.insert(outcome_submissions).values(**msgspec.structs.asdict(submission)))
