"""OAuth 1.0 (HMAC-SHA1) API keys: how data-API clients sign requests instead of logging in.

A key is a consumer key/secret plus an access token/secret, configured per account
(``sdehub apikeys add``). A signed request is verified with oauthlib's signature functions
against the URL the client signed: behind a proxy that is rebuilt from ``X-Forwarded-Proto`` and
``X-Forwarded-Host``. The timestamp must be within :data:`WINDOW_S` of the server clock, and a
nonce is accepted once (recent nonces are kept in memory, at most :data:`MAX_NONCES`; an older
one is outside the window anyway).

Emulator mode accepts an unknown consumer key: its signature cannot be checked without the
secret, so the key is recorded (``emulated``, no secrets) and logged; once secrets are configured
for it, its requests are verified like any other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections import OrderedDict
from typing import Any, NamedTuple, cast

from oauthlib.oauth1.rfc5849 import signature, utils
from starlette.requests import Request

from sdehub.accounts import Accounts
from sdehub.clock import Clock
from sdehub.errors import Unauthorized
from sdehub.store import Database
from sdehub.store import apikeys as store
from sdehub.store.apikeys import ApiKey

log = logging.getLogger("sdehub.apikeys")
WINDOW_S = 300
MAX_NONCES = 10_000


def generated() -> str:
    return secrets.token_hex(16)


def signed_url(request: Request) -> str:
    """The URL as the client saw it (scheme and host from the proxy's X-Forwarded-* headers)."""
    headers = request.headers
    scheme = headers.get("x-forwarded-proto", request.url.scheme).split(",")[0].strip()
    host = headers.get("x-forwarded-host", headers.get("host", request.url.netloc))
    url = f"{scheme}://{host.split(',')[0].strip()}{request.url.path}"
    query = request.url.query
    return f"{url}?{query}" if query else url


def expected_signature(
    method: str, url: str, authorization: str, form: str | None, key: ApiKey
) -> str:
    params = signature.collect_parameters(
        uri_query=url.partition("?")[2],
        body=form,
        headers={"Authorization": authorization},
        exclude_oauth_signature=True,
    )
    # The stubs narrow these more than oauthlib does (it takes any method and a list of pairs).
    normalized = signature.normalize_parameters(cast(Any, params))
    base = signature.signature_base_string(
        cast(Any, method.upper()), signature.base_string_uri(url), normalized
    )
    secrets_of = _Secrets(key.consumer_secret or "", key.token_secret or "")
    return str(signature.sign_hmac_sha1_with_client(base, secrets_of))


class _Secrets(NamedTuple):
    """The two attributes oauthlib's HMAC signer reads from a client."""

    client_secret: str
    resource_owner_secret: str


class ApiKeys:
    def __init__(self, db: Database, clock: Clock, accounts: Accounts, *, emulator: bool) -> None:
        self._db = db
        self._clock = clock
        self._accounts = accounts
        self._emulator = emulator
        self._nonces: OrderedDict[tuple[str, str, str, str], int] = OrderedDict()

    async def add(
        self,
        account_id: str,
        *,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        token: str | None = None,
        token_secret: str | None = None,
    ) -> ApiKey:
        """Configure a key; whatever is not given is generated."""
        await self._accounts.get(account_id)
        key = ApiKey(
            account_id=account_id,
            consumer_key=consumer_key or generated(),
            consumer_secret=consumer_secret or generated(),
            token=token or generated(),
            token_secret=token_secret or generated(),
            emulated=False,
            created_ms=self._clock.now_ms(),
        )
        await self._db.write(store.put_api_key, key)
        return key

    async def list(self, account_id: str) -> list[ApiKey]:
        return await self._db.read(lambda c: store.list_api_keys(c, account_id))

    async def verify(self, account_id: str, request: Request) -> ApiKey:
        """The key that signed the request; :class:`Unauthorized` if it did not sign it."""
        await self._accounts.get(account_id)
        authorization = request.headers.get("authorization", "")
        try:
            given = {
                k: utils.unescape(v) for k, v in utils.parse_authorization_header(authorization)
            }
        except ValueError:
            raise Unauthorized("the OAuth Authorization header cannot be parsed") from None
        missing = [
            name
            for name in ("oauth_consumer_key", "oauth_signature", "oauth_timestamp", "oauth_nonce")
            if not given.get(name)
        ]
        if missing:
            raise Unauthorized(f"the OAuth Authorization header lacks {', '.join(missing)}")
        if given.get("oauth_signature_method", "HMAC-SHA1") != "HMAC-SHA1":
            raise Unauthorized("only the HMAC-SHA1 OAuth signature method is supported")
        consumer_key = given["oauth_consumer_key"]
        key = await self._db.read(lambda c: store.get_api_key(c, account_id, consumer_key))
        if key is None:
            if not self._emulator:
                raise Unauthorized("unknown OAuth consumer key")
            key = await self._record_unknown(account_id, consumer_key, given.get("oauth_token"))
        self._check_fresh(account_id, given)
        if key.consumer_secret is None:  # recorded in emulator mode: nothing to verify with
            return key
        if key.token is not None and given.get("oauth_token") != key.token:
            raise Unauthorized("the OAuth token does not belong to this consumer key")
        form = None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = (await request.body()).decode()
        wanted = expected_signature(request.method, signed_url(request), authorization, form, key)
        if not hmac.compare_digest(wanted, given["oauth_signature"]):
            raise Unauthorized("the OAuth signature does not match the request")
        # The signature covers a JSON body only through the body-hash extension, when sent.
        if "oauth_body_hash" in given:
            digest = base64.b64encode(hashlib.sha1(await request.body()).digest()).decode()
            if not hmac.compare_digest(digest, given["oauth_body_hash"]):
                raise Unauthorized("oauth_body_hash does not match the request body")
        return key

    async def _record_unknown(
        self, account_id: str, consumer_key: str, token: str | None
    ) -> ApiKey:
        key = ApiKey(
            account_id=account_id,
            consumer_key=consumer_key,
            consumer_secret=None,
            token=token,
            token_secret=None,
            emulated=True,
            created_ms=self._clock.now_ms(),
        )
        await self._db.write(store.add_api_key_if_absent, key)
        log.info(
            "emulator: recorded unknown OAuth consumer key %s on account %s (no secrets: its"
            " signatures are not verified until `sdehub apikeys add` sets them)",
            consumer_key,
            account_id,
        )
        return key

    def _check_fresh(self, account_id: str, given: dict[str, str]) -> None:
        now_s = self._clock.now_ms() // 1000
        try:
            stamp = int(given["oauth_timestamp"])
        except ValueError:
            raise Unauthorized("oauth_timestamp is not an integer") from None
        if abs(now_s - stamp) > WINDOW_S:
            raise Unauthorized(f"oauth_timestamp is more than {WINDOW_S} s from the server time")
        while self._nonces and next(iter(self._nonces.values())) < now_s - WINDOW_S:
            self._nonces.popitem(last=False)
        seen = (account_id, given["oauth_consumer_key"], given["oauth_nonce"], str(stamp))
        if seen in self._nonces:
            raise Unauthorized("this oauth_nonce was already used")
        self._nonces[seen] = stamp
        if len(self._nonces) > MAX_NONCES:
            self._nonces.popitem(last=False)
