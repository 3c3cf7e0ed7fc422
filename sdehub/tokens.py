"""The tokens LivePerson clients carry, issued and verified here.

* AppJWT (Sentinel): ``aud`` = ``le<account>``, ``azp`` = client id, ``scope`` = ``msg.consumer``,
  ``iss`` = ``Sentinel``, numeric ``exp``/``iat``; valid one hour.
* ConsumerJWS (IdP ``/consumer``): ``account_id`` = ``le<account>``, ``ext_consumer_id``,
  ``lp_consumer_id`` (64 hex, the consumer id the IdP gave the external id:
  sdehub.store.identities); no expiry, as in LivePerson's example.
* Consumer token (IdP ``/authenticate``): ``sub`` = consumer id, ``aud`` = ``acc:<account>``,
  ``acr``; issued after a brand id_token verified against the account's registered keys.
* Agent bearer (``/login``): names a login session, which logout revokes.

All are RS256 with the account's own key (``kid``). Expiry is checked against the injected clock,
never the machine's, so tests and emulator time travel see consistent answers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from collections import OrderedDict
from typing import Any, Final

import jwt
import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from sdehub.clock import Clock
from sdehub.errors import Unauthorized
from sdehub.keys import KeyRing

APP_ISSUER: Final = "Sentinel"
IDP_ISSUER: Final = "https://idp.liveperson.net"
AGENT_ISSUER: Final = "agentVep"
# Verified tokens, keyed by a 16-byte digest of (account, token): about 250 bytes an entry, so
# the consumers of a busy account stay verified (a ConsumerJWS is sent with every SEND).
CACHE_SIZE: Final = 100_000

# Send API 401 codes (Connector API authorization docs).
MISSING_PARAMETER: Final = 40001
INVALID_APP_JWT: Final = 40102
INVALID_CONSUMER_JWS: Final = 40103
CONSUMER_JWS_MISSING: Final = 40104
APP_JWT_MISSING: Final = 40105


class AppClaims(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    client_id: str
    scope: str
    exp: int


class ConsumerClaims(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    consumer_id: str
    ext_consumer_id: str | None = None
    acr: str = "0"
    client_id: str | None = None


class AgentClaims(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    user_id: str
    session_id: str
    login_name: str
    exp: int


def strip_scheme(header: str) -> str:
    """``Bearer <t>``, ``jwt <t>`` or the raw token: LivePerson clients send all three."""
    parts = header.strip().split(None, 1)
    if len(parts) == 2 and parts[0].lower() in ("bearer", "jwt"):
        return parts[1].strip()
    return header.strip()


_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


def _b64(segment: str) -> bytes:
    if _SEGMENT.fullmatch(segment) is None or len(segment) % 4 == 1:
        raise InvalidToken("a token segment is not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def split_rs256(token: str) -> tuple[dict[str, Any], bytes, bytes, bytes]:
    """(header, signing input, signature, payload bytes) of a compact RS256 JWS; nothing is
    trusted yet. Our own tokens are always of this one form, so it is checked here directly:
    PyJWT's general decoding costs three times the RSA verification itself."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("a JWT has three segments")
    try:
        header = msgspec.json.decode(_b64(parts[0]))
    except (binascii.Error, msgspec.DecodeError):
        raise InvalidToken("the token header is not JSON") from None
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        raise InvalidToken("expected an RS256 token")
    try:
        signature = _b64(parts[2])
        payload = _b64(parts[1])
    except binascii.Error:
        raise InvalidToken("a token segment is not base64url") from None
    return header, f"{parts[0]}.{parts[1]}".encode("ascii"), signature, payload


def _cache_key(account_id: str, token: str) -> bytes:
    return hashlib.blake2b(f"{account_id}\x00{token}".encode(), digest_size=16).digest()


class InvalidToken(Exception):
    pass


# Built when raised, not up front on every (mostly successful) verification.
def _invalid_app_jwt() -> Unauthorized:
    return Unauthorized(
        "AppJWT has expired or is invalid", lp_code=INVALID_APP_JWT, title="Invalid AppJWT"
    )


def _invalid_consumer_jws() -> Unauthorized:
    return Unauthorized(
        "ConsumerJWS is invalid", lp_code=INVALID_CONSUMER_JWS, title="Invalid ConsumerJWS"
    )


