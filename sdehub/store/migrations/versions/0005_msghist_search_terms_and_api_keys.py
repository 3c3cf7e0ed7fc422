"""msghist search terms and api keys

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

SDEs recorded before this revision have no search terms: sdeSearch finds conversations by the
SDEs recorded from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("consumer_key", sa.String(length=128), nullable=False),
        sa.Column("consumer_secret", sa.String(length=256), nullable=True),
        sa.Column("token", sa.String(length=128), nullable=True),
        sa.Column("token_secret", sa.String(length=256), nullable=True),
        sa.Column("emulated", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "consumer_key"),
    )
    op.create_table(
        "sde_terms",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("history_key", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "history_key", "term", "seq"),
    )
    with op.batch_alter_table("sde_attributions", schema=None) as batch_op:
        batch_op.create_index("ix_sde_attributions_seq", ["account_id", "seq"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sde_attributions", schema=None) as batch_op:
        batch_op.drop_index("ix_sde_attributions_seq")

    op.drop_table("sde_terms")
    op.drop_table("api_keys")
