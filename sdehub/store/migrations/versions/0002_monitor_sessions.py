"""monitor sessions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_engagements",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("visitor_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("context_id", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.String(length=128), nullable=False),
        sa.Column("engagement_id", sa.String(length=128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.String(length=128), nullable=False),
        sa.Column("offered_ms", sa.BigInteger(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id", "context_id"),
    )
    op.create_table(
        "visit_pages",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("visitor_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("page_id", sa.String(length=128), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column(
            "entry_points",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id", "page_id"),
    )
    op.create_table(
        "visitors",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("visitor_id", sa.String(length=128), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "visitor_id"),
    )
    op.create_table(
        "visits",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("visitor_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("app_id", sa.String(length=128), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("returning_visitor", sa.Boolean(), nullable=False),
        sa.Column("consumer_id", sa.String(length=512), nullable=True),
        sa.Column(
            "identities",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "client_properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("ip_address", sa.String(length=64), nullable=True),
        sa.Column("engagements_offered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "visitor_id", "session_id"),
    )


def downgrade() -> None:
    op.drop_table("visits")
    op.drop_table("visitors")
    op.drop_table("visit_pages")
    op.drop_table("visit_engagements")
