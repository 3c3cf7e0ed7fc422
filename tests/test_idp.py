"""IdP: ConsumerJWS for brand consumer ids, and authenticated consumers from brand id_tokens."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from sdehub.identity import jwks_from_file
from sdehub.seed import register_brand_keys
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

HEX64 = re.compile(r"^[0-9a-f]{64}$")
ISSUER = "https://idp.brand.example"


def unverified(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


async def consumer(
    h: Harness, body: Any, authorization: str | None, account: str = ACCOUNT, v: bool = True
) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await h.client.post(
        f"/api/account/{account}/consumer",
        params={"v": "1.0"} if v else None,
        headers=headers,
        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
    )


def idp_error(r: httpx.Response, status: int, code: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) <= {"internalErrorCode", "message"}, body
    assert body["internalErrorCode"] == code, body
    message: str = body["message"]
    return message


# -- ConsumerJWS ----------------------------------------------------------------------------


@pytest.mark.parametrize("with_version", [True, False])
async def test_consumer_jws_claims(h: Harness, with_version: bool) -> None:
    app_jwt = await h.app_jwt()
    r = await consumer(h, {"ext_consumer_id": "ext-42"}, app_jwt, v=with_version)
    assert r.status_code == 201, r.text
    assert list(r.json()) == ["token"]
    token = r.json()["token"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"]
    claims = unverified(token)
    assert claims["account_id"] == f"le{ACCOUNT}"
    assert claims["ext_consumer_id"] == "ext-42"
    assert HEX64.match(claims["lp_consumer_id"]), claims
    jwks = (await h.client.get(f"/sentinel/api/account/{ACCOUNT}/well-known/jwks")).json()
    key = jwt.PyJWK(jwks["keys"][0]).key
    assert jwt.decode(token, key, algorithms=["RS256"])["ext_consumer_id"] == "ext-42"


async def test_consumer_ids_are_stable_per_account_and_external_id(h: Harness) -> None:
    async def lp_id(ext_id: str, account: str = ACCOUNT, client: str = "app-1") -> str:
        app_jwt = await h.app_jwt(account, client)
        return str(unverified(await h.consumer_jws(app_jwt, account, ext_id))["lp_consumer_id"])

    first = await lp_id("same")
    assert await lp_id("same") == first
    assert await lp_id("same", client="app-2") == first  # the app does not matter
    assert await lp_id("Same") != first
    assert await lp_id("other") != first
    assert await lp_id("same", account="2002") != first


async def test_consumer_ids_are_given_in_creation_order_and_survive_a_restart(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    db = str(tmp_path / "ids.db")

    async def lp_id(h: Harness, ext_id: str) -> str:
        jws = await h.consumer_jws(await h.app_jwt(), ACCOUNT, ext_id)
        return str(unverified(jws)["lp_consumer_id"])

    async with make_harness(db=db) as h:
        first = await lp_id(h, "crm-1")
        assert first[:12] == f"{h.clock.now_ms():012x}"  # the IdP's clock, when first seen
        h.clock.advance(1)
        second = await lp_id(h, "crm-2")
        h.clock.advance(60_000)
        assert await lp_id(h, "crm-1") == first
        assert first < second < await lp_id(h, "crm-3")
    async with make_harness(db=db) as h:
        assert await lp_id(h, "crm-2") == second
        assert await lp_id(h, "crm-1") == first
        # The id the ConsumerJWS carries is the consumer's: its conversation is that consumer's.
        jws = await h.consumer_jws(await h.app_jwt(), ACCOUNT, "crm-1")
        claims = await h.svc.tokens.verify_consumer(ACCOUNT, jws)
        assert claims.consumer_id == first


async def test_bearer_prefixed_app_jwt_is_accepted(h: Harness) -> None:
    app_jwt = await h.app_jwt()
    r = await consumer(h, {"ext_consumer_id": "b"}, f"Bearer {app_jwt}")
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("authorization", [None, "", "not-a-jwt", "Bearer "])
async def test_consumer_needs_a_valid_app_jwt(h: Harness, authorization: str | None) -> None:
    r = await consumer(h, {"ext_consumer_id": "x"}, authorization)
    idp_error(r, 401, 1008)


async def test_consumer_refuses_an_app_jwt_of_another_account(h: Harness) -> None:
    other = await h.app_jwt("2002")
    idp_error(await consumer(h, {"ext_consumer_id": "x"}, other), 401, 1008)


async def test_consumer_refuses_an_expired_app_jwt(h: Harness) -> None:
    app_jwt = await h.app_jwt()
    h.clock.advance(3_600_000)
    idp_error(await consumer(h, {"ext_consumer_id": "x"}, app_jwt), 401, 1008)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ext_consumer_id": ""},
        {"ext_consumer_id": True},
        {"ext_consumer_id": {"id": "x"}},
        {"ext_consumer_id": None},
        {"ext_consumer_id": "x" * 257},
        b"",
        b"{not json",
        ["ext_consumer_id"],
    ],
)
async def test_consumer_bad_bodies(h: Harness, body: Any) -> None:
    app_jwt = await h.app_jwt()
    message = idp_error(await consumer(h, body, app_jwt), 400, 9012)
    if isinstance(body, dict):
        assert "ext_consumer_id" in message


async def test_consumer_on_an_unknown_account_without_emulator(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(emulator=False) as h:
        await h.svc.accounts.add(ACCOUNT)
        await h.svc.accounts.put_app(ACCOUNT, "app-1", "secret-1")
        app_jwt = await h.app_jwt()
        assert (await consumer(h, {"ext_consumer_id": "x"}, app_jwt)).status_code == 201
        message = idp_error(await consumer(h, {"ext_consumer_id": "x"}, app_jwt, "3003"), 401, 1008)
        assert "3003" in message


# -- brand id_tokens ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def brand_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def rogue_key() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def register_pem(
    h: Harness,
    key: RSAPrivateKey,
    tmp_path: Path,
    account: str = ACCOUNT,
    issuer: str | None = ISSUER,
) -> list[str]:
    path = tmp_path / f"brand-{account}.pem"
    path.write_bytes(public_pem(key))
    return await register_brand_keys(h.svc, account, jwks_from_file(path), issuer)


LP_SDES = [
    {
        "type": "ctmrinfo",
        "info": {"cstatus": "cancelled", "ctype": "vip", "customerId": "138766AC",
                 "balance": -400.99, "socialId": "11256324780", "role": "owner",
                 "accountName": "bank corp", "userName": "user000"},
    },
    {
        "type": "personal",
        "personal": {"firstname": "John", "lastname": "Doe", "gender": "MALE",
                     "company": "company", "language": "en-US",
                     "contacts": [{"email": "myemail@email.com", "phone": "+1 212-788-8877"}]},
    },
]  # fmt: skip


def id_token_claims(h: Harness, **overrides: Any) -> dict[str, Any]:
    now = h.clock.now_ms() // 1000
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "customer-7",
        "iat": now,
        "exp": now + 600,
        "given_name": "Jane",
        "family_name": "Roe",
        "email": "jane@example.com",
        "lp_sdes": LP_SDES,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def sign(key: RSAPrivateKey, claims: dict[str, Any], kid: str | None = None) -> str:
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)


async def authenticate(h: Harness, id_token: str, account: str = ACCOUNT) -> httpx.Response:
    return await h.client.post(f"/api/account/{account}/authenticate", json={"authCode": id_token})


async def authenticate_v3(h: Harness, id_token: str, account: str = ACCOUNT) -> httpx.Response:
    return await h.client.post(
        f"/api/account/{account}/app/my-connector/authenticate",
        params={"v": "3.0"},
        json={"id_token": id_token},
    )


async def test_authenticate_returns_a_consumer_token(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    kids = await register_pem(h, brand_key, tmp_path)
    assert kids == ["brand-1"]
    claims = id_token_claims(h)
    r = await authenticate(h, sign(brand_key, claims))
    assert r.status_code == 200, r.text
    assert list(r.json()) == ["jwt"]
    token = unverified(r.json()["jwt"])
    assert token["acr"] == "loa1"
    assert token["aud"] == f"acc:{ACCOUNT}"
    assert HEX64.match(token["sub"])
    assert token["exp"] == token["iat"] + 3600 == h.clock.now_ms() // 1000 + 3600
    r3 = await authenticate_v3(h, sign(brand_key, claims))
    assert r3.status_code == 200, r3.text
    assert list(r3.json()) == ["token"]
    assert unverified(r3.json()["token"])["sub"] == token["sub"]  # same person, same consumer
    other = await authenticate(h, sign(brand_key, id_token_claims(h, sub="customer-8")))
    assert unverified(other.json()["jwt"])["sub"] != token["sub"]
    assert token["sub"][:12] == f"{h.clock.now_ms():012x}"  # given when first signed in
    h.clock.advance(5_000)
    later = await authenticate(h, sign(brand_key, id_token_claims(h)))
    assert unverified(later.json()["jwt"])["sub"] == token["sub"]
    # The brand's own id for the same person is another identity (namespace "ext").
    jws = await h.consumer_jws(await h.app_jwt(), ACCOUNT, str(claims["sub"]))
    assert unverified(jws)["lp_consumer_id"] != token["sub"]


async def test_jwks_files_with_a_kid(
    h: Harness, brand_key: RSAPrivateKey, rogue_key: RSAPrivateKey, tmp_path: Path
) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(brand_key.public_key()))
    (tmp_path / "brand.jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k-7"}]}))
    keys = jwks_from_file(tmp_path / "brand.jwks.json")
    assert [k["kid"] for k in keys] == ["k-7"]
    assert "d" not in keys[0]
    assert await register_brand_keys(h.svc, ACCOUNT, keys, ISSUER) == ["k-7"]
    claims = id_token_claims(h)
    r = await authenticate_v3(h, sign(brand_key, claims, kid="k-7"))
    assert r.status_code == 200, r.text
    r = await authenticate_v3(h, sign(brand_key, claims))  # no kid: every key is tried
    assert r.status_code == 200, r.text
    idp_error(await authenticate_v3(h, sign(brand_key, claims, kid="k-8")), 401, 1041)
    idp_error(await authenticate_v3(h, sign(rogue_key, claims, kid="k-7")), 401, 9007)
    # A single JWK (not wrapped in "keys") is a valid file too.
    (tmp_path / "single.json").write_text(json.dumps({**jwk, "kid": "k-9"}))
    assert await register_brand_keys(
        h.svc, "2002", jwks_from_file(tmp_path / "single.json"), None
    ) == ["k-9"]
    r = await authenticate(h, sign(brand_key, claims, kid="k-9"), account="2002")
    assert r.status_code == 200, r.text


def test_key_files_must_hold_public_rsa_keys(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    with pytest.raises(ValueError, match="RSA"):
        jwks_from_file(path)
    (tmp_path / "junk.json").write_text(json.dumps({"keys": [{"kty": "RSA", "n": "x"}]}))
    with pytest.raises(ValueError, match="key"):
        jwks_from_file(tmp_path / "junk.json")


async def conversation_of_token(h: Harness, consumer_token: str) -> str:
    app_jwt = await h.app_jwt()
    return await h.open_conversation({"Authorization": app_jwt, "X-LP-ON-BEHALF": consumer_token})


@pytest.mark.parametrize("route", ["authenticate", "authenticate_v3"])
async def test_id_token_claims_reach_the_public_model(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path, route: str
) -> None:
    await register_pem(h, brand_key, tmp_path)
    claims = id_token_claims(h)
    if route == "authenticate":
        token = (await authenticate(h, sign(brand_key, claims))).json()["jwt"]
    else:
        token = (await authenticate_v3(h, sign(brand_key, claims))).json()["token"]
    conversation_id = await conversation_of_token(h, token)
    model = await h.public_model(conversation_id, await h.agent())
    auth = model["claimsAndAuthType"]
    assert auth["acr"] == "loa1"
    assert auth["claims"] == claims
    assert auth["claims"]["lp_sdes"] == LP_SDES
    assert model["visitorInfo"]["visitorId"] == unverified(token)["sub"]

    details = model["SDE"]["customerDetails"]
    [vip] = [d for d in details if d.get("type") == "vip"]
    assert (vip["status"], vip["customerId"], vip["balance"], vip["socialId"]) == (
        "cancelled",
        "138766AC",
        "-400.99",
        "11256324780",
    )
    assert vip["_meta"]["source"] == "jwt"
    assert vip["_meta"]["authenticated"] is True
    assert vip["_meta"]["actor"] == ISSUER
    [person] = [p for p in model["SDE"]["personalInfo"] if p.get("firstname") == "John"]
    assert (person["lastname"], person["gender"], person["company"]) == ("Doe", "MALE", "company")
    assert person["contactInfo"] == [{"email": "myemail@email.com", "phone": "+1 212-788-8877"}]
    assert person["_meta"]["source"] == "jwt" and person["_meta"]["authenticated"] is True
    assert all(e["_meta"]["source"] == "jwt" for e in details + model["SDE"]["personalInfo"])
    assert model["visitorInfo"]["visitorName"] == "John Doe"
    assert model["authenticatedData"]["customerDetails"][-1]["customerId"] == "138766AC"


async def test_standard_claims_map_onto_sdes(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    claims = id_token_claims(
        h, lp_sdes=None, preferred_username="jroe", phone_number="+44 20 7946 0000", gender="FEMALE"
    )
    assert "lp_sdes" not in claims
    token = (await authenticate(h, sign(brand_key, claims))).json()["jwt"]
    conversation_id = await conversation_of_token(h, token)
    model = await h.public_model(conversation_id, await h.agent())
    [customer] = model["SDE"]["customerDetails"]
    assert (customer["customerId"], customer["userName"]) == ("customer-7", "jroe")
    assert customer["_meta"]["source"] == "jwt" and customer["_meta"]["authenticated"] is True
    [person] = model["SDE"]["personalInfo"]
    assert (person["firstname"], person["lastname"], person["gender"]) == ("Jane", "Roe", "FEMALE")
    assert person["contactInfo"] == [{"email": "jane@example.com", "phone": "+44 20 7946 0000"}]
    assert person["_meta"]["source"] == "jwt" and person["_meta"]["authenticated"] is True
    assert model["visitorInfo"]["visitorName"] == "Jane Roe"
    assert model["claimsAndAuthType"] == {"claims": claims, "acr": "loa1"}


async def test_consumer_token_expires_after_an_hour(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    token = (await authenticate(h, sign(brand_key, id_token_claims(h)))).json()["jwt"]
    h.clock.advance(3_600_000)
    r = await h.post_conversation(
        {"Authorization": await h.app_jwt(), "X-LP-ON-BEHALF": token},
        [{"kind": "req", "id": "1", "type": "userprofile.SetUserProfile", "body": {}}],
    )
    assert r.status_code == 401, r.text
    assert r.json()["body"]["errorCode"] == 40103


# -- id_token rejections --------------------------------------------------------------------


async def test_expired_id_token(h: Harness, brand_key: RSAPrivateKey, tmp_path: Path) -> None:
    await register_pem(h, brand_key, tmp_path)
    id_token = sign(brand_key, id_token_claims(h, exp=h.clock.now_ms() // 1000 + 60))
    h.clock.advance(59_999)
    assert (await authenticate(h, id_token)).status_code == 200
    h.clock.advance(1)
    message = idp_error(await authenticate(h, id_token), 401, 1012)
    assert "expired" in message
    idp_error(await authenticate_v3(h, id_token), 401, 1012)


async def test_id_token_signed_with_another_key(
    h: Harness, brand_key: RSAPrivateKey, rogue_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    message = idp_error(await authenticate(h, sign(rogue_key, id_token_claims(h))), 401, 9007)
    assert "signature" in message
    idp_error(await authenticate_v3(h, sign(rogue_key, id_token_claims(h))), 401, 9007)


async def test_id_token_with_a_tampered_payload(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    header, _, signature = sign(brand_key, id_token_claims(h)).split(".")
    forged_payload = jwt.utils.base64url_encode(
        json.dumps(id_token_claims(h, sub="someone-else")).encode()
    ).decode()
    idp_error(await authenticate(h, f"{header}.{forged_payload}.{signature}"), 401, 9007)


async def test_id_token_from_another_issuer(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    r = await authenticate(h, sign(brand_key, id_token_claims(h, iss="https://evil.example")))
    message = idp_error(r, 401, 9007)
    assert "evil.example" in message


async def test_issuer_is_free_when_none_was_registered(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path, issuer=None)
    r = await authenticate(h, sign(brand_key, id_token_claims(h, iss="https://any.example")))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("claim", ["exp", "iat", "iss"])
async def test_id_token_missing_a_mandatory_claim(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path, claim: str
) -> None:
    await register_pem(h, brand_key, tmp_path, issuer=None)
    claims = id_token_claims(h)
    del claims[claim]
    message = idp_error(await authenticate(h, sign(brand_key, claims)), 401, 9007)
    assert claim in message


async def test_id_token_with_a_non_numeric_exp(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    r = await authenticate(h, sign(brand_key, id_token_claims(h, exp="tomorrow")))
    assert "exp" in idp_error(r, 401, 9007)


async def test_no_key_registered(h: Harness, brand_key: RSAPrivateKey) -> None:
    message = idp_error(await authenticate(h, sign(brand_key, id_token_claims(h))), 401, 1041)
    assert "key" in message
    idp_error(await authenticate_v3(h, sign(brand_key, id_token_claims(h))), 401, 1041)


async def test_keys_are_per_account(h: Harness, brand_key: RSAPrivateKey, tmp_path: Path) -> None:
    await register_pem(h, brand_key, tmp_path, account="2002")
    idp_error(await authenticate(h, sign(brand_key, id_token_claims(h))), 401, 1041)
    assert (await authenticate(h, sign(brand_key, id_token_claims(h)), "2002")).status_code == 200


async def test_garbage_id_token(h: Harness, brand_key: RSAPrivateKey, tmp_path: Path) -> None:
    await register_pem(h, brand_key, tmp_path)
    idp_error(await authenticate(h, "not.a.jwt"), 401, 9007)


@pytest.mark.parametrize("body", [{}, {"authCode": ""}, {"authCode": ["t"]}, "token"])
async def test_authenticate_bad_bodies(h: Harness, body: Any) -> None:
    r = await h.client.post(f"/api/account/{ACCOUNT}/authenticate", json=body)
    idp_error(r, 400, 9012)


async def test_cart_in_lp_sdes_is_rejected_and_quarantined(
    h: Harness, brand_key: RSAPrivateKey, tmp_path: Path
) -> None:
    await register_pem(h, brand_key, tmp_path)
    cart = {"type": "cart", "total": 11.7, "numItems": 1, "products": []}
    id_token = sign(brand_key, id_token_claims(h, lp_sdes=[cart]))
    raw = json.dumps({"authCode": id_token}, separators=(",", ":")).encode()
    r = await h.client.post(
        f"/api/account/{ACCOUNT}/authenticate",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    message = idp_error(r, 400, 9012)
    assert "$.lp_sdes[0].type" in message
    q = await h.client.get(f"/api/account/{ACCOUNT}/quarantine", headers=await h.agent())
    assert q.status_code == 200, q.text
    [item] = q.json()["items"]
    assert item["body"] == raw.decode()
    assert item["api"] == "idp.authenticate"
    assert item["status"] == 400
    assert item["contentType"] == "application/json"
    assert [e["path"] for e in item["errors"]] == ["$.lp_sdes[0].type"]
    # Nothing of the rejected consumer was recorded: a valid token later is a fresh sign-in.
    ok = await authenticate(h, sign(brand_key, id_token_claims(h, lp_sdes=None)))
    model = await h.public_model(await conversation_of_token(h, ok.json()["jwt"]), await h.agent())
    assert model["SDE"]["shoppingCart"] == []


async def test_authenticate_on_an_unknown_account_without_emulator(
    make_harness: HarnessFactory, brand_key: RSAPrivateKey
) -> None:
    async with make_harness(emulator=False) as h:
        r = await authenticate(h, sign(brand_key, id_token_claims(h)), account="4004")
        idp_error(r, 401, 1008)
