"""Long-memory order splitting (issue 19, item 1): metaorder lengths with a Pareto tail and a minimum x0."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from exchange_sim.market.config import MarketConfig
from exchange_sim.market.realism.measure import measure
from exchange_sim.market.realism.record import record
from exchange_sim.market.regimes import regime_params


def _signs(overrides: dict[str, float], minutes: float = 40.0) -> dict[str, float]:
    market = MarketConfig(regime="calm", regime_overrides={"calm": overrides})
    return measure(record("calm", seed=3, minutes=minutes, market=market))


def test_default_min_length_is_one_so_the_default_market_is_unchanged() -> None:
    assert regime_params("calm").sign_memory_min_length == 1.0


def test_longer_metaorders_give_the_recorded_sign_memory_and_the_price_stays_diffusive() -> None:
    short = _signs({})
    long = _signs({"sign_memory_min_length": 10.0, "sign_memory_alpha": 1.4, "sign_memory_share": 0.9})
    # LMF: ACF(l) ~ share^2 (1 - l (alpha-1)/(alpha x0)) below x0, share^2 (x0/l)^(alpha-1)/alpha beyond
    assert long["sign_acf_lag1"] > 0.65 > short["sign_acf_lag1"]
    assert long["sign_acf_lag10"] > 0.4
    assert short["sign_acf_lag10"] < 0.2
    assert long["sign_acf_lag50"] > 0.12
    # the propagator absorbs the memory: no trend at one minute
    assert abs(long["acf_1m_lag1"]) < 0.3


def test_min_length_below_one_is_refused() -> None:
    with pytest.raises(ValidationError):
        regime_params("calm").model_validate({**regime_params("calm").model_dump(), "sign_memory_min_length": 0.5})
