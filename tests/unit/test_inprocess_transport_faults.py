"""BinanceConnector over the in-process transport under the fault injector: what the bot's connector makes of a
stream reset, a slow venue, a partition, a 429 and a skewed venue clock, and the same event log for the same seed.

The injector is installed on the world before the connector is built (its ``SimLink`` picks it up); helpers and
the two-account world come from ``test_inprocess_transport``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, OrderStatus, Side, VenueOrder
from exchange_sim.engine import types as sim
from exchange_sim.engine.types import EngineError
from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultInjector, FaultKind, Scenario
from exchange_sim.faults.scenario import draw_scenario
from tests.unit.test_inprocess_transport import BOT, SYMBOL, connect, make_world, maker


def test_a_venue_reset_ends_a_depth_stream_with_one_recoverable_network_error() -> None:
    world = make_world(quiet=False, seed=7)
    FaultInjector.for_world(world, Scenario((Fault(FaultKind.RESET_PEER, "ws", 1.0, 0.0),)))
    world.start()
    bot = connect(world)

    async def main() -> tuple[BotError, int, float]:
        stream = bot.depth_updates(SYMBOL)
        received = 0
        with pytest.raises(BotError) as reset:
            async for _ in stream:
                received += 1
        ended = world.runtime.now()
        with pytest.raises(StopAsyncIteration):  # raised once: then the stream is over
            await stream.__anext__()
        await bot.close()
        return reset.value, received, ended

    error, received, ended = world.run(main())
    world.close()
    assert error.code is ErrorCode.NETWORK and error.recoverable
    assert received > 0 and ended == pytest.approx(1.0, abs=0.01)


# -- timeouts and faults --
def test_a_place_without_an_answer_in_time_has_an_unknown_outcome_and_a_read_is_a_network_error() -> None:
    world = make_world()
    FaultInjector.for_world(world, Scenario((Fault(FaultKind.LATENCY, "rest", 1.0, 30.0, {"latency_ms": 4_000}),)))
    world.start()
    bot = connect(world, request_timeout_s=5.0)
    world.run(bot.symbols())  # rules and server time known before the venue slows down

    async def main() -> tuple[BotError, BotError, VenueOrder]:
        await asyncio.sleep(1.0)
        with pytest.raises(BotError) as placed:
            await bot.place(maker("bid-1", Side.BUY, 100))  # arrives after 4 s, answered after 8: given up at 5
        with pytest.raises(BotError) as read:
            await bot.open_orders()
        await asyncio.sleep(40.0 - world.runtime.now())  # the fault is over
        return placed.value, read.value, await bot.query(SYMBOL, ClientOrderId("bid-1"))

    placed, read, order = world.run(main())
    world.close()
    assert placed.code is ErrorCode.UNKNOWN_OUTCOME and placed.outcome_unknown
    assert read.code is ErrorCode.NETWORK and read.recoverable
    assert order.status is OrderStatus.NEW  # the write executed after its timeout


def test_a_partition_makes_a_write_unknown_after_the_connectors_own_timeout() -> None:
    world = make_world()
    FaultInjector.for_world(world, Scenario((Fault(FaultKind.PARTITION, "rest", 1.0, 10.0),)))
    world.start()
    bot = connect(world, request_timeout_s=2.0)
    world.run(bot.symbols())

    async def main() -> tuple[BotError, float]:
        await asyncio.sleep(2.0 - world.runtime.now())
        with pytest.raises(BotError) as error:
            await bot.place(maker("bid-1", Side.BUY, 100))
        return error.value, world.runtime.now()

    error, at = world.run(main())
    assert error.code is ErrorCode.UNKNOWN_OUTCOME
    assert at == pytest.approx(4.0, abs=0.01)  # sent at 2 s, given up 2 s later
    with pytest.raises(EngineError):  # swallowed upstream: it never executed
        world.engine.get_order(BOT, SYMBOL, client_order_id=sim.ClientOrderId("bid-1"))
    world.close()


def test_a_429_from_the_injectors_rate_limit_blocks_every_request_until_retry_after() -> None:
    world = make_world()
    FaultInjector.for_world(world, Scenario((Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0,
                                                   {"weight_limit": 1, "window_s": 10}),)))
    world.start()
    bot = connect(world)

    async def main() -> tuple[BotError, BotError, int]:
        await asyncio.sleep(1.0)
        await bot.server_time_ms()
        with pytest.raises(BotError) as limited:
            await bot.server_time_ms()
        with pytest.raises(BotError) as held:
            await bot.server_time_ms()  # refused locally: not sent into the Retry-After
        assert limited.value.retry_after_ms is not None
        await asyncio.sleep(limited.value.retry_after_ms / 1000)
        return limited.value, held.value, await bot.server_time_ms()

    limited, held, served = world.run(main())
    world.close()
    assert limited.code is ErrorCode.RATE_LIMITED and limited.retry_after_ms == 10_000
    assert held.code is ErrorCode.RATE_LIMITED and held.retry_after_ms is not None and held.retry_after_ms <= 10_000
    assert served > 0
    assert (bot.stats.rate_limited, bot.stats.held_back, bot.stats.banned) == (1, 1, 0)


def test_clock_skew_costs_one_minus_1021_then_a_resync_and_the_order_goes_through(tmp_path: Path) -> None:
    world = make_world(log_path=tmp_path / "log.jsonl")
    FaultInjector.for_world(world, Scenario((Fault(FaultKind.CLOCK_SKEW, "rest", 1.0, 60.0,
                                                   {"offset_ms": -3000}),)))
    world.start()
    bot = connect(world)
    world.run(bot.symbols())  # synced before the venue's clock jumps
    syncs_before = bot.stats.time_syncs

    async def main() -> VenueOrder:
        await asyncio.sleep(2.0 - world.runtime.now())
        return await bot.place(maker("bid-1", Side.BUY, 100))

    placed = world.run(main())
    world.close()
    assert placed.status is OrderStatus.NEW
    assert bot.stats.timestamp_rejects == 1
    assert bot.stats.time_syncs == syncs_before + 1
    assert bot.time.offset_ms == pytest.approx(-3000, abs=20)
    hits = [e for e in read_events(tmp_path / "log.jsonl") if e["k"] == "fault_hit"]
    assert [e["e"] for e in hits] == ["timestamp"]


def _session_digest(seed: int) -> str:
    """A short session of a drawn chaos scenario: the connector places, lists and reads its user stream."""
    world = make_world(quiet=False, seed=seed)
    FaultInjector.for_world(world, draw_scenario(seed, 60.0))
    bot = connect(world, request_timeout_s=1.0)

    async def trader() -> None:
        events = bot.user_events()
        for i in range(60):
            best = world.engine.best_bid(SYMBOL)
            try:
                if best is not None:
                    await bot.place(maker(f"c{i}", Side.BUY, 100, price=best[0]))
                await bot.open_orders(SYMBOL)
            except BotError:
                pass
            try:
                while events.queued():
                    await events.__anext__()
            except (BotError, StopAsyncIteration):  # the venue dropped the stream: subscribe again
                events = bot.user_events()
            await asyncio.sleep(0.5)
        await bot.close()

    world.run(trader())
    digest = world.log.digest()
    world.close()
    return digest


def test_the_same_seed_gives_the_same_event_log_digest_through_the_connector() -> None:
    assert _session_digest(9) == _session_digest(9)
    assert _session_digest(9) != _session_digest(10)
