"""One symbol's limit order book: resting orders by side and price level, in price-time priority.

Invariants: every resting order sits in exactly one level of its side, at its limit price; a level's
``qty_lots`` is the sum of its orders' remaining lots and a level with no orders does not exist; within a
level orders keep arrival order (FIFO); ``update_id`` grows by one on every change of any level's total.
The book does not match: crossing is the matching engine's job, so ``is_crossed()`` is a check, not a state.

Errors: adding an order twice, removing or reducing an order that is not resting, or reducing a level below
zero raises ``BookError`` (an engine bug, never a user error).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sortedcontainers import SortedDict

from exchange_sim.engine.types import Order, OrderId, Side


class BookError(RuntimeError):
    """An illegal book operation: the engine's bookkeeping is wrong."""


class Level:
    """All resting orders at one price on one side, FIFO (dicts keep insertion order, delete in O(1))."""

    __slots__ = ("orders", "price_ticks", "qty_lots")

    def __init__(self, price_ticks: int) -> None:
        self.price_ticks = price_ticks
        self.qty_lots = 0
        self.orders: dict[OrderId, Order] = {}

    def first(self) -> Order:
        """The oldest order at this level (the next to match)."""
        return next(iter(self.orders.values()))

    def __repr__(self) -> str:
        return f"Level(price_ticks={self.price_ticks}, qty_lots={self.qty_lots}, n={len(self.orders)})"


class OrderBook:
    """Bids and asks of one symbol. ``add`` is O(log levels); ``remove``/``reduce`` are O(1) unless a level
    appears or disappears (then O(log levels))."""

    __slots__ = ("_asks", "_bids", "_orders", "symbol", "update_id")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.update_id = 0
        # Both keyed by price ticks ascending: best bid is the last key, best ask the first.
        self._bids: Any = SortedDict()
        self._asks: Any = SortedDict()
        self._orders: dict[OrderId, Order] = {}

    # -- mutation --
    def add(self, order: Order) -> int:
        """Rest ``order`` (its ``price_ticks`` and ``remaining_lots``) at the back of its level; returns the
        level's new total."""
        if order.order_id in self._orders:
            raise BookError(f"order {order.order_id} already rests on {self.symbol}")
        price = order.price_ticks
        lots = order.orig_qty_lots - order.executed_qty_lots
        if price is None or lots <= 0:
            raise BookError(f"order {order.order_id} cannot rest: price={price} remaining={lots}")
        levels = self._bids if order.side is Side.BUY else self._asks
        level: Level | None = levels.get(price)
        if level is None:
            level = Level(price)
            levels[price] = level
        level.orders[order.order_id] = order
        level.qty_lots += lots
        self._orders[order.order_id] = order
        self.update_id += 1
        return level.qty_lots

    def remove(self, order: Order) -> int:
        """Take ``order`` off the book with its remaining lots; returns the level's new total (0 = gone)."""
        if self._orders.pop(order.order_id, None) is None:
            raise BookError(f"order {order.order_id} is not resting on {self.symbol}")
        levels = self._bids if order.side is Side.BUY else self._asks
        level: Level = levels[order.price_ticks]
        del level.orders[order.order_id]
        level.qty_lots -= order.orig_qty_lots - order.executed_qty_lots
        self.update_id += 1
        if not level.orders:
            if level.qty_lots != 0:
                raise BookError(
                    f"empty level {level.price_ticks} on {self.symbol} holds {level.qty_lots} lots"
                )
            del levels[level.price_ticks]
            return 0
        return level.qty_lots

    def reduce(self, order: Order, lots: int) -> int:
        """A resting order traded ``lots`` (already counted in its ``executed_qty_lots``); drops it from the
        book if nothing remains. Returns the level's new total (0 = level gone)."""
        levels = self._bids if order.side is Side.BUY else self._asks
        level: Level = levels[order.price_ticks]
        level.qty_lots -= lots
        if level.qty_lots < 0:
            raise BookError(f"level {level.price_ticks} on {self.symbol} went negative")
        self.update_id += 1
        if order.orig_qty_lots - order.executed_qty_lots == 0:
            del level.orders[order.order_id]
            del self._orders[order.order_id]
            if not level.orders:
                if level.qty_lots != 0:
                    raise BookError(f"empty level {level.price_ticks} on {self.symbol} holds lots")
                del levels[level.price_ticks]
        return level.qty_lots

    # -- queries --
    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def get(self, order_id: OrderId) -> Order | None:
        return self._orders.get(order_id)

    def best_level(self, side: Side) -> Level | None:
        """The best level of ``side`` (highest bid / lowest ask), or None if that side is empty."""
        if side is Side.BUY:
            return self._bids.peekitem(-1)[1] if self._bids else None
        return self._asks.peekitem(0)[1] if self._asks else None

    def best_bid(self) -> tuple[int, int] | None:
        level = self.best_level(Side.BUY)
        return None if level is None else (level.price_ticks, level.qty_lots)

    def best_ask(self) -> tuple[int, int] | None:
        level = self.best_level(Side.SELL)
        return None if level is None else (level.price_ticks, level.qty_lots)

    def level_qty(self, side: Side, price_ticks: int) -> int:
        """Total resting lots at ``price_ticks`` on ``side`` (0 if no such level)."""
        level: Level | None = (self._bids if side is Side.BUY else self._asks).get(price_ticks)
        return 0 if level is None else level.qty_lots

    def levels(self, side: Side) -> Iterator[Level]:
        """Levels of ``side`` best first. Do not mutate the book while iterating."""
        if side is Side.BUY:
            return iter(reversed(self._bids.values()))
        return iter(self._asks.values())

    def orders_at(self, side: Side, price_ticks: int) -> list[Order]:
        """Resting orders at one level in priority order (a copy)."""
        level: Level | None = (self._bids if side is Side.BUY else self._asks).get(price_ticks)
        return [] if level is None else list(level.orders.values())

    def depth(self, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Up to ``limit`` levels per side, best first, as ``(price_ticks, qty_lots)``."""
        bids: list[tuple[int, int]] = []
        for level in self.levels(Side.BUY):
            if len(bids) >= limit:
                break
            bids.append((level.price_ticks, level.qty_lots))
        asks: list[tuple[int, int]] = []
        for level in self.levels(Side.SELL):
            if len(asks) >= limit:
                break
            asks.append((level.price_ticks, level.qty_lots))
        return bids, asks

    def is_crossed(self) -> bool:
        """True if the best bid is at or above the best ask (never true after matching)."""
        return (
            bool(self._bids) and bool(self._asks) and self._bids.peekitem(-1)[0] >= self._asks.peekitem(0)[0]
        )

    def __repr__(self) -> str:
        return f"OrderBook({self.symbol!r}, orders={len(self._orders)}, update_id={self.update_id})"
