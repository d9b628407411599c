"""``mmbot market fit`` (issue 19, item 2): the recording measured by the checklist's own code, the mapping of
its statistics to the model's parameters, and the calibration step by simulated moments."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from exchange_sim.market import fit
from exchange_sim.market.realism.compare import TOLERANCES, side_by_side
from exchange_sim.market.realism.tape import load_tape, tape_recording


def recordings_dir() -> Path:
    """``shared/data/binance-spot`` beside this checkout or one of its parents (the project's data folder)."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "data" / "binance-spot"
        if candidate.is_dir():
            return candidate
    pytest.skip("the recorded Binance data (../shared/data/binance-spot) is not available")


@pytest.fixture(scope="module")
def btc() -> dict[str, float]:
    path = recordings_dir() / "btcusdt_20240808.gz"
    source = load_tape(path)
    return fit.observe(tape_recording(source), source, "BTCUSDT")


def test_the_recording_is_measured_as_its_readme_and_the_issue_say(btc: dict[str, float]) -> None:
    assert btc["trades_per_s"] == pytest.approx(28.2, abs=0.2)  # README: 28.2 trades/s
    assert btc["trade_sign_acf_lag1"] == pytest.approx(0.78, abs=0.01)  # issue 19: 0.78 / 0.60 / 0.31
    assert btc["trade_sign_acf_lag10"] == pytest.approx(0.60, abs=0.01)
    assert btc["trade_sign_acf_lag50"] == pytest.approx(0.31, abs=0.01)
    assert 1200 < btc["mean_trade_quote"] < 1400  # issue 19: about 1,300 USDT
    # trades of one taker order share T and side: about three fills per order, the order mean is theirs summed
    assert btc["taker_orders_per_s"] < btc["trades_per_s"] / 2
    assert btc["mean_order_quote"] == pytest.approx(btc["mean_trade_quote"] * btc["trades_per_s"]
                                                    / btc["taker_orders_per_s"], rel=1e-6)
    assert btc["cancelled_lots_per_s"] > 0 and btc["added_lots_per_s"] > 0
    assert 0.0 < btc["placement_beyond_touch"] < 1.0


def test_initial_parameters_follow_the_documented_formulas(btc: dict[str, float]) -> None:
    params = fit.initial_params(btc)
    a, s = params["market_size_tail"], params["market_size_sigma"]
    ratio = math.exp(s * s / 2.0) * a / (a - 1.0) * math.pow(2.0, -1.0 / a)
    assert ratio == pytest.approx(btc["mean_order_quote"] / btc["order_median_quote"], rel=0.01)
    cv = btc["interarrival_cv"]
    n = params["hawkes_alpha_per_s"] / params["hawkes_beta_per_s"]
    assert n == pytest.approx(min(0.8, 1.0 - 1.0 / (cv * cv)), abs=0.01)
    assert params["market_rate_per_s"] == pytest.approx(btc["taker_orders_per_s"] * (1.0 - n), rel=0.01)
    assert params["sigma_ticks_per_sqrt_s"] == pytest.approx(btc["vol_1s_ticks"], rel=1e-3)


def test_placement_goes_through_both_points() -> None:
    d0, mu = fit._placement(1.0, 0.4, 4.0)
    assert (1.0 + 1.0 / d0) ** -mu == pytest.approx(0.4, rel=1e-6)
    assert (1.0 + 4.0 / d0) ** -mu == pytest.approx(0.1, rel=0.05)


def test_lmf_sign_memory_inverts_its_autocorrelation() -> None:
    got = fit._sign_memory(0.64, 0.4, 0.2)
    gamma = got["sign_memory_alpha"] - 1.0
    assert gamma == pytest.approx(math.log(2.0) / math.log(5.0), abs=1e-3)
    share2 = got["sign_memory_share"] ** 2
    assert share2 == pytest.approx(0.64, abs=0.01)
    rho10 = share2 * (got["sign_memory_min_length"] / 10.0) ** gamma / got["sign_memory_alpha"]
    assert rho10 == pytest.approx(0.4, rel=0.02)


def test_a_calibration_step_moves_each_parameter_toward_the_recording() -> None:
    params = {"market_rate_per_s": 2.0, "market_size_median_quote": 100.0, "informed_size_median_quote": 100.0,
              "lp_size_median_quote": 500.0, "lp_distance_scale_ticks": 1.0, "sigma_ticks_per_sqrt_s": 10.0,
              "sign_memory_share": 0.6, "sign_memory_alpha": 1.5, "sign_memory_min_length": 5.0}
    obs = {"taker_orders_per_s": 10.0, "mean_order_quote": 1000.0, "mean_trade_quote": 400.0, "p_spread_1": 0.95,
           "vol_1s_ticks": 20.0, "trade_sign_acf_lag1": 0.8, "trade_sign_acf_lag50": 0.3}
    sim = {"taker_orders_per_s": 5.0, "mean_order_quote": 2000.0, "mean_trade_quote": 800.0, "p_spread_1": 0.8,
           "vol_1s_ticks": 20.0, "trade_sign_acf_lag1": 0.4, "trade_sign_acf_lag50": 0.3}
    out = fit.calibration_step(params, obs, sim)
    assert out["market_rate_per_s"] > 2.0  # too few taker orders
    assert out["market_size_median_quote"] < 100.0  # orders too large
    assert out["lp_size_median_quote"] < 500.0  # trades too large: smaller LP orders, more fills per order
    assert out["lp_distance_scale_ticks"] < 1.0  # spread too often wider than a tick: place nearer
    assert out["lp_requote_rate_per_s"] < 4.0  # ... and pull the touch less often (calm's 4/s when not given)
    assert out["sigma_ticks_per_sqrt_s"] == 10.0  # volatility already right
    assert out["sign_memory_share"] > 0.6
    assert out["sign_memory_min_length"] == 5.0
    # a recording whose spread is always one tick still pulls the book in (the gap is floored, not 0)
    always = fit.calibration_step(params, {**obs, "p_spread_1": 1.0}, sim)
    assert always["lp_distance_scale_ticks"] < 1.0 and always["lp_anchor"] < 0.8
    # the requote rate has a floor: LPs never stop pulling quotes that F left behind
    floored = fit.calibration_step({**params, "lp_requote_rate_per_s": fit.REQUOTE_FLOOR_PER_S}, obs, sim)
    assert floored["lp_requote_rate_per_s"] == fit.REQUOTE_FLOOR_PER_S
    # damped: one step never moves a parameter by more than 4x
    assert out["market_rate_per_s"] < 2.0 * 2.0 ** fit.DAMPING + 1e-9


def test_side_by_side_tolerances_are_the_issue_s() -> None:
    rec = {"trades_per_s": 28.0, "mean_trade_quote": 1300.0, "p_spread_1": 0.98, "trade_sign_acf_lag1": 0.78,
           "trade_sign_acf_lag10": 0.6, "trade_sign_acf_lag50": 0.31, "vol_1s_ticks": 700.0}
    syn = {"trades_per_s": 22.5, "mean_trade_quote": 1600.0, "p_spread_1": 0.92, "trade_sign_acf_lag1": 0.69,
           "trade_sign_acf_lag10": 0.49, "trade_sign_acf_lag50": 0.31, "vol_1s_ticks": 874.0}
    rows = {r["key"]: r for r in side_by_side(syn, rec)}
    assert [t.key for t in TOLERANCES] == list(rows)
    assert rows["trades_per_s"]["holds"]  # -19.6 %
    assert not rows["mean_trade_quote"]["holds"]  # +23 %
    assert not rows["p_spread_1"]["holds"]  # -0.06
    assert rows["trade_sign_acf_lag1"]["holds"] and not rows["trade_sign_acf_lag10"]["holds"]
    assert rows["vol_1s_ticks"]["holds"]  # +24.9 %


def test_the_calibration_reads_the_mean_over_its_seeds() -> None:
    from exchange_sim.market.profile import load_profile  # noqa: PLC0415 (only this test needs a profile)

    profile = load_profile("binance-ethusdt")
    one, two = (fit.simulate(profile, minutes=0.5, seed=seed) for seed in (1, 2))
    mean = fit.simulate_mean(profile, minutes=0.5, seeds=(1, 2))
    assert set(mean) == set(fit.CALIBRATED)
    for key in fit.CALIBRATED:
        assert mean[key] == pytest.approx((one[key] + two[key]) / 2.0)
    assert one["vol_1s_ticks"] != two["vol_1s_ticks"]  # the seeds differ: a mean of one draw would not
