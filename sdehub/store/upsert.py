"""INSERT ... ON CONFLICT DO UPDATE for both dialects (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def upsert(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    update: Sequence[str] | None = None,
) -> None:
    """Insert rows; where a row with the same ``keys`` exists, overwrite ``update`` columns
    (every non-key column by default; none when ``update`` is empty)."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    columns = list(update) if update is not None else [c for c in rows[0] if c not in keys]
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    conn.execute(stmt, list(rows))
