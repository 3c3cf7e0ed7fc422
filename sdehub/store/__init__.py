"""Persistence: SQLAlchemy Core tables, Alembic migrations, and one module of queries per noun.

Every query function takes the connection and the ``account_id`` it is scoped to; nothing here
reads another account's rows. :class:`~sdehub.store.database.Database` runs them: writes on one
writer thread with group commit, reads on a small reader pool.
"""

from sdehub.store.database import Database, sqlite_url

__all__ = ["Database", "sqlite_url"]
