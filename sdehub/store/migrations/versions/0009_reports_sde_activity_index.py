"""reports: the SDE activity report's covering index

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_sde_events_time",
        "sde_events",
        ["account_id", "server_ms", "wire_type", "source", "authenticated"],
    )


def downgrade() -> None:
    op.drop_index("ix_sde_events_time", table_name="sde_events")
