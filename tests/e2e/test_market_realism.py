"""The default market looks like a venue's book (issue 2; DESIGN section 2, published facts) and its dynamics
tell the truth (issue 19: no trend in calm, decaying square-root impact, a crash that recovers).

Sampled once per simulated second over a simulated hour of the calm regime: the spread is mostly 1-3 ticks,
depth thins away from the touch, the market makes at least 10 book events per simulated second, market
order signs are long-memory, and the spread widens with volatility.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from exchange_sim.market.config import MarketConfig
from exchange_sim.market.realism.checklist import check
from exchange_sim.market.realism.impact_probe import metaorder_impact
from exchange_sim.market.realism.measure import measure
from exchange_sim.market.realism.record import record
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


# -- the realism checklist, bounded (issue 19; the full runs and their figures are in docs/market-model.md) --


def test_the_bounded_checklist_passes_for_calm() -> None:
    result = check("calm", seeds=1, hours=0.5, first_seed=2)
    judged = {item["key"]: item for item in result["items"] if item["judged"]}
    # what a half-hour run can judge: spread, depth, bounce, volatility memory, sign memory, activity, fill curve
    for key in ("p_spread_1_to_3", "spread_vol_correlation", "depth_peak_level", "depth_asymmetry",
                "acf_trade_lag1", "abs_acf_10s_lag1", "sign_acf_lag1", "interarrival_cv",
                "size_tail_exponent", "fill_curve_k_per_tick"):
        assert key in judged, key
    failed = [item["key"] for item in result["items"] if not item["passed"]]
    assert failed == []


@pytest.mark.parametrize("regime", ["trending", "volatile", "illiquid"])
def test_the_bounded_checklist_passes_for_the_other_regimes(regime: str) -> None:
    result = check(regime, seeds=1, hours=0.5, first_seed=2)
    judged = [item for item in result["items"] if item["judged"]]
    assert len(judged) >= 11  # spread/volatility, depth, bounce, clustering, signs, activity, fill curve
    assert [item["key"] for item in judged if not item["passed"]] == []
    assert result["passed"]


def test_the_flash_crash_regime_alone_crashes_and_recovers_with_its_liquidity() -> None:
    result = check("flash_crash", seeds=1, hours=0.25, first_seed=1)
    figures = result["per_seed"][0]
    assert figures["crash_drop_pct"] > 2.0
    assert figures["crash_recovered_share"] > 0.3
    assert figures["crash_depth_ratio"] < 0.5
    assert result["passed"]


def test_calm_does_not_trend_over_three_seeds_of_three_hours() -> None:
    runs = [measure(record("calm", seed=seed, minutes=180)) for seed in (1, 2, 3)]
    variance_ratio = sum(r["variance_ratio_10m_10s"] for r in runs) / len(runs)
    acf = sum(r["acf_1m_lag1"] for r in runs) / len(runs)
    assert 0.6 < variance_ratio < 1.5  # 6.0 before the impact decayed (issue 19)
    assert abs(acf) < 0.15  # +0.38 before


def test_a_metaorder_moves_the_price_by_the_square_root_law_and_the_move_decays() -> None:
    runs = [metaorder_impact("calm", seed, 60_000.0) for seed in range(4)]
    peak = sum(r.peak_ticks for r in runs) / len(runs)
    decayed = sum(r.decayed_ticks for r in runs) / len(runs)
    predicted = runs[0].predicted_ticks
    assert 0.5 * predicted < peak < 2.0 * predicted
    assert decayed < 0.75 * peak
