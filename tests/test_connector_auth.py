"""Connector API authorization (AppJWT + ConsumerJWS) and per-app rate limits."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness, profile, request_conversation

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def rogue_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def auth_error(r: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["kind", "code", "body", "type"]
    assert body["kind"] == "resp"
    assert body["code"] == status
    assert body["type"] == ".ReqBody$ErrorResp"
    assert list(body["body"]) == ["title", "details", "errorCode"], body
    assert body["body"]["errorCode"] == code, body
    assert body["body"]["title"] and body["body"]["details"]
    detail: dict[str, Any] = body["body"]
    return detail


def tamper(token: str, **changes: Any) -> str:
    """The token with its payload changed and the original signature kept."""
    header, payload, signature = token.split(".")
    claims = {**unverified(token), **changes}
    new_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    assert new_payload != payload
    return f"{header}.{new_payload}.{signature}"


async def send_profile(
    h: Harness, headers: dict[str, str], account: str = ACCOUNT
) -> httpx.Response:
    return await h.post_send(headers, profile(), account)


async def both(h: Harness, headers: dict[str, str], account: str = ACCOUNT) -> list[httpx.Response]:
    """The same headers on CONVERSATION and on SEND."""
    conv = await h.post_conversation(headers, [profile(), request_conversation(account)], account)
    send = await send_profile(h, headers, account)
    return [conv, send]


async def test_valid_headers_work_on_both_endpoints(h: Harness) -> None:
    headers = await h.connector()
    conv, send = await both(h, headers)
    assert conv.status_code == 200, conv.text
    assert send.status_code == 200, send.text


async def test_missing_authorization(h: Harness) -> None:
    headers = await h.connector()
    for value in (None, "", "   "):
        broken = {"X-LP-ON-BEHALF": headers["X-LP-ON-BEHALF"]}
        if value is not None:
            broken["Authorization"] = value
        for r in await both(h, broken):
            auth_error(r, 401, 40105)


async def test_missing_consumer_jws(h: Harness) -> None:
    headers = await h.connector()
    for value in (None, "", "  "):
        broken = {"Authorization": headers["Authorization"]}
        if value is not None:
            broken["X-LP-ON-BEHALF"] = value
        for r in await both(h, broken):
            auth_error(r, 401, 40104)


async def test_authorization_is_checked_before_the_body(h: Harness) -> None:
    headers = await h.connector()
    r = await h.client.post(
        f"/api/account/{ACCOUNT}/messaging/consumer/conversation",
        params={"v": "3"},
        headers={"X-LP-ON-BEHALF": headers["X-LP-ON-BEHALF"]},
        content=b"{not json",
    )
    auth_error(r, 401, 40105)
    q = await h.client.get(f"/api/account/{ACCOUNT}/quarantine", headers=await h.agent())
    assert q.json()["items"] == []  # unauthenticated junk is not kept


async def test_expired_app_jwt(h: Harness) -> None:
    headers = await h.connector()
    h.clock.advance(3_599_999)
    assert (await send_profile(h, headers)).status_code == 200
    h.clock.advance(1_001)  # now 3601 s after issue
    for r in await both(h, headers):
        auth_error(r, 401, 40102)
    fresh = {**headers, "Authorization": await h.app_jwt()}  # the ConsumerJWS does not expire
    assert (await send_profile(h, fresh)).status_code == 200


async def test_app_jwt_signed_by_another_key_with_the_same_kid(
    h: Harness, rogue_key: RSAPrivateKey
) -> None:
    headers = await h.connector()
    real = headers["Authorization"]
    forged = jwt.encode(
        unverified(real), rogue_key, algorithm="RS256", headers=jwt.get_unverified_header(real)
    )
    assert jwt.get_unverified_header(forged)["kid"] == jwt.get_unverified_header(real)["kid"]
    for r in await both(h, {**headers, "Authorization": forged}):
        auth_error(r, 401, 40102)


@pytest.mark.parametrize(
    "changes", [{"azp": "someone-else"}, {"exp": 4_102_444_800}, {"aud": "le1001 "}]
)
async def test_tampered_app_jwt(h: Harness, changes: dict[str, Any]) -> None:
    headers = await h.connector()
    forged = tamper(headers["Authorization"], **changes)
    for r in await both(h, {**headers, "Authorization": forged}):
        auth_error(r, 401, 40102)


@pytest.mark.parametrize(
    "token", ["not-a-jwt", "a.b.c", "Bearer", "eyJhbGciOiJub25lIn0.eyJhenAiOiJ4In0."]
)
async def test_garbage_app_jwt(h: Harness, token: str) -> None:
    headers = await h.connector()
    auth_error(await send_profile(h, {**headers, "Authorization": token}), 401, 40102)


async def test_unsigned_app_jwt(h: Harness) -> None:
    headers = await h.connector()
    claims = unverified(headers["Authorization"])
    kid = jwt.get_unverified_header(headers["Authorization"])["kid"]
    none_alg = jwt.encode(claims, None, algorithm="none", headers={"kid": kid})
    auth_error(await send_profile(h, {**headers, "Authorization": none_alg}), 401, 40102)
    hs256 = jwt.encode(
        claims, "a-shared-secret-of-at-least-32-bytes!", algorithm="HS256", headers={"kid": kid}
    )
    auth_error(await send_profile(h, {**headers, "Authorization": hs256}), 401, 40102)


async def test_app_jwt_of_another_account(h: Harness) -> None:
    headers = await h.connector()
    other = await h.app_jwt("2002")
    for r in await both(h, {**headers, "Authorization": other}):
        auth_error(r, 401, 40102)


async def test_app_jwt_for_another_audience_signed_with_the_right_key(h: Harness) -> None:
    headers = await h.connector()
    key = await h.svc.keys.signer(ACCOUNT)
    claims = {**unverified(headers["Authorization"]), "aud": "le2002"}
    token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})
    auth_error(await send_profile(h, {**headers, "Authorization": token}), 401, 40102)


async def test_consumer_jws_of_another_account(h: Harness) -> None:
    headers = await h.connector()
    other = await h.connector(account="2002")
    for r in await both(h, {**headers, "X-LP-ON-BEHALF": other["X-LP-ON-BEHALF"]}):
        auth_error(r, 401, 40103)


async def test_forged_consumer_jws(h: Harness, rogue_key: RSAPrivateKey) -> None:
    headers = await h.connector()
    real = headers["X-LP-ON-BEHALF"]
    forged = jwt.encode(
        unverified(real), rogue_key, algorithm="RS256", headers=jwt.get_unverified_header(real)
    )
    for token in (forged, tamper(real, lp_consumer_id="0" * 64), "not-a-jwt"):
        for r in await both(h, {**headers, "X-LP-ON-BEHALF": token}):
            auth_error(r, 401, 40103)


async def test_consumer_jws_for_another_account_signed_with_the_right_key(h: Harness) -> None:
    headers = await h.connector()
    key = await h.svc.keys.signer(ACCOUNT)
    claims = {**unverified(headers["X-LP-ON-BEHALF"]), "account_id": "le2002"}
    token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})
    auth_error(await send_profile(h, {**headers, "X-LP-ON-BEHALF": token}), 401, 40103)


async def test_an_app_jwt_is_not_a_consumer_jws(h: Harness) -> None:
    headers = await h.connector()
    swapped = {**headers, "X-LP-ON-BEHALF": headers["Authorization"]}
    auth_error(await send_profile(h, swapped), 401, 40103)


@pytest.mark.parametrize(
    "changes",
    [{"iss": "NotSentinel"}, {"iss": None}, {"azp": None}, {"azp": ""}],
)
async def test_app_jwt_missing_mandatory_claims(h: Harness, changes: dict[str, Any]) -> None:
    headers = await h.connector()
    key = await h.svc.keys.signer(ACCOUNT)
    claims = {**unverified(headers["Authorization"]), **changes}
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.encode(claims, key.private, algorithm="RS256", headers={"kid": key.kid})
    for r in await both(h, {**headers, "Authorization": token}):
        auth_error(r, 401, 40001)


@pytest.mark.parametrize("scheme", ["", "Bearer ", "bearer ", "jwt "])
async def test_token_schemes(h: Harness, scheme: str) -> None:
    headers = await h.connector()
    prefixed = {
        "Authorization": scheme + headers["Authorization"],
        "X-LP-ON-BEHALF": scheme + headers["X-LP-ON-BEHALF"],
    }
    conv, send = await both(h, prefixed)
    assert conv.status_code == 200, conv.text
    assert send.status_code == 200, send.text


async def test_unknown_account_without_emulator(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        await h.svc.accounts.add(ACCOUNT)
        await h.svc.accounts.put_app(ACCOUNT, "app-1", "secret-1")
        headers = await h.connector()
        assert (await send_profile(h, headers)).status_code == 200
        auth_error(await send_profile(h, headers, account="2002"), 401, 40102)


# -- rate limits ----------------------------------------------------------------------------


def assert_limited(r: httpx.Response) -> int:
    auth_error(r, 429, 42900)
    retry_after = r.headers["retry-after"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 60
    return int(retry_after)


async def test_rate_limit_per_app(make_harness: HarnessFactory) -> None:
    async with make_harness(app_rate_limit="3/minute") as h:
        headers = await h.connector()
        conv = await h.post_conversation(headers, [profile(), request_conversation()])
        assert conv.status_code == 200, conv.text
        for _ in range(2):
            r = await send_profile(h, headers)
            assert r.status_code == 200, r.text
        assert_limited(await send_profile(h, headers))
        assert_limited(await h.post_conversation(headers, [profile(), request_conversation()]))
        # Another app of the account, and the same app on another account, have their own.
        other_app = await h.connector(client_id="app-2")
        assert (await send_profile(h, other_app)).status_code == 200
        other_account = await h.connector(account="2002")
        assert (await send_profile(h, other_account, "2002")).status_code == 200
        # Authentication comes before the limit: a bad AppJWT is a 401, not a 429.
        bad = {**headers, "Authorization": "nope"}
        auth_error(await send_profile(h, bad), 401, 40102)


async def test_requests_with_bad_bodies_count(make_harness: HarnessFactory) -> None:
    async with make_harness(app_rate_limit="2/minute") as h:
        headers = await h.connector()
        bad = await h.post_send(headers, {"id": "x", "type": "nope"})
        assert bad.status_code == 400
        assert (await send_profile(h, headers)).status_code == 200
        assert_limited(await send_profile(h, headers))


async def test_per_app_override(make_harness: HarnessFactory) -> None:
    async with make_harness(app_rate_limit="3/minute") as h:
        await h.svc.accounts.put_app(ACCOUNT, "slow", "secret-1", rate_limit="1/minute")
        await h.svc.accounts.put_app(ACCOUNT, "fast", "secret-1", rate_limit="10/minute")
        slow = await h.connector(client_id="slow")
        fast = await h.connector(client_id="fast")
        plain = await h.connector(client_id="plain")
        assert (await send_profile(h, slow)).status_code == 200
        assert_limited(await send_profile(h, slow))
        for _ in range(10):
            r = await send_profile(h, fast)
            assert r.status_code == 200, r.text
        assert_limited(await send_profile(h, fast))
        for _ in range(3):
            assert (await send_profile(h, plain)).status_code == 200
        assert_limited(await send_profile(h, plain))
