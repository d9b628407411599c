"""PnL from fills: exact cash and position, fees in either asset, marks, net_bps, drawdown, slippage."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.core.types import ClientOrderId, Fill, Side, SymbolInfo, TradeId, VenueOrderId
from bot.execution.pnl import PnlTracker

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("5"),
                  step_size=Decimal("0.00001"), min_notional=Decimal("5"))


def fill(side: Side, price: int, lots: int, *, fee: int = 0, maker: bool = True, tid: int = 1) -> Fill:
    quote = INFO.notional_atoms(price, lots)
    return Fill(symbol="BTCUSDT", trade_id=TradeId(tid), order_id=VenueOrderId(tid),
                client_order_id=ClientOrderId(f"c{tid}"), side=side, price_ticks=price, qty_lots=lots,
                quote_atoms=quote, fee_atoms=fee, fee_asset="BTC" if side is Side.BUY else "USDT", is_maker=maker,
                time_ms=0)


def test_a_round_trip_earns_the_spread_exactly() -> None:
    pnl = PnlTracker(INFO)
    pnl.on_fill(fill(Side.BUY, 12_000, 1_000, tid=1))
    pnl.on_fill(fill(Side.SELL, 12_001, 1_000, tid=2))
    assert pnl.position_lots == 0
    assert pnl.cash_atoms == INFO.notional_atoms(1, 1_000)  # one tick on 0.01 BTC = 0.05 USDT
    assert pnl.mark(12_000) == pytest.approx(pnl.cash_atoms)
    assert pnl.net_bps == pytest.approx(1e4 * pnl.cash_atoms / pnl.traded_notional_atoms)


def test_fees_in_base_and_quote_both_reduce_equity() -> None:
    pnl = PnlTracker(INFO)
    pnl.on_fill(fill(Side.BUY, 12_000, 1_000, fee=1_000, tid=1))  # 0.00001 BTC fee
    pnl.on_fill(fill(Side.SELL, 12_000, 1_000, fee=6_000, tid=2))  # 0.00006 USDT fee... in atoms
    assert pnl.base_fee_atoms == 1_000 and pnl.quote_fee_atoms == 6_000
    assert pnl.mark(12_000) < 0


def test_an_open_position_is_marked_to_the_mid() -> None:
    pnl = PnlTracker(INFO)
    pnl.on_fill(fill(Side.BUY, 12_000, 1_000))
    assert pnl.mark(12_010) == pytest.approx(INFO.notional_atoms(10, 1_000))


def test_drawdown_is_measured_from_the_peak() -> None:
    pnl = PnlTracker(INFO)
    pnl.on_fill(fill(Side.BUY, 12_000, 1_000))
    pnl.mark(12_010)
    pnl.mark(12_004)
    assert pnl.drawdown_atoms == pytest.approx(INFO.notional_atoms(6, 1_000))


def test_taker_slippage_is_a_cost_against_the_mid() -> None:
    pnl = PnlTracker(INFO)
    pnl.on_fill(fill(Side.BUY, 12_001, 1_000, maker=False), mid_ticks=12_000.5)
    assert pnl.taker_fills == 1 and pnl.maker_fills == 0
    assert pnl.slippage_bps == pytest.approx(1e4 * 0.5 / 12_001, rel=1e-6)
    assert pnl.max_abs_position_lots == 1_000
