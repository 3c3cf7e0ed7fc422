"""exports: transcript_texts, a message's Engagement transcript item, and transcripts_unstored

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24

A message of a conversation's transcript now keeps its item of the Data Access Engagement line
as Avro JSON text when it is written (sdehub.store.transcripts), and the export joins a
conversation's items in its query (docs/benchmarks.md, "Export"). The messages already stored
get none: the conversations they belong to are listed in transcripts_unstored, and the export
writes those conversations' transcripts from their messages, as before.

Downgrade drops both tables: the export below this revision reads the messages themselves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transcript_texts",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("consumer", sa.Boolean(), nullable=False),
        sa.Column("avro", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", "sequence"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "transcripts_unstored",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id"),
        sqlite_with_rowid=False,
    )
    # Every conversation with a message so far; the export tells which have transcript lines.
    op.execute(
        "INSERT INTO transcripts_unstored (account_id, conversation_id)"
        " SELECT DISTINCT account_id, conversation_id FROM messages"
    )


def downgrade() -> None:
    op.drop_table("transcripts_unstored")
    op.drop_table("transcript_texts")
