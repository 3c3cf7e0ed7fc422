"""Sentinel: AppJWTs (v1 and v2), their claims and signature, the JWKS, and OAuth errors."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from sdehub.store import accounts as account_store
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

V1 = "/sentinel/api/account/{account}/app/token"
V2 = "/sentinel/api/v2/account/{account}/app/token"
V1_QUERY = {"v": "1.0", "grant_type": "client_credentials"}
CREDENTIALS = {"client_id": "app-1", "client_secret": "secret-1"}


async def v1_form(
    h: Harness, data: dict[str, str], account: str = ACCOUNT, **query: str
) -> httpx.Response:
    return await h.client.post(V1.format(account=account), params={**V1_QUERY, **query}, data=data)


async def v2_form(h: Harness, data: dict[str, str], account: str = ACCOUNT) -> httpx.Response:
    return await h.client.post(V2.format(account=account), params={"v": "2.0"}, data=data)


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def verify_with(jwks: dict[str, Any], token: str, account: str = ACCOUNT) -> dict[str, Any]:
    """Full signature, audience and issuer check with a published JWKS.

    Expiry is checked by the tests against the harness's manual clock (PyJWT would use the
    machine's), so PyJWT's own time checks are off here.
    """
    kid = jwt.get_unverified_header(token)["kid"]
    matching = [k for k in jwks["keys"] if k.get("kid") == kid]
    assert len(matching) == 1, jwks
    claims: dict[str, Any] = jwt.decode(
        token,
        jwt.PyJWK(matching[0]).key,
        algorithms=["RS256"],
        audience=f"le{account}",
        issuer="Sentinel",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    return claims


def assert_token_response(r: httpx.Response) -> str:
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["access_token", "token_type", "expires_in"]
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == "3600"  # a string: one LivePerson client checks its type
    assert isinstance(body["expires_in"], str)
    assert r.headers["cache-control"] == "no-store"
    token: str = body["access_token"]
    return token


def assert_oauth_error(r: httpx.Response, status: int, error: str, fragment: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert set(body) == {"error", "error_description"}
    assert fragment in body["error_description"], body
    assert r.headers["cache-control"] == "no-store"


# -- issuing --------------------------------------------------------------------------------


async def test_v1_with_credentials_in_the_form_body(h: Harness) -> None:
    token = assert_token_response(await v1_form(h, CREDENTIALS))
    assert unverified(token)["azp"] == "app-1"


async def test_v1_with_credentials_in_the_query_string_and_an_empty_body(h: Harness) -> None:
    r = await h.client.post(
        V1.format(account=ACCOUNT),
        params={**V1_QUERY, **CREDENTIALS},
        content=b"",
    )
    token = assert_token_response(r)
    assert unverified(token)["azp"] == "app-1"


async def test_v2_with_grant_type_in_the_form(h: Harness) -> None:
    r = await v2_form(h, {**CREDENTIALS, "grant_type": "client_credentials"})
    token = assert_token_response(r)
    assert unverified(token)["azp"] == "app-1"


async def test_v1_and_v2_share_the_client(h: Harness) -> None:
    await v1_form(h, CREDENTIALS)
    wrong = {"client_id": "app-1", "client_secret": "other", "grant_type": "client_credentials"}
    r = await v2_form(h, wrong)
    assert_oauth_error(r, 401, "invalid_client", "client_secret")


async def test_token_claims_and_header(h: Harness) -> None:
    now_s = h.clock.now_ms() // 1000
    token = assert_token_response(await v1_form(h, {"client_id": "my-app", "client_secret": "s"}))
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert isinstance(header["kid"], str) and header["kid"]
    claims = unverified(token)
    assert claims["iat"] == now_s
    assert isinstance(claims["exp"], int)
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["aud"] == f"le{ACCOUNT}"
    assert claims["azp"] == "my-app"
    assert claims["scope"] == "msg.consumer"
    assert claims["iss"] == "Sentinel"


async def test_issued_at_follows_the_clock(h: Harness) -> None:
    first = unverified(assert_token_response(await v1_form(h, CREDENTIALS)))
    h.clock.advance(90_000)
    second = unverified(assert_token_response(await v1_form(h, CREDENTIALS)))
    assert second["iat"] == first["iat"] + 90
    assert second["exp"] == first["exp"] + 90


async def test_ttl_setting_changes_expiry(make_harness: HarnessFactory) -> None:
    async with make_harness(app_jwt_ttl=60) as h:
        r = await v1_form(h, CREDENTIALS)
        assert r.status_code == 200
        assert r.json()["expires_in"] == "60"
        claims = unverified(r.json()["access_token"])
        assert claims["exp"] == claims["iat"] + 60


async def test_tokens_verify_with_both_jwks_endpoints(h: Harness) -> None:
    token = assert_token_response(await v1_form(h, CREDENTIALS))
    by_path = await h.client.get(f"/sentinel/api/account/{ACCOUNT}/well-known/jwks")
    by_query = await h.client.get("/sentinel/well-known/jwks", params={"accountId": ACCOUNT})
    assert by_path.status_code == 200 and by_query.status_code == 200
    assert by_path.json() == by_query.json()
    jwk = by_path.json()["keys"][0]
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in jwk  # public keys only
    assert jwk["kid"] == jwt.get_unverified_header(token)["kid"]
    for jwks in (by_path.json(), by_query.json()):
        claims = verify_with(jwks, token)
        assert claims["azp"] == "app-1"


async def test_another_accounts_jwks_does_not_verify(h: Harness) -> None:
    token = assert_token_response(await v1_form(h, CREDENTIALS))
    other = (await h.client.get("/sentinel/api/account/2002/well-known/jwks")).json()
    own = (await h.client.get(f"/sentinel/api/account/{ACCOUNT}/well-known/jwks")).json()
    assert other["keys"][0]["n"] != own["keys"][0]["n"]
    key = jwt.PyJWK({**other["keys"][0]}).key
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token, key, algorithms=["RS256"], options={"verify_aud": False, "verify_exp": False}
        )


async def test_jwks_needs_an_account(h: Harness) -> None:
    r = await h.client.get("/sentinel/well-known/jwks")
    assert_oauth_error(r, 400, "invalid_request", "accountId")


async def test_jwks_of_an_unknown_account_without_emulator(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        r = await h.client.get("/sentinel/api/account/5005/well-known/jwks")
        assert_oauth_error(r, 401, "invalid_client", "5005")
        r = await h.client.get("/sentinel/well-known/jwks", params={"accountId": "5005"})
        assert_oauth_error(r, 401, "invalid_client", "5005")


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"client_secret": "secret-1"}, "client_id"),
        ({"client_id": "app-1"}, "client_secret"),
        ({"client_id": "", "client_secret": "secret-1"}, "client_id"),
        ({}, "client_id and client_secret"),
    ],
)
async def test_missing_credentials(h: Harness, data: dict[str, str], fragment: str) -> None:
    assert_oauth_error(await v1_form(h, data), 400, "invalid_request", fragment)
    r = await v2_form(h, {**data, "grant_type": "client_credentials"})
    assert_oauth_error(r, 400, "invalid_request", fragment)


async def test_missing_credentials_provision_nothing(h: Harness) -> None:
    await v1_form(h, {"client_id": "half-app"})
    assert await h.svc.accounts.app(ACCOUNT, "half-app") is None


@pytest.mark.parametrize("grant", ["password", "authorization_code", "CLIENT_CREDENTIALS", ""])
async def test_unsupported_grant_type(h: Harness, grant: str) -> None:
    r = await v2_form(h, {**CREDENTIALS, "grant_type": grant})
    assert_oauth_error(r, 400, "unsupported_grant_type", "client_credentials")
    r = await v1_form(h, CREDENTIALS, grant_type=grant)
    assert_oauth_error(r, 400, "unsupported_grant_type", "client_credentials")


async def test_missing_grant_type(h: Harness) -> None:
    r = await v2_form(h, CREDENTIALS)
    assert_oauth_error(r, 400, "invalid_request", "grant_type")


async def test_wrong_secret_in_emulator_mode_once_the_client_exists(h: Harness) -> None:
    assert_token_response(await v1_form(h, CREDENTIALS))
    r = await v1_form(h, {"client_id": "app-1", "client_secret": "guess"})
    assert_oauth_error(r, 401, "invalid_client", "client_secret")
    r = await v2_form(
        h, {"client_id": "app-1", "client_secret": "guess", "grant_type": "client_credentials"}
    )
    assert_oauth_error(r, 401, "invalid_client", "client_secret")
    assert_token_response(await v1_form(h, CREDENTIALS))  # the right one still works


async def test_emulator_provisions_unknown_account_and_client(h: Harness) -> None:
    assert await h.svc.db.read(lambda c: account_store.get_account(c, "7007")) is None
    r = await v1_form(h, {"client_id": "fresh", "client_secret": "fresh-secret"}, account="7007")
    claims = unverified(assert_token_response(r))
    assert (claims["aud"], claims["azp"]) == ("le7007", "fresh")
    account = await h.svc.db.read(lambda c: account_store.get_account(c, "7007"))
    assert account is not None and account.emulated is True
    app = await h.svc.accounts.app("7007", "fresh")
    assert app is not None and app.emulated is True
    assert app.secret_hash != "fresh-secret"  # stored hashed
    # The provisioned client now has that secret and no other.
    r = await v1_form(h, {"client_id": "fresh", "client_secret": "another"}, account="7007")
    assert_oauth_error(r, 401, "invalid_client", "client_secret")


async def test_emulator_refuses_invalid_account_ids(h: Harness) -> None:
    r = await v1_form(h, CREDENTIALS, account="not.an.account")
    assert_oauth_error(r, 401, "invalid_client", "not.an.account")


async def test_without_emulator_only_configured_clients_get_tokens(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(emulator=False) as h:
        r = await v1_form(h, CREDENTIALS)
        assert_oauth_error(r, 401, "invalid_client", ACCOUNT)  # unknown account
        await h.svc.accounts.add(ACCOUNT, "Brand")
        r = await v1_form(h, CREDENTIALS)
        assert_oauth_error(r, 401, "invalid_client", "client_id")  # unknown client
        assert await h.svc.accounts.app(ACCOUNT, "app-1") is None  # nothing provisioned
        await h.svc.accounts.put_app(ACCOUNT, "app-1", "secret-1", name="Bot")
        claims = unverified(assert_token_response(await v1_form(h, CREDENTIALS)))
        assert claims["azp"] == "app-1"
        r = await v2_form(h, {**CREDENTIALS, "grant_type": "client_credentials"})
        assert_token_response(r)
        r = await v1_form(h, {"client_id": "app-1", "client_secret": "secret-2"})
        assert_oauth_error(r, 401, "invalid_client", "client_secret")


async def test_without_emulator_a_changed_secret_replaces_the_old_one(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(emulator=False) as h:
        await h.svc.accounts.add(ACCOUNT)
        await h.svc.accounts.put_app(ACCOUNT, "app-1", "secret-1")
        assert_token_response(await v1_form(h, CREDENTIALS))
        await h.svc.accounts.put_app(ACCOUNT, "app-1", "secret-2")
        r = await v1_form(h, CREDENTIALS)
        assert_oauth_error(r, 401, "invalid_client", "client_secret")
        assert_token_response(await v1_form(h, {"client_id": "app-1", "client_secret": "secret-2"}))
