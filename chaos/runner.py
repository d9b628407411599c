"""Run chaos sessions: one (``run_spec``) or a swarm (``run_swarm``) on local processes or a Dask cluster.

``run_spec`` runs the bot (``chaos.spec.chaos_config``) for the spec's minutes under its fault schedule, checks
every invariant, and returns a ``SessionResult`` of plain data. A bot exception ends that session and is reported
as the violation ``0.bot_exception`` (never as a crash of the swarm).

``run_swarm`` maps ``run_spec`` over specs: inline (``jobs=1``), on ``jobs`` worker processes
(``ProcessPoolExecutor``), or on a Dask cluster (``scheduler``: an address, or a ``distributed.Client``).
Results come back in spec order whatever ran them, so the swarm's output does not depend on the executor.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.session import run_sim_session
from chaos.sabotage import applied
from chaos.spec import SessionSpec, chaos_config
from exchange_sim.faults import to_yaml

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class SessionResult:
    """What one chaos session did: its schedule, the broken invariants, its digest and the bot's reactions."""

    spec: SessionSpec
    schedule: tuple[dict[str, Any], ...]  # the faults, as in a scenario file
    scenario_yaml: str
    violations: tuple[dict[str, Any], ...]  # {"invariant", "t_s", "orders", "detail"}
    digest: str
    reactions: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def invariants(self) -> tuple[str, ...]:
        return tuple(sorted({str(v["invariant"]) for v in self.violations}))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({str(f["fault"]) for f in self.schedule}))


def run_spec(spec: SessionSpec) -> SessionResult:
    """Run and check one session (module docstring)."""
    scenario = spec.scenario()
    started = time.perf_counter()
    digest = ""
    reactions: dict[str, int] = {}
    bot_log = logging.getLogger("bot")
    level = bot_log.level
    bot_log.setLevel(logging.ERROR)  # thousands of sessions: the verdict is the checker's, not the log's
    with applied(spec.sabotage), contextlib.ExitStack() as restore:
        restore.callback(bot_log.setLevel, level)
        try:
            summary = run_sim_session(chaos_config(), seed=spec.seed, hours=spec.minutes / 60.0, scenario=scenario,
                                      check=True, timer=None)
        except Exception as error:  # a bot bug: the session's verdict, not the swarm's end
            violations: tuple[dict[str, Any], ...] = ({
                "invariant": "0.bot_exception", "t_s": 0.0, "orders": [],
                "detail": f"{type(error).__name__}: {error}"},)
        else:
            digest = summary.digest
            reactions = summary.reactions
            violations = tuple({"invariant": v.invariant, "t_s": v.t_s, "orders": list(v.orders), "detail": v.detail}
                               for v in summary.violations)
    return SessionResult(spec=spec, schedule=tuple(f.to_dict() for f in scenario.faults),
                         scenario_yaml=to_yaml(scenario), violations=violations, digest=digest, reactions=reactions,
                         wall_s=time.perf_counter() - started)


def map_ordered(fn: Callable[[T], R], items: Sequence[T], *, jobs: int = 1, scheduler: Any = None,
                progress: Callable[[R], None] | None = None) -> list[R]:
    """``[fn(i) for i in items]`` inline, on ``jobs`` processes or on Dask, in input order."""
    results: list[R | None] = [None] * len(items)
    if scheduler is not None:
        from distributed import Client  # noqa: PLC0415 - optional, only with Dask
        from distributed import as_completed as dask_completed  # noqa: PLC0415

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)  # type: ignore[no-untyped-call]
        try:
            futures = client.map(fn, list(items), pure=False)
            index = {f.key: i for i, f in enumerate(futures)}
            for future in dask_completed(futures):  # type: ignore[no-untyped-call]
                result = future.result()
                results[index[future.key]] = result
                if progress is not None:
                    progress(result)
        finally:
            if client is not scheduler:
                client.close()  # type: ignore[no-untyped-call]
    elif jobs <= 1:
        for i, item in enumerate(items):
            results[i] = fn(item)
            if progress is not None:
                progress(results[i])  # type: ignore[arg-type]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            pending = {pool.submit(fn, item): i for i, item in enumerate(items)}
            for future in as_completed(pending):
                results[pending[future]] = future.result()
                if progress is not None:
                    progress(results[pending[future]])  # type: ignore[arg-type]
    return [r for r in results if r is not None]


def run_swarm(specs: Sequence[SessionSpec], *, jobs: int = 1, scheduler: Any = None,
              progress: Callable[[SessionResult], None] | None = None) -> list[SessionResult]:
    """Run every spec (module docstring); results in spec order."""
    return map_ordered(run_spec, specs, jobs=jobs, scheduler=scheduler, progress=progress)
