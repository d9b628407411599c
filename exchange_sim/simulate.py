"""Run the background market alone for a simulated duration and summarise it (``mmbot exchange simulate``).

Wall-clock time is read here only to report speed; it never influences the simulation.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld


@dataclass(frozen=True, slots=True)
class BookSample:
    """The top of one symbol's book and its latent fair price at one simulated instant (prices in ticks)."""

    t_s: float
    symbol: str
    bid_ticks: int | None
    ask_ticks: int | None
    fair_ticks: float
    bid_lots: int
    ask_lots: int


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    seed: int
    simulated_s: float
    wall_s: float
    book_events: int
    trades: int
    log_records: int
    digest: str
    record_counts: dict[str, int]
    regimes: list[tuple[float, str]] = field(default_factory=list)
    samples: list[BookSample] = field(default_factory=list)
    symbols: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def events_per_sim_s(self) -> float:
        return self.book_events / self.simulated_s if self.simulated_s else 0.0

    @property
    def events_per_wall_s(self) -> float:
        return self.book_events / self.wall_s if self.wall_s else 0.0

    @property
    def speedup(self) -> float:
        return self.simulated_s / self.wall_s if self.wall_s else 0.0


def _sampler(world: SimWorld, every_s: float, out: list[BookSample]) -> Generator[Any, Any, None]:
    """A read-only observer: it draws no randomness and changes nothing, so the event log is unaffected."""
    env = world.runtime.env
    engine = world.engine
    market = world.market
    assert market is not None  # the synthetic market (a replayed world has none)
    symbols = sorted(market.flows)
    while True:
        yield env.timeout(every_s)
        for symbol in symbols:
            bid = engine.best_bid(symbol)
            ask = engine.best_ask(symbol)
            out.append(BookSample(
                env.now, symbol, bid[0] if bid else None, ask[0] if ask else None,
                market.fair_ticks(symbol), bid[1] if bid else 0, ask[1] if ask else 0,
            ))


def simulate_market(
    *,
    seed: int,
    hours: float,
    market: MarketConfig | None = None,
    log_path: Path | str | None = None,
    step_s: float = 60.0,
    sample_every_s: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> SimulationSummary:
    """Simulate ``hours`` of the market; ``progress(simulated_s)`` is called every ``step_s`` simulated seconds.

    The book is sampled every ``sample_every_s`` (default: about 2,000 samples per symbol over the session).
    """
    duration_s = hours * 3600.0
    world = SimWorld(seed=seed, duration_s=duration_s, market=market, log_path=log_path)
    flow = world.market
    assert flow is not None  # SimWorld without a replay builds the synthetic flow
    samples: list[BookSample] = []
    every_s = sample_every_s if sample_every_s is not None else max(1.0, round(duration_s / 2000.0))
    started = time.perf_counter()
    try:
        t = 0.0
        world.start()
        world.runtime.env.process(_sampler(world, every_s, samples))
        while t < duration_s:
            t = min(duration_s, t + step_s)
            world.run_until(t)
            if progress is not None:
                progress(t)
        wall_s = time.perf_counter() - started
        return SimulationSummary(
            seed=seed,
            simulated_s=duration_s,
            wall_s=wall_s,
            book_events=world.book_events,
            trades=world.venue.trades,
            log_records=world.log.records,
            digest=world.log.digest(),
            record_counts=world.log.counts(),
            regimes=list(flow.timeline),
            samples=samples,
            symbols={
                name: {"tick_size": str(symbol_flow.spec.tick_size),
                       "step_size": str(symbol_flow.spec.step_size)}
                for name, symbol_flow in sorted(flow.flows.items())
            },
        )
    finally:
        world.close()
