"""SnapshotCache: callers within the TTL share one REST call; concurrent callers share one request; no error caching."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.core.types import BookLevel, BookSnapshot
from bot.market.cache import SnapshotCache

SYMBOL = "BTCUSDT"


class FakeClock:
    def __init__(self) -> None:
        self.t_s = 0.0

    def monotonic_s(self) -> float:
        return self.t_s

    def now_ms(self) -> int:
        return round(self.t_s * 1000)


class FakeVenue:
    """``book()`` answers after ``gate`` is set (if any); ``fail`` makes the next call raise."""

    name = "fake"

    def __init__(self) -> None:
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.fail: BotError | None = None

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        self.calls += 1
        call = self.calls
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            error, self.fail = self.fail, None
            raise error
        return BookSnapshot(symbol=symbol, last_update_id=call, bids=(BookLevel(1, limit),), asks=())


def make() -> tuple[SnapshotCache, FakeVenue, FakeClock]:
    venue, clock = FakeVenue(), FakeClock()
    venue_any: Any = venue
    return SnapshotCache(venue_any, clock, ttl_ms=100), venue, clock


async def test_calls_within_the_ttl_share_one_request() -> None:
    cache, venue, clock = make()
    first = await cache.get(SYMBOL)
    clock.t_s = 0.099
    assert await cache.get(SYMBOL) is first
    assert venue.calls == 1


async def test_call_after_the_ttl_fetches_again() -> None:
    cache, venue, clock = make()
    await cache.get(SYMBOL)
    clock.t_s = 0.100
    snapshot = await cache.get(SYMBOL)
    assert snapshot.last_update_id == 2
    assert venue.calls == 2


async def test_keys_are_symbol_and_limit() -> None:
    cache, venue, _ = make()
    await cache.get(SYMBOL, 100)
    await cache.get(SYMBOL, 5000)
    await cache.get("ETHUSDT", 100)
    assert venue.calls == 3


async def test_concurrent_callers_await_the_same_request() -> None:
    cache, venue, _ = make()
    venue.gate = asyncio.Event()
    waiters = [asyncio.ensure_future(cache.get(SYMBOL)) for _ in range(5)]
    await asyncio.sleep(0)
    assert cache.in_flight == 1
    venue.gate.set()
    results = await asyncio.gather(*waiters)
    assert venue.calls == 1
    assert all(r is results[0] for r in results)


async def test_errors_are_not_cached() -> None:
    cache, venue, _ = make()
    venue.fail = BotError(ErrorCode.NETWORK, "down")
    with pytest.raises(BotError):
        await cache.get(SYMBOL)
    assert (await cache.get(SYMBOL)).last_update_id == 2
    assert venue.calls == 2


async def test_concurrent_callers_all_get_the_shared_error() -> None:
    cache, venue, _ = make()
    venue.gate = asyncio.Event()
    venue.fail = BotError(ErrorCode.NETWORK, "down")
    waiters = [asyncio.ensure_future(cache.get(SYMBOL)) for _ in range(3)]
    await asyncio.sleep(0)
    venue.gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, BotError) for r in results)
    assert venue.calls == 1
    assert cache.in_flight == 0


async def test_a_cancelled_caller_does_not_cancel_the_shared_request() -> None:
    cache, venue, _ = make()
    venue.gate = asyncio.Event()
    first = asyncio.ensure_future(cache.get(SYMBOL))
    second = asyncio.ensure_future(cache.get(SYMBOL))
    await asyncio.sleep(0)
    first.cancel()
    venue.gate.set()
    assert (await second).last_update_id == 1
    assert first.cancelled()


async def test_age_counts_from_when_the_request_was_sent() -> None:
    cache, venue, clock = make()
    venue.gate = asyncio.Event()
    pending = asyncio.ensure_future(cache.get(SYMBOL))
    await asyncio.sleep(0)
    clock.t_s = 0.080  # the answer takes 80 ms
    venue.gate.set()
    await pending
    clock.t_s = 0.100
    await cache.get(SYMBOL)
    assert venue.calls == 2


async def test_invalidate_forces_a_fetch() -> None:
    cache, venue, _ = make()
    await cache.get(SYMBOL)
    cache.invalidate(SYMBOL)
    await cache.get(SYMBOL)
    assert venue.calls == 2


async def test_entries_are_bounded() -> None:
    venue, clock = FakeVenue(), FakeClock()
    venue_any: Any = venue
    cache = SnapshotCache(venue_any, clock, max_entries=2)
    for symbol in ("A", "B", "C"):
        await cache.get(symbol)
    await cache.get("A")  # evicted first
    assert venue.calls == 4
