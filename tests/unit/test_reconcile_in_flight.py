"""The reconcile and the orders a request of ours is in flight about (chaos seed 133 of the 1,000-seed gate).

A reconcile's listing that lacks an order the venue acknowledged means the order has ended on the venue, even
while a cancel-replace of it is on the wire; only an order whose placement is still on the wire may be missing
because it has not arrived yet.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.core.errors import BotError, ErrorCode
from bot.core.types import NewOrder, OrderStatus, Side
from bot.execution.state import StateStore
from exchange_sim.engine.types import ClientOrderId as SimClientOrderId
from exchange_sim.world import SimWorld
from tests.unit import test_order_manager as shared
from tests.unit.test_order_manager import BOT, SYMBOL, FlakyVenue, make_om

world = shared.world  # the order manager tests' quiet one-symbol world (a pytest fixture)

REPLY_DELAY_S = 0.2  # the refused cancel-replace answers this long after it was sent: the reconcile runs meanwhile


class SlowRefusal(FlakyVenue):
    """A venue whose next cancel-replace is refused (-2010, as the chaos ``reject`` fault answers) late."""

    async def cancel_replace(self, symbol: str, cancel_client_order_id: Any, new: NewOrder) -> Any:
        await asyncio.sleep(REPLY_DELAY_S)
        raise BotError(ErrorCode.INSUFFICIENT_BALANCE, "Account has insufficient balance for requested action.")


def test_an_acknowledged_order_the_listing_lacks_is_resolved_while_its_cancel_replace_is_in_flight(
    world: SimWorld,
) -> None:
    om, flaky = make_om(world, StateStore(":memory:"))
    om._venue = SlowRefusal(flaky.inner)  # the same connector, a slow refusal of the next cancel-replace

    async def main() -> tuple[OrderStatus, OrderStatus]:
        record = await om.place(SYMBOL, Side.BUY, 1_000, 10_000)
        # it ends on the venue and no report of that reaches the bot
        world.engine.cancel(BOT, SYMBOL, client_order_id=SimClientOrderId(record.client_order_id))
        move = asyncio.ensure_future(om.cancel_replace(record.client_order_id, 10_005))
        await asyncio.sleep(0.001)  # the cancel-replace is on the wire
        await om.reconcile()
        after_reconcile = om._get(record.client_order_id).status
        try:
            await move
        except BotError as error:
            assert error.code is ErrorCode.INSUFFICIENT_BALANCE
        return after_reconcile, om._get(record.client_order_id).status

    after_reconcile, final = world.run(main())
    assert after_reconcile is OrderStatus.CANCELED  # queried: the listing lacked it, the venue ended it
    assert final is OrderStatus.CANCELED  # the refused replace does not bring it back as resting
    assert om.open_orders(SYMBOL) == []


class SlowPlacement(FlakyVenue):
    """Placements reach the venue ``REPLY_DELAY_S`` late; the order queries sent are counted."""

    queries = 0

    async def place(self, order: NewOrder) -> Any:
        await asyncio.sleep(REPLY_DELAY_S)
        return await self.inner.place(order)

    async def query(self, symbol: str, client_order_id: Any) -> Any:
        self.queries += 1
        return await self.inner.query(symbol, client_order_id)


def test_an_order_whose_placement_is_on_the_wire_is_not_queried_by_a_reconcile(world: SimWorld) -> None:
    om, flaky = make_om(world, StateStore(":memory:"))
    venue = SlowPlacement(flaky.inner)
    om._venue = venue

    async def main() -> OrderStatus:
        place = asyncio.ensure_future(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
        await asyncio.sleep(0.001)  # sent, not on the venue before the listing: the listing cannot show it
        await om.reconcile()
        return (await place).status

    assert world.run(main()) is OrderStatus.NEW
    assert venue.queries == 0  # not in doubt: its answer was on its way
    assert [r.status for r in om.open_orders(SYMBOL)] == [OrderStatus.NEW]


class AckDuringReconcile(FlakyVenue):
    """Placements reach the venue at once and are filled there; their answer comes back ``REPLY_DELAY_S`` late.
    Queries take twice as long, so an acknowledgement lands while the reconcile resolves another order."""

    queries = 0
    slow_placements = False

    def __init__(self, inner: Any, world: SimWorld) -> None:
        super().__init__(inner)
        self.world = world

    async def place(self, order: NewOrder) -> Any:
        report = await self.inner.place(order)
        if self.slow_placements:
            await shared.take(self.world, shared.SimSide.SELL, order.qty_lots)  # fills it; no report reaches the bot
            await asyncio.sleep(REPLY_DELAY_S)
        return report

    async def query(self, symbol: str, client_order_id: Any) -> Any:
        self.queries += 1
        await asyncio.sleep(2 * REPLY_DELAY_S)
        return await self.inner.query(symbol, client_order_id)


def test_an_order_acknowledged_during_the_reconcile_that_the_listing_lacks_is_queried(world: SimWorld) -> None:
    om, flaky = make_om(world, StateStore(":memory:"))
    venue = AckDuringReconcile(flaky.inner, world)
    om._venue = venue

    async def main() -> tuple[OrderStatus, OrderStatus]:
        ended = await om.place(SYMBOL, Side.SELL, 1_000, 10_100)  # acknowledged, then ended with no report
        world.engine.cancel(BOT, SYMBOL, client_order_id=SimClientOrderId(ended.client_order_id))
        venue.slow_placements = True
        place = asyncio.ensure_future(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
        await asyncio.sleep(0.001)  # on the venue and filled before the listing; its answer still on the wire
        await om.reconcile()  # resolving the ended order takes long enough for the answer to land
        await place
        return om._get(ended.client_order_id).status, om._get(place.result().client_order_id).status

    assert world.run(main()) == (OrderStatus.CANCELED, OrderStatus.FILLED)  # neither believed resting
    assert venue.queries == 2
    assert om.open_orders(SYMBOL) == []
