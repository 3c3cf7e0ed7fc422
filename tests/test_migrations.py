"""Migrations: on both backends they build exactly ``tables.metadata``, and they go down and up.

PostgreSQL tests get a database of their own (not the session's shared one), since going down to
base drops every table.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection, Engine

from sdehub.store import migrations
from sdehub.store.database import create_engine
from sdehub.store.tables import metadata


@pytest.fixture
def fresh_url(db_url: str) -> Iterator[str]:
    """An empty database on the backend of ``db_url``."""
    if db_url.startswith("sqlite"):
        yield db_url
        return
    name = f"sdehub_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield db_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def engine(fresh_url: str) -> Iterator[Engine]:
    engine = create_engine(fresh_url)
    try:
        yield engine
    finally:
        engine.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as conn:
        migrations.upgrade(conn, revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as conn:
        command.downgrade(migrations.config(conn), revision)


# Indexes on an expression (``tables.py`` says why each exists). SQLAlchemy cannot reflect them
# from SQLite, so there the comparison skips them (with a warning each), and :func:`diff` checks
# their definition in SQLite's own catalog instead.
EXPRESSION_INDEXES = {
    "ix_sde_events_day": "(account_id, (server_ms / 86400000), wire_type, source, authenticated)",
}


def diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    if conn.dialect.name != "sqlite":
        return list(compare_metadata(context, metadata))
    with warnings.catch_warnings():
        for name in EXPRESSION_INDEXES:
            warnings.filterwarnings("ignore", f".*expression-based index '?{name}'?")
        found = list(compare_metadata(context, metadata))
    for name, columns in EXPRESSION_INDEXES.items():
        sql = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
        ).scalar()
        if sql is None or not " ".join(sql.split()).endswith(columns):
            found.append(("expression index", name, sql))
    return found


def user_tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_exactly_the_metadata(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        assert diff(conn) == []
        assert user_tables(conn) == set(metadata.tables)


def test_current_revision_is_head(engine: Engine) -> None:
    with engine.connect() as conn:
        assert migrations.current(conn) is None
    upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
    assert migrations.head() is not None


def test_head_has_a_single_linear_history() -> None:
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrations.config())
    assert len(scripts.get_heads()) == 1
    assert len(scripts.get_bases()) == 1


def test_downgrade_to_base_then_upgrade_again(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    with engine.connect() as conn:
        assert user_tables(conn) == set()
        assert migrations.current(conn) is None
    upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert diff(conn) == []


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(metadata.tables["accounts"]).values(
                account_id="kept", name=None, emulated=False, created_ms=1
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert migrations.current(conn) == migrations.head()
        assert diff(conn) == []
        rows = conn.execute(sa.select(metadata.tables["accounts"].c.account_id)).all()
        assert [r.account_id for r in rows] == ["kept"]


def _terms_pending_revision() -> tuple[str, str]:
    """The migration adding ``sde_terms_pending`` and the one before it (by file name, so a
    renumbering does not break the test)."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(migrations.config())
    (script,) = (s for s in scripts.walk_revisions() if "terms_pending" in (s.path or ""))
    assert isinstance(script.down_revision, str)
    return script.revision, script.down_revision


def test_going_below_the_pending_terms_moves_them_to_the_index(engine: Engine) -> None:
    revision, before = _terms_pending_revision()
    upgrade(engine, revision)
    pending, terms = metadata.tables["sde_terms_pending"], metadata.tables["sde_terms"]
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":  # the key is the row: no rowid beside it
            sql = conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'sde_terms_pending'"
            ).scalar_one()
            assert sql.rstrip().endswith("WITHOUT ROWID")
        conn.execute(
            sa.insert(pending).values(
                account_id="a", history_key="personalInfo", seq=7, terms="\x1fana\x1fana diaz\x1f"
            )
        )
        conn.execute(sa.insert(terms).values(account_id="a", history_key="personalInfo",
                                             term="ana", seq=7))  # fmt: skip
    downgrade(engine, before)
    with engine.connect() as conn:
        assert "sde_terms_pending" not in user_tables(conn)
        moved = conn.execute(sa.select(terms.c.term, terms.c.seq).order_by(terms.c.term)).all()
        assert [tuple(r) for r in moved] == [("ana", 7), ("ana diaz", 7)]
