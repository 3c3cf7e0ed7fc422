"""sde_terms: one row per SDE (its terms packed), not one row per term

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24

One row per term and SDE made recording a conversation's profile SDEs write some 30 rows, each
into its own page of a B-tree ordered by term (docs/benchmarks.md). Now each SDE's terms are one
row keyed by its sequence number, so new rows append. The existing terms are carried over.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SEP = "\x1f"


def _packed_table() -> sa.TableClause:
    return sa.table(
        "sde_terms",
        sa.column("account_id", sa.String),
        sa.column("history_key", sa.String),
        sa.column("seq", sa.BigInteger),
        sa.column("terms", sa.Text),
    )


def _term_table() -> sa.TableClause:
    return sa.table(
        "sde_terms",
        sa.column("account_id", sa.String),
        sa.column("history_key", sa.String),
        sa.column("term", sa.String),
        sa.column("seq", sa.BigInteger),
    )


def upgrade() -> None:
    conn = op.get_bind()
    grouped: dict[tuple[str, str, int], list[str]] = defaultdict(list)
    for account_id, key, term, seq in conn.execute(
        sa.text("SELECT account_id, history_key, term, seq FROM sde_terms")
    ):
        grouped[(account_id, key, seq)].append(term)
    op.drop_table("sde_terms")
    op.create_table(
        "sde_terms",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("history_key", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "history_key", "seq"),
        sqlite_with_rowid=False,
    )
    rows = [
        {"account_id": a, "history_key": k, "seq": s, "terms": SEP + SEP.join(sorted(t)) + SEP}
        for (a, k, s), t in grouped.items()
    ]
    if rows:
        op.bulk_insert(_packed_table(), rows)


def downgrade() -> None:
    conn = op.get_bind()
    found = list(conn.execute(sa.text("SELECT account_id, history_key, seq, terms FROM sde_terms")))
    op.drop_table("sde_terms")
    op.create_table(
        "sde_terms",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("history_key", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "history_key", "term", "seq"),
    )
    rows = [
        {"account_id": a, "history_key": k, "term": t, "seq": s}
        for a, k, s, packed in found
        for t in packed.strip(SEP).split(SEP)
        if t
    ]
    if rows:
        op.bulk_insert(_term_table(), rows)
