"""MeteredVenue: a ``Venue`` decorator that records every request's outcome in ``BotMetrics``, on the I/O path.

What it records (docs/metrics.md): ``mmbot_venue_request_latency_ms{endpoint}`` and
``mmbot_venue_request_errors_total{endpoint,code}`` for every request; ``mmbot_orders_placed_total{symbol,side}``
once per client order id sent (a retry of the same id is not counted again); ``mmbot_orders_cancelled_total``
for every cancel the venue confirmed (the cancel half of a cancel-replace included);
``mmbot_orders_rejected_total{symbol,reason}`` for orders the venue refused (fatal ``BotError``s, never unknown
outcomes); ``mmbot_venue_reconnects_total{venue,stream}`` when a market (depth) or user stream is requested again
after the first time (``MarketData`` and the order manager re-subscribe only after a loss).

Public trades and ``close`` are forwarded untouched (``ForwardingVenue``).

Invariants: behaviour is the wrapped venue's, unchanged (same results, same exceptions); time comes from the
injected clock (the loop's: virtual in a simulation); memory is bounded (``max_remembered`` client ids).
``up`` is False after a request failed with a transient or unknown-outcome error, True after any answer.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from bot.connectors.forwarding import ForwardingVenue
from bot.core.errors import BotError
from bot.core.types import (
    Balance,
    BookSnapshot,
    CancelReplaceOutcome,
    ClientOrderId,
    DepthUpdate,
    Fill,
    NewOrder,
    SymbolInfo,
    TradeId,
    UserEvent,
    VenueOrder,
)
from bot.interfaces import Clock, Venue
from bot.metrics.registry import BotMetrics

__all__ = ["MeteredVenue"]

T = TypeVar("T")


class MeteredVenue(ForwardingVenue):
    """``venue`` with its requests counted and timed into ``metrics`` (module docstring)."""

    def __init__(self, venue: Venue, metrics: BotMetrics, clock: Clock, *, max_remembered: int = 100_000) -> None:
        super().__init__(venue)
        self.metrics = metrics
        self._clock = clock
        self._sent: OrderedDict[ClientOrderId, None] = OrderedDict()
        self._max = max_remembered
        self._subscribed: set[str] = set()
        self.up = True

    async def _timed(self, endpoint: str, call: Callable[[], Awaitable[T]]) -> T:
        started = self._clock.monotonic_s()
        try:
            result = await call()
        except BotError as error:
            self.metrics.observe_venue_request(endpoint, (self._clock.monotonic_s() - started) * 1000,
                                               error_code=error.code.value)
            self.up = not (error.recoverable or error.outcome_unknown)
            raise
        self.metrics.observe_venue_request(endpoint, (self._clock.monotonic_s() - started) * 1000)
        self.up = True
        return result

    def _sending(self, order: NewOrder) -> None:
        cid = order.client_order_id
        if cid in self._sent:
            return
        self._sent[cid] = None
        if len(self._sent) > self._max:
            self._sent.popitem(last=False)
        self.metrics.order_placed(order.symbol, order.side.value)

    def _rejected(self, symbol: str, error: BaseException) -> None:
        if isinstance(error, BotError) and not error.recoverable and not error.outcome_unknown:
            self.metrics.order_rejected(symbol, error.code.value)

    # -- orders --
    async def place(self, order: NewOrder) -> VenueOrder:
        self._sending(order)
        try:
            return await self._timed("place", lambda: self.inner.place(order))
        except BotError as error:
            self._rejected(order.symbol, error)
            raise

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        result = await self._timed("cancel", lambda: self.inner.cancel(symbol, client_order_id))
        self.metrics.order_cancelled(symbol)
        return result

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        self._sending(new)
        try:
            outcome = await self._timed("cancel_replace",
                                        lambda: self.inner.cancel_replace(symbol, cancel_client_order_id, new))
        except BotError as error:
            self._rejected(symbol, error)
            raise
        if isinstance(outcome.cancel, VenueOrder):
            self.metrics.order_cancelled(symbol)
        if isinstance(outcome.new, BaseException):
            self._rejected(symbol, outcome.new)
        return outcome

    # -- reads --
    async def symbols(self) -> list[SymbolInfo]:
        return await self._timed("symbols", self.inner.symbols)

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        return await self._timed("book", lambda: self.inner.book(symbol, limit))

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        return await self._timed("query", lambda: self.inner.query(symbol, client_order_id))

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return await self._timed("open_orders", lambda: self.inner.open_orders(symbol))

    async def balances(self) -> dict[str, Balance]:
        return await self._timed("balances", self.inner.balances)

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        return await self._timed("fills", lambda: self.inner.fills(symbol, from_trade_id))

    async def server_time_ms(self) -> int:
        return await self._timed("server_time", self.inner.server_time_ms)

    # -- streams --
    def _subscribe(self, key: str, stream: str) -> None:
        if key in self._subscribed:
            self.metrics.venue_reconnected(self.name, stream)
        self._subscribed.add(key)

    def depth_updates(self, symbol: str) -> AsyncIterator[DepthUpdate]:
        self._subscribe(f"depth:{symbol}", "market")
        return self.inner.depth_updates(symbol)

    def user_events(self) -> AsyncIterator[UserEvent]:
        self._subscribe("user", "user")
        return self.inner.user_events()
