"""The latent price (exchange_sim.market.latent): a flash crash as the first regime crashes and recovers, the
crash's intensity drives the flow's pressure, volatility clusters while its mean square stays sigma^2."""

from __future__ import annotations

import asyncio
import math

import pytest

from exchange_sim.market.config import MarketConfig
from exchange_sim.market.latent import LatentPrice
from exchange_sim.market.realism import stats
from exchange_sim.market.regimes import REGIMES
from exchange_sim.rng import stream
from exchange_sim.world import SimWorld

START = 12_000.0


def latent(regime: str, seed: int = 1) -> LatentPrice:
    return LatentPrice(START, REGIMES[regime], stream(seed, "latent", "TEST"), 0.1)


def test_a_flash_crash_that_is_the_first_regime_crashes() -> None:
    p = REGIMES["flash_crash"]
    lp = latent("flash_crash")
    bottom = p.crash_delay_s + p.crash_fall_s
    assert lp.crash_offset(p.crash_delay_s) == 0.0
    assert lp.crash_offset(bottom) == pytest.approx(-p.crash_depth_ticks)
    recovered = lp.crash_offset(bottom + p.crash_recovery_s)
    assert recovered == pytest.approx(-p.crash_depth_ticks * (1 - p.crash_recovery_fraction))


def test_calm_has_no_crash() -> None:
    lp = latent("calm")
    assert lp.crash_offset(1_000.0) == 0.0
    assert lp.crash_intensity(1_000.0) == 0.0


def test_crash_intensity_is_one_during_the_fall_and_fades_over_the_recovery() -> None:
    p = REGIMES["flash_crash"]
    lp = latent("flash_crash")
    bottom = p.crash_delay_s + p.crash_fall_s
    assert lp.crash_intensity(p.crash_delay_s - 1.0) == 0.0
    assert lp.crash_intensity(p.crash_delay_s + 1.0) == 1.0
    assert lp.crash_intensity(bottom + p.crash_recovery_s / 2) == pytest.approx(0.5)
    assert lp.crash_intensity(bottom + p.crash_recovery_s + 1.0) == 0.0


def test_a_second_crash_keeps_what_the_first_did_not_recover() -> None:
    p = REGIMES["flash_crash"]
    lp = latent("flash_crash")
    later = 3_600.0
    left = lp.crash_offset(later)
    lp.set_regime(p, later)
    assert lp.crash_offset(later) == 0.0
    assert lp.impact_ticks == pytest.approx(left)


def test_the_mid_falls_several_percent_when_flash_crash_is_the_only_regime() -> None:
    world = SimWorld(seed=3, duration_s=300.0, market=MarketConfig(regime="flash_crash"))
    lows: list[float] = []

    async def watch() -> None:
        for _ in range(300):
            await asyncio.sleep(1.0)
            bid, ask = world.engine.best_bid("BTCUSDT"), world.engine.best_ask("BTCUSDT")
            if bid is not None and ask is not None:
                lows.append((bid[0] + ask[0]) / 2)

    try:
        world.run(watch())
    finally:
        world.close()
    start = lows[0]
    assert (start - min(lows)) / start > 0.02


def test_volatility_clusters_and_its_mean_square_is_sigma_squared() -> None:
    lp = latent("calm", seed=4)
    sigma = REGIMES["calm"].sigma_ticks_per_sqrt_s
    values = [lp.value(float(t)) for t in range(0, 48 * 3_600, 10)]
    r = stats.returns(values)
    assert stats.variance(r) / (sigma**2 * 10.0) == pytest.approx(1.0, abs=0.25)
    abs_r = [abs(x) for x in r]
    assert stats.autocorrelation(abs_r, 1) > 0.05
    assert stats.mean([stats.autocorrelation(abs_r, lag) for lag in range(100, 301, 20)]) > 0.02
    assert stats.kurtosis(r) > 3.5


def test_the_same_seed_gives_the_same_path() -> None:
    a, b, c = latent("volatile", seed=9), latent("volatile", seed=9), latent("volatile", seed=10)
    path_a = [a.value(t * 7.3) for t in range(500)]
    assert path_a == [b.value(t * 7.3) for t in range(500)]
    assert not math.isclose(c.value(3_000.0), path_a[410])  # 410 * 7.3 = 2,993 s: same grid second
