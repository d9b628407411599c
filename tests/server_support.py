"""Helpers for wire-server tests: a real server on 127.0.0.1 (port 0), signed requests, bounded waits."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

from exchange_sim.market.config import MarketConfig
from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET, ServerConfig, create_app
from exchange_sim.server.rest import STATE
from exchange_sim.server.state import ServerState

TEST_CONFIG = ServerConfig(port=0, seed=11, market=MarketConfig(symbols=("BTCUSDT",)), ws_heartbeat_s=20.0)
STEP_TIMEOUT_S = 120.0  # a bound on waiting, not on speed: generous so a machine at load 20 still passes


@dataclass
class Server:
    base: str
    ws_base: str
    state: ServerState
    session: aiohttp.ClientSession

    def sign(self, params: Mapping[str, object], *, secret: str = DEMO_SECRET, timestamp_ms: int | None = None) -> str:
        query = urlencode({**params, "timestamp": timestamp_ms if timestamp_ms is not None else now_ms()})
        return f"{query}&signature={signature(secret, query)}"

    async def get(self, path: str, query: str = "", **kwargs: object) -> tuple[int, object, Mapping[str, str]]:
        return await self.call("GET", path, query, **kwargs)

    async def call(self, method: str, path: str, query: str = "", *, body: str | None = None,
                   api_key: str | None = DEMO_API_KEY) -> tuple[int, object, Mapping[str, str]]:
        headers = {"X-MBX-APIKEY": api_key} if api_key else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        url = self.base + path + (f"?{query}" if query else "")
        async with asyncio.timeout(STEP_TIMEOUT_S), self.session.request(method, url, data=body,
                                                                         headers=headers) as resp:
            return resp.status, await resp.json(content_type=None), resp.headers

    async def signed(self, method: str, path: str, params: Mapping[str, object], *, in_body: bool = False
                     ) -> tuple[int, object, Mapping[str, str]]:
        payload = self.sign(params)
        if in_body:
            return await self.call(method, path, body=payload)
        return await self.call(method, path, payload)


def now_ms() -> int:
    return int(time.time() * 1000)


def signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


@asynccontextmanager
async def running_server(config: ServerConfig = TEST_CONFIG, **changes: object) -> AsyncIterator[Server]:
    app = create_app(replace(config, **changes) if changes else config)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site.port
        async with aiohttp.ClientSession() as session:
            yield Server(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", app[STATE], session)
    finally:
        async with asyncio.timeout(STEP_TIMEOUT_S):
            await runner.cleanup()
