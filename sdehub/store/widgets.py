"""The custom widgets of an account's agent workspace: one document per revision, every
revision kept (the admin API shows the latest)."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import widget_configs

_w = widget_configs.c


class WidgetRevision(msgspec.Struct, kw_only=True):
    account_id: str
    revision: int
    document: dict[str, Any]
    created_ms: int
    author: str | None = None


def latest(conn: Connection, account_id: str) -> WidgetRevision | None:
    q = (
        sa.select(widget_configs)
        .where(_w.account_id == account_id)
        .order_by(_w.revision.desc())
        .limit(1)
    )
    row = conn.execute(q).first()
    return None if row is None else WidgetRevision(**row._mapping)


def add_revision(conn: Connection, revision: WidgetRevision) -> None:
    conn.execute(sa.insert(widget_configs), [msgspec.structs.asdict(revision)])


def get_revision(conn: Connection, account_id: str, revision: int) -> WidgetRevision | None:
    q = sa.select(widget_configs).where(_w.account_id == account_id, _w.revision == revision)
    row = conn.execute(q).first()
    return None if row is None else WidgetRevision(**row._mapping)


def revisions(
    conn: Connection, account_id: str, *, before: int = 2**31 - 1, limit: int = 50
) -> list[WidgetRevision]:
    """Revision history, newest first, without the documents."""
    q = (
        sa.select(_w.account_id, _w.revision, _w.created_ms, _w.author)
        .where(_w.account_id == account_id, _w.revision < before)
        .order_by(_w.revision.desc())
        .limit(limit)
    )
    return [WidgetRevision(**r._mapping, document={}) for r in conn.execute(q)]
