"""Bot session benchmark: the whole bot on the simulated exchange, 24 simulated hours, 10 quote cycles/s.

DESIGN section 6: under 60 s wall on 2 cores (over 1,440x real time). Decision latency is the strategy's CPU
time per decided cycle (``decision_us``), measured with ``time.perf_counter_ns`` around ``decide()`` only.
"""

from __future__ import annotations

from bot.config import BotConfig
from bot.quoting.config import QuotingConfig
from exchange_sim.market.config import MarketConfig
from harness.session import run_sim_session


def bench_session(hours: float = 24.0, seed: int = 7, symbol: str = "BTCUSDT") -> dict[str, float]:
    config = BotConfig(symbols=(symbol,), quoting=QuotingConfig(cycle_interval_s=0.1))
    summary = run_sim_session(config, seed=seed, hours=hours, market=MarketConfig(symbols=(symbol,)))
    (s,) = summary.symbols
    decision = summary.latency.get("decision_us", {})
    return {
        "simulated_hours": hours,
        "wall_s": summary.wall_s,
        "speedup": summary.speedup,
        "cycles": float(s.cycles),
        "decisions": float(s.decisions),
        "replaces": float(s.replaces),
        "book_events": float(summary.book_events),
        "decision_p50_us": decision.get("p50", 0.0),
        "decision_p99_us": decision.get("p99", 0.0),
        "net_bps": summary.net_bps,
        "net_pnl_quote": summary.net_pnl_quote,
        "fills": float(summary.maker_fills + summary.taker_fills),
    }
