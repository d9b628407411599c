"""A killed instance (``OrderManager.abandon``) leaves nothing behind that sends: the trade-through checks it
scheduled or started are cancelled with it."""

from __future__ import annotations

import asyncio

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, Side, VenueOrder
from bot.execution.state import StateStore
from exchange_sim.world import SimWorld
from tests.unit.test_order_manager import make_om, world

__all__ = ["world"]  # the order manager's simulated venue fixture

SYMBOL = "BTCUSDT"


def test_abandon_cancels_the_trade_through_checks_due_and_waiting_out_a_retry_after(world: SimWorld) -> None:
    """Chaos seeds 531 and 7: a check's query, refused by the instance's own limiter, slept out the Retry-After in
    its retry loop, survived the kill and was sent after the next instance started, inside the Retry-After that
    one was told (and its 429 then blocked a dead limiter, not the live one)."""
    om, venue = make_om(world, StateStore(":memory:"), silent_fill_grace_s=1.0)
    queried: list[str] = []
    inner_query = venue.inner.query

    async def query(symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        queried.append(client_order_id)
        if len(queried) == 1:
            raise BotError(ErrorCode.RATE_LIMITED, "rate limited by the venue", retry_after_ms=5_000)
        return await inner_query(symbol, client_order_id)

    venue.query = query  # type: ignore[attr-defined]  # FlakyVenue forwards what it does not define

    async def main() -> None:
        waiting = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        due = await om.place(SYMBOL, Side.BUY, 1_000, 9_990)
        om.traded_through(waiting.client_order_id)
        await asyncio.sleep(1.5)  # its query was refused at 1.0 s; the retry waits until 6.0 s
        om.traded_through(due.client_order_id)  # its check is due at 2.5 s
        om.abandon()
        await asyncio.sleep(10.0)

    world.run(main())
    assert len(queried) == 1  # neither the retry nor the due check was sent after the kill
    assert om.stats.silent_fill_checks == 0
