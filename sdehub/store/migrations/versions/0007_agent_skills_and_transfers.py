"""agent skills and transfers

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_skills",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("skill_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "user_id", "skill_id"),
    )
    op.create_table(
        "transfers",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("from_agent_id", sa.String(length=128), nullable=False),
        sa.Column("from_skill_id", sa.String(length=128), nullable=True),
        sa.Column("to_skill_id", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.String(length=512), nullable=True),
        sa.Column("transferred_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", "number"),
    )


def downgrade() -> None:
    op.drop_table("transfers")
    op.drop_table("agent_skills")
