"""search: covering indexes for sdeSearch pages and counts

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24

A search finds the SDEs holding its terms, then their conversations, then orders or counts
those: ``ix_sde_attributions_seq`` now carries the conversation id (an SDE's conversations from
the index alone), ``ix_conversations_created`` the conversation id (a page walks conversations
newest first and correlates each with its SDEs from the index alone; the id breaks ties) and
``ix_conversations_id_created`` the start time by id (a conversation found by key is checked
against the ``start`` range without reading the row).
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sde_attributions_seq", table_name="sde_attributions")
    op.create_index(
        "ix_sde_attributions_seq", "sde_attributions", ["account_id", "seq", "conversation_id"]
    )
    op.drop_index("ix_conversations_created", table_name="conversations")
    op.create_index(
        "ix_conversations_created", "conversations", ["account_id", "created_ms", "conversation_id"]
    )
    op.create_index(
        "ix_conversations_id_created",
        "conversations",
        ["account_id", "conversation_id", "created_ms"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_id_created", table_name="conversations")
    op.drop_index("ix_conversations_created", table_name="conversations")
    op.create_index("ix_conversations_created", "conversations", ["account_id", "created_ms"])
    op.drop_index("ix_sde_attributions_seq", table_name="sde_attributions")
    op.create_index("ix_sde_attributions_seq", "sde_attributions", ["account_id", "seq"])
