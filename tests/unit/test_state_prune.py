"""Pruning the order state: both stores stay bounded over a long run and never forget what is still needed
(open orders, executions whose fills are not booked, fills past the synced trade id, the position)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.types import ClientOrderId, Fill, OrderStatus, OrderType, Side, TradeId, VenueOrderId
from bot.execution.memory_store import MemoryStateStore
from bot.execution.state import OrderRecord, OrderStore, StateStore
from exchange_sim.engine.types import OrderType as SimOrderType
from exchange_sim.engine.types import PlaceRequest
from exchange_sim.engine.types import Side as SimSide
from exchange_sim.world import SimWorld
from tests.unit.test_order_manager import TAKER, make_om, world

__all__ = ["world"]  # the order manager's simulated venue fixture

SYMBOL = "BTCUSDT"
BOUND_MS = 60_000


def order(n: int, *, status: OrderStatus, at_ms: int, filled_lots: int = 0, side: Side = Side.BUY) -> OrderRecord:
    return OrderRecord(client_order_id=ClientOrderId(f"mmb-x-{n}"), symbol=SYMBOL, side=side,
                       type=OrderType.LIMIT_MAKER, price_ticks=100_000, qty_lots=5, status=status,
                       filled_lots=filled_lots, created_ms=at_ms, updated_ms=at_ms)


def fill(trade_id: int, n: int, *, at_ms: int, qty_lots: int = 5, side: Side = Side.BUY) -> Fill:
    return Fill(symbol=SYMBOL, trade_id=TradeId(trade_id), order_id=VenueOrderId(n),
                client_order_id=ClientOrderId(f"mmb-x-{n}"), side=side, price_ticks=100_000, qty_lots=qty_lots,
                quote_atoms=500, fee_atoms=0, fee_asset="USDT", is_maker=True, time_ms=at_ms)


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[OrderStore]:
    s: OrderStore = StateStore(":memory:") if request.param == "sqlite" else MemoryStateStore()
    try:
        yield s
    finally:
        s.close()


def filled_order(store: OrderStore, n: int, at_ms: int) -> None:
    """One order's life: saved, filled (trade id ``n``), finished; buys and sells alternate."""
    side = Side.BUY if n % 2 else Side.SELL
    store.save_order(order(n, status=OrderStatus.NEW, at_ms=at_ms, side=side))
    store.record_fill(fill(n, n, at_ms=at_ms, side=side),
                      order=order(n, status=OrderStatus.FILLED, at_ms=at_ms, filled_lots=5, side=side))


def test_a_long_run_stays_bounded_and_keeps_the_position(store: OrderStore) -> None:
    position = 0
    for n in range(1, 3_001):  # one order a second for 50 minutes, pruned every 30 s as the reconcile does
        now_ms = n * 1_000
        filled_order(store, n, now_ms)
        position += 5 if n % 2 else -5
        if n % 30 == 0:
            store.prune_terminal(now_ms - BOUND_MS, {SYMBOL: n})
        assert len(store.fills()) <= BOUND_MS // 1_000 + 30
    assert store.order(ClientOrderId("mmb-x-1")) is None
    assert store.order(ClientOrderId("mmb-x-3000")) is not None  # recent: kept
    assert store.position_lots(SYMBOL) == position
    assert store.last_trade_id(SYMBOL) == TradeId(3_000)


def test_without_pruning_every_record_stays(store: OrderStore) -> None:
    for n in range(1, 201):
        filled_order(store, n, n * 1_000)
    assert len(store.fills()) == 200
    assert store.order(ClientOrderId("mmb-x-1")) is not None


