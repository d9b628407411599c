"""SimVenue: requests cost seeded round trips, rejects keep Binance codes, feeds and the event log agree."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest

from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    EngineError,
    ErrorCode,
    ExecType,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.eventlog import read_events
from exchange_sim.feeds import AccountUpdate, DepthDiff, ExecutionReport
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)


@pytest.fixture
def world() -> SimWorld:
    w = SimWorld(seed=1, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED)
    w.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    return w


def _bid(price: int, lots: int = 1000, client_id: str | None = None) -> PlaceRequest:
    return PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, qty_lots=lots,
                        price_ticks=price, client_order_id=client_id)  # type: ignore[arg-type]


def test_a_request_costs_two_one_way_delays(world: SimWorld) -> None:
    client = world.venue.connect(BOT)

    async def main() -> float:
        start = world.runtime.now()
        await client.server_time_us()
        return world.runtime.now() - start

    assert world.run(main()) == pytest.approx(0.010)
    world.close()


def test_an_order_is_executed_at_its_arrival_time(world: SimWorld) -> None:
    client = world.venue.connect(BOT)

    async def main() -> int:
        result = await client.place(_bid(10_000))
        return result.order.created_us

    assert world.run(main()) == 5_000
    world.close()


def test_a_reject_keeps_its_binance_code_and_is_logged(world: SimWorld) -> None:
    client = world.venue.connect(BOT)

    async def main() -> None:
        await client.place(_bid(10_000, lots=10**7))  # 5,000,000 USDT: far more than the account has

    with pytest.raises(EngineError) as error:
        world.run(main())
    assert error.value.code == ErrorCode.NEW_ORDER_REJECTED
    assert world.log.counts()["reject"] == 1
    world.close()


def test_unknown_account_cannot_connect(world: SimWorld) -> None:
    with pytest.raises(EngineError) as error:
        world.venue.connect(AccountId("stranger"))
    assert error.value.code == ErrorCode.REJECTED_MBX_KEY
    world.close()


def test_user_stream_reports_new_then_balance_of_own_orders(world: SimWorld) -> None:
    client = world.venue.connect(BOT)
    stream = client.subscribe_user()

    async def main() -> list[object]:
        await client.place(_bid(10_000, client_id="q1"))
        await asyncio.sleep(0.01)
        return [stream.get_nowait() for _ in range(stream.pending())]

    events = world.run(main())
    reports = [e for e in events if isinstance(e, ExecutionReport)]
    assert [(r.exec_type, r.order.client_order_id) for r in reports] == [(ExecType.NEW, "q1")]
    assert any(isinstance(e, AccountUpdate) and e.asset == "USDT" for e in events)
    world.close()


def test_depth_diffs_continue_a_snapshot_without_gaps(world: SimWorld) -> None:
    client = world.venue.connect(BOT)
    diffs = client.subscribe_depth(SYMBOL)

    async def main() -> tuple[int, list[DepthDiff]]:
        snapshot = await client.depth(SYMBOL, limit=1000)
        await asyncio.sleep(30)
        return snapshot.last_update_id, [diffs.get_nowait() for _ in range(diffs.pending())]  # type: ignore[misc]

    last_id, got = world.run(main())
    after = [d for d in got if d.last_update_id > last_id]
    assert after, "the market moved in 30 s"
    assert after[0].first_update_id <= last_id + 1 <= after[0].last_update_id
    for prev, nxt in itertools.pairwise(after):
        assert nxt.first_update_id == prev.last_update_id + 1
    world.close()


def test_local_book_from_snapshot_and_diffs_equals_the_logged_book(tmp_path: Path) -> None:
    """Binance's procedure (snapshot, drop u <= lastUpdateId, apply diffs) rebuilds the venue's book exactly."""
    world = SimWorld(seed=2, duration_s=60, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED,
                     log_path=tmp_path / "log.jsonl")
    world.venue.open_account(BOT, {"USDT": ATOMS_PER_UNIT})
    client = world.venue.connect(BOT)
    diffs = client.subscribe_depth(SYMBOL)

    async def main() -> tuple[int, dict[int, int], dict[int, int]]:
        snapshot = await client.depth(SYMBOL, limit=5000)
        bids, asks = dict(snapshot.bids), dict(snapshot.asks)
        last = snapshot.last_update_id
        await asyncio.sleep(20)
        while (diff := diffs.get_nowait()) is not None:
            if diff.last_update_id <= snapshot.last_update_id:
                continue
            for book, levels in ((bids, diff.bids), (asks, diff.asks)):
                for price, qty in levels:
                    if qty:
                        book[price] = qty
                    else:
                        book.pop(price, None)
            last = diff.last_update_id
        return last, bids, asks

    last, bids, asks = world.run(main())
    world.close()
    logged: dict[str, dict[int, int]] = {"BUY": {}, "SELL": {}}
    for record in read_events(tmp_path / "log.jsonl"):
        if record["k"] == "book" and record["s"] == SYMBOL and record["u"] <= last:
            side = logged[record["S"]]
            if record["q"]:
                side[record["p"]] = record["q"]
            else:
                side.pop(record["p"], None)
    assert last > 0
    assert bids == logged["BUY"]
    assert asks == logged["SELL"]


def test_same_seed_same_session_digest() -> None:
    digests = []
    for _ in range(2):
        w = SimWorld(seed=3, duration_s=120, market=MarketConfig(symbols=(SYMBOL, "ETHUSDT")))
        w.run_until(120)
        digests.append(w.log.digest())
        w.close()
    assert digests[0] == digests[1]


def test_the_venue_keeps_at_most_history_limit_terminal_orders_of_an_account() -> None:
    world = SimWorld(seed=1, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED, history_limit=2)
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    client = world.venue.connect(BOT)

    async def main() -> list[dict[str, int]]:
        sizes = []
        for n in range(4):
            await client.place(_bid(10_000 + n, client_id=f"h{n}"))
            await client.cancel_all(SYMBOL)
            sizes.append(world.engine.account_sizes(BOT))
        await client.place(_bid(10_000, client_id="open"))
        sizes.append(world.engine.account_sizes(BOT))
        return sizes

    sizes = world.run(main())
    assert [s["history"] for s in sizes] == [1, 2, 2, 2, 2]
    assert sizes[-1]["open"] == 1 and sizes[-2]["open"] == 0
    world.close()


def test_the_depth_flusher_restarts_after_a_publishing_error(world: SimWorld) -> None:
    client = world.venue.connect(BOT)
    sub = client.subscribe_depth(SYMBOL)
    calls = itertools.count()

    def fail_once(s: Any, message: DepthDiff) -> None:
        if next(calls) == 0:
            raise RuntimeError("interceptor failed")
        s.enqueue(message)

    sub.intercept = fail_once
    with pytest.raises(RuntimeError, match="interceptor failed"):
        world.run(asyncio.sleep(5.0))
    sub.close()
    fresh = client.subscribe_depth(SYMBOL)  # a reconnect after the error gets diffs again

    async def count_after(seconds: float) -> int:
        await asyncio.sleep(seconds)
        n = 0
        while fresh.get_nowait() is not None:
            n += 1
        return n

    assert world.run(count_after(5.0)) > 10
