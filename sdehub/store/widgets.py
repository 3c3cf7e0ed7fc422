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