def test_open_orders_and_unbooked_executions_are_never_pruned(store: OrderStore) -> None:
    store.save_orders([
        order(1, status=OrderStatus.NEW, at_ms=0),
        order(2, status=OrderStatus.LOST, at_ms=0),
        order(3, status=OrderStatus.FILLED, at_ms=0, filled_lots=5),  # its fill is not booked yet
        order(4, status=OrderStatus.CANCELED, at_ms=0),  # finished, nothing executed: reconciled
    ])
    store.record_fill(fill(10, 3, at_ms=0, qty_lots=2))  # 2 of its 5 lots booked
    assert store.prune_terminal(10_000, {SYMBOL: 100}) == 1
    assert [r.client_order_id for r in store.open_orders()] == ["mmb-x-1", "mmb-x-2"]
    assert store.order(ClientOrderId("mmb-x-3")) is not None
    assert store.order(ClientOrderId("mmb-x-4")) is None
    assert store.fill_totals(ClientOrderId("mmb-x-3")) == (2, 500)  # the kept order's fills are kept
    assert store.record_fill(fill(11, 3, at_ms=5_000, qty_lots=3))  # the late fill still finds its order


def test_fills_past_the_synced_trade_id_or_inside_the_bound_are_kept(store: OrderStore) -> None:
    for n, at_ms in ((1, 0), (2, 0), (3, 9_000)):
        filled_order(store, n, at_ms)
    store.prune_terminal(10_000, {SYMBOL: 1})  # the venue's listing was synced through trade 1 only
    assert [int(f.trade_id) for f in store.fills()] == [2, 3]
    store.prune_terminal(5_000, {SYMBOL: 3})  # trade 3 is newer than the bound
    assert [int(f.trade_id) for f in store.fills()] == [3]
    assert store.position_lots(SYMBOL) == 5 - 5 + 5


def test_no_fill_is_pruned_without_a_synced_trade_id(store: OrderStore) -> None:
    filled_order(store, 1, 0)
    assert store.prune_terminal(10_000) == 1
    assert [int(f.trade_id) for f in store.fills()] == [1]


def test_a_pruned_trade_is_still_a_duplicate_and_its_order_is_forgotten(store: OrderStore) -> None:
    for n in (1, 2, 3):
        filled_order(store, n, 0)
    store.prune_terminal(10_000, {SYMBOL: 3})
    assert store.fills() == []
    assert store.record_fill(fill(2, 2, at_ms=0, side=Side.SELL)) is False  # redelivered: booked long ago
    assert store.position_lots(SYMBOL) == 5
    assert store.forgot(ClientOrderId("mmb-x-2"))
    assert not store.forgot(ClientOrderId("mmb-x-4"))  # never issued by this store's counter so far
    assert not store.forgot(ClientOrderId("manual-order"))
    assert store.record_fill(fill(4, 4, at_ms=20_000))  # a new trade is booked


def test_the_sqlite_store_keeps_the_carried_position_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    with StateStore(path) as first:
        for n in (1, 2, 3):
            filled_order(first, n, 0)
        first.prune_terminal(10_000, {SYMBOL: 3})
    with StateStore(path) as second:  # the restart ledger: position and duplicates survive the prune
        assert second.fills() == []
        assert second.position_lots(SYMBOL) == 5
        assert second.last_trade_id(SYMBOL) == TradeId(3)
        assert second.record_fill(fill(3, 3, at_ms=0)) is False
        assert second.forgot(ClientOrderId("mmb-x-1"))


def test_the_order_manager_prunes_at_reconcile_once_an_order_is_old_enough(world: SimWorld) -> None:
    store = MemoryStateStore()
    om, _ = make_om(world, store, prune_after_s=121.0)

    async def main() -> None:
        placed = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        await world.venue.connect(TAKER).place(PlaceRequest(account=TAKER, symbol=SYMBOL, side=SimSide.SELL,
                                                            type=SimOrderType.MARKET, qty_lots=1_000))
        await om.reconcile()  # books the fill, syncs the trade listing; the order is too recent to prune
        assert store.order(placed.client_order_id) is not None
        await asyncio.sleep(122)
        await om.reconcile()
        assert store.order(placed.client_order_id) is None
        assert store.fills() == []

    world.run(main())
    assert om.stats.pruned == 1
    assert om.inventory_lots(SYMBOL) == store.position_lots(SYMBOL) == 1_000
