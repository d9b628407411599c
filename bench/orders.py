"""Order-manager benchmark: N concurrent placements against the simulated venue (DESIGN section 6, memory too).

The orders go through ``BinanceConnector`` over the in-process transport (signing, JSON-shaped payloads, parsing:
the connector's cost is in the figures since issue 17), on a venue whose rate limits are lifted
(``stress.venue.LIFTED_LIMITS``): Binance's would refuse all but 80 of the N orders.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from typing import Any

from bot.core.clock import LoopClock
from bot.core.types import Quote, Side
from bot.execution.config import ExecutionConfig
from bot.execution.order_manager import OrderManager
from bot.execution.state import StateStore
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from stress.venue import LIFTED_LIMITS, connector

_QUIET = {"calm": {"lp_rate_per_s": 1e-9, "market_rate_per_s": 1e-9, "informed_rate_per_s": 0.0,
                   "lp_requote_rate_per_s": 0.0}}


def bench_orders(n: int = 1000, rtt_ms: float = 10.0, state_path: str = ":memory:") -> dict[str, Any]:
    """Place ``n`` orders at once through the OrderManager; report simulated time, wall time and memory."""
    latency = LatencyConfig(request_floor_ms=rtt_ms / 2, request_median_ms=0)
    world = SimWorld(seed=1, duration_s=3600, latency=latency,
                     market=MarketConfig(symbols=("BTCUSDT",), regime_overrides=_QUIET))
    account = AccountId("bench")
    world.venue.open_account(account, {"BTC": 10**3 * ATOMS_PER_UNIT, "USDT": 10**9 * ATOMS_PER_UNIT})
    venue = connector(world, world.venue.connect(account), request_timeout_s=ExecutionConfig().request_timeout_s,
                      limits=LIFTED_LIMITS)
    info = {s.symbol: s for s in world.run(venue.symbols())}
    om = OrderManager(venue, StateStore(state_path), LoopClock(), ExecutionConfig(max_in_flight=n), info,
                      rng=random.Random(0))
    quotes = [Quote(side=Side.BUY, price_ticks=10_000 + i % 100, qty_lots=1_000) for i in range(n)]

    async def place_all() -> float:
        start = world.runtime.now()
        results = await om.place_many("BTCUSDT", quotes)
        assert all(not isinstance(r, Exception) for r in results)
        return world.runtime.now() - start

    tracemalloc.start()
    wall = time.perf_counter()
    simulated_s = world.run(place_all())
    wall_s = time.perf_counter() - wall
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    world.close()
    return {
        "orders": n,
        "rtt_ms": rtt_ms,
        "simulated_ms": simulated_s * 1000,
        "round_trips": simulated_s * 1000 / rtt_ms,
        "wall_s": wall_s,
        "orders_per_wall_s": n / wall_s,
        "peak_traced_mb": peak / 1e6,
        "state": state_path,
    }
