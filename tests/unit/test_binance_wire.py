"""Binance JSON <-> bot types: decimals to ticks/lots/atoms and back, client ids, statuses, malformed messages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.connectors.binance import wire
from bot.core.errors import BotError
from bot.core.types import ClientOrderId, NewOrder, OrderStatus, OrderType, Side, TimeInForce
from tests.unit.binance_fixtures import EXCHANGE_INFO, SYMBOL_ENTRY, order_json

INFO = wire.symbol_info(SYMBOL_ENTRY)


def test_symbol_info_reads_the_filters() -> None:
    assert (INFO.tick_size, INFO.step_size, INFO.min_notional) == (Decimal("0.01"), Decimal("0.00001"), Decimal(5))
    assert (INFO.min_qty_lots, INFO.max_qty_lots, INFO.base_asset) == (1, 900_000_000, "BTC")


def test_rate_limits_pick_the_minute_weight_and_ten_second_orders() -> None:
    assert wire.rate_limits(EXCHANGE_INFO) == (6000, 100)


def test_dec_never_writes_exponents() -> None:
    assert wire.plain(wire.dec("10.00000000")) == "10"
    assert wire.plain(INFO.price(6_000_001)) == "60000.01"


@pytest.mark.parametrize(("order_type", "expected"), [
    (OrderType.LIMIT, [("timeInForce", "IOC"), ("quantity", "0.01000"), ("price", "60000.01")]),
    (OrderType.LIMIT_MAKER, [("quantity", "0.01000"), ("price", "60000.01")]),
    (OrderType.MARKET, [("quantity", "0.01000")]),
])
def test_order_params_per_type(order_type: OrderType, expected: list[tuple[str, str]]) -> None:
    order = NewOrder(symbol="BTCUSDT", side=Side.SELL, type=order_type, qty_lots=1000, price_ticks=6_000_001,
                     time_in_force=TimeInForce.IOC, client_order_id=ClientOrderId("mm-3"))
    params = wire.order_params(INFO, order)
    assert params[:3] == [("symbol", "BTCUSDT"), ("side", "SELL"), ("type", order_type.value)]
    assert params[3:-2] == expected
    assert params[-2:] == [("newClientOrderId", "mm-3"), ("newOrderRespType", "RESULT")]


def test_venue_order_uses_the_orig_client_id_of_a_cancel_and_maps_stp_expiry() -> None:
    order = wire.venue_order(INFO, order_json("cancel-id", status="EXPIRED_IN_MATCH", origClientOrderId="mm-1",
                                              executedQty="0.00400000", cummulativeQuoteQty="240.00"))
    assert (order.client_order_id, order.status, order.executed_qty_lots) == ("mm-1", OrderStatus.EXPIRED, 400)
    assert order.cum_quote_atoms == 240 * 10**8


def test_market_order_has_no_price() -> None:
    assert wire.venue_order(INFO, order_json(price="0.00000000", type="MARKET")).price_ticks is None


def test_execution_report_of_a_cancel_carries_the_original_client_id_and_no_fill() -> None:
    event = {"e": "executionReport", "E": 5, "s": "BTCUSDT", "c": "cancel-9", "C": "mm-1", "S": "SELL",
             "o": "LIMIT_MAKER", "q": "0.01", "p": "60000.00", "x": "CANCELED", "X": "CANCELED", "i": 7,
             "l": "0", "z": "0", "L": "0", "Z": "0", "T": 6, "t": -1, "m": False}
    update = wire.execution_report(INFO, event)
    assert (update.order.client_order_id, update.order.status, update.fill) == ("mm-1", OrderStatus.CANCELED, None)


@pytest.mark.parametrize("bad", [{"orderId": 1}, {**order_json(), "type": "STOP_LOSS"},
                                 {**order_json(), "origQty": "lots"}])
def test_malformed_orders_raise_wire_errors(bad: dict[str, object]) -> None:
    with pytest.raises(wire.WireError) as caught:
        wire.venue_order(INFO, bad)
    assert isinstance(caught.value, BotError) and not caught.value.recoverable


def test_account_position_gives_one_update_per_asset() -> None:
    updates = wire.account_position({"e": "outboundAccountPosition", "E": 1, "u": 2,
                                     "B": [{"a": "BTC", "f": "1", "l": "0.5"}]})
    assert [(u.asset, u.balance.free_atoms, u.balance.locked_atoms, u.time_ms) for u in updates] == [
        ("BTC", 10**8, 5 * 10**7, 2)]
