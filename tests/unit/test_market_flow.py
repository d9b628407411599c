"""TradeFlow: signed, square-root size weights, exponential decay on event time, bounded and clock-free."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from bot.core.types import PublicTrade, SymbolInfo
from bot.market.flow import TradeFlow

# 1 tick * 1 lot = 1 quote unit, so a trade's notional is price_ticks * qty_lots
INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("1"),
                  step_size=Decimal("1"), min_notional=Decimal("5"))


def trade(*, buy: bool = True, price: int = 100, qty: int = 5, time_ms: int = 0) -> PublicTrade:
    return PublicTrade(symbol="BTCUSDT", trade_id=1, price_ticks=price, qty_lots=qty, buyer_is_maker=not buy,
                       time_ms=time_ms)


def flow(tau_s: float = 1.0, unit_quote: float = 500.0) -> TradeFlow:
    return TradeFlow(INFO, tau_s=tau_s, unit_quote=unit_quote)


def test_no_trades_is_zero_flow() -> None:
    assert flow().value(123_456) == 0.0


def test_a_trade_of_one_unit_weighs_one_with_the_taker_sign() -> None:
    buys, sells = flow(), flow()
    buys.on_trade(trade(buy=True))  # 100 * 5 = 500 quote = one unit
    sells.on_trade(trade(buy=False))
    assert buys.value(0) == pytest.approx(1.0)
    assert sells.value(0) == pytest.approx(-1.0)


def test_weight_grows_like_the_square_root_of_notional() -> None:
    f = flow()
    f.on_trade(trade(qty=20))  # four units
    assert f.value(0) == pytest.approx(2.0)


def test_flow_decays_exponentially_with_event_time() -> None:
    f = flow(tau_s=2.0)
    f.on_trade(trade(time_ms=1_000))
    assert f.value(3_000) == pytest.approx(math.exp(-1.0))


def test_opposite_trades_net_out() -> None:
    f = flow()
    f.on_trade(trade(buy=True, time_ms=0))
    f.on_trade(trade(buy=False, time_ms=0))
    assert f.value(0) == pytest.approx(0.0)


def test_an_out_of_order_trade_does_not_move_time_backwards() -> None:
    f = flow(tau_s=1.0)
    f.on_trade(trade(time_ms=1_000))
    f.on_trade(trade(time_ms=500))  # late: counted at full weight, time stays at 1 s
    assert f.value(1_000) == pytest.approx(2.0)
    assert f.value(2_000) == pytest.approx(2.0 * math.exp(-1.0))


def test_a_time_before_the_last_trade_reads_the_undecayed_flow() -> None:
    f = flow()
    f.on_trade(trade(time_ms=1_000))
    assert f.value(0) == pytest.approx(1.0)


def test_an_empty_trade_adds_nothing() -> None:
    f = flow()
    f.on_trade(trade(qty=0))
    assert f.value(0) == 0.0


def test_reset_forgets_every_trade() -> None:
    f = flow()
    f.on_trade(trade())
    f.reset()
    assert f.value(0) == 0.0


@pytest.mark.parametrize(("tau_s", "unit_quote"), [(0.0, 1.0), (1.0, 0.0), (math.inf, 1.0), (1.0, math.nan)])
def test_bad_parameters_are_rejected(tau_s: float, unit_quote: float) -> None:
    with pytest.raises(ValueError, match="tau_s and unit_quote"):
        TradeFlow(INFO, tau_s=tau_s, unit_quote=unit_quote)
