"""Accounts, app installations and agents: who may call, and emulator-mode provisioning.

Without emulator mode only configured accounts, credentials and agents are accepted. In emulator
mode (``sdehub serve --emulator``, always in ``sdehub demo``) an unknown account id, app
credential or agent login is provisioned on first use and logged, so any LivePerson client works
without set-up. A credential, once it exists, is checked like any other: a wrong secret fails.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from typing import Final

import msgspec
from sqlalchemy.engine import Connection

from sdehub.clock import Clock
from sdehub.cors import normalize_origin
from sdehub.errors import NotFound, Unauthorized
from sdehub.passwords import fingerprint, hash_secret, verify_secret
from sdehub.store import Database
from sdehub.store import accounts as store
from sdehub.store.accounts import Account, App, Session, User

log = logging.getLogger("sdehub.accounts")

AGENT_ID_BASE: Final = 1_000_000_000


class UnknownAccount(NotFound):
    """The account id is not configured (and the server is not an emulator)."""


class UnknownApp(NotFound):
    """The app installation id is not configured on the account (and not an emulator)."""


class BadCredentials(Unauthorized):
    """Unknown client id or wrong secret, or wrong agent user name or password."""


class Accounts:
    def __init__(self, db: Database, clock: Clock, *, emulator: bool) -> None:
        self._db = db
        self._clock = clock
        self.emulator = emulator
        self._accounts: dict[str, Account] = {}
        self._apps: dict[tuple[str, str], App] = {}
        self._verified_secrets: dict[tuple[str, str], str] = {}

    # -- accounts -------------------------------------------------------------------------

    async def get(self, account_id: str) -> Account:
        """The account, provisioning it in emulator mode; :class:`UnknownAccount` otherwise."""
        account = self._accounts.get(account_id)
        if account is not None:
            return account
        account = await self._db.read(lambda c: store.get_account(c, account_id))
        if account is None:
            if not self.emulator or not valid_account_id(account_id):
                raise UnknownAccount(f"account {account_id!r} is not configured on this server")
            account = Account(
                account_id=account_id, name=None, emulated=True, created_ms=self._clock.now_ms()
            )
            await self._db.write(store.add_account, account)
            log.info("emulator: provisioned account %s on first use", account_id)
        self._accounts[account_id] = account
        return account

    async def add(self, account_id: str, name: str | None = None) -> Account:
        account = Account(
            account_id=account_id, name=name, emulated=False, created_ms=self._clock.now_ms()
        )
        await self._db.write(store.add_account, account)
        return await self.get(account_id)

    async def set_origins(self, account_id: str, origins: Sequence[str]) -> list[str]:
        """Replace the origins whose pages may call the account's Monitoring API (CORS);
        each is normalised (:func:`sdehub.cors.normalize_origin` raises on a bad one)."""
        normalized = list(dict.fromkeys(normalize_origin(o) for o in origins))
        await self.get(account_id)
        await self._db.write(store.set_allowed_origins, account_id, normalized)
        self._accounts.pop(account_id, None)
        return normalized

    # -- app installations ----------------------------------------------------------------

    async def app(self, account_id: str, client_id: str) -> App | None:
        key = (account_id, client_id)
        app = self._apps.get(key)
        if app is None:
            app = await self._db.read(lambda c: store.get_app(c, account_id, client_id))
            if app is not None:
                self._apps[key] = app
        return app

    async def installation(self, account_id: str, app_id: str) -> App:
        """An app installation named by id alone (the Monitoring API's only credential),
        provisioned on first use in emulator mode."""
        await self.get(account_id)
        app = await self.app(account_id, app_id)
        if app is not None:
            return app
        if not self.emulator or not valid_account_id(app_id):
            raise UnknownApp(
                f"app installation {app_id!r} is not configured on account {account_id!r}"
            )
        # Known by id alone (the Monitoring API has no secret): one nobody knows.
        return await self._provision_app(account_id, app_id, secrets.token_urlsafe(24))

    async def _provision_app(self, account_id: str, client_id: str, secret: str) -> App:
        """Emulator mode: create an app installation on first use (kept if a concurrent first
        use created it already)."""
        new = App(
            account_id=account_id,
            client_id=client_id,
            secret_hash=await asyncio.to_thread(hash_secret, secret),
            name=None,
            rate_limit=None,
            emulated=True,
            created_ms=self._clock.now_ms(),
        )
        await self._db.write(store.add_app_if_absent, new)
        log.info("emulator: provisioned app installation %s on account %s", client_id, account_id)
        self._apps.pop((account_id, client_id), None)
        app = await self.app(account_id, client_id)
        assert app is not None
        return app

    async def authenticate_app(self, account_id: str, client_id: str, secret: str) -> App:
        """Check client credentials (provisioning unknown ones in emulator mode)."""
        await self.get(account_id)
        app = await self.app(account_id, client_id)
        if app is None:
            if not self.emulator:
                raise BadCredentials("unknown client_id or wrong client_secret")
            app = await self._provision_app(account_id, client_id, secret)
        # PBKDF2 is slow on purpose; remember a secret that verified once for this hash.
        key = (account_id, client_id)
        if self._verified_secrets.get(key) != fingerprint(secret + app.secret_hash):
            if not await asyncio.to_thread(verify_secret, secret, app.secret_hash):
                raise BadCredentials("unknown client_id or wrong client_secret")
            self._verified_secrets[key] = fingerprint(secret + app.secret_hash)
        return app

    async def put_app(
        self,
        account_id: str,
        client_id: str,
        secret: str | None = None,
        *,
        name: str | None = None,
        rate_limit: str | None = None,
    ) -> tuple[App, str]:
        """Create or update an app installation; returns it and its (possibly generated) secret."""
        await self.get(account_id)
        secret = secret or secrets.token_urlsafe(24)
        app = App(
            account_id=account_id,
            client_id=client_id,
            secret_hash=await asyncio.to_thread(hash_secret, secret),
            name=name,
            rate_limit=rate_limit,
            emulated=False,
            created_ms=self._clock.now_ms(),
        )
        await self._db.write(store.put_app, app)
        self._apps.pop((account_id, client_id), None)
        self._verified_secrets.pop((account_id, client_id), None)
        stored = await self.app(account_id, client_id)
        assert stored is not None
        return stored, secret

    # -- agents ---------------------------------------------------------------------------

    async def put_user(
        self,
        account_id: str,
        login_name: str,
        password: str,
        *,
        nickname: str | None = None,
        full_name: str | None = None,
        email: str | None = None,
        emulated: bool = False,
    ) -> User:
        await self.get(account_id)
        # PBKDF2 takes tens of milliseconds on purpose: off the event loop.
        password_hash = await asyncio.to_thread(hash_secret, password)
        return await self._db.write(
            put_user,
            User(
                account_id=account_id,
                user_id="",
                login_name=login_name,
                password_hash=password_hash,
                nickname=nickname or login_name,
                full_name=full_name or login_name,
                email=email,
                emulated=emulated,
                created_ms=self._clock.now_ms(),
            ),
        )

    async def login(
        self, account_id: str, login_name: str, password: str, ttl_s: int
    ) -> tuple[User, Session]:
        """Check an agent's credentials and open a login session."""
        await self.get(account_id)
        user = await self._db.read(lambda c: store.get_user_by_login(c, account_id, login_name))
        if user is None and self.emulator:
            user = await self.put_user(account_id, login_name, password, emulated=True)
            log.info("emulator: provisioned agent %s on account %s", login_name, account_id)
        if user is None or not await asyncio.to_thread(verify_secret, password, user.password_hash):
            raise BadCredentials("wrong user name or password")
        now = self._clock.now_ms()
        session = Session(
            account_id=account_id,
            session_id=secrets.token_hex(16),
            user_id=user.user_id,
            csrf=secrets.token_hex(16),
            created_ms=now,
            expires_ms=now + ttl_s * 1000,
            revoked=False,
        )
        await self._db.write(store.add_session, session)
        return user, session

    async def session(self, account_id: str, session_id: str) -> Session | None:
        return await self._db.read(lambda c: store.get_session(c, account_id, session_id))

    async def refresh(self, account_id: str, session_id: str, ttl_s: int) -> None:
        expires = self._clock.now_ms() + ttl_s * 1000
        await self._db.write(store.extend_session, account_id, session_id, expires)

    async def logout(self, account_id: str, session_id: str) -> None:
        await self._db.write(store.revoke_session, account_id, session_id)


def put_user(conn: Connection, user: User) -> User:
    """Create or update an agent by login name; a new one gets the next numeric id."""
    existing = store.get_user_by_login(conn, user.account_id, user.login_name)
    if existing is not None:
        user = msgspec.structs.replace(
            user, user_id=existing.user_id, created_ms=existing.created_ms
        )
    else:
        user = msgspec.structs.replace(
            user, user_id=store.next_user_id(conn, user.account_id, AGENT_ID_BASE)
        )
    store.put_user(conn, user)
    return user


def valid_account_id(account_id: str) -> bool:
    """Account ids are short tokens of letters, digits, dashes and underscores."""
    return 0 < len(account_id) <= 64 and all(ch.isalnum() or ch in "-_" for ch in account_id)
