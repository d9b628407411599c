"""TakerCap: the cap depends on the volatility regime and applies to any sliding one-hour window."""

from __future__ import annotations

import pytest

from bot.risk.config import TakerCapConfig
from bot.risk.taker_cap import TakerCap


@pytest.fixture
def cap() -> TakerCap:
    return TakerCap(TakerCapConfig())


@pytest.mark.parametrize(
    ("volatility_bps", "regime", "per_hour"),
    [
        (0.0, "calm", 50),
        (9.99, "calm", 50),
        (10.0, "moderate", 75),
        (19.99, "moderate", 75),
        (20.0, "volatile", 30),
        (500.0, "volatile", 30),
    ],
)
def test_cap_follows_the_volatility_regime(cap: TakerCap, volatility_bps: float, regime: str, per_hour: int) -> None:
    assert cap.regime(volatility_bps) == regime
    assert cap.cap_per_hour(volatility_bps) == per_hour


def test_allows_up_to_the_cap_then_refuses(cap: TakerCap) -> None:
    for i in range(30):
        assert cap.allowed(float(i), 25.0)
        cap.record(float(i))
    assert not cap.allowed(30.0, 25.0)
    assert cap.remaining(30.0, 25.0) == 0


def test_calmer_regime_allows_more_after_the_volatile_cap_is_used(cap: TakerCap) -> None:
    for i in range(30):
        cap.record(float(i))
    assert not cap.allowed(30.0, 25.0)
    assert cap.allowed(30.0, 15.0)
    assert cap.remaining(30.0, 15.0) == 45


def test_a_fill_counts_until_one_hour_has_passed(cap: TakerCap) -> None:
    for _ in range(30):
        cap.record(100.0)
    assert not cap.allowed(100.0 + 3599.999, 25.0)


def test_a_fill_expires_exactly_one_hour_later(cap: TakerCap) -> None:
    for _ in range(30):
        cap.record(100.0)
    assert cap.allowed(100.0 + 3600.0, 25.0)
    assert cap.count(100.0 + 3600.0) == 0


def test_recording_backwards_in_time_raises(cap: TakerCap) -> None:
    cap.record(10.0)
    with pytest.raises(ValueError, match="backwards"):
        cap.record(9.0)


def test_memory_is_bounded_by_the_largest_cap(cap: TakerCap) -> None:
    for i in range(10_000):
        cap.record(i * 0.001)
    assert cap.count(10.0) == 76  # max cap (75) + 1 kept: still refuses in every regime
    assert not any(cap.allowed(10.0, v) for v in (0.0, 15.0, 25.0))


def test_zero_cap_never_allows() -> None:
    cap = TakerCap(TakerCapConfig(volatile_per_hour=0))
    assert not cap.allowed(0.0, 50.0)
