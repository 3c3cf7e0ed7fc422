"""INSERT ... ON CONFLICT DO UPDATE for both dialects (SQLite and PostgreSQL share the syntax)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

# One statement per (dialect, table, keys, updated columns): building it (``excluded`` proxies
# every column of the table) costs more than running it, and the set of shapes is small.
_statements: dict[tuple[Any, ...], Any] = {}


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
    columns = tuple(update) if update is not None else tuple(c for c in rows[0] if c not in keys)
    shape = (conn.dialect.name, table, tuple(keys), columns)
    stmt = _statements.get(shape)
    if stmt is None:
        stmt = _statements[shape] = _statement(conn.dialect.name, table, keys, columns)
    conn.execute(stmt, list(rows))


def _statement(
    dialect_name: str, table: sa.Table, keys: Sequence[str], columns: Sequence[str]
) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    if columns:
        return stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in columns}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(keys))
