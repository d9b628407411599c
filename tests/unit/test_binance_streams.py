"""BinanceConnector's WebSocket parts (and one signed REST round trip) against a tiny aiohttp server on loopback.

The server speaks just enough of the wire protocol: ``exchangeInfo``/``time``/``order`` over REST (the order
endpoint checks the signature over the raw query string), the combined market stream endpoint, and the WebSocket
API's ``userDataStream.subscribe.signature`` (checking the signature over the sorted params). Each test scripts
what the server sends and whether it then drops the connection. Every wait is bounded by ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from bot.connectors.binance import BinanceConnector
from bot.connectors.binance.signing import sign, ws_payload
from bot.connectors.binance.streams import WsStream
from bot.core.errors import BotError, ErrorCode
from bot.core.types import (
    BalanceUpdate,
    ClientOrderId,
    DepthUpdate,
    OrderStatus,
    OrderUpdate,
    PublicTrade,
    Side,
    UserEvent,
)
from tests.unit.binance_fixtures import API_KEY, CREDENTIALS, EXCHANGE_INFO, SERVER_MS, config, order_json

BOUND_S = 5.0


@dataclass
class Script:
    """What the fake venue does: messages per connection, then hold the connection open or drop it."""

    market: list[list[Any]] = field(default_factory=list)  # one list of messages per market connection
    user: list[list[Any]] = field(default_factory=list)  # one list of events per user-stream connection
    drop: bool = False
    subscribe_error: dict[str, Any] | None = None
    connections: list[str] = field(default_factory=list)
    subscribe_params: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0


SCRIPT = web.AppKey("script", Script)


async def _market(request: web.Request) -> web.WebSocketResponse:
    script = request.app[SCRIPT]
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    script.connections.append(request.query["streams"])
    messages = script.market.pop(0) if script.market else []
    for message in messages:
        await ws.send_str(message if isinstance(message, str) else json.dumps(message))
    if not script.drop:
        async for _ in ws:
            pass
    await ws.close()
    return ws


async def _ws_api(request: web.Request) -> web.WebSocketResponse:
    script = request.app[SCRIPT]
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    script.connections.append("ws-api")
    message = await ws.receive()
    assert message.type is WSMsgType.TEXT
    body = json.loads(message.data)
    params = dict(body["params"])
    script.subscribe_params.append(dict(params))
    signature = params.pop("signature")
    if signature != sign(CREDENTIALS.api_secret, ws_payload({k: str(v) for k, v in params.items()})):
        script.bad_signatures += 1
    if script.subscribe_error is not None:
        await ws.send_json({"id": body["id"], "status": 400, "error": script.subscribe_error})
        await ws.close()
        return ws
    await ws.send_json({"id": body["id"], "status": 200, "result": {"subscriptionId": 3}})
    for event in script.user.pop(0) if script.user else []:
        await ws.send_json({"subscriptionId": 3, "event": event})
    if not script.drop:
        async for _ in ws:
            pass
    await ws.close()
    return ws


async def _order(request: web.Request) -> web.Response:
    raw = request.query_string
    payload, _, signature = raw.rpartition("&signature=")
    ok = request.headers.get("X-MBX-APIKEY") == API_KEY and signature == sign(CREDENTIALS.api_secret, payload)
    if not ok:
        return web.json_response({"code": -1022, "msg": "Signature for this request is not valid."}, status=400)
    return web.json_response(order_json(request.query["origClientOrderId"]),
                             headers={"X-MBX-USED-WEIGHT-1M": "30"})


@pytest.fixture
async def server() -> AsyncIterator[tuple[Script, str]]:
    app = web.Application()
    script = Script()
    app[SCRIPT] = script
    app.router.add_get("/api/v3/exchangeInfo", _exchange_info)
    app.router.add_get("/api/v3/time", _time)
    app.router.add_get("/api/v3/order", _order)
    app.router.add_get("/stream", _market)
    app.router.add_get("/ws-api/v3", _ws_api)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield script, f"{host}:{port}"
    await runner.cleanup()


async def _exchange_info(_: web.Request) -> web.Response:
    return web.json_response(EXCHANGE_INFO)


async def _time(_: web.Request) -> web.Response:
    return web.json_response({"serverTime": SERVER_MS})


@pytest.fixture
async def connector(server: tuple[Script, str]) -> AsyncIterator[BinanceConnector]:
    _, address = server
    conn = BinanceConnector(config(rest_url=f"http://{address}/api", ws_base=f"ws://{address}"), CREDENTIALS)
    yield conn
    await conn.close()


DEPTH = {"e": "depthUpdate", "E": SERVER_MS, "s": "BTCUSDT", "U": 101, "u": 103,
         "b": [["60000.00", "0.50000"]], "a": [["60000.01", "0"]]}
TRADE = {"e": "trade", "E": SERVER_MS, "s": "BTCUSDT", "t": 9, "p": "60000.01", "q": "0.00100", "T": SERVER_MS,
         "m": False, "M": True}


async def test_signed_rest_request_is_accepted_by_a_venue_checking_the_raw_query(
        connector: BinanceConnector) -> None:
    async with asyncio.timeout(BOUND_S):
        order = await connector.query("BTCUSDT", ClientOrderId("mm-5"))
    assert order.client_order_id == "mm-5" and connector.limiter.used_weight >= 30


async def test_depth_stream_yields_depth_updates_in_ticks_and_lots(server: tuple[Script, str],
                                                                   connector: BinanceConnector) -> None:
    script, _ = server
    script.market.append([{"result": None, "id": 1}, {"stream": "btcusdt@depth@100ms", "data": DEPTH}])
    stream = connector.depth_updates("BTCUSDT")
    async with asyncio.timeout(BOUND_S):
        update = await anext(stream)
    assert update == DepthUpdate(symbol="BTCUSDT", first_update_id=101, last_update_id=103,
                                 bids=(update.bids[0],), asks=(update.asks[0],), time_ms=SERVER_MS)
    assert (update.bids[0].price_ticks, update.bids[0].qty_lots) == (6_000_000, 50_000)
    assert (update.asks[0].price_ticks, update.asks[0].qty_lots) == (6_000_001, 0)
    assert script.connections == ["btcusdt@depth@100ms"]
    await stream.aclose()
    assert connector.open_streams == 0


async def test_trade_stream_yields_public_trades(server: tuple[Script, str], connector: BinanceConnector) -> None:
    script, _ = server
    script.market.append([{"stream": "btcusdt@trade", "data": TRADE}])
    async with asyncio.timeout(BOUND_S):
        trade = await anext(connector.public_trades("BTCUSDT"))
    assert trade == PublicTrade(symbol="BTCUSDT", trade_id=9, price_ticks=6_000_001, qty_lots=100,
                                buyer_is_maker=False, time_ms=SERVER_MS)


async def test_a_dropped_market_stream_delivers_what_it_got_then_raises_recoverable_and_a_new_one_reconnects(
        server: tuple[Script, str], connector: BinanceConnector) -> None:
    script, _ = server
    script.drop = True
    script.market += [[{"stream": "btcusdt@depth@100ms", "data": DEPTH}],
                      [{"stream": "btcusdt@depth@100ms", "data": {**DEPTH, "U": 104, "u": 104}}]]
    got: list[int] = []
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(BotError) as caught:
            async for update in connector.depth_updates("BTCUSDT"):
                got.append(update.last_update_id)
        assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable
        again = await anext(connector.depth_updates("BTCUSDT"))  # what MarketData does: resubscribe
    assert got == [103] and again.last_update_id == 104
    assert len(script.connections) == 2


async def test_a_malformed_frame_ends_the_stream_recoverably(server: tuple[Script, str],
                                                            connector: BinanceConnector) -> None:
    script, _ = server
    script.market.append(['{"stream": "btcusdt@depth@100ms", "data": {"e": "depthUp'])
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(BotError) as caught:
            await anext(connector.depth_updates("BTCUSDT"))
    assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable


async def test_book_waits_for_the_depth_stream_to_connect_first(server: tuple[Script, str],
                                                                connector: BinanceConnector) -> None:
    stream = connector.depth_updates("BTCUSDT")
    assert not stream.ready.is_set()
    async with asyncio.timeout(BOUND_S):
        await stream.ready.wait()
    assert stream.connected
    await stream.aclose()


async def test_an_unreachable_stream_raises_network_after_bounded_tries() -> None:
    conn = BinanceConnector(config(rest_url="http://127.0.0.1:9/api", ws_base="ws://127.0.0.1:9",
                                   ws_connect_attempts=2), CREDENTIALS)
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(BotError) as caught:
            await anext(conn.public_trades("BTCUSDT"))
    assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable
    await conn.close()


EXECUTION = {"e": "executionReport", "E": SERVER_MS, "s": "BTCUSDT", "c": "mm-1", "S": "BUY", "o": "LIMIT_MAKER",
             "f": "GTC", "q": "0.01000", "p": "60000.00", "P": "0", "F": "0", "g": -1, "C": "", "x": "TRADE",
             "X": "PARTIALLY_FILLED", "r": "NONE", "i": 7, "l": "0.00400", "z": "0.00400", "L": "60000.00",
             "n": "0", "N": None, "T": SERVER_MS, "t": 55, "v": 0, "I": 1, "w": False, "m": True, "M": True,
             "O": SERVER_MS, "Z": "240.00", "Y": "240.00", "Q": "0", "W": SERVER_MS, "V": "EXPIRE_MAKER"}
POSITION = {"e": "outboundAccountPosition", "E": SERVER_MS, "u": SERVER_MS,
            "B": [{"a": "BTC", "f": "0.004", "l": "0"}, {"a": "USDT", "f": "100", "l": "360"}]}


async def test_user_stream_subscribes_with_a_signature_and_translates_events(server: tuple[Script, str],
                                                                             connector: BinanceConnector) -> None:
    script, _ = server
    script.user.append([EXECUTION, {"e": "balanceUpdate", "E": SERVER_MS}, POSITION])
    events: list[UserEvent] = []
    async with asyncio.timeout(BOUND_S):
        stream = connector.user_events()
        while len(events) < 3:
            events.append(await anext(stream))
    assert script.bad_signatures == 0
    assert set(script.subscribe_params[0]) == {"apiKey", "timestamp", "recvWindow", "signature"}
    update, btc, usdt = events
    assert isinstance(update, OrderUpdate) and update.fill is not None
    assert (update.order.status, update.order.executed_qty_lots, update.order.side) == (
        OrderStatus.PARTIALLY_FILLED, 400, Side.BUY)
    assert (update.fill.trade_id, update.fill.qty_lots, update.fill.quote_atoms, update.fill.is_maker) == (
        55, 400, 240 * 10**8, True)
    assert isinstance(btc, BalanceUpdate) and btc.asset == "BTC" and btc.balance.free_atoms == 400_000
    assert isinstance(usdt, BalanceUpdate) and usdt.balance.locked_atoms == 360 * 10**8
    await stream.aclose()


async def test_a_dropped_user_stream_raises_recoverable_so_the_order_manager_reconciles(
        server: tuple[Script, str], connector: BinanceConnector) -> None:
    script, _ = server
    script.drop = True
    script.user += [[EXECUTION], [POSITION]]
    async with asyncio.timeout(BOUND_S):
        first = connector.user_events()
        assert isinstance(await anext(first), OrderUpdate)
        with pytest.raises(BotError) as caught:
            await anext(first)
        assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable
        with pytest.raises(StopAsyncIteration):
            await anext(first)
        assert isinstance(await anext(connector.user_events()), BalanceUpdate)  # reconnected
    assert script.connections == ["ws-api", "ws-api"]


async def test_a_terminated_subscription_ends_the_user_stream(server: tuple[Script, str],
                                                              connector: BinanceConnector) -> None:
    script, _ = server
    script.user.append([{"e": "eventStreamTerminated", "E": SERVER_MS}])
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(BotError) as caught:
            await anext(connector.user_events())
    assert caught.value.code is ErrorCode.NETWORK


async def test_a_rejected_subscribe_is_fatal_and_not_retried(server: tuple[Script, str],
                                                             connector: BinanceConnector) -> None:
    script, _ = server
    script.subscribe_error = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}
    async with asyncio.timeout(BOUND_S):
        with pytest.raises(BotError) as caught:
            await anext(connector.user_events())
    assert caught.value.code is ErrorCode.AUTH_FAILED and not caught.value.recoverable
    assert script.connections == ["ws-api"]


async def test_close_ends_every_stream(server: tuple[Script, str], connector: BinanceConnector) -> None:
    streams: list[WsStream[Any]] = [
        connector.depth_updates("BTCUSDT"), connector.public_trades("BTCUSDT"), connector.user_events()]
    async with asyncio.timeout(BOUND_S):
        await asyncio.gather(*(s.ready.wait() for s in streams))
        await connector.close()
        for stream in streams:
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
    assert connector.open_streams == 0
