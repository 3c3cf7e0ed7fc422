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
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from sdehub.clock import ManualClock
from sdehub.settings import Settings
from tests.harness import Harness

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PG_ADMIN_URL = os.environ.get(
    "SDEHUB_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("SDEHUB_TEST_REDIS", "redis://127.0.0.1:6379/0")


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


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis service for the channels tests (it must be running, as PostgreSQL must)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def channels_prefix() -> str:
    """A channel-name prefix of this test's own: other runs and processes share the Redis."""
    return f"sdehub-test-{uuid.uuid4().hex[:12]}:"


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
        n = next(counter)
        db = overrides.pop("db", None) or str(tmp_path / f"app{n}.db")
        # Each app's Data Access files go under the test's own folder, whatever the database.
        overrides.setdefault("export_dir", str(tmp_path / f"app{n}.exports"))
        settings = Settings(db=db, **{"emulator": True, **overrides})
        async with Harness.start(settings, clock) as harness:
            yield harness

    return factory


@pytest.fixture
async def h(make_harness: HarnessFactory) -> AsyncIterator[Harness]:
    """A started emulator-mode app on a fresh SQLite database."""
    async with make_harness() as harness:
        yield harness


class LiveServer:
    """A real ``sdehub serve`` subprocess on a free port."""

    def __init__(self, base: str, db: Path, process: Any, log: Path) -> None:
        self.base = base
        self.db = db
        self.process = process
        self.log = log

    @property
    def host(self) -> str:
        return self.base.removeprefix("http://")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_server(db: Path, *args: str) -> LiveServer:
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    log = db.with_suffix(".log")
    with log.open("ab") as sink:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [sys.executable, "-m", "sdehub", "serve", "--port", str(port), "--db", str(db), *args],
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sdehub serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return LiveServer(base, db, process, log)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("sdehub serve did not become ready within 30 s")


def stop_server(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except Exception:
        server.process.kill()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real emulator-mode server for the session (docs examples, end-to-end tests)."""
    server = start_server(tmp_path_factory.mktemp("live") / "live.db", "--emulator")
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless system Chromium for a browser test module (tests/browser.py). launch() gives it a
    fresh, throw-away user-data dir; each test then takes a context of its own (its own storage
    and cookies). Playwright is imported here, not at the top, so the other tests never load it."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, chromium

    executable = chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
