"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("emulated", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "app_installations",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("client_id", sa.String(length=128), nullable=False),
        sa.Column("secret_hash", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("rate_limit", sa.String(length=64), nullable=True),
        sa.Column("emulated", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "client_id"),
    )
    op.create_table(
        "brand_keys",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("kid", sa.String(length=128), nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=True),
        sa.Column(
            "jwk",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kid"),
    )
    op.create_table(
        "consumers",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("consumer_id", sa.String(length=128), nullable=False),
        sa.Column("ext_consumer_id", sa.String(length=512), nullable=True),
        sa.Column("acr", sa.String(length=16), nullable=False),
        sa.Column(
            "claims",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "profile",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "consumer_id"),
    )
    op.create_table(
        "conversations",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("consumer_id", sa.String(length=128), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.Column("close_reason", sa.String(length=32), nullable=True),
        sa.Column("app_id", sa.String(length=128), nullable=True),
        sa.Column("skill_id", sa.String(length=128), nullable=True),
        sa.Column("campaign_id", sa.String(length=128), nullable=True),
        sa.Column("engagement_id", sa.String(length=128), nullable=True),
        sa.Column("visitor_id", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column(
            "context",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("ttr", sa.String(length=16), nullable=True),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column(
            "client_properties",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.Column("chat_state", sa.String(length=16), nullable=True),
        sa.Column(
            "csat",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("account_id", "conversation_id"),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversations_consumer", ["account_id", "consumer_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_created", ["account_id", "created_ms"], unique=False
        )
        batch_op.create_index(
            "ix_conversations_visit", ["account_id", "visitor_id", "session_id"], unique=False
        )

    op.create_table(
        "dialogs",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("dialog_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("dialog_type", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("closed_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "dialog_id"),
    )
    op.create_table(
        "messages",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("dialog_id", sa.String(length=128), nullable=False),
        sa.Column("participant_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column(
            "event",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("server_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", "sequence"),
    )
    op.create_table(
        "participants",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("participant_id", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("joined_ms", sa.BigInteger(), nullable=False),
        sa.Column("left_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", "participant_id", "role"),
    )
    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("received_ms", sa.BigInteger(), nullable=False),
        sa.Column("api", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "errors",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_quarantine_account", ["account_id", "id"], unique=False)

    op.create_table(
        "sde_attributions",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "conversation_id", "seq"),
    )
    op.create_table(
        "sde_events",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("wire_type", sa.String(length=32), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("authenticated", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("consumer_id", sa.String(length=128), nullable=True),
        sa.Column("visitor_id", sa.String(length=128), nullable=True),
        sa.Column("session_id", sa.String(length=128), nullable=True),
        sa.Column("conversation_id", sa.String(length=128), nullable=True),
        sa.Column("original_ms", sa.BigInteger(), nullable=False),
        sa.Column("server_ms", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("sde_events", schema=None) as batch_op:
        batch_op.create_index("ix_sde_events_account", ["account_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_sde_events_consumer", ["account_id", "consumer_id", "server_ms"], unique=False
        )
        batch_op.create_index(
            "ix_sde_events_visit",
            ["account_id", "visitor_id", "session_id", "server_ms"],
            unique=False,
        )

    op.create_table(
        "sde_state",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("scope_kind", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=300), nullable=False),
        sa.Column("wire_type", sa.String(length=32), nullable=False),
        sa.Column("authenticated", sa.Boolean(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column(
            "meta",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "scope_kind", "scope_id", "wire_type", "authenticated"
        ),
    )
    op.create_table(
        "sessions",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("csrf", sa.String(length=128), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "session_id"),
    )
    op.create_table(
        "signing_keys",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("kid", sa.String(length=128), nullable=False),
        sa.Column("private_pem", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kid"),
    )
    op.create_table(
        "users",
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=128), nullable=False),
        sa.Column("login_name", sa.String(length=256), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("nickname", sa.String(length=256), nullable=True),
        sa.Column("full_name", sa.String(length=256), nullable=True),
        sa.Column("email", sa.String(length=256), nullable=True),
        sa.Column("emulated", sa.Boolean(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "user_id"),
        sa.UniqueConstraint("account_id", "login_name", name="uq_users_login"),
    )


def downgrade() -> None:

    op.drop_table("users")
    op.drop_table("signing_keys")
    op.drop_table("sessions")
    op.drop_table("sde_state")
    with op.batch_alter_table("sde_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sde_events_visit")
        batch_op.drop_index("ix_sde_events_consumer")
        batch_op.drop_index("ix_sde_events_account")

    op.drop_table("sde_events")
    op.drop_table("sde_attributions")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_account")

    op.drop_table("quarantine")
    op.drop_table("participants")
    op.drop_table("messages")
    op.drop_table("dialogs")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_visit")
        batch_op.drop_index("ix_conversations_created")
        batch_op.drop_index("ix_conversations_consumer")

    op.drop_table("conversations")
    op.drop_table("consumers")
    op.drop_table("brand_keys")
    op.drop_table("app_installations")
    op.drop_table("accounts")
