"""A write whose guard fires while its connection is being made is never sent (``CheckedConnector``).

The order manager's check (``bot.core.sending``) ran after the limiter, but aiohttp then waited for a connection
(a new one after a partition dropped the pool, or a loaded event loop) before writing: a HARD guard that fired
meanwhile did not stop the order (``tests/e2e/test_realtime.py``, ``8.hard_guard``, LATENCY). Deterministic: the
guard fires *inside* the connection step, by construction, on a loopback server; nothing waits on a timer.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.connectors.binance.connector import PLACE
from bot.connectors.binance.http import RestClient
from bot.connectors.binance.limiter import WeightLimiter
from bot.core.errors import BotError, ErrorCode
from bot.core.sending import send_check
from tests.fakes import FakeClock
from tests.unit.binance_fixtures import CREDENTIALS, SERVER_MS, config, order_json

pytestmark = pytest.mark.asyncio


class Guard:
    def __init__(self) -> None:
        self.hard = False

    def check(self) -> None:
        if self.hard:
            raise BotError(ErrorCode.HALTED, "guard_level: HARD, no new orders")


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, list[str]]]:
    received: list[str] = []

    async def order(request: web.Request) -> web.Response:
        received.append(request.method)
        return web.json_response(order_json())

    app = web.Application()
    app.router.add_post("/api/v3/order", order)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield port, received
    await runner.cleanup()


def rest_client(port: int) -> RestClient:
    cfg = config(rest_url=f"http://127.0.0.1:{port}/api")
    clock = FakeClock(1000.0)
    limiter = WeightLimiter(cfg.limiter, monotonic_s=clock.monotonic_s, server_ms=lambda: SERVER_MS)
    return RestClient(cfg, limiter, credentials=CREDENTIALS, timestamp_ms=lambda: SERVER_MS, rng=random.Random(0))


async def test_a_guard_that_fires_while_the_order_connects_stops_it_before_the_wire(
        server: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, received = server
    guard = Guard()
    connect = aiohttp.TCPConnector._create_connection

    async def connect_while_the_guard_fires(self: aiohttp.TCPConnector, *args: Any, **kwargs: Any) -> Any:
        guard.hard = True  # the HARD guard fires while this request waits for its connection
        return await connect(self, *args, **kwargs)

    monkeypatch.setattr(aiohttp.TCPConnector, "_create_connection", connect_while_the_guard_fires)
    client = rest_client(port)
    try:
        with send_check(guard.check), pytest.raises(BotError) as error:
            await client.request(PLACE, [("symbol", "BTCUSDT")])
        assert error.value.code is ErrorCode.HALTED
        assert received == []  # never reached the venue
        guard.hard = False  # reset: the connection handed back serves the next order
        with send_check(guard.check):
            answer = await client.request(PLACE, [("symbol", "BTCUSDT")])
        assert answer.status == 200 and received == ["POST"]
    finally:
        await client.close()


async def test_a_request_with_no_check_installed_is_sent(server: tuple[int, list[str]]) -> None:
    port, received = server
    client = rest_client(port)
    try:
        assert (await client.request(PLACE, [("symbol", "BTCUSDT")])).status == 200
        assert received == ["POST"]
    finally:
        await client.close()
