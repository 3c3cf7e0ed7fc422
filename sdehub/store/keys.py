"""Signing keys (ours, per account) and brand identity-provider keys (theirs, per account)."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import brand_keys, signing_keys
from sdehub.store.upsert import upsert


class SigningKey(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    kid: str
    private_pem: str
    created_ms: int


class BrandKey(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    kid: str
    issuer: str | None
    jwk: dict[str, Any]
    created_ms: int


def signing_keys_of(conn: Connection, account_id: str) -> list[SigningKey]:
    t = signing_keys
    rows = conn.execute(sa.select(t).where(t.c.account_id == account_id).order_by(t.c.created_ms))
    return [SigningKey(**r._mapping) for r in rows]


def add_signing_key(conn: Connection, key: SigningKey) -> None:
    """Store a key unless the account already has one with that kid (first writer wins)."""
    upsert(conn, signing_keys, [msgspec.structs.asdict(key)], keys=("account_id", "kid"), update=())


def put_brand_keys(conn: Connection, keys: list[BrandKey]) -> None:
    for key in keys:
        put_brand_key(conn, key)


def brand_keys_of(conn: Connection, account_id: str) -> list[BrandKey]:
    t = brand_keys
    rows = conn.execute(sa.select(t).where(t.c.account_id == account_id).order_by(t.c.kid))
    return [BrandKey(**r._mapping) for r in rows]


def put_brand_key(conn: Connection, key: BrandKey) -> None:
    upsert(
        conn,
        brand_keys,
        [msgspec.structs.asdict(key)],
        keys=("account_id", "kid"),
        update=("issuer", "jwk"),
    )


def delete_brand_keys(conn: Connection, account_id: str) -> int:
    result = conn.execute(sa.delete(brand_keys).where(brand_keys.c.account_id == account_id))
    return int(result.rowcount)
