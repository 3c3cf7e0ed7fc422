"""Our RS256 signing keys: one per account, generated on first need and persisted.

Tokens we issue (AppJWT, ConsumerJWS, consumer and agent tokens) name their key in ``kid``;
verification looks the key up *within the account the request is for*, so a token minted for
another account fails on the key before its claims are even read.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from sdehub.clock import Clock
from sdehub.store import Database
from sdehub.store import keys as key_store


class Key:
    __slots__ = ("account_id", "kid", "private", "public")

    def __init__(self, account_id: str, kid: str, private: RSAPrivateKey) -> None:
        self.account_id = account_id
        self.kid = kid
        self.private = private
        self.public: RSAPublicKey = private.public_key()

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.public))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return jwk


def generate_private_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(private: RSAPrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def load_pem(text: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(text.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("signing keys are RSA keys")
    return key


class KeyRing:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._keys: dict[str, list[Key]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def signer(self, account_id: str) -> Key:
        """The key new tokens of this account are signed with (created on first need)."""
        keys = self._keys.get(account_id) or await self._load(account_id)
        if keys:
            return keys[-1]
        lock = self._locks.setdefault(account_id, asyncio.Lock())
        async with lock:
            keys = await self._load(account_id)
            if keys:
                return keys[-1]
            private = await asyncio.to_thread(generate_private_key)
            now = self._clock.now_ms()
            stamp = datetime.fromtimestamp(now / 1000, UTC).strftime("%d-%m-%y")
            stored = key_store.SigningKey(
                account_id=account_id,
                kid=f"appjwt-{stamp}",
                private_pem=pem(private),
                created_ms=now,
            )
            await self._db.write(key_store.add_signing_key, stored)
            keys = await self._load(account_id)  # another worker may have won: use its key
            return keys[-1]

    async def find(self, account_id: str, kid: str) -> Key | None:
        """The account's key with this kid, if it has one."""
        keys = self._keys.get(account_id)
        if keys is None or not any(k.kid == kid for k in keys):
            keys = await self._load(account_id)
        return next((k for k in keys if k.kid == kid), None)

    async def jwks(self, account_id: str) -> dict[str, Any]:
        """Every key of the account, so tokens signed before a rotation still verify."""
        await self.signer(account_id)
        return {"keys": [k.jwk() for k in await self._load(account_id)]}

    async def _load(self, account_id: str) -> list[Key]:
        rows = await self._db.read(lambda c: key_store.signing_keys_of(c, account_id))
        keys = [Key(account_id, r.kid, load_pem(r.private_pem)) for r in rows]
        if keys:
            self._keys[account_id] = keys
        return keys
