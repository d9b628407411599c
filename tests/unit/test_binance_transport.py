"""BinanceConnector over a fake in-memory ``Transport`` (no aiohttp, no sockets): the policy alone.

``FakeTransport`` answers ``time`` (server time follows the test's ``FakeClock``) and ``exchangeInfo``, and each
test scripts the one route it is about: an ``HttpReply`` or a transport exception per request. ``FakeWs`` is a
WebSocket whose frames the test queues; the WebSocket API socket answers the subscribe request itself. Every
wait is bounded by ``asyncio.timeout``; nothing depends on the wall clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from bot.connectors.binance import BinanceConnector
from bot.connectors.binance.transport import (
    AiohttpTransport,
    ConnectFailed,
    ConnectionLost,
    HttpReply,
    Transport,
    WsConnection,
    WsFrame,
)
from bot.connectors.binance.wire import WireError
from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, NewOrder, OrderStatus, OrderType, OrderUpdate, Side
from tests.fakes import FakeClock
from tests.unit.binance_fixtures import CREDENTIALS, EXCHANGE_INFO, SERVER_MS, config, order_json

BOUND_S = 5.0
START_S = 1000.0  # FakeClock time at which the venue's clock reads SERVER_MS
ORDER = NewOrder(symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT_MAKER, qty_lots=1000, price_ticks=6_000_001,
                 client_order_id=ClientOrderId("mm-1"))
TRADE = {"e": "trade", "E": SERVER_MS, "s": "BTCUSDT", "t": 9, "p": "60000.01", "q": "0.00100", "T": SERVER_MS,
         "m": False, "M": True}
EXECUTION = {"e": "executionReport", "E": SERVER_MS, "s": "BTCUSDT", "c": "mm-1", "S": "BUY", "o": "LIMIT_MAKER",
             "f": "GTC", "q": "0.01000", "p": "60000.00", "P": "0", "F": "0", "g": -1, "C": "", "x": "TRADE",
             "X": "PARTIALLY_FILLED", "r": "NONE", "i": 7, "l": "0.00400", "z": "0.00400", "L": "60000.00",
             "n": "0", "N": None, "T": SERVER_MS, "t": 55, "v": 0, "I": 1, "w": False, "m": True, "M": True,
             "O": SERVER_MS, "Z": "240.00", "Y": "240.00", "Q": "0", "W": SERVER_MS, "V": "EXPIRE_MAKER"}

Answer = HttpReply | Exception


def reply(body: Any, status: int = 200, **headers: str) -> HttpReply:
    return HttpReply(status, headers, json.dumps(body))


class FakeWs:
    """A WebSocket whose incoming frames the test queues; a WebSocket API socket answers subscribe requests."""

    def __init__(self, frames: list[WsFrame] | None = None, *, user_events: list[Any] | None = None) -> None:
        self.inbox: asyncio.Queue[WsFrame] = asyncio.Queue()
        for frame in frames or []:
            self.inbox.put_nowait(frame)
        self.user_events = user_events
        self.sent: list[Any] = []
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def send_json(self, obj: Any) -> None:
        self.sent.append(obj)
        if self.user_events is not None:
            self.push({"id": obj["id"], "status": 200, "result": {"subscriptionId": 3}})
            for event in self.user_events:
                self.push({"subscriptionId": 3, "event": event})
            self.inbox.put_nowait(WsFrame("closed"))

    def push(self, message: Any) -> None:
        self.inbox.put_nowait(WsFrame("text", json.dumps(message)))

    async def receive(self) -> WsFrame:
        if self._closed:
            return WsFrame("closed")
        return await self.inbox.get()

    async def close(self) -> None:
        self._closed = True


class FakeTransport:
    """Routes requests by (method, path under /api/v3/); records what was sent."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.sent: list[tuple[str, str, dict[str, str]]] = []  # (method, path, query)
        self.sockets: list[FakeWs] = []
        self.ws_urls: list[str] = []
        self.closed = False

    def on(self, method: str, path: str, *answers: Answer) -> None:
        """Answer ``method path`` with ``answers`` in turn; the last one repeats."""
        self.routes[(method, path)] = list(answers)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.sent if (m, p) == (method, path))

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> HttpReply:
        parts = urlsplit(url)
        path = parts.path.removeprefix("/api/v3/")
        self.sent.append((method, path, dict(parse_qsl(parts.query))))
        if path == "time":
            return reply({"serverTime": SERVER_MS + round((self.clock.t - START_S) * 1000)})
        if path == "exchangeInfo":
            return reply(EXCHANGE_INFO)
        answers = self.routes[(method, path)]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def ws_connect(self, url: str, *, heartbeat_s: float) -> WsConnection:
        self.ws_urls.append(url)
        return self.sockets.pop(0)

    async def close(self) -> None:
        self.closed = True


