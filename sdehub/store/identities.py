"""Consumer identities: the consumer id an account's external identity was given, and giving one.

An identity is a namespace and an id in it: ``ext`` and the brand's own consumer id (the IdP's
``/consumer``), or an id_token's issuer and subject. Like LivePerson's IdP, sdehub assigns the
consumer id the first time it sees an identity and remembers it.

A new consumer's id is 64 lowercase hex digits: 12 of its creation time in milliseconds, then 52
of the identity's hash. New consumers so land at the end of every index keyed by consumer (the
consumers, their conversations, their SDEs and SDE state) and a commit of many CONVERSATIONs
dirties a few pages there instead of one random page per consumer per index, about a quarter of
the writer's work per CONVERSATION (docs/benchmarks.md). The hash part keeps two identities
created in the same millisecond apart.

Before these ids, a consumer id was the identity's hash itself (:func:`identity_key`); such a
consumer keeps its id (and its conversations and SDEs), see :func:`consumer_of`.
"""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Connection

from sdehub.store.sql import Sql, one, run

_TIME_DIGITS = 12  # 48 bits of epoch milliseconds: until the year 10889

_FIND = Sql(
    "SELECT consumer_id FROM consumer_identities"
    " WHERE account_id = :account_id AND identity_key = :identity_key"
)
_LEGACY = Sql(
    "SELECT 1 FROM consumers WHERE account_id = :account_id AND consumer_id = :consumer_id"
)
_ADD = Sql(
    "INSERT INTO consumer_identities (account_id, identity_key, consumer_id, created_ms)"
    " VALUES (:account_id, :identity_key, :consumer_id, :created_ms)"
    " ON CONFLICT (account_id, identity_key) DO NOTHING"
)


def identity_key(account: str, namespace: str, external_id: str) -> str:
    """The identity's 64-hex hash: its key here, and the consumer id it had before ids were
    allocated."""
    return hashlib.sha256(f"{account}\x00{namespace}\x00{external_id}".encode()).hexdigest()


def new_consumer_id(key: str, now_ms: int) -> str:
    """The id of a consumer created at ``now_ms`` for the identity of ``key``."""
    return f"{now_ms % (1 << 48):0{_TIME_DIGITS}x}{key[: 64 - _TIME_DIGITS]}"


def find_consumer(
    conn: Connection, account_id: str, namespace: str, external_id: str
) -> str | None:
    """The consumer id this identity was given, if it was given one yet."""
    key = identity_key(account_id, namespace, external_id)
    row = one(conn, _FIND, {"account_id": account_id, "identity_key": key})
    return None if row is None else str(row[0])


def consumer_of(
    conn: Connection, account_id: str, namespace: str, external_id: str, now_ms: int
) -> str:
    """The identity's consumer id, given now (at ``now_ms``) if it has none yet. A consumer
    created before ids were allocated is found by its hashed id and keeps it."""
    key = identity_key(account_id, namespace, external_id)
    params = {"account_id": account_id, "identity_key": key}
    row = one(conn, _FIND, params)
    if row is not None:
        return str(row[0])
    legacy = one(conn, _LEGACY, {"account_id": account_id, "consumer_id": key}) is not None
    consumer_id = key if legacy else new_consumer_id(key, now_ms)
    cursor = run(conn, _ADD, {**params, "consumer_id": consumer_id, "created_ms": now_ms})
    if int(cursor.rowcount) == 1:
        return consumer_id
    # Given one meanwhile (the writer serializes writes; a second writer would land here).
    row = one(conn, _FIND, params)
    assert row is not None
    return str(row[0])
