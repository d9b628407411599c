"""PaperVenue: a ``Venue`` decorator for paper (dry-run) trading: real market data, orders answered locally.

Market reads and streams (``symbols``, ``book``, ``server_time_ms``, ``depth_updates``, ``public_trades``) and
``balances`` are forwarded to the real venue. ``place``, ``cancel`` and ``cancel_replace`` never reach it: they
are acknowledged here (a placed order rests as NEW, a cancel of a resting paper order answers CANCELED) and
paper orders never fill. The account-specific reads are answered from the paper book so the order manager's
reconciliation sees a consistent venue: ``open_orders`` lists the resting paper orders, ``query`` answers for
paper orders (``UNKNOWN_ORDER`` otherwise), ``fills`` is always empty, and ``user_events`` forwards balance
updates only (real execution reports of the account are not the bot's paper orders).

Invariants: no request that could change the real account is ever sent (``sent_orders`` stays 0 by
construction: nothing here calls the wrapped venue's order methods); paper order ids are a local counter; the
paper book is bounded by ``max_orders`` resting orders (more raise ``BotError(VENUE_REJECTED)``, like a venue's
open-order limit). Errors: ``BotError(UNKNOWN_ORDER)`` for a cancel or query of an order the paper book does
not hold; ``BotError(DUPLICATE_ORDER)`` for a reused client order id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

from bot.connectors.forwarding import ForwardingVenue
from bot.core.errors import BotError, ErrorCode
from bot.core.types import (
    BalanceUpdate,
    CancelReplaceOutcome,
    ClientOrderId,
    Fill,
    NewOrder,
    OrderStatus,
    TradeId,
    UserEvent,
    VenueOrder,
    VenueOrderId,
)
from bot.interfaces import Clock, Venue

__all__ = ["PaperVenue"]


class PaperVenue(ForwardingVenue):
    """``venue`` for reads and market data; orders kept in a local paper book (module docstring)."""

    def __init__(self, venue: Venue, clock: Clock, *, max_orders: int = 1_000) -> None:
        super().__init__(venue, name=f"paper:{venue.name}")
        self._clock = clock
        self._max_orders = max_orders
        self._orders: dict[ClientOrderId, VenueOrder] = {}  # every paper order (resting or finished)
        self._seen: set[ClientOrderId] = set()
        self._next_id = 1
        self.placed = 0
        self.cancelled = 0
        self.sent_orders = 0  # orders sent to the real venue: always 0

    def _resting(self) -> list[VenueOrder]:
        return [o for o in self._orders.values() if o.status is OrderStatus.NEW]

    # -- orders, answered locally --
    async def place(self, order: NewOrder) -> VenueOrder:
        cid = order.client_order_id
        if cid in self._seen:
            raise BotError(ErrorCode.DUPLICATE_ORDER, f"paper: client order id {cid} already used")
        if len(self._resting()) >= self._max_orders:
            raise BotError(ErrorCode.VENUE_REJECTED, f"paper: more than {self._max_orders} resting orders")
        self._seen.add(cid)
        ack = VenueOrder(
            symbol=order.symbol, order_id=VenueOrderId(self._next_id), client_order_id=cid, side=order.side,
            type=order.type, status=OrderStatus.NEW, price_ticks=order.price_ticks, orig_qty_lots=order.qty_lots,
            executed_qty_lots=0, cum_quote_atoms=0, time_ms=self._clock.now_ms(),
        )
        self._next_id += 1
        self._orders[cid] = ack
        self._forget_finished()
        self.placed += 1
        return ack

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        order = self._orders.get(client_order_id)
        if order is None or order.symbol != symbol or order.status is not OrderStatus.NEW:
            raise BotError(ErrorCode.UNKNOWN_ORDER, f"paper: unknown order {client_order_id}")
        done = replace(order, status=OrderStatus.CANCELED, time_ms=self._clock.now_ms())
        self._orders[client_order_id] = done
        self.cancelled += 1
        return done

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        cancelled = await self.cancel(symbol, cancel_client_order_id)  # STOP_ON_FAILURE: raises, nothing placed
        return CancelReplaceOutcome(cancelled, await self.place(new))

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        order = self._orders.get(client_order_id)
        if order is None or order.symbol != symbol:
            raise BotError(ErrorCode.UNKNOWN_ORDER, f"paper: order {client_order_id} does not exist")
        return order

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return [o for o in self._resting() if symbol is None or o.symbol == symbol]

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        return []

    def _forget_finished(self) -> None:
        """Keep at most ``max_orders`` finished orders for late queries (oldest forgotten first)."""
        finished = [cid for cid, o in self._orders.items() if o.status is not OrderStatus.NEW]
        for cid in finished[: max(0, len(finished) - self._max_orders)]:
            del self._orders[cid]

    # -- symbols, book, balances, server time, depth and trade streams, close: forwarded (ForwardingVenue) --
    async def _balance_events(self) -> AsyncIterator[UserEvent]:
        stream = self.inner.user_events()
        try:
            async for event in stream:
                if isinstance(event, BalanceUpdate):
                    yield event
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    def user_events(self) -> AsyncIterator[UserEvent]:
        return self._balance_events()
