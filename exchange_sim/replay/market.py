"""ReplayMarket: a recorded market played into the venue's matching engine at its recorded times.

At ``start()`` (simulated time 0) each symbol's initial book (the rebuilt book at the tape's ``t0``) is placed in
the engine as the replay maker's liquidity; then one simpy process walks the tape's events in time order
(``exchange_sim.replay.source``): a depth diff sets each listed level to its recorded quantity (removals first,
then the others, so the maker's own levels never cross), a trade executes against the engine
(``exchange_sim.replay.liquidity``). The bot sees all of it the usual way: the venue's depth diffs, trades and
its own execution reports, each after the feed latency of its connection.

The recording does not react to the bot: a level the bot took returns at the next diff that lists it; a trade
the bot's order absorbed still prints in full. The process ends with the tape (``ReplaySource.duration_s``);
nothing here reads the wall clock or draws random numbers, so a replay is deterministic (a session's seed still
drives the latencies and faults).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import Side
from exchange_sim.replay.liquidity import LevelListener, Liquidity, LiquidityStats
from exchange_sim.replay.queue import QueueModel
from exchange_sim.replay.source import TRADE, ReplayEvent, ReplaySource

_BUY, _SELL = Side.BUY, Side.SELL


class ReplayMarket:
    """The background market of a venue replayed from a ``ReplaySource``. ``start()`` once, at time 0."""

    regime = "replay"

    def __init__(self, env: simpy.Environment, engine: MatchingEngine, source: ReplaySource,
                 *, on_level: LevelListener | None = None) -> None:
        self.env = env
        self.engine = engine
        self.source = source
        models = {s: QueueModel(source.config.queue, float(source.spec(s).step_size)) for s in source.symbols}
        self.liquidity = Liquidity(engine, on_level, models)
        self.replayed = 0  # tape events applied so far
        self._started = False

    @property
    def stats(self) -> LiquidityStats:
        return self.liquidity.stats

    @property
    def done(self) -> bool:
        return self.replayed == len(self.source.events)

    def start(self) -> None:
        """Place the initial books and start replaying (call once, at simulated time 0)."""
        if self._started:
            raise RuntimeError("ReplayMarket.start() called twice")
        self._started = True
        for symbol in self.source.symbols:
            bids, asks = self.source.initial[symbol]
            for price in sorted(bids, reverse=True):
                self.liquidity.set_level(symbol, _BUY, price, bids[price])
            for price in sorted(asks):
                self.liquidity.set_level(symbol, _SELL, price, asks[price])
        self.env.process(self._run())

    def _run(self) -> Generator[simpy.Event, Any, None]:
        events = self.source.events
        i, n = 0, len(events)
        while i < n:
            t_us = events[i].t_us
            delay = t_us / 1e6 - self.env.now
            if delay > 0:
                yield self.env.timeout(delay)
            while i < n and events[i].t_us == t_us:
                self.apply(events[i])
                i += 1
                self.replayed = i

    def apply(self, event: ReplayEvent) -> None:
        """Apply one tape event to the engine now."""
        liquidity = self.liquidity
        if event.kind == TRADE:
            liquidity.trade(event.symbol, event.price_ticks, event.qty_lots, event.buyer_is_maker)
            return
        for is_bid, price, qty in event.changes:
            if qty == 0:
                liquidity.set_level(event.symbol, _BUY if is_bid else _SELL, price, 0)
        for is_bid, price, qty in event.changes:
            if qty:
                liquidity.set_level(event.symbol, _BUY if is_bid else _SELL, price, qty)
