"""The HTTP benches' preparation client: what they set up before timing (tokens, conversations,
visits, a catalog), through sdehub's own HTTP APIs."""

from __future__ import annotations

import asyncio
from typing import Any

from servers import BenchError

CLIENT_ID = "bench-connector"  # the emulator's provisioned app
CLIENT_SECRET = "bench-secret"


class PrepClient:
    """An httpx client on sdehub with at most ``concurrency`` requests at a time (``sem``)."""

    def __init__(self, base: str, concurrency: int = 32) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=base,
            timeout=60,
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self.sem = asyncio.Semaphore(concurrency)

    async def close(self) -> None:
        await self.client.aclose()

    async def app_token(self, account: str) -> str:
        """An AppJWT of the emulator's app from Sentinel."""
        r = await self.client.post(
            f"/sentinel/api/account/{account}/app/token",
            params={"v": "1.0", "grant_type": "client_credentials"},
            data={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
        )
        if r.status_code != 200:
            raise BenchError(f"AppJWT: {r.status_code} {r.text}")
        token: str = r.json()["access_token"]
        return token

    async def _post(self, url: str, **kwargs: Any) -> Any:
        """POST, again on a fresh connection when the server closed an idle keep-alive one just
        as the request went out (uvicorn closes them after 5 s; preparation between rounds on a
        loaded machine hits that)."""
        import httpx

        for attempt in range(3):
            try:
                return await self.client.post(url, **kwargs)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
