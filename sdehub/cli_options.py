"""What the commands share: the ``--db`` / ``--setting`` options, loading settings, and running
library code against a database outside any server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from sdehub.clock import Clock, SystemClock
from sdehub.errors import SdehubError
from sdehub.services import Services
from sdehub.settings import Settings, SettingsError, parse

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def settings_options(func: F) -> F:
    """``--db`` and repeatable ``--setting NAME VALUE`` (any setting of the settings table)."""
    func = click.option(
        "--setting",
        "settings_pairs",
        type=(str, str),
        multiple=True,
        metavar="NAME VALUE",
        help="Set any setting (see `sdehub settings`).",
    )(func)
    func = click.option("--db", help="SQLite file or database URL (setting: db).")(func)
    return func


def load_settings(db: str | None, pairs: tuple[tuple[str, str], ...], **overrides: Any) -> Settings:
    try:
        values = {name: parse(name, value) for name, value in pairs}
        values.update({k: v for k, v in overrides.items() if v is not None})
        if db is not None:
            values["db"] = db
        return Settings.load(os.environ, **values)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None


def with_services(
    settings: Settings, fn: Callable[[Services], Awaitable[T]], clock: Clock | None = None
) -> T:
    """Run ``fn`` against the database of ``settings`` (migrated), outside any server."""

    async def main() -> T:
        svc = Services.build(settings, clock or SystemClock())
        svc.db.migrate()
        svc.db.start()
        try:
            return await fn(svc)
        except SdehubError as exc:
            raise click.ClickException(exc.message) from None
        finally:
            await svc.db.close()

    return asyncio.run(main())
