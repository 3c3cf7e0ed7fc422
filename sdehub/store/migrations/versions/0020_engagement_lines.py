"""exports: engagement_lines, a closed conversation's Data Access Engagement line

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-25

A conversation's Engagement line is now written when it closes (sdehub.store.engagementlines),
and its transcript items (transcript_texts) are removed then: the line holds them. The hourly
export reads the hour's lines as they lie. The conversations closed before this revision have
none: the export writes theirs from their rows, as before.

Downgrade lists the conversations that have a line in transcripts_unstored (their items are gone;
their messages are all kept, and the export below this revision writes those conversations'
transcripts from their messages), then drops the table.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engagement_lines",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "closed_ms", "conversation_id"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO transcripts_unstored (account_id, conversation_id)"
        " SELECT DISTINCT account_id, conversation_id FROM engagement_lines j WHERE NOT EXISTS"
        " (SELECT 1 FROM transcripts_unstored u WHERE u.account_id = j.account_id"
        " AND u.conversation_id = j.conversation_id)"
    )
    op.drop_table("engagement_lines")
