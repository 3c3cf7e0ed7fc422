"""Consumer identity: brand id_tokens verified against the account's registered public keys.

A brand registers its identity provider's public key(s), as a PEM file or a JWKS document.
A consumer id_token signed with one of them (RS256; ``iss``, ``iat`` and ``exp`` required) makes
the consumer authenticated (``acr`` ``loa1``). Its standard claims map onto SDEs (``sub`` ->
Customer Info ``customerId``, ``given_name`` -> Personal Info ``firstname``, ...) and its
``lp_sdes`` claim carries authenticated SDEs, of which only Customer Info and Personal Info are
accepted.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from sqlalchemy.engine import Connection

from sdehub.channels import Changes
from sdehub.clock import Clock
from sdehub.errors import BadRequest, Unauthorized
from sdehub.ingest import record
from sdehub.model.sdes import decode_sdes
from sdehub.model.types import (
    Contact,
    CustomerInfo,
    CustomerInfoData,
    Event,
    Gender,
    PersonalData,
    PersonalInfo,
)
from sdehub.model.validation import nul_errors, validate
from sdehub.store import Database
from sdehub.store import keys as key_store
from sdehub.store.conversations import Consumer, put_consumer
from sdehub.store.events import Origin
from sdehub.store.identities import consumer_of

# IdP error codes (internalErrorCode), as LivePerson's IdP reports them.
CUSTOMER_JWT_NOT_VALID = 9007
INPUT_VALIDATION_ERROR = 9012
JWT_EXPIRED = 1012
JWK_ID_NOT_FOUND = 1041


def jwks_from_file(path: str | Path) -> list[dict[str, Any]]:
    """Public keys from a PEM file or a JWKS (``{"keys": [...]}``) / single JWK JSON file."""
    text = Path(path).read_text()
    if text.lstrip().startswith("{"):
        doc = json.loads(text)
        keys = doc["keys"] if "keys" in doc else [doc]
        for key in keys:
            try:
                jwt.PyJWK(key)
            except jwt.PyJWTError as exc:
                raise ValueError(f"not a usable public key: {exc}") from None
        return [dict(k) for k in keys]
    public = serialization.load_pem_public_key(text.encode())
    if not isinstance(public, RSAPublicKey):
        raise ValueError("brand keys must be RSA public keys (id_tokens are RS256)")
    jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public))
    jwk.update({"use": "sig", "alg": "RS256"})
    return [jwk]


def _register(conn: Connection, account_id: str, ext_consumer_id: str, now: int) -> str:
    # One transaction: the id is given and its consumer created together, or neither.
    consumer_id = consumer_of(conn, account_id, "ext", ext_consumer_id, now)
    consumer = Consumer(
        account_id=account_id,
        consumer_id=consumer_id,
        ext_consumer_id=ext_consumer_id,
        acr="0",
        claims=None,
        profile=None,
        created_ms=now,
        updated_ms=now,
    )
    put_consumer(conn, consumer, update=())
    return consumer_id


def _sign_in(
    conn: Connection,
    account_id: str,
    claims: dict[str, Any],
    sdes: list[Event],
    request_id: str | None,
    now: int,
    window_ms: int,
) -> str:
    sub = str(claims.get("sub") or "")
    issuer = str(claims["iss"])
    consumer_id = consumer_of(conn, account_id, issuer, sub, now)
    consumer = Consumer(
        account_id=account_id,
        consumer_id=consumer_id,
        ext_consumer_id=sub or None,
        acr="loa1",
        claims=claims,
        profile=None,
        created_ms=now,
        updated_ms=now,
    )
    put_consumer(conn, consumer, update=("acr", "claims", "ext_consumer_id"))
    origin = Origin(
        source="jwt",
        authenticated=True,
        actor=issuer,
        consumer_id=consumer_id,
        request_id=request_id,
    )
    record(conn, account_id, sdes, origin, now_ms=now, window_ms=window_ms)
    return consumer_id


def standard_claim_sdes(claims: dict[str, Any]) -> list[Event]:
    """SDEs implied by the OIDC standard claims."""
    out: list[Event] = []
    if claims.get("sub") or claims.get("preferred_username"):
        out.append(
            CustomerInfo(
                info=CustomerInfoData(
                    customerId=_str(claims.get("sub")),
                    userName=_str(claims.get("preferred_username")),
                )
            )
        )
    contact = None
    if claims.get("email") or claims.get("phone_number"):
        contact = Contact(email=_str(claims.get("email")), phone=_str(claims.get("phone_number")))
    gender, _ = validate(claims.get("gender"), Gender | None)
    personal = PersonalData(
        firstname=_str(claims.get("given_name")),
        lastname=_str(claims.get("family_name")),
        gender=gender,
        contacts=[contact] if contact else None,
    )
    if any(v is not None for v in (personal.firstname, personal.lastname, gender, contact)):
        out.append(PersonalInfo(personal=personal))
    return out


def _numeric_date(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class BrandIdentity:
    def __init__(
        self, db: Database, clock: Clock, *, window_ms: int, changes: Changes | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._window_ms = window_ms
        self._changes = changes

    async def register(self, account_id: str, ext_consumer_id: str) -> str:
        """A consumer known by the brand's own id (ConsumerJWS); returns its consumer id, the
        one it was given the first time (sdehub.store.identities)."""
        now = self._clock.now_ms()
        consumer_id: str = await self._db.write(_register, account_id, ext_consumer_id, now)
        return consumer_id

    async def sign_in(
        self, account_id: str, claims: dict[str, Any], sdes: list[Event], request_id: str | None
    ) -> str:
        """Record an authenticated consumer (acr loa1: the id_token's issuer and subject) and its
        SDEs; returns its consumer id."""
        now = self._clock.now_ms()
        consumer_id: str = await self._db.write(
            _sign_in, account_id, claims, sdes, request_id, now, self._window_ms
        )
        if self._changes is not None:
            await self._changes.consumer(account_id, consumer_id)
        return consumer_id

    async def verify(self, account_id: str, id_token: str) -> dict[str, Any]:
        """The claims of a brand id_token, once its signature, issuer and expiry check out."""
        keys = await self._db.read(lambda c: key_store.brand_keys_of(c, account_id))
        if not keys:
            raise Unauthorized(
                "the account has no identity provider key registered", lp_code=JWK_ID_NOT_FOUND
            )
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(
                f"id_token is not a JWT: {exc}", lp_code=CUSTOMER_JWT_NOT_VALID
            ) from None
        kid = header.get("kid")
        candidates = [k for k in keys if kid is None or k.kid == kid or k.jwk.get("kid") == kid]
        if not candidates:
            raise Unauthorized(f"no registered key has kid {kid!r}", lp_code=JWK_ID_NOT_FOUND)
        claims: dict[str, Any] | None = None
        for key in candidates:
            try:
                claims = jwt.decode(
                    id_token,
                    jwt.PyJWK(key.jwk).key,
                    algorithms=["RS256"],
                    options={
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                        "verify_aud": False,
                        "verify_iss": False,
                    },
                )
            except jwt.PyJWTError:
                continue
            if key.issuer and claims.get("iss") != key.issuer:
                raise Unauthorized(
                    f"id_token issuer {claims.get('iss')!r} is not {key.issuer!r}",
                    lp_code=CUSTOMER_JWT_NOT_VALID,
                )
            break
        if claims is None:
            raise Unauthorized("id_token signature does not verify", lp_code=CUSTOMER_JWT_NOT_VALID)
        # NumericDate claims are JSON numbers (RFC 7519); a string is not accepted.
        bad = [c for c in ("iat", "exp") if not _numeric_date(claims.get(c))]
        if not isinstance(claims.get("iss"), str) or not claims["iss"]:
            bad.insert(0, "iss")
        if bad:
            raise Unauthorized(
                f"id_token lacks valid mandatory claims: {', '.join(bad)}",
                lp_code=CUSTOMER_JWT_NOT_VALID,
            )
        nul = nul_errors(claims)
        if nul:
            raise BadRequest.from_errors(nul, lp_code=INPUT_VALIDATION_ERROR)
        if float(claims["exp"]) * 1000 <= self._clock.now_ms():
            raise Unauthorized("id_token has expired", lp_code=JWT_EXPIRED)
        return claims

    @staticmethod
    def sdes(claims: dict[str, Any]) -> list[Event]:
        """Authenticated SDEs of a verified token: standard claims first, then ``lp_sdes``."""
        records = standard_claim_sdes(claims)
        if "lp_sdes" in claims:
            extra, errors = decode_sdes(claims["lp_sdes"], path=("lp_sdes",), authenticated=True)
            if errors:
                raise BadRequest.from_errors(errors, lp_code=INPUT_VALIDATION_ERROR)
            records.extend(extra)
        return records
