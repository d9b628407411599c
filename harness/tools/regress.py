"""The regression matrix: the reference strategy on fixed seeds across every regime, gated and compared.

``run_regression`` runs ``seeds x regimes`` sessions of one config (in parallel, ``harness.tools.matrix``), applies
the audit gates (``reports.baseline.check_gates``) to each regime's mean over seeds, and compares every session
with the baseline's numbers for the same seed (``reports.baseline.compare``). A regime may be a recorded market,
``replay:PATH[,PATH...]`` (the runner replays it); its result and baseline entry are keyed by
``reports.baseline.regime_key`` (the file names). A regime the baseline lacks is gated on the absolute limits and
reported as ``baseline_missing``, never compared. ``degraded_config`` is the
deliberately bad config the regression suite uses to show a gate failing.

Sessions are deterministic: the same code, config and seed give the same numbers, so any drift is a change.
"""

from __future__ import annotations

import copy
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.strategy.config import STAGE_NAMES
from harness.tools import SessionRunner
from harness.tools.matrix import MatrixProgress, Point, run_matrix
from reports.baseline import Baseline, Drift, GateResult, check_gates, compare, regime_key, session_metrics

__all__ = ["DEFAULT_HOURS", "DEFAULT_SEEDS", "REGIMES", "RegimeResult", "degraded_config", "run_regression"]

REGIMES: tuple[str, ...] = ("calm", "trending", "volatile", "illiquid", "flash_crash")
DEFAULT_SEEDS: tuple[int, ...] = (1, 2, 3)
DEFAULT_HOURS = 0.2


@dataclass(frozen=True, slots=True)
class RegimeResult:
    """One regime: each seed's summary and metrics, the mean metrics, the gates on the mean, and drifts."""

    regime: str
    summaries: dict[int, dict[str, Any]]
    metrics: dict[int, dict[str, float]]
    mean: dict[str, float]
    gates: list[GateResult]
    drifts: dict[int, list[Drift]]
    baseline_missing: bool = False  # a baseline was given but holds no entry for this regime

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    @property
    def flagged(self) -> list[tuple[int, Drift]]:
        return [(seed, d) for seed, ds in self.drifts.items() for d in ds if d.status in ("regressed", "moved")]


def degraded_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A deliberately bad setup: a touch-pegged fixed spread (no adaptive spread, no inventory skew, no fast
    cancel) on a fee tier that charges makers 10 bps, the taker rate (a misconfigured account)."""
    out = copy.deepcopy(dict(raw))
    strategy = out.setdefault("strategy", {})
    strategy["kind"] = "fixed_spread"
    strategy["fixed_spread"] = {**strategy.get("fixed_spread", {}), "half_spread_bps": 0.1}
    out["sim"] = {**out.get("sim", {}), "maker_fee_bps": 10}
    return out


def degraded_strategy_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The reference pipeline with its risk shaping switched off, on the normal fee tier: no inventory skew, no
    trade-flow fair value (which leans the quotes away from informed flow) and the seed audit's narrow spread
    band (0.6-2.5 bps, volatility sensitivity 0.6), i.e. a maker that keeps quoting near the touch however fast
    the market runs, whoever trades against it and however much inventory it holds."""
    out = copy.deepcopy(dict(raw))
    strategy = out.setdefault("strategy", {})
    strategy["kind"] = "reference"
    strategy["stages"] = [s for s in strategy.get("stages", STAGE_NAMES) if s not in ("inventory_skew", "fair_value")]
    strategy["adaptive_spread"] = {**strategy.get("adaptive_spread", {}), "max_spread_bps": 2.5,
                                   "vol_sensitivity": 0.6, "vol_full_bps": 10.0}
    return out


def run_regression(
    runner: SessionRunner, raw_config: Mapping[str, Any], *, seeds: Sequence[int] = DEFAULT_SEEDS,
    regimes: Sequence[str] = REGIMES, hours: float = DEFAULT_HOURS, baseline: Baseline | None = None,
    workers: int = 2, scheduler: str | None = None, mode: str = "sim", progress: MatrixProgress | None = None,
) -> list[RegimeResult]:
    """Run the matrix and evaluate it; one ``RegimeResult`` per regime, in ``regimes`` order."""
    points = [Point("config", seed, regime, hours) for regime in regimes for seed in seeds]
    results = run_matrix(runner, {"config": raw_config}, points, workers=workers, scheduler=scheduler,
                         progress=progress)
    out = []
    for regime in regimes:
        key = regime_key(regime)
        replayed = regime.startswith("replay:")
        summaries = {p.seed: results[p] for p in points if p.regime == regime}
        metrics = {seed: session_metrics(s, mode=mode) for seed, s in summaries.items()}
        names = next(iter(metrics.values())).keys()
        mean = {k: statistics.fmean(m[k] for m in metrics.values()) for k in names}
        symbols = None if replayed else len(raw_config.get("symbols") or ("BTCUSDT",))  # a replay: the recording's
        out.append(RegimeResult(
            regime=key, summaries=summaries, metrics=metrics, mean=mean,
            gates=check_gates(mean, regime=key, baseline=baseline, mode=mode),
            drifts={seed: compare(m, baseline, key, seed=seed, hours=hours, symbols=symbols)
                    for seed, m in metrics.items()},
            baseline_missing=baseline is not None and key not in baseline.regimes,
        ))
    return out
