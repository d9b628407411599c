"""ForwardingVenue: the base of every ``Venue`` decorator; forwards each ``Venue`` method to the wrapped venue.

A decorator (metrics, paper trading, tracing) subclasses it and overrides only the methods whose behaviour it
changes; everything else reaches ``inner`` unchanged (same arguments, same result, same exception). A method
added to ``bot.interfaces.Venue`` is added here once, and ``tests/unit/test_venue_forwarding.py`` fails until it is.

Invariants: no state of its own besides ``inner`` and ``name`` (``inner.name`` unless given); streams are returned
as the wrapped venue's iterators, not re-wrapped, so a decorator that does not touch a stream adds no cost to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

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
from bot.interfaces import Venue

__all__ = ["ForwardingVenue"]


class ForwardingVenue:
    """``inner`` as a ``Venue``, every call forwarded (module docstring). Lifecycle: ``inner``'s."""

    def __init__(self, inner: Venue, *, name: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name if name is None else name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"

    # -- orders --
    async def place(self, order: NewOrder) -> VenueOrder:
        return await self.inner.place(order)

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        return await self.inner.cancel(symbol, client_order_id)

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        return await self.inner.cancel_replace(symbol, cancel_client_order_id, new)

    # -- reads --
    async def symbols(self) -> list[SymbolInfo]:
        return await self.inner.symbols()

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        return await self.inner.book(symbol, limit)

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        return await self.inner.query(symbol, client_order_id)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        return await self.inner.open_orders(symbol)

    async def balances(self) -> dict[str, Balance]:
        return await self.inner.balances()

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        return await self.inner.fills(symbol, from_trade_id)

    async def server_time_ms(self) -> int:
        return await self.inner.server_time_ms()

    # -- streams --
    def depth_updates(self, symbol: str) -> AsyncIterator[DepthUpdate]:
        return self.inner.depth_updates(symbol)

    def public_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        return self.inner.public_trades(symbol)

    def user_events(self) -> AsyncIterator[UserEvent]:
        return self.inner.user_events()

    async def close(self) -> None:
        await self.inner.close()
