"""Cancels: by order id or client id, cancel-all, and cancel-replace in both modes."""

from __future__ import annotations

import pytest

from exchange_sim.engine.matching import CancelReplaceMode, MatchingEngine
from exchange_sim.engine.types import (
    Balance,
    ClientOrderId,
    EngineError,
    ErrorCode,
    Order,
    OrderId,
    OrderStatus,
    Side,
)
from tests.engine_support import START, SYM, A, B, limit, make_engine


def test_cancel_by_order_id_unlocks_and_reports_canceled(engine: MatchingEngine) -> None:
    order = engine.place(limit(A, Side.BUY, 10_000, 10)).order
    canceled = engine.cancel(A, SYM, order_id=order.order_id)
    assert canceled.status is OrderStatus.CANCELED
    assert engine.balance(A, "USDT") == Balance(START["USDT"], 0)
    assert engine.best_bid(SYM) is None


def test_cancel_by_client_order_id(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 10, client_order_id=ClientOrderId("q1")))
    assert engine.cancel(A, SYM, client_order_id=ClientOrderId("q1")).status is OrderStatus.CANCELED


def test_cancel_with_mismatched_id_and_client_id_is_rejected(engine: MatchingEngine) -> None:
    order = engine.place(limit(A, Side.SELL, 10_000, 10, client_order_id=ClientOrderId("q1"))).order
    with pytest.raises(EngineError) as err:
        engine.cancel(A, SYM, order_id=order.order_id, client_order_id=ClientOrderId("q2"))
    assert err.value.code is ErrorCode.CANCEL_REJECTED


def test_cancel_without_any_id_is_rejected_with_1102() -> None:
    with pytest.raises(EngineError) as err:
        make_engine().cancel(A, SYM)
    assert err.value.code is ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED


def test_cancel_of_a_partially_filled_order_keeps_its_fills(engine: MatchingEngine) -> None:
    order = engine.place(limit(A, Side.SELL, 10_000, 10)).order
    engine.place(limit(B, Side.BUY, 10_000, 4))
    canceled = engine.cancel(A, SYM, order_id=order.order_id)
    assert (canceled.status, canceled.executed_qty_lots) == (OrderStatus.CANCELED, 4)
    assert engine.balance(A, "BTC").locked_atoms == 0


def test_cancel_all_cancels_only_that_accounts_orders_on_the_symbol(engine: MatchingEngine) -> None:
    ids = [engine.place(limit(A, Side.BUY, 10_000 - i, 10)).order.order_id for i in range(3)]
    engine.place(limit(B, Side.BUY, 9_000, 10))
    canceled = engine.cancel_all(A, SYM)
    assert [o.order_id for o in canceled] == ids
    assert engine.open_orders(A) == []
    assert len(engine.open_orders(B, SYM)) == 1


def test_cancel_all_without_open_orders_returns_nothing() -> None:
    assert make_engine().cancel_all(A, SYM) == []


def test_cancel_replace_swaps_the_order(engine: MatchingEngine) -> None:
    old = engine.place(limit(A, Side.BUY, 10_000, 10)).order
    result = engine.cancel_replace(A, SYM, new=limit(A, Side.BUY, 10_001, 10), cancel_order_id=old.order_id)
    assert isinstance(result.cancel, Order) and result.cancel.status is OrderStatus.CANCELED
    assert not isinstance(result.new, EngineError) and result.new is not None
    assert engine.best_bid(SYM) == (10_001, 10)


def test_cancel_replace_may_reuse_the_canceled_client_order_id(engine: MatchingEngine) -> None:
    cid = ClientOrderId("quote-bid")
    engine.place(limit(A, Side.BUY, 10_000, 10, client_order_id=cid))
    new = limit(A, Side.BUY, 10_001, 10, client_order_id=cid)
    result = engine.cancel_replace(A, SYM, new=new, cancel_client_order_id=cid)
    assert result.new is not None and not isinstance(result.new, EngineError)
    assert result.new.order.client_order_id == cid


def test_stop_on_failure_skips_the_new_order_when_the_cancel_fails(engine: MatchingEngine) -> None:
    result = engine.cancel_replace(A, SYM, new=limit(A, Side.BUY, 10_001, 10), cancel_order_id=OrderId(99))
    assert isinstance(result.cancel, EngineError) and result.cancel.code is ErrorCode.CANCEL_REJECTED
    assert result.new is None
    assert engine.open_orders(A) == []


def test_allow_failure_places_the_new_order_even_when_the_cancel_fails(engine: MatchingEngine) -> None:
    result = engine.cancel_replace(
        A,
        SYM,
        new=limit(A, Side.BUY, 10_001, 10),
        mode=CancelReplaceMode.ALLOW_FAILURE,
        cancel_order_id=OrderId(99),
    )
    assert isinstance(result.cancel, EngineError)
    assert result.new is not None and not isinstance(result.new, EngineError)
    assert result.new.order.status is OrderStatus.NEW


def test_cancel_replace_reports_a_failed_new_order_after_a_good_cancel(engine: MatchingEngine) -> None:
    old = engine.place(limit(A, Side.BUY, 10_000, 10)).order
    result = engine.cancel_replace(A, SYM, new=limit(A, Side.BUY, 0, 10), cancel_order_id=old.order_id)
    assert isinstance(result.cancel, Order)
    assert isinstance(result.new, EngineError) and result.new.code is ErrorCode.FILTER_FAILURE
    assert engine.open_orders(A) == []
