"""Gating stages: the guard obeys the risk level, the taker cap clears taker_allowed, fast cancel pulls all."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.core.types import Side, SymbolInfo
from bot.strategy import (
    FastCancelConfig,
    FastCancelStage,
    GuardConfig,
    GuardStage,
    QuoteContext,
    TakerCapStage,
    TakerCapStageConfig,
)

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.001"), min_notional=Decimal("5"))
BOTH = frozenset({Side.BUY, Side.SELL})


def ctx(**overrides: Any) -> QuoteContext:
    fields: dict[str, Any] = dict(symbol="BTCUSDT", info=INFO, now_s=100.0, best_bid_ticks=999_990,
                                  best_ask_ticks=1_000_010, best_bid_lots=50, best_ask_lots=50, mid_ticks=1_000_000.0)
    fields.update(overrides)
    return QuoteContext(**fields)


def guard(soft_reduce_only: bool = True) -> GuardStage:
    return GuardStage(GuardConfig(soft_reduce_only=soft_reduce_only), target_inventory_lots=0, base_size_lots=100)


# -- guard --
def test_guard_ok_changes_nothing() -> None:
    out = guard().process(ctx(risk_level="OK", inventory_lots=500))
    assert not out.halted and out.allowed_sides == BOTH and out.ask_size_lots is None


def test_guard_hard_halts_with_the_risk_reasons() -> None:
    out = guard().process(ctx(risk_level="HARD", risk_reasons=("drawdown", "latency")))
    assert out.halted
    assert out.halt_reasons == ("guard:HARD", "drawdown", "latency")
    assert out.desired == ()


def test_guard_unknown_level_halts() -> None:
    out = guard().process(ctx(risk_level="PURPLE"))
    assert out.halted and out.halt_reasons == ("guard:PURPLE",)


def test_guard_soft_when_long_keeps_only_the_sell_side() -> None:
    out = guard().process(ctx(risk_level="SOFT", inventory_lots=500))
    assert not out.halted
    assert out.allowed_sides == {Side.SELL}


def test_guard_soft_when_short_keeps_only_the_buy_side() -> None:
    out = guard().process(ctx(risk_level="SOFT", inventory_lots=-500))
    assert out.allowed_sides == {Side.BUY}


def test_guard_soft_when_flat_allows_no_side() -> None:
    out = guard().process(ctx(risk_level="SOFT", inventory_lots=0))
    assert not out.halted and out.allowed_sides == frozenset()


def test_guard_soft_measures_inventory_from_the_context_target() -> None:
    out = guard().process(ctx(risk_level="SOFT", inventory_lots=500, target_inventory_lots=800))
    assert out.allowed_sides == {Side.BUY}


def test_guard_soft_caps_the_reducing_size_at_the_distance_to_target() -> None:
    out = guard().process(ctx(risk_level="SOFT", inventory_lots=30))
    assert out.ask_size_lots == 30
    assert guard().process(ctx(risk_level="SOFT", inventory_lots=3000)).ask_size_lots == 100


def test_guard_soft_never_re_allows_a_side_an_earlier_stage_removed() -> None:
    out = guard().process(ctx(risk_level="SOFT", inventory_lots=500, allowed_sides=frozenset({Side.BUY})))
    assert out.allowed_sides == frozenset()


def test_guard_soft_halts_when_reduce_only_is_off() -> None:
    out = guard(soft_reduce_only=False).process(ctx(risk_level="SOFT", inventory_lots=500, risk_reasons=("inv",)))
    assert out.halted and out.halt_reasons == ("guard:SOFT", "inv")


# -- taker cap --
def test_taker_cap_allows_takers_above_the_reserve() -> None:
    stage = TakerCapStage(TakerCapStageConfig(reserve_fills=2))
    assert stage.process(ctx(taker_fills_remaining=3)).taker_allowed


def test_taker_cap_refuses_takers_at_the_reserve() -> None:
    stage = TakerCapStage(TakerCapStageConfig(reserve_fills=2))
    out = stage.process(ctx(taker_fills_remaining=2))
    assert not out.taker_allowed and not out.halted


def test_taker_cap_with_no_reserve_refuses_only_when_exhausted() -> None:
    stage = TakerCapStage(TakerCapStageConfig())
    assert stage.process(ctx(taker_fills_remaining=1)).taker_allowed
    assert not stage.process(ctx(taker_fills_remaining=0)).taker_allowed


# -- fast cancel --
FAST = FastCancelStage(FastCancelConfig(mid_move_bps=2.0, on_trade_through=True))


def test_fast_cancel_ignores_a_move_within_the_threshold() -> None:
    assert not FAST.process(ctx(mid_ticks=1_000_200.0, mid_at_last_quote_ticks=1_000_000.0)).halted


def test_fast_cancel_pulls_all_when_mid_moved_more_than_the_threshold() -> None:
    out = FAST.process(ctx(mid_ticks=999_799.0, mid_at_last_quote_ticks=1_000_000.0))
    assert out.halted and out.halt_reasons == ("fast_cancel:mid_move",)


def test_fast_cancel_checks_nothing_when_no_quote_rests() -> None:
    assert not FAST.process(ctx(mid_ticks=2_000_000.0, mid_at_last_quote_ticks=None)).halted


def test_fast_cancel_treats_a_nan_mid_as_a_move() -> None:
    assert FAST.process(ctx(mid_ticks=float("nan"), mid_at_last_quote_ticks=1_000_000.0)).halted


def test_fast_cancel_pulls_all_on_a_trade_through() -> None:
    out = FAST.process(ctx(trade_through=True))
    assert out.halted and out.halt_reasons == ("fast_cancel:trade_through",)


def test_fast_cancel_ignores_a_trade_through_when_configured_off() -> None:
    stage = FastCancelStage(FastCancelConfig(on_trade_through=False))
    assert not stage.process(ctx(trade_through=True)).halted
