"""Statements written once as SQL and run on the driver connection directly.

SQLAlchemy Core defines the schema, runs the migrations and the cold queries. The hot paths of
messaging and ingest (a SEND is three statements, a CONVERSATION about fifteen) run here instead:
SQLAlchemy spends 20-30 us of Python to execute even a prebuilt statement, against 2-5 us for
sqlite3 to run the same one (docs/benchmarks.md). The statements are plain SQL that SQLite and
PostgreSQL both accept; the store contract suite runs each of them on both.

Syntax: ``:name`` is a parameter; ``{json:name}`` is a parameter holding JSON text (cast to jsonb
on PostgreSQL); ``{text:column}`` selects a JSON column as text (so both drivers hand back a
string that msgspec decodes straight into a type).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

_PARAM = re.compile(r"(?<![:\w]):(\w+)")
_JSON_IN = re.compile(r"\{json:(\w+)\}")
_TEXT_OUT = re.compile(r"\{text:([\w.]+)\}")

json_text = msgspec.json.Encoder()


def to_json(value: Any) -> str | None:
    return None if value is None else json_text.encode(value).decode()


class Sql:
    """One statement, rendered for each dialect once.

    ``binary``: PostgreSQL sends the results in its binary format. For statements that return
    bytea (the export's text as bytes): in the text format a bytea arrives as hex, twice its
    size, for psycopg to decode (23 ms of an hour's 8 MB of WebSession items, docs/benchmarks.md).
    """

    __slots__ = ("binary", "postgresql", "source", "sqlite")

    def __init__(self, text: str, *, binary: bool = False) -> None:
        self.binary = binary
        self.source = text
        self.sqlite = _TEXT_OUT.sub(r"\1", _JSON_IN.sub(r":\1", text))
        pg = _TEXT_OUT.sub(r"\1::text", _JSON_IN.sub(r"CAST(:\1 AS jsonb)", text))
        self.postgresql = _PARAM.sub(r"%(\1)s", pg)

    def text(self, conn: Connection) -> str:
        return self.postgresql if conn.dialect.name == "postgresql" else self.sqlite


def run(
    conn: Connection,
    sql: Sql | RowSql | AppendSql,
    params: Mapping[str, Any] | Sequence[Any] | None = None,
) -> Any:
    """Execute on the driver connection, inside the transaction SQLAlchemy holds; returns the
    DB-API cursor. Driver errors surface as SQLAlchemy's (``IntegrityError`` ...), as they
    would from ``conn.execute``."""
    # dbapi_connection is the driver's connection itself for both drivers in use (sqlite3,
    # psycopg), and SQLAlchemy hands it over in under half the time of driver_connection.
    raw = conn.connection.dbapi_connection
    assert raw is not None
    text = sql.text(conn)
    try:
        if type(sql) is Sql and sql.binary and conn.dialect.name == "postgresql":
            return raw.execute(text, params or {}, binary=True)
        return raw.execute(text, params or {})
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, text, params, exc) from exc


def run_many(conn: Connection, sql: Sql, params: Sequence[Mapping[str, Any]]) -> None:
    if not params:
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    text = sql.text(conn)
    cursor = raw.cursor()
    try:
        cursor.executemany(text, params)
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _wrapped(conn, text, params, exc) from exc
    finally:
        cursor.close()


def _wrapped(conn: Connection, text: str, params: Any, exc: Exception) -> Exception:
    return sa.exc.DBAPIError.instance(
        text, params, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
    )


def one(conn: Connection, sql: Sql, params: Mapping[str, Any] | None = None) -> Any:
    """The first row, or None."""
    return run(conn, sql, params).fetchone()


def rows(conn: Connection, sql: Sql, params: Mapping[str, Any] | None = None) -> list[Any]:
    return list(run(conn, sql, params).fetchall())


def record(columns: Sequence[str], row: Iterable[Any]) -> dict[str, Any]:
    return dict(zip(columns, row, strict=True))


def from_json(text: str | bytes | None) -> Any:
    return None if text is None else msgspec.json.decode(text)


class TableSql:
    """SELECT / INSERT / upsert statements of one table, generated from its SQLAlchemy
    definition so they can never name a column the schema does not have."""

    def __init__(self, table: Any) -> None:
        self.name: str = table.name
        self.columns: list[str] = [c.name for c in table.columns]
        self.json = frozenset(c.name for c in table.columns if isinstance(c.type, sa.JSON))
        self.bools = frozenset(c.name for c in table.columns if isinstance(c.type, sa.Boolean))

    def _value(self, column: str) -> str:
        return f"{{json:{column}}}" if column in self.json else f":{column}"

    def _select_list(self, columns: Sequence[str] | None = None) -> str:
        chosen = self.columns if columns is None else columns
        return ", ".join(f"{{text:{c}}}" if c in self.json else c for c in chosen)

    def select(self, where: str, tail: str = "", columns: Sequence[str] | None = None) -> Sql:
        return Sql(f"SELECT {self._select_list(columns)} FROM {self.name} WHERE {where} {tail}")

    def insert(self, returning: str | None = None) -> Sql:
        """INSERT of every column (but ``returning``, an identity column it hands back)."""
        tail = f" RETURNING {returning}" if returning else ""
        columns = [c for c in self.columns if not (returning and c == returning)]
        values = ", ".join(self._value(c) for c in columns)
        return Sql(f"INSERT INTO {self.name} ({', '.join(columns)}) VALUES ({values}){tail}")

    def upsert(self, keys: Sequence[str], update: Sequence[str] | None = None) -> Sql:
        """INSERT ... ON CONFLICT (keys) DO UPDATE (every other column by default; nothing
        when ``update`` is empty)."""
        return Sql(f"{self.insert().source}{self.on_conflict(keys, update)}")

    def on_conflict(self, keys: Sequence[str], update: Sequence[str] | None = None) -> str:
        """The ON CONFLICT clause of :meth:`upsert`."""
        changed = [c for c in self.columns if c not in keys] if update is None else list(update)
        if changed:
            assignments = ", ".join(f"{c} = excluded.{c}" for c in changed)
            action = f"DO UPDATE SET {assignments}"
        else:
            action = "DO NOTHING"
        return f" ON CONFLICT ({', '.join(keys)}) {action}"

    def encode(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters for a row: JSON columns serialised."""
        return {k: to_json(v) if k in self.json else v for k, v in values.items()}

    def decode(self, row: Iterable[Any], columns: Sequence[str] | None = None) -> dict[str, Any]:
        out = dict(zip(self.columns if columns is None else columns, row, strict=True))
        for c in self.json.intersection(out):
            out[c] = from_json(out[c])
        for c in self.bools.intersection(out):
            if out[c] is not None:
                out[c] = bool(out[c])
        return out


class RowSql:
    """An INSERT of a struct whose fields are the table's columns, its values bound by position
    in the fields' order (:meth:`params`): sqlite3 binds a 20-column row by position in half the
    time it takes by name (~3 us less), and the messaging hot path inserts several per request.
    ``tail`` follows the VALUES (an ON CONFLICT clause); it takes no parameters."""

    __slots__ = ("_json", "postgresql", "sqlite")

    def __init__(self, table: TableSql, struct: type[msgspec.Struct], tail: str = "") -> None:
        fields = struct.__struct_fields__
        if set(fields) != set(table.columns):
            raise ValueError(f"{struct.__name__} does not hold the columns of {table.name}")
        self._json = tuple(i for i, f in enumerate(fields) if f in table.json)
        head = f"INSERT INTO {table.name} ({', '.join(fields)}) VALUES "
        pg = ("CAST(%s AS jsonb)" if f in table.json else "%s" for f in fields)
        self.sqlite = f"{head}({', '.join('?' for _ in fields)}){tail}"
        self.postgresql = f"{head}({', '.join(pg)}){tail}"

    def text(self, conn: Connection) -> str:
        return self.postgresql if conn.dialect.name == "postgresql" else self.sqlite

    def params(self, record: msgspec.Struct) -> list[Any]:
        """The row's values, JSON columns serialised."""
        values = list(msgspec.structs.astuple(record))
        for i in self._json:
            v = values[i]
            if v is not None:
                values[i] = json_text.encode(v).decode()
        return values


class AppendSql:
    """An INSERT of ``columns`` of a table into a new row whose id the database chooses, its
    values bound by position in ``columns``' order (as :class:`RowSql`: about 1 us less a row
    of a dozen columns than by name). PostgreSQL hands back ``returning`` (the id first, in the
    ``{text:column}`` syntax of :class:`Sql`); SQLite hands back nothing, and the cursor's
    ``lastrowid`` is the new row's id (the rowid of the row the statement inserted): RETURNING
    costs SQLite about 5 us a row, a third of such an INSERT (docs/benchmarks.md)."""

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, table: TableSql, columns: Sequence[str], returning: str) -> None:
        unknown = set(columns) - set(table.columns)
        if unknown:
            raise ValueError(f"{table.name} has no column {sorted(unknown)}")
        head = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
        pg = ", ".join("CAST(%s AS jsonb)" if c in table.json else "%s" for c in columns)
        back = _TEXT_OUT.sub(r"\1::text", returning)
        self.sqlite = f"{head}({', '.join('?' for _ in columns)})"
        self.postgresql = f"{head}({pg}) RETURNING {back}"

    def text(self, conn: Connection) -> str:
        return self.postgresql if conn.dialect.name == "postgresql" else self.sqlite
