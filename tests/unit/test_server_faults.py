"""Transport faults of the wire server: a Scenario visibly changes what clients see, and heals."""

from __future__ import annotations

import asyncio
import itertools
import time

import aiohttp
import pytest

from exchange_sim.faults.model import Fault, FaultKind, Scenario
from tests.server_support import STEP_TIMEOUT_S, running_server


def _scenario(*faults: Fault) -> Scenario:
    return Scenario(tuple(faults))


async def test_outage_answers_503_then_heals() -> None:
    scenario = _scenario(Fault(FaultKind.OUTAGE, "rest", 0.0, 1.0))
    async with running_server(scenario=scenario) as server:
        status, body, _ = await server.get("/api/v3/ping")
        assert (status, body["code"]) == (503, -1001)  # type: ignore[index]  # one outage effect: a read -1001
        status, body, _ = await server.signed("POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"})
        assert (status, body["code"]) == (503, -1007)  # type: ignore[index]
        await asyncio.sleep(1.1)
        status, _, _ = await server.get("/api/v3/ping")
        assert status == 200
        assert server.state.log.counts()["fault_hit"] == 2


async def test_timeout_after_processing_executes_but_answers_1007() -> None:
    scenario = _scenario(Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 0.0, 30.0))
    async with running_server(scenario=scenario) as server:
        status, body, _ = await server.signed("POST", "/api/v3/order", {
            "symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001", "newClientOrderId": "x-1"})
        assert (status, body["code"]) == (503, -1007)  # type: ignore[index]
        status, order, _ = await server.signed("GET", "/api/v3/order", {"symbol": "BTCUSDT",
                                                                        "origClientOrderId": "x-1"})
        assert status == 200 and order["status"] == "FILLED"  # type: ignore[index]


async def test_latency_delays_answers() -> None:
    scenario = _scenario(Fault(FaultKind.LATENCY, "rest", 0.0, 30.0, {"latency_ms": 150.0}))
    async with running_server(scenario=scenario) as server:
        start = time.monotonic()
        status, _, _ = await server.get("/api/v3/ping")
        assert status == 200 and time.monotonic() - start >= 0.29  # 150 ms each way


async def test_partition_hangs_requests_then_drops_the_connection() -> None:
    scenario = _scenario(Fault(FaultKind.PARTITION, "rest", 0.0, 1.0))
    async with running_server(scenario=scenario) as server:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await server.get("/api/v3/ping")
        with pytest.raises(aiohttp.ClientError):  # POST is not retried by the client: it sees the drop
            await server.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                          "quantity": "0.001"})
        status, trades, _ = await server.signed("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"})
        assert status == 200 and trades == []  # upstream partition: never executed


async def test_rate_limit_fault_gives_429() -> None:
    scenario = _scenario(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 30.0, {"weight_limit": 2.0}))
    async with running_server(scenario=scenario) as server:
        statuses = [(await server.get("/api/v3/ping"))[0] for _ in range(3)]
        assert statuses == [200, 200, 429]


async def test_feed_gap_drops_depth_updates_so_ids_show_a_gap() -> None:
    scenario = _scenario(Fault(FaultKind.FEED_GAP, "ws", 0.0, 60.0, {"mode": "drop"}, toxicity=0.5))
    async with running_server(scenario=scenario) as server, server.session.ws_connect(
            server.ws_base + "/ws/btcusdt@depth@100ms") as ws:
        await server.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                      "quantity": "0.05"})
        events = []
        async with asyncio.timeout(STEP_TIMEOUT_S):
            while len(events) < 6:
                events.append(await ws.receive_json())
                if len(events) % 2 == 0:
                    await server.signed("POST", "/api/v3/order", {
                        "symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.02"})
        gaps = [b["U"] - a["u"] for a, b in itertools.pairwise(events)]
        assert any(g > 1 for g in gaps)
        assert server.state.faults.hits[0] > 0


async def test_reset_peer_closes_open_market_sockets() -> None:
    scenario = _scenario(Fault(FaultKind.RESET_PEER, "ws", 0.5, 1.0))
    async with running_server(scenario=scenario) as server, server.session.ws_connect(
            server.ws_base + "/ws/btcusdt@bookTicker") as ws:
        async with asyncio.timeout(STEP_TIMEOUT_S):
            while True:
                msg = await ws.receive()
                if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                    break
        assert server.state.faults.now_s() >= 0.5
