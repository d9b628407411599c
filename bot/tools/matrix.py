"""Run a (config, seed, regime) matrix of simulated sessions in parallel, in order-independent, deterministic form.

Each point is one call of the ``SessionRunner``; points run in worker processes (``ProcessPoolExecutor``,
``workers`` of them; 1 runs inline) or on a Dask cluster (``scheduler`` address, or ``"local"`` for an
in-process ``LocalCluster``). Results come back keyed by point, so the outcome does not depend on completion
order. Errors: whatever a session raises propagates (a failed point is a failed matrix).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.tools import SessionRunner

__all__ = ["Point", "run_matrix"]


@dataclass(frozen=True, slots=True)
class Point:
    """One session to run: which config (by name), seed, regime and length."""

    config: str
    seed: int
    regime: str
    hours: float


def _dask_map(runner: SessionRunner, configs: Mapping[str, Mapping[str, Any]], points: Sequence[Point],
              scheduler: str) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster  # noqa: PLC0415 - optional dependency, only with --scheduler

    cluster = (LocalCluster(n_workers=2, threads_per_worker=1, processes=True)  # type: ignore[no-untyped-call]
               if scheduler == "local" else None)
    client = Client(cluster if cluster is not None else scheduler)  # type: ignore[no-untyped-call]
    try:
        futures = [client.submit(runner, dict(configs[p.config]), p.seed, p.regime, p.hours, pure=False)
                   for p in points]
        results: list[dict[str, Any]] = client.gather(futures)  # type: ignore[no-untyped-call]
        return results
    finally:
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


def run_matrix(
    runner: SessionRunner, configs: Mapping[str, Mapping[str, Any]], points: Sequence[Point], *,
    workers: int = 2, scheduler: str | None = None, executor: Executor | None = None,
) -> dict[Point, dict[str, Any]]:
    """Run every point; ``{point: summary}`` in the order of ``points``."""
    if not points:
        return {}
    if scheduler is not None:
        results = _dask_map(runner, configs, points, scheduler)
    elif executor is not None:
        results = list(executor.map(runner, *zip(*[(dict(configs[p.config]), p.seed, p.regime, p.hours)
                                                   for p in points], strict=True)))
    elif workers <= 1 or len(points) <= 1:
        results = [runner(configs[p.config], p.seed, p.regime, p.hours) for p in points]
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(runner, *zip(*[(dict(configs[p.config]), p.seed, p.regime, p.hours)
                                                   for p in points], strict=True)))
    return dict(zip(points, results, strict=True))
