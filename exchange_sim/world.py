"""SimWorld: one deterministic simulated session - runtime, venue, background market and event log - from a seed.

Construction order is fixed (runtime, log, venue and engine, market accounts), and so is the start order
(regime record, book warm-up, market processes), so a seed and a config determine the whole session: the
event log digest is the session's fingerprint. The seed is the first record of the log.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any, TypeVar

from exchange_sim.engine.accounts import DEFAULT_HISTORY_LIMIT
from exchange_sim.eventlog import EventLog
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.flow import MarketFlow
from exchange_sim.market.symbols import DEFAULT_SYMBOLS, SymbolMarket
from exchange_sim.replay.market import ReplayMarket
from exchange_sim.replay.source import ReplaySource
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue

T = TypeVar("T")


class SimWorld:
    """Everything a simulated session runs on. ``start()`` once, then ``run_until`` or ``run``."""

    def __init__(
        self,
        *,
        seed: int,
        duration_s: float,
        market: MarketConfig | None = None,
        latency: LatencyConfig | None = None,
        log_path: Path | str | None = None,
        symbols: Mapping[str, SymbolMarket] | None = None,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
        replay: ReplaySource | None = None,
    ) -> None:
        """``history_limit``: terminal orders (and trades per symbol) the venue keeps per tracked account for
        queries, oldest dropped first (Binance keeps an account's order history; the default 200,000 is about
        a day of a busy bot). ``replay``: a recorded market replaces the synthetic flow (``market`` is then
        None and ``replay_market`` plays the tape; symbols and their filters come from the recording; feed
        latency from the recording unless ``latency`` is given or the replay config says otherwise)."""
        self.seed = seed
        self.duration_s = duration_s
        self.market_config = market if market is not None else MarketConfig()
        catalogue = {**(symbols if symbols is not None else DEFAULT_SYMBOLS), **self.market_config.markets()}
        if replay is not None:
            catalogue = {**catalogue, **replay.markets()}
            self.market_config = self.market_config.model_copy(update={"symbols": replay.symbols})
            if latency is None and replay.config.recorded_feed_latency:
                latency = replay.feed_latency
        unknown = [s for s in self.market_config.symbols if s not in catalogue]
        if unknown:
            raise ValueError(f"unknown symbols {unknown}; known: {', '.join(sorted(catalogue))}")
        self.runtime = SimRuntime()
        self.log = EventLog(log_path)
        self.log.record(0, "session", {"seed": seed, "duration_s": duration_s,
                                       "market": self.market_config.model_dump(mode="json"),
                                       **({"replay": replay.describe()} if replay is not None else {})})
        specs = [catalogue[s].spec for s in self.market_config.symbols]
        self.venue = SimVenue(self.runtime, specs, self.log, seed=seed, latency=latency, history_limit=history_limit)
        self.engine = self.venue.engine
        self.market: MarketFlow | None = None
        self.replay_market: ReplayMarket | None = None
        if replay is not None:
            self.replay_market = ReplayMarket(self.runtime.env, self.engine, replay,
                                              on_level=self.venue.on_book_level)
        else:
            self.market = MarketFlow(
                self.runtime.env, self.engine, self.market_config, seed,
                duration_s=duration_s, symbols=catalogue, on_regime=self._on_regime,
            )
            self.venue.trade_observers.append(self.market.on_trade)
        self._started = False

    def _on_regime(self, now_s: float, regime: str) -> None:
        self.log.record(round(now_s * 1_000_000), "regime", {"regime": regime})

    def start(self) -> None:
        if self._started:
            raise RuntimeError("SimWorld.start() called twice")
        self._started = True
        if self.replay_market is not None:
            self.replay_market.start()
        else:
            assert self.market is not None
            self.market.start()

    def run_until(self, t_s: float) -> None:
        """Advance the whole world to simulated time ``t_s``."""
        if not self._started:
            self.start()
        self.runtime.run_until(t_s)

    def run(self, main: Coroutine[Any, Any, T], *, until: float | None = None) -> T:
        """Run a coroutine (a bot, a test scenario) in this world's virtual time."""
        if not self._started:
            self.start()
        return self.runtime.run(main, until=until)

    @property
    def book_events(self) -> int:
        """Arrivals, cancels and trades of the whole market so far (the simulator's event count)."""
        background = self.market if self.market is not None else self.replay_market
        assert background is not None
        return background.stats.actions + self.venue.trades

    def close(self) -> None:
        self.log.close()
        self.runtime.close()
