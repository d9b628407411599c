"""Record what the realism checklist needs from one synthetic run: a read-only observer of a SimWorld.

Every ``step_s`` simulated seconds: mid, spread and latent price; every ``depth_every_s``: the depth profile by
distance from the touch and the depth near the mid. Every taker fill: time, taker sign, price, lots, the mid
just before its taker order started to fill, and whether the taker was informed. The observer draws no
randomness and sends nothing, so the run's event log is the one the market makes alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange_sim.engine.types import ATOMS_PER_UNIT, Side, Trade
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.flow import INFORMED_ACCOUNT
from exchange_sim.market.symbols import DEFAULT_SYMBOLS, SymbolMarket
from exchange_sim.world import SimWorld

DEPTH_LEVELS = 40
NEAR_TICKS = 5


@dataclass(frozen=True, slots=True)
class Fill:
    """One taker fill: ``sign`` +1 for a buyer-initiated trade; prices in ticks."""

    t_s: float
    sign: int
    price_ticks: int
    lots: int
    mid_before: float
    first: bool  # the first fill of its taker order
    informed: bool
    taker: str


@dataclass
class Recording:
    """Samples of one run of one symbol (see module docstring)."""

    regime: str
    seed: int
    step_s: float
    mids: list[float] = field(default_factory=list)
    spreads: list[int] = field(default_factory=list)
    fair: list[float] = field(default_factory=list)
    bid_depth: list[float] = field(default_factory=lambda: [0.0] * DEPTH_LEVELS)
    ask_depth: list[float] = field(default_factory=lambda: [0.0] * DEPTH_LEVELS)
    depth_samples: int = 0
    near_depth: list[tuple[float, int]] = field(default_factory=list)  # (t_s, lots within NEAR_TICKS of mid)
    fills: list[Fill] = field(default_factory=list)
    book_events: int = 0
    duration_s: float = 0.0
    tick_lot_quote: float = 0.0  # quote value of one lot at a price of one tick
    tick_bps: float = 0.0  # one tick in basis points of the starting price

    def mid_at(self, t_s: float) -> float:
        """The sampled mid at or just before ``t_s`` (the first sample for earlier times)."""
        i = min(len(self.mids) - 1, max(0, int(t_s / self.step_s) - 1))
        return self.mids[i]


class _Observer:
    def __init__(self, world: SimWorld, symbol: str, out: Recording) -> None:
        self.world = world
        self.symbol = symbol
        self.out = out
        self._order: object = None
        self._mid = 0.0

    def on_trade(self, trade: Trade) -> None:
        if trade.symbol != self.symbol:
            return
        first = trade.taker_order_id != self._order
        if first:
            self._order = trade.taker_order_id
            book = self.world.engine.book(self.symbol)
            other = book.best_bid() if trade.taker_side is Side.BUY else book.best_ask()
            # the taker's first fill is at the touch it hit; the other side is untouched by its crossing
            self._mid = (trade.price_ticks + other[0]) / 2.0 if other is not None else float(trade.price_ticks)
        self.out.fills.append(Fill(
            trade.time_us / 1e6, 1 if trade.taker_side is Side.BUY else -1, trade.price_ticks, trade.qty_lots,
            self._mid, first, trade.taker_account == INFORMED_ACCOUNT, str(trade.taker_account),
        ))

    async def sample(self, duration_s: float, depth_every_s: float) -> None:
        out = self.out
        engine = self.world.engine
        steps = int(duration_s / out.step_s)
        depth_every = max(1, round(depth_every_s / out.step_s))
        market = self.world.market
        assert market is not None, "a realism recording needs the synthetic market (not a replay)"
        last_mid = float(market.fair_ticks(self.symbol))
        for i in range(steps):
            await asyncio.sleep(out.step_s)
            bid = engine.best_bid(self.symbol)
            ask = engine.best_ask(self.symbol)
            if bid is not None and ask is not None:
                last_mid = (bid[0] + ask[0]) / 2.0
                out.spreads.append(ask[0] - bid[0])
            out.mids.append(last_mid)
            out.fair.append(market.fair_ticks(self.symbol))
            if i % depth_every == 0:
                self._depth(last_mid)

    def _depth(self, mid: float) -> None:
        out = self.out
        bids, asks, _ = self.world.engine.depth(self.symbol, 200)
        if not bids or not asks:
            out.near_depth.append((self.world.runtime.env.now, 0))
            return
        out.depth_samples += 1
        near = 0
        for levels, acc, touch, sgn in ((bids, out.bid_depth, bids[0][0], -1), (asks, out.ask_depth, asks[0][0], 1)):
            for price, qty in levels:
                d = (price - touch) * sgn
                if d < DEPTH_LEVELS:
                    acc[d] += qty
                if abs(price - mid) <= NEAR_TICKS:
                    near += qty
        out.near_depth.append((self.world.runtime.env.now, near))


def record(regime: str, *, seed: int, minutes: float, symbol: str = "BTCUSDT", step_s: float = 1.0,
           depth_every_s: float = 10.0, market: MarketConfig | None = None,
           actor: Callable[[SimWorld], Coroutine[Any, Any, None]] | None = None,
           catalogue: Mapping[str, SymbolMarket] | None = None) -> Recording:
    """Run ``minutes`` of ``regime`` (or ``market``) on ``seed`` and record it; ``actor(world)`` runs beside
    the observer (a metaorder experiment, a maker); ``catalogue`` adds or replaces symbols (a profile's)."""
    duration_s = minutes * 60.0
    config = market if market is not None else MarketConfig(symbols=(symbol,), regime=regime)
    world = SimWorld(seed=seed, duration_s=duration_s, market=config,
                     symbols={**DEFAULT_SYMBOLS, **(catalogue or {})})
    out = Recording(regime=regime, seed=seed, step_s=step_s, duration_s=duration_s)
    assert world.market is not None  # built from a MarketConfig: the synthetic market
    flow = world.market.flows[symbol]
    out.tick_lot_quote = flow.spec.quote_atoms_per_tick_lot / ATOMS_PER_UNIT
    out.tick_bps = 10_000.0 / flow.market.initial_price_ticks
    observer = _Observer(world, symbol, out)
    world.venue.trade_observers.append(observer.on_trade)

    async def main() -> None:
        tasks = [observer.sample(duration_s, depth_every_s)]
        if actor is not None:
            tasks.append(actor(world))
        await asyncio.gather(*tasks)

    try:
        world.run(main())
        out.book_events = world.book_events
    finally:
        world.close()
    return out
