"""Market configuration: regimes by name, timelines from config and seed, clear errors for bad input."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from exchange_sim.market.config import MarketConfig, RegimeSegment
from exchange_sim.market.regimes import REGIMES, regime_params


def test_every_issue_regime_exists() -> None:
    assert set(REGIMES) == {"calm", "trending", "volatile", "illiquid", "flash_crash"}


def test_flash_crash_accepts_the_dashed_spelling() -> None:
    assert regime_params("flash-crash").name == "flash_crash"


def test_unknown_regime_names_the_choices() -> None:
    with pytest.raises(ValueError, match="calm"):
        regime_params("sideways")


def test_single_regime_timeline() -> None:
    assert MarketConfig(regime="volatile").timeline(1, 3600) == [(0.0, "volatile")]


def test_schedule_timeline_in_minutes() -> None:
    segments = (RegimeSegment(regime="calm", minutes=10), RegimeSegment(regime="volatile", minutes=5))
    config = MarketConfig(schedule=segments)
    assert config.timeline(1, 3600) == [(0.0, "calm"), (600.0, "volatile")]


def test_switching_timeline_is_a_function_of_the_seed() -> None:
    config = MarketConfig(switching=True, mean_dwell_minutes=5)
    first = config.timeline(3, 6 * 3600)
    assert first == config.timeline(3, 6 * 3600)
    assert first != config.timeline(4, 6 * 3600)
    assert len(first) > 10
    assert all(a[0] < b[0] for a, b in itertools.pairwise(first))
    assert all(a[1] != b[1] for a, b in itertools.pairwise(first))


def test_overrides_apply_to_their_regime_only() -> None:
    config = MarketConfig(regime_overrides={"calm": {"lp_rate_per_s": 9.0}})
    assert config.params("calm").lp_rate_per_s == 9.0
    assert config.params("volatile").lp_rate_per_s == REGIMES["volatile"].lp_rate_per_s


def test_bad_override_names_the_field() -> None:
    with pytest.raises(ValidationError, match="lp_rate_typo"):
        MarketConfig(regime_overrides={"calm": {"lp_rate_typo": 1.0}})


def test_unknown_config_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="regimen"):
        MarketConfig.model_validate({"regimen": "calm"})
