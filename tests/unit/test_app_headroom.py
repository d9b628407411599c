"""What the pre-trade headroom check counts as resting on an order's side (``bot.app.headroom_resting_lots``).

Chaos seed 61 at 5 minutes: six bids of a short bot, placed into a 503 outage, were LOST (the venue answered "no
such order" to every query); counted as resting they pushed the worst case past the hard limit, and no reducing
bid could be placed for over 30 s while the position sat past the SOFT bound.
"""

from __future__ import annotations

from bot.app import headroom_resting_lots
from bot.core.types import ClientOrderId, NewOrder, OrderStatus, OrderType, Side
from bot.execution.state import OrderRecord
from bot.risk.pretrade import check_headroom

SYMBOL = "BTCUSDT"
HARD_LIMIT_LOTS = 500


def record(n: int, side: Side, status: OrderStatus, qty_lots: int = 100, filled_lots: int = 0) -> OrderRecord:
    return OrderRecord(client_order_id=ClientOrderId(f"mmb-x-{n}"), symbol=SYMBOL, side=side,
                       type=OrderType.LIMIT_MAKER, price_ticks=100, qty_lots=qty_lots, status=status,
                       filled_lots=filled_lots, created_ms=0, updated_ms=0)


def order(side: Side, qty_lots: int = 100) -> NewOrder:
    return NewOrder(symbol=SYMBOL, side=side, type=OrderType.LIMIT_MAKER, qty_lots=qty_lots, price_ticks=100,
                    client_order_id=ClientOrderId("mmb-x-99"))


LOST_BIDS = [record(n, Side.BUY, OrderStatus.LOST) for n in range(6)]


def test_lost_orders_on_the_reducing_side_do_not_count_so_a_short_bot_may_bid() -> None:
    bid = order(Side.BUY)
    resting = headroom_resting_lots(bid, LOST_BIDS, exposure_lots=-100)
    assert resting == 0
    check_headroom(bid, -100, resting, HARD_LIMIT_LOTS)  # passes: the bid reduces a short position


def test_lost_orders_still_count_on_the_side_that_adds_exposure() -> None:
    bid = order(Side.BUY)
    assert headroom_resting_lots(bid, LOST_BIDS, exposure_lots=100) == 600  # long: more bids add exposure
    assert headroom_resting_lots(bid, LOST_BIDS, exposure_lots=0) == 600  # flat: nothing reduces


def test_other_doubtful_orders_and_partial_fills_count_pending_cancels_and_the_order_itself_do_not() -> None:
    bid = order(Side.BUY)
    orders = [record(1, Side.BUY, OrderStatus.UNKNOWN), record(2, Side.BUY, OrderStatus.PENDING_NEW),
              record(3, Side.BUY, OrderStatus.PARTIALLY_FILLED, filled_lots=40),
              record(4, Side.BUY, OrderStatus.PENDING_CANCEL), record(5, Side.SELL, OrderStatus.NEW),
              record(99, Side.BUY, OrderStatus.PENDING_NEW)]
    assert headroom_resting_lots(bid, orders, exposure_lots=-100) == 100 + 100 + 60
