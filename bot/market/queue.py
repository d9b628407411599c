"""QueueTracker: incremental queue-position estimates for the bot's own resting orders, O(1) lookup by client id.

Model (hftbacktest's "probabilistic queue" model with a linear probability, ``ProbQueueModel`` with
``f(x) = x``), per order at (side, price):

* **Add.** The displayed level qty *includes our own order* once it rests, so the qty ahead of a new order is the
  level's displayed qty just before it arrived: ``ahead = level_qty_before``. The tracker then expects the level
  to show ``level_qty_before + qty``.
* **Trade** at our price on our side (the maker side: BUY if ``buyer_is_maker``): FIFO, the traded qty consumes
  the queue from the front: ``ahead = max(0, ahead - trade_qty)``. A trade through our price (a sell at a lower
  price than our bid, a buy above our ask) means everything ahead of us is gone: ``ahead = 0``. Traded qty is
  remembered per level so the next level update does not count it again as cancellations.
* **Level update** ``old -> new`` (from a depth diff). An increase is new orders joining the back: no change. A
  decrease not explained by trades since the last update, ``c = max(0, old - new - traded)``, is cancellations,
  split between the queue ahead of us and behind us in proportion to their sizes::

      behind = max(0, old - ahead - qty)
      ahead' = ahead - c * ahead / (ahead + behind)          (unchanged if ahead + behind == 0)
      ahead' = min(max(0, ahead'), max(0, new - qty))        (what remains besides us)

  rounded down to whole lots. (Traded qty already reduced ``ahead`` when the trade arrived.)
* **Fill / remove.** ``on_fill`` reduces our qty; an order filled in full or removed (cancelled, expired) is
  forgotten.

Invariants: every estimate is an int >= 0; ``ahead(cid)`` is one dict lookup; a trade or level update touches only
the orders at that side (trades) or that level (level updates), at most ``max_orders`` of them; at most
``max_orders`` orders are tracked.

Errors: adding a cid already tracked or past ``max_orders`` raises ``ValueError`` (a bug in the caller: ids are
never reused and the bot rests few orders); unknown cids in ``remove``/``on_fill`` are ignored (the order may have
left before it was tracked).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.types import ClientOrderId, PublicTrade, Side

DEFAULT_MAX_ORDERS = 10_000

_Level = tuple[Side, int]


@dataclass(slots=True)
class _Order:
    side: Side
    price_ticks: int
    qty_lots: int
    ahead_lots: int


class QueueTracker:
    """Queue-ahead estimates for own resting orders (one symbol)."""

    def __init__(self, *, max_orders: int = DEFAULT_MAX_ORDERS) -> None:
        if max_orders < 1:
            raise ValueError(f"max_orders must be >= 1, got {max_orders!r}")
        self._max_orders = max_orders
        self._orders: dict[ClientOrderId, _Order] = {}
        self._by_level: dict[_Level, dict[ClientOrderId, None]] = {}  # insertion-ordered sets
        self._level_qty: dict[_Level, int] = {}  # last displayed qty of levels we rest at
        self._traded: dict[_Level, int] = {}  # traded at the level since its last update

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, cid: object) -> bool:
        return cid in self._orders

    def tracked(self) -> list[ClientOrderId]:
        """Client ids tracked, in the order they were added."""
        return list(self._orders)

    def ahead(self, cid: ClientOrderId) -> int | None:
        """Estimated lots ahead of ``cid`` in its level's queue; None if not tracked."""
        order = self._orders.get(cid)
        return None if order is None else order.ahead_lots

    def add(self, cid: ClientOrderId, side: Side, price_ticks: int, qty_lots: int, level_qty_before: int) -> None:
        """Track a newly resting order; ``level_qty_before`` is the displayed level qty before it arrived."""
        if cid in self._orders:
            raise ValueError(f"order {cid!r} is already tracked")
        if len(self._orders) >= self._max_orders:
            raise ValueError(f"QueueTracker is full ({self._max_orders} orders)")
        if qty_lots <= 0 or level_qty_before < 0:
            raise ValueError(f"bad order {cid!r}: qty {qty_lots}, level qty {level_qty_before}")
        key = (side, price_ticks)
        self._orders[cid] = _Order(side, price_ticks, qty_lots, level_qty_before)
        self._by_level.setdefault(key, {})[cid] = None
        self._level_qty[key] = max(self._level_qty.get(key, 0), level_qty_before) + qty_lots
        self._traded.setdefault(key, 0)

    def on_trade(self, trade: PublicTrade) -> None:
        """A public trade: consumes the front of the maker side's queue at its price, and all of it through it."""
        maker = Side.BUY if trade.buyer_is_maker else Side.SELL
        key = (maker, trade.price_ticks)
        for cid in self._by_level.get(key, ()):
            order = self._orders[cid]
            order.ahead_lots = max(0, order.ahead_lots - trade.qty_lots)
        if key in self._traded:
            self._traded[key] += trade.qty_lots
        for (side, price), cids in self._by_level.items():
            through = price > trade.price_ticks if maker is Side.BUY else price < trade.price_ticks
            if side is maker and through:
                for cid in cids:
                    self._orders[cid].ahead_lots = 0

    def on_level(self, side: Side, price_ticks: int, new_qty: int) -> None:
        """The displayed qty at (side, price) is now ``new_qty``: unexplained decreases are cancellations."""
        key = (side, price_ticks)
        cids = self._by_level.get(key)
        if cids is None:
            return
        old = self._level_qty[key]
        traded = self._traded[key]
        cancelled = max(0, old - new_qty - traded)
        for cid in cids:
            order = self._orders[cid]
            if cancelled:
                behind = max(0, old - order.ahead_lots - order.qty_lots)
                total = order.ahead_lots + behind
                if total:
                    order.ahead_lots -= cancelled * order.ahead_lots // total
            order.ahead_lots = min(max(0, order.ahead_lots), max(0, new_qty - order.qty_lots))
        self._level_qty[key] = new_qty
        self._traded[key] = 0

    def on_fill(self, cid: ClientOrderId, qty_lots: int) -> None:
        """``qty_lots`` of ``cid`` traded: its qty shrinks (it was at the front); filled in full, it is forgotten."""
        order = self._orders.get(cid)
        if order is None:
            return
        order.qty_lots -= qty_lots
        order.ahead_lots = 0
        if order.qty_lots <= 0:
            self.remove(cid)

    def remove(self, cid: ClientOrderId) -> None:
        """Forget ``cid`` (filled, cancelled or expired); unknown ids are ignored."""
        order = self._orders.pop(cid, None)
        if order is None:
            return
        key = (order.side, order.price_ticks)
        cids = self._by_level[key]
        del cids[cid]
        if not cids:
            del self._by_level[key], self._level_qty[key], self._traded[key]
