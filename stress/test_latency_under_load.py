"""Latency as load grows: bursts of 10, 100 and 1,000 placements through the OrderManager, p50/p95 in virtual ms.

The venue's request round trip is a fixed 10 ms; the order manager sends at most ``max_in_flight`` (64)
requests at once, so a burst larger than that queues behind its own requests: latency grows with the burst in
steps of one round trip per ``max_in_flight`` orders, and never more (no request waits on anything else).
"""

from __future__ import annotations

import asyncio
import math
import statistics
from pathlib import Path

import pytest

from bot.core.types import Side
from bot.execution.config import ExecutionConfig
from stress.support import SYMBOL, quiet_rig
from stress.venue import LIFTED_LIMITS

pytestmark = pytest.mark.stress

BURSTS = (10, 100, 1000)
RTT_MS = 10.0


def _quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def test_placement_latency_grows_only_by_the_in_flight_bound(tmp_path: Path) -> None:
    config = ExecutionConfig()
    rig = quiet_rig(tmp_path, rtt_ms=RTT_MS, config=config, state=":memory:", limits=LIFTED_LIMITS)
    om = rig.orders

    async def timed(price_ticks: int) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await om.place(SYMBOL, Side.BUY, 1_000, price_ticks)
        return (loop.time() - start) * 1000

    async def run() -> dict[int, list[float]]:
        out = {}
        for burst in BURSTS:
            out[burst] = list(await asyncio.gather(*(timed(10_000 + i % 100) for i in range(burst))))
            await om.cancel_all(SYMBOL)
        return out

    latencies = rig.world.run(run())
    rig.close()
    report = {b: (_quantile(v, 0.5), _quantile(v, 0.95)) for b, v in latencies.items()}
    print("\n" + "\n".join(f"burst {b:5d}: p50 {p50:7.1f} ms  p95 {p95:7.1f} ms (virtual)"
                           for b, (p50, p95) in report.items()))
    for burst, (p50, p95) in report.items():
        waves = math.ceil(burst / config.max_in_flight)
        assert 0.999 * RTT_MS <= p50 <= p95 <= (waves + 1) * RTT_MS, burst
    assert report[10][1] <= 1.5 * RTT_MS  # under the in-flight bound: one round trip
