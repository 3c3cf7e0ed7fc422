"""Shared fixtures: apps built in process (one fresh database each), a manual clock, PostgreSQL.

Tests isolate by account id as much as by database: every row belongs to an account, so two
tests using different accounts can never see each other's data.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from sdehub.clock import ManualClock
from sdehub.settings import Settings
from tests.harness import Harness

PG_ADMIN_URL = os.environ.get(
    "SDEHUB_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session (the service must be running)."""
    name = f"sdehub_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store-level test runs on both backends: one contract suite."""
    if request.param == "sqlite":
        return f"sqlite+pysqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


HarnessFactory = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def make_harness(tmp_path: Path, clock: ManualClock) -> HarnessFactory:
    """``async with make_harness(emulator=True) as h:`` gives a started app and a client."""
    counter = iter(range(1_000_000))

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Harness]:
        db = overrides.pop("db", None) or str(tmp_path / f"app{next(counter)}.db")
        settings = Settings(db=db, **{"emulator": True, **overrides})
        async with Harness.start(settings, clock) as harness:
            yield harness

    return factory


@pytest.fixture
async def h(make_harness: HarnessFactory) -> AsyncIterator[Harness]:
    """A started emulator-mode app on a fresh SQLite database."""
    async with make_harness() as harness:
        yield harness
