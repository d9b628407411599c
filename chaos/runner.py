"""Run chaos sessions: one (``run_spec``) or a swarm (``run_swarm``) on local processes or a Dask cluster.

``run_spec`` runs the bot (``chaos.spec.chaos_config``: the SQLite state store on a new temporary file, the
default intervals) for the spec's minutes under its fault schedule, checks every invariant, measures its
coverage from the event log (``chaos.coverage``) and returns a ``SessionResult`` of plain data carrying the code
fingerprint it ran. A bot exception ends that session and is reported as the violation ``0.bot_exception``
(never as a crash of the swarm). Scratch files (state, event log) go to ``/dev/shm`` where it exists: the
store's durable SQLite commits then cost no disk flush, the code path is the same.

``run_swarm`` maps ``run_spec`` over specs: inline (``jobs=1``), on ``jobs`` worker processes
(``ProcessPoolExecutor``), or on a Dask cluster (``scheduler``: an address, or a ``distributed.Client``).
Results come back in spec order whatever ran them, so the swarm's output does not depend on the executor.
Every worker verifies its code fingerprint against the client's before it runs anything
(``chaos.fingerprint``): a worker on another tree raises ``FingerprintMismatch`` instead of changing digests.
With ``recheck_every=N`` the seeds divisible by N run twice (as separate tasks, so possibly in other
processes); a different digest is the violation ``12.determinism`` of that seed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.config import parse_config
from chaos.coverage import Coverage, read_coverage_records, session_coverage
from chaos.fingerprint import Checked, FingerprintMismatch, code_fingerprint
from chaos.sabotage import applied
from chaos.spec import SessionSpec, chaos_config
from exchange_sim.faults import to_yaml
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.profile import load_profile
from exchange_sim.replay.source import ReplaySource, load_replay
from harness.session import run_sim_session

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
    coverage: Coverage | None = None  # None when the bot raised (no complete log)
    fingerprint: str = ""  # the code that ran it (chaos.fingerprint)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def invariants(self) -> tuple[str, ...]:
        return tuple(sorted({str(v["invariant"]) for v in self.violations}))

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({str(f["fault"]) for f in self.schedule}))


def scratch_root() -> str | None:
    """Where session scratch files go: ``/dev/shm`` when it is a writable directory, else the system default."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


@functools.lru_cache(maxsize=4)
def _replay(market: str) -> ReplaySource:
    """A recording loaded once per worker process (it is read-only during a session)."""
    return load_replay(market)


def _profile_market(market: str | None) -> MarketConfig | None:
    """``profile:NAME``: the synthetic market of a fitted profile (exchange_sim.market.profile), else None."""
    if market is None or not market.startswith("profile:"):
        return None
    name = market[len("profile:"):]
    profile = load_profile(name)
    return MarketConfig(symbols=(profile.symbol,), regime=name if name.endswith(".json") else profile.name)


def run_spec(spec: SessionSpec) -> SessionResult:
    """Run and check one session (module docstring)."""
    scenario = spec.scenario()
    started = time.perf_counter()
    digest = ""
    reactions: dict[str, int] = {}
    coverage: Coverage | None = None
    bot_log = logging.getLogger("bot")
    level = bot_log.level
    bot_log.setLevel(logging.ERROR)  # thousands of sessions: the verdict is the checker's, not the log's
    with applied(spec.sabotage), contextlib.ExitStack() as restore:
        restore.callback(bot_log.setLevel, level)
        scratch = Path(restore.enter_context(tempfile.TemporaryDirectory(prefix="mmbot-chaos-", dir=scratch_root())))
        config = chaos_config(str(scratch / "state.sqlite3"), amend=spec.amend)
        log_path = scratch / "events.jsonl"
        try:
            fitted = _profile_market(spec.market)
            replay = _replay(spec.market) if spec.market is not None and fitted is None else None
            symbols = replay.symbols if replay is not None else fitted.symbols if fitted is not None else None
            if symbols is not None:  # the gate's config on the market's symbols (its small limit kept where it applies)
                data = config.model_dump(mode="json")
                limits = data["risk"]["inventory"]["hard_max_base"]
                data["risk"]["inventory"]["hard_max_base"] = {s: v for s, v in limits.items() if s in symbols}
                config = parse_config({**data, "symbols": list(symbols)}, source="--market")
            summary = run_sim_session(config, seed=spec.seed, hours=spec.minutes / 60.0, scenario=scenario,
                                      check=True, timer=None, log_path=log_path, replay=replay, market=fitted)
        except Exception as error:  # a bot bug: the session's verdict, not the swarm's end
            violations: tuple[dict[str, Any], ...] = ({
                "invariant": "0.bot_exception", "t_s": 0.0, "orders": [],
                "detail": f"{type(error).__name__}: {error}"},)
        else:
            digest = summary.digest
            reactions = summary.reactions
            violations = tuple({"invariant": v.invariant, "t_s": v.t_s, "orders": list(v.orders), "detail": v.detail}
                               for v in summary.violations)
            coverage = session_coverage(read_coverage_records(log_path), account=config.venue.account,
                                        duration_s=spec.duration_s)
    return SessionResult(spec=spec, schedule=tuple(f.to_dict() for f in scenario.faults),
                         scenario_yaml=to_yaml(scenario), violations=violations, digest=digest, reactions=reactions,
                         wall_s=time.perf_counter() - started, coverage=coverage, fingerprint=code_fingerprint())


