"""Matching-engine throughput: a seeded add / cancel / take mix on one BTCUSDT-like symbol, in ops per second.

The load: ~50 % GTC limit orders placed 1-20 ticks away from a mid price that random-walks (so some cross
after the mid moves), ~35 % cancels of randomly chosen still-resting orders, ~15 % takers (MARKET by
quantity or crossing IOC limits). Ten untracked accounts with ample balances, a NullListener, a fake clock.
Wall time comes from ``time.perf_counter`` (benchmarks may read the wall clock; simulation code may not).
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    EngineError,
    OrderId,
    OrderType,
    PlaceRequest,
    Side,
    SymbolSpec,
    TimeInForce,
)

SYMBOL = "BTCUSDT"
SPEC = SymbolSpec(
    symbol=SYMBOL,
    base_asset="BTC",
    quote_asset="USDT",
    tick_size=Decimal("0.01"),
    step_size=Decimal("0.00001"),
    min_notional=Decimal("5"),
)


def bench_engine(n_ops: int = 200_000, seed: int = 1) -> dict[str, float]:
    """Run ``n_ops`` mixed operations; returns ops, seconds, ops_per_s, trades and rejects."""
    rng = random.Random(seed)
    clock = [0]
    engine = MatchingEngine([SPEC], clock_us=lambda: clock[0])
    accounts = [AccountId(f"agent{i}") for i in range(10)]
    for account in accounts:
        engine.open_account(account, {"BTC": 10**8 * 10**6, "USDT": 10**8 * 10**12}, tracked=False)
    book = engine.book(SYMBOL)
    mid = 5_000_000  # 50,000.00 USDT
    resting: list[tuple[AccountId, OrderId]] = []
    trades = rejects = 0
    start = time.perf_counter()
    for _ in range(n_ops):
        clock[0] += 50_000
        mid = max(10_000, mid + rng.choice((-1, 0, 0, 1)))
        account = rng.choice(accounts)
        roll = rng.random()
        try:
            if roll < 0.50:
                side = Side.BUY if rng.random() < 0.5 else Side.SELL
                offset = rng.randint(1, 20)
                price = mid - offset if side is Side.BUY else mid + offset
                req = PlaceRequest(
                    account=account,
                    symbol=SYMBOL,
                    side=side,
                    type=OrderType.LIMIT,
                    qty_lots=rng.randint(10, 200),
                    price_ticks=price,
                )
                result = engine.place(req)
                trades += len(result.trades)
                if not result.order.status.is_terminal:
                    resting.append((account, result.order.order_id))
            elif roll < 0.85:
                while resting:  # skip orders filled since they rested: cancel one that is still open
                    i = rng.randrange(len(resting))
                    resting[i], resting[-1] = resting[-1], resting[i]
                    owner, order_id = resting.pop()
                    if order_id in book:
                        engine.cancel(owner, SYMBOL, order_id=order_id)
                        break
            else:
                side = Side.BUY if rng.random() < 0.5 else Side.SELL
                if rng.random() < 0.5:
                    req = PlaceRequest(
                        account=account,
                        symbol=SYMBOL,
                        side=side,
                        type=OrderType.MARKET,
                        qty_lots=rng.randint(10, 400),
                    )
                else:
                    req = PlaceRequest(
                        account=account,
                        symbol=SYMBOL,
                        side=side,
                        type=OrderType.LIMIT,
                        time_in_force=TimeInForce.IOC,
                        qty_lots=rng.randint(10, 400),
                        price_ticks=mid + 10 if side is Side.BUY else mid - 10,
                    )
                trades += len(engine.place(req).trades)
        except EngineError:
            rejects += 1
    seconds = time.perf_counter() - start
    return {
        "ops": float(n_ops),
        "seconds": seconds,
        "ops_per_s": n_ops / seconds,
        "trades": float(trades),
        "rejects": float(rejects),
    }


if __name__ == "__main__":
    print(bench_engine())
