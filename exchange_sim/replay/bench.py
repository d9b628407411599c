"""Replay throughput: recorded events replayed per second, market alone (no bot), for docs/REPLAY.md.

``python -m exchange_sim.replay.bench PATH[,PATH...]`` loads the recordings (timed: reading and rebuilding) and
replays the whole tape into a venue with nobody trading (timed: the engine work), printing tape events, engine
book events, CPU and wall seconds and events per wall second. A benchmark, not a test: it reads the wall clock.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from exchange_sim.eventlog import EventLog
from exchange_sim.replay.market import ReplayMarket
from exchange_sim.replay.source import ReplayConfig, ReplaySource
from exchange_sim.runtime import SimRuntime
from exchange_sim.venue import SimVenue


@dataclass(frozen=True, slots=True)
class ReplayBench:
    tape_events: int
    book_events: int
    recorded_s: float
    load_cpu_s: float
    replay_cpu_s: float
    replay_wall_s: float

    @property
    def events_per_wall_s(self) -> float:
        return self.tape_events / self.replay_wall_s if self.replay_wall_s else 0.0

    @property
    def events_per_cpu_s(self) -> float:
        return self.tape_events / self.replay_cpu_s if self.replay_cpu_s else 0.0


def bench(paths: tuple[str, ...]) -> ReplayBench:
    """Load and replay ``paths`` once with no bot (see module docstring)."""
    cpu = time.process_time()
    source = ReplaySource(ReplayConfig(paths=paths))
    load_cpu = time.process_time() - cpu
    runtime = SimRuntime()
    try:
        venue = SimVenue(runtime, [source.spec(s) for s in source.symbols], EventLog(None), seed=0)
        market = ReplayMarket(runtime.env, venue.engine, source, on_level=venue.on_book_level)
        cpu, wall = time.process_time(), time.perf_counter()
        market.start()
        runtime.run_until(source.duration_s + 0.001)
        replay_cpu, replay_wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        runtime.close()
    return ReplayBench(len(source.events), market.stats.actions + venue.trades, source.duration_s, load_cpu,
                       replay_cpu, replay_wall)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m exchange_sim.replay.bench PATH[,PATH...]")
    result = bench(tuple(p for p in args[0].split(",") if p))
    print(f"tape events {result.tape_events:,} over {result.recorded_s:.1f} recorded s; engine book events "
          f"{result.book_events:,}; load {result.load_cpu_s:.2f} CPU s; replay {result.replay_cpu_s:.2f} CPU s, "
          f"{result.replay_wall_s:.2f} wall s: {result.events_per_cpu_s:,.0f} tape events per CPU s, "
          f"{result.events_per_wall_s:,.0f} per wall s")


if __name__ == "__main__":
    main()