def verify_workers(client: Any, expected: str) -> None:
    """Every Dask worker of ``client`` runs the code ``expected`` names, else ``FingerprintMismatch``."""
    found: dict[str, str] = client.run(code_fingerprint)
    stray = {worker: fp for worker, fp in sorted(found.items()) if fp != expected}
    if stray:
        listed = ", ".join(f"{worker} runs {fp[:12]}" for worker, fp in stray.items())
        raise FingerprintMismatch(f"code fingerprint mismatch: the swarm was started on {expected[:12]}, but "
                                  f"{listed}; install the same tree on every worker (the replay key is seed + code)")


def map_ordered(fn: Callable[[T], R], items: Sequence[T], *, jobs: int = 1, scheduler: Any = None,
                progress: Callable[[R], None] | None = None, fingerprint: str | None = None) -> list[R]:
    """``[fn(i) for i in items]`` inline, on ``jobs`` processes or on Dask, in input order. Off this process,
    each task first checks that its process runs the code ``fingerprint`` names (default: this process's)."""
    results: list[R | None] = [None] * len(items)
    if scheduler is not None or jobs > 1:
        fn = Checked(fn, fingerprint if fingerprint is not None else code_fingerprint())
    if scheduler is not None:
        from distributed import Client  # noqa: PLC0415 - optional, only with Dask
        from distributed import as_completed as dask_completed  # noqa: PLC0415

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)  # type: ignore[no-untyped-call]
        try:
            verify_workers(client, fn.expected)  # type: ignore[attr-defined]  # wrapped above
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


def recheck_specs(specs: Sequence[SessionSpec], every: int) -> list[SessionSpec]:
    """The specs whose seed is a multiple of ``every`` (none for ``every`` <= 0): run twice to check determinism."""
    return [spec for spec in specs if every > 0 and spec.seed % every == 0]


def determinism_violation(first: SessionResult, again: SessionResult) -> SessionResult:
    """``first`` with a ``12.determinism`` violation when its re-run ``again`` gave another digest."""
    if again.digest == first.digest:
        return first
    violation = {"invariant": "12.determinism", "t_s": 0.0, "orders": [],
                 "detail": f"seed {first.spec.seed} ran twice with the same spec and code and gave two event-log "
                           f"digests: {first.digest[:16] or '(none)'} then {again.digest[:16] or '(none)'}"}
    return dataclasses.replace(first, violations=(*first.violations, violation))


def run_swarm(specs: Sequence[SessionSpec], *, jobs: int = 1, scheduler: Any = None,
              progress: Callable[[SessionResult], None] | None = None, recheck_every: int = 0) -> list[SessionResult]:
    """Run every spec, and re-run those ``recheck_specs`` picks (module docstring); results in spec order."""
    again = recheck_specs(specs, recheck_every)
    results = map_ordered(run_spec, [*specs, *again], jobs=jobs, scheduler=scheduler, progress=progress)
    first = results[:len(specs)]
    index = {spec.seed: i for i, spec in enumerate(specs)}
    for rerun in results[len(specs):]:
        i = index[rerun.spec.seed]
        first[i] = determinism_violation(first[i], rerun)
    return first
