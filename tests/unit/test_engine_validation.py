"""Request rejects: parameters, filters, symbols, balances, duplicate client ids and unknown orders."""

from __future__ import annotations

import pytest

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    Balance,
    ClientOrderId,
    EngineError,
    ErrorCode,
    OrderId,
    OrderStatus,
    OrderType,
    PlaceRequest,
    Side,
)
from tests.engine_support import LOT, SPEC, START, SYM, A, B, K, limit, make_engine, market


def _code(engine: MatchingEngine, req: PlaceRequest) -> tuple[int, str]:
    with pytest.raises(EngineError) as err:
        engine.place(req)
    return int(err.value.code), err.value.msg


def test_unknown_symbol_is_rejected_with_1121(engine: MatchingEngine) -> None:
    req = PlaceRequest(
        account=A, symbol="NOPE", side=Side.BUY, type=OrderType.LIMIT, price_ticks=1, qty_lots=1
    )
    assert _code(engine, req) == (-1121, "Invalid symbol.")
    with pytest.raises(EngineError):
        engine.spec("NOPE")


def test_limit_without_price_is_rejected_with_1102() -> None:
    req = PlaceRequest(account=A, symbol=SYM, side=Side.BUY, type=OrderType.LIMIT, qty_lots=1)
    assert _code(make_engine(), req)[0] == -1102


def test_limit_without_quantity_is_rejected_with_1102() -> None:
    req = PlaceRequest(account=A, symbol=SYM, side=Side.BUY, type=OrderType.LIMIT, price_ticks=10_000)
    assert _code(make_engine(), req)[0] == -1102


def test_market_with_price_is_rejected_with_1106() -> None:
    req = PlaceRequest(account=A, symbol=SYM, side=Side.BUY, type=OrderType.MARKET, qty_lots=1, price_ticks=5)
    assert _code(make_engine(), req)[0] == -1106


def test_market_with_both_quantity_and_quote_is_rejected_with_1106() -> None:
    assert _code(make_engine(), market(A, Side.BUY, qty=1, quote=10**8))[0] == -1106


def test_market_with_neither_quantity_nor_quote_is_rejected_with_1102() -> None:
    assert _code(make_engine(), market(A, Side.BUY))[0] == -1102


def test_limit_with_quote_quantity_is_rejected_with_1106() -> None:
    assert _code(make_engine(), limit(A, Side.BUY, 10_000, 1, quote_qty_atoms=5))[0] == -1106


def test_price_outside_the_filter_is_rejected(engine: MatchingEngine) -> None:
    assert _code(engine, limit(A, Side.BUY, 0, 100)) == (-1013, "Filter failure: PRICE_FILTER")
    assert _code(engine, limit(A, Side.BUY, SPEC.max_price_ticks + 1, 1)) == (
        -1013,
        "Filter failure: PRICE_FILTER",
    )


def test_quantity_outside_the_lot_filter_is_rejected(engine: MatchingEngine) -> None:
    assert _code(engine, limit(A, Side.BUY, 10_000, 0)) == (-1013, "Filter failure: LOT_SIZE")
    assert _code(engine, market(A, Side.BUY, qty=SPEC.max_qty_lots + 1)) == (
        -1013,
        "Filter failure: LOT_SIZE",
    )


def test_limit_below_min_notional_is_rejected() -> None:
    # min notional 0.1 USDT = 10,000,000 atoms = 10,000 tick-lots
    assert _code(make_engine(), limit(A, Side.BUY, 9_999, 1)) == (-1013, "Filter failure: NOTIONAL")


def test_limit_at_min_notional_is_accepted() -> None:
    assert make_engine().place(limit(A, Side.BUY, 10_000, 1)).order.status is OrderStatus.NEW


def test_insufficient_quote_for_a_limit_buy_is_rejected_with_2010(engine: MatchingEngine) -> None:
    qty = START["USDT"] // (10_000 * K) + 1
    code, msg = _code(engine, limit(A, Side.BUY, 10_000, qty))
    assert (code, msg) == (-2010, "Account has insufficient balance for requested action.")
    assert engine.balance(A, "USDT") == Balance(START["USDT"], 0)