class Tokens:
    def __init__(self, keys: KeyRing, clock: Clock, *, app_jwt_ttl: int = 3600) -> None:
        self._keys = keys
        self._clock = clock
        self.app_jwt_ttl = app_jwt_ttl
        self._verified: OrderedDict[bytes, dict[str, Any]] = OrderedDict()

    # -- issuing --------------------------------------------------------------------------

    async def _sign(self, account_id: str, payload: dict[str, Any]) -> str:
        key = await self._keys.signer(account_id)
        token = jwt.encode(
            payload, key.private, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"}
        )
        # We just signed it: its first verification here would only repeat the RSA work.
        self._remember(account_id, token, payload)
        return token

    def _remember(self, account_id: str, token: str, claims: dict[str, Any]) -> None:
        self._verified[_cache_key(account_id, token)] = claims
        if len(self._verified) > CACHE_SIZE:
            self._verified.popitem(last=False)

    def _now_s(self) -> int:
        return self._clock.now_ms() // 1000

    async def app_jwt(self, account_id: str, client_id: str) -> str:
        now = self._now_s()
        return await self._sign(
            account_id,
            {
                "aud": f"le{account_id}",
                "azp": client_id,
                "scope": "msg.consumer",
                "iss": APP_ISSUER,
                "exp": now + self.app_jwt_ttl,
                "iat": now,
                "jti": secrets.token_hex(8),
            },
        )

    async def consumer_jws(
        self, account_id: str, ext_consumer_id: str, consumer_id: str, client_id: str
    ) -> str:
        """The ConsumerJWS of a registered consumer (``consumer_id``: what the IdP's register
        gave ``ext_consumer_id``); its signed ``lp_consumer_id`` is trusted as is later."""
        return await self._sign(
            account_id,
            {
                "account_id": f"le{account_id}",
                "ext_consumer_id": ext_consumer_id,
                "lp_consumer_id": consumer_id,
                "azp": client_id,
                "iat": self._now_s(),
            },
        )

    async def consumer_token(self, account_id: str, consumer_id: str, acr: str, ttl: int) -> str:
        now = self._now_s()
        return await self._sign(
            account_id,
            {
                "sub": consumer_id,
                "aud": f"acc:{account_id}",
                "iss": IDP_ISSUER,
                "acr": acr,
                "lp_consumer_id": consumer_id,
                "exp": now + ttl,
                "iat": now,
            },
        )

    async def agent_bearer(
        self, account_id: str, user_id: str, login_name: str, session_id: str, expires_ms: int
    ) -> str:
        return await self._sign(
            account_id,
            {
                "aud": f"le{account_id}",
                "sub": user_id,
                "sid": session_id,
                "login": login_name,
                "iss": AGENT_ISSUER,
                "scope": "agent",
                "exp": expires_ms // 1000,
                "iat": self._now_s(),
            },
        )

    # -- verifying ------------------------------------------------------------------------

    async def _decode(self, account_id: str, token: str) -> dict[str, Any]:
        """Signature check with the account's key; no claim checks yet."""
        digest = _cache_key(account_id, token)
        cached = self._verified.get(digest)
        if cached is not None:
            self._verified.move_to_end(digest)
            return dict(cached)
        header, signing_input, signature, payload = split_rs256(token)
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the token names no key (kid)")
        key = await self._keys.find(account_id, kid)
        if key is None:
            raise InvalidToken("not signed by a key of this account")
        try:
            key.public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise InvalidToken("the signature does not verify") from None
        try:
            claims = msgspec.json.decode(payload)
        except msgspec.DecodeError:
            raise InvalidToken("the token payload is not JSON") from None
        if not isinstance(claims, dict):
            raise InvalidToken("the token payload is not an object")
        self._remember(account_id, token, claims)
        return dict(claims)

    def _expired(self, claims: dict[str, Any]) -> bool:
        exp = claims.get("exp")
        return not isinstance(exp, int | float) or exp * 1000 <= self._clock.now_ms()

    async def verify_app_jwt(self, account_id: str, header: str | None) -> AppClaims:
        if not header or not header.strip():
            raise Unauthorized(
                "AUTHORIZATION header is not present",
                lp_code=APP_JWT_MISSING,
                title="AppJWT is missing",
            )
        try:
            claims = await self._decode(account_id, strip_scheme(header))
        except InvalidToken:
            raise _invalid_app_jwt() from None
        if self._expired(claims) or claims.get("aud") != f"le{account_id}":
            raise _invalid_app_jwt()
        if claims.get("iss") != APP_ISSUER or not claims.get("azp"):
            raise Unauthorized(
                "AppJWT is missing mandatory claims (iss, azp)",
                lp_code=MISSING_PARAMETER,
                title="Missing parameter",
            )
        return AppClaims(
            account_id=account_id,
            client_id=str(claims["azp"]),
            scope=str(claims.get("scope", "")),
            exp=int(claims["exp"]),
        )

    async def verify_consumer(self, account_id: str, header: str | None) -> ConsumerClaims:
        """A ConsumerJWS, or a consumer token from ``/authenticate``."""
        if not header or not header.strip():
            raise Unauthorized(
                "X_ON_BEHALF_HEADER is not present",
                lp_code=CONSUMER_JWS_MISSING,
                title="ConsumerJWS is missing",
            )
        try:
            claims = await self._decode(account_id, strip_scheme(header))
        except InvalidToken:
            raise _invalid_consumer_jws() from None
        if claims.get("account_id") == f"le{account_id}" and claims.get("lp_consumer_id"):
            return ConsumerClaims(
                account_id=account_id,
                consumer_id=str(claims["lp_consumer_id"]),
                ext_consumer_id=claims.get("ext_consumer_id"),
                client_id=claims.get("azp"),
            )
        if claims.get("aud") == f"acc:{account_id}" and claims.get("sub"):
            if self._expired(claims):
                raise _invalid_consumer_jws()
            return ConsumerClaims(
                account_id=account_id,
                consumer_id=str(claims["sub"]),
                acr=str(claims.get("acr", "0")),
            )
        raise _invalid_consumer_jws()

    async def verify_agent(self, account_id: str, header: str | None) -> AgentClaims:
        """Claims of an agent bearer; whether its session is still live is the caller's check."""
        if not header or not header.strip():
            raise Unauthorized("Authorization header with an agent bearer is required")
        invalid = Unauthorized("the bearer is invalid or expired; log in again")
        try:
            claims = await self._decode(account_id, strip_scheme(header))
        except InvalidToken:
            raise invalid from None
        # No exp check here: refresh extends the session, not the bearer, and the bearer must
        # live as long as its session (require_agent checks that against the clock).
        if claims.get("aud") != f"le{account_id}" or claims.get("iss") != AGENT_ISSUER:
            raise invalid
        return AgentClaims(
            account_id=account_id,
            user_id=str(claims["sub"]),
            session_id=str(claims["sid"]),
            login_name=str(claims.get("login", "")),
            exp=int(claims["exp"]),
        )
