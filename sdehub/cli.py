"""The command line: a thin shell over the library. ``serve`` is the default command."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

import sdehub
from sdehub.clock import Clock, ManualClock, SystemClock
from sdehub.errors import SdehubError
from sdehub.requestlog import configure_logging
from sdehub.services import Services
from sdehub.settings import SETTINGS, Settings, SettingsError, parse
from sdehub.store.accounts import User

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
DEMO_DB = "./sdehub-demo.db"


class DefaultGroup(click.Group):
    """A group that runs ``serve`` when no command is given."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("--help", "--version")):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


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


@click.group(cls=DefaultGroup)
@click.version_option(sdehub.__version__, prog_name="sdehub")
def main() -> None:
    """sdehub: LivePerson's Engagement Attributes APIs on one server."""


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
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="on",
    )


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


@main.group()
def accounts() -> None:
    """Configure accounts."""


@accounts.command(name="add")
@click.argument("account_id")
@click.option("--name", help="A display name.")
@settings_options
def accounts_add(
    account_id: str, name: str | None, db: str | None, settings_pairs: tuple[tuple[str, str], ...]
) -> None:
    """Add an account (kept as it is when it exists)."""
    from sdehub.accounts import valid_account_id

    if not valid_account_id(account_id):
        raise click.BadParameter(
            "letters, digits, '-' and '_', at most 64", param_hint="ACCOUNT_ID"
        )
    settings = load_settings(db, settings_pairs)
    with_services(settings, lambda svc: svc.accounts.add(account_id, name))
    click.echo(f"account {account_id}")


@accounts.command(name="list")
@settings_options
def accounts_list(db: str | None, settings_pairs: tuple[tuple[str, str], ...]) -> None:
    """List accounts."""
    from sdehub.store import accounts as store

    settings = load_settings(db, settings_pairs)
    rows = with_services(settings, lambda svc: svc.db.read(store.list_accounts))
    for row in rows:
        click.echo(f"{row.account_id}\t{row.name or ''}\t{'emulated' if row.emulated else ''}")


