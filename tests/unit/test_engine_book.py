"""OrderBook: levels, FIFO within a level, depth, removal and crossing checks."""

from __future__ import annotations

import pytest

from exchange_sim.engine.book import BookError, OrderBook
from exchange_sim.engine.types import (
    AccountId,
    ClientOrderId,
    Order,
    OrderId,
    OrderType,
    Side,
    TimeInForce,
)


def _order(order_id: int, side: Side, price: int, qty: int) -> Order:
    return Order(
        order_id=OrderId(order_id),
        client_order_id=ClientOrderId(f"c{order_id}"),
        account=AccountId("a"),
        symbol="X",
        side=side,
        type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price_ticks=price,
        orig_qty_lots=qty,
    )


def test_best_bid_and_ask_report_the_level_totals() -> None:
    book = OrderBook("X")
    book.add(_order(1, Side.BUY, 99, 5))
    book.add(_order(2, Side.BUY, 99, 7))
    book.add(_order(3, Side.BUY, 98, 1))
    book.add(_order(4, Side.SELL, 101, 2))
    assert book.best_bid() == (99, 12)
    assert book.best_ask() == (101, 2)
    assert book.level_qty(Side.BUY, 98) == 1
    assert book.level_qty(Side.SELL, 100) == 0


def test_depth_lists_levels_best_first_up_to_the_limit() -> None:
    book = OrderBook("X")
    for i, price in enumerate((97, 99, 98)):
        book.add(_order(i + 1, Side.BUY, price, 1))
    for i, price in enumerate((103, 101, 102)):
        book.add(_order(i + 10, Side.SELL, price, 2))
    assert book.depth(2) == ([(99, 1), (98, 1)], [(101, 2), (102, 2)])


def test_orders_at_a_level_keep_arrival_order() -> None:
    book = OrderBook("X")
    for i in (5, 3, 9):
        book.add(_order(i, Side.SELL, 100, 1))
    assert [o.order_id for o in book.orders_at(Side.SELL, 100)] == [5, 3, 9]
    level = book.best_level(Side.SELL)
    assert level is not None and level.first().order_id == 5


def test_remove_drops_empty_levels_and_bumps_update_id() -> None:
    book = OrderBook("X")
    order = _order(1, Side.BUY, 99, 5)
    assert book.add(order) == 5
    assert book.remove(order) == 0
    assert book.best_bid() is None
    assert book.update_id == 2
    assert len(book) == 0


def test_reduce_removes_a_fully_executed_order() -> None:
    book = OrderBook("X")
    order = _order(1, Side.SELL, 100, 5)
    other = _order(2, Side.SELL, 100, 4)
    book.add(order)
    book.add(other)
    order.executed_qty_lots = 5
    assert book.reduce(order, 5) == 4
    assert 1 not in book
    assert book.best_ask() == (100, 4)


def test_adding_the_same_order_twice_is_an_error() -> None:
    book = OrderBook("X")
    order = _order(1, Side.BUY, 99, 5)
    book.add(order)
    with pytest.raises(BookError):
        book.add(order)


def test_removing_an_order_that_is_not_resting_is_an_error() -> None:
    with pytest.raises(BookError):
        OrderBook("X").remove(_order(1, Side.BUY, 99, 5))


def test_is_crossed_when_best_bid_reaches_best_ask() -> None:
    book = OrderBook("X")
    book.add(_order(1, Side.BUY, 100, 1))
    book.add(_order(2, Side.SELL, 101, 1))
    assert not book.is_crossed()
    book.add(_order(3, Side.BUY, 101, 1))
    assert book.is_crossed()
