"""PreTradeCheck: guard level, price band, notional, balance and rate, each refusing with a named reason."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, NewOrder, OrderType, Side, SymbolInfo
from bot.risk.config import PreTradeConfig
from bot.risk.guards import GuardLevel
from bot.risk.pretrade import PreTradeCheck
from tests.fakes import FakeClock

INFO = SymbolInfo(
    symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
    tick_size=Decimal("0.01"), step_size=Decimal("0.001"), min_notional=Decimal("5"),
)
MID = 6_000_000  # 60,000.00 USDT
CONFIG = PreTradeConfig(price_band_bps=100, max_order_notional_quote=Decimal("1200"), max_orders_per_s=2, burst=3)
RICH = 10**15


def _order(side: Side = Side.BUY, qty_lots: int = 10, price_ticks: int | None = MID,
           type_: OrderType = OrderType.LIMIT_MAKER) -> NewOrder:
    return NewOrder(symbol="BTCUSDT", side=side, type=type_, qty_lots=qty_lots, price_ticks=price_ticks,
                    client_order_id=ClientOrderId("c1"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pretrade(clock: FakeClock) -> PreTradeCheck:
    return PreTradeCheck(CONFIG, clock)


def _check(pretrade: PreTradeCheck, order: NewOrder, *, mid: int | None = MID, quote: int = RICH, base: int = RICH,
           level: GuardLevel = GuardLevel.OK, inventory_lots: int = 0) -> None:
    pretrade.check(order, INFO, reference_mid_ticks=mid, free_quote_atoms=quote, free_base_atoms=base, level=level,
                   inventory_lots=inventory_lots)


def _rejected(pretrade: PreTradeCheck, order: NewOrder, **kwargs: object) -> BotError:
    with pytest.raises(BotError) as info:
        _check(pretrade, order, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_order_within_every_limit_passes(pretrade: PreTradeCheck) -> None:
    _check(pretrade, _order())


def test_hard_level_halts_every_order(pretrade: PreTradeCheck) -> None:
    err = _rejected(pretrade, _order(Side.SELL), level=GuardLevel.HARD, inventory_lots=100)
    assert err.code is ErrorCode.HALTED


def test_soft_level_allows_a_sell_that_reduces_a_long(pretrade: PreTradeCheck) -> None:
    _check(pretrade, _order(Side.SELL, qty_lots=10), level=GuardLevel.SOFT, inventory_lots=10)


def test_soft_level_allows_a_buy_that_reduces_a_short(pretrade: PreTradeCheck) -> None:
    _check(pretrade, _order(Side.BUY, qty_lots=5), level=GuardLevel.SOFT, inventory_lots=-10)


def test_soft_level_refuses_a_buy_when_long(pretrade: PreTradeCheck) -> None:
    err = _rejected(pretrade, _order(Side.BUY), level=GuardLevel.SOFT, inventory_lots=10)
    assert err.code is ErrorCode.RISK_REJECTED
    assert err.message.startswith("reduce_only:")


def test_soft_level_refuses_a_sell_that_would_flip_a_long_short(pretrade: PreTradeCheck) -> None:
    err = _rejected(pretrade, _order(Side.SELL, qty_lots=11), level=GuardLevel.SOFT, inventory_lots=10)
    assert "reduce_only" in err.message and "11 lots" in err.message


def test_soft_level_refuses_everything_when_flat(pretrade: PreTradeCheck) -> None:
    for side in Side:
        err = _rejected(pretrade, _order(side), level=GuardLevel.SOFT, inventory_lots=0)
        assert err.code is ErrorCode.RISK_REJECTED


def test_price_exactly_at_the_band_edge_passes(pretrade: PreTradeCheck) -> None:
    _check(pretrade, _order(price_ticks=MID - MID // 100))  # 100 bps below


def test_price_beyond_the_band_is_rejected(pretrade: PreTradeCheck) -> None:
    err = _rejected(pretrade, _order(Side.SELL, price_ticks=MID + MID // 100 + 1))
    assert err.code is ErrorCode.RISK_REJECTED
    assert err.message.startswith("price_band:") and "100 bps" in err.message


def test_missing_reference_mid_is_rejected(pretrade: PreTradeCheck) -> None:
    assert _rejected(pretrade, _order(), mid=None).message.startswith("price_band:")


def test_notional_at_the_max_passes(pretrade: PreTradeCheck) -> None:
    _check(pretrade, _order(qty_lots=20))  # 0.02 BTC * 60,000 = 1,200 USDT


def test_notional_above_the_max_is_rejected(pretrade: PreTradeCheck) -> None:
    err = _rejected(pretrade, _order(qty_lots=21))
    assert err.message.startswith("max_notional:") and "1260" in err.message and "1200" in err.message


def test_market_order_is_valued_at_the_reference_mid(pretrade: PreTradeCheck) -> None:
    order = _order(qty_lots=21, price_ticks=None, type_=OrderType.MARKET)
    assert _rejected(pretrade, order).message.startswith("max_notional:")


def test_buy_without_enough_free_quote_is_rejected(pretrade: PreTradeCheck) -> None:
    notional_atoms = INFO.notional_atoms(MID, 10)
    _check(pretrade, _order(), quote=notional_atoms)
    err = _rejected(pretrade, _order(), quote=notional_atoms - 1)
    assert err.message.startswith("balance:") and str(notional_atoms) in err.message


def test_sell_without_enough_free_base_is_rejected(pretrade: PreTradeCheck) -> None:
    needed = 10 * INFO.base_atoms_per_lot
    _check(pretrade, _order(Side.SELL), base=needed)
    err = _rejected(pretrade, _order(Side.SELL), base=needed - 1)
    assert err.message.startswith("balance:") and "BTC" in err.message


def test_orders_beyond_the_burst_are_rate_limited(pretrade: PreTradeCheck) -> None:
    for _ in range(3):
        _check(pretrade, _order())
    err = _rejected(pretrade, _order())
    assert err.message.startswith("order_rate:")
    assert err.recoverable
    assert err.retry_after_ms == 500


def test_rate_limit_refills_over_time(pretrade: PreTradeCheck, clock: FakeClock) -> None:
    for _ in range(3):
        _check(pretrade, _order())
    clock.t += 0.5
    _check(pretrade, _order())


def test_rejected_orders_do_not_use_up_the_rate_budget(pretrade: PreTradeCheck) -> None:
    for _ in range(10):
        _rejected(pretrade, _order(qty_lots=100))
    for _ in range(3):
        _check(pretrade, _order())


def test_guard_level_is_checked_before_the_price_band(pretrade: PreTradeCheck) -> None:
    err = _rejected(pretrade, _order(price_ticks=1), level=GuardLevel.HARD)
    assert err.code is ErrorCode.HALTED


def test_headroom_refuses_an_order_whose_side_could_fill_past_the_hard_limit(pretrade: PreTradeCheck) -> None:
    """worst = inventory + sign * (resting on the side + qty); refused when |worst| > limit and worse than now."""
    def check(side: Side, inventory: int, resting: int) -> None:
        pretrade.check(_order(side, qty_lots=10), INFO, reference_mid_ticks=MID, free_quote_atoms=RICH,
                       free_base_atoms=RICH, level=GuardLevel.OK, inventory_lots=inventory,
                       resting_same_side_lots=resting, hard_limit_lots=50)

    check(Side.BUY, 20, 20)  # worst 50: exactly at the limit passes
    with pytest.raises(BotError, match="inventory_headroom"):
        check(Side.BUY, 20, 21)  # worst 51
    check(Side.SELL, 60, 0)  # already past the limit, but this sell only reduces: worst 50
    with pytest.raises(BotError, match="inventory_headroom"):
        check(Side.SELL, -45, 0)  # a short growing to -55
    with pytest.raises(BotError, match="inventory_headroom"):
        check(Side.SELL, 45, 90)  # long 45, but 100 lots of sells could flip it to -55


def test_headroom_is_not_checked_without_a_limit(pretrade: PreTradeCheck) -> None:
    _check(pretrade, _order(Side.BUY, qty_lots=10), inventory_lots=10**6)
