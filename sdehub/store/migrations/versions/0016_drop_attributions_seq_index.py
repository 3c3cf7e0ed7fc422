"""attributions: drop ix_sde_attributions_seq, which nothing reads any more

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24

The Messaging Interactions search reached an SDE's conversations through this index until the
search terms named their conversation (0014, whose rebuild was its last reader). Every
attribution still paid an entry in it: two per Connector CONVERSATION, on pages spread over the
whole index because an SDE's sequence leads the key.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_sde_attributions_seq", table_name="sde_attributions")


def downgrade() -> None:
    op.create_index(
        "ix_sde_attributions_seq",
        "sde_attributions",
        ["account_id", "seq", "conversation_id"],
        unique=False,
    )
