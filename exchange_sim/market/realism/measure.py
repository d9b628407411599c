"""The measurable items of the realism checklist, computed from one ``Recording`` (record.py).

Every figure is in ticks, seconds or plain ratios; the definitions are those of stats.py. Returns are mid
changes sampled every ``step_s`` (1 s by default). The toxicity item is the trade-based decomposition of the
effective spread (Huang & Stoll 1997) seen by a naive maker resting at the touch, who is the counterparty of
every taker fill: for a fill of sign s at price p with mid m0 before it and mid m_h h seconds later,

    effective half-spread  e = s (p - m0),   price impact  a_h = s (m_h - m0),   AS share = sum a_h / sum e

(lot-weighted sums): the share of the spread a maker gives back to adverse selection at horizon h.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from exchange_sim.market.realism import stats
from exchange_sim.market.realism.record import Recording

SIGN_LAGS = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100)
ABS_LAGS = (1, 3, 10, 30, 100, 200, 300)
FILL_DEPTHS = (1, 2, 3, 4, 5, 6)


def _spread_items(rec: Recording) -> dict[str, float]:
    spreads = rec.spreads
    window = max(1, round(300 / rec.step_s))
    vols, means = [], []
    for i in range(0, len(rec.mids) - window, window):
        chunk = rec.mids[i:i + window + 1]
        vols.append(sum(abs(b - a) for a, b in itertools.pairwise(chunk)))
        means.append(stats.mean(spreads[i:i + window]))
    return {
        "spread_mean_ticks": stats.mean(spreads),
        "p_spread_1": sum(1 for s in spreads if s == 1) / len(spreads) if spreads else 0.0,
        "p_spread_1_to_3": sum(1 for s in spreads if 1 <= s <= 3) / len(spreads) if spreads else 0.0,
        "spread_vol_correlation": stats.correlation(vols, means),
    }


def _depth_items(rec: Recording) -> dict[str, float]:
    n = max(1, rec.depth_samples)
    both = [(b + a) / 2 / n for b, a in zip(rec.bid_depth, rec.ask_depth, strict=True)]
    total_b, total_a = sum(rec.bid_depth), sum(rec.ask_depth)
    return {
        "depth_peak_level": float(max(range(len(both)), key=both.__getitem__)),
        "depth_asymmetry": abs(total_b - total_a) / (total_b + total_a) if total_b + total_a else 0.0,
        "depth_far_over_near": stats.mean(both[20:40]) / stats.mean(both[0:5]) if stats.mean(both[0:5]) else 0.0,
    }


def _return_items(rec: Recording) -> dict[str, float]:
    per_min = max(1, round(60 / rec.step_s))
    r1m = stats.returns(rec.mids, per_min)
    r10m = stats.returns(rec.mids, 10 * per_min)
    r10s = stats.returns(rec.mids, max(1, round(10 / rec.step_s)))
    firsts = [f for f in rec.fills if f.first]  # the touch price each taker order hit
    trade_r = [float(b.price_ticks - a.price_ticks) for a, b in itertools.pairwise(firsts)]
    abs10 = [abs(r) for r in r10s]
    abs1 = [abs(r) for r in stats.returns(rec.mids, 1)]
    acf_abs = [stats.autocorrelation(abs10, lag) for lag in ABS_LAGS]
    out = {
        "variance_ratio_10m_10s": stats.variance_ratio(rec.mids, max(1, round(10 / rec.step_s)), 10 * per_min),
        "acf_1m_lag1": stats.autocorrelation(r1m, 1),
        "acf_trade_lag1": stats.autocorrelation(trade_r, 1),
        "kurtosis_1m": stats.kurtosis(r1m),
        "kurtosis_10m": stats.kurtosis(r10m),
        "vol_1s_ticks": math.sqrt(stats.variance(stats.returns(rec.mids, 1))),
        "abs_acf_10s_mean_1_300": stats.mean([stats.autocorrelation(abs10, lag) for lag in range(1, 301, 3)]),
        "abs_acf_1s_mean_100_600": stats.mean([stats.autocorrelation(abs1, lag) for lag in range(100, 601, 50)]),
        "drift_ticks_per_hour": (rec.mids[-1] - rec.mids[0]) / (rec.duration_s / 3600.0) if rec.mids else 0.0,
    }
    for lag, value in zip(ABS_LAGS, acf_abs, strict=True):
        out[f"abs_acf_10s_lag{lag}"] = value
    return out


def _sign_items(rec: Recording) -> dict[str, float]:
    signs = [float(f.sign) for f in rec.fills if f.first and not f.informed]
    acf = [stats.autocorrelation(signs, lag) for lag in SIGN_LAGS]
    out = {f"sign_acf_lag{lag}": value for lag, value in zip(SIGN_LAGS, acf, strict=True) if lag in (1, 10, 50)}
    out["sign_acf_exponent"] = stats.power_law_exponent(SIGN_LAGS, acf)
    every = [float(f.sign) for f in rec.fills]  # every trade, as a public trade stream shows them
    for lag in (1, 10, 50):
        out[f"trade_sign_acf_lag{lag}"] = stats.autocorrelation(every, lag)
    return out


def _activity_items(rec: Recording) -> dict[str, float]:
    firsts = [f for f in rec.fills if f.first]
    gaps = [b.t_s - a.t_s for a, b in itertools.pairwise(firsts)]
    sizes: list[float] = []  # notional per taker order (its fills summed)
    for f in rec.fills:
        if f.first or not sizes:
            sizes.append(0.0)
        sizes[-1] += f.price_ticks * f.lots * rec.tick_lot_quote
    fill_notional = [f.price_ticks * f.lots * rec.tick_lot_quote for f in rec.fills]
    return {
        "taker_orders_per_s": len(firsts) / rec.duration_s,
        "trades_per_s": len(rec.fills) / rec.duration_s,
        "mean_trade_quote": stats.mean(fill_notional),
        "mean_order_quote": stats.mean(sizes),
        "interarrival_cv": stats.coefficient_of_variation(gaps),
        "size_tail_exponent": stats.hill_tail(sizes, max(10, len(sizes) // 50)),
        "book_events_per_s": rec.book_events / rec.duration_s,
    }


def _fill_curve(rec: Recording) -> dict[str, float]:
    """GLFT's lambda(delta) = A exp(-k delta): the rate at which trades reach delta ticks beyond the mid."""
    seconds = int(rec.duration_s)
    reach: dict[int, float] = {}
    for f in rec.fills:
        second = int(f.t_s)
        m0 = rec.mid_at(float(second))
        reach_key = second * 2 + (f.sign > 0)
        reach[reach_key] = max(reach.get(reach_key, 0.0), f.sign * (f.price_ticks - m0))
    rates = [sum(1 for d in reach.values() if d >= delta - 0.5) / (2 * seconds) for delta in FILL_DEPTHS]
    a, k = stats.exp_fit([float(d) - 0.5 for d in FILL_DEPTHS], rates)
    return {"fill_curve_A_per_s": a, "fill_curve_k_per_tick": k}


