"""search: sde_terms and sde_terms_pending keyed by the conversation each SDE is attributed to

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24

A term's entries were ``(account_id, history_key, term, seq)``, and a search reached their
conversations through ``sde_attributions``: a probe per matching SDE to count 100,000 of them,
and a page of two common words probed every conversation it walked. Now each entry names the
conversation it is attributed to and that conversation's start, after the term
(``created_ms, conversation_id, seq``): one term's conversations come from one range of the
index, in the order a page sorts them and within a ``start`` range (sdehub.store.history).

Both tables are rebuilt from their old rows, one per conversation each SDE is attributed to
(``sde_attributions``, with the start from ``conversations``). An SDE attributed to no
conversation has no rows any more: a search finds conversations, so it could never be found,
and an attribution indexes it again (sdehub.ingest, sdehub.messaging). Going down keeps one row
per term and SDE.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ATTRIBUTED = (
    " JOIN sde_attributions a ON a.account_id = old.account_id AND a.seq = old.seq"
    " JOIN conversations c"
    " ON c.account_id = a.account_id AND c.conversation_id = a.conversation_id"
)


def _set_aside(table: str) -> None:
    """Rename ``table`` to ``<table>_old``, and on PostgreSQL its primary key's index too (a
    schema-wide name the new table's key takes)."""
    op.rename_table(table, f"{table}_old")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER INDEX {table}_pkey RENAME TO {table}_old_pkey")


def _terms(by_conversation: bool) -> None:
    key = ["account_id", "history_key", "term", "seq"]
    columns: list[sa.Column[Any]] = [
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("history_key", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=200), nullable=False),
    ]
    if by_conversation:
        key[3:3] = ["created_ms", "conversation_id"]
        columns += [
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.Column("conversation_id", sa.String(length=128), nullable=False),
        ]
    op.create_table(
        "sde_terms",
        *columns,
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
        sqlite_with_rowid=not by_conversation,
    )


def _pending(by_conversation: bool) -> None:
    key = ["account_id", "history_key", "seq"]
    columns: list[sa.Column[Any]] = [
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("history_key", sa.String(length=32), nullable=False),
    ]
    if by_conversation:
        key[2:2] = ["created_ms", "conversation_id"]
        columns += [
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.Column("conversation_id", sa.String(length=128), nullable=False),
        ]
    op.create_table(
        "sde_terms_pending",
        *columns,
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(*key),
        sqlite_with_rowid=False,
    )


def upgrade() -> None:
    _set_aside("sde_terms")
    _terms(by_conversation=True)
    # In key order: SQLite appends to the new B-tree instead of splitting pages at random.
    op.execute(
        "INSERT INTO sde_terms"
        " (account_id, history_key, term, created_ms, conversation_id, seq)"
        " SELECT old.account_id, old.history_key, old.term, c.created_ms, c.conversation_id,"
        f" old.seq FROM sde_terms_old old{_ATTRIBUTED}"
        " ORDER BY old.account_id, old.history_key, old.term, c.created_ms, c.conversation_id,"
        " old.seq"
    )
    op.drop_table("sde_terms_old")
    _set_aside("sde_terms_pending")
    _pending(by_conversation=True)
    op.execute(
        "INSERT INTO sde_terms_pending"
        " (account_id, history_key, created_ms, conversation_id, seq, terms)"
        " SELECT old.account_id, old.history_key, c.created_ms, c.conversation_id, old.seq,"
        f" old.terms FROM sde_terms_pending_old old{_ATTRIBUTED}"
    )
    op.drop_table("sde_terms_pending_old")


def downgrade() -> None:
    _set_aside("sde_terms")
    _terms(by_conversation=False)
    op.execute(
        "INSERT INTO sde_terms (account_id, history_key, term, seq)"
        " SELECT DISTINCT account_id, history_key, term, seq FROM sde_terms_old"
    )
    op.drop_table("sde_terms_old")
    _set_aside("sde_terms_pending")
    _pending(by_conversation=False)
    # An SDE's packed terms are the same in each of its conversations' rows.
    op.execute(
        "INSERT INTO sde_terms_pending (account_id, history_key, seq, terms)"
        " SELECT account_id, history_key, seq, max(terms) FROM sde_terms_pending_old"
        " GROUP BY account_id, history_key, seq"
    )
    op.drop_table("sde_terms_pending_old")
