"""The configuration commands: accounts, app installations, API keys, agents, brand identity
providers and campaigns, each a thin shell over the library, run against the database directly."""

from __future__ import annotations

from pathlib import Path

import click

from sdehub.cli_options import load_settings, settings_options, with_services
from sdehub.services import Services
from sdehub.store.accounts import User


@click.group()
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


@click.group()
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


@click.group()
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


@click.group()
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


@click.group()
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


@click.group()
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


@click.group()
def widgets() -> None:
    """Configure the custom widgets of the agent workspace (docs/widgets.md)."""


@widgets.command(name="add")
@click.argument("account_id")
@click.option("--id", "widget_id", help="A stable id; made from --name when omitted.")
@click.option("--name", required=True, help="The title the workspace shows.")
@click.option("--url", required=True, help="The widget page, http:// or https://.")
@click.option(
    "--skill",
    "skills",
    multiple=True,
    help="Show it only for conversations of this skill (repeatable); every skill when omitted.",
)
@settings_options
def widgets_add(
    account_id: str,
    widget_id: str | None,
    name: str,
    url: str,
    skills: tuple[str, ...],
    db: str | None,
    settings_pairs: tuple[tuple[str, str], ...],
) -> None:
    """Add a widget to an account, or replace the one with the same id (a new revision)."""
    import re

    from sdehub.errors import BadRequest
    from sdehub.widgets import Widget

    chosen = widget_id or re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower()[:64]
    widget = Widget(id=chosen, name=name, url=url, skillIds=list(skills))
    settings = load_settings(db, settings_pairs)

    async def add(svc: Services) -> int:
        await svc.accounts.get(account_id)
        try:
            return await svc.widgets.add(account_id, widget, author="cli")
        except BadRequest as exc:
            lines = "\n".join(f"  {e.path}: {e.message}" for e in exc.errors)
            raise click.ClickException(f"the widget is not valid:\n{lines}") from None

    revision = with_services(settings, add)
    click.echo(f"widget {chosen} on account {account_id}: widgets revision {revision}")