def test_insufficient_base_for_a_market_sell_is_rejected_with_2010() -> None:
    qty = START["BTC"] // LOT + 1
    assert _code(make_engine(), market(A, Side.SELL, qty=qty))[0] == -2010


def test_market_buy_by_quantity_checks_the_walked_cost(engine: MatchingEngine) -> None:
    engine.open_account(AccountId("poor"), {"USDT": 10_000 * 5 * K})
    engine.place(limit(A, Side.SELL, 10_000, 5))
    engine.place(limit(A, Side.SELL, 10_001, 5))
    assert _code(engine, market(AccountId("poor"), Side.BUY, qty=6))[0] == -2010
    assert engine.place(market(AccountId("poor"), Side.BUY, qty=5)).order.status is OrderStatus.FILLED


def test_rejected_orders_do_not_consume_order_ids(engine: MatchingEngine) -> None:
    with pytest.raises(EngineError):
        engine.place(limit(A, Side.BUY, 0, 1))
    assert engine.place(limit(A, Side.BUY, 10_000, 1)).order.order_id == 1


def test_duplicate_client_order_id_among_open_orders_is_rejected(engine: MatchingEngine) -> None:
    cid = ClientOrderId("mine-1")
    engine.place(limit(A, Side.BUY, 10_000, 1, client_order_id=cid))
    assert _code(engine, limit(A, Side.BUY, 10_001, 1, client_order_id=cid)) == (
        -2010,
        "Duplicate order sent.",
    )


def test_client_order_id_may_be_reused_once_the_order_is_closed(engine: MatchingEngine) -> None:
    cid = ClientOrderId("mine-1")
    first = engine.place(limit(A, Side.BUY, 10_000, 1, client_order_id=cid)).order
    engine.cancel(A, SYM, order_id=first.order_id)
    assert engine.place(limit(A, Side.BUY, 10_000, 1, client_order_id=cid)).order.order_id == 2


def test_same_client_order_id_on_another_account_is_fine(engine: MatchingEngine) -> None:
    cid = ClientOrderId("shared")
    engine.place(limit(A, Side.BUY, 10_000, 1, client_order_id=cid))
    assert engine.place(limit(B, Side.BUY, 10_000, 1, client_order_id=cid)).order.status is OrderStatus.NEW


def test_client_order_id_longer_than_36_chars_is_rejected() -> None:
    req = limit(A, Side.BUY, 10_000, 1, client_order_id=ClientOrderId("x" * 37))
    assert _code(make_engine(), req)[0] == -1100


def test_cancel_of_an_unknown_order_is_rejected_with_2011(engine: MatchingEngine) -> None:
    with pytest.raises(EngineError) as err:
        engine.cancel(A, SYM, order_id=OrderId(42))
    assert (err.value.code, err.value.msg) == (ErrorCode.CANCEL_REJECTED, "Unknown order sent.")


def test_cancel_of_a_filled_order_is_rejected_with_2011(engine: MatchingEngine) -> None:
    maker = engine.place(limit(A, Side.SELL, 10_000, 1)).order
    engine.place(limit(B, Side.BUY, 10_000, 1))
    with pytest.raises(EngineError) as err:
        engine.cancel(A, SYM, order_id=maker.order_id)
    assert err.value.code is ErrorCode.CANCEL_REJECTED


def test_cancel_of_another_accounts_order_is_rejected_with_2011(engine: MatchingEngine) -> None:
    order = engine.place(limit(A, Side.SELL, 10_000, 1)).order
    with pytest.raises(EngineError) as err:
        engine.cancel(B, SYM, order_id=order.order_id)
    assert err.value.code is ErrorCode.CANCEL_REJECTED


def test_query_of_an_unknown_order_is_rejected_with_2013(engine: MatchingEngine) -> None:
    with pytest.raises(EngineError) as err:
        engine.get_order(A, SYM, client_order_id=ClientOrderId("ghost"))
    assert (err.value.code, err.value.msg) == (ErrorCode.NO_SUCH_ORDER, "Order does not exist.")


def test_unknown_account_is_rejected() -> None:
    with pytest.raises(EngineError) as err:
        make_engine().place(limit(AccountId("nobody"), Side.BUY, 10_000, 1))
    assert err.value.code is ErrorCode.REJECTED_MBX_KEY