def _toxicity(rec: Recording, horizon_s: float = 60.0) -> dict[str, float]:
    spread = impact = impact_informed = spread_informed = 0.0
    for f in rec.fills:
        if f.t_s + horizon_s > rec.duration_s:
            continue
        e = f.sign * (f.price_ticks - f.mid_before) * f.lots
        a = f.sign * (rec.mid_at(f.t_s + horizon_s) - f.mid_before) * f.lots
        spread += e
        impact += a
        if f.informed:
            spread_informed += e
            impact_informed += a
    lots = sum(f.lots for f in rec.fills if f.t_s + horizon_s <= rec.duration_s)
    return {
        "as_share_60s": impact / spread if spread else 0.0,
        "maker_markout_60s_ticks": (spread - impact) / lots if lots else 0.0,
        "informed_lot_share": spread_informed / spread if spread else 0.0,
    }


def crash_items(rec: Recording, start_s: float, minutes_after: float = 10.0) -> dict[str, float]:
    """Drop (% of the pre-crash mid), share of the drop recovered ``minutes_after`` the bottom, and the depth
    within 5 ticks of the mid at its lowest during the crash over its mean before (1: no collapse)."""
    i0 = max(0, int(start_s / rec.step_s) - 1)
    before = rec.mids[i0]
    window = rec.mids[i0:]
    low_i = min(range(len(window)), key=window.__getitem__)
    low = window[low_i]
    after_i = min(len(window) - 1, low_i + round(minutes_after * 60 / rec.step_s))
    drop = before - low
    near_before = [q for t, q in rec.near_depth if t < start_s]
    near_during = [q for t, q in rec.near_depth if start_s <= t <= start_s + 120]
    return {
        "crash_drop_pct": drop * rec.tick_bps / 100.0,
        "crash_recovered_share": (window[after_i] - low) / drop if drop > 0 else 0.0,
        "crash_depth_ratio": min(near_during) / stats.mean(near_before) if near_during and near_before else 1.0,
    }


def measure(rec: Recording) -> dict[str, Any]:
    """All measurable items of one recording, by name."""
    out: dict[str, Any] = {"regime": rec.regime, "seed": rec.seed, "minutes": rec.duration_s / 60.0}
    for part in (_spread_items, _depth_items, _return_items, _sign_items, _activity_items, _fill_curve, _toxicity):
        out.update(part(rec))
    return out
