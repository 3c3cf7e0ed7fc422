"""Configuration from a seed file: accounts (and their allowed origins), app installations,
agents, identity providers.

The same operations back the CLI (``sdehub accounts add`` ...). Loading is idempotent: existing
accounts are kept, apps and agents are updated to what the file says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from sdehub.identity import jwks_from_file
from sdehub.model.validation import convert
from sdehub.services import Services
from sdehub.store import keys as key_store


class SeedApp(msgspec.Struct, kw_only=True):
    client_id: str
    client_secret: str
    name: str | None = None
    rate_limit: str | None = None


class SeedAgent(msgspec.Struct, kw_only=True):
    login: str
    password: str
    nickname: str | None = None
    full_name: str | None = None
    email: str | None = None


class SeedIdentityProvider(msgspec.Struct, kw_only=True):
    """A brand identity provider: its keys as a PEM/JWKS file, or an inline JWKS."""

    issuer: str | None = None
    key_file: str | None = None
    jwks: dict[str, Any] | None = None


class SeedAccount(msgspec.Struct, kw_only=True):
    id: str
    name: str | None = None
    allowed_origins: list[str] | None = None
    """Origins whose pages may call the Monitoring API (CORS); when given, replaces the list."""
    apps: list[SeedApp] = []
    agents: list[SeedAgent] = []
    identity_providers: list[SeedIdentityProvider] = []


class Seed(msgspec.Struct, kw_only=True):
    accounts: list[SeedAccount] = []


async def register_brand_keys(
    svc: Services, account_id: str, jwks: list[dict[str, Any]], issuer: str | None
) -> list[str]:
    """Register identity-provider public keys for an account; returns their key ids."""
    now = svc.clock.now_ms()
    stored = []
    for i, jwk in enumerate(jwks):
        kid = str(jwk.get("kid") or f"brand-{i + 1}")
        stored.append(
            key_store.BrandKey(
                account_id=account_id,
                kid=kid,
                issuer=issuer,
                jwk={**jwk, "kid": kid},
                created_ms=now,
            )
        )

    await svc.db.write(key_store.put_brand_keys, stored)
    return [k.kid for k in stored]


async def apply_seed(svc: Services, seed: Seed, *, base: Path) -> None:
    for account in seed.accounts:
        await svc.accounts.add(account.id, account.name)
        if account.allowed_origins is not None:
            await svc.accounts.set_origins(account.id, account.allowed_origins)
        for app in account.apps:
            await svc.accounts.put_app(
                account.id,
                app.client_id,
                app.client_secret,
                name=app.name,
                rate_limit=app.rate_limit,
            )
        for agent in account.agents:
            await svc.accounts.put_user(
                account.id,
                agent.login,
                agent.password,
                nickname=agent.nickname,
                full_name=agent.full_name,
                email=agent.email,
            )
        for idp in account.identity_providers:
            if idp.key_file:
                keys = jwks_from_file(base / idp.key_file)
            elif idp.jwks:
                keys = list(idp.jwks.get("keys", [idp.jwks]))
            else:
                raise ValueError(f"identity provider of account {account.id} has no keys")
            await register_brand_keys(svc, account.id, keys, idp.issuer)


async def load_seed_file(svc: Services, path: str) -> None:
    file = Path(path)
    seed: Seed = convert(msgspec.json.decode(file.read_bytes()), Seed)
    await apply_seed(svc, seed, base=file.parent)
