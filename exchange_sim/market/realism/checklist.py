"""The realism checklist (issue 19): run a regime on several seeds, measure each item, judge it against a band.

An item is a named figure (the mean over seeds of a measure.py figure), the band it must fall in, and the
source of the band (docs/market-model.md lists them). Items that a regime cannot be held to are reported
without a verdict: the flash crash is judged on the crash items only, and the tight bands for the spread and
the adverse-selection share hold for the calm market (and the spread's for the trending one): volatile and
illiquid markets are wider and more toxic on every venue, and in a trend the flow's direction predicts the
price. Return-based bands need hours of simulated time: on runs shorter than an hour
they are reported, not judged (``min_minutes``), and the metaorder items need three seeds (``min_seeds``): one
pair of runs differs by more than the impact it measures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from exchange_sim.market.config import MarketConfig
from exchange_sim.market.realism import stats
from exchange_sim.market.realism.impact_probe import metaorder_impact
from exchange_sim.market.realism.measure import crash_items, measure
from exchange_sim.market.realism.record import record

METAORDER_QUOTE = 60_000.0  # about 1 BTC: 4 ticks by the square-root law in calm
QUIET = ("calm", "trending")
CALM = ("calm",)
SYMMETRIC = ("calm", "volatile", "illiquid")  # a trend leans the book
CRASH_ONLY = ("flash_crash",)


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist line: ``key`` of measure.py, the band [low, high], for which regimes, from how long a run."""

    number: int
    name: str
    key: str
    low: float
    high: float
    regimes: tuple[str, ...] | None = None  # None: every regime but the flash crash
    min_minutes: float = 0.0
    min_seeds: int = 1


