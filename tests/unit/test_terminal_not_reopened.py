"""A request's unknown outcome never re-opens a record that a report has already ended (invariant 21).

Chaos seeds 8, 14 and 28 (session 9): a fault lost the answer to a place; the user stream booked the order
terminal meanwhile; when the place timed out the order manager wrote UNKNOWN over the terminal record and booked
it terminal a second time after its query. A terminal record is final: the failing request's handler leaves it.
"""

from __future__ import annotations

from typing import Any

from bot.core.errors import BotError, ErrorCode
from bot.core.types import NewOrder, OrderStatus, Side
from bot.execution.state import OrderRecord, StateStore
from exchange_sim.engine.types import ClientOrderId as SimClientOrderId
from exchange_sim.world import SimWorld
from tests.unit import test_order_manager as shared
from tests.unit.test_order_manager import BOT, SYMBOL, FlakyVenue, make_om

world = shared.world  # the order manager tests' quiet one-symbol world (a pytest fixture)


class EndedThenLost(FlakyVenue):
    """The venue executes the request, the order ends there and its report reaches the bot, then the request's
    own answer is lost (a timeout after processing)."""

    def __init__(self, inner: Any, world: SimWorld, booked: Any) -> None:
        super().__init__(inner)
        self.world = world
        self.booked = booked  # the order manager's handler of an execution report

    async def place(self, order: NewOrder) -> Any:
        await self.inner.place(order)
        await self._end_and_report(order.client_order_id)
        raise BotError(ErrorCode.UNKNOWN_OUTCOME, "timeout after processing")

    async def cancel_replace(self, symbol: str, cancel_client_order_id: Any, new: NewOrder) -> Any:
        await self.inner.cancel_replace(symbol, cancel_client_order_id, new)
        await self._end_and_report(new.client_order_id)
        raise BotError(ErrorCode.UNKNOWN_OUTCOME, "timeout after processing")

    async def _end_and_report(self, client_order_id: Any) -> None:
        self.world.engine.cancel(BOT, SYMBOL, client_order_id=SimClientOrderId(client_order_id))
        self.booked(await self.inner.query(SYMBOL, client_order_id))


def statuses_saved(om: Any) -> dict[str, list[OrderStatus]]:
    """Every status the order manager saves, per client id, in order."""
    seen: dict[str, list[OrderStatus]] = {}
    save = om._save

    def spy(record: OrderRecord) -> OrderRecord:
        seen.setdefault(record.client_order_id, []).append(record.status)
        return save(record)  # type: ignore[no-any-return]

    om._save = spy
    return seen


def never_left_terminal(history: list[OrderStatus]) -> bool:
    first = next(i for i, status in enumerate(history) if status.is_terminal)
    return all(status is history[first] for status in history[first:])


def test_a_lost_place_answer_does_not_reopen_an_order_its_report_ended(world: SimWorld) -> None:
    om, flaky = make_om(world, StateStore(":memory:"))
    om._venue = EndedThenLost(flaky.inner, world, om._apply_report)
    seen = statuses_saved(om)

    record = world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    assert record.status is OrderStatus.CANCELED
    assert never_left_terminal(seen[record.client_order_id]), seen[record.client_order_id]


def test_a_lost_cancel_replace_answer_does_not_reopen_the_new_leg_its_report_ended(world: SimWorld) -> None:
    om, flaky = make_om(world, StateStore(":memory:"))
    resting = world.run(om.place(SYMBOL, Side.BUY, 1_000, 10_000))
    om._venue = EndedThenLost(flaky.inner, world, om._apply_report)
    seen = statuses_saved(om)

    old, new = world.run(om.cancel_replace(resting.client_order_id, 10_005))
    assert new.status is OrderStatus.CANCELED
    assert never_left_terminal(seen[new.client_order_id]), seen[new.client_order_id]
    assert old.status is OrderStatus.CANCELED
