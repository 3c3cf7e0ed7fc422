"""Accounts, app installations (client credentials) and users (agents), and their sessions."""

from __future__ import annotations

from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from sdehub.store.tables import accounts, app_installations, sessions, users
from sdehub.store.upsert import upsert


class Account(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    name: str | None
    emulated: bool
    created_ms: int
    allowed_origins: list[str] | None = None


class App(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    client_id: str
    secret_hash: str
    name: str | None
    rate_limit: str | None
    emulated: bool
    created_ms: int


class User(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    user_id: str
    login_name: str
    password_hash: str
    nickname: str | None
    full_name: str | None
    email: str | None
    emulated: bool
    created_ms: int


class Session(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    session_id: str
    user_id: str
    csrf: str
    created_ms: int
    expires_ms: int
    revoked: bool


def _row(cls: type[Any], row: Any) -> Any:
    return cls(**row._mapping)


# --- accounts ------------------------------------------------------------------------------


def get_account(conn: Connection, account_id: str) -> Account | None:
    row = conn.execute(sa.select(accounts).where(accounts.c.account_id == account_id)).first()
    return None if row is None else _row(Account, row)


def add_account(conn: Connection, account: Account) -> None:
    """Create an account; an existing one is left as it is."""
    upsert(conn, accounts, [msgspec.structs.asdict(account)], keys=("account_id",), update=())


def set_allowed_origins(conn: Connection, account_id: str, origins: list[str]) -> None:
    conn.execute(
        sa.update(accounts)
        .where(accounts.c.account_id == account_id)
        .values(allowed_origins=origins)
    )


def list_accounts(conn: Connection) -> list[Account]:
    # The registry itself is the one table not scoped by an account: it lists them.
    return [_row(Account, r) for r in conn.execute(sa.select(accounts).order_by("account_id"))]


# --- app installations ---------------------------------------------------------------------


def get_app(conn: Connection, account_id: str, client_id: str) -> App | None:
    t = app_installations
    row = conn.execute(
        sa.select(t).where(t.c.account_id == account_id, t.c.client_id == client_id)
    ).first()
    return None if row is None else _row(App, row)


def put_app(conn: Connection, app: App) -> None:
    """Create or update an app installation (its secret, name and rate limit)."""
    upsert(
        conn,
        app_installations,
        [msgspec.structs.asdict(app)],
        keys=("account_id", "client_id"),
        update=("secret_hash", "name", "rate_limit"),
    )


def add_app_if_absent(conn: Connection, app: App) -> None:
    upsert(
        conn,
        app_installations,
        [msgspec.structs.asdict(app)],
        keys=("account_id", "client_id"),
        update=(),
    )


def list_apps(conn: Connection, account_id: str) -> list[App]:
    t = app_installations
    q = sa.select(t).where(t.c.account_id == account_id).order_by(t.c.client_id)
    return [_row(App, r) for r in conn.execute(q)]


# --- users ---------------------------------------------------------------------------------


def get_user_by_login(conn: Connection, account_id: str, login_name: str) -> User | None:
    row = conn.execute(
        sa.select(users).where(users.c.account_id == account_id, users.c.login_name == login_name)
    ).first()
    return None if row is None else _row(User, row)


def get_user(conn: Connection, account_id: str, user_id: str) -> User | None:
    row = conn.execute(
        sa.select(users).where(users.c.account_id == account_id, users.c.user_id == user_id)
    ).first()
    return None if row is None else _row(User, row)


def put_user(conn: Connection, user: User) -> None:
    upsert(
        conn,
        users,
        [msgspec.structs.asdict(user)],
        keys=("account_id", "user_id"),
        update=("login_name", "password_hash", "nickname", "full_name", "email"),
    )


def list_users(conn: Connection, account_id: str) -> list[User]:
    q = sa.select(users).where(users.c.account_id == account_id).order_by(users.c.login_name)
    return [_row(User, r) for r in conn.execute(q)]


def next_user_id(conn: Connection, account_id: str, base: int) -> str:
    """Agent ids are numbers (the public model types agentId as a number)."""
    count = conn.execute(
        sa.select(sa.func.count()).select_from(users).where(users.c.account_id == account_id)
    ).scalar_one()
    return str(base + int(count) + 1)


# --- login sessions ------------------------------------------------------------------------


def add_session(conn: Connection, session: Session) -> None:
    conn.execute(sa.insert(sessions).values(**msgspec.structs.asdict(session)))


def get_session(conn: Connection, account_id: str, session_id: str) -> Session | None:
    row = conn.execute(
        sa.select(sessions).where(
            sessions.c.account_id == account_id, sessions.c.session_id == session_id
        )
    ).first()
    return None if row is None else _row(Session, row)


def extend_session(conn: Connection, account_id: str, session_id: str, expires_ms: int) -> None:
    conn.execute(
        sa.update(sessions)
        .where(sessions.c.account_id == account_id, sessions.c.session_id == session_id)
        .values(expires_ms=expires_ms)
    )


def revoke_session(conn: Connection, account_id: str, session_id: str) -> None:
    conn.execute(
        sa.update(sessions)
        .where(sessions.c.account_id == account_id, sessions.c.session_id == session_id)
        .values(revoked=True)
    )
