"""MarketData keeps a local book synced from a venue: initial sync, gap -> resync, stream end -> resubscribe,
bounded failures, and a volatility estimate that recovers a known random walk. Runs in virtual time."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.core.types import BookLevel, BookSnapshot, DepthUpdate, PublicTrade
from bot.market.data import MarketData, MarketDataConfig
from exchange_sim.runtime import SimRuntime

SYMBOL = "BTCUSDT"


class FakeVenue:
    """A venue with a one-level book that moves every ``diff_interval_s``; streams are async generators.

    Every subscription to the diff stream yields the book's changes from then on. ``drop`` lists update ids
    whose diff is never delivered (a gap); ``end_after`` ends a subscription after that many diffs (one entry
    per subscription, consumed in order); ``book_errors`` are raised by the next snapshot requests, in order.
    """

    name = "fake"

    def __init__(self, steps: Iterator[int] | None = None, diff_interval_s: float = 0.1) -> None:
        self.bid, self.ask, self.update_id = 99_999, 100_001, 1000
        self._steps = steps if steps is not None else iter(lambda: 0, None)
        self.diff_interval_s = diff_interval_s
        self.drop: set[int] = set()
        self.end_after: list[int] = []
        self.silent_after: list[int] = []  # a subscription goes silent (never ends, never errs) after N diffs
        self.book_errors: list[BotError] = []
        self.subscriptions = 0
        self.snapshots = 0

    def snapshot(self) -> BookSnapshot:
        return BookSnapshot(symbol=SYMBOL, last_update_id=self.update_id, bids=(BookLevel(self.bid, 5),),
                            asks=(BookLevel(self.ask, 5),))

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        await asyncio.sleep(0.02)
        if self.book_errors:
            raise self.book_errors.pop(0)
        self.snapshots += 1
        return self.snapshot()

    def _step(self, time_ms: int) -> DepthUpdate:
        move = next(self._steps)
        old_bid, old_ask = self.bid, self.ask
        self.bid, self.ask = self.bid + move, self.ask + move
        bids, asks = {old_bid: 0}, {old_ask: 0}
        bids[self.bid], asks[self.ask] = 5, 5
        self.update_id += 1
        return DepthUpdate(symbol=SYMBOL, first_update_id=self.update_id, last_update_id=self.update_id,
                           bids=tuple(BookLevel(p, q) for p, q in bids.items()),
                           asks=tuple(BookLevel(p, q) for p, q in asks.items()), time_ms=time_ms)

    async def depth_updates(self, symbol: str) -> AsyncIterator[DepthUpdate]:
        self.subscriptions += 1
        limit = self.end_after.pop(0) if self.end_after else None
        silent = self.silent_after.pop(0) if self.silent_after else None
        sent = 0
        loop = asyncio.get_running_loop()
        while limit is None or sent < limit:
            if sent == silent:
                await asyncio.Event().wait()  # a connection that died without a close
            await asyncio.sleep(self.diff_interval_s)
            diff = self._step(round(loop.time() * 1000))
            if diff.last_update_id in self.drop:
                continue
            sent += 1
            yield diff

    async def public_trades(self, symbol: str) -> AsyncIterator[PublicTrade]:
        await asyncio.Event().wait()  # no trades; never ends
        yield  # type: ignore[misc]  # unreachable: makes this an async generator


def run_for(venue: FakeVenue, seconds: float, config: MarketDataConfig | None = None) -> MarketData:
    """Run MarketData on ``venue`` for ``seconds`` of virtual time and return it (its task cancelled)."""
    with SimRuntime() as rt:
        data = MarketData(venue, SYMBOL, config)  # type: ignore[arg-type]

        async def main() -> None:
            task = asyncio.ensure_future(data.run())
            await asyncio.sleep(seconds)
            if task.done():
                task.result()  # surface a crash
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        rt.run(main())
    return data


def assert_matches(data: MarketData, venue: FakeVenue) -> None:
    assert data.book.is_synced
    assert data.book.best_bid() == BookLevel(venue.bid, 5)
    assert data.book.best_ask() == BookLevel(venue.ask, 5)


def test_initial_sync_serves_the_venue_book() -> None:
    venue = FakeVenue()
    data = run_for(venue, 1.0)
    assert_matches(data, venue)
    assert data.mid_ticks() == 100_000.0 and data.spread_ticks() == 2
    assert (venue.subscriptions, venue.snapshots, data.resyncs, data.gaps) == (1, 1, 0, 0)


def test_a_gap_forces_a_resync_from_a_new_snapshot() -> None:
    venue = FakeVenue(steps=iter(lambda: 1, None))
    venue.drop = {1005}
    data = run_for(venue, 2.0)
    assert data.gaps == 1 and data.resyncs == 1
    assert venue.subscriptions == 1
    assert_matches(data, venue)


def test_a_stream_end_resubscribes_and_resyncs() -> None:
    venue = FakeVenue(steps=iter(lambda: -1, None))
    venue.end_after = [5]
    data = run_for(venue, 2.0)
    assert venue.subscriptions == 2 and venue.snapshots == 2
    assert_matches(data, venue)


def test_a_silently_dead_stream_is_subscribed_anew_after_the_silence_bound() -> None:
    venue = FakeVenue(steps=iter(lambda: 1, None))
    venue.silent_after = [5]
    data = run_for(venue, 70.0, MarketDataConfig(silence_resubscribe_s=60.0))
    assert data.silences == 1 and venue.subscriptions == 2 and venue.snapshots == 2
    assert_matches(data, venue)


def test_a_slow_but_live_stream_is_not_subscribed_anew() -> None:
    venue = FakeVenue(diff_interval_s=10.0)
    data = run_for(venue, 200.0, MarketDataConfig(silence_resubscribe_s=60.0))
    assert data.silences == 0 and venue.subscriptions == 1


def test_failed_snapshots_are_retried_with_backoff() -> None:
    venue = FakeVenue()
    venue.book_errors = [BotError(ErrorCode.NETWORK, "down", recoverable=True)] * 3
    data = run_for(venue, 2.0)
    assert venue.snapshots == 1
    assert_matches(data, venue)


def test_failures_in_a_row_are_bounded() -> None:
    venue = FakeVenue()
    venue.book_errors = [BotError(ErrorCode.NETWORK, "down", recoverable=True)] * 100
    with pytest.raises(BotError) as raised:
        run_for(venue, 60.0, MarketDataConfig(max_consecutive_failures=3, backoff_ms_initial=10))
    assert raised.value.code is ErrorCode.SEQUENCE_GAP


def test_a_restarted_run_gets_the_whole_failure_budget_again() -> None:
    """A supervisor restarts ``run()`` after it gave up (a long outage): the first gap after the venue is back must
    lead to a resync, not end the new run at once on the old run's count (chaos seed 920: the feed never came back,
    the bot sat HARD on stale data for the rest of the session)."""
    venue = FakeVenue(steps=iter(lambda: 1, None))
    venue.book_errors = [BotError(ErrorCode.NETWORK, "down", recoverable=True)] * 4
    config = MarketDataConfig(max_consecutive_failures=3, backoff_ms_initial=10)
    with SimRuntime() as rt:
        data = MarketData(venue, SYMBOL, config)  # type: ignore[arg-type]

        async def main() -> None:
            with pytest.raises(BotError):
                await data.run()  # 4 failures in a row > 3: gives up
            venue.drop = {venue.update_id + 1}  # the venue is back; the first diff after the snapshot is lost
            task = asyncio.ensure_future(data.run())
            await asyncio.sleep(2.0)
            assert not task.done(), task.result()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        rt.run(main())
    assert data.gaps == 1
    assert_matches(data, venue)


def test_a_non_recoverable_venue_error_propagates_at_once() -> None:
    venue = FakeVenue()
    venue.book_errors = [BotError(ErrorCode.BAD_SYMBOL, "no such symbol")]
    with pytest.raises(BotError) as raised:
        run_for(venue, 1.0)
    assert raised.value.code is ErrorCode.BAD_SYMBOL


def test_on_update_runs_after_every_applied_diff() -> None:
    venue = FakeVenue()
    calls: list[int] = []
    with SimRuntime() as rt:
        data = MarketData(venue, SYMBOL)  # type: ignore[arg-type]
        data.on_update(lambda: calls.append(data.book.last_update_id))

        async def main() -> None:
            task = asyncio.ensure_future(data.run())
            await asyncio.sleep(1.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        rt.run(main())
    assert calls == list(range(1001, 1011))


def test_volatility_is_unknown_before_two_samples() -> None:
    assert MarketData(FakeVenue(), SYMBOL).volatility_bps() is None  # type: ignore[arg-type]


def test_volatility_recovers_the_rate_of_a_random_walk() -> None:
    rng = random.Random(7)
    venue = FakeVenue(steps=iter(lambda: rng.choice((-1, 0, 1)), None))
    data = run_for(venue, 600.0)
    # each 100 ms the mid moves -1/0/+1 tick: variance 2/3 tick^2 per step, 10 steps per second
    expected_bps = 1e4 * math.sqrt(10 * 2 / 3) / 100_000
    estimate: Any = data.volatility_bps()
    assert estimate == pytest.approx(expected_bps, rel=0.15)


def test_data_age_counts_from_the_newest_diff() -> None:
    venue = FakeVenue()
    data = run_for(venue, 1.0)
    last_ms = data.book.last_event_ms
    assert last_ms is not None and data.data_age_ms(last_ms + 250) == 250
