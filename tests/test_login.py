"""Login Service API (agentVep): login, refresh, logout, and what the bearer then opens."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jwt
import pytest

from sdehub.api.csds import SERVICES
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

TTL_MS = 28_800_000
LOGIN_KEYS = [
    "csrf",
    "wsuk",
    "config",
    "csdsCollectionResponse",
    "accountData",
    "sessionTTl",
    "bearer",
]
CONFIG_KEYS = [
    "loginName",
    "userId",
    "userPrivileges",
    "serverCurrentTime",
    "timeDiff",
    "serverTimeZoneName",
    "serverTimeGMTDiff",
    "isLPA",
    "isAdmin",
    "accountTimeZoneId",
]
ERROR_TIME = re.compile(r"^[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2}:\d{2} [AP]M$")


async def login(
    h: Harness, username: str = "agent-1", password: str = "pw-1", account: str = ACCOUNT
) -> httpx.Response:
    return await h.client.post(
        f"/api/account/{account}/login",
        params={"v": "1.3"},
        json={"username": username, "password": password},
    )


async def session_call(
    h: Harness, what: str, session_id: str | None, csrf: Any, account: str = ACCOUNT
) -> httpx.Response:
    """Refresh or logout with an explicit cookie (the client's own jar is emptied first)."""
    h.client.cookies.clear()
    headers = {"Cookie": f"Session_id={session_id}"} if session_id else {}
    return await h.client.post(
        f"/api/account/{account}/{what}", params={"v": "1.3"}, headers=headers, json={"csrf": csrf}
    )


def login_error(r: httpx.Response, status: int, code: int | None, response_status: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["error"]
    assert list(body["error"]) == ["time", "message", "internalCode", "responseStatus"]
    assert isinstance(body["error"]["internalCode"], int)
    if code is not None:
        assert body["error"]["internalCode"] == code
    assert body["error"]["responseStatus"] == response_status
    assert ERROR_TIME.match(body["error"]["time"]), body
    message: str = body["error"]["message"]
    assert message
    return message


async def guarded_calls(h: Harness, bearer: str, account: str = ACCOUNT) -> list[int]:
    """Status of the agent-bearer endpoints (quarantine, public model) for this bearer."""
    headers = {"Authorization": f"Bearer {bearer}"}
    q = await h.client.get(f"/api/account/{account}/quarantine", headers=headers)
    m = await h.client.get(
        f"/api/account/{account}/agent-workspace/conversations/no-such/public-model",
        headers=headers,
    )
    return [q.status_code, m.status_code]


LIVE = [200, 404]  # quarantine answers; the (unknown) conversation is looked up
REFUSED = [401, 401]


# -- login ----------------------------------------------------------------------------------


async def test_login_body_in_the_documented_order(h: Harness) -> None:
    r = await login(h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == LOGIN_KEYS
    assert isinstance(body["csrf"], str) and body["csrf"]
    assert isinstance(body["wsuk"], str) and body["wsuk"]
    config = body["config"]
    assert list(config) == CONFIG_KEYS
    assert config["loginName"] == "agent-1"
    assert config["userId"].isdigit()
    assert config["serverCurrentTime"] == h.clock.now_ms()
    assert body["csdsCollectionResponse"].keys() == {"baseURIs"}
    uris = body["csdsCollectionResponse"]["baseURIs"]
    assert [u["service"] for u in uris] == list(SERVICES)
    assert all(
        u == {"service": u["service"], "account": ACCOUNT, "baseURI": "sdehub.test"} for u in uris
    )
    groups = body["accountData"]["agentGroupsData"]
    assert list(body["accountData"]) == ["agentGroupsData"]
    assert list(groups) == ["items", "revision"]
    assert isinstance(groups["items"], list) and groups["items"]
    assert isinstance(groups["revision"], int)
    assert body["sessionTTl"] == "28800000"


async def test_login_bearer_claims(h: Harness) -> None:
    r = await login(h)
    bearer = r.json()["bearer"]
    assert list(r.json())[-1] == "bearer"
    claims = jwt.decode(bearer, options={"verify_signature": False})
    assert claims["aud"] == f"le{ACCOUNT}"
    assert claims["sub"] == r.json()["config"]["userId"]
    assert claims["exp"] == (h.clock.now_ms() + TTL_MS) // 1000
    assert jwt.get_unverified_header(bearer)["alg"] == "RS256"


async def test_login_sets_the_session_cookie(h: Harness) -> None:
    r = await login(h)
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith("Session_id=")
    assert "HttpOnly" in set_cookie
    assert f"Path=/api/account/{ACCOUNT}" in set_cookie
    assert "Max-Age=28800" in set_cookie
    session_id = r.cookies["Session_id"]
    session = await h.svc.accounts.session(ACCOUNT, session_id)
    assert session is not None
    assert session.csrf == r.json()["csrf"]
    assert session.expires_ms == h.clock.now_ms() + TTL_MS


async def test_session_ttl_setting(make_harness: HarnessFactory) -> None:
    async with make_harness(agent_session_ttl=60) as h:
        r = await login(h)
        assert r.json()["sessionTTl"] == "60000"
        assert "Max-Age=60" in r.headers["set-cookie"]


async def test_each_login_is_a_new_session(h: Harness) -> None:
    first, second = await login(h), await login(h)
    assert first.cookies["Session_id"] != second.cookies["Session_id"]
    assert first.json()["csrf"] != second.json()["csrf"]
    assert first.json()["config"]["userId"] == second.json()["config"]["userId"]


async def test_wrong_password(h: Harness) -> None:
    assert (await login(h, password="right")).status_code == 200
    r = await login(h, password="wrong")
    message = login_error(r, 401, 1, "UNAUTHORIZED")
    assert "password" in message
    assert "set-cookie" not in r.headers
    assert (await login(h, password="right")).status_code == 200


async def test_emulator_creates_unknown_agents(h: Harness) -> None:
    a = await login(h, "alice", "a-pw")
    b = await login(h, "bob", "b-pw")
    assert a.status_code == b.status_code == 200
    ids = {a.json()["config"]["userId"], b.json()["config"]["userId"]}
    assert len(ids) == 2
    assert all(int(i) >= 1_000_000_000 for i in ids)
    assert (await login(h, "alice", "b-pw")).status_code == 401  # the first password stuck


async def test_without_emulator_only_configured_agents(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        login_error(await login(h), 401, 1, "UNAUTHORIZED")  # unknown account
        await h.svc.accounts.add(ACCOUNT)
        message = login_error(await login(h), 401, 1, "UNAUTHORIZED")  # unknown agent
        assert "user name or password" in message
        user = await h.svc.accounts.put_user(ACCOUNT, "agent-1", "pw-1", nickname="Ann")
        r = await login(h)
        assert r.status_code == 200, r.text
        assert r.json()["config"]["userId"] == user.user_id
        login_error(await login(h, password="pw-2"), 401, 1, "UNAUTHORIZED")
        login_error(await login(h, "agent-2", "pw-1"), 401, 1, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "body",
    [{}, {"password": "x"}, {"username": "a"}, {"username": "a", "appKey": "k"}, [], "x"],
)
async def test_login_bad_bodies(h: Harness, body: Any) -> None:
    r = await h.client.post(f"/api/account/{ACCOUNT}/login", params={"v": "1.3"}, json=body)
    login_error(r, 400, None, "BAD_REQUEST")


# -- refresh and logout ---------------------------------------------------------------------


async def test_refresh_and_logout_with_cookie_and_csrf(h: Harness) -> None:
    r = await login(h)
    session_id, csrf = r.cookies["Session_id"], r.json()["csrf"]
    refreshed = await session_call(h, "refresh", session_id, csrf)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.content == b""
    assert await guarded_calls(h, r.json()["bearer"]) == LIVE
    out = await session_call(h, "logout", session_id, csrf)
    assert out.status_code == 200, out.text
    assert out.content == b""
    session = await h.svc.accounts.session(ACCOUNT, session_id)
    assert session is not None and session.revoked


async def test_the_login_cookie_is_sent_back_by_a_client(h: Harness) -> None:
    r = await login(h)
    # No explicit Cookie header: the client's jar must match the cookie's path.
    refreshed = await h.client.post(
        f"/api/account/{ACCOUNT}/refresh", json={"csrf": r.json()["csrf"]}
    )
    assert refreshed.status_code == 200, refreshed.text


@pytest.mark.parametrize("what", ["refresh", "logout"])
async def test_wrong_csrf_or_cookie(h: Harness, what: str) -> None:
    r = await login(h)
    session_id, csrf = r.cookies["Session_id"], r.json()["csrf"]
    other = await login(h, "agent-2", "pw-2")
    cases = [
        (session_id, "wrong"),
        (session_id, other.json()["csrf"]),  # another session's csrf
        (other.cookies["Session_id"], csrf),
        (None, csrf),
        ("no-such-session", csrf),
    ]
    for cookie, token in cases:
        login_error(await session_call(h, what, cookie, token), 401, 10, "UNAUTHORIZED")
    h.client.cookies.clear()
    bad = await h.client.post(
        f"/api/account/{ACCOUNT}/{what}",
        headers={"Cookie": f"Session_id={session_id}"},
        json={"nope": csrf},
    )
    login_error(bad, 401, 10, "UNAUTHORIZED")
    # None of that ended the session.
    assert await guarded_calls(h, r.json()["bearer"]) == LIVE
    assert (await session_call(h, what, session_id, csrf)).status_code == 200


async def test_logout_ends_the_bearer(h: Harness) -> None:
    r = await login(h)
    bearer, session_id, csrf = r.json()["bearer"], r.cookies["Session_id"], r.json()["csrf"]
    other = (await login(h, "agent-2", "pw-2")).json()["bearer"]
    assert await guarded_calls(h, bearer) == LIVE
    assert (await session_call(h, "logout", session_id, csrf)).status_code == 200
    assert await guarded_calls(h, bearer) == REFUSED
    assert await guarded_calls(h, other) == LIVE  # only that session ended
    q = await h.client.get(
        f"/api/account/{ACCOUNT}/quarantine", headers={"Authorization": f"Bearer {bearer}"}
    )
    assert q.json()["error"]["status"] == 401
    assert q.headers["www-authenticate"].startswith("Bearer")
    login_error(await session_call(h, "refresh", session_id, csrf), 401, 10, "UNAUTHORIZED")
    login_error(await session_call(h, "logout", session_id, csrf), 401, 10, "UNAUTHORIZED")


async def test_a_session_expires(h: Harness) -> None:
    r = await login(h)
    bearer, session_id, csrf = r.json()["bearer"], r.cookies["Session_id"], r.json()["csrf"]
    h.clock.advance(TTL_MS - 1)
    assert await guarded_calls(h, bearer) == LIVE
    h.clock.advance(1)
    assert await guarded_calls(h, bearer) == REFUSED
    login_error(await session_call(h, "refresh", session_id, csrf), 401, 10, "UNAUTHORIZED")
    login_error(await session_call(h, "logout", session_id, csrf), 401, 10, "UNAUTHORIZED")


async def test_refresh_keeps_the_session_and_its_bearer_alive(h: Harness) -> None:
    r = await login(h)
    bearer, session_id, csrf = r.json()["bearer"], r.cookies["Session_id"], r.json()["csrf"]
    h.clock.advance(TTL_MS - 60_000)
    assert (await session_call(h, "refresh", session_id, csrf)).status_code == 200
    session = await h.svc.accounts.session(ACCOUNT, session_id)
    assert session is not None and session.expires_ms == h.clock.now_ms() + TTL_MS
    h.clock.advance(120_000)  # past the first expiry, well within the refreshed one
    assert await guarded_calls(h, bearer) == LIVE
    h.clock.advance(TTL_MS)  # past the refreshed expiry
    assert await guarded_calls(h, bearer) == REFUSED


async def test_a_bearer_is_refused_on_another_account(h: Harness) -> None:
    a = await login(h, account=ACCOUNT)
    b = await login(h, account="2002")
    assert await guarded_calls(h, a.json()["bearer"], ACCOUNT) == LIVE
    assert await guarded_calls(h, a.json()["bearer"], "2002") == REFUSED
    assert await guarded_calls(h, b.json()["bearer"], "2002") == LIVE
    assert await guarded_calls(h, b.json()["bearer"], ACCOUNT) == REFUSED
    r = await session_call(h, "logout", a.cookies["Session_id"], a.json()["csrf"], "2002")
    login_error(r, 401, 10, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer not-a-jwt", "Basic YWdlbnQ6cHc="]
)
async def test_agent_endpoints_need_a_bearer(h: Harness, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    r = await h.client.get(f"/api/account/{ACCOUNT}/quarantine", headers=headers)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["status"] == 401


async def test_an_app_jwt_is_not_an_agent_bearer(h: Harness) -> None:
    app_jwt = await h.app_jwt()
    assert await guarded_calls(h, app_jwt) == REFUSED
