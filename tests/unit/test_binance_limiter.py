"""WeightLimiter and TimeSync: budgets below the venue's limits, cancels first, Retry-After blocks, offset sync."""

from __future__ import annotations

import asyncio

import pytest

from bot.connectors.binance.config import LimiterConfig
from bot.connectors.binance.limiter import Priority, WeightLimiter
from bot.connectors.binance.time_sync import TimeSync
from bot.core.errors import BotError, ErrorCode
from tests.fakes import FakeClock


def limiter(clock: FakeClock, server_ms: list[int], **overrides: float) -> WeightLimiter:
    cfg = LimiterConfig(weight_limit_1m=100, order_limit_10s=10, **overrides)
    return WeightLimiter(cfg, monotonic_s=clock.monotonic_s, server_ms=lambda: server_ms[0])


async def test_budgets_are_below_the_venue_limits_with_a_cancel_reserve() -> None:
    lim = limiter(FakeClock(), [0])
    assert (lim.weight_budget, lim.shared_weight_budget, lim.order_budget) == (80, 72, 8)


async def test_reads_are_held_back_before_the_budget_while_cancels_still_pass() -> None:
    lim = limiter(FakeClock(), [30_000])
    for _ in range(72):
        await lim.acquire(1, Priority.READ)
    with pytest.raises(BotError) as caught:
        await lim.acquire(1, Priority.ORDER, orders=1)
    assert caught.value.code is ErrorCode.RATE_LIMITED and caught.value.retry_after_ms == 30_000
    for _ in range(8):
        await lim.acquire(1, Priority.CANCEL)
    with pytest.raises(BotError):
        await lim.acquire(1, Priority.CANCEL)


async def test_a_new_window_frees_the_budget() -> None:
    server_ms = [59_000]
    lim = limiter(FakeClock(), server_ms)
    await lim.acquire(72, Priority.READ)
    server_ms[0] = 60_000
    await lim.acquire(72, Priority.READ)
    assert lim.used_weight == 72


async def test_a_short_wait_is_waited_out_rather_than_raised() -> None:
    loop = asyncio.get_running_loop()
    start = loop.time()
    lim = WeightLimiter(LimiterConfig(weight_limit_1m=100), monotonic_s=loop.time,
                        server_ms=lambda: 59_950 + round((loop.time() - start) * 1000))
    await lim.acquire(72, Priority.READ)
    async with asyncio.timeout(2):
        await lim.acquire(72, Priority.READ)  # waits ~50 ms for the next minute
    assert loop.time() - start >= 0.04


async def test_venue_headers_raise_the_counts_but_never_lower_them() -> None:
    lim = limiter(FakeClock(), [1_000])
    ticket = await lim.acquire(5, Priority.READ)
    lim.observe({"X-MBX-USED-WEIGHT-1M": "60", "X-MBX-ORDER-COUNT-10S": "4"}, ticket)
    assert (lim.used_weight, lim.order_count) == (60, 4)
    lim.observe({"X-MBX-USED-WEIGHT-1M": "7"}, ticket)
    assert lim.used_weight == 60


async def test_headers_from_a_past_window_are_ignored() -> None:
    server_ms = [1_000]
    lim = limiter(FakeClock(), server_ms)
    ticket = await lim.acquire(1, Priority.READ)
    server_ms[0] = 61_000
    lim.observe({"X-MBX-USED-WEIGHT-1M": "70"}, ticket)
    assert lim.used_weight == 0 and (ticket.weight_window, ticket.order_window) == (0, 0)


async def test_a_count_read_just_after_a_window_start_is_not_carried_into_it() -> None:
    """Chaos seed 58: a request sent 17 ms into our new window was answered with the venue's count of the
    previous one (its window had not rolled yet: 4,409 of 4,800); adopting it refused every read for a minute."""
    server_ms = [60_017]
    lim = limiter(FakeClock(), server_ms)
    ticket = await lim.acquire(8, Priority.READ)
    lim.observe({"X-MBX-USED-WEIGHT-1M": "79", "X-MBX-ORDER-COUNT-10S": "7"}, ticket)
    assert lim.used_weight == 8  # our own weight, not the previous window's
    server_ms[0] = 61_500
    later = await lim.acquire(1, Priority.READ)
    lim.observe({"X-MBX-USED-WEIGHT-1M": "50", "X-MBX-ORDER-COUNT-10S": "7"}, later)
    assert lim.used_weight == 50  # past the guard the venue's weight is adopted


