"""BinanceConnector: the ``Venue`` of one account on Binance Spot or on the simulator's Binance-compatible server.

One class for both, and for the simulator's in-process transport: only ``BinanceConfig.endpoints`` and the
``Transport`` differ (``AiohttpTransport`` unless one is given; the network is reached through it alone). It
composes the parts of this package: ``RestClient`` (signing, weight budget, timeouts, classification, retries of
idempotent reads), ``TimeSync`` (server-time offset), ``WsStream`` (market streams and the WebSocket API user
stream) and ``wire`` (JSON <-> bot types). Every counter and random draw is per instance (retry and reconnect
jitter from ``random.Random(seed)``, WebSocket API request ids from a counter of its own), so two sessions in one
process behave alike.

Behaviour the order manager relies on (the duties table of ``bot.interfaces.Venue``):

* ``place``/``cancel``/``cancel_replace`` are sent once. A timeout, 5xx, drop after sending or -1006/-1007 raises
  ``BotError(UNKNOWN_OUTCOME)``: the caller queries by client order id. Rejects raise their fatal ``BotError``.
* A -1021 (timestamp outside recvWindow) on any signed request resyncs the offset once and retries once; the
  venue rejected it before doing anything, so the retry is safe. Concurrent -1021s share one resync.
* ``cancel_replace`` (STOP_ON_FAILURE) returns both halves: -2022 (cancel failed, new order not attempted) gives
  ``new=None``; -2021 (one half failed) gives the failing half as its ``BotError``.
* Fills from ``fills()`` carry client order ids from a bounded ``order id -> client order id`` map filled by every
  order the connector sees; an unknown order id is looked up once with ``GET order``.
* A 429/418 blocks every request until Retry-After expires; with a ``store`` the deadline is saved (venue server
  time and the clock offset) and a connector built on the same store after a restart blocks until it, before
  sending anything, even its first time sync (``WeightLimiter``).
* Streams start connecting when requested; ``book()`` first waits (bounded) for the symbol's depth streams that
  are still connecting, so "subscribe, then snapshot" loses no diff. A stream that drops raises a recoverable
  ``BotError(NETWORK)`` once: ``MarketData`` resubscribes and resyncs, the order manager reconciles.
* Repeats: a market message object delivered again (an in-process flood of copies) gives its first translation
  again (a frozen value, same symbol info); every distinct message is parsed field by field.

Secrets: the API secret lives in a ``SecretStr``; ``repr`` shows a masked key; errors and logs never carry the
query string, headers or secret.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp

from bot.connectors.binance import wire
from bot.connectors.binance.config import BinanceConfig, Credentials
from bot.connectors.binance.http import Answer, Endpoint, RestClient
from bot.connectors.binance.limiter import MetaStore, Priority, WeightLimiter
from bot.connectors.binance.streams import ReconnectPolicy, WsStream, combined_stream_url, unwrap_market
from bot.connectors.binance.time_sync import TimeSync
from bot.connectors.binance.transport import AiohttpTransport, Transport, WsConnection
from bot.connectors.binance.user_stream import UserEventHandler, open_user_ws
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode, venue_error
from bot.core.types import (
    Balance,
    BookSnapshot,
    CancelReplaceOutcome,
    ClientOrderId,
    DepthUpdate,
    Fill,
    NewOrder,
    PublicTrade,
    SymbolInfo,
    TradeId,
    UserEvent,
    VenueOrder,
)
from bot.interfaces import Clock

log = logging.getLogger("bot.connectors.binance")

T = TypeVar("T")

FILLS_PAGE_SIZE = 1000  # the most myTrades returns per request
MAX_FILL_PAGES = 10_000  # fills() refuses to page past 10 million fills in one call
MAX_REMEMBERED_ORDERS = 100_000  # bound of the order id -> client order id map (oldest forgotten first)
USER_STREAM_WEIGHT = 2  # WebSocket API connection + subscribe

TIME = Endpoint(method="GET", path="time", weight=1)
EXCHANGE_INFO = Endpoint(method="GET", path="exchangeInfo", weight=20)
ACCOUNT = Endpoint(method="GET", path="account", weight=20, signed=True)
PLACE = Endpoint(method="POST", path="order", weight=1, priority=Priority.ORDER, signed=True, mutating=True,
                 orders=1)
CANCEL = Endpoint(method="DELETE", path="order", weight=1, priority=Priority.CANCEL, signed=True, mutating=True)
CANCEL_REPLACE = Endpoint(method="POST", path="order/cancelReplace", weight=1, priority=Priority.ORDER, signed=True,
                          mutating=True, orders=1)
QUERY = Endpoint(method="GET", path="order", weight=4, signed=True)
OPEN_ORDERS = Endpoint(method="GET", path="openOrders", weight=6, signed=True)
OPEN_ORDERS_ALL = Endpoint(method="GET", path="openOrders", weight=80, signed=True)
MY_TRADES = Endpoint(method="GET", path="myTrades", weight=20, signed=True)
CANCEL_REPLACE_HALF_CODES = frozenset({-2021, -2022})


@dataclass(frozen=True, slots=True)
class ConnectorStats:
    """What the connector did about venue trouble, counted since it was built."""

    time_syncs: int  # server-time syncs
    timestamp_rejects: int  # -1021 answers (REST and WebSocket API)
    rate_limited: int  # 429 answers
    banned: int  # 418 answers (must stay 0)
    held_back: int  # requests refused locally during a Retry-After block
    feed_shed: int  # stream messages dropped because a reader fell behind


def depth_endpoint(limit: int) -> Endpoint:
    """``GET depth`` weighs 5 up to 100 levels, 25 to 500, 50 to 1000, 250 beyond."""
    weight = 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250
    return Endpoint(method="GET", path="depth", weight=weight)


class BinanceConnector:
    """One account's ``Venue`` over Binance's REST API, market streams and WebSocket API (module docstring).

    Usable from creation (the transport's session and the server-time offset are set up lazily by the first
    request) until ``close()``, which ends every stream and closes the transport (unless it was given). A given
    aiohttp ``session`` is wrapped in an ``AiohttpTransport``; ``transport`` and ``session`` exclude each other.
    """

    def __init__(
        self,
        config: BinanceConfig,
        credentials: Credentials | None = None,
        *,
        clock: Clock | None = None,
        seed: int = 0,
        session: aiohttp.ClientSession | None = None,
        transport: Transport | None = None,
        store: MetaStore | None = None,
    ) -> None:
        if session is not None and transport is not None:
            raise ValueError("give a session or a transport, not both")
        self.name = config.name
        self.config = config
        self._credentials = credentials
        self._clock: Clock = clock if clock is not None else LoopClock()
        self._rng = random.Random(seed)
        cfg = config
        self.time = TimeSync(self._clock, self._fetch_server_ms, samples=cfg.time_sync_samples,
                             max_age_s=cfg.time_sync_max_age_s, min_interval_s=cfg.time_sync_min_interval_s)
        self.limiter = WeightLimiter(cfg.limiter, monotonic_s=self._clock.monotonic_s, server_ms=self.time.now_ms,
                                     local_ms=self._clock.now_ms, store=store)
        if session is not None:
            transport = AiohttpTransport(session)
        self._rest = RestClient(cfg, self.limiter, credentials=credentials, timestamp_ms=self.time.now_ms,
                                rng=self._rng, transport=transport)
        self._transport = self._rest.transport
        self._request_ids = itertools.count(1)  # WebSocket API request ids, per connector
        self._timestamp_rejects = 0
        self._shed_by_ended = 0  # messages shed by streams that have ended
        self._policy = ReconnectPolicy(cfg, self._rng, self._clock.monotonic_s)
        self._infos: dict[str, SymbolInfo] = {}
        self._client_ids: dict[int, ClientOrderId] = {}
        self._streams: set[WsStream[Any]] = set()
        self._depth_streams: dict[str, set[WsStream[Any]]] = {}

    def __repr__(self) -> str:
        return f"BinanceConnector(name={self.name!r}, rest={self.config.endpoints.rest_url!r}, " \
               f"credentials={self._credentials!r})"

    @property
    def open_streams(self) -> int:
        """Streams not yet ended (by the venue, an error, their consumer or ``close()``)."""
        return len(self._streams)

    @property
    def stats(self) -> ConnectorStats:
        """A snapshot of the trouble counters."""
        limiter = self.limiter
        return ConnectorStats(time_syncs=self.time.generation, timestamp_rejects=self._timestamp_rejects,
                              rate_limited=limiter.rate_limited, banned=limiter.banned, held_back=limiter.held_back,
                              feed_shed=self.feed_shed())

    def feed_shed(self) -> int:
        """Stream messages dropped because a reader fell ``stream_queue_max`` behind, over every stream opened."""
        return self._shed_by_ended + sum(stream.shed for stream in self._streams)

    def sizes(self) -> dict[str, int]:
        """Memory probe: the order id -> client id map (capped at ``MAX_REMEMBERED_ORDERS``), open streams and
        the messages they hold (each at most ``stream_queue_max``)."""
        return {"client_ids": len(self._client_ids), "subscriptions": len(self._streams),
                "feed_queued": sum(stream.queued() for stream in self._streams)}

    # -- reference data --
    async def symbols(self) -> list[SymbolInfo]:
        body = (await self._call(EXCHANGE_INFO)).body
        weight, orders = wire.rate_limits(body)
        self.limiter.set_venue_limits(weight or self.limiter.config.weight_limit_1m,
                                      orders or self.limiter.config.order_limit_10s)
        infos = []
        for entry in wire.field(body, "symbols"):
            try:
                info = wire.symbol_info(entry)
            except BotError as error:
                log.info("skipping symbol %s: %s", entry.get("symbol"), error.message)
                continue
            self._infos[info.symbol] = info
            infos.append(info)
        return infos

    async def symbol_info(self, symbol: str) -> SymbolInfo:
        """``symbol``'s rules (exchangeInfo is fetched once, then cached)."""
        info = self._infos.get(symbol)
        if info is None:
            await self.symbols()
            info = self._infos.get(symbol)
            if info is None:
                raise BotError(ErrorCode.BAD_SYMBOL, f"{symbol!r} is not traded on {self.name}")
        return info

    async def server_time_ms(self) -> int:
        return await self._fetch_server_ms()

    async def sync_time(self) -> None:
        """Resync the server-time offset now (the session harness calls it at start; at most one sync per
        ``time_sync_min_interval_s``, concurrent callers share it)."""
        await self.time.resync(self.time.generation)

    async def _fetch_server_ms(self) -> int:
        return int(wire.field((await self._rest.request(TIME)).body, "serverTime"))

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        connecting = [s.ready.wait() for s in self._depth_streams.get(symbol, ()) if not s.ready.is_set()]
        if connecting:  # subscribe-then-snapshot: let the streams connect first (bounded)
            try:
                async with asyncio.timeout(self.config.ws_connect_timeout_s):
                    await asyncio.gather(*connecting)
            except TimeoutError:
                pass
        info = await self.symbol_info(symbol)
        answer = await self._call(depth_endpoint(limit), [("symbol", symbol), ("limit", str(limit))])
        return wire.book(info, answer.body)

    # -- orders --
    async def place(self, order: NewOrder) -> VenueOrder:
        info = self._infos.get(order.symbol) or await self.symbol_info(order.symbol)
        answer = await self._call(PLACE, wire.order_params(info, order))
        return self._remember(wire.venue_order(info, answer.body))

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        info = self._infos.get(symbol) or await self.symbol_info(symbol)
        answer = await self._call(CANCEL, [("symbol", symbol), ("origClientOrderId", client_order_id)])
        return self._remember(wire.venue_order(info, answer.body))

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        info = await self.symbol_info(symbol)
        params = [*wire.order_params(info, new), ("cancelReplaceMode", "STOP_ON_FAILURE"),
                  ("cancelOrigClientOrderId", cancel_client_order_id)]
        answer = await self._call(CANCEL_REPLACE, params, accept_codes=CANCEL_REPLACE_HALF_CODES)
        data = answer.body.get("data", answer.body) if "code" in answer.body else answer.body
        cancel = self._half(info, data.get("cancelResponse"), "cancel")
        if cancel is None:
            raise BotError(ErrorCode.UNKNOWN_OUTCOME, "cancelReplace: answer without its cancel half")
        placed = None if data.get("newOrderResult") == "NOT_ATTEMPTED" else self._half(
            info, data.get("newOrderResponse"), "new order")
        return CancelReplaceOutcome(cancel, placed)

    def _half(self, info: SymbolInfo, response: Any, what: str) -> VenueOrder | Exception | None:
        if not isinstance(response, dict):
            return None
        if "code" in response:
            return venue_error(int(response["code"]), f"cancelReplace {what}: {response.get('msg', '')}")
        return self._remember(wire.venue_order(info, response))

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        info = await self.symbol_info(symbol)
        answer = await self._call(QUERY, [("symbol", symbol), ("origClientOrderId", client_order_id)])
        return self._remember(wire.venue_order(info, answer.body))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        if symbol is None:
            answer = await self._call(OPEN_ORDERS_ALL)
        else:
            answer = await self._call(OPEN_ORDERS, [("symbol", symbol)])
        return [self._remember(wire.venue_order(await self.symbol_info(o["symbol"]), o)) for o in answer.body]

    async def balances(self) -> dict[str, Balance]:
        return wire.balances((await self._call(ACCOUNT)).body)

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        """The account's fills on ``symbol`` from ``from_trade_id`` on (inclusive; all if None), oldest first."""
        info = await self.symbol_info(symbol)
        next_id = 0 if from_trade_id is None else int(from_trade_id)
        trades: list[Any] = []
        for _ in range(MAX_FILL_PAGES):
            params = [("symbol", symbol), ("fromId", str(next_id)), ("limit", str(FILLS_PAGE_SIZE))]
            page = (await self._call(MY_TRADES, params)).body
            trades.extend(page)
            if len(page) < FILLS_PAGE_SIZE:
                break
            next_id = int(page[-1]["id"]) + 1
        else:
            raise BotError(ErrorCode.INTERNAL, f"fills({symbol!r}) passed {MAX_FILL_PAGES} pages of trades")
        return [wire.my_trade(info, t, await self._client_order_id(info, int(t["orderId"]))) for t in trades]

    async def _client_order_id(self, info: SymbolInfo, order_id: int) -> ClientOrderId:
        client_order_id = self._client_ids.get(order_id)
        if client_order_id is None:
            answer = await self._call(QUERY, [("symbol", info.symbol), ("orderId", str(order_id))])
            client_order_id = self._remember(wire.venue_order(info, answer.body)).client_order_id
        return client_order_id

    def _remember(self, order: VenueOrder) -> VenueOrder:
        client_ids = self._client_ids
        if order.order_id not in client_ids:
            if len(client_ids) >= MAX_REMEMBERED_ORDERS:
                del client_ids[next(iter(client_ids))]
            client_ids[order.order_id] = order.client_order_id
        return order

    async def _call(
        self, endpoint: Endpoint, params: Sequence[tuple[str, str]] = (), *,
        accept_codes: frozenset[int] = frozenset(),
    ) -> Answer:
        """A request after the server-time offset is known (signed timestamps and the limiter's windows use it);
        on -1021 resync the offset once and retry once."""
        generation = await self.time.ensure()
        try:
            return await self._rest.request(endpoint, params, accept_codes=accept_codes)
        except BotError as error:
            if error.code is not ErrorCode.TIMESTAMP_OUT_OF_WINDOW:
                raise
            self._timestamp_rejects += 1
            log.warning("%s %s: timestamp outside recvWindow; resyncing server time", endpoint.method, endpoint.path)
        await self.time.resync(generation)
        return await self._rest.request(endpoint, params, accept_codes=accept_codes)

    # -- streams --
    def depth_updates(self, symbol: str) -> WsStream[DepthUpdate]:
        stream = self._market_stream(symbol, "depth@100ms", "depthUpdate", wire.depth_update)
        self._depth_streams.setdefault(symbol, set()).add(stream)
        return stream

    def public_trades(self, symbol: str) -> WsStream[PublicTrade]:
        return self._market_stream(symbol, "trade", "trade", wire.public_trade)

    def user_events(self) -> WsStream[UserEvent]:
        credentials = self._credentials
        if credentials is None:
            raise BotError(ErrorCode.AUTH_FAILED, "the user stream needs credentials; none configured",
                           recoverable=False)
        handler = UserEventHandler(self.symbol_info)

        async def open_ws() -> WsConnection:
            await self.limiter.acquire(USER_STREAM_WEIGHT, Priority.READ)
            ws, handler.subscription_id = await open_user_ws(
                self._transport, self.config, credentials, self.time, self._request_ids,
                on_timestamp_reject=self._count_timestamp_reject)
            return ws

        return self._stream("userData", open_ws, handler)

    def _market_stream(
        self, symbol: str, suffix: str, event_type: str, translate: Callable[[SymbolInfo, Any], T]
    ) -> WsStream[T]:
        name = f"{symbol.lower()}@{suffix}"
        url = combined_stream_url(self.config.endpoints.stream_url, [name])

        last: list[Any] = [None, None, ()]  # [message, its symbol info, its translation]

        async def handle(message: Any) -> Sequence[T]:
            if message is last[0] and self._infos.get(symbol) is last[1]:
                again: Sequence[T] = last[2]  # the very message object delivered again (module docstring)
                return again
            combined = type(message) is dict and "stream" in message and "data" in message
            event = message["data"] if combined else unwrap_market(message)  # the usual form without a call
            if event is None or event.get("e") != event_type:
                return ()
            info = self._infos.get(symbol) or await self.symbol_info(symbol)  # cached after the first message
            items = (translate(info, event),)
            last[:] = message, info, items
            return items

        def open_ws() -> Awaitable[WsConnection]:
            return self._transport.ws_connect(url, heartbeat_s=self.config.ws_heartbeat_s)

        return self._stream(name, open_ws, handle)

    def _stream(
        self,
        key: str,
        open_ws: Callable[[], Awaitable[WsConnection]],
        handle: Callable[[Any], Awaitable[Sequence[T]]],
    ) -> WsStream[T]:
        stream: WsStream[T] = WsStream(key=key, open_ws=open_ws, handle=handle, config=self.config,
                                       policy=self._policy, monotonic_s=self._clock.monotonic_s,
                                       on_end=self._forget)
        self._streams.add(stream)
        return stream

    def _count_timestamp_reject(self) -> None:
        self._timestamp_rejects += 1

    def _forget(self, stream: WsStream[Any]) -> None:
        if stream in self._streams:
            self._shed_by_ended += stream.shed
        self._streams.discard(stream)
        for streams in self._depth_streams.values():
            streams.discard(stream)

    async def close(self) -> None:
        """End every open stream, then close the transport (if the connector made it)."""
        self.time.close()
        await asyncio.gather(*(stream.aclose() for stream in list(self._streams)))
        self._streams.clear()
        self._depth_streams.clear()
        await self._rest.close()
