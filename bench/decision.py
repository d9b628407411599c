"""Decision latency: the CPU cost of one ``decide()`` per symbol tick, for the reference pipeline and baselines.

Contexts are seeded and realistic for a BTCUSDT-like symbol (tick 0.01, lot 0.00001, mid around 60,000 USDT):
a 1-5 tick market, a book or micro mid, volatility, latency and PnL inputs that move the four scores, inventory
within the limit, one or two resting orders near the touch (so the refresh tolerance has work), the risk level
OK 97 % of the time (SOFT 2 %, HARD 1 %), an occasional trade-through. A pool of distinct input contexts is drawn
once; each measured call decides a fresh copy of one of them (copying is not timed). The default configuration
is used with three ladder levels and a 2-tick refresh tolerance.

Figures: p50, p99 and mean in microseconds per strategy, from ``time.perf_counter_ns`` around each call (the
timer's own cost, ~0.1 us, is included). Only benchmarks read the wall clock; the code they measure never does.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Any

from bot.core.types import ClientOrderId, Side, SymbolInfo
from bot.strategy import (
    LadderConfig,
    QuoteContext,
    QuoteStrategy,
    Resting,
    SizeConfig,
    StrategyConfig,
    build_strategy,
)

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.00001"), min_notional=Decimal("5"))
CONFIG = StrategyConfig(ladder=LadderConfig(levels=3, refresh_tolerance_ticks=2),
                        sizes=SizeConfig(order_base={"BTCUSDT": Decimal("0.01")}))  # 1,000 lots
PRICE = Decimal(60_000)  # converts the notional sizes (the thin-book depth)
KINDS = ("reference", "fixed_spread", "avellaneda_stoikov", "glft")


def contexts(n: int, seed: int) -> list[QuoteContext]:
    """``n`` seeded, realistic input contexts (module docstring)."""
    rng = random.Random(seed)
    out = []
    mid0 = 6_000_000.0
    for i in range(n):
        bid = round(mid0 * (1 + rng.gauss(0, 0.001)))
        ask = bid + rng.choice((1, 1, 1, 2, 3, 5))
        bid_lots, ask_lots = rng.randint(10, 20_000), rng.randint(10, 20_000)
        mid = (bid * ask_lots + ask * bid_lots) / (bid_lots + ask_lots) if rng.random() < 0.5 else (bid + ask) / 2
        resting = tuple(
            Resting(client_order_id=ClientOrderId(f"c{i}-{j}"), side=side,
                    price_ticks=(bid - rng.randint(0, 60)) if side is Side.BUY else (ask + rng.randint(0, 60)),
                    qty_lots=rng.randint(100, 1000), age_s=rng.uniform(0, 40), queue_ahead_lots=rng.randint(0, 5000))
            for j, side in enumerate(rng.sample((Side.BUY, Side.SELL), rng.randint(0, 2)))
        )
        roll = rng.random()
        out.append(QuoteContext(
            symbol="BTCUSDT", info=INFO, now_s=1000.0 + i * 0.1, best_bid_ticks=bid, best_ask_ticks=ask,
            best_bid_lots=bid_lots, best_ask_lots=ask_lots, mid_ticks=mid,
            volatility_bps=abs(rng.gauss(1.0, 1.0)), touch_depth_lots=bid_lots + ask_lots,
            latency_ms=rng.lognormvariate(3.5, 0.6), pnl_bps=rng.gauss(0, 3),
            trade_through=rng.random() < 0.01, inventory_lots=rng.randint(-8_000, 8_000),
            max_inventory_lots=10_000, risk_level="HARD" if roll < 0.01 else "SOFT" if roll < 0.03 else "OK",
            taker_fills_remaining=rng.randint(0, 50), resting=resting,
            last_fill_s={Side.BUY: 1000.0 + i * 0.1 - rng.uniform(0, 10)} if rng.random() < 0.1 else {},
            mid_at_last_quote_ticks=mid * (1 + rng.gauss(0, 5e-5)) if rng.random() < 0.8 else None,
        ))
    return out


def _percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000


def measure(strategy: QuoteStrategy, pool: list[QuoteContext], calls: int) -> dict[str, float]:
    """Time ``calls`` decisions over copies of ``pool``; microseconds."""
    clock = time.perf_counter_ns
    samples: list[int] = []
    record = samples.append
    decide = strategy.decide
    size = len(pool)
    for i in range(calls):
        ctx = pool[i % size].copy()
        started = clock()
        decide(ctx)
        record(clock() - started)
    samples.sort()
    return {"p50_us": _percentile(samples, 0.50), "p99_us": _percentile(samples, 0.99),
            "mean_us": sum(samples) / len(samples) / 1000}


def run(calls: int = 200_000, seed: int = 1, pool_size: int = 5_000) -> dict[str, Any]:
    """Decision latency of every strategy kind; headline figures are the reference pipeline's p50/p99."""
    pool = contexts(pool_size, seed)
    figures: dict[str, Any] = {"calls": calls, "seed": seed, "pool": pool_size}
    for kind in KINDS:
        strategy = build_strategy(CONFIG.model_copy(update={"kind": kind}), INFO, price=PRICE)
        measure(strategy, pool, min(calls, 5_000))  # warm-up
        for key, value in measure(strategy, pool, calls).items():
            figures[f"{kind}_{key}"] = value
    return figures


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:32} {value:,.2f}")
