"""Transient impact (exchange_sim.market.impact): the noise propagator decays, every account's taker flow moves
the latent price by a square-root law that decays, and a regime switch neither jumps nor forgets the impact."""

from __future__ import annotations

import math

import pytest

from exchange_sim.market.impact import TransientImpact

KERNEL = ((0.6, 2.0), (0.3, 20.0), (0.1, 200.0))


def impact(meta_decay_s: float = 300.0, meta_scale: float = 0.5) -> TransientImpact:
    return TransientImpact(KERNEL, meta_decay_s, meta_scale)


def test_a_noise_order_moves_the_price_by_its_full_impact_at_once() -> None:
    i = impact()
    i.add_noise(10.0, 0.8)
    assert i.at(10.0) == pytest.approx(0.8)


@pytest.mark.parametrize("tau", [1.0, 10.0, 100.0, 1000.0])
def test_noise_impact_follows_the_propagator_kernel(tau: float) -> None:
    i = impact()
    i.add_noise(0.0, 1.0)
    expected = sum(w * math.exp(-tau / t) for w, t in KERNEL)
    assert i.at(tau) == pytest.approx(expected)


def test_noise_impact_is_gone_after_many_kernel_time_scales() -> None:
    i = impact()
    for k in range(100):
        i.add_noise(k * 0.5, 1.0)  # fifty seconds of one-sided noise flow
    assert i.at(50.0) > 5.0
    assert abs(i.at(50.0 + 5_000.0)) < 1e-6


def test_opposite_noise_orders_cancel() -> None:
    i = impact()
    i.add_noise(1.0, 0.5)
    i.add_noise(1.0, -0.5)
    assert i.at(30.0) == pytest.approx(0.0)


def test_an_accounts_impact_is_the_square_root_of_its_traded_notional() -> None:
    small, large = impact(), impact()
    small.add_taker(0.0, "bot", 10_000.0)
    large.add_taker(0.0, "bot", 40_000.0)
    assert small.at(0.0) == pytest.approx(0.5 * math.sqrt(10_000.0))
    assert large.at(0.0) == pytest.approx(2.0 * small.at(0.0))


def test_a_metaorder_moves_the_price_the_same_however_it_is_sliced() -> None:
    whole, sliced = impact(meta_decay_s=1e9), impact(meta_decay_s=1e9)
    whole.add_taker(0.0, "bot", 50_000.0)
    for k in range(50):
        sliced.add_taker(float(k), "bot", 1_000.0)
    assert sliced.at(50.0) == pytest.approx(whole.at(50.0), rel=1e-6)


def test_an_accounts_impact_decays_after_its_last_fill() -> None:
    i = impact(meta_decay_s=300.0)
    i.add_taker(0.0, "bot", -10_000.0)
    peak = i.at(0.0)
    assert peak < 0
    assert i.at(600.0) == pytest.approx(peak * math.exp(-1.0))  # sqrt(exp(-600/300))


def test_accounts_are_separate_and_add_up() -> None:
    i = impact()
    i.add_taker(0.0, "a", 10_000.0)
    i.add_taker(0.0, "b", -10_000.0)
    assert i.at(0.0) == pytest.approx(0.0)
    assert i.account_ticks("a", 0.0) == pytest.approx(50.0)


def test_a_regime_switch_keeps_the_current_impact_and_decays_it_with_the_new_kernel() -> None:
    i = impact()
    i.add_noise(0.0, 2.0)
    before = i.at(5.0)
    i.configure(((1.0, 10.0),), 300.0, 0.5, 5.0)
    assert i.at(5.0) == pytest.approx(before)
    assert i.at(15.0) == pytest.approx(before * math.exp(-1.0))
