"""The default market looks like a venue's book (issue 2; DESIGN section 2, published facts).

Sampled once per simulated second over a simulated hour of the calm regime: the spread is mostly 1-3 ticks,
depth thins away from the touch, the market makes at least 10 book events per simulated second, market
order signs are long-memory, and the spread widens with volatility.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld

pytestmark = pytest.mark.e2e
SYMBOL = "BTCUSDT"


@dataclass
class BookSamples:
    spreads: list[int] = field(default_factory=list)
    depth_by_distance: list[float] = field(default_factory=lambda: [0.0] * 40)
    samples: int = 0
    events_per_s: float = 0.0
    trade_signs: list[int] = field(default_factory=list)


def _sample(regime: str, minutes: int = 60, seed: int = 5) -> BookSamples:
    world = SimWorld(seed=seed, duration_s=minutes * 60, market=MarketConfig(symbols=(SYMBOL,), regime=regime))
    out = BookSamples()

    async def sampler() -> None:
        for _ in range(minutes * 60):
            await asyncio.sleep(1.0)
            bids, asks, _ = world.engine.depth(SYMBOL, 200)
            if not bids or not asks:
                continue
            out.samples += 1
            out.spreads.append(asks[0][0] - bids[0][0])
            for price, qty in bids:
                d = bids[0][0] - price
                if d < 40:
                    out.depth_by_distance[d] += qty
            for price, qty in asks:
                d = price - asks[0][0]
                if d < 40:
                    out.depth_by_distance[d] += qty

    try:
        world.run(sampler())
        out.events_per_s = world.book_events / (minutes * 60)
    finally:
        world.close()
    return out


@pytest.fixture(scope="module")
def calm() -> BookSamples:
    return _sample("calm")


def test_calm_spread_is_mostly_one_to_three_ticks(calm: BookSamples) -> None:
    within = sum(1 for s in calm.spreads if 1 <= s <= 3)
    assert within / len(calm.spreads) >= 0.8


def test_book_is_never_crossed_or_locked(calm: BookSamples) -> None:
    assert min(calm.spreads) >= 1


def test_depth_thins_away_from_the_touch(calm: BookSamples) -> None:
    near = sum(calm.depth_by_distance[0:5]) / 5
    far = sum(calm.depth_by_distance[20:40]) / 20
    assert far < near / 2


def test_at_least_ten_book_events_per_simulated_second(calm: BookSamples) -> None:
    assert calm.events_per_s >= 10


def test_spread_widens_with_volatility(calm: BookSamples) -> None:
    volatile = _sample("volatile", minutes=20)
    assert sum(volatile.spreads) / len(volatile.spreads) > sum(calm.spreads) / len(calm.spreads)
