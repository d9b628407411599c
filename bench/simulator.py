"""Simulator benchmark: wall time, events/s and speed-up of the default market alone (DESIGN section 6)."""

from __future__ import annotations

from exchange_sim.market.config import MarketConfig
from exchange_sim.simulate import simulate_market


def bench_simulator(hours: float = 24.0, seed: int = 7, symbols: tuple[str, ...] = ("BTCUSDT",)) -> dict[str, float]:
    summary = simulate_market(seed=seed, hours=hours, market=MarketConfig(symbols=symbols), step_s=3600.0)
    return {
        "simulated_hours": hours,
        "symbols": float(len(symbols)),
        "wall_s": summary.wall_s,
        "book_events": float(summary.book_events),
        "book_events_per_sim_s": summary.events_per_sim_s,
        "events_per_wall_s": summary.events_per_wall_s,
        "log_records_per_wall_s": summary.log_records / summary.wall_s,
        "speedup": summary.speedup,
        "trades": float(summary.trades),
    }
