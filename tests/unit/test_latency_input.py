"""The LATENCY guard's input: venue round trips of a symbol's order actions, not the waits the bot imposes on itself.

Chaos seed 880 (10 min): a replace cycle that waited out a 60 s Retry-After counted as a 60 s round trip, so a
recoverable HARD on LATENCY held 60 s past the ban's end and the bot did not quote within the liveness bound.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.core.types import NewOrder, OrderStatus, Side
from bot.execution.memory_store import MemoryStateStore
from exchange_sim.world import SimWorld
from tests.unit.test_order_manager import RTT_S, SYMBOL, FlakyVenue, make_om, timed_place, world

__all__ = ["world"]


class SlowVenue(FlakyVenue):
    """Places take ``delay_s`` longer on the venue side (a slow matching engine or a congested link)."""

    delay_s = 0.0

    async def place(self, order: NewOrder) -> Any:
        await asyncio.sleep(self.delay_s)
        return await super().place(order)


def test_a_retry_after_wait_is_not_a_round_trip(world: SimWorld) -> None:
    om, venue = make_om(world, MemoryStateStore())
    venue.faults["place"] = ["rate_limited"]  # a 429 with a 2 s Retry-After, then the re-send succeeds

    record, elapsed_s = timed_place(world, om)
    assert record.status is OrderStatus.NEW
    assert elapsed_s >= 2.0  # the bot waited out the Retry-After ...
    samples = om.round_trips_ms(SYMBOL, 0.0)
    assert len(samples) == 2  # ... and measured each send, not the wait between them
    assert max(samples) < 20 * RTT_S * 1000


def test_a_slow_venue_shows_in_the_round_trips(world: SimWorld) -> None:
    om, venue = make_om(world, MemoryStateStore())
    slow = SlowVenue(venue.inner)
    slow.delay_s = 3.0
    om._venue = slow  # the same manager over a venue that answers 3 s late

    world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert om.round_trips_ms(SYMBOL, 0.0) and min(om.round_trips_ms(SYMBOL, 0.0)) >= 3_000
    assert om.round_trips_ms("ETHUSDT", 0.0) == []  # per symbol
    late = world.runtime.loop.time() + 1.0
    assert om.round_trips_ms(SYMBOL, late) == []  # only those answered since the given time