ITEMS: tuple[Item, ...] = (
    Item(1, "spread of 1-3 ticks (share of seconds)", "p_spread_1_to_3", 0.8, 1.0, QUIET),
    Item(1, "spread widens with volatility (corr., 5-min windows)", "spread_vol_correlation", 0.2, 1.0),
    Item(2, "depth peaks within 5 ticks of the touch (level)", "depth_peak_level", 0.0, 4.0),
    Item(2, "depth 20-40 ticks out over depth 0-5 ticks", "depth_far_over_near", 0.0, 0.5),
    Item(2, "depth asymmetry |bid - ask| / (bid + ask)", "depth_asymmetry", 0.0, 0.15, SYMMETRIC),
    Item(4, "1-minute return autocorrelation, lag 1", "acf_1m_lag1", -0.15, 0.15, None, 60.0),
    Item(4, "variance ratio 10 min / 10 s", "variance_ratio_10m_10s", 0.6, 1.5, None, 180.0),
    Item(4, "trade price change autocorrelation, lag 1 (bounce)", "acf_trade_lag1", -1.0, -0.05),
    Item(5, "1-minute kurtosis", "kurtosis_1m", 4.0, math.inf, None, 60.0),
    Item(5, "kurtosis falls with aggregation (10 min minus 1 min)", "kurtosis_fall", -math.inf, 0.0, None, 180.0),
    Item(6, "|10-s return| autocorrelation, lag 1", "abs_acf_10s_lag1", 0.1, 1.0),
    Item(6, "|1-s return| autocorrelation, mean of lags 100-600 s", "abs_acf_1s_mean_100_600", 0.0, 1.0, None, 60.0),
    Item(7, "trade sign autocorrelation, lag 1", "sign_acf_lag1", 0.1, 1.0),
    Item(7, "sign autocorrelation power-law exponent (lags 1-100)", "sign_acf_exponent", 0.4, 0.8, None, 120.0),
    Item(8, "metaorder of 60,000 USDT: peak impact / square-root law", "impact_peak_over_law", 0.5, 2.0, None, 0.0, 3),
    Item(8, "metaorder: 10 min after its end / square-root law", "impact_decayed_over_law", -0.5, 0.5, None, 0.0, 3),
    Item(9, "inter-arrival coefficient of variation (> 1: overdispersed)", "interarrival_cv", 1.0, math.inf),
    Item(9, "trade size tail exponent (Hill, top 2 %)", "size_tail_exponent", 1.0, 3.0, None, 30.0),
    Item(10, "GLFT fill curve A (per s)", "fill_curve_A_per_s", 1e-6, math.inf),
    Item(10, "GLFT fill curve k (per tick)", "fill_curve_k_per_tick", 1e-6, math.inf),
    Item(11, "adverse-selection share at 60 s (naive maker)", "as_share_60s", 0.05, 0.30, CALM, 180.0),
    Item(12, "flash crash drop (% of the pre-crash mid)", "crash_drop_pct", 2.0, math.inf, CRASH_ONLY),
    Item(12, "share of the drop recovered 10 min after the low", "crash_recovered_share", 0.3, 1.5, CRASH_ONLY),
    Item(12, "depth near the mid at the low / before (collapse)", "crash_depth_ratio", 0.0, 0.5, CRASH_ONLY),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    item: Item
    value: float
    judged: bool
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON values (an open end of the band is ``None``)."""
        low = None if math.isinf(self.item.low) else self.item.low
        high = None if math.isinf(self.item.high) else self.item.high
        return {"item": self.item.number, "name": self.item.name, "key": self.item.key, "value": self.value,
                "low": low, "high": high, "judged": self.judged, "passed": self.passed}


def _applies(item: Item, regime: str) -> bool:
    if item.regimes is None:
        return regime not in CRASH_ONLY
    return regime in item.regimes


def measure_seeds(regime: str, seeds: list[int], minutes: float,
                  progress: Callable[[int], None] | None = None, symbol: str = "BTCUSDT",
                  impact: bool = True) -> list[dict[str, Any]]:
    """measure.py's figures of ``minutes`` of ``regime`` (a preset or a market profile, whose symbol is
    ``symbol``) per seed (plus the crash items for a flash crash, and the metaorder experiment if ``impact``)."""
    out = []
    config = MarketConfig(symbols=(symbol,), regime=regime)
    params = config.params(config.regime)
    for seed in seeds:
        rec = record(regime, seed=seed, minutes=minutes, depth_every_s=5.0, market=config, symbol=symbol)
        figures = measure(rec)
        figures["kurtosis_fall"] = figures["kurtosis_10m"] - figures["kurtosis_1m"]
        if params.crash_depth_ticks > 0:
            figures.update(crash_items(rec, params.crash_delay_s))
        elif impact:
            probe = metaorder_impact(regime, seed, METAORDER_QUOTE, symbol=symbol)
            figures["impact_peak_over_law"] = probe.peak_ticks / probe.predicted_ticks
            figures["impact_decayed_over_law"] = probe.decayed_ticks / probe.predicted_ticks
        out.append(figures)
        if progress is not None:
            progress(seed)
    return out


def judge(regime: str, per_seed: list[dict[str, Any]], minutes: float) -> list[Verdict]:
    """Each item's mean over seeds, judged against its band when it applies to ``regime`` and the run is long
    enough; items without figures (the crash items of a market without a crash) are left out."""
    verdicts = []
    for item in ITEMS:
        values = [s[item.key] for s in per_seed if item.key in s]
        if not values:
            continue
        value = stats.mean(values)
        judged = _applies(item, regime) and minutes >= item.min_minutes and len(values) >= item.min_seeds
        passed = item.low <= value <= item.high if judged else True
        verdicts.append(Verdict(item, value, judged, passed))
    return verdicts


def check(regime: str, *, seeds: int = 3, hours: float = 1.0, first_seed: int = 1,
          progress: Callable[[int], None] | None = None, symbol: str = "BTCUSDT", impact: bool = True,
          ) -> dict[str, Any]:
    """The checklist of ``regime`` on seeds ``first_seed..first_seed+seeds-1``: figures per seed and verdicts."""
    minutes = hours * 60.0
    seed_list = list(range(first_seed, first_seed + seeds))
    per_seed = measure_seeds(regime, seed_list, minutes, progress, symbol, impact)
    verdicts = judge(regime, per_seed, minutes)
    return {
        "regime": regime, "seeds": seed_list, "hours": hours,
        "passed": all(v.passed for v in verdicts),
        "items": [v.as_dict() for v in verdicts],
        "per_seed": per_seed,
    }
