"""The exporter: every closed hour of every account, written once, kept for the retention period.

:func:`pending_hours` decides (pure); :meth:`Exporter.run_once` does one pass; :meth:`Exporter.loop`
is the thin background loop the app's lifespan starts. Files are written from a database reader
thread, so a pass never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import Connection

from sdehub.clock import Clock
from sdehub.dataaccess import files
from sdehub.dataaccess.export import export_hour
from sdehub.store import Database, exports
from sdehub.store import accounts as account_store

log = logging.getLogger("sdehub.dataaccess")
DAY_MS = 24 * files.HOUR_MS
PASS_SECONDS = 60.0


def floor_hour(ms: int) -> int:
    return ms - ms % files.HOUR_MS


def pending_hours(now_ms: int, first_ms: int, retention_ms: int, done: Iterable[int]) -> list[int]:
    """Closed hours from the later of ``first_ms`` and the retention horizon, not yet done."""
    start = floor_hour(max(first_ms, now_ms - retention_ms))
    finished = set(done)
    return [h for h in range(start, floor_hour(now_ms), files.HOUR_MS) if h not in finished]


def export_one(account_id: str, hour: int, root: Path, conn: Connection) -> list[Path]:
    """``export_hour`` with the connection last, for ``Database.read(partial(...))``."""
    return export_hour(conn, account_id, hour, root)


class Exporter:
    def __init__(self, db: Database, clock: Clock, root: Path, *, retention_days: int) -> None:
        self.db = db
        self.clock = clock
        self.root = root
        self.retention_ms = retention_days * DAY_MS
        self._lock = asyncio.Lock()

    async def run_account(self, account_id: str, first_ms: int) -> list[int]:
        now = self.clock.now_ms()
        horizon = now - self.retention_ms
        done = await self.db.read(
            lambda c: exports.exported_hours(c, account_id, floor_hour(horizon), now)
        )
        hours = pending_hours(now, first_ms, self.retention_ms, done)
        if hours:  # the closed hours' SDE items, in the order the export reads them
            await self.db.write(exports.cluster_sde_texts, account_id, floor_hour(now))
        for hour in hours:
            await self.db.read(functools.partial(export_one, account_id, hour, self.root))
        await self.db.write(exports.mark_exported, account_id, hours, now)
        await self.db.write(exports.forget_exported, account_id, floor_hour(horizon))
        await asyncio.to_thread(files.remove_older, self.root, account_id, floor_hour(horizon))
        return hours

    async def run_once(self, only: str | None = None) -> dict[str, list[int]]:
        """One pass over the accounts (or one of them); the hours exported, by account."""
        async with self._lock:
            found = await self.db.read(account_store.list_accounts)
            out = {}
            for account in found:
                if only is None or account.account_id == only:
                    out[account.account_id] = await self.run_account(
                        account.account_id, account.created_ms
                    )
            return out

    async def loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("a Data Access export pass failed; retrying on the next one")
            await asyncio.sleep(PASS_SECONDS)


def hours_between(since_ms: int, until_ms: int) -> list[int]:
    """The hours starting in ``[floor_hour(since_ms), until_ms)``."""
    return list(range(floor_hour(since_ms), until_ms, files.HOUR_MS))
