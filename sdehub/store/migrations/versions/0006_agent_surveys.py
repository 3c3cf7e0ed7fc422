"""agent surveys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_survey_skills",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("skill_id", sa.String(length=128), nullable=False),
        sa.Column("survey_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "skill_id"),
    )
    op.create_table(
        "agent_survey_states",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("survey_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state_revision", sa.Integer(), nullable=False),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "submitted",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("performed_by", sa.String(length=128), nullable=True),
        sa.Column("last_action_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id"),
    )
    op.create_table(
        "agent_surveys",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("survey_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column(
            "document",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "survey_id"),
    )


def downgrade() -> None:
    op.drop_table("agent_surveys")
    op.drop_table("agent_survey_states")
    op.drop_table("agent_survey_skills")