class DictStore:
    """The two meta methods of ``StateStore``."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}

    def get_meta(self, key: str) -> str | None:
        return self.meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value


def connector(transport: FakeTransport, store: DictStore | None = None, **overrides: Any) -> BinanceConnector:
    return BinanceConnector(config(**overrides), CREDENTIALS, clock=transport.clock, transport=transport,
                            store=store)


@pytest.fixture
def transport() -> FakeTransport:
    return FakeTransport(FakeClock(START_S))


def test_the_fake_is_a_transport(transport: FakeTransport) -> None:
    checked: Transport = transport  # checked by mypy against the Protocol
    socket: WsConnection = FakeWs()
    assert checked is transport and not socket.closed


# -- the transport's failures, classified --
async def test_connect_failed_on_a_place_is_a_recoverable_network_error_sent_once(transport: FakeTransport) -> None:
    transport.on("POST", "order", ConnectFailed("refused"))
    conn = connector(transport)
    with pytest.raises(BotError) as caught:
        await conn.place(ORDER)
    assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable
    assert transport.count("POST", "order") == 1


async def test_connection_lost_on_a_place_is_an_unknown_outcome_sent_once(transport: FakeTransport) -> None:
    transport.on("POST", "order", ConnectionLost("reset"))
    conn = connector(transport)
    with pytest.raises(BotError) as caught:
        await conn.place(ORDER)
    assert caught.value.outcome_unknown
    assert transport.count("POST", "order") == 1


async def test_connection_lost_on_a_read_is_retried(transport: FakeTransport) -> None:
    transport.on("GET", "order", ConnectionLost("reset"), reply(order_json("mm-3")))
    conn = connector(transport)
    order = await conn.query("BTCUSDT", ClientOrderId("mm-3"))
    assert order.client_order_id == "mm-3"
    assert transport.count("GET", "order") == 2


async def test_a_5xx_the_venue_did_not_process_is_unavailable_not_unknown(transport: FakeTransport) -> None:
    transport.on("POST", "order", reply({"code": -1008, "msg": "Service Unavailable."}, status=503))
    conn = connector(transport)
    with pytest.raises(BotError) as caught:
        await conn.place(ORDER)
    assert caught.value.code is ErrorCode.VENUE_UNAVAILABLE and not caught.value.outcome_unknown
    assert transport.count("POST", "order") == 1


async def test_a_refused_aiohttp_connection_is_connect_failed() -> None:
    aiohttp_transport = AiohttpTransport()
    try:
        with pytest.raises(ConnectFailed):
            async with asyncio.timeout(BOUND_S):
                await aiohttp_transport.request("GET", "http://127.0.0.1:9/api/v3/time", {})
    finally:
        await aiohttp_transport.close()


# -- decoded payloads --
def test_reply_headers_are_looked_up_case_insensitively() -> None:
    answer = HttpReply(200, {"x-mbx-used-weight-1m": "12"}, "")
    assert answer.headers.get("X-MBX-USED-WEIGHT-1M") == "12"


async def test_a_decoded_payload_replaces_json_parsing(transport: FakeTransport) -> None:
    transport.on("POST", "order", HttpReply(200, {}, "not json at all", payload=order_json(order_id=8)))
    order = await connector(transport).place(ORDER)
    assert (order.order_id, order.status, order.price_ticks) == (8, OrderStatus.NEW, 6_000_001)


async def test_a_decoded_payload_with_a_malformed_decimal_still_raises_wire_error(transport: FakeTransport) -> None:
    transport.on("GET", "order", HttpReply(200, {}, "", payload=order_json(price="60000.0x")))
    with pytest.raises(WireError):
        await connector(transport).query("BTCUSDT", ClientOrderId("mm-1"))


async def test_a_decoded_venue_error_is_classified(transport: FakeTransport) -> None:
    body = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    transport.on("POST", "order", HttpReply(400, {}, "", payload=body))
    with pytest.raises(BotError) as caught:
        await connector(transport).place(ORDER)
    assert caught.value.code is ErrorCode.INSUFFICIENT_BALANCE


# -- Retry-After across restarts --
async def test_a_429_blocks_and_a_new_connector_on_the_same_store_blocks_until_it_expires(
        transport: FakeTransport) -> None:
    store = DictStore()
    transport.on("POST", "order", reply({"code": -1003, "msg": "Too many requests."}, status=429,
                                        **{"Retry-After": "30"}), reply(order_json()))
    first = connector(transport, store)
    with pytest.raises(BotError) as caught:
        await first.place(ORDER)
    assert caught.value.code is ErrorCode.RATE_LIMITED
    transport.clock.t += 10  # the process dies and restarts 10 s later (another clock, another process)
    restarted = FakeTransport(FakeClock(START_S + 10))
    restarted.on("POST", "order", reply(order_json()))
    second = connector(restarted, store)
    with pytest.raises(BotError) as blocked:
        await second.place(ORDER)
    assert blocked.value.code is ErrorCode.RATE_LIMITED and blocked.value.retry_after_ms == 20_000
    assert restarted.sent == []  # nothing, not even a time sync, during the predecessor's Retry-After
    restarted.clock.t += 20.001
    assert (await second.place(ORDER)).client_order_id == "mm-1"


async def test_a_saved_ban_survives_a_restart_and_never_outlasts_its_length(transport: FakeTransport) -> None:
    store = DictStore()
    transport.on("GET", "openOrders", reply({"code": -1003, "msg": "banned"}, status=418, **{"Retry-After": "60"}))
    with pytest.raises(BotError) as caught:
        await connector(transport, store).open_orders("BTCUSDT")
    assert caught.value.code is ErrorCode.IP_BANNED
    rebooted = FakeTransport(FakeClock(3.0))  # the local clock went back: the block is bounded by its length
    rebooted.on("GET", "openOrders", reply([]))
    second = connector(rebooted, store)
    with pytest.raises(BotError) as blocked:
        await second.open_orders("BTCUSDT")
    assert blocked.value.code is ErrorCode.IP_BANNED and not blocked.value.recoverable
    assert blocked.value.retry_after_ms == 60_000 and rebooted.sent == []
    rebooted.clock.t += 60.001
    assert await second.open_orders("BTCUSDT") == []


async def test_stats_count_rate_limits_held_back_requests_and_time_syncs(transport: FakeTransport) -> None:
    transport.on("POST", "order", reply({"code": -1003, "msg": "Too many requests."}, status=429,
                                        **{"Retry-After": "5"}))
    conn = connector(transport)
    await conn.sync_time()
    await conn.sync_time()  # "now": the test config has no minimum interval
    for _ in range(3):
        with pytest.raises(BotError):
            await conn.place(ORDER)
    stats = conn.stats
    assert (stats.time_syncs, stats.rate_limited, stats.held_back, stats.banned) == (2, 1, 2, 0)
    assert transport.count("POST", "order") == 1


async def test_a_timestamp_reject_is_counted_and_resynced_once(transport: FakeTransport) -> None:
    transport.on("GET", "order", reply({"code": -1021, "msg": "Timestamp outside recvWindow."}, status=400),
                 reply(order_json()))
    conn = connector(transport)
    await conn.query("BTCUSDT", ClientOrderId("mm-1"))
    assert (conn.stats.timestamp_rejects, conn.stats.time_syncs) == (1, 2)


# -- streams --
async def test_the_user_stream_over_a_fake_socket_translates_events_then_ends_once(transport: FakeTransport) -> None:
    socket = FakeWs(user_events=[EXECUTION])
    transport.sockets.append(socket)
    conn = connector(transport)
    stream = conn.user_events()
    async with asyncio.timeout(BOUND_S):
        update = await anext(stream)
        with pytest.raises(BotError) as caught:
            await anext(stream)
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
    assert isinstance(update, OrderUpdate) and update.fill is not None and update.order.client_order_id == "mm-1"
    assert caught.value.code is ErrorCode.NETWORK and caught.value.recoverable
    assert socket.sent[0]["method"] == "userDataStream.subscribe.signature" and socket.closed
    assert transport.ws_urls == ["ws://venue.test/ws-api/v3"] and conn.open_streams == 0


async def test_request_ids_are_per_connector(transport: FakeTransport) -> None:
    ids = []
    for _ in range(2):  # two sessions in one process
        socket = FakeWs(user_events=[])
        transport.sockets.append(socket)
        conn = connector(transport)
        async with asyncio.timeout(BOUND_S):
            with pytest.raises(BotError):
                await anext(conn.user_events())
        ids.append(socket.sent[0]["id"])
        await conn.close()
    assert ids == ["mmbot-1", "mmbot-1"]


async def test_a_reader_that_falls_behind_sheds_and_the_count_survives_the_stream(transport: FakeTransport) -> None:
    frames = [WsFrame("text", json.dumps({"stream": "btcusdt@trade", "data": TRADE})) for _ in range(3)]
    transport.sockets.append(FakeWs(frames))
    conn = connector(transport, stream_queue_max=2)
    stream = conn.public_trades("BTCUSDT")
    async with asyncio.timeout(BOUND_S):
        while not stream.closed:
            await asyncio.sleep(0)
        with pytest.raises(BotError) as caught:
            await anext(stream)
    assert caught.value.code is ErrorCode.NETWORK
    assert conn.feed_shed() == 3 and conn.stats.feed_shed == 3  # two queued, then the third: all stale
    assert conn.sizes() == {"client_ids": 0, "subscriptions": 0, "feed_queued": 0}


async def test_sizes_count_an_open_streams_undelivered_messages(transport: FakeTransport) -> None:
    frames = [WsFrame("text", json.dumps({"stream": "btcusdt@trade", "data": TRADE})) for _ in range(2)]
    transport.sockets.append(FakeWs(frames))
    conn = connector(transport)
    stream = conn.public_trades("BTCUSDT")
    async with asyncio.timeout(BOUND_S):
        while conn.sizes()["feed_queued"] < 2:
            await asyncio.sleep(0)
    assert conn.sizes()["subscriptions"] == 1
    await stream.aclose()
    await conn.close()
    assert conn.open_streams == 0 and not transport.closed  # a given transport is its owner's to close


def test_a_frame_decodes_its_payload_or_its_text() -> None:
    assert WsFrame("text", "not json", payload={"a": 1}).json() == {"a": 1}
    assert WsFrame("text", '{"b": 2}').json() == {"b": 2}
    with pytest.raises(ValueError):
        WsFrame("closed").json()
