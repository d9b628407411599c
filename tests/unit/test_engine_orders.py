"""Order types and matching: GTC/IOC/FOK limits, post-only, market by quantity and by quote, priority."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    Balance,
    ClientOrderId,
    EngineError,
    ErrorCode,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
    StpMode,
    TimeInForce,
)
from tests.engine_support import LOT, START, SYM, A, B, K, limit, market


def test_gtc_limit_without_a_match_rests_and_locks_its_notional(engine: MatchingEngine) -> None:
    result = engine.place(limit(A, Side.BUY, 10_000, 10))
    assert result.order.status is OrderStatus.NEW
    assert result.trades == ()
    assert engine.best_bid(SYM) == (10_000, 10)
    assert engine.balance(A, "USDT").locked_atoms == 10_000 * 10 * K


def test_limit_sell_locks_its_base_quantity(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 10))
    assert engine.balance(A, "BTC") == Balance(START["BTC"] - 10 * LOT, 10 * LOT)


def test_crossing_limit_fills_at_the_makers_price(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 10))
    result = engine.place(limit(B, Side.BUY, 10_050, 10))
    assert result.order.status is OrderStatus.FILLED
    assert [(t.price_ticks, t.qty_lots) for t in result.trades] == [(10_000, 10)]
    assert result.order.cum_quote_atoms == 10_000 * 10 * K
    assert engine.balance(B, "USDT").locked_atoms == 0  # price improvement unlocked


def test_partial_fill_rests_the_remainder_of_a_gtc_taker(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    result = engine.place(limit(B, Side.BUY, 10_000, 10))
    assert result.order.status is OrderStatus.PARTIALLY_FILLED
    assert result.order.executed_qty_lots == 4
    assert engine.best_bid(SYM) == (10_000, 6)
    assert engine.best_ask(SYM) is None
    assert engine.balance(B, "USDT").locked_atoms == 10_000 * 6 * K


def test_partially_filled_maker_keeps_its_place_with_the_rest(engine: MatchingEngine) -> None:
    maker = engine.place(limit(A, Side.SELL, 10_000, 10)).order
    engine.place(limit(B, Side.BUY, 10_000, 3))
    order = engine.get_order(A, SYM, order_id=maker.order_id)
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.remaining_lots == 7
    assert engine.best_ask(SYM) == (10_000, 7)


def test_taker_sweeps_levels_best_price_first(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_002, 5))
    engine.place(limit(A, Side.SELL, 10_000, 5))
    engine.place(limit(A, Side.SELL, 10_001, 5))
    result = engine.place(limit(B, Side.BUY, 10_002, 12))
    assert [(t.price_ticks, t.qty_lots) for t in result.trades] == [(10_000, 5), (10_001, 5), (10_002, 2)]


def test_orders_at_one_price_fill_oldest_first(engine: MatchingEngine) -> None:
    first = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    second = engine.place(limit(B, Side.SELL, 10_000, 5)).order
    result = engine.place(limit(B, Side.BUY, 10_000, 7, stp_mode=StpMode.NONE))
    assert [(t.maker_order_id, t.qty_lots) for t in result.trades] == [
        (first.order_id, 5),
        (second.order_id, 2),
    ]


def test_ioc_expires_the_unfilled_remainder(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    result = engine.place(limit(B, Side.BUY, 10_000, 10, time_in_force=TimeInForce.IOC))
    assert result.order.status is OrderStatus.EXPIRED
    assert result.order.executed_qty_lots == 4
    assert engine.best_bid(SYM) is None
    assert engine.balance(B, "USDT").locked_atoms == 0


def test_ioc_without_liquidity_expires_with_no_fill(engine: MatchingEngine) -> None:
    result = engine.place(limit(B, Side.SELL, 10_000, 10, time_in_force=TimeInForce.IOC))
    assert result.order.status is OrderStatus.EXPIRED
    assert engine.balance(B, "BTC") == Balance(START["BTC"], 0)


def test_fok_that_cannot_fill_fully_expires_without_any_fill(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    result = engine.place(limit(B, Side.BUY, 10_000, 10, time_in_force=TimeInForce.FOK))
    assert result.order.status is OrderStatus.EXPIRED
    assert result.trades == ()
    assert engine.best_ask(SYM) == (10_000, 4)
    assert engine.balance(B, "USDT") == Balance(START["USDT"], 0)


def test_fok_that_can_fill_fully_fills_across_levels(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    engine.place(limit(A, Side.SELL, 10_001, 6))
    result = engine.place(limit(B, Side.BUY, 10_001, 10, time_in_force=TimeInForce.FOK))
    assert result.order.status is OrderStatus.FILLED
    assert sum(t.qty_lots for t in result.trades) == 10


def test_limit_maker_that_would_take_is_rejected(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    req = PlaceRequest(
        account=B, symbol=SYM, side=Side.BUY, type=OrderType.LIMIT_MAKER, price_ticks=10_000, qty_lots=1_000
    )
    with pytest.raises(EngineError) as err:
        engine.place(req)
    assert err.value.code is ErrorCode.NEW_ORDER_REJECTED
    assert err.value.msg == "Order would immediately match and take."
    assert engine.open_orders(B) == []


def test_limit_maker_that_does_not_cross_rests(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    req = PlaceRequest(
        account=B, symbol=SYM, side=Side.BUY, type=OrderType.LIMIT_MAKER, price_ticks=9_999, qty_lots=1_000
    )
    assert engine.place(req).order.status is OrderStatus.NEW
    assert engine.best_bid(SYM) == (9_999, 1_000)


def test_market_by_quantity_fills_and_expires_what_the_book_cannot_give(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 4))
    engine.place(limit(A, Side.SELL, 10_005, 3))
    result = engine.place(market(B, Side.BUY, qty=10))
    assert result.order.status is OrderStatus.EXPIRED
    assert result.order.executed_qty_lots == 7
    assert result.order.cum_quote_atoms == (10_000 * 4 + 10_005 * 3) * K
    assert engine.balance(B, "USDT").locked_atoms == 0


def test_market_buy_by_quantity_fully_filled(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 10))
    result = engine.place(market(B, Side.BUY, qty=10))
    assert result.order.status is OrderStatus.FILLED


def test_market_buy_by_quote_spends_at_most_the_budget_in_whole_lots(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 100))
    budget = 10_000 * 7 * K + 5_000  # 7 lots and change
    result = engine.place(market(B, Side.BUY, quote=budget))
    assert result.order.status is OrderStatus.FILLED
    assert result.order.executed_qty_lots == result.order.orig_qty_lots == 7
    assert result.order.cum_quote_atoms == 10_000 * 7 * K
    assert engine.balance(B, "USDT").locked_atoms == 0


def test_market_buy_by_quote_expires_when_the_book_runs_out(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 3))
    result = engine.place(market(B, Side.BUY, quote=10_000 * 7 * K))
    assert result.order.status is OrderStatus.EXPIRED
    assert result.order.executed_qty_lots == 3


def test_market_sell_by_quote_receives_at_most_the_budget(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.BUY, 10_000, 5))
    engine.place(limit(A, Side.BUY, 9_000, 5))
    result = engine.place(market(B, Side.SELL, quote=10_000 * 5 * K + 9_000 * 2 * K + 1))
    assert [(t.price_ticks, t.qty_lots) for t in result.trades] == [(10_000, 5), (9_000, 2)]
    assert result.order.status is OrderStatus.FILLED
    assert engine.balance(B, "BTC").locked_atoms == 0


def test_market_order_on_an_empty_book_expires(engine: MatchingEngine) -> None:
    result = engine.place(market(B, Side.SELL, qty=5))
    assert result.order.status is OrderStatus.EXPIRED
    assert engine.balance(B, "BTC") == Balance(START["BTC"], 0)


def test_order_and_trade_ids_count_up_from_one(engine: MatchingEngine) -> None:
    first = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    second = engine.place(limit(B, Side.BUY, 10_000, 2)).order
    third = engine.place(limit(B, Side.BUY, 10_000, 2))
    assert (first.order_id, second.order_id, third.order.order_id) == (1, 2, 3)
    assert third.trades[0].trade_id == 2


def test_client_order_id_is_generated_when_absent(engine: MatchingEngine) -> None:
    order = engine.place(limit(A, Side.SELL, 10_000, 5)).order
    assert order.client_order_id == f"sim{order.order_id}"


def test_resting_orders_never_leave_the_book_crossed(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 5))
    engine.place(limit(B, Side.BUY, 10_010, 8))
    assert not engine.book(SYM).is_crossed()
    assert engine.depth(SYM, 5)[:2] == ([(10_010, 3)], [])
    engine.audit()


def test_order_snapshot_is_an_equal_independent_copy_of_every_field() -> None:
    values: dict[str, Any] = {
        "order_id": OrderId(7), "client_order_id": ClientOrderId("c7"), "account": AccountId("acct"),
        "symbol": "BTCUSDT", "side": Side.SELL, "type": OrderType.LIMIT, "time_in_force": TimeInForce.IOC,
        "price_ticks": 123, "orig_qty_lots": 9, "quote_order_qty_atoms": 5, "executed_qty_lots": 4,
        "cum_quote_atoms": 492, "status": OrderStatus.PARTIALLY_FILLED, "stp_mode": StpMode.EXPIRE_BOTH,
        "created_us": 11, "updated_us": 12,
    }
    assert set(values) == {f.name for f in dataclasses.fields(Order)}  # every field set to a non-default value
    order = Order(**values)
    copy = order.snapshot()
    assert copy == order and copy is not order and type(copy) is Order
    copy.executed_qty_lots = 5
    assert order.executed_qty_lots == 4


def test_an_accepted_order_is_what_the_keyword_constructor_makes_of_the_request() -> None:
    req = PlaceRequest(account=AccountId("acct"), symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT,
                       qty_lots=3, price_ticks=100, time_in_force=TimeInForce.FOK, stp_mode=StpMode.NONE)
    assert Order.accepted(OrderId(5), ClientOrderId("c5"), req, 42) == Order(
        order_id=OrderId(5), client_order_id=ClientOrderId("c5"), account=req.account, symbol=req.symbol,
        side=req.side, type=req.type, time_in_force=req.time_in_force, price_ticks=100, orig_qty_lots=3,
        stp_mode=StpMode.NONE, created_us=42, updated_us=42,
    )
    by_quote = PlaceRequest(account=AccountId("acct"), symbol="BTCUSDT", side=Side.BUY, type=OrderType.MARKET,
                            quote_qty_atoms=10**8)
    order = Order.accepted(OrderId(6), ClientOrderId("c6"), by_quote, 1)
    assert order.orig_qty_lots == 0 and order.quote_order_qty_atoms == 10**8 and order.status is OrderStatus.NEW
