"""The command line: a thin shell over the library. ``serve`` is the default command."""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

import sdehub
from sdehub.cli_options import load_settings, settings_options, with_services
from sdehub.cli_setup import accounts, agents, apikeys, apps, campaigns, idp, widgets
from sdehub.clock import ManualClock, SystemClock
from sdehub.requestlog import configure_logging
from sdehub.settings import SETTINGS, Settings

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
DEMO_DB = "./sdehub-demo.db"


class DefaultGroup(click.Group):
    """A group that runs ``serve`` when no command is given."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("--help", "--version")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup)
@click.version_option(sdehub.__version__, prog_name="sdehub")
def main() -> None:
    """sdehub: LivePerson's Engagement Attributes APIs on one server."""


for group in (accounts, apps, apikeys, agents, idp, campaigns, widgets):
    main.add_command(group)


@main.command()
@click.option("--host", help="Interface to listen on (setting: host).")
@click.option("--port", type=int, help="Port to listen on (setting: port).")
@click.option("--emulator", is_flag=True, default=None, help="Provision unknown ids on first use.")
@settings_options
def serve(
    host: str | None,
    port: int | None,
    emulator: bool | None,
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Serve every LivePerson service this server implements, on one port."""
    settings = load_settings(db, settings_pairs, host=host, port=port, emulator=emulator)
    run_server(settings)


def run_server(settings: Settings) -> None:
    import uvicorn

    from sdehub.app import create_app

    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    tune_gc()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc() -> None:
    """A server process holds many long-lived objects: modules and tables from startup, and at
    run time every bound websocket session. CPython's full collections walk them all: with 1,000
    bound sessions a pause of 100-200 ms, the whole p99 of bench/push.py. So what exists at
    startup is frozen out of collection, and young collections run less often (fewer objects
    promoted, so full collections are rarer); cycles are still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8080, show_default=True)
@click.option("--db", default=DEMO_DB, show_default=True, help="Recreated on every start.")
@click.option("--conversations", type=int, default=12, show_default=True)
def demo(host: str, port: int, db: str, conversations: int) -> None:
    """Start from a fresh database with deterministic demo data, in emulator mode."""
    from sdehub.demo import populate

    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)
    settings = load_settings(db, (), host=host, port=port, emulator=True)
    clock = ManualClock(SystemClock().now_ms() - 3 * 3_600_000)
    data = with_services(
        settings, lambda svc: populate(svc, clock, conversations=conversations), clock
    )
    base = f"http://{host}:{port}"
    click.echo(
        demo_banner(
            base,
            data.account_id,
            data.client_id,
            data.client_secret,
            data.agent_login,
            data.agent_password,
            data.conversations[0],
        )
    )
    run_server(settings)


def demo_banner(
    base: str, account: str, client_id: str, secret: str, agent: str, password: str, conv: str
) -> str:
    """The text ``sdehub demo`` prints: URLs and a connector flow ready to paste."""
    from importlib.resources import files

    template = files("sdehub").joinpath("demo_banner.txt").read_text()
    pick = "python3 -c 'import json,sys; print(json.load(sys.stdin){})'"
    return template.format(
        base=base,
        acct=f"{base}/api/account/{account}",
        account=account,
        client_id=client_id,
        secret=secret,
        agent=agent,
        password=password,
        conv=conv,
        pick_token=pick.format('["access_token"]'),
        pick_jws=pick.format('["token"]'),
        pick_conv=pick.format('[1]["body"]["conversationId"]'),
        pick_bearer=pick.format('["bearer"]'),
    )


@main.command()
@settings_options
def migrate(db: str | None, settings_pairs: tuple[tuple[str, str], ...]) -> None:
    """Create or upgrade the database schema, then exit."""
    from sdehub.store import Database

    settings = load_settings(db, settings_pairs)
    database = Database(settings.database_url)
    database.migrate()
    database.engine.dispose()
    click.echo(f"database at {settings.database_url} is up to date")


@main.command(name="settings")
def show_settings() -> None:
    """List every setting, its default and its environment variable."""
    for s in SETTINGS:
        click.echo(f"{s.name:18} SDEHUB_{s.name.upper():20} default {s.default!r}\n    {s.help}")


@main.command()
@click.argument("path")
@click.option("-H", "--header", "headers", multiple=True, help="'Name: value'")
@settings_options
def get(
    path: str,
    headers: tuple[str, ...],
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Make one GET request in process and print the response body (for debugging)."""
    import httpx
    from asgi_lifespan import LifespanManager

    from sdehub.app import create_app

    # One request to look at something: no background export writing files meanwhile.
    settings = load_settings(db, settings_pairs).replace(export_enabled=False)
    header_map = dict(h.split(":", 1) for h in headers)

    async def request() -> httpx.Response:
        app = create_app(settings)
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://sdehub") as c:
                return await c.get(
                    path, headers={k.strip(): v.strip() for k, v in header_map.items()}
                )

    response = asyncio.run(request())
    click.echo(response.text)
    if response.status_code >= 400:
        sys.exit(1)


def parse_time(value: str) -> int:
    """Epoch milliseconds, or an ISO date(-time); without a zone, UTC."""
    from datetime import UTC, datetime

    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither epoch ms nor an ISO date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@main.command(name="export")
@click.option("--from", "from_", required=True, help="First hour: epoch ms or ISO (UTC).")
@click.option("--to", "to", required=True, help="End (exclusive): epoch ms or ISO (UTC).")
@click.option("--account", "account_ids", multiple=True, help="Only this account (repeatable).")
@settings_options
def export(
    from_: str,
    to: str,
    account_ids: tuple[str, ...],
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Write the Data Access files of every hour in [--from, --to), as the server does."""
    from rich.console import Console
    from rich.progress import Progress

    from sdehub.dataaccess.files import HOUR_MS
    from sdehub.dataaccess.scheduler import export_one, hours_between
    from sdehub.store import Database, exports
    from sdehub.store import accounts as store

    settings = load_settings(db, settings_pairs)
    hours = hours_between(parse_time(from_), parse_time(to))
    database = Database(settings.database_url)
    database.migrate()
    try:
        known = [a.account_id for a in database.read_sync(store.list_accounts)]
        chosen = list(account_ids) or known
        unknown = sorted(set(chosen) - set(known))
        if unknown:
            raise click.UsageError(f"no account {', '.join(unknown)}")
        written = 0
        # The bar goes to stderr: stdout stays the one summary line, for scripts.
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("exporting", total=len(hours) * len(chosen))
            for account_id in chosen:
                if hours:  # as the server's exporter: the SDE items in export order first
                    until = hours[-1] + HOUR_MS
                    database.write_sync(
                        functools.partial(
                            exports.cluster_sde_texts, account_id=account_id, before_ms=until
                        )
                    )
                for hour in hours:
                    paths = database.read_sync(
                        functools.partial(export_one, account_id, hour, settings.export_path)
                    )
                    written += len(paths)
                    progress.advance(task)
    finally:
        database.engine.dispose()
    click.echo(f"{written} files for {len(hours)} hours in {settings.export_path}")
