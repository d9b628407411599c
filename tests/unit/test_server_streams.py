"""Market streams of the wire server: depth diffs rebuild the server's book, bookTicker, trades, methods."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import aiohttp
import orjson

from tests.server_support import STEP_TIMEOUT_S, Server, running_server


async def _recv(ws: aiohttp.ClientWebSocketResponse) -> Any:
    async with asyncio.timeout(STEP_TIMEOUT_S):
        msg = await ws.receive()
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return orjson.loads(msg.data)


def _apply(book: dict[Decimal, Decimal], levels: list[list[str]]) -> None:
    for price, qty in levels:
        if Decimal(qty) == 0:
            book.pop(Decimal(price), None)
        else:
            book[Decimal(price)] = Decimal(qty)


def _server_book(server: Server) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    spec = server.state.engine.spec("BTCUSDT")
    bids, asks, _ = server.state.engine.depth("BTCUSDT", 10_000)
    return ({spec.ticks_to_price(p): spec.lots_to_qty(q) for p, q in bids},
            {spec.ticks_to_price(p): spec.lots_to_qty(q) for p, q in asks})


async def test_snapshot_plus_diffs_rebuild_the_servers_book() -> None:
    """Binance's documented procedure: buffer diffs, snapshot, drop u <= lastUpdateId, apply the rest."""
    async with running_server() as server, server.session.ws_connect(server.ws_base + "/ws/btcusdt@depth@100ms") as ws:
        first = await _recv(ws)
        assert first["e"] == "depthUpdate" and first["s"] == "BTCUSDT"
        buffered = [first]
        _, snap, _ = await server.get("/api/v3/depth", "symbol=BTCUSDT&limit=5000")
        assert isinstance(snap, dict)
        last_id = snap["lastUpdateId"]
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        _apply(bids, snap["bids"])
        _apply(asks, snap["asks"])
        # a market order moves the book while we listen
        await server.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET",
                                                      "quantity": "0.01"})
        applied = 0
        expected_next = None
        while applied < 8:
            event = buffered.pop(0) if buffered else await _recv(ws)
            if event["u"] <= last_id:
                continue
            if expected_next is None:
                assert event["U"] <= last_id + 1 <= event["u"]
            else:
                assert event["U"] == expected_next
            expected_next = event["u"] + 1
            _apply(bids, event["b"])
            _apply(asks, event["a"])
            applied += 1
            server_bids, server_asks = _server_book(server)
            if server.state.engine.update_id("BTCUSDT") == event["u"]:
                assert (bids, asks) == (server_bids, server_asks)
        assert max(bids) < min(asks)


async def test_combined_stream_wraps_and_methods_answer() -> None:
    async with running_server() as server, server.session.ws_connect(
            server.ws_base + "/stream?streams=btcusdt@bookTicker") as ws:
        event = await _recv(ws)
        assert event["stream"] == "btcusdt@bookTicker"
        assert set(event["data"]) == {"u", "s", "b", "B", "a", "A"}
        await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1}).decode())
        await ws.send_str(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 2}).decode())
        replies: dict[int, Any] = {}
        trade = None
        await server.signed("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET",
                                                      "quantity": "0.01"})
        while len(replies) < 2 or trade is None:
            msg = await _recv(ws)
            if "id" in msg:
                replies[msg["id"]] = msg
            elif msg["stream"] == "btcusdt@trade":
                trade = msg["data"]
        assert replies[1] == {"result": None, "id": 1}
        assert replies[2] == {"result": ["btcusdt@bookTicker", "btcusdt@trade"], "id": 2}
        assert trade["e"] == "trade" and set(trade) >= {"E", "s", "t", "p", "q", "T", "m", "M"}


async def test_bad_method_gets_an_error_and_the_socket_stays_usable() -> None:
    async with running_server() as server, server.session.ws_connect(server.ws_base + "/ws") as ws:
        await ws.send_str("{not json")
        assert (await _recv(ws))["error"]["code"] == 3
        await ws.send_str(orjson.dumps({"method": "FLY", "id": 5}).decode())
        assert (await _recv(ws))["error"]["code"] == 2
        await ws.send_str(orjson.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@bookTicker"], "id": 6}).decode())
        assert await _recv(ws) == {"result": None, "id": 6}
        assert (await _recv(ws))["s"] == "BTCUSDT"
