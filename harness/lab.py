"""Run simulated sessions for offline experiments and into run directories, from plain data, in any process.

``run_point`` takes a JSON-ready config mapping, a seed, a regime and a length and returns the session summary
as a dict: it is a top-level function of plain arguments, so worker processes (``ProcessPoolExecutor``, Dask)
can run it. ``harness.tools`` (calibration, regression, profiling) receives it as a callable from ``mmbot.cli`` and
never imports this module nor ``harness.session`` (``tests/unit/test_imports.py``): the tools stay pure over data.

``run_to_dir`` runs a session into a run directory (``reports.rundir`` layout: summary, event log, config).
Errors: ``BotError(CONFIG_INVALID)`` for an invalid config mapping; whatever the session raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bot.config import BotConfig, dump_config, parse_config
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.profile import find_profile
from exchange_sim.market.regimes import REGIMES
from exchange_sim.replay.source import ReplaySource, load_replay
from harness.session import run_sim_session
from reports.rundir import CONFIG, EVENTS, write_summary

__all__ = ["run_point", "run_to_dir", "write_run_dir"]


@functools.lru_cache(maxsize=4)
def _replay(spec: str) -> ReplaySource:
    """A recording loaded once per process (read-only during a session)."""
    return load_replay(spec)


def run_point(raw_config: Mapping[str, Any], seed: int, regime: str, hours: float,
              log_path: str | None = None) -> dict[str, Any]:
    """One session of ``raw_config`` (state kept in memory) on ``regime``; its summary as a dict.

    A ``regime`` of the form ``replay:PATH[,PATH...]`` replays those recordings instead of a synthetic market:
    the config then quotes the recorded symbols, and the session lasts at most the recording."""
    data = {**raw_config, "execution": {**raw_config.get("execution", {}), "state_path": ":memory:"}}
    if regime.startswith("replay:"):
        replay = _replay(regime)
        config = parse_config({**data, "symbols": list(replay.symbols)}, source="experiment config")
        return run_sim_session(config, seed=seed, hours=hours, replay=replay, log_path=log_path).as_dict()
    profile = None if regime in REGIMES else find_profile(regime)  # a fitted market: its own symbol
    if profile is not None:
        data = {**data, "symbols": [profile.symbol]}
    config = parse_config(data, source="experiment config")
    market = MarketConfig(symbols=config.symbols, regime=regime)
    return run_sim_session(config, seed=seed, hours=hours, market=market, log_path=log_path).as_dict()


def write_run_dir(run_dir: Path, summary: Mapping[str, Any], config: BotConfig, *, command: str = "",
                  mode: str = "sim") -> None:
    """Write ``summary.json`` (with the command and mode) and ``config.yaml`` into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    write_summary(run_dir, {**summary, "command": command, "mode": mode})
    (run_dir / CONFIG).write_text(dump_config(config), encoding="utf-8")


def run_to_dir(config: BotConfig, run_dir: Path, *, seed: int, hours: float, market: MarketConfig,
               command: str = "", progress: Callable[[float], None] | None = None) -> dict[str, Any]:
    """Run a session writing its event log, summary and config into ``run_dir``; the summary dict."""
    run_dir.mkdir(parents=True, exist_ok=True)
    summary = run_sim_session(config, seed=seed, hours=hours, market=market, log_path=run_dir / EVENTS,
                              progress=progress).as_dict()
    write_run_dir(run_dir, summary, config, command=command)
    return summary
