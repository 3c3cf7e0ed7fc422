"""conversations: ix_conversations_closed, the conversations closed in a range

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24

The hourly Engagement export asks for an account's conversations closed in its hour; with no
index on the time closed, every export read all of the account's conversations. Partial (closed
conversations only), so creating a conversation does not pay for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    closed = sa.text("closed_ms IS NOT NULL")
    op.create_index(
        "ix_conversations_closed",
        "conversations",
        ["account_id", "closed_ms", "conversation_id"],
        unique=True,
        sqlite_where=closed,
        postgresql_where=closed,
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_closed", table_name="conversations")
