"""OAuth 1.0 signed requests to the Messaging Interactions API, and ``sdehub apikeys add``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from oauthlib.oauth1 import Client

from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio
PATH = f"/messaging_history/api/account/{ACCOUNT}/conversations/search"
KEY = {"consumer_key": "ck", "consumer_secret": "cs", "token": "tk", "token_secret": "ts"}


def signed(
    h: Harness, *, url: str = f"http://sdehub.test{PATH}?v=2&limit=5", secret: str = "cs",
    nonce: str = "n-1", skew_s: int = 0, key: str = "ck",
) -> tuple[str, dict[str, str], str]:  # fmt: skip
    body = json.dumps({"start": {"from": h.clock.now_ms() - 3_600_000, "to": h.clock.now_ms()}})
    client = Client(
        key, client_secret=secret, resource_owner_key="tk", resource_owner_secret="ts",
        timestamp=str(h.clock.now_ms() // 1000 + skew_s), nonce=nonce,
    )  # fmt: skip
    uri, headers, _ = client.sign(
        url, http_method="POST", body=body, headers={"Content-Type": "application/json"}
    )
    return uri, dict(headers), body


async def post(h: Harness, headers: dict[str, str], body: str, **extra: str) -> Any:
    return await h.client.post(f"{PATH}?v=2&limit=5", content=body, headers={**headers, **extra})


async def test_a_valid_signature_is_accepted(h: Harness) -> None:
    await h.svc.apikeys.add(ACCOUNT, **KEY)
    _, headers, body = signed(h)
    r = await post(h, headers, body)
    assert r.status_code == 200, r.text
    assert r.json()["_metadata"]["count"] == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "wrong"}, "signature does not match"),
        ({"skew_s": -301}, "oauth_timestamp"),
        ({"skew_s": 400}, "oauth_timestamp"),
        ({"url": f"https://elsewhere.example{PATH}?v=2&limit=5"}, "signature does not match"),
    ],
)
async def test_bad_signatures_are_401(h: Harness, change: dict[str, Any], message: str) -> None:
    await h.svc.apikeys.add(ACCOUNT, **KEY)
    _, headers, body = signed(h, **change)
    r = await post(h, headers, body)
    assert r.status_code == 401 and message in r.json()["message"], r.text


async def test_a_changed_body_is_refused(h: Harness) -> None:
    await h.svc.apikeys.add(ACCOUNT, **KEY)
    _, headers, body = signed(h)
    r = await post(h, headers, body.replace("from", "from", 1) + " ")
    assert r.status_code == 401 and "body_hash" in r.json()["message"]


async def test_a_replayed_nonce_is_refused(h: Harness) -> None:
    await h.svc.apikeys.add(ACCOUNT, **KEY)
    _, headers, body = signed(h)
    assert (await post(h, headers, body)).status_code == 200
    r = await post(h, headers, body)
    assert r.status_code == 401 and "nonce" in r.json()["message"]


async def test_the_url_behind_a_proxy_is_rebuilt_from_forwarded_headers(h: Harness) -> None:
    await h.svc.apikeys.add(ACCOUNT, **KEY)
    url = f"https://va.msghist.liveperson.net{PATH}?v=2&limit=5"
    _, headers, body = signed(h, url=url)
    assert (await post(h, headers, body)).status_code == 401
    _, headers, body = signed(h, url=url, nonce="n-2")
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "va.msghist.liveperson.net"}
    r = await post(h, headers, body, **forwarded)
    assert r.status_code == 200, r.text


async def test_unknown_keys_are_recorded_in_emulator_mode_then_verified(h: Harness) -> None:
    _, headers, body = signed(h, key="new-key")
    assert (await post(h, headers, body)).status_code == 200
    (recorded,) = await h.svc.apikeys.list(ACCOUNT)
    assert recorded.consumer_key == "new-key" and recorded.emulated
    assert recorded.consumer_secret is None
    await h.svc.apikeys.add(ACCOUNT, **{**KEY, "consumer_key": "new-key"})
    _, headers, body = signed(h, key="new-key", secret="wrong", nonce="n-2")
    assert (await post(h, headers, body)).status_code == 401


async def test_unknown_keys_are_refused_outside_emulator_mode(
    make_harness: HarnessFactory,
) -> None:
    async with make_harness(emulator=False) as h:
        from sdehub.store import accounts

        await h.svc.db.write(
            accounts.add_account,
            accounts.Account(account_id=ACCOUNT, name=None, emulated=False, created_ms=0),
        )
        _, headers, body = signed(h)
        r = await post(h, headers, body)
        assert r.status_code == 401 and "unknown" in r.json()["message"]


async def test_a_key_of_another_account_is_not_accepted(h: Harness) -> None:
    await h.svc.apikeys.add("1002", **KEY)
    await h.svc.apikeys.add(ACCOUNT, **{**KEY, "consumer_secret": "other"})
    _, headers, body = signed(h)
    assert (await post(h, headers, body)).status_code == 401


def test_cli_generates_and_prints_what_is_omitted(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from sdehub.cli import main

    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    assert runner.invoke(main, ["migrate", "--db", db]).exit_code == 0
    assert runner.invoke(main, ["accounts", "add", "3001", "--db", db]).exit_code == 0
    done = runner.invoke(main, ["apikeys", "add", "3001", "--key", "k1", "--db", db])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "api key k1 on account 3001"
    assert [line.split(":")[0] for line in lines[1:]] == [
        "consumer_secret", "token", "token_secret"
    ]  # fmt: skip
