"""conversation outcomes: configuration revisions and submissions

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "outcome_configs",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("author", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "revision"),
    )
    op.create_table(
        "outcome_submissions",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sde", sa.String(length=16), nullable=False),
        sa.Column("form_values", JSON, nullable=False),
        sa.Column("agent_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("submitted_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("outcome_submissions")
    op.drop_table("outcome_configs")
