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

Streams (``Stream``) subscribe when the method is called, not at the first ``__anext__``, so a consumer can
subscribe, then take a snapshot or place an order, then read, and miss nothing in between. Each stream closes
its subscription when the consumer stops it (``aclose()``, ``contextlib.aclosing``, or dropping it);
``close()`` closes them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from bot.core.errors import BotError, ErrorCode, venue_error
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
    TradeId,
    UserEvent,
    VenueOrder,
    VenueOrderId,
)
from exchange_sim.engine import types as sim
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

_STATUS: dict[sim.OrderStatus, OrderStatus] = {
    sim.OrderStatus.NEW: OrderStatus.NEW,
    sim.OrderStatus.PARTIALLY_FILLED: OrderStatus.PARTIALLY_FILLED,
    sim.OrderStatus.FILLED: OrderStatus.FILLED,
    sim.OrderStatus.CANCELED: OrderStatus.CANCELED,
    sim.OrderStatus.REJECTED: OrderStatus.REJECTED,
    sim.OrderStatus.EXPIRED: OrderStatus.EXPIRED,
    sim.OrderStatus.EXPIRED_IN_MATCH: OrderStatus.EXPIRED,
}


class SimConnector:
    """One account's ``Venue`` over one ``VenueClient``. Usable until ``close()``; requests after it still work,
    streams are ended."""

    name: str = "sim"

    def __init__(self, client: VenueClient, *, request_timeout_s: float = 5.0) -> None:
        if request_timeout_s <= 0:
            raise ValueError(f"request_timeout_s must be positive, got {request_timeout_s!r}")
        self._client = client
        self._request_timeout_s = request_timeout_s
        self._client_ids: dict[sim.OrderId, ClientOrderId] = {}
        self._subscriptions: list[Subscription[Any]] = []

    @property
    def open_streams(self) -> int:
        """Subscriptions currently open (streams not yet stopped by their consumer or by ``close()``)."""
        return len(self._subscriptions)

    # -- requests --
    async def symbols(self) -> list[SymbolInfo]:
        specs = await self._request("exchangeInfo", self._client.exchange_info(), mutating=False)
        return [_symbol_info(spec) for spec in specs]

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        return _book(await self._request("depth", self._client.depth(symbol, limit), mutating=False))

    async def place(self, order: NewOrder) -> VenueOrder:
        request = _place_request(self._client.account, order)
        result = await self._request("place", self._client.place(request), mutating=True)
        return self._remember(result.order)

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        call = self._client.cancel(symbol, client_order_id=sim.ClientOrderId(client_order_id))
        return self._remember(await self._request("cancel", call, mutating=True))

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        call = self._client.cancel_replace(
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
        call = self._client.get_order(symbol, client_order_id=sim.ClientOrderId(client_order_id))
        return self._remember(await self._request("getOrder", call, mutating=False))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        orders = await self._request("openOrders", self._client.open_orders(symbol), mutating=False)
        return [self._remember(order) for order in orders]

    async def balances(self) -> dict[str, Balance]:
        balances = await self._request("account", self._client.balances(), mutating=False)
        return {asset: Balance(b.free_atoms, b.locked_atoms) for asset, b in balances.items()}

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        """The account's fills on ``symbol`` from ``from_trade_id`` on (inclusive; all of them if None), oldest
        first, paging through ``myTrades`` until a short page."""
        next_id = sim.TradeId(0 if from_trade_id is None else from_trade_id)
        trades: list[sim.Trade] = []
        for _ in range(MAX_FILL_PAGES):
            call = self._client.my_trades(symbol, from_id=next_id, limit=FILLS_PAGE_SIZE)
            page = await self._request("myTrades", call, mutating=False)
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
        return await self._request("time", self._client.server_time_us(), mutating=False) // 1000

    # -- streams --
    def depth_updates(self, symbol: str) -> Stream[DepthUpdate]:
        return self._stream(lambda: self._client.subscribe_depth(symbol), _depth_update)

    def public_trades(self, symbol: str) -> Stream[PublicTrade]:
        return self._stream(lambda: self._client.subscribe_trades(symbol), _public_trade)

    def user_events(self) -> Stream[UserEvent]:
        return self._stream(self._client.subscribe_user, self._user_event)

    async def close(self) -> None:
        """End every open stream (their consumers' loops finish)."""
        for subscription in list(self._subscriptions):
            subscription.close()
        self._subscriptions.clear()

    # -- internals --
    async def _request(self, op: str, call: Awaitable[R], *, mutating: bool) -> R:
        """Await one venue request under the timeout, translating engine errors and timeouts to ``BotError``."""
        try:
            async with asyncio.timeout(self._request_timeout_s):
                return await call
        except sim.EngineError as error:
            raise venue_error(int(error.code), error.msg) from error
        except TimeoutError as error:
            message = f"{op}: no answer within {self._request_timeout_s}s"
            if mutating:
                raise BotError(ErrorCode.UNKNOWN_OUTCOME, f"{message}; the venue may have executed it") from error
            raise BotError(ErrorCode.NETWORK, message, recoverable=True) from error

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
            order = await self._request("getOrder", self._client.get_order(symbol, order_id=order_id), mutating=False)
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

    def _forget(self, subscription: Subscription[Any]) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)


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
    return tuple(BookLevel(price_ticks, qty_lots) for price_ticks, qty_lots in levels)


def _place_request(account: sim.AccountId, order: NewOrder) -> sim.PlaceRequest:
    limit = order.type is OrderType.LIMIT
    return sim.PlaceRequest(
        account=account,
        symbol=order.symbol,
        side=sim.Side(order.side.value),
        type=sim.OrderType(order.type.value),
        qty_lots=order.qty_lots,
        price_ticks=order.price_ticks,
        time_in_force=sim.TimeInForce(order.time_in_force.value) if limit else sim.TimeInForce.GTC,
        client_order_id=sim.ClientOrderId(order.client_order_id),
    )


def _venue_order(order: sim.Order) -> VenueOrder:
    return VenueOrder(
        symbol=order.symbol,
        order_id=VenueOrderId(order.order_id),
        client_order_id=ClientOrderId(order.client_order_id),
        side=Side(order.side.value),
        type=OrderType(order.type.value),
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
        side=Side(side.value),
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
