"""A long simulated soak (several symbols): RSS and every internal structure stay bounded after warm-up.

CI runs half a simulated hour sampled every 2.5 simulated minutes; the full run (``-m slow`` or
``MMBOT_STRESS_FULL=1``) runs 24 simulated hours sampled every simulated hour. The first 40 % of the samples
are warm-up. Structures with a documented cap (the order manager's LRU of finished orders, the connector's
order-id map: about 12,000 orders an hour on three symbols fill it in ~8 hours; the quoters' latency and
equity windows, whose length also follows the trading rate; the simulated venue's order history of the account,
capped at ``VENUE_HISTORY``) never pass it. Every other
structure, once warm, may not end larger than the largest value seen in the first half of the post-warm-up
samples by more than ``SIZE_TOLERANCE`` (plus a small absolute slack for counts that move with the market, like
book levels), and RSS may not grow by more than ``RSS_TOLERANCE_MB`` between those two halves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.connectors.binance.connector import MAX_REMEMBERED_ORDERS
from bot.execution.order_manager import _TERMINAL_KEPT
from bot.quoting.config import QuotingConfig
from stress.soak import VENUE_HISTORY, Sample, run_soak
from stress.support import full_size

pytestmark = pytest.mark.stress

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
SIZE_TOLERANCE = 0.10
SIZE_SLACK = 20  # absolute slack: counts that move with the market (levels, open orders, queued messages)
RSS_TOLERANCE_MB = 16.0
_QUOTING = QuotingConfig()
CAPS = {"om.terminal_lru": _TERMINAL_KEPT, "om.fill_totals": _TERMINAL_KEPT,  # evicted with the LRU
        "connector.client_ids": MAX_REMEMBERED_ORDERS,
        # per-quoter windows with a maxlen, also trimmed by age: their size follows the trading rate
        "quoter.rest_window": len(SYMBOLS) * _QUOTING.latency_window,
        "quoter.equity_window": len(SYMBOLS) * (int(_QUOTING.pnl_window_s) + 2),
        # the simulated venue's kept history of the soak's account (its trades are trimmed in batches)
        "venue.history": VENUE_HISTORY, "venue.trades": len(SYMBOLS) * 2 * VENUE_HISTORY}


def _judge(samples: list[Sample]) -> list[str]:
    steady = samples[len(samples) * 2 // 5:]
    early, late = steady[: max(1, len(steady) // 2)], steady[len(steady) // 2:]
    growing = [f"{name} over its cap {cap}" for name, cap in CAPS.items() if max(s.sizes[name] for s in samples) > cap]
    for name in steady[0].sizes:
        if name in CAPS:
            continue
        bound = max(s.sizes[name] for s in early) * (1 + SIZE_TOLERANCE) + SIZE_SLACK
        if max(s.sizes[name] for s in late) > bound:
            growing.append(f"{name}: {[s.sizes[name] for s in steady]}")
    if max(s.rss_mb for s in late) > max(s.rss_mb for s in early) + RSS_TOLERANCE_MB:
        growing.append(f"rss_mb: {[round(s.rss_mb, 1) for s in steady]}")
    return growing


@pytest.mark.parametrize(("hours", "sample_every_s"), [(0.5, 150.0), full_size(24.0, 3600.0)])
def test_soak_keeps_rss_and_every_structure_bounded(tmp_path: Path, hours: float, sample_every_s: float) -> None:
    samples = run_soak(hours=hours, symbols=SYMBOLS, seed=5, sample_every_s=sample_every_s,
                       log_path=tmp_path / "events.jsonl", state_path=tmp_path / "state.sqlite3",
                       on_sample=lambda s: print(f"\n{s.sim_hours:5.2f} h rss {s.rss_mb:7.1f} MB {s.guard} {s.sizes}",
                                                 end=""))
    print()
    assert len(samples) >= 8
    assert all(max(s.sizes["om.open"] for s in samples[i:i + 3]) > 0 for i in range(len(samples) - 2))  # quoting
    assert _judge(samples) == []
