"""Run a (config, seed, regime) matrix of simulated sessions in parallel, in order-independent, deterministic form.

Each point is one call of the ``SessionRunner``; points run in worker processes (``ProcessPoolExecutor``,
``workers`` of them; 1 runs inline) or on a Dask cluster (``scheduler`` address, or ``"local"`` for an
in-process ``LocalCluster``). Results come back keyed by point, so the outcome does not depend on completion
order. ``progress(done, total)`` (optional) is called in the parent process after each finished session, so a long
matrix shows that it lives. Errors: whatever a session raises propagates (a failed point is a failed matrix).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from harness.tools import SessionRunner

__all__ = ["MatrixProgress", "Point", "run_matrix"]

MatrixProgress = Callable[[int, int], None]
"""``progress(done, total)``: sessions finished so far, of all of them."""


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
    progress: MatrixProgress | None = None,
) -> dict[Point, dict[str, Any]]:
    """Run every point; ``{point: summary}`` in the order of ``points``."""
    if not points:
        return {}
    args = [(dict(configs[p.config]), p.seed, p.regime, p.hours) for p in points]
    if scheduler is not None:
        results = _counted(_dask_map(runner, configs, points, scheduler), len(points), progress)
    elif executor is not None:
        results = _counted(executor.map(runner, *zip(*args, strict=True)), len(points), progress)
    elif workers <= 1 or len(points) <= 1:
        results = _counted((runner(*a) for a in args), len(points), progress)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = _counted(pool.map(runner, *zip(*args, strict=True)), len(points), progress)
    return dict(zip(points, results, strict=True))


def _counted(results: Iterable[dict[str, Any]], total: int, progress: MatrixProgress | None) -> list[dict[str, Any]]:
    """The results as a list, reporting each one to ``progress`` as it arrives."""
    out: list[dict[str, Any]] = []
    for result in results:
        out.append(result)
        if progress is not None:
            progress(len(out), total)
    return out
