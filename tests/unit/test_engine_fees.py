"""Fees: taker and maker fees on the received asset, rounding against the trader, rebates, conservation."""

from __future__ import annotations

from decimal import Decimal

from exchange_sim.engine.matching import MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    OrderType,
    PlaceRequest,
    Side,
    SymbolSpec,
)
from tests.engine_support import LOT, SPEC, START, A, B, K, limit, market


def test_buyer_pays_fee_in_base_and_seller_in_quote(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 10))
    trade = engine.place(limit(B, Side.BUY, 10_000, 10)).trades[0]
    base, quote = 10 * LOT, 10_000 * 10 * K
    assert (trade.taker_fee_asset, trade.taker_fee_atoms) == ("BTC", base // 1000)
    assert (trade.maker_fee_asset, trade.maker_fee_atoms) == ("USDT", quote // 1000)
    assert engine.balance(B, "BTC").free_atoms == START["BTC"] + base - base // 1000
    assert engine.balance(A, "USDT").free_atoms == START["USDT"] + quote - quote // 1000
    assert engine.balance(MatchingEngine.FEE_ACCOUNT, "BTC").free_atoms == base // 1000
    assert engine.balance(MatchingEngine.FEE_ACCOUNT, "USDT").free_atoms == quote // 1000


def test_fees_round_up_to_whole_atoms() -> None:
    spec = SymbolSpec(
        symbol="TINY",
        base_asset="T",
        quote_asset="Q",
        tick_size=Decimal("1"),
        step_size=Decimal("0.00000001"),  # 1 lot = 1 atom
        min_notional=Decimal("0"),
        maker_fee_ppm=1_500,
        taker_fee_ppm=1_000,
    )
    engine = MatchingEngine([spec], clock_us=lambda: 0)
    engine.open_account(A, {"T": 10**6, "Q": 10**9})
    engine.open_account(B, {"T": 10**6, "Q": 10**9})
    engine.place(
        PlaceRequest(
            account=A, symbol="TINY", side=Side.SELL, type=OrderType.LIMIT, price_ticks=3, qty_lots=1_001
        )
    )
    trade = engine.place(
        PlaceRequest(
            account=B, symbol="TINY", side=Side.BUY, type=OrderType.LIMIT, price_ticks=3, qty_lots=1_001
        )
    ).trades[0]
    assert trade.taker_fee_atoms == 2  # ceil(1001 * 0.001)
    assert trade.maker_fee_atoms == 5  # ceil(3003 * 0.0015)


def test_negative_maker_fee_is_a_rebate_paid_by_the_fee_account() -> None:
    engine = MatchingEngine([SPEC], clock_us=lambda: 0)
    maker = AccountId("mm")
    engine.open_account(maker, START, maker_fee_ppm=-100)
    engine.open_account(B, START)
    engine.place(limit(maker, Side.SELL, 10_000, 10))
    trade = engine.place(limit(B, Side.BUY, 10_000, 10)).trades[0]
    quote = 10_000 * 10 * K
    assert trade.maker_fee_atoms == -(quote // 10_000)
    assert engine.balance(maker, "USDT").free_atoms == START["USDT"] + quote + quote // 10_000
    assert engine.balance(MatchingEngine.FEE_ACCOUNT, "USDT").free_atoms == -(quote // 10_000)


def test_rebates_round_toward_zero() -> None:
    spec = SymbolSpec(
        symbol="TINY",
        base_asset="T",
        quote_asset="Q",
        tick_size=Decimal("1"),
        step_size=Decimal("0.00000001"),
        min_notional=Decimal("0"),
    )
    engine = MatchingEngine([spec], clock_us=lambda: 0)
    engine.open_account(A, {"T": 10**6, "Q": 10**9}, maker_fee_ppm=-1_000)
    engine.open_account(B, {"T": 10**6, "Q": 10**9})
    engine.place(
        PlaceRequest(
            account=A, symbol="TINY", side=Side.BUY, type=OrderType.LIMIT, price_ticks=1, qty_lots=1_999
        )
    )
    trade = engine.place(
        PlaceRequest(
            account=B, symbol="TINY", side=Side.SELL, type=OrderType.LIMIT, price_ticks=1, qty_lots=1_999
        )
    ).trades[0]
    assert trade.maker_fee_atoms == -1  # -1.999 rounds toward zero


def test_taker_fee_override_replaces_the_symbol_default() -> None:
    engine = MatchingEngine([SPEC], clock_us=lambda: 0)
    engine.open_account(A, START)
    engine.open_account(B, START, taker_fee_ppm=0)
    engine.place(limit(A, Side.SELL, 10_000, 10))
    assert engine.place(limit(B, Side.BUY, 10_000, 10)).trades[0].taker_fee_atoms == 0


def test_fees_conserve_every_assets_total_supply(engine: MatchingEngine) -> None:
    engine.place(limit(A, Side.SELL, 10_000, 7))
    engine.place(limit(A, Side.SELL, 10_003, 7))
    engine.place(market(B, Side.BUY, quote=10_000 * 9 * K + 123))
    for asset in ("BTC", "USDT"):
        assert engine.total_supply(asset) == 2 * START[asset]
    engine.audit()
