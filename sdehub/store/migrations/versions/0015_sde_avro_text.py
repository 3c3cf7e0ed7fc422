"""exports: sde_avro_texts (and _pending), page_avro_texts, goal_avro_texts: WebSession items

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24

An SDE reported in a visit, a page and a goal reached (first) keep their item of the Data Access
WebSession line as Avro JSON text, keyed as an hour's export reads them (docs/benchmarks.md,
"Export"; an SDE's go to sde_avro_pending first, sdehub.store.tables.exports says why). The rows
already stored get theirs here, written by the same functions the store now calls when it
records one: the export reads only these tables, so an hour recorded before this
migration exports as it did (a fallback for rows without text would have to find them first, with
a query over the hour's events that no index serves).

Downgrade drops the tables: the export before this revision reads the events themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_BATCH = 2_000
_SDE = ("account_id", "seq", "authenticated", "visitor_id", "session_id", "server_ms")
_PAGE = ("account_id", "visitor_id", "session_id", "page_id", "first_ms")
_GOAL = ("account_id", "id", "visitor_id", "session_id", "goal_id", "goal_type", "campaign_id",
         "engagement_id", "value", "reached_ms")  # fmt: skip


def loads(text: str | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


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
    from sdehub.store.catalogs import goal_text_row
    from sdehub.store.events import avro_text_row
    from sdehub.store.visits import page_text_row

    _create(
        "sde_avro_texts",
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("server_ms", sa.BigInteger(), nullable=False),
        sa.Column("avro", sa.Text(), nullable=True),
        key=("account_id", "hour_ms", "visitor_id", "session_id", "seq"),
    )
    op.create_table(
        "sde_avro_pending",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("visitor_id", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=128), nullable=False),
        sa.Column("server_ms", sa.BigInteger(), nullable=False),
        sa.Column("avro", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_sde_avro_pending_hour", "sde_avro_pending", ["account_id", "hour_ms"])
    _create(
        "page_avro_texts",
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("page_id", sa.String(length=128), nullable=False),
        sa.Column("avro", sa.Text(), nullable=False),
        key=("account_id", "hour_ms", "visitor_id", "session_id", "first_ms", "page_id"),
    )
    _create(
        "goal_avro_texts",
        sa.Column("reached_ms", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("avro", sa.Text(), nullable=False),
        key=("account_id", "hour_ms", "visitor_id", "session_id", "reached_ms", "id"),
    )
    _fill(
        "sde_avro_texts",
        f"SELECT {', '.join(_SDE)}, wire_type, CAST(payload AS TEXT) FROM sde_events"
        " WHERE visitor_id IS NOT NULL AND session_id IS NOT NULL",
        lambda r: avro_text_row(dict(zip(_SDE, r, strict=False)), [(r[-2], r[-1])]),
    )
    _fill(
        "page_avro_texts",
        f"SELECT {', '.join(_PAGE)}, CAST(entry_points AS TEXT) FROM visit_pages",
        lambda r: page_text_row(
            {**dict(zip(_PAGE, r, strict=False)), "entry_points": loads(r[-1])}
        ),
    )
    _fill(
        "goal_avro_texts",
        f"SELECT {', '.join(_GOAL)}, CAST(details AS TEXT) FROM goal_events"
        " WHERE duplicate = false",
        lambda r: goal_text_row({**dict(zip(_GOAL, r, strict=False)), "details": loads(r[-1])}),
    )


def downgrade() -> None:
    op.drop_table("goal_avro_texts")
    op.drop_index("ix_sde_avro_pending_hour", table_name="sde_avro_pending")
    op.drop_table("sde_avro_pending")
    op.drop_table("page_avro_texts")
    op.drop_table("sde_avro_texts")
