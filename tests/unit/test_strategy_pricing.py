"""Pricing stages: adaptive spread within bounds, inventory skew of price and size, queue-aware nudges."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from bot.core.types import ClientOrderId, Side, SymbolInfo
from bot.strategy import (
    AdaptiveSpreadConfig,
    AdaptiveSpreadStage,
    InventorySkewConfig,
    InventorySkewStage,
    QueueAwareConfig,
    QueueAwareStage,
    QuoteContext,
    Resting,
    unit_score,
)

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.001"), min_notional=Decimal("5"))


def ctx(**overrides: Any) -> QuoteContext:
    fields: dict[str, Any] = dict(symbol="BTCUSDT", info=INFO, now_s=100.0, best_bid_ticks=999_990,
                                  best_ask_ticks=1_000_010, best_bid_lots=50, best_ask_lots=50, mid_ticks=1_000_000.0,
                                  touch_depth_lots=10**9, max_inventory_lots=1000)
    fields.update(overrides)
    return QuoteContext(**fields)


# -- adaptive spread --
SPREAD = AdaptiveSpreadStage(AdaptiveSpreadConfig(
    base_spread_bps=1.0, min_spread_bps=0.6, max_spread_bps=2.5, vol_sensitivity=0.6, vol_full_bps=10.0
), liq_full_depth_lots=50_000)  # the seed audit's values: the formula's unit tests do not depend on the tuned defaults


def test_unit_score_clamps_and_counts_nan_as_worst() -> None:
    assert [unit_score(x) for x in (-1.0, 0.25, 7.0, math.inf, -math.inf)] == [0.0, 0.25, 1.0, 1.0, 0.0]
    assert unit_score(math.nan) == 1.0


def test_calm_market_quotes_the_base_spread() -> None:
    out = SPREAD.process(ctx())
    assert out.scores == {"vol": 0.0, "liq": 0.0, "lat": 0.0, "pnl": 0.0}
    assert out.spread_bps == pytest.approx(1.0)


def test_volatility_widens_the_spread_by_its_sensitivity() -> None:
    out = SPREAD.process(ctx(volatility_bps=5.0))  # half of vol_full_bps=10
    assert out.scores["vol"] == 0.5
    assert out.spread_bps == pytest.approx(1.0 * (1 + 0.6 * 0.5))


def test_a_thin_book_scores_liquidity_risk() -> None:
    assert SPREAD.process(ctx(touch_depth_lots=0)).scores["liq"] == 1.0
    assert SPREAD.process(ctx(touch_depth_lots=25_000)).scores["liq"] == 0.5


def test_latency_scores_between_ok_and_bad() -> None:
    assert SPREAD.process(ctx(latency_ms=50.0)).scores["lat"] == 0.0
    assert SPREAD.process(ctx(latency_ms=275.0)).scores["lat"] == 0.5
    assert SPREAD.process(ctx(latency_ms=5000.0)).scores["lat"] == 1.0


def test_losses_score_but_gains_do_not() -> None:
    assert SPREAD.process(ctx(pnl_bps=-5.0)).scores["pnl"] == 0.5
    assert SPREAD.process(ctx(pnl_bps=50.0)).scores["pnl"] == 0.0


def test_spread_is_capped_at_the_maximum() -> None:
    out = SPREAD.process(ctx(volatility_bps=100.0, touch_depth_lots=0, latency_ms=1e6, pnl_bps=-100.0))
    assert out.spread_bps == 2.5


def test_spread_never_falls_below_the_minimum() -> None:
    stage = AdaptiveSpreadStage(AdaptiveSpreadConfig(base_spread_bps=0.1, min_spread_bps=0.6, max_spread_bps=2.5),
                                liq_full_depth_lots=50_000)
    assert stage.process(ctx()).spread_bps == 0.6


def test_nan_inputs_give_the_widest_spread() -> None:
    assert SPREAD.process(ctx(volatility_bps=math.nan, latency_ms=math.nan)).spread_bps == pytest.approx(
        1.0 * (1 + 0.6 + 0.3))


# -- inventory skew --
SKEW = InventorySkewStage(InventorySkewConfig(max_skew_bps=1.0, size_skew=0.5, max_inventory_quote=None), 100)
# (the context gives the hard limit: 1,000 lots)


def test_skew_is_zero_at_target() -> None:
    out = SKEW.process(ctx(inventory_lots=0))
    assert out.reservation_ticks == 1_000_000.0
    assert (out.bid_size_lots, out.ask_size_lots) == (100, 100)


def test_long_inventory_lowers_the_reservation_price() -> None:
    out = SKEW.process(ctx(inventory_lots=500))
    assert out.reservation_ticks == pytest.approx(1_000_000.0 - 0.5 * 100)  # half of 1 bps = 50 ticks


def test_short_inventory_raises_the_reservation_price() -> None:
    assert SKEW.process(ctx(inventory_lots=-500)).reservation_ticks == pytest.approx(1_000_050.0)


def test_skew_saturates_at_max_skew_bps() -> None:
    assert SKEW.process(ctx(inventory_lots=10**9)).reservation_ticks == pytest.approx(1_000_000.0 - 100)


def test_skew_shrinks_the_side_that_adds_to_inventory() -> None:
    out = SKEW.process(ctx(inventory_lots=500))
    assert (out.bid_size_lots, out.ask_size_lots) == (75, 100)
    out = SKEW.process(ctx(inventory_lots=-1000))
    assert (out.bid_size_lots, out.ask_size_lots) == (100, 50)


def test_skew_uses_the_context_target_and_limit() -> None:
    out = SKEW.process(ctx(inventory_lots=600, target_inventory_lots=500, max_inventory_lots=100))
    assert out.reservation_ticks == pytest.approx(1_000_000.0 - 100)


def test_skew_keeps_a_size_an_earlier_stage_capped() -> None:
    out = SKEW.process(ctx(inventory_lots=500, ask_size_lots=30))
    assert out.ask_size_lots == 30


def test_skew_rejects_a_non_positive_inventory_limit() -> None:
    with pytest.raises(ValueError, match="max_inventory_lots"):
        SKEW.process(ctx(max_inventory_lots=0))


def test_skew_without_any_inventory_limit_is_a_wiring_error() -> None:
    with pytest.raises(ValueError, match="no inventory limit"):
        SKEW.process(ctx(max_inventory_lots=None))


def test_skew_pulls_towards_the_configured_target_when_the_context_gives_none() -> None:
    stage = InventorySkewStage(InventorySkewConfig(max_skew_bps=1.0, max_inventory_quote=None), 100,
                               target_inventory_lots=500)
    assert stage.process(ctx(inventory_lots=500)).reservation_ticks == 1_000_000.0
    assert stage.process(ctx(inventory_lots=1000)).reservation_ticks == pytest.approx(1_000_000.0 - 50)


def test_the_thin_book_score_uses_the_depth_in_the_symbols_lots() -> None:
    stage = AdaptiveSpreadStage(AdaptiveSpreadConfig(), liq_full_depth_lots=400)
    assert stage.process(ctx(touch_depth_lots=100)).scores["liq"] == 0.75
    with pytest.raises(ValueError, match="liq_full_depth_lots"):
        AdaptiveSpreadStage(AdaptiveSpreadConfig(), liq_full_depth_lots=0)


# -- queue aware --
QUEUE = QueueAwareStage(QueueAwareConfig(improve_queue_fraction=0.5, improve_min_spread_ticks=2,
                                         back_off_imbalance=0.6))


def resting(side: Side, price: int, ahead: int) -> Resting:
    return Resting(client_order_id=ClientOrderId(f"{side}-{price}"), side=side, price_ticks=price, qty_lots=10,
                   age_s=1.0, queue_ahead_lots=ahead)


def test_queue_joins_on_a_one_tick_market() -> None:
    out = QUEUE.process(ctx(best_bid_ticks=999_999, best_ask_ticks=1_000_000))
    assert (out.bid_nudge_ticks, out.ask_nudge_ticks) == (0, 0)


def test_queue_improves_when_not_resting_at_the_touch_of_a_wide_market() -> None:
    out = QUEUE.process(ctx())
    assert (out.bid_nudge_ticks, out.ask_nudge_ticks) == (1, 1)


def test_queue_joins_when_near_the_front_of_the_queue() -> None:
    out = QUEUE.process(ctx(resting=(resting(Side.BUY, 999_990, ahead=10),)))
    assert out.bid_nudge_ticks == 0


def test_queue_improves_from_the_back_of_the_queue() -> None:
    out = QUEUE.process(ctx(resting=(resting(Side.BUY, 999_990, ahead=40),)))
    assert out.bid_nudge_ticks == 1


def test_queue_backs_off_the_side_the_imbalance_runs_against() -> None:
    out = QUEUE.process(ctx(best_bid_lots=10, best_ask_lots=90))  # imbalance -0.8: sellers dominate
    assert (out.bid_nudge_ticks, out.ask_nudge_ticks) == (-1, 1)


def test_queue_imbalance_of_an_empty_touch_is_zero() -> None:
    assert QueueAwareStage.imbalance(ctx(best_bid_lots=0, best_ask_lots=0)) == 0.0


def test_skew_saturates_at_the_notional_limit_when_it_is_smaller() -> None:
    context = ctx(inventory_lots=0)
    per_lot_quote = context.mid_ticks * float(context.info.tick_size * context.info.step_size)
    limit_lots = max(1, int(50.0 / per_lot_quote))
    stage = InventorySkewStage(InventorySkewConfig(max_skew_bps=1.0, max_inventory_quote=50.0), 100)
    assert stage.q_norm(ctx(inventory_lots=limit_lots)) == pytest.approx(1.0)
    assert stage.q_norm(ctx(inventory_lots=limit_lots // 2)) == pytest.approx((limit_lots // 2) / limit_lots)
