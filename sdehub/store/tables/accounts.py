"""Accounts, their apps, keys, users and API keys."""

from __future__ import annotations

import sqlalchemy as sa

from sdehub.store.tables.base import JSON, Id, Ms, account_column, metadata

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", Id, primary_key=True),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    # Origins whose pages may call the account's Monitoring API (CORS); a JSON list of strings.
    sa.Column("allowed_origins", JSON, nullable=True),
)


app_installations = sa.Table(
    "app_installations",
    metadata,
    account_column(),
    sa.Column("client_id", Id, nullable=False),
    sa.Column("secret_hash", sa.String(256), nullable=False),
    sa.Column("name", sa.String(256), nullable=True),
    sa.Column("rate_limit", sa.String(64), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "client_id"),
)


signing_keys = sa.Table(
    "signing_keys",
    metadata,
    account_column(),
    sa.Column("kid", Id, nullable=False),
    sa.Column("private_pem", sa.Text, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "kid"),
)


# Public keys of the brand's own identity provider, for consumer id_tokens (lp_sdes claims).
brand_keys = sa.Table(
    "brand_keys",
    metadata,
    account_column(),
    sa.Column("kid", Id, nullable=False),
    sa.Column("issuer", sa.String(512), nullable=True),
    sa.Column("jwk", JSON, nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "kid"),
)


users = sa.Table(
    "users",
    metadata,
    account_column(),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("login_name", sa.String(256), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=False),
    sa.Column("nickname", sa.String(256), nullable=True),
    sa.Column("full_name", sa.String(256), nullable=True),
    sa.Column("email", sa.String(256), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "user_id"),
    sa.UniqueConstraint("account_id", "login_name", name="uq_users_login"),
)


# Agent login sessions: the bearer names one; logout revokes it, refresh extends it.
sessions = sa.Table(
    "sessions",
    metadata,
    account_column(),
    sa.Column("session_id", Id, nullable=False),
    sa.Column("user_id", Id, nullable=False),
    sa.Column("csrf", sa.String(128), nullable=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.Column("expires_ms", Ms, nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
    sa.PrimaryKeyConstraint("account_id", "session_id"),
)


# OAuth 1.0 API keys (Messaging Interactions and the other data APIs). HMAC-SHA1 needs the
# plaintext secrets to verify a signature, so they are stored as given and never logged. In
# emulator mode an unknown consumer key is recorded with no secrets (``emulated``) and accepted
# until secrets are configured for it.
api_keys = sa.Table(
    "api_keys",
    metadata,
    account_column(),
    sa.Column("consumer_key", Id, nullable=False),
    sa.Column("consumer_secret", sa.String(256), nullable=True),
    sa.Column("token", Id, nullable=True),
    sa.Column("token_secret", sa.String(256), nullable=True),
    sa.Column("emulated", sa.Boolean, nullable=False, default=False),
    sa.Column("created_ms", Ms, nullable=False),
    sa.PrimaryKeyConstraint("account_id", "consumer_key"),
)
