"""KillSwitch against an in-memory venue: cancel all, re-cancel stragglers, verify, and give up on time."""

from __future__ import annotations

import asyncio

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, OrderStatus, OrderType, Side, VenueOrder, VenueOrderId
from bot.interfaces import Venue
from bot.risk.kill_switch import KillSwitch
from tests.fakes import FakeClock


def _order(symbol: str, cid: str) -> VenueOrder:
    return VenueOrder(symbol=symbol, order_id=VenueOrderId(hash(cid) % 10**6), client_order_id=ClientOrderId(cid),
                      side=Side.BUY, type=OrderType.LIMIT_MAKER, status=OrderStatus.NEW, price_ticks=100,
                      orig_qty_lots=1, executed_qty_lots=0, cum_quote_atoms=0, time_ms=0)


class FakeVenue:
    """Open orders in a dict. ``sticky``: cancels are acknowledged but the order stays until the Nth listing.
    ``ghosts``: listed once, but the cancel answers UNKNOWN_ORDER (already filled). ``immortal``: never dies.
    ``cancel_failures``: per order, how many cancels fail with a network error first."""

    name = "fake"

    def __init__(self, orders: list[VenueOrder]) -> None:
        self.orders = {o.client_order_id: o for o in orders}
        self.sticky_until_listing: dict[str, int] = {}
        self.ghosts: set[str] = set()
        self.immortal: set[str] = set()
        self.cancel_failures: dict[str, int] = {}
        self.listing_failures = 0
        self.listings = 0
        self.cancels: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        await asyncio.sleep(0)
        if self.listing_failures:
            self.listing_failures -= 1
            raise BotError(ErrorCode.NETWORK, "connect failed")
        self.listings += 1
        for cid, n in list(self.sticky_until_listing.items()):
            if self.listings >= n:
                self.orders.pop(ClientOrderId(cid), None)
                del self.sticky_until_listing[cid]
        listed = [o for o in self.orders.values() if symbol is None or o.symbol == symbol]
        for cid in self.ghosts:
            self.orders.pop(ClientOrderId(cid), None)  # filled right after being listed
        return listed

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        self.cancels.append(client_order_id)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0)
        self.in_flight -= 1
        if self.cancel_failures.get(client_order_id, 0) > 0:
            self.cancel_failures[client_order_id] -= 1
            raise BotError(ErrorCode.NETWORK, "connect failed")
        order = self.orders.get(client_order_id)
        if order is None:
            raise BotError(ErrorCode.UNKNOWN_ORDER, "Unknown order sent.")
        if client_order_id not in self.sticky_until_listing and client_order_id not in self.immortal:
            del self.orders[client_order_id]
        return order


def _switch(venue: FakeVenue, clock: FakeClock, timeout_s: float = 2.0, poll_s: float = 0.5) -> KillSwitch:
    async def sleep(dt: float) -> None:
        clock.t += dt
        await asyncio.sleep(0)

    v: Venue = venue  # type: ignore[assignment]  # implements only what the kill switch uses
    return KillSwitch(v, clock, verify_timeout_s=timeout_s, poll_interval_s=poll_s, sleep=sleep)


async def test_cancels_every_open_order_and_verifies() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a"), _order("BTCUSDT", "b"), _order("ETHUSDT", "c")])
    report = await _switch(venue, FakeClock()).trigger(["BTCUSDT", "ETHUSDT"], "drawdown")
    assert report.verified
    assert report.cancelled == 3
    assert report.remaining == []
    assert venue.orders == {}


async def test_cancels_are_sent_concurrently() -> None:
    venue = FakeVenue([_order("BTCUSDT", c) for c in "abcd"])
    await _switch(venue, FakeClock()).trigger(["BTCUSDT"], "test")
    assert venue.max_in_flight == 4


async def test_other_symbols_are_left_alone() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a"), _order("ETHUSDT", "b")])
    report = await _switch(venue, FakeClock()).trigger(["BTCUSDT"], "test")
    assert report.verified
    assert list(venue.orders) == ["b"]


async def test_order_that_survives_the_first_poll_is_recancelled_and_verified_on_the_second() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a"), _order("BTCUSDT", "sticky")])
    venue.sticky_until_listing["sticky"] = 3  # listing 1: initial, 2: first poll (still there), 3: gone
    clock = FakeClock()
    report = await _switch(venue, clock).trigger(["BTCUSDT"], "test")
    assert report.verified
    assert report.polls == 2
    assert venue.cancels.count("sticky") == 2
    assert report.elapsed_s == 1.0


async def test_unknown_order_answer_counts_as_already_gone() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a"), _order("BTCUSDT", "ghost")])
    venue.ghosts.add("ghost")
    report = await _switch(venue, FakeClock()).trigger(["BTCUSDT"], "test")
    assert report.verified
    assert (report.cancelled, report.already_gone, report.errors) == (1, 1, 0)


async def test_failed_cancel_is_retried_on_the_next_poll() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a")])
    venue.cancel_failures["a"] = 1
    report = await _switch(venue, FakeClock()).trigger(["BTCUSDT"], "test")
    assert report.verified
    assert report.errors == 1
    assert venue.cancels == ["a", "a"]


async def test_failed_listing_is_retried() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a")])
    venue.listing_failures = 1
    report = await _switch(venue, FakeClock()).trigger(["BTCUSDT"], "test")
    assert report.verified
    assert report.errors == 1


async def test_gives_up_at_the_timeout_and_reports_what_remains() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a"), _order("BTCUSDT", "immortal")])
    venue.immortal.add("immortal")
    clock = FakeClock()
    report = await _switch(venue, clock, timeout_s=2.0, poll_s=0.5).trigger(["BTCUSDT"], "test")
    assert not report.verified
    assert report.remaining is not None
    assert [o.client_order_id for o in report.remaining] == ["immortal"]
    assert report.elapsed_s == 2.0
    assert report.polls == 4


async def test_nothing_open_is_verified_after_one_poll() -> None:
    report = await _switch(FakeVenue([]), FakeClock()).trigger(["BTCUSDT"], "test")
    assert report.verified
    assert (report.cancelled, report.polls) == (0, 1)


async def test_remaining_is_unknown_not_empty_when_no_listing_succeeded() -> None:
    venue = FakeVenue([_order("BTCUSDT", "a")])
    venue.listing_failures = 10**6  # a partition for the whole timeout
    report = await _switch(venue, FakeClock(), timeout_s=2.0, poll_s=0.5).trigger(["BTCUSDT"], "test")
    assert not report.verified
    assert report.remaining is None  # unknown: never "nothing remains"
    assert report.errors >= 1
