"""Feed faults seen through the venue's subscriptions and the bot's BinanceConnector and LocalBook: dropped, duplicated,
reordered and frozen depth updates, missed/duplicated/late execution reports, resets and feed latency."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from bot.connectors.binance.connector import BinanceConnector
from bot.core.errors import BotError, ErrorCode
from bot.market.book import LocalBook
from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    ClientOrderId,
    ExecType,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario
from exchange_sim.feeds import DepthDiff, ExecutionReport, Subscription
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld
from harness.session_venue import sim_connector

BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)


def make(*faults: Fault) -> tuple[SimWorld, VenueClient]:
    world = SimWorld(seed=4, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED)
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    FaultInjector.for_world(world, Scenario(faults))
    world.start()
    return world, world.venue.connect(BOT)


def collect(world: SimWorld, sub: Subscription[Any], until_s: float) -> list[tuple[float, Any]]:
    """(arrival time, message) of everything ``sub`` delivers until ``until_s``."""
    got: list[tuple[float, Any]] = []

    async def reader() -> None:
        while True:
            message = await sub.get()
            got.append((world.runtime.now(), message))

    async def main() -> None:
        task = asyncio.ensure_future(reader())
        await asyncio.sleep(until_s - world.runtime.now())
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    world.run(main())
    return got


def diffs(messages: list[tuple[float, Any]]) -> list[DepthDiff]:
    return [m for _, m in messages if isinstance(m, DepthDiff)]


def book_gaps(world: SimWorld, client: VenueClient, until_s: float) -> int:
    """Run the bot's LocalBook on the connector's depth stream (snapshot first) and count detected gaps."""
    connector: BinanceConnector = sim_connector(world, BOT, client)
    book = LocalBook(SYMBOL)

    async def main() -> int:
        stream = connector.depth_updates(SYMBOL)
        book.apply_snapshot(await connector.book(SYMBOL, limit=1000))
        try:
            async with asyncio.timeout(until_s - world.runtime.now()):
                async for update in stream:
                    book.apply(update)
        except TimeoutError:
            pass
        await connector.close()
        return book.gaps

    try:
        return world.run(main())
    except TimeoutError:
        return book.gaps


def test_without_faults_the_local_book_sees_no_gap() -> None:
    world, client = make()
    assert book_gaps(world, client, 20.0) == 0


def test_dropped_depth_updates_make_the_local_book_detect_a_gap() -> None:
    world, client = make(Fault(FaultKind.FEED_GAP, "ws", 5.0, 5.0, toxicity=0.3))
    assert book_gaps(world, client, 20.0) > 0


def test_duplicated_depth_updates_arrive_twice() -> None:
    world, client = make(Fault(FaultKind.FEED_GAP, "BTCUSDT", 1.0, 2.0, {"mode": "duplicate"}))
    got = diffs(collect(world, client.subscribe_depth(SYMBOL), 5.0))
    ids = [d.first_update_id for d in got]
    assert len(ids) > len(set(ids))


def test_reordered_depth_updates_arrive_out_of_sequence() -> None:
    world, client = make(Fault(FaultKind.FEED_GAP, "ws", 1.0, 2.0, {"mode": "reorder"}))
    ids = [d.first_update_id for d in diffs(collect(world, client.subscribe_depth(SYMBOL), 5.0))]
    assert ids != sorted(ids)
    assert sorted(ids) == sorted(set(ids))  # nothing lost, nothing doubled


def test_a_stale_feed_delivers_nothing_and_drops_the_withheld_updates_on_heal() -> None:
    world, client = make(Fault(FaultKind.STALE_FEED, "ws", 2.0, 3.0))
    got = collect(world, client.subscribe_depth(SYMBOL), 8.0)
    assert not [t for t, _ in got if 2.01 < t < 5.0]
    after = [d for t, d in got if t >= 5.0]
    before = [d for t, d in got if t <= 2.01]
    assert after and after[0].first_update_id > before[-1].last_update_id + 1  # a gap
    assert world.run(client.server_time_us()) > 0  # REST still works


def test_a_flushed_stale_feed_delivers_every_update_late() -> None:
    world, client = make(Fault(FaultKind.STALE_FEED, "ws", 2.0, 3.0, {"on_heal": "flush"}))
    ids = [d for _, d in collect(world, client.subscribe_depth(SYMBOL), 8.0)]
    for prev, nxt in itertools.pairwise(ids):
        assert nxt.first_update_id == prev.last_update_id + 1


def test_a_ws_partition_silences_the_market_feed() -> None:
    world, client = make(Fault(FaultKind.PARTITION, "ws", 2.0, 3.0))
    got = collect(world, client.subscribe_depth(SYMBOL), 8.0)
    assert not [t for t, _ in got if 2.01 < t < 5.0] and [t for t, _ in got if t > 5.0]


def test_feed_latency_delays_messages() -> None:
    world, client = make(Fault(FaultKind.LATENCY, "ws", 0.0, 60.0, {"latency_ms": 500}))
    got = collect(world, client.subscribe_depth(SYMBOL), 5.0)
    assert all(t * 1_000_000 - d.event_time_us >= 500_000 for t, d in got)


def test_bandwidth_makes_messages_queue() -> None:
    world, client = make(Fault(FaultKind.BANDWIDTH, "ws", 0.0, 60.0, {"rate_kbps": 1, "message_bytes": 1000}))
    got = collect(world, client.subscribe_depth(SYMBOL), 20.0)
    lags = [t * 1_000_000 - d.event_time_us for t, d in got]
    assert lags[-1] > lags[0] + 1_000_000  # 8 s per message at 1 kbps: lag keeps growing


def _place_bid(world: SimWorld, client: VenueClient, cid: str) -> None:
    best = world.engine.best_bid(SYMBOL)
    assert best is not None
    world.run(client.place(PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT,
                                        qty_lots=1000, price_ticks=best[0] - 50,
                                        client_order_id=ClientOrderId(cid))))


def _reports(messages: list[tuple[float, Any]]) -> list[tuple[float, ExecutionReport]]:
    return [(t, m) for t, m in messages if isinstance(m, ExecutionReport)]


@pytest.mark.parametrize(("mode", "count"), [("missed", 0), ("duplicated", 2)])
def test_user_stream_reports_can_be_missed_or_duplicated(mode: str, count: int) -> None:
    world, client = make(Fault(FaultKind.USER_STREAM, "user", 0.0, 60.0, {"mode": mode}))
    sub = client.subscribe_user()
    _place_bid(world, client, "c1")
    reports = _reports(collect(world, sub, 3.0))
    assert len([r for _, r in reports if r.exec_type is ExecType.NEW]) == count


def test_a_late_report_arrives_after_later_ones() -> None:
    world, client = make(Fault(FaultKind.USER_STREAM, "user", 0.0, 0.5, {"mode": "late", "delay_ms": 3000}))
    sub = client.subscribe_user()
    _place_bid(world, client, "c1")  # reported during the fault: late
    world.run_until(1.0)
    _place_bid(world, client, "c2")  # reported after it: on time
    reports = _reports(collect(world, sub, 6.0))
    assert [r.order.client_order_id for _, r in reports] == ["c2", "c1"]


def test_reset_peer_ends_the_connectors_user_stream_with_network_once_and_a_new_one_connects_after_heal() -> None:
    world, client = make(Fault(FaultKind.RESET_PEER, "user", 2.0, 1.0, {"reconnect": "refuse"}))
    connector: BinanceConnector = sim_connector(world, BOT, client)

    async def main() -> tuple[BotError, float, bool, BotError, bool]:
        stream = connector.user_events()
        with pytest.raises(BotError) as reset:
            async for _ in stream:
                pass
        ended = world.runtime.now()
        with pytest.raises(StopAsyncIteration):  # the error is raised once, then the stream is over
            await stream.__anext__()
        await asyncio.sleep(0.1)
        with pytest.raises(BotError) as refused:  # the venue refuses reconnections until the fault ends
            await connector.user_events().__anext__()
        refused_inside = world.runtime.now() < 3.0
        await asyncio.sleep(2.0)
        healed = connector.user_events()
        await asyncio.sleep(0.5)
        open_after_heal = healed.connected and not healed.closed
        await connector.close()
        return reset.value, ended, refused_inside, refused.value, open_after_heal

    reset, ended, refused_inside, refused, open_after_heal = world.run(main())
    assert reset.code is ErrorCode.NETWORK and reset.recoverable
    assert ended == pytest.approx(2.0)
    assert refused.code is ErrorCode.NETWORK and refused_inside
    assert open_after_heal


def test_reset_peer_makes_a_raw_subscription_raise_connection_reset() -> None:
    world, client = make(Fault(FaultKind.RESET_PEER, "ws", 1.0, 0.0))
    sub = client.subscribe_depth(SYMBOL)
    collect(world, sub, 2.0)
    with pytest.raises(ConnectionResetError):
        world.run(sub.get())


def test_memory_pressure_floods_depth_streams_with_stale_replays_once_a_second() -> None:
    world, client = make(Fault(FaultKind.MEMORY_PRESSURE, "bot", 2.0, 3.0, {"message_rate_per_s": 50.0}))
    got = [(t, m) for t, m in collect(world, client.subscribe_depth(SYMBOL), 8.0) if isinstance(m, DepthDiff)]
    ids = [d.last_update_id for _, d in got]
    assert len(ids) - len(set(ids)) == 3 * 50  # bursts at 2, 3 and 4 s of 50 replays each
    replayed_at = sorted({int(t) for t, d in got if ids.count(d.last_update_id) > 1 and t >= 2.0})
    assert replayed_at == [2, 3, 4]  # inside the window only
    assert list(dict.fromkeys(ids)) == sorted(set(ids))  # replays are stale: no id ever goes backwards first


def test_memory_pressure_never_floods_the_user_stream_and_sheds_beyond_the_buffer(tmp_path: Any) -> None:
    world = SimWorld(seed=4, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED,
                     log_path=tmp_path / "log.jsonl")
    world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
    FaultInjector.for_world(world, Scenario((Fault(FaultKind.MEMORY_PRESSURE, "bot", 1.0, 2.0,
                                                   {"message_rate_per_s": 300.0}),)))
    world.start()
    client = world.venue.connect(BOT)
    depth = client.subscribe_depth(SYMBOL, maxsize=100)
    user = client.subscribe_user()
    world.run_until(5.0)
    world.log.close()
    assert depth.dropped >= 2 * 200  # each 300-message burst overflows the 100-message buffer
    assert user.delivered == 0 and user.dropped == 0
    (end,) = [r for r in read_events(tmp_path / "log.jsonl") if r.get("k") == "fault" and r.get("ph") == "end"]
    assert 2 * 200 <= end["shed"] <= depth.dropped  # later drops: nobody reads this stream
