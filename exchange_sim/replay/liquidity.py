"""Recorded liquidity inside the matching engine: the replay's own resting orders, added, cut and traded.

The replayed book lives in the venue's engine as orders of the untracked account ``REPLAY_MAKER``, so the bot's
orders rest among them in the engine's FIFO and its queue position is the market quantity ahead of it.
Operations (all at the current simulated time, through the engine's normal paths except ``cut``):

* ``set_level(side, price, target)``: make the maker's quantity at a level ``target`` lots; a rise is ``add``, a
  fall is a cancel split ahead of / behind the first foreign order at the level by the queue model;
* ``add``: first cancel the maker's stale orders on the other side that the new level would cross (the
  recording will remove them too); then our (foreign) orders it crosses are filled - the recorded touch traded
  through our price - by a MARKET order of ``REPLAY_TAKER`` for ``min(lots, what crosses)``; the rest rests at
  the back of the level (a LIMIT_MAKER, padded to the min notional and cut back: Binance's books hold levels
  below today's min notional; split below the max notional);
* ``cut``: reduce one maker order in place, keeping its priority (Binance's order amend keepPriority), with the
  engine's level total, update id, locked balance and depth listener kept exact (``MatchingEngine.audit`` holds);
* ``trade(price, lots, buyer_is_maker)``: a recorded trade. The maker's orders on the maker side better than
  ``price`` are stale and cancelled, the level at ``price`` is topped up to at least ``lots`` (liquidity that
  arrived between 100 ms diffs, behind us), then a MARKET order of ``REPLAY_TAKER`` for ``lots`` executes: it
  fills our better-priced orders first (a trade through our price), then the level in FIFO order - the
  quantity ahead of us, then us (partially if it runs out), then what is behind us.

Invariant: the maker never trades with itself and never leaves the book crossed (a maker order crossing
another maker order is cancelled first; the engine matches anything else). Errors: ``EngineError`` from the
engine is a bug here and propagates.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from exchange_sim.engine.book import Level
from exchange_sim.engine.crossing import locked_by
from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import AccountId, Order, OrderType, PlaceRequest, Side, TimeInForce
from exchange_sim.replay.queue import QueueModel

REPLAY_MAKER = AccountId("mkt.replay")
REPLAY_TAKER = AccountId("mkt.replay.taker")
_FUNDS_ATOMS = 10**30  # the recorded market never runs out of money
_BUY, _SELL = Side.BUY, Side.SELL
LevelListener = Callable[[str, Side, int, int, int], None]  # EngineListener.on_book_level


@dataclass(slots=True)
class LiquidityStats:
    """What the replay did to the engine (``actions`` counts book events: adds, cuts, cancels, trades)."""

    adds: int = 0
    cuts: int = 0
    cancels: int = 0
    trades: int = 0
    stale_cancels: int = 0  # maker orders cancelled because a newer level or trade crossed them
    through_fills: int = 0  # MARKET orders that filled our orders crossed by a recorded level
    ahead_cut_lots: int = 0  # recorded cancels placed ahead of our orders by the queue model
    behind_cut_lots: int = 0

    @property
    def actions(self) -> int:
        return self.adds + self.cuts + self.cancels + self.trades + self.through_fills


def _through(levels: Iterator[Level], price: int, at_or_below: bool) -> list[Level]:
    """The levels (best first) priced at or below ``price`` (``at_or_below``) or at or above it: those a new
    level at ``price`` on the other side would cross. Collected before anything changes the book."""
    out = []
    for level in levels:
        if (level.price_ticks > price) if at_or_below else (level.price_ticks < price):
            break
        out.append(level)
    return out


class Liquidity:
    """The replay's orders on one engine (see module docstring)."""

    def __init__(self, engine: MatchingEngine, on_level: LevelListener | None,
                 models: dict[str, QueueModel]) -> None:
        self.engine = engine
        self.on_level = on_level
        self.models = models
        self.stats = LiquidityStats()
        assets = sorted({a for s in models for a in (engine.spec(s).base_asset, engine.spec(s).quote_asset)})
        for account in (REPLAY_MAKER, REPLAY_TAKER):
            engine.open_account(account, dict.fromkeys(assets, _FUNDS_ATOMS), tracked=False)

    # -- reading a level --
    def split(self, symbol: str, side: Side, price: int) -> tuple[list[Order], list[Order], int]:
        """The maker's orders at a level ahead of the first foreign order and the rest, plus the foreign lots."""
        ahead: list[Order] = []
        behind: list[Order] = []
        foreign = 0
        for order in self.engine.book(symbol).orders_at(side, price):
            if order.account != REPLAY_MAKER:
                foreign += order.remaining_lots
            elif foreign:
                behind.append(order)
            else:
                ahead.append(order)
        return ahead, behind, foreign

    # -- changing a level --
    def set_level(self, symbol: str, side: Side, price: int, target: int) -> None:
        ahead, behind, foreign = self.split(symbol, side, price)
        front = sum(o.remaining_lots for o in ahead)
        back = sum(o.remaining_lots for o in behind)
        if target > front + back:
            self.add(symbol, side, price, target - front - back)
            return
        cancel = front + back - target
        if cancel == 0:
            return
        if not foreign:  # nobody to be ahead of: the back of the level goes
            self._take(symbol, reversed(ahead), cancel)
            return
        from_ahead = self.models[symbol].ahead(front, back, cancel)
        self.stats.ahead_cut_lots += from_ahead
        self.stats.behind_cut_lots += cancel - from_ahead
        self._take(symbol, reversed(behind), cancel - from_ahead)
        self._take(symbol, reversed(ahead), from_ahead)

    def _take(self, symbol: str, orders: Iterable[Order], lots: int) -> None:
        """Remove ``lots`` from ``orders`` in the given order: whole orders cancelled, the last one cut."""
        for order in orders:
            if lots <= 0:
                return
            remaining = order.remaining_lots
            if remaining <= lots:
                self.engine.cancel(REPLAY_MAKER, symbol, order_id=order.order_id)
                self.stats.cancels += 1
                lots -= remaining
            else:
                self.cut(order, lots)
                return

    def cut(self, order: Order, lots: int) -> None:
        """Reduce a resting maker order by ``lots`` (< its remaining), keeping its place in the queue."""
        if not 0 < lots < order.remaining_lots or order.account != REPLAY_MAKER:
            raise ValueError(f"cannot cut {lots} lots of order {order.order_id}")
        engine = self.engine
        spec = engine.spec(order.symbol)
        asset, before = locked_by(order, spec)
        order.orig_qty_lots -= lots
        book = engine.book(order.symbol)
        level_qty = book.reduce(order, lots)
        engine.ledger.unlock(REPLAY_MAKER, asset, before - locked_by(order, spec)[1])
        self.stats.cuts += 1
        if self.on_level is not None:
            assert order.price_ticks is not None
            self.on_level(order.symbol, order.side, order.price_ticks, level_qty, book.update_id)

    def add(self, symbol: str, side: Side, price: int, lots: int) -> None:
        """Recorded liquidity appears: stale maker orders cleared, crossed foreign orders filled, rest rests."""
        book = self.engine.book(symbol)
        other = _SELL if side is _BUY else _BUY
        crossed = 0
        for level in _through(book.levels(other), price, side is _BUY):
            for order in list(level.orders.values()):
                if order.account == REPLAY_MAKER:
                    self.engine.cancel(REPLAY_MAKER, symbol, order_id=order.order_id)
                    self.stats.stale_cancels += 1
                else:
                    crossed += order.remaining_lots
        if crossed:
            take = min(crossed, lots)
            self._market(symbol, side, take)
            self.stats.through_fills += 1
            lots -= take
        if lots > 0:
            self._rest(symbol, side, price, lots)

    def _rest(self, symbol: str, side: Side, price: int, lots: int) -> None:
        spec = self.engine.spec(symbol)
        per_lot = price * spec.quote_atoms_per_tick_lot
        min_lots = max(spec.min_qty_lots, -(-spec.min_notional_atoms // per_lot))
        max_lots = spec.max_notional_atoms // per_lot
        while lots > 0:
            chunk = min(lots, max_lots)
            placed = max(chunk, min_lots)
            order_id = self.engine.submit(PlaceRequest(
                account=REPLAY_MAKER, symbol=symbol, side=side, type=OrderType.LIMIT_MAKER, qty_lots=placed,
                price_ticks=price))
            self.stats.adds += 1
            if placed > chunk:
                order = self.engine.book(symbol).get(order_id)
                assert order is not None
                self.cut(order, placed - chunk)
            lots -= chunk

    def _market(self, symbol: str, side: Side, lots: int) -> None:
        self.engine.submit(PlaceRequest(
            account=REPLAY_TAKER, symbol=symbol, side=side, type=OrderType.MARKET, qty_lots=lots,
            time_in_force=TimeInForce.GTC))

    # -- trades --
    def trade(self, symbol: str, price: int, lots: int, buyer_is_maker: bool) -> None:
        """Replay one recorded trade (see module docstring)."""
        maker_side = _BUY if buyer_is_maker else _SELL
        book = self.engine.book(symbol)
        for level in _through(book.levels(maker_side), price + (1 if buyer_is_maker else -1), not buyer_is_maker):
            for order in list(level.orders.values()):
                if order.account == REPLAY_MAKER:
                    self.engine.cancel(REPLAY_MAKER, symbol, order_id=order.order_id)
                    self.stats.stale_cancels += 1
        ahead, behind, _ = self.split(symbol, maker_side, price)
        market = sum(o.remaining_lots for o in ahead) + sum(o.remaining_lots for o in behind)
        if market < lots:
            self.add(symbol, maker_side, price, lots - market)
        # never past the recorded price (a through-fill of the top-up may have left less than ``lots`` there)
        available = sum(level.qty_lots for level in _through(book.levels(maker_side), price, not buyer_is_maker))
        if min(lots, available):
            self._market(symbol, _SELL if buyer_is_maker else _BUY, min(lots, available))
        self.stats.trades += 1
