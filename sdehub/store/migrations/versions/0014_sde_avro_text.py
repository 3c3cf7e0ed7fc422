"""exports: sde_avro_texts and page_avro_texts, the WebSession items kept as they are recorded

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24

An SDE reported in a visit, and a page, keep their item of the Data Access WebSession line as
Avro JSON text, keyed as an hour's export reads them (docs/benchmarks.md, "Export"). The rows
already stored get theirs here, written by the same functions the store now calls when it records
one: the export reads only these tables, so an hour recorded before this migration exports as it
did (a fallback for rows without text would have to find them first, with a query over the hour's
events that no index serves).

Downgrade drops the tables: the export before this revision reads the events themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_BATCH = 2_000


def _create(name: str, *columns: sa.Column[Any], key: tuple[str, ...]) -> None:
    op.create_table(
        name,
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("visitor_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint(*key),
        sqlite_with_rowid=False,
    )


def _fill(table: str, query: str, row: Callable[[Any], dict[str, Any]]) -> None:
    bind = op.get_bind()
    found = bind.execute(sa.text(query))
    while batch := found.fetchmany(_BATCH):
        values = [row(r) for r in batch]
        names = list(values[0])
        insert = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
        )
        bind.execute(sa.text(insert), values)


def upgrade() -> None:
    # The store's own row builders: the text is what the export wrote from these rows.
    from sdehub.store.events import avro_text_row
    from sdehub.store.visits import page_text_row

    _create(
        "sde_avro_texts",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("server_ms", sa.BigInteger(), nullable=False),
        sa.Column("avro", sa.Text(), nullable=True),
        key=("account_id", "hour_ms", "visitor_id", "session_id", "seq"),
    )
    _create(
        "page_avro_texts",
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.String(length=128), nullable=False),
        sa.Column("avro", sa.Text(), nullable=False),
        key=("account_id", "hour_ms", "visitor_id", "session_id", "first_ms", "page_id"),
    )
    _fill(
        "sde_avro_texts",
        "SELECT account_id, seq, wire_type, CAST(payload AS TEXT), authenticated, visitor_id,"
        " session_id, server_ms FROM sde_events"
        " WHERE visitor_id IS NOT NULL AND session_id IS NOT NULL",
        lambda r: avro_text_row(*r),
    )
    _fill(
        "page_avro_texts",
        "SELECT account_id, visitor_id, session_id, page_id, first_ms,"
        " CAST(entry_points AS TEXT) FROM visit_pages",
        lambda r: page_text_row(
            {
                "account_id": r[0],
                "visitor_id": r[1],
                "session_id": r[2],
                "page_id": r[3],
                "first_ms": r[4],
                "entry_points": msgspec.json.decode(r[5]),
            }
        ),  # fmt: skip
    )


def downgrade() -> None:
    op.drop_table("page_avro_texts")
    op.drop_table("sde_avro_texts")
