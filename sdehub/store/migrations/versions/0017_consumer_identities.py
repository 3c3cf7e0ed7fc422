"""consumers: consumer_identities, the consumer id the IdP gave each external identity

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24

A consumer id was a hash of the identity (account, namespace, external id), so each new consumer
landed at a random place in every index keyed by consumer. New consumers now get ids that begin
with their creation time (sdehub.store.identities), which the IdP must remember. Nothing is
backfilled: an identity without a row here whose hash names an existing consumer keeps that id,
found when it next signs in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consumer_identities",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("identity_key", sa.String(length=64), nullable=False),
        sa.Column("consumer_id", sa.String(length=128), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "identity_key"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # The consumers allocated since keep their rows and history, but the IdP below this revision
    # recomputes ids from the identity: their external ids then map to new consumers.
    op.drop_table("consumer_identities")
