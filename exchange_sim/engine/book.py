"""One symbol's limit order book: resting orders by side and price level, in price-time priority.

Invariants: every resting order sits in exactly one level of its side, at its limit price; a level's
``qty_lots`` is the sum of its orders' remaining lots and a level with no orders does not exist; within a
level orders keep arrival order (FIFO); ``update_id`` grows by one on every change of any level's total.
The book does not match: crossing is the matching engine's job, so ``is_crossed()`` is a check, not a state.
Each side keeps its levels in a dict by price plus a list sorted worst to best (so the best level, read on
every request, is the last item and the levels a taker consumes pop off the end); ``index_ok()`` lets the
audit recheck that index.

Errors: adding an order twice, removing or reducing an order that is not resting, or reducing a level below
zero raises ``BookError`` (an engine bug, never a user error).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from exchange_sim.engine.types import Order, OrderId, Side

# Enum members read per request, as module globals: in CPython 3.11 ``Side.BUY`` goes through EnumType's
# ``__getattr__`` hook, about three times the cost of a global read.
_BUY = Side.BUY


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


class _Side:
    """One side's levels: ``levels`` by price, and ``ordered`` worst to best with ``keys`` (``sign`` * price,
    ascending) alongside for bisection. Bids use sign +1, asks -1, so on both sides the best is last."""

    __slots__ = ("keys", "levels", "ordered", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.levels: dict[int, Level] = {}
        self.ordered: list[Level] = []
        self.keys: list[int] = []

    def best(self) -> Level | None:
        return self.ordered[-1] if self.ordered else None

    def level_at(self, price_ticks: int) -> Level:
        """The level at ``price_ticks``, created (empty, in its place in the order) if there is none."""
        level = self.levels.get(price_ticks)
        if level is None:
            level = self.levels[price_ticks] = Level(price_ticks)
            key = self.sign * price_ticks
            i = bisect_left(self.keys, key)
            self.keys.insert(i, key)
            self.ordered.insert(i, level)
        return level

    def drop(self, level: Level) -> None:
        """Delete an emptied level (usually the best: taken by a taker or its last order cancelled)."""
        del self.levels[level.price_ticks]
        if self.ordered[-1] is level:
            self.ordered.pop()
            self.keys.pop()
        else:
            i = bisect_left(self.keys, self.sign * level.price_ticks)
            del self.ordered[i]
            del self.keys[i]

    def index_ok(self) -> bool:
        """``ordered`` and ``keys`` list exactly ``levels``, strictly worst to best."""
        return (
            len(self.ordered) == len(self.keys) == len(self.levels)
            and all(a < b for a, b in zip(self.keys, self.keys[1:], strict=False))
            and all(
                self.levels.get(level.price_ticks) is level and key == self.sign * level.price_ticks
                for level, key in zip(self.ordered, self.keys, strict=True)
            )
        )


class OrderBook:
    """Bids and asks of one symbol. ``add``/``remove``/``reduce`` are O(1) unless a level appears or
    disappears; then a bisection and a list insert/delete (a C memmove: cheap for any realistic book, and free
    at the best price)."""

    __slots__ = ("_asks", "_bids", "_orders", "symbol", "update_id")

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.update_id = 0
        self._bids = _Side(1)
        self._asks = _Side(-1)
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
        level = (self._bids if order.side is _BUY else self._asks).level_at(price)
        level.orders[order.order_id] = order
        level.qty_lots += lots
        self._orders[order.order_id] = order
        self.update_id += 1
        return level.qty_lots

    def remove(self, order: Order) -> int:
        """Take ``order`` off the book with its remaining lots; returns the level's new total (0 = gone)."""
        if self._orders.pop(order.order_id, None) is None:
            raise BookError(f"order {order.order_id} is not resting on {self.symbol}")
        side = self._bids if order.side is _BUY else self._asks
        level = side.levels[order.price_ticks]  # type: ignore[index]  # a resting order has a price
        del level.orders[order.order_id]
        level.qty_lots -= order.orig_qty_lots - order.executed_qty_lots
        self.update_id += 1
        if not level.orders:
            if level.qty_lots != 0:
                raise BookError(
                    f"empty level {level.price_ticks} on {self.symbol} holds {level.qty_lots} lots"
                )
            side.drop(level)
            return 0
        return level.qty_lots

    def reduce(self, order: Order, lots: int) -> int:
        """A resting order traded ``lots`` (already counted in its ``executed_qty_lots``); drops it from the
        book if nothing remains. Returns the level's new total (0 = level gone)."""
        side = self._bids if order.side is _BUY else self._asks
        level = side.levels[order.price_ticks]  # type: ignore[index]  # a resting order has a price
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
                side.drop(level)
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
        ordered = self._bids.ordered if side is _BUY else self._asks.ordered
        return ordered[-1] if ordered else None

    def would_cross(self, side: Side, limit_ticks: int | None) -> bool:
        """True if an incoming ``side`` order limited to ``limit_ticks`` (None: market) meets the opposite best."""
        if side is _BUY:
            asks = self._asks.ordered
            return bool(asks) and (limit_ticks is None or asks[-1].price_ticks <= limit_ticks)
        bids = self._bids.ordered
        return bool(bids) and (limit_ticks is None or bids[-1].price_ticks >= limit_ticks)

    def best_bid(self) -> tuple[int, int] | None:
        ordered = self._bids.ordered
        if not ordered:
            return None
        level = ordered[-1]
        return level.price_ticks, level.qty_lots

    def best_ask(self) -> tuple[int, int] | None:
        ordered = self._asks.ordered
        if not ordered:
            return None
        level = ordered[-1]
        return level.price_ticks, level.qty_lots

    def level_qty(self, side: Side, price_ticks: int) -> int:
        """Total resting lots at ``price_ticks`` on ``side`` (0 if no such level)."""
        level = (self._bids if side is _BUY else self._asks).levels.get(price_ticks)
        return 0 if level is None else level.qty_lots

    def levels(self, side: Side) -> Iterator[Level]:
        """Levels of ``side`` best first. Do not mutate the book while iterating."""
        return reversed((self._bids if side is _BUY else self._asks).ordered)

    def orders_at(self, side: Side, price_ticks: int) -> list[Order]:
        """Resting orders at one level in priority order (a copy)."""
        level = (self._bids if side is _BUY else self._asks).levels.get(price_ticks)
        return [] if level is None else list(level.orders.values())

    def depth(self, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Up to ``limit`` levels per side, best first, as ``(price_ticks, qty_lots)``."""
        n = max(limit, 0)
        bids = [(level.price_ticks, level.qty_lots) for level in self._bids.ordered[: -n - 1 : -1]]
        asks = [(level.price_ticks, level.qty_lots) for level in self._asks.ordered[: -n - 1 : -1]]
        return bids, asks

    def is_crossed(self) -> bool:
        """True if the best bid is at or above the best ask (never true after matching)."""
        bid, ask = self._bids.best(), self._asks.best()
        return bid is not None and ask is not None and bid.price_ticks >= ask.price_ticks

    def index_ok(self) -> bool:
        """True if both sides' sorted level index matches their levels (an audit check)."""
        return self._bids.index_ok() and self._asks.index_ok()

    def __repr__(self) -> str:
        return f"OrderBook({self.symbol!r}, orders={len(self._orders)}, update_id={self.update_id})"
