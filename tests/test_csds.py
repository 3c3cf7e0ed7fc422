"""Domain API (CSDS): the host of every service, in its three URL forms, and its settings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sdehub.api.csds import SERVICES
from tests.conftest import HarnessFactory
from tests.harness import ACCOUNT, Harness

pytestmark = pytest.mark.anyio

ALL_FORMS = [
    "/api/account/{account}/service/baseURI.json",
    "/api/account/{account}/service/baseURI",
]
ONE = "/api/account/{account}/service/{service}/baseURI.json"
REQUIRED = [
    "asyncMessagingEnt",
    "sentinel",
    "idp",
    "smt",
    "msgHist",
    "agentVep",
    "leDataReporting",
]


async def get(h: Harness, path: str, version: str | None = "1.0", **headers: str) -> httpx.Response:
    return await h.client.get(
        path, params={"version": version} if version else None, headers=headers
    )


def hosts(body: dict[str, Any]) -> dict[str, str]:
    assert list(body) == ["baseURIs"]
    uris = body["baseURIs"]
    assert isinstance(uris, list)
    assert all(list(u) == ["service", "account", "baseURI"] for u in uris), uris
    by_name = {u["service"]: u["baseURI"] for u in uris}
    assert len(by_name) == len(uris)  # no service twice
    return by_name


def error(r: httpx.Response, status: int) -> str:
    assert r.status_code == status, r.text
    detail = r.json()["error"]
    assert detail["status"] == status
    message: str = detail["message"]
    return message


@pytest.mark.parametrize("form", ALL_FORMS)
async def test_every_service_answers_with_the_request_host(h: Harness, form: str) -> None:
    r = await get(h, form.format(account=ACCOUNT))
    assert r.status_code == 200, r.text
    by_name = hosts(r.json())
    assert list(by_name) == list(SERVICES)
    assert set(REQUIRED) <= set(by_name)
    assert set(by_name.values()) == {"sdehub.test"}
    assert {u["account"] for u in r.json()["baseURIs"]} == {ACCOUNT}


@pytest.mark.parametrize("service", SERVICES)
async def test_one_service(h: Harness, service: str) -> None:
    r = await get(h, ONE.format(account=ACCOUNT, service=service))
    assert r.status_code == 200, r.text
    assert r.json() == {"service": service, "account": ACCOUNT, "baseURI": "sdehub.test"}


async def test_the_host_header_is_handed_back(h: Harness) -> None:
    r = await get(h, ALL_FORMS[0].format(account=ACCOUNT), Host="lp.example:8443")
    assert set(hosts(r.json()).values()) == {"lp.example:8443"}
    r = await get(h, ONE.format(account=ACCOUNT, service="idp"), Host="other.example")
    assert r.json()["baseURI"] == "other.example"


async def test_version_defaults_to_one(h: Harness) -> None:
    r = await get(h, ALL_FORMS[1].format(account=ACCOUNT), version=None)
    assert r.status_code == 200, r.text
    assert list(hosts(r.json())) == list(SERVICES)


@pytest.mark.parametrize("version", ["2.0", "1", "abc"])
async def test_unsupported_versions(h: Harness, version: str) -> None:
    for path in [*ALL_FORMS, ONE.replace("{service}", "smt")]:
        message = error(await get(h, path.format(account=ACCOUNT), version=version), 400)
        assert version in message


@pytest.mark.parametrize("service", ["nope", "SMT", "AgentVep", "baseURI"])
async def test_unknown_service(h: Harness, service: str) -> None:
    r = await get(h, ONE.format(account=ACCOUNT, service=service))
    assert service in error(r, 404)


async def test_public_host_and_service_hosts(make_harness: HarnessFactory) -> None:
    async with make_harness(
        public_host="lp.brand.example", service_hosts="smt=a.example, idp=b.example:9443"
    ) as h:
        for form in ALL_FORMS:
            by_name = hosts((await get(h, form.format(account=ACCOUNT))).json())
            assert by_name["smt"] == "a.example"
            assert by_name["idp"] == "b.example:9443"
            others = {v for k, v in by_name.items() if k not in ("smt", "idp")}
            assert others == {"lp.brand.example"}
        one = await get(h, ONE.format(account=ACCOUNT, service="smt"), Host="ignored.example")
        assert one.json()["baseURI"] == "a.example"
        one = await get(h, ONE.format(account=ACCOUNT, service="sentinel"))
        assert one.json()["baseURI"] == "lp.brand.example"


async def test_service_hosts_without_public_host(make_harness: HarnessFactory) -> None:
    async with make_harness(service_hosts="smt=a.example") as h:
        by_name = hosts((await get(h, ALL_FORMS[0].format(account=ACCOUNT))).json())
        assert by_name["smt"] == "a.example"
        assert {v for k, v in by_name.items() if k != "smt"} == {"sdehub.test"}


async def test_login_hands_out_the_same_hosts(make_harness: HarnessFactory) -> None:
    async with make_harness(public_host="lp.brand.example", service_hosts="smt=a.example") as h:
        csds = hosts((await get(h, ALL_FORMS[0].format(account=ACCOUNT))).json())
        r = await h.client.post(
            f"/api/account/{ACCOUNT}/login",
            params={"v": "1.3"},
            json={"username": "a", "password": "p"},
        )
        assert hosts(r.json()["csdsCollectionResponse"]) == csds


async def test_unknown_account_without_emulator(make_harness: HarnessFactory) -> None:
    async with make_harness(emulator=False) as h:
        for path in [*ALL_FORMS, ONE.replace("{service}", "smt")]:
            assert "9009" in error(await get(h, path.format(account="9009")), 401)
        await h.svc.accounts.add("9009")
        for path in [*ALL_FORMS, ONE.replace("{service}", "smt")]:
            assert (await get(h, path.format(account="9009"))).status_code == 200


async def test_emulator_answers_for_any_valid_account(h: Harness) -> None:
    r = await get(h, ALL_FORMS[0].format(account="123456789"))
    assert r.status_code == 200
    assert {u["account"] for u in r.json()["baseURIs"]} == {"123456789"}
    error(await get(h, ALL_FORMS[0].format(account="bad.account")), 401)