async def test_nothing_is_admitted_during_a_retry_after_block() -> None:
    clock = FakeClock(10.0)
    lim = limiter(clock, [0])
    lim.block(2.0, banned=False)
    with pytest.raises(BotError) as caught:
        await lim.acquire(1, Priority.CANCEL)
    assert caught.value.code is ErrorCode.RATE_LIMITED and caught.value.retry_after_ms == 2000
    clock.t = 12.0
    await lim.acquire(1, Priority.CANCEL)


async def test_a_ban_is_fatal_until_it_expires() -> None:
    clock = FakeClock(0.0)
    lim = limiter(clock, [0])
    lim.block(None, banned=True)  # no Retry-After: the configured default
    with pytest.raises(BotError) as caught:
        await lim.acquire(1, Priority.READ)
    assert caught.value.code is ErrorCode.IP_BANNED and not caught.value.recoverable
    assert caught.value.retry_after_ms == 60_000


async def test_time_sync_uses_the_midpoint_of_the_fastest_round_trip() -> None:
    clock = FakeClock(100.0)
    rtts = iter([0.4, 0.1, 0.3])

    async def fetch() -> int:
        rtt = next(rtts)
        clock.t += rtt / 2
        server_ms = clock.now_ms() + 5_000  # the venue is 5 s ahead and reads its clock mid-way
        clock.t += rtt / 2
        return server_ms

    sync = TimeSync(clock, fetch, samples=3)
    await sync.ensure()
    assert (sync.rtt_ms, sync.offset_ms) == (100, 5_000)
    assert sync.now_ms() == clock.now_ms() + 5_000


async def test_concurrent_resyncs_share_one_and_none_runs_within_the_min_interval() -> None:
    clock = FakeClock(0.0)
    calls = 0
    gate = asyncio.Event()

    async def fetch() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return 0

    sync = TimeSync(clock, fetch, samples=1, min_interval_s=1.0)
    waiting = [asyncio.ensure_future(sync.resync(0)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*waiting)
    assert (calls, sync.generation) == (1, 1)
    await sync.resync(1)  # a later -1021, but the offset is fresh
    assert calls == 1
    clock.t = 2.0
    await sync.resync(1)
    assert calls == 2


async def test_an_aged_offset_is_refreshed_in_the_background_without_holding_back_a_request() -> None:
    """Chaos seed 383: a refresh of an old offset must not hold a HARD sweep's cancel behind slow round trips."""
    clock = FakeClock(0.0)
    gate = asyncio.Event()
    fetches = 0

    async def fetch() -> int:
        nonlocal fetches
        fetches += 1
        if fetches > 1:
            await gate.wait()  # the refresh's round trip is slow
        return clock.now_ms() + 1_000

    sync = TimeSync(clock, fetch, samples=1, max_age_s=300.0)
    assert await sync.ensure() == 1  # the first sync blocks: nothing can be signed without an offset
    clock.t = 400.0  # the offset is now older than max_age_s
    assert await sync.ensure() == 1  # answered at once with the old offset
    assert sync.now_ms() == clock.now_ms() + 1_000
    assert await sync.ensure() == 1  # one refresh at a time
    await asyncio.sleep(0)
    assert fetches == 2
    gate.set()
    for _ in range(3):
        await asyncio.sleep(0)
    assert sync.generation == 2 and not sync.stale()


async def test_a_failed_background_refresh_keeps_the_offset_and_is_tried_again() -> None:
    clock = FakeClock(0.0)
    answers: list[int | BotError] = [1_000, BotError(ErrorCode.NETWORK, "reset", recoverable=True), 2_000]

    async def fetch() -> int:
        answer = answers.pop(0)
        if isinstance(answer, BotError):
            raise answer
        return clock.now_ms() + answer

    sync = TimeSync(clock, fetch, samples=1, max_age_s=300.0)
    await sync.ensure()
    clock.t = 400.0
    await sync.ensure()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert (sync.offset_ms, sync.generation) == (1_000, 1)  # the failed refresh kept the old offset
    await sync.ensure()  # the next request tries again
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert (sync.offset_ms, sync.generation) == (2_000, 2)
