"""1,000 concurrent placements through the OrderManager with ~30 % of requests failing: every order accounted for.

Four request faults run together over the placement window (``timeout_after_processing``, ``partition``,
``reject``, and an ``outage`` that executes half of its 503'd writes), each with toxicity 0.085, so that about
1 - 0.915**4 = 30 % of requests are hit. After the faults heal the order manager reconciles until nothing is in
doubt (a bounded liveness phase). The checks use the venue's event log (its ``order`` records), not the bot's
books: no client id was executed twice, every order the venue executed is known to the bot with the venue's
status, and every other intent ended rejected or reconciled as never executed (EXPIRED). Traced memory is
reported.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot.core.types import OrderStatus, Quote, Side
from bot.execution.config import ExecutionConfig
from exchange_sim.faults import Fault, FaultKind, Scenario
from stress.support import (
    ACCOUNT,
    SYMBOL,
    full_size,
    quiet_rig,
    store_statuses,
    traced_memory,
    venue_ledger,
)
from stress.venue import LIFTED_LIMITS

pytestmark = pytest.mark.stress

TOXICITY = 0.085  # per fault; four faults: 1 - (1 - 0.085)**4 ~ 0.30 of requests hit
FAULT_WINDOW_S = 40.0
LIVENESS_ROUNDS = 60  # reconciles after the faults heal, 10 simulated seconds apart (bounded)
_DOUBTFUL = (OrderStatus.PENDING_NEW, OrderStatus.UNKNOWN, OrderStatus.LOST)


def scenario() -> Scenario:
    def fault(kind: FaultKind, params: dict[str, float | str]) -> Fault:
        return Fault(kind, "rest", 0.0, FAULT_WINDOW_S, params, toxicity=TOXICITY)

    return Scenario((
        fault(FaultKind.TIMEOUT_AFTER_PROCESSING, {"reply": "error", "ops": "writes"}),
        fault(FaultKind.PARTITION, {"direction": "both"}),
        fault(FaultKind.REJECT, {"reason": "insufficient_balance"}),
        fault(FaultKind.OUTAGE, {"status": "503", "executes_probability": 0.5}),
    ))


@pytest.mark.parametrize("orders", [1000, full_size(5000)])
def test_every_concurrent_order_is_accounted_for_under_thirty_percent_failures(tmp_path: Path, orders: int) -> None:
    rig = quiet_rig(tmp_path, scenario=scenario(), config=ExecutionConfig(max_in_flight=orders),
                    limits=LIFTED_LIMITS)
    om = rig.orders
    quotes = [Quote(side=Side.BUY, price_ticks=10_000 + i % 100, qty_lots=1_000) for i in range(orders)]

    async def run() -> int:
        results = await om.place_many(SYMBOL, quotes)
        await asyncio.sleep(max(0.0, FAULT_WINDOW_S - asyncio.get_running_loop().time()))
        for _ in range(LIVENESS_ROUNDS):  # the faults healed: reconcile until nothing is in doubt
            await om.reconcile()
            if not any(r.status in _DOUBTFUL for r in om.open_orders()):
                break
            await asyncio.sleep(10.0)
        return sum(isinstance(r, Exception) for r in results)

    with traced_memory() as memory:
        errors_returned = rig.world.run(run())
    assert rig.injector is not None
    hits, requests = sum(rig.injector.hits), rig.client.requests
    resting = {o.client_order_id for o in rig.world.engine.open_orders(ACCOUNT, SYMBOL)}
    rig.close()
    ledger = venue_ledger(rig.log_path)
    bot = store_statuses(tmp_path / "state.sqlite3")
    statuses = Counter(bot.values())
    print(f"\n{orders} orders: {hits} injected failures in {requests} requests ({hits / requests:.0%}); "
          f"bot final {dict(statuses)}; errors returned {errors_returned}; "
          f"traced memory growth {memory.growth_mb:.2f} MB, peak {memory.peak_mb:.2f} MB")

    assert len(bot) == orders  # one record per intent: none lost, none extra
    assert hits >= 0.2 * orders  # the faults really hit
    assert [c for c, n in ledger.accepted.items() if n > 1] == []  # no client id executed twice
    assert set(ledger.final) <= set(bot)  # the venue never executed an order the bot does not know
    for cid, venue_status in ledger.final.items():  # every order the venue executed: the venue's status
        assert bot[cid] == venue_status, cid
    for cid, status in bot.items():  # every other intent was refused or reconciled as never executed
        if cid not in ledger.final:
            assert status in ("REJECTED", "EXPIRED"), (cid, status)
    assert {c for c, s in bot.items() if s == "NEW"} == resting
    assert set(statuses) <= {"NEW", "REJECTED", "EXPIRED"}
    assert memory.peak_mb < 200
