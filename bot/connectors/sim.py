"""SimConnector: the ``Venue`` of one account on the in-process simulated venue, translating every type both ways.

This is the only bot module that imports ``exchange_sim``: everything it returns or raises is a bot type
(``bot.core.types``, ``BotError``), so callers never see an engine class or enum.

Translation rules:

* engine orders become ``VenueOrder`` (``EXPIRED_IN_MATCH``, a self-trade-prevention expiry, is ``EXPIRED``;
  ``time_ms`` is the order's last update). Every order the connector sees fills a bounded map
  ``order id -> client order id``, so fills fetched by ``fills()`` (which carry only order ids) get their client
  ids without a request; an unknown order id is looked up once with ``get_order``.
* engine trades become ``Fill`` from this account's side: its order, side, maker flag, fee and fee asset.
  (A trade with this account on both sides needs self-trade prevention ``NONE``, which this connector never
  sends; such a trade would be reported from the maker side only.)
* ``LIMIT`` orders carry their time in force; ``LIMIT_MAKER`` and ``MARKET`` carry none, as on Binance.

Errors: every request runs under ``asyncio.timeout(request_timeout_s)``. An ``EngineError`` becomes
``venue_error(code, msg)``; a timeout becomes ``BotError(UNKNOWN_OUTCOME)`` for ``place`` and ``cancel`` (the
venue may have executed them) and a recoverable ``BotError(NETWORK)`` for reads. A user stream the venue closes
because its reader fell behind raises a recoverable ``BotError(NETWORK)``: reconnect and reconcile.

HTTP-level failures (``VenueHttpError``, injected by the fault injector) keep their meaning: 429 becomes
``RATE_LIMITED`` and 418 ``IP_BANNED``, both with ``retry_after_ms`` from Retry-After, and from the moment the
answer arrives until Retry-After expires *no request is sent*: every call fails at once with the same code and
the time left (a global gate, so no part of the bot can provoke the 418 ban by sending during Retry-After). With
a ``store`` (anything with ``get_meta``/``set_meta``, e.g. the ``StateStore``) the gate's deadline (loop time, the
simulation's one clock) is persisted, so an instance started after a crash honours its predecessor's Retry-After
instead of sending into it. A 503
on a write is ``UNKNOWN_OUTCOME`` (-1007: it may have executed); a 503 on a read (-1001) or a WAF 403 is a
recoverable ``VENUE_UNAVAILABLE`` (not processed), and so is a read answered -1006/-1007 (a read has nothing
to resolve: it is simply retried).

Time sync: signed requests carry ``timestamp = local time + client.timestamp_offset_us``. The offset is estimated
from the server's time (``sync_time``: server time minus the midpoint of the round trip; the owner calls it at
start), again every ``time_resync_s`` once synced, and after a -1021 answer (at most once per ``TIME_RESYNC_MIN_S``;
concurrent -1021s share one resync), so a skewed or drifting venue clock costs a few -1021s, never a storm.

Streams (``Stream``) subscribe when the method is called, not at the first ``__anext__``, so a consumer can
subscribe, then take a snapshot or place an order, then read, and miss nothing in between. Each stream closes
its subscription when the consumer stops it (``aclose()``, ``contextlib.aclosing``, or dropping it);
``close()`` closes them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from itertools import starmap
from typing import Any, Generic, Protocol, TypeVar

from bot.core.errors import BotError, ErrorCode, venue_error
from bot.core.sending import check_before_send
from bot.core.types import (
    Balance,
    BalanceUpdate,
    BookLevel,
    BookSnapshot,
    CancelReplaceOutcome,
    ClientOrderId,
    DepthUpdate,
    Fill,
    NewOrder,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PublicTrade,
    Side,
    SymbolInfo,
    TimeInForce,
    TradeId,
    UserEvent,
    VenueOrder,
    VenueOrderId,
)
from exchange_sim.engine import types as sim
from exchange_sim.engine.matching import CancelReplaceResult
from exchange_sim.faults.errors import VenueHttpError
from exchange_sim.feeds import (
    AccountUpdate,
    DepthDiff,
    DepthSnapshot,
    ExecutionReport,
    Subscription,
    SubscriptionOverflow,
)
from exchange_sim.venue import VenueClient

R = TypeVar("R")
M = TypeVar("M")
T = TypeVar("T")

FILLS_PAGE_SIZE = 1000  # the most myTrades returns per request
MAX_FILL_PAGES = 10_000  # fills() refuses to page past 10 million fills in one call
MAX_REMEMBERED_ORDERS = 100_000  # bound of the order id -> client order id map (oldest forgotten first)
FEED_BUFFER_MESSAGES = 2_000  # undelivered messages a market-data stream holds; a flood beyond it sheds the oldest
RETRY_AFTER_META = "sim.retry_after_until"  # store meta: "<loop time s> <error code>" of the Retry-After gate
TIME_RESYNC_MIN_S = 1.0  # -1021-triggered time resyncs are at least this far apart
SIGNED_OPS = frozenset({"place", "cancel", "cancelAll", "cancelReplace", "getOrder", "openOrders", "account",
                        "myTrades"})
_INVALID_TIMESTAMP = -1021
_DISCONNECTED = -1001
_UNKNOWN_STATUS = frozenset({-1006, -1007})  # execution status unknown: only a write can have done anything
_READ_OPS = frozenset({"exchangeInfo", "depth", "time", "getOrder", "openOrders", "account", "myTrades"})


@dataclass(slots=True)
class ConnectorStats:
    """What the connector did about venue trouble (counts)."""

    time_syncs: int = 0
    timestamp_rejects: int = 0  # -1021 answers
    rate_limited: int = 0  # 429 answers
    banned: int = 0  # 418 answers (must stay 0)
    held_back: int = 0  # requests refused locally during a Retry-After
    feed_shed: int = 0  # market-data messages a full stream buffer dropped (closed streams; see ``feed_shed``)

_STATUS: dict[sim.OrderStatus, OrderStatus] = {
    sim.OrderStatus.NEW: OrderStatus.NEW,
    sim.OrderStatus.PARTIALLY_FILLED: OrderStatus.PARTIALLY_FILLED,
    sim.OrderStatus.FILLED: OrderStatus.FILLED,
    sim.OrderStatus.CANCELED: OrderStatus.CANCELED,
    sim.OrderStatus.REJECTED: OrderStatus.REJECTED,
    sim.OrderStatus.EXPIRED: OrderStatus.EXPIRED,
    sim.OrderStatus.EXPIRED_IN_MATCH: OrderStatus.EXPIRED,
}
# enum translations as lookups (calling an enum class by value costs ~15 times more, on every order and fill)
_SIDE: dict[sim.Side, Side] = {side: Side(side.value) for side in sim.Side}
_TYPE: dict[sim.OrderType, OrderType] = {kind: OrderType(kind.value) for kind in sim.OrderType}
_SIM_SIDE: dict[Side, sim.Side] = {side: sim.Side(side.value) for side in Side}
_SIM_TYPE: dict[OrderType, sim.OrderType] = {kind: sim.OrderType(kind.value) for kind in OrderType}
_SIM_TIF: dict[TimeInForce, sim.TimeInForce] = {tif: sim.TimeInForce(tif.value) for tif in TimeInForce}


class MetaStore(Protocol):
    """Where the connector keeps state that must survive a crash (``StateStore`` is one)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


