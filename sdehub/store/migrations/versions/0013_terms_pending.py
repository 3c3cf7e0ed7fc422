"""terms: sde_terms_pending, the SDEs whose search terms are not in sde_terms yet

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24

Acknowledging an SDE appends one row here (its terms packed in one string) instead of a row per
term on as many random pages of ``sde_terms``; the writer moves these rows to ``sde_terms`` in
batches when it is idle, and a search reads both (sdehub.store.terms). Keyed like a search reads
it: the rows of one key of one account, or one SDE. WITHOUT ROWID on SQLite: the key is the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sde_terms_pending",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("history_key", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "history_key", "seq"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # The pending SDEs' terms go to sde_terms first, or they would no longer be searchable.
    bind = op.get_bind()
    pending = bind.execute(
        sa.text("SELECT account_id, history_key, seq, terms FROM sde_terms_pending")
    ).all()
    rows = [
        {"account_id": a, "history_key": k, "term": t, "seq": s}
        for a, k, s, packed in pending
        for t in packed.split("\x1f")
        if t
    ]
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO sde_terms (account_id, history_key, term, seq)"
                " VALUES (:account_id, :history_key, :term, :seq) ON CONFLICT DO NOTHING"
            ),
            rows,
        )
    op.drop_table("sde_terms_pending")
