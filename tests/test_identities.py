"""Consumer identities (sdehub.store.identities), on both backends: the consumer id an external
identity is given once and keeps, in creation order."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Connection

from sdehub.store import Database
from sdehub.store.conversations import Consumer, put_consumer
from sdehub.store.identities import consumer_of, find_consumer, identity_key

HEX64 = re.compile(r"^[0-9a-f]{64}$")
T0 = 1_767_225_600_000


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    try:
        yield database
    finally:
        database.engine.dispose()


@pytest.fixture
def account() -> str:
    return f"ids-{uuid.uuid4().hex[:10]}"  # PostgreSQL's test database is shared


def given(db: Database, account: str, ext: str, now: int, namespace: str = "ext") -> str:
    return db.write_sync(lambda c: consumer_of(c, account, namespace, ext, now))


def test_an_identity_keeps_its_consumer_id(db: Database, db_url: str, account: str) -> None:
    first = given(db, account, "crm-1", T0)
    assert HEX64.match(first)
    assert given(db, account, "crm-1", T0 + 5_000) == first
    assert db.read_sync(lambda c: find_consumer(c, account, "ext", "crm-1")) == first
    # Another server process on the same database: the id was stored, not recomputed.
    again = Database(db_url)
    try:
        assert again.write_sync(lambda c: consumer_of(c, account, "ext", "crm-1", T0 + 9)) == first
    finally:
        again.engine.dispose()


def test_new_consumers_sort_by_creation_time(db: Database, account: str) -> None:
    times = [T0, T0 + 1, T0 + 1, T0 + 60_000, T0 + 86_400_000]
    ids = [given(db, account, f"crm-{i}", t) for i, t in enumerate(times)]
    assert len(set(ids)) == len(ids)  # the same millisecond too
    assert [i[:12] for i in ids] == [f"{t:012x}" for t in times]
    assert sorted(ids[:2]) == ids[:2] and sorted(ids[2:]) == ids[2:]
    assert ids[1] < ids[3] and ids[2] < ids[3]
    # The rest is the identity's hash: nothing of the time, so the id names one identity.
    assert ids[0][12:] == identity_key(account, "ext", "crm-0")[:52]


def test_accounts_and_namespaces_are_apart(db: Database, account: str) -> None:
    other = f"{account}-b"
    mine = given(db, account, "crm-1", T0)
    theirs = given(db, other, "crm-1", T0)
    issuer = given(db, account, "crm-1", T0, namespace="https://idp.brand.example")
    assert len({mine, theirs, issuer}) == 3
    assert db.read_sync(lambda c: find_consumer(c, other, "ext", "crm-1")) == theirs
    assert db.read_sync(lambda c: find_consumer(c, account, "ext", "crm-2")) is None


def legacy_consumer(conn: Connection, account: str, consumer_id: str) -> None:
    put_consumer(
        conn,
        Consumer(
            account_id=account, consumer_id=consumer_id, ext_consumer_id="crm-old", acr="0",
            claims=None, profile={"name": "old"}, created_ms=T0 - 1, updated_ms=T0 - 1,
        ),
        update=(),
    )  # fmt: skip


def test_a_consumer_from_before_keeps_its_hashed_id(db: Database, account: str) -> None:
    legacy = identity_key(account, "ext", "crm-old")  # the id it was given then
    db.write_sync(lambda c: legacy_consumer(c, account, legacy))
    assert given(db, account, "crm-old", T0) == legacy
    assert given(db, account, "crm-old", T0 + 1) == legacy
    # An identity never seen before, though another account has a consumer of its old id.
    assert given(db, f"{account}-b", "crm-old", T0) == new_id(account + "-b", "crm-old", T0)


def new_id(account: str, ext: str, now: int) -> str:
    return f"{now:012x}{identity_key(account, 'ext', ext)[:52]}"
