"""Two workers of one deployment (two apps on one database, channels through Redis): an SDE
reported through one reaches the agent whose websocket is bound on the other."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import HarnessFactory
from tests.harness import Harness, profile
from tests.test_live import CUSTOMER, bind, push
from tests.wsclient import WsClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def account() -> str:
    # The PostgreSQL database is shared by the whole session: an account of this test's own.
    return f"so{uuid.uuid4().hex[:12]}"


async def connect(h: Harness, agent: dict[str, str], account: str) -> WsClient:
    token = agent["Authorization"].removeprefix("Bearer ")
    ws = WsClient(h.app, f"/api/account/{account}/agent-workspace/ws", query=f"token={token}")
    await ws.__aenter__()
    assert (await ws.receive())["type"] == "ready"
    return ws


@pytest.mark.parametrize("channels", ["redis", "memory"])
async def test_an_sde_reported_on_one_worker_is_pushed_by_the_other(
    make_harness: HarnessFactory,
    db_url: str,
    account: str,
    channels: str,
    request: pytest.FixtureRequest,
    channels_prefix: str,
) -> None:
    # Without Redis each worker only hears its own writes: the control for the Redis case.
    url: str = request.getfixturevalue("redis_url") if channels == "redis" else ""
    settings = {"db": db_url, "channels_url": url, "channels_prefix": channels_prefix}
    async with make_harness(**settings) as one, make_harness(**settings) as other:
        connector = await one.connector(account)
        conversation_id = await one.open_conversation(connector, CUSTOMER, account=account)
        ws = await connect(other, await other.agent(account), account)
        try:
            [(key, value)] = await bind(ws, conversation_id, "SDE.customerDetails")
            assert [d["status"] for d in value] == ["gold"]
            silver = {**CUSTOMER, "info": {"cstatus": "silver"}}
            r = await one.post_send(connector, profile(silver, req_id="9"), account)
            assert r.status_code == 200, r.text
            if channels == "memory":
                await ws.nothing(0.5)
                return
            key, value = await push(ws)
            assert key == "SDE.customerDetails"
            assert [d["status"] for d in value] == ["silver"]
        finally:
            await ws.__aexit__(None, None, None)