class SimConnector:
    """One account's ``Venue`` over one ``VenueClient``. Usable until ``close()``; requests after it still work,
    streams are ended."""

    name: str = "sim"

    def __init__(self, client: VenueClient, *, request_timeout_s: float = 5.0, time_resync_s: float = 60.0,
                 store: MetaStore | None = None, feed_buffer: int = FEED_BUFFER_MESSAGES) -> None:
        if request_timeout_s <= 0 or time_resync_s <= 0:
            raise ValueError(f"request_timeout_s and time_resync_s must be positive, got {request_timeout_s!r}, "
                             f"{time_resync_s!r}")
        if feed_buffer < 1:
            raise ValueError(f"feed_buffer must be at least 1, got {feed_buffer!r}")
        self._client = client
        self._feed_buffer = feed_buffer
        self._loop = client.venue.runtime.loop  # the venue's loop (read directly: no getpid per request)
        self._request_timeout_s = request_timeout_s
        self._time_resync_s = time_resync_s
        self._synced_at_s: float | None = None  # loop time of the last time sync
        self._sync: asyncio.Future[None] | None = None  # a time sync in progress
        self._resync_due = False  # a -1021 asked for a resync before the next signed request
        self._blocked_until_s = 0.0  # loop time until which Retry-After forbids sending
        self._blocked_code = ErrorCode.RATE_LIMITED
        self._store = store
        saved = store.get_meta(RETRY_AFTER_META) if store is not None else None
        if saved:  # a predecessor's Retry-After (a crash does not end it)
            until_s, _, code = saved.partition(" ")
            self._blocked_until_s = float(until_s)
            self._blocked_code = ErrorCode(code) if code else ErrorCode.RATE_LIMITED
        self.stats = ConnectorStats()
        self._client_ids: dict[sim.OrderId, ClientOrderId] = {}
        self._subscriptions: list[Subscription[Any]] = []

    @property
    def open_streams(self) -> int:
        """Subscriptions currently open (streams not yet stopped by their consumer or by ``close()``)."""
        return len(self._subscriptions)

    # -- requests --
    async def symbols(self) -> list[SymbolInfo]:
        specs = await self._request("exchangeInfo", self._client.exchange_info, mutating=False)
        return [_symbol_info(spec) for spec in specs]

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        return _book(await self._request("depth", lambda: self._client.depth(symbol, limit), mutating=False))

    async def place(self, order: NewOrder) -> VenueOrder:
        request = _place_request(self._client.account, order)
        result = await self._request("place", lambda: self._client.place(request), mutating=True)
        return self._remember(result.order)

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        def call() -> Awaitable[sim.Order]:
            return self._client.cancel(symbol, client_order_id=sim.ClientOrderId(client_order_id))

        return self._remember(await self._request("cancel", call, mutating=True))

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        def call() -> Awaitable[CancelReplaceResult]:
            return self._client.cancel_replace(
                symbol, _place_request(self._client.account, new),
                cancel_client_order_id=sim.ClientOrderId(cancel_client_order_id),
            )

        result = await self._request("cancelReplace", call, mutating=True)
        cancel: VenueOrder | Exception = (
            venue_error(int(result.cancel.code), result.cancel.msg)
            if isinstance(result.cancel, sim.EngineError) else self._remember(result.cancel)
        )
        placed: VenueOrder | Exception | None
        if result.new is None:
            placed = None
        elif isinstance(result.new, sim.EngineError):
            placed = venue_error(int(result.new.code), result.new.msg)
        else:
            placed = self._remember(result.new.order)
        return CancelReplaceOutcome(cancel, placed)

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        def call() -> Awaitable[sim.Order]:
            return self._client.get_order(symbol, client_order_id=sim.ClientOrderId(client_order_id))

        return self._remember(await self._request("getOrder", call, mutating=False))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        orders = await self._request("openOrders", lambda: self._client.open_orders(symbol), mutating=False)
        return [self._remember(order) for order in orders]

    async def balances(self) -> dict[str, Balance]:
        balances = await self._request("account", self._client.balances, mutating=False)
        return {asset: Balance(b.free_atoms, b.locked_atoms) for asset, b in balances.items()}

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        """The account's fills on ``symbol`` from ``from_trade_id`` on (inclusive; all of them if None), oldest
        first, paging through ``myTrades`` until a short page."""
        next_id = sim.TradeId(0 if from_trade_id is None else from_trade_id)
        trades: list[sim.Trade] = []
        for _ in range(MAX_FILL_PAGES):
            page = await self._request(
                "myTrades", partial(self._client.my_trades, symbol, from_id=next_id, limit=FILLS_PAGE_SIZE),
                mutating=False)
            trades.extend(page)
            if len(page) < FILLS_PAGE_SIZE:
                break
            next_id = sim.TradeId(page[-1].trade_id + 1)
        else:
            raise BotError(ErrorCode.INTERNAL, f"fills({symbol!r}) passed {MAX_FILL_PAGES} pages of trades")
        account = self._client.account
        fills = []
        for trade in trades:
            is_maker = trade.maker_account == account
            order_id = trade.maker_order_id if is_maker else trade.taker_order_id
            client_order_id = await self._client_order_id(symbol, order_id)
            fills.append(_fill(trade, is_maker=is_maker, client_order_id=client_order_id))
        return fills

    async def server_time_ms(self) -> int:
        return await self._request("time", self._client.server_time_us, mutating=False) // 1000

    async def sync_time(self) -> None:
        """Estimate the server clock's offset from one ``time`` round trip and sign with it from now on."""
        if self._sync is not None:  # share a resync in progress
            await asyncio.shield(self._sync)
            return
        loop = asyncio.get_running_loop()
        self._sync = loop.create_future()
        try:
            started = loop.time()
            server_us = await self._request("time", self._client.server_time_us, mutating=False)
            ended = loop.time()
            self._client.timestamp_offset_us = server_us - round((started + ended) / 2 * 1_000_000)
            self._synced_at_s = ended
            self._resync_due = False
            self.stats.time_syncs += 1
        finally:
            self._sync.set_result(None)
            self._sync = None

    # -- streams --
    def depth_updates(self, symbol: str) -> Stream[DepthUpdate]:
        return self._stream(lambda: self._client.subscribe_depth(symbol, maxsize=self._feed_buffer), _depth_update)

    def public_trades(self, symbol: str) -> Stream[PublicTrade]:
        return self._stream(lambda: self._client.subscribe_trades(symbol, maxsize=self._feed_buffer),
                            _public_trade)

    def user_events(self) -> Stream[UserEvent]:
        return self._stream(self._client.subscribe_user, self._user_event)

    def sizes(self) -> dict[str, int]:
        """Memory probe: the order id -> client id map (capped at ``MAX_REMEMBERED_ORDERS``), open streams and
        the messages they hold (each market stream at most ``feed_buffer`` delivered)."""
        return {"client_ids": len(self._client_ids), "subscriptions": len(self._subscriptions),
                "feed_queued": sum(s.queued() for s in self._subscriptions)}

    async def close(self) -> None:
        """End every open stream (their consumers' loops finish)."""
        for subscription in list(self._subscriptions):
            subscription.close()
            self._forget(subscription)

    # -- internals --
    async def _request(self, op: str, call: Callable[[], Awaitable[R]], *, mutating: bool) -> R:
        """Send one venue request under the timeout (after the Retry-After gate and, for signed requests, a time
        sync when due), translating engine errors and timeouts to ``BotError``."""
        loop = self._loop
        now_s = loop.time()  # read once: nothing below awaits before the request unless a time sync runs
        self._check_gate(op, now_s)
        if op in SIGNED_OPS and (self._resync_due or (
                self._synced_at_s is not None and now_s - self._synced_at_s >= self._time_resync_s)):
            await self.sync_time()
            now_s = loop.time()
            self._check_gate(op, now_s)  # a 429 may have arrived during the sync
        if mutating:
            check_before_send()  # still wanted? a guard may have fired while the request waited
        try:
            async with asyncio.timeout_at(now_s + self._request_timeout_s):  # = timeout(), one loop read less
                return await call()
        except VenueHttpError as error:
            raise self._http_error(op, error, loop.time()) from error
        except sim.EngineError as error:
            code = int(error.code)
            if code == _INVALID_TIMESTAMP:
                self.stats.timestamp_rejects += 1
                if self._synced_at_s is None or loop.time() - self._synced_at_s >= TIME_RESYNC_MIN_S:
                    self._resync_due = True  # the next signed request resyncs first (shared, rate-limited)
            if code == _DISCONNECTED or (not mutating and code in _UNKNOWN_STATUS):
                # not processed (-1001), or a read whose answer was lost (-1006/-1007): nothing to resolve, retry
                raise BotError(ErrorCode.VENUE_UNAVAILABLE, f"{op}: {error.msg}", venue_code=code) from error
            raise venue_error(code, error.msg) from error
        except TimeoutError as error:
            message = f"{op}: no answer within {self._request_timeout_s}s"
            if mutating:
                raise BotError(ErrorCode.UNKNOWN_OUTCOME, f"{message}; the venue may have executed it") from error
            raise BotError(ErrorCode.NETWORK, message, recoverable=True) from error

    def _check_gate(self, op: str, now_s: float) -> None:
        """Refuse to send while a Retry-After runs (``RATE_LIMITED``/``IP_BANNED`` with the time left)."""
        left_s = self._blocked_until_s - now_s
        if left_s > 0:
            self.stats.held_back += 1
            raise BotError(self._blocked_code, f"{op}: not sent, Retry-After has {left_s:.3f}s left",
                           retry_after_ms=max(1, round(left_s * 1000)))

    def _http_error(self, op: str, error: VenueHttpError, now_s: float) -> BotError:
        """429/418: close the gate until Retry-After expires; 503/403: unavailable (or unknown for a 503'd write)."""
        status = error.http_status
        if status in (429, 418):
            retry_after_s = float(error.retry_after_s if error.retry_after_s is not None else 1)
            code = ErrorCode.IP_BANNED if status == 418 else ErrorCode.RATE_LIMITED
            if status == 418:
                self.stats.banned += 1
            else:
                self.stats.rate_limited += 1
            if now_s + retry_after_s > self._blocked_until_s:
                self._blocked_until_s = now_s + retry_after_s
                self._blocked_code = code
                if self._store is not None:
                    self._store.set_meta(RETRY_AFTER_META, f"{self._blocked_until_s!r} {code.value}")
            return BotError(code, f"{op}: HTTP {status} {error.msg}", retry_after_ms=round(retry_after_s * 1000),
                            venue_code=int(error.code))
        if int(error.code) in _UNKNOWN_STATUS and op not in _READ_OPS:
            return venue_error(int(error.code), error.msg)  # a 503'd write may have executed: UNKNOWN_OUTCOME
        return BotError(ErrorCode.VENUE_UNAVAILABLE, f"{op}: HTTP {status} {error.msg}", venue_code=int(error.code))

    def _remember(self, order: sim.Order) -> VenueOrder:
        """Translate ``order`` and note its client order id for fills that carry only the order id."""
        client_ids = self._client_ids
        if order.order_id not in client_ids:
            if len(client_ids) >= MAX_REMEMBERED_ORDERS:
                del client_ids[next(iter(client_ids))]
            client_ids[order.order_id] = ClientOrderId(order.client_order_id)
        return _venue_order(order)

    async def _client_order_id(self, symbol: str, order_id: sim.OrderId) -> ClientOrderId:
        client_order_id = self._client_ids.get(order_id)
        if client_order_id is None:
            order = await self._request("getOrder", partial(self._client.get_order, symbol, order_id=order_id),
                                        mutating=False)
            client_order_id = self._remember(order).client_order_id
        return client_order_id

    def _user_event(self, event: ExecutionReport | AccountUpdate) -> UserEvent:
        if isinstance(event, AccountUpdate):
            balance = Balance(event.free_atoms, event.locked_atoms)
            return BalanceUpdate(asset=event.asset, balance=balance, time_ms=event.event_time_us // 1000)
        order = self._remember(event.order)
        trade = event.trade
        fill = None
        if trade is not None:
            is_maker = trade.maker_order_id == event.order.order_id
            fill = _fill(trade, is_maker=is_maker, client_order_id=order.client_order_id)
        return OrderUpdate(order=order, fill=fill)

    def _stream(self, open_subscription: Callable[[], Subscription[M]], translate: Callable[[M], T]) -> Stream[T]:
        try:
            subscription = open_subscription()
        except sim.EngineError as error:
            raise venue_error(int(error.code), error.msg) from error
        self._subscriptions.append(subscription)
        return Stream(subscription, translate, self._forget)

    def feed_shed(self) -> int:
        """Market-data messages dropped because a stream's bounded buffer was full (stale data shed; the user
        stream never sheds), over every stream this connector opened."""
        return self.stats.feed_shed + sum(s.dropped for s in self._subscriptions)

    def _forget(self, subscription: Subscription[Any]) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self.stats.feed_shed += subscription.dropped


class Stream(Generic[T]):
    """One feed subscription as an async iterator of bot types.

    Lifecycle: open from creation (messages published from then on are kept for the reader); ended by
    ``aclose()``, by being dropped (garbage collected), by the connector's ``close()``, or by the venue
    dropping a slow reader. Once ended its subscription is closed and iteration stops (after the venue's
    drop it raises a recoverable ``BotError(NETWORK)`` once). Unlike an async generator's ``finally``,
    ``aclose()`` also releases a stream that was never iterated.
    """

    __slots__ = ("_on_close", "_subscription", "_translate")

    def __init__(
        self,
        subscription: Subscription[M],
        translate: Callable[[M], T],
        on_close: Callable[[Subscription[Any]], None],
    ) -> None:
        self._subscription: Subscription[Any] = subscription
        self._translate: Callable[[Any], T] = translate
        self._on_close = on_close

    @property
    def closed(self) -> bool:
        return self._subscription.closed

    def __aiter__(self) -> Stream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            message = await self._subscription.get()
        except ConnectionError:
            self._close()
            raise StopAsyncIteration from None
        except SubscriptionOverflow as error:
            self._close()
            raise BotError(ErrorCode.NETWORK, f"stream closed by the venue: {error}", recoverable=True) from error
        return self._translate(message)

    async def aclose(self) -> None:
        """Close the subscription (idempotent): undelivered messages are discarded, a waiting reader stops."""
        self._close()

    def __del__(self) -> None:  # a consumer that broke out of its loop and dropped the stream
        self._close()

    def _close(self) -> None:
        self._subscription.close()
        self._on_close(self._subscription)


# -- translations (pure) --
def _symbol_info(spec: sim.SymbolSpec) -> SymbolInfo:
    return SymbolInfo(
        symbol=spec.symbol,
        base_asset=spec.base_asset,
        quote_asset=spec.quote_asset,
        tick_size=spec.tick_size,
        step_size=spec.step_size,
        min_notional=spec.min_notional,
        min_qty_lots=spec.min_qty_lots,
        max_qty_lots=spec.max_qty_lots,
    )


def _book(snapshot: DepthSnapshot) -> BookSnapshot:
    return BookSnapshot(
        symbol=snapshot.symbol,
        last_update_id=snapshot.last_update_id,
        bids=_levels(snapshot.bids),
        asks=_levels(snapshot.asks),
    )


def _levels(levels: tuple[tuple[int, int], ...]) -> tuple[BookLevel, ...]:
    return tuple(starmap(BookLevel, levels))  # (price_ticks, qty_lots) pairs


def _place_request(account: sim.AccountId, order: NewOrder) -> sim.PlaceRequest:
    limit = order.type is OrderType.LIMIT
    return sim.PlaceRequest(
        account=account,
        symbol=order.symbol,
        side=_SIM_SIDE[order.side],
        type=_SIM_TYPE[order.type],
        qty_lots=order.qty_lots,
        price_ticks=order.price_ticks,
        time_in_force=_SIM_TIF[order.time_in_force] if limit else sim.TimeInForce.GTC,
        client_order_id=sim.ClientOrderId(order.client_order_id),
    )


def _venue_order(order: sim.Order) -> VenueOrder:
    return VenueOrder(
        symbol=order.symbol,
        order_id=VenueOrderId(order.order_id),
        client_order_id=ClientOrderId(order.client_order_id),
        side=_SIDE[order.side],
        type=_TYPE[order.type],
        status=_STATUS[order.status],
        price_ticks=order.price_ticks,
        orig_qty_lots=order.orig_qty_lots,
        executed_qty_lots=order.executed_qty_lots,
        cum_quote_atoms=order.cum_quote_atoms,
        time_ms=order.updated_us // 1000,
    )


def _fill(trade: sim.Trade, *, is_maker: bool, client_order_id: ClientOrderId) -> Fill:
    """``trade`` from the side of the account that owns its maker (``is_maker``) or its taker order."""
    side = trade.taker_side.opposite if is_maker else trade.taker_side
    return Fill(
        symbol=trade.symbol,
        trade_id=TradeId(trade.trade_id),
        order_id=VenueOrderId(trade.maker_order_id if is_maker else trade.taker_order_id),
        client_order_id=client_order_id,
        side=_SIDE[side],
        price_ticks=trade.price_ticks,
        qty_lots=trade.qty_lots,
        quote_atoms=trade.quote_atoms,
        fee_atoms=trade.maker_fee_atoms if is_maker else trade.taker_fee_atoms,
        fee_asset=trade.maker_fee_asset if is_maker else trade.taker_fee_asset,
        is_maker=is_maker,
        time_ms=trade.time_us // 1000,
    )


def _depth_update(diff: DepthDiff) -> DepthUpdate:
    return DepthUpdate(
        symbol=diff.symbol,
        first_update_id=diff.first_update_id,
        last_update_id=diff.last_update_id,
        bids=_levels(diff.bids),
        asks=_levels(diff.asks),
        time_ms=diff.event_time_us // 1000,
    )


def _public_trade(trade: sim.Trade) -> PublicTrade:
    return PublicTrade(
        symbol=trade.symbol,
        trade_id=trade.trade_id,
        price_ticks=trade.price_ticks,
        qty_lots=trade.qty_lots,
        buyer_is_maker=trade.buyer_is_maker,
        time_ms=trade.time_us // 1000,
    )
