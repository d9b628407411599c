"""Request-path faults seen through VenueClient and the bot's BinanceConnector (in-process transport): partitions,
latency, unknown outcomes, clock skew, rate limits, outages, rejects and the cancel/fill race, each recorded in the
event log."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.connectors.binance.connector import BinanceConnector
from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, NewOrder
from bot.core.types import OrderType as BotOrderType
from bot.core.types import Side as BotSide
from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    EngineError,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
)
from exchange_sim.engine.types import (
    ClientOrderId as SimClientOrderId,
)
from exchange_sim.engine.types import (
    ErrorCode as SimCode,
)
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario, VenueHttpError
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.config import MarketConfig
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld
from harness.session_venue import SimLink, sim_connector

T = TypeVar("T")
BOT = AccountId("bot")
SYMBOL = "BTCUSDT"
FIXED = LatencyConfig(request_floor_ms=5, request_median_ms=0, feed_floor_ms=2, feed_median_ms=0)
WorldFactory = Callable[..., tuple[SimWorld, VenueClient]]


@pytest.fixture
def faulty(tmp_path: Path) -> WorldFactory:
    def make(*faults: Fault) -> tuple[SimWorld, VenueClient]:
        world = SimWorld(seed=3, duration_s=600, market=MarketConfig(symbols=(SYMBOL,)), latency=FIXED,
                         log_path=tmp_path / "log.jsonl")
        world.venue.open_account(BOT, {"BTC": ATOMS_PER_UNIT, "USDT": 100_000 * ATOMS_PER_UNIT})
        FaultInjector.for_world(world, Scenario(faults))
        world.start()
        return world, world.venue.connect(BOT)
    return make


def at(t: float, main: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    async def run() -> T:
        await asyncio.sleep(t)
        return await main
    return run()


def bid(price: int, cid: str = "c1", lots: int = 1000) -> PlaceRequest:
    return PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT, qty_lots=lots,
                        price_ticks=price, client_order_id=SimClientOrderId(cid))


def deep_bid(world: SimWorld, cid: str = "c1") -> PlaceRequest:
    best = world.engine.best_bid(SYMBOL)
    assert best is not None
    return bid(best[0] - 50, cid)


async def timed_out(call: Coroutine[Any, Any, Any], timeout_s: float = 2.0) -> bool:
    try:
        async with asyncio.timeout(timeout_s):
            await call
    except TimeoutError:
        return True
    return False


def hits(world: SimWorld, tmp_path: Path) -> list[dict[str, Any]]:
    world.close()
    return [e for e in read_events(tmp_path / "log.jsonl") if e["k"] in ("fault", "fault_hit")]


def test_a_partition_swallows_the_request_so_the_order_never_executes(faulty: WorldFactory, tmp_path: Path) -> None:
    world, client = faulty(Fault(FaultKind.PARTITION, "rest", 1.0, 10.0))
    assert world.run(at(2.0, timed_out(client.place(deep_bid(world)))))
    with pytest.raises(EngineError):
        world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1"))
    world.run_until(12.0)
    events = hits(world, tmp_path)
    assert [e["ph"] for e in events if e["k"] == "fault"] == ["start", "end"]
    assert [e["e"] for e in events if e["k"] == "fault_hit"] == ["request_lost"]


def test_a_downstream_partition_executes_the_order_and_loses_the_reply(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.PARTITION, "rest", 1.0, 10.0, {"direction": "downstream"}))
    assert world.run(at(2.0, timed_out(client.place(deep_bid(world)))))
    order = world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1"))
    assert order.status is OrderStatus.NEW


def test_the_connector_reports_a_lost_reply_as_an_unknown_outcome(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.PARTITION, "rest", 1.0, 10.0, {"direction": "downstream"}))
    connector: BinanceConnector = sim_connector(world, BOT, client, request_timeout_s=1.0)
    world.run(connector.symbols())  # rules and server time known before the partition
    price = deep_bid(world).price_ticks
    new = NewOrder(symbol=SYMBOL, side=BotSide.BUY, type=BotOrderType.LIMIT, qty_lots=1000, price_ticks=price,
                   client_order_id=ClientOrderId("c1"))
    with pytest.raises(BotError) as caught:
        world.run(at(2.0, connector.place(new)))
    assert caught.value.code is ErrorCode.UNKNOWN_OUTCOME and "no answer within 1.0s" in caught.value.message
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1")).status is OrderStatus.NEW


def test_requests_flow_again_once_the_partition_heals(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.PARTITION, "rest", 0.0, 5.0))
    assert world.run(at(6.0, client.server_time_us())) > 0


def test_latency_adds_to_both_legs_of_a_round_trip(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.LATENCY, "rest", 0.0, 10.0, {"latency_ms": 100}))

    async def main() -> float:
        await asyncio.sleep(1.0)
        start = world.runtime.now()
        await client.server_time_us()
        return world.runtime.now() - start

    assert world.run(main()) == pytest.approx(0.210)


def test_timeout_after_processing_answers_minus_1007_after_executing(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 0.0, 10.0))
    with pytest.raises(EngineError) as caught:
        world.run(at(1.0, client.place(deep_bid(world))))
    assert caught.value.code is SimCode.TIMEOUT
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1")).status is OrderStatus.NEW


def test_clock_skew_gives_minus_1021_until_the_client_corrects_its_timestamps(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.CLOCK_SKEW, "rest", 0.0, 60.0, {"offset_ms": -3000}))

    async def main() -> tuple[int, EngineError | None, SimCode | None]:
        await asyncio.sleep(1.0)
        error = None
        try:
            await client.place(deep_bid(world, "c1"))
        except EngineError as caught:
            error = caught
        server_us = await client.server_time_us()
        client.timestamp_offset_us = server_us - world.runtime.now_us()
        await client.place(deep_bid(world, "c2"))
        return server_us - world.runtime.now_us(), error, None

    skew_us, error, _ = world.run(main())
    assert error is not None and error.code is SimCode.INVALID_TIMESTAMP
    assert skew_us == pytest.approx(-3_000_000, abs=20_000)
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c2")).status is OrderStatus.NEW


def test_rate_limit_answers_429_with_retry_after_then_418_if_the_client_keeps_sending(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0,
                                 {"weight_limit": 3, "window_s": 10, "ban_after": 2, "ban_s": 30}))

    async def main() -> list[tuple[int, int | None]]:
        answers: list[tuple[int, int | None]] = []
        for _ in range(6):
            try:
                await client.server_time_us()
                answers.append((200, None))
            except VenueHttpError as error:
                answers.append((error.http_status, error.retry_after_s))
        return answers

    answers = world.run(at(1.0, main()))
    assert [status for status, _ in answers] == [200, 200, 200, 429, 429, 418]
    assert answers[3][1] == 10 and answers[5][1] == 30


def test_requests_in_flight_when_the_429_was_answered_never_count_towards_the_ban(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0,
                                 {"weight_limit": 1, "window_s": 10, "ban_after": 1, "ban_s": 30}))

    async def main() -> list[int]:
        async def one() -> int:
            try:
                await client.server_time_us()
                return 200
            except VenueHttpError as error:
                return error.http_status
        return list(await asyncio.gather(*(one() for _ in range(5))))  # all sent before any answer arrived

    assert world.run(at(1.0, main())) == [200, 429, 429, 429, 429]


def test_a_429_whose_reply_a_partition_drops_carries_no_receipt_time(faulty: WorldFactory, tmp_path: Path) -> None:
    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 1}),
                           Fault(FaultKind.PARTITION, "rest", 2.0, 30.0, {"direction": "downstream"}))

    async def main() -> None:
        await client.server_time_us()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5.0):
                await at(2.5, client.server_time_us())

    world.run(at(1.0, main()))
    world.close()
    events = read_events(tmp_path / "log.jsonl")
    reject = next(e for e in events if e["k"] == "reject")
    assert reject["http"] == 429 and "rcv" not in reject
    assert any(e["k"] == "fault_hit" and e["e"] == "reply_lost" for e in events)


def test_a_429_that_lands_after_the_client_gave_up_carries_no_receipt_time(faulty: WorldFactory,
                                                                             tmp_path: Path) -> None:
    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 1}),
                           Fault(FaultKind.LATENCY, "rest", 2.0, 30.0, {"latency_ms": 3000}))

    async def main() -> None:
        await client.server_time_us()
        assert await timed_out(at(1.5, client.server_time_us()), timeout_s=6.0)  # the 429 would land at ~8.5s

    world.run(at(1.0, main()))
    world.close()
    reject = next(e for e in read_events(tmp_path / "log.jsonl") if e["k"] == "reject")
    assert reject["http"] == 429 and "rcv" not in reject


def test_a_client_that_waits_out_retry_after_is_served_again(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 1, "window_s": 5}))

    async def main() -> int:
        await client.server_time_us()
        try:
            await client.server_time_us()
        except VenueHttpError as error:
            assert error.retry_after_s is not None
            await asyncio.sleep(error.retry_after_s)
        return await client.server_time_us()

    assert world.run(at(1.0, main())) > 0


def test_an_outage_answers_503_and_a_write_is_not_executed_by_default(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.OUTAGE, "rest", 0.0, 60.0))
    with pytest.raises(VenueHttpError) as caught:
        world.run(at(1.0, client.place(deep_bid(world))))
    assert caught.value.http_status == 503 and caught.value.code is SimCode.TIMEOUT  # execution status unknown
    with pytest.raises(EngineError):
        world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1"))
    with pytest.raises(VenueHttpError) as read:
        world.run(client.open_orders(SYMBOL))
    assert read.value.code is SimCode.DISCONNECTED


def test_a_503_write_may_have_been_executed(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.OUTAGE, "rest", 0.0, 60.0, {"executes_probability": 1.0}))
    with pytest.raises(VenueHttpError):
        world.run(at(1.0, client.place(deep_bid(world))))
    assert world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1")).status is OrderStatus.NEW


def test_a_reject_fault_refuses_the_order_with_a_binance_code(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.REJECT, "rest", 0.0, 60.0))
    with pytest.raises(EngineError) as caught:
        world.run(at(1.0, client.place(deep_bid(world))))
    assert caught.value.code is SimCode.NEW_ORDER_REJECTED and "insufficient balance" in caught.value.msg


def test_a_cancel_racing_a_fill_gets_unknown_order_and_the_order_is_filled(faulty: WorldFactory) -> None:
    world, client = faulty(Fault(FaultKind.CANCEL_FILL_RACE, "rest", 0.0, 60.0))

    async def main() -> EngineError | None:
        await asyncio.sleep(1.0)
        best_bid, best_ask = world.engine.best_bid(SYMBOL), world.engine.best_ask(SYMBOL)
        assert best_bid is not None and best_ask is not None
        await client.place(PlaceRequest(account=BOT, symbol=SYMBOL, side=Side.BUY, type=OrderType.LIMIT_MAKER,
                                        qty_lots=1000, price_ticks=best_bid[0],
                                        client_order_id=SimClientOrderId("c1")))
        try:
            await client.cancel(SYMBOL, client_order_id=SimClientOrderId("c1"))
        except EngineError as error:
            return error
        return None

    error = world.run(main())
    assert error is not None and error.code is SimCode.CANCEL_REJECTED
    order = world.engine.get_order(BOT, SYMBOL, client_order_id=SimClientOrderId("c1"))
    assert order.status is OrderStatus.FILLED
    world.engine.audit()


def test_requests_carry_their_send_time_and_rejects_their_retry_after(faulty: WorldFactory, tmp_path: Path) -> None:
    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 1}))

    async def main() -> None:
        await client.server_time_us()
        with pytest.raises(VenueHttpError):
            await client.server_time_us()

    world.run(at(1.0, main()))
    world.close()
    events = read_events(tmp_path / "log.jsonl")
    requests = [e for e in events if e["k"] == "request"]
    reject = next(e for e in events if e["k"] == "reject")
    assert all(e["sent"] < e["t"] for e in requests)
    assert reject["http"] == 429 and reject["ra_ms"] == 10_000 and reject["rcv"] > reject["t"]


def test_a_connector_started_after_a_crash_honours_its_predecessors_retry_after(faulty: WorldFactory) -> None:
    from bot.execution.state import StateStore  # noqa: PLC0415

    world, client = faulty(Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 1, "window_s": 10}))
    store = StateStore(":memory:")

    link = SimLink(world, BOT, request_timeout_s=5.0)

    async def main() -> tuple[BotError, BinanceConnector]:
        first: BinanceConnector = link.connector(store, client=client)
        await first.server_time_ms()
        with pytest.raises(BotError):
            await first.server_time_ms()  # 429: Retry-After 10 s
        second: BinanceConnector = link.connector(store)  # a new instance, as after a crash
        with pytest.raises(BotError) as error:
            await second.server_time_ms()
        return error.value, second

    error, second = world.run(at(1.0, main()))
    store.close()
    assert error.code is ErrorCode.RATE_LIMITED and error.retry_after_ms is not None
    assert 0 < error.retry_after_ms <= 10_000
    assert (second.stats.held_back, second.stats.rate_limited) == (1, 0)  # refused locally, never sent
