"""OAuth 1.0 API keys of an account (consumer key and secret, access token and secret)."""

from __future__ import annotations

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import api_keys
from sdehub.store.upsert import upsert


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    consumer_key: str
    consumer_secret: str | None
    token: str | None
    token_secret: str | None
    emulated: bool
    created_ms: int

    def __repr__(self) -> str:  # secrets stay out of logs and tracebacks
        return f"ApiKey({self.account_id!r}, {self.consumer_key!r}, emulated={self.emulated})"


def get_api_key(conn: Connection, account_id: str, consumer_key: str) -> ApiKey | None:
    t = api_keys
    row = conn.execute(
        sa.select(t).where(t.c.account_id == account_id, t.c.consumer_key == consumer_key)
    ).first()
    return None if row is None else ApiKey(**row._mapping)


def list_api_keys(conn: Connection, account_id: str) -> list[ApiKey]:
    t = api_keys
    rows = conn.execute(sa.select(t).where(t.c.account_id == account_id).order_by(t.c.consumer_key))
    return [ApiKey(**r._mapping) for r in rows]


def put_api_key(conn: Connection, key: ApiKey) -> None:
    """Create a key, or replace the secrets of an existing one."""
    upsert(
        conn,
        api_keys,
        [msgspec.structs.asdict(key)],
        keys=("account_id", "consumer_key"),
        update=("consumer_secret", "token", "token_secret", "emulated"),
    )


def add_api_key_if_absent(conn: Connection, key: ApiKey) -> None:
    upsert(
        conn,
        api_keys,
        [msgspec.structs.asdict(key)],
        keys=("account_id", "consumer_key"),
        update=(),
    )