@accounts.command(name="origins")
@click.argument("account_id")
@click.argument("origins", nargs=-1, metavar="[ORIGIN]...")
@click.option("--clear", is_flag=True, help="Allow no origin.")
@settings_options
def accounts_origins(
    account_id: str,
    origins: tuple[str, ...],
    clear: bool,
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Show, or set, the origins whose pages may call the account's Monitoring API (CORS).

    With ORIGINs (https://shop.example), they replace the list; with --clear, it is emptied.
    """
    from sdehub.cors import InvalidOrigin, normalize_origin

    if origins and clear:
        raise click.UsageError("give ORIGINs or --clear, not both")
    for origin in origins:
        try:
            normalize_origin(origin)
        except InvalidOrigin as exc:
            raise click.BadParameter(str(exc), param_hint="ORIGIN") from None
    settings = load_settings(db, settings_pairs)

    async def run(svc: Services) -> list[str]:
        if origins or clear:
            return await svc.accounts.set_origins(account_id, origins)
        account = await svc.accounts.get(account_id)
        return list(account.allowed_origins or [])

    found = with_services(settings, run)
    if not found:
        click.echo(f"account {account_id} allows no origin")
    for origin in found:
        click.echo(origin)


@main.group()
def campaigns() -> None:
    """Configure targeting: skills, goals, campaigns, engagements, visitor profiles ..."""


@campaigns.command(name="import")
@click.argument("account_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--note", help="Kept with the new revision.")
@settings_options
def campaigns_import(
    account_id: str,
    file: Path,
    note: str | None,
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Replace an account's targeting set-up with a YAML or JSON file (a new revision)."""
    import yaml

    try:
        document = yaml.safe_load(file.read_text())
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"not YAML or JSON: {exc}", param_hint="FILE") from None
    from sdehub.campaigns import validated
    from sdehub.errors import BadRequest

    try:
        validated(document)
    except BadRequest as exc:
        lines = "\n".join(f"  {e.path}: {e.message}" for e in exc.errors)
        raise click.ClickException(f"{file} is not a valid catalog:\n{lines}") from None
    settings = load_settings(db, settings_pairs)

    async def run(svc: Services) -> int:
        await svc.accounts.get(account_id)
        return await svc.catalogs.replace(
            account_id, document, author="cli", note=note or f"import {file.name}"
        )

    try:
        revision = with_services(settings, run)
    except click.ClickException as exc:
        raise click.ClickException(f"{file}: {exc.message}") from None
    click.echo(f"account {account_id}: catalog revision {revision}")


@campaigns.command(name="show")
@click.argument("account_id")
@settings_options
def campaigns_show(
    account_id: str, db: str | None, settings_pairs: tuple[tuple[str, str], ...]
) -> None:
    """Print an account's targeting set-up (JSON)."""
    import json

    settings = load_settings(db, settings_pairs)
    latest = with_services(settings, lambda svc: svc.catalogs.latest(account_id))
    if latest is None:
        raise click.ClickException(f"account {account_id} has no targeting set-up")
    click.echo(json.dumps({"revision": latest.revision, "catalog": latest.document}, indent=2))


@main.group()
def apps() -> None:
    """Configure app installations (client credentials)."""


@apps.command(name="add")
@click.argument("account_id")
@click.argument("client_id")
@click.option("--secret", help="The client secret; generated and printed when omitted.")
@click.option("--name", help="A display name.")
@click.option("--rate-limit", help="e.g. '50/second'; the app_rate_limit setting otherwise.")
@settings_options
def apps_add(
    account_id: str,
    client_id: str,
    secret: str | None,
    name: str | None,
    rate_limit: str | None,
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Add or update an app installation of an account."""
    if rate_limit:
        from limits import parse as parse_limit

        try:
            parse_limit(rate_limit)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--rate-limit") from None
    settings = load_settings(db, settings_pairs)
    _, used = with_services(
        settings,
        lambda svc: svc.accounts.put_app(
            account_id, client_id, secret, name=name, rate_limit=rate_limit
        ),
    )
    click.echo(f"app {client_id} on account {account_id}")
    if secret is None:
        click.echo(f"client_secret: {used}  (shown once; only its hash is stored)")


@apps.command(name="list")
@click.argument("account_id")
@settings_options
def apps_list(account_id: str, db: str | None, settings_pairs: tuple[tuple[str, str], ...]) -> None:
    """List an account's app installations (never their secrets)."""
    from sdehub.store import accounts as store

    settings = load_settings(db, settings_pairs)
    rows = with_services(
        settings, lambda svc: svc.db.read(lambda c: store.list_apps(c, account_id))
    )
    for row in rows:
        click.echo(f"{row.client_id}\t{row.name or ''}\t{row.rate_limit or 'default rate'}")


@main.group()
def apikeys() -> None:
    """Configure OAuth 1.0 API keys (Messaging Interactions and other data APIs)."""


@apikeys.command(name="add")
@click.argument("account_id")
@click.option("--key", help="The consumer key; generated when omitted.")
@click.option("--secret", help="The consumer secret; generated when omitted.")
@click.option("--token", help="The access token; generated when omitted.")
@click.option("--token-secret", help="The access token secret; generated when omitted.")
@settings_options
def apikeys_add(
    account_id: str,
    key: str | None,
    secret: str | None,
    token: str | None,
    token_secret: str | None,
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Add an API key to an account, or set the secrets of an existing (e.g. emulated) one."""
    settings = load_settings(db, settings_pairs)
    made = with_services(
        settings,
        lambda svc: svc.apikeys.add(
            account_id,
            consumer_key=key,
            consumer_secret=secret,
            token=token,
            token_secret=token_secret,
        ),
    )
    click.echo(f"api key {made.consumer_key} on account {account_id}")
    # Print what was generated, once: the caller cannot recover it from anywhere else.
    for label, given, value in (
        ("consumer_key", key, made.consumer_key),
        ("consumer_secret", secret, made.consumer_secret),
        ("token", token, made.token),
        ("token_secret", token_secret, made.token_secret),
    ):
        if given is None:
            click.echo(f"{label}: {value}")


@main.group()
def agents() -> None:
    """Configure agents (users who log in to the agent-facing APIs)."""


@agents.command(name="add")
@click.argument("account_id")
@click.argument("login")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=False)
@click.option("--nickname")
@click.option("--email")
@click.option(
    "--skill",
    "skills",
    multiple=True,
    help="A skill id of the account's catalog (repeatable); given, they replace the agent's.",
)
@settings_options
def agents_add(
    account_id: str,
    login: str,
    password: str,
    nickname: str | None,
    email: str | None,
    skills: tuple[str, ...],
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Add or update an agent."""
    settings = load_settings(db, settings_pairs)

    async def add(svc: Services) -> User:
        user = await svc.accounts.put_user(
            account_id, login, password, nickname=nickname, email=email
        )
        if skills:
            await svc.agents.set_skills(account_id, user.user_id, skills)
        return user

    user = with_services(settings, add)
    suffix = f" with skills {', '.join(skills)}" if skills else ""
    click.echo(f"agent {login} (id {user.user_id}) on account {account_id}{suffix}")


@main.group()
def idp() -> None:
    """Register a brand identity provider's public keys (for consumer id_tokens)."""


@idp.command(name="add")
@click.argument("account_id")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--issuer", help="Accept only id_tokens with this iss.")
@settings_options
def idp_add(
    account_id: str,
    key_file: str,
    issuer: str | None,
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Register the keys in KEY_FILE (a PEM public key or a JWKS document)."""
    from sdehub.identity import jwks_from_file
    from sdehub.seed import register_brand_keys

    try:
        keys = jwks_from_file(key_file)
    except (ValueError, KeyError) as exc:
        raise click.BadParameter(
            f"not a PEM public key or JWKS: {exc}", param_hint="KEY_FILE"
        ) from None
    settings = load_settings(db, settings_pairs)

    async def add(svc: Services) -> list[str]:
        await svc.accounts.get(account_id)
        return await register_brand_keys(svc, account_id, keys, issuer)

    kids = with_services(settings, add)
    click.echo(f"registered {', '.join(kids)} for account {account_id}")


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

    from sdehub.dataaccess.scheduler import export_one, hours_between
    from sdehub.store import Database
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
                for hour in hours:
                    paths = database.read_sync(
                        functools.partial(export_one, account_id, hour, settings.export_path)
                    )
                    written += len(paths)
                    progress.advance(task)
    finally:
        database.engine.dispose()
    click.echo(f"{written} files for {len(hours)} hours in {settings.export_path}")
