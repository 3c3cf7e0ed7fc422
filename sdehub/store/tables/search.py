"""The Messaging Interactions search terms, and the tail of those not moved into the index yet."""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import Id, Ms, account_column, metadata

# The words and adjacent word pairs of each SDE, by its Messaging Interactions key and the
# conversation it is attributed to (one row per term, SDE and conversation), moved here from
# ``sde_terms_pending`` after the SDE is acknowledged: ``sdeSearch`` looks terms up here instead
# of reading payloads (sdehub.model.sdesearch). Keyed by the conversation's start (immutable)
# after the term, so one term's conversations come in the order a page sorts them, within a
# ``start`` range, without reading ``conversations`` (sdehub.store.history); ``seq`` last, so
# the other terms of a match are probed in the same SDE by full key. WITHOUT ROWID on SQLite:
# the key is the row.
sde_terms = sa.Table(
    "sde_terms",
    metadata,
    account_column(),
    sa.Column("history_key", sa.String(32), nullable=False),
    sa.Column("term", sa.String(200), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint(
        "account_id", "history_key", "term", "created_ms", "conversation_id", "seq"
    ),
    sqlite_with_rowid=False,
)


# The SDEs whose terms are not in ``sde_terms`` yet: one row per SDE and conversation it is
# attributed to, its terms packed (sdehub.model.sdesearch.pack), appended in the transaction
# that attributes it and moved to ``sde_terms`` in batches by the writer when it is idle
# (sdehub.store.terms). Searches read both. Keyed like ``sde_terms`` without the term.
sde_terms_pending = sa.Table(
    "sde_terms_pending",
    metadata,
    account_column(),
    sa.Column("history_key", sa.String(32), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("conversation_id", Id, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("terms", sa.Text, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "history_key", "created_ms", "conversation_id", "seq"),
    sqlite_with_rowid=False,
)
