"""Rejected payloads, kept with their errors and the raw body they arrived as."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import quarantine


class Quarantined(msgspec.Struct, kw_only=True):
    account_id: str
    received_ms: int
    api: str
    status: int
    body: bytes
    errors: list[dict[str, Any]]
    actor: str | None = None
    request_id: str | None = None
    content_type: str | None = None
    id: int | None = None


def add(conn: Connection, item: Quarantined) -> int:
    values = msgspec.structs.asdict(item)
    values.pop("id")
    return int(
        conn.execute(sa.insert(quarantine).values(**values).returning(quarantine.c.id)).scalar_one()
    )


def list_for(
    conn: Connection,
    account_id: str,
    *,
    after_id: int = 0,
    limit: int = 100,
    api: str | None = None,
) -> list[Quarantined]:
    t = quarantine
    q = sa.select(t).where(t.c.account_id == account_id, t.c.id > after_id)
    if api is not None:
        q = q.where(t.c.api == api)
    return [Quarantined(**r._mapping) for r in conn.execute(q.order_by(t.c.id).limit(limit))]


def count_for(conn: Connection, account_id: str) -> int:
    t = quarantine
    q = sa.select(sa.func.count()).select_from(t).where(t.c.account_id == account_id)
    return int(conn.execute(q).scalar_one())
