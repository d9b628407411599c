"""QueueTracker: trades consume the queue ahead, cancels split proportionally, lookups are O(1)."""

from __future__ import annotations

import timeit

import pytest

from bot.core.types import ClientOrderId, PublicTrade, Side
from bot.market.queue import QueueTracker

CID = ClientOrderId("bid-1")


def trade(price: int, qty: int, *, buyer_is_maker: bool = True) -> PublicTrade:
    return PublicTrade(symbol="BTCUSDT", trade_id=1, price_ticks=price, qty_lots=qty, buyer_is_maker=buyer_is_maker,
                       time_ms=0)


def tracker_with_bid(level_before: int = 100, qty: int = 10) -> QueueTracker:
    tracker = QueueTracker()
    tracker.add(CID, Side.BUY, 500, qty, level_before)
    return tracker


def test_new_order_queues_behind_the_displayed_level() -> None:
    assert tracker_with_bid(100).ahead(CID) == 100


def test_unknown_order_has_no_estimate() -> None:
    assert QueueTracker().ahead(CID) is None


def test_trade_at_our_price_reduces_ahead() -> None:
    tracker = tracker_with_bid(100)
    tracker.on_trade(trade(500, 30))
    assert tracker.ahead(CID) == 70


def test_trade_on_the_other_side_does_not_move_our_queue() -> None:
    tracker = tracker_with_bid(100)
    tracker.on_trade(trade(500, 30, buyer_is_maker=False))
    assert tracker.ahead(CID) == 100


def test_trade_through_our_price_empties_the_queue_ahead() -> None:
    tracker = tracker_with_bid(100)
    tracker.on_trade(trade(499, 1))
    assert tracker.ahead(CID) == 0


def test_traded_qty_is_not_counted_again_as_cancels() -> None:
    tracker = tracker_with_bid(100, qty=10)  # level 110 with us
    tracker.on_trade(trade(500, 30))
    tracker.on_level(Side.BUY, 500, 80)
    assert tracker.ahead(CID) == 70


def test_cancels_are_split_in_proportion_to_ahead_and_behind() -> None:
    tracker = tracker_with_bid(60, qty=10)
    tracker.on_level(Side.BUY, 500, 110)  # 40 join behind us: ahead 60, us 10, behind 40
    tracker.on_level(Side.BUY, 500, 60)  # 50 cancelled: 50 * 60 / 100 = 30 of them ahead
    assert tracker.ahead(CID) == 30


def test_level_increase_leaves_ahead_unchanged() -> None:
    tracker = tracker_with_bid(100)
    tracker.on_level(Side.BUY, 500, 500)
    assert tracker.ahead(CID) == 100


def test_ahead_never_exceeds_what_remains_besides_us() -> None:
    tracker = tracker_with_bid(100, qty=10)
    tracker.on_level(Side.BUY, 500, 10)  # only we remain
    assert tracker.ahead(CID) == 0


def test_fill_shrinks_and_full_fill_forgets() -> None:
    tracker = tracker_with_bid(100, qty=10)
    tracker.on_fill(CID, 4)
    assert tracker.ahead(CID) == 0
    tracker.on_fill(CID, 6)
    assert CID not in tracker


def test_remove_forgets_and_unknown_remove_is_ignored() -> None:
    tracker = tracker_with_bid()
    tracker.remove(CID)
    tracker.remove(CID)
    assert tracker.ahead(CID) is None
    assert len(tracker) == 0


def test_duplicate_add_is_a_bug() -> None:
    tracker = tracker_with_bid()
    with pytest.raises(ValueError, match="already"):
        tracker.add(CID, Side.BUY, 500, 1, 0)


def test_tracked_orders_are_bounded() -> None:
    tracker = QueueTracker(max_orders=2)
    tracker.add(ClientOrderId("a"), Side.BUY, 1, 1, 0)
    tracker.add(ClientOrderId("b"), Side.BUY, 2, 1, 0)
    with pytest.raises(ValueError, match="full"):
        tracker.add(ClientOrderId("c"), Side.BUY, 3, 1, 0)


def _tracker(n: int) -> QueueTracker:
    tracker = QueueTracker(max_orders=n)
    for i in range(n):
        tracker.add(ClientOrderId(f"o{i}"), Side.SELL, 1000 + i, 1, i)
    return tracker


def test_lookup_and_level_update_cost_do_not_grow_with_tracked_orders() -> None:
    """O(1): 100x more tracked orders must not make a lookup or an unrelated level update 100x slower."""
    small, large = _tracker(100), _tracker(10_000)
    cid = ClientOrderId("o50")

    def cost(tracker: QueueTracker) -> float:
        def work() -> None:
            tracker.ahead(cid)
            tracker.on_level(Side.SELL, 1050, 5)
            tracker.on_level(Side.BUY, 7, 5)
        return min(timeit.repeat(work, number=2000, repeat=5))

    assert cost(large) < 10 * cost(small)
    assert large.ahead(cid) == 4  # level 1050 shrank to 5 with our 1 lot in it
