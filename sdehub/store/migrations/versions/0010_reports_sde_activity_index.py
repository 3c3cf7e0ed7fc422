"""reports: the SDE activity report's index by account and day

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_sde_events_day",
        "sde_events",
        ["account_id", sa.text("(server_ms / 86400000)"), "wire_type", "source", "authenticated"],
    )


def downgrade() -> None:
    op.drop_index("ix_sde_events_day", table_name="sde_events")
