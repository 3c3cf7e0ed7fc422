"""CORS on the Monitoring API: per-account allowed origins, reflected in emulator mode, nothing
anywhere else; the origins' normal form, the CLI command and the seed file that set them."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from sdehub import cli
from sdehub.cors import ALLOW_HEADERS, ALLOW_METHODS, InvalidOrigin, normalize_origin
from tests.conftest import HarnessFactory
from tests.harness import Harness

pytestmark = pytest.mark.anyio

ACCOUNT = "3101"
SHOP = "https://shop.example"
ENGAGEMENT = f"/api/account/{ACCOUNT}/app/web-1/engagement"
REPORT = f"/api/account/{ACCOUNT}/app/web-1/report"


def preflight(origin: str, method: str = "PUT") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type",
    }


@pytest.fixture
async def strict(make_harness: HarnessFactory) -> AsyncIterator[Harness]:
    """A non-emulator app: account ACCOUNT, its app web-1, two origins allowed."""
    async with make_harness(emulator=False) as h:
        await h.svc.accounts.add(ACCOUNT)
        await h.svc.accounts.put_app(ACCOUNT, "web-1", "web-secret")
        await h.svc.accounts.set_origins(ACCOUNT, [SHOP, "http://localhost:3000"])
        yield h


def cors_headers(r: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.startswith("access-control-")}


async def test_allowed_origin_is_echoed(strict: Harness) -> None:
    r = await strict.client.post(ENGAGEMENT, params={"v": "1.1"}, headers={"Origin": SHOP})
    assert r.status_code == 201
    assert cors_headers(r) == {
        "access-control-allow-origin": SHOP,
        "access-control-expose-headers": "X-Request-ID",
    }
    assert r.headers["vary"] == "Origin"
    ids = r.json()
    r = await strict.client.put(
        REPORT,
        params={"v": "1.1", "vid": ids["visitorId"], "sid": ids["sessionId"]},
        headers={"Origin": "http://localhost:3000"},
        json={"engagementAttributes": []},
    )
    assert (
        r.status_code == 200 and r.headers["access-control-allow-origin"] == "http://localhost:3000"
    )


async def test_preflight_is_answered_for_an_allowed_origin(strict: Harness) -> None:
    for path in (ENGAGEMENT, REPORT):
        r = await strict.client.options(path, headers=preflight(SHOP))
        assert r.status_code == 204, r.text
        assert cors_headers(r) == {
            "access-control-allow-origin": SHOP,
            "access-control-allow-methods": ALLOW_METHODS,
            "access-control-allow-headers": ALLOW_HEADERS,
            "access-control-max-age": "600",
        }
        assert "Origin" in r.headers["vary"]


async def test_disallowed_origin_gets_no_cors_but_is_processed(strict: Harness) -> None:
    evil = "https://evil.example"
    r = await strict.client.options(ENGAGEMENT, headers=preflight(evil))
    assert r.status_code == 403 and cors_headers(r) == {}
    assert "sdehub accounts origins" in r.text
    r = await strict.client.post(ENGAGEMENT, params={"v": "1.1"}, headers={"Origin": evil})
    assert r.status_code == 201  # a client that is not a browser gets its answer
    assert cors_headers(r) == {} and r.headers["vary"] == "Origin"
    for origin in ("null", "https://shop.example.evil", "http://shop.example"):
        r = await strict.client.options(ENGAGEMENT, headers=preflight(origin))
        assert r.status_code == 403 and cors_headers(r) == {}, origin


async def test_no_origin_no_cors(strict: Harness) -> None:
    r = await strict.client.post(ENGAGEMENT, params={"v": "1.1"})
    assert r.status_code == 201 and cors_headers(r) == {} and "vary" not in r.headers
    # Without Access-Control-Request-Method an OPTIONS is not a preflight: the router's answer.
    r = await strict.client.options(ENGAGEMENT, headers={"Origin": SHOP})
    assert r.status_code == 405


async def test_errors_carry_cors_too(strict: Harness) -> None:
    """A page must be able to read why its call failed."""
    r = await strict.client.put(REPORT, params={"v": "9"}, headers={"Origin": SHOP}, json={})
    assert r.status_code == 400 and r.headers["access-control-allow-origin"] == SHOP
    r = await strict.client.options(
        f"/api/account/{ACCOUNT}/app/unknown-app/engagement", headers=preflight(SHOP)
    )
    assert r.status_code == 204  # the account allows the origin; the app is checked on the call
    r = await strict.client.options(
        "/api/account/9999/app/web-1/engagement", headers=preflight(SHOP)
    )
    assert r.status_code == 403  # an account that does not exist allows nothing


async def test_only_the_monitoring_calls_answer_cors(strict: Harness) -> None:
    headers = {"Origin": SHOP}
    conversation = f"/api/account/{ACCOUNT}/messaging/consumer/conversation"
    r = await strict.client.post(conversation, params={"v": "3"}, headers=headers, json=[])
    assert r.status_code == 401 and cors_headers(r) == {}
    r = await strict.client.options(conversation, headers=preflight(SHOP, "POST"))
    assert r.status_code == 405 and cors_headers(r) == {}
    state = f"/api/account/{ACCOUNT}/monitoring/visitors/v/visits/current/state"
    r = await strict.client.get(state, params={"v": "1", "sid": "s"}, headers=headers)
    assert r.status_code == 401 and cors_headers(r) == {}


async def test_emulator_reflects_any_origin(h: Harness) -> None:
    for origin in ("https://anything.example", "http://127.0.0.1:5500", "null"):
        r = await h.client.options("/api/account/3102/app/a/report", headers=preflight(origin))
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == origin
        r = await h.client.post(
            "/api/account/3102/app/a/engagement", params={"v": "1.1"}, headers={"Origin": origin}
        )
        assert r.status_code == 201 and r.headers["access-control-allow-origin"] == origin


async def test_a_change_is_seen_within_the_cache_time(strict: Harness) -> None:
    new = "https://new.example"
    assert (await strict.client.options(ENGAGEMENT, headers=preflight(new))).status_code == 403
    await strict.svc.accounts.set_origins(ACCOUNT, [new])
    assert (await strict.client.options(ENGAGEMENT, headers=preflight(new))).status_code == 403
    strict.clock.advance(10_001)
    assert (await strict.client.options(ENGAGEMENT, headers=preflight(new))).status_code == 204
    assert (await strict.client.options(ENGAGEMENT, headers=preflight(SHOP))).status_code == 403


async def test_preflights_are_logged_under_their_route(strict: Harness) -> None:
    await strict.client.options(ENGAGEMENT, headers=preflight(SHOP))
    metrics = (await strict.client.get("/metrics")).text
    route = "/api/account/{accountId}/app/{appInstallationId}/engagement"
    assert f'sdehub_requests_total{{method="OPTIONS",route="{route}",status="204"}} 1.0' in metrics


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://shop.example", "https://shop.example"),
        ("HTTPS://Shop.Example:443/", "https://shop.example"),
        ("http://shop.example:80", "http://shop.example"),
        ("http://localhost:3000", "http://localhost:3000"),
        (" http://[::1]:8080 ", "http://[::1]:8080"),
    ],
)
def test_origins_are_normalised(given: str, normal: str) -> None:
    assert normalize_origin(given) == normal


@pytest.mark.parametrize(
    "bad",
    ["shop.example", "ftp://shop.example", "https://shop.example/path", "https://a@shop.example",
     "https://shop.example?x=1", "https://", "https://shop.example:99999", "null", "*"],
)  # fmt: skip
def test_what_is_not_an_origin(bad: str) -> None:
    with pytest.raises(InvalidOrigin):
        normalize_origin(bad)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli.main, list(args), catch_exceptions=False)


def test_cli_sets_shows_and_clears_origins(tmp_path: Path) -> None:
    db = ("--db", str(tmp_path / "cli.db"))
    none = "account 3103 allows no origin\n"
    run("accounts", "add", "3103", *db)
    assert run("accounts", "origins", "3103", *db).output == none
    result = run("accounts", "origins", "3103", "HTTPS://Shop.Example/", "http://localhost:3000",
                 "https://shop.example", *db)  # fmt: skip
    assert result.output == "https://shop.example\nhttp://localhost:3000\n"
    assert run("accounts", "origins", "3103", *db).output == result.output
    bad = run("accounts", "origins", "3103", "https://shop.example/cart", *db)
    assert bad.exit_code == 2 and "not an origin" in bad.output
    assert run("accounts", "origins", "3103", *db).output == result.output
    assert run("accounts", "origins", "3103", "https://x.example", "--clear", *db).exit_code == 2
    assert run("accounts", "origins", "3103", "--clear", *db).output == none
    unknown = run("accounts", "origins", "3999", "https://x.example", *db)
    assert unknown.exit_code == 1 and "not configured" in unknown.output


async def test_seed_file_sets_origins(make_harness: HarnessFactory, tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": [
        {"id": "3104", "allowed_origins": ["https://Shop.Example", "http://localhost:3000"]},
        {"id": "3105"},
    ]}))  # fmt: skip
    db = str(tmp_path / "seeded.db")
    async with make_harness(emulator=False, seed_file=str(seed), db=db) as h:
        account = await h.svc.accounts.get("3104")
        assert account.allowed_origins == ["https://shop.example", "http://localhost:3000"]
        assert (await h.svc.accounts.get("3105")).allowed_origins is None
        await h.svc.accounts.set_origins("3105", ["https://kept.example"])
    # Loading the file again: what it names is replaced, what it does not name is kept.
    async with make_harness(emulator=False, seed_file=str(seed), db=db) as h:
        assert (await h.svc.accounts.get("3105")).allowed_origins == ["https://kept.example"]
        r = await h.client.options("/api/account/3104/app/a/report", headers=preflight(SHOP))
        assert r.status_code == 204
