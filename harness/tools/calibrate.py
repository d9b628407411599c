"""Calibrate the adaptive-spread sensitivities on fixed seeds: a grid, successive halving, and a held-out check.

The objective is the pooled edge of a candidate over its sessions, ``1e4 * sum(net PnL) / sum(traded notional)``
(bps): unlike the mean of per-session net_bps, a session with three fills cannot dominate it. Every candidate is
a mapping of ``strategy.adaptive_spread`` fields (``PARAMS``) over the base config.

- ``grid_search``: every combination of ``grid`` on every training seed and regime (the surface).
- ``successive_halving``: ``n`` candidates drawn from the seed in the box ``BOUNDS`` (the defaults always one of
  them), all run on the first training seed, the best ``1/eta`` kept and run on ``eta`` times as many seeds, until
  one is left or the seeds run out (Jamieson & Talwalkar 2016). Far fewer sessions than a fine grid.
- ``holdout``: the defaults and the chosen settings on seeds never used in the search: the chosen settings
  should be at least as good there, or the search overfitted.

Sessions run in worker processes or on Dask (``harness.tools.matrix``). Deterministic: same seeds, same result.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.tools import SessionRunner
from harness.tools.matrix import MatrixProgress, Point, run_matrix

__all__ = [
    "BOUNDS",
    "DEFAULT_GRID",
    "PARAMS",
    "Evaluation",
    "grid_search",
    "holdout",
    "pooled_bps",
    "successive_halving",
    "with_params",
]

PARAMS: tuple[str, ...] = ("vol_sensitivity", "liq_sensitivity", "lat_sensitivity", "pnl_sensitivity")
DEFAULT_GRID: Mapping[str, tuple[float, ...]] = {"vol_sensitivity": (0.0, 5.0, 10.0, 15.0, 20.0),
                                                 "liq_sensitivity": (0.0, 0.4, 0.8, 1.6)}
BOUNDS: Mapping[str, tuple[float, float]] = {"vol_sensitivity": (0.0, 30.0), "liq_sensitivity": (0.0, 2.0),
                                             "lat_sensitivity": (0.0, 1.0), "pnl_sensitivity": (0.0, 2.0)}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A candidate's settings, its objective and the sessions behind it."""

    params: dict[str, float]
    score_bps: float
    sessions: int
    net_pnl_quote: float
    traded_notional_quote: float
    per_session_bps: list[float] = field(default_factory=list)


def with_params(raw: Mapping[str, Any], params: Mapping[str, float]) -> dict[str, Any]:
    """``raw`` with ``strategy.adaptive_spread`` updated by ``params`` (a deep copy; ``raw`` is untouched)."""
    out = copy.deepcopy(dict(raw))
    strategy = out.setdefault("strategy", {})
    strategy["adaptive_spread"] = {**strategy.get("adaptive_spread", {}), **params}
    return out


def pooled_bps(summaries: Sequence[Mapping[str, Any]]) -> tuple[float, float, float]:
    """(pooled edge in bps, total net PnL, total traded notional) over ``summaries``."""
    pnl = sum(float(s["net_pnl_quote"]) for s in summaries)
    notional = sum(float(s["traded_notional_quote"]) for s in summaries)
    return (1e4 * pnl / notional if notional else 0.0), pnl, notional


def _evaluate(runner: SessionRunner, raw: Mapping[str, Any], candidates: Sequence[Mapping[str, float]],
              seeds: Sequence[int], regimes: Sequence[str], hours: float, workers: int,
              scheduler: str | None, progress: MatrixProgress | None = None) -> list[Evaluation]:
    configs = {str(i): with_params(raw, c) for i, c in enumerate(candidates)}
    points = [Point(str(i), seed, regime, hours) for i in range(len(candidates)) for regime in regimes
              for seed in seeds]
    results = run_matrix(runner, configs, points, workers=workers, scheduler=scheduler, progress=progress)
    out = []
    for i, candidate in enumerate(candidates):
        summaries = [results[p] for p in points if p.config == str(i)]
        score, pnl, notional = pooled_bps(summaries)
        out.append(Evaluation(dict(candidate), score, len(summaries), pnl, notional,
                              [float(s["net_bps"]) for s in summaries]))
    return out


def grid_search(runner: SessionRunner, raw: Mapping[str, Any], *, grid: Mapping[str, Sequence[float]] = DEFAULT_GRID,
                seeds: Sequence[int], regimes: Sequence[str], hours: float, workers: int = 2,
                scheduler: str | None = None, progress: MatrixProgress | None = None) -> list[Evaluation]:
    """Every grid combination evaluated on every seed and regime, best first."""
    names = list(grid)
    candidates = [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]
    evaluations = _evaluate(runner, raw, candidates, seeds, regimes, hours, workers, scheduler, progress)
    return sorted(evaluations, key=lambda e: -e.score_bps)


def _defaults(raw: Mapping[str, Any], names: Sequence[str]) -> dict[str, float]:
    from bot.strategy.config import AdaptiveSpreadConfig  # noqa: PLC0415 - the documented defaults

    current = {**AdaptiveSpreadConfig().model_dump(), **raw.get("strategy", {}).get("adaptive_spread", {})}
    return {n: float(current[n]) for n in names}


def successive_halving(
    runner: SessionRunner, raw: Mapping[str, Any], *, seeds: Sequence[int], regimes: Sequence[str], hours: float,
    n: int = 9, eta: int = 3, search_seed: int = 0, bounds: Mapping[str, tuple[float, float]] = BOUNDS,
    workers: int = 2, scheduler: str | None = None, progress: MatrixProgress | None = None,
) -> list[list[Evaluation]]:
    """The rungs of successive halving, each best first; the last rung's first entry is the winner."""
    rng = random.Random(search_seed)
    names = list(bounds)
    candidates: list[dict[str, float]] = [_defaults(raw, names)]
    while len(candidates) < n:
        candidates.append({k: round(rng.uniform(*bounds[k]), 3) for k in names})
    rungs: list[list[Evaluation]] = []
    used = 1
    while True:
        evaluations = sorted(_evaluate(runner, raw, candidates, seeds[:used], regimes, hours, workers, scheduler,
                                       progress),
                             key=lambda e: -e.score_bps)
        rungs.append(evaluations)
        if len(evaluations) <= 1 or used >= len(seeds):
            return rungs
        keep = max(1, len(evaluations) // eta)
        candidates = [e.params for e in evaluations[:keep]]
        used = min(len(seeds), used * eta)


def holdout(runner: SessionRunner, raw: Mapping[str, Any], chosen: Mapping[str, float], *, seeds: Sequence[int],
            regimes: Sequence[str], hours: float, workers: int = 2,
            scheduler: str | None = None, progress: MatrixProgress | None = None) -> tuple[Evaluation, Evaluation]:
    """(defaults, chosen) evaluated on held-out ``seeds``."""
    defaults = _defaults(raw, list(chosen))
    base, best = _evaluate(runner, raw, [defaults, dict(chosen)], seeds, regimes, hours, workers, scheduler,
                           progress)
    return base, best
