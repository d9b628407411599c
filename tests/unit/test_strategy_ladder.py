"""LadderStage puts quotes on the tick grid without ever crossing mid or the touch; BandStage drops outliers."""

from __future__ import annotations

import math
import sys
from decimal import Decimal
from typing import Any

import pytest

from bot.core.types import ClientOrderId, Quote, Side, SymbolInfo
from bot.strategy import BandConfig, BandStage, LadderConfig, LadderStage, QuoteContext, Resting
from bot.strategy.baselines import AvellanedaStoikovStrategy
from bot.strategy.config import AvellanedaStoikovConfig

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.001"), min_notional=Decimal("5"), max_qty_lots=1000)
TINY = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal(1), step_size=Decimal(1),
                  min_notional=Decimal(1))  # for prices near zero: any quote has enough notional
MID = 1_000_000.0  # 10,000.00: one bps is 100 ticks


def ctx(**overrides: Any) -> QuoteContext:
    fields: dict[str, Any] = dict(symbol="BTCUSDT", info=INFO, now_s=100.0, best_bid_ticks=999_990,
                                  best_ask_ticks=1_000_010, best_bid_lots=50, best_ask_lots=50, mid_ticks=MID,
                                  spread_bps=1.0)
    fields.update(overrides)
    return QuoteContext(**fields)


def ladder(info: SymbolInfo = INFO, **config: Any) -> LadderStage:
    return LadderStage(LadderConfig(**config), info, fallback_spread_bps=2.0, size_lots=100)


def bid(price: int, qty: int = 100) -> Quote:
    return Quote(side=Side.BUY, price_ticks=price, qty_lots=qty)


def ask(price: int, qty: int = 100) -> Quote:
    return Quote(side=Side.SELL, price_ticks=price, qty_lots=qty)


def resting(side: Side, price: int, qty: int = 40, age_s: float = 1.0) -> Resting:
    return Resting(client_order_id=ClientOrderId(f"{side}-{price}"), side=side, price_ticks=price, qty_lots=qty,
                   age_s=age_s)


def test_quotes_sit_half_the_spread_around_the_reservation() -> None:
    assert ladder().process(ctx()).desired == (bid(999_950), ask(1_000_050))
    assert ladder().process(ctx(reservation_ticks=999_980.0)).desired == (bid(999_930), ask(1_000_030))


def test_rounding_moves_bids_down_and_asks_up() -> None:
    out = ladder().process(ctx(mid_ticks=1_000_000.5, spread_bps=0.5))  # half = 25.0000125 ticks
    assert out.desired == (bid(999_975), ask(1_000_026))


def test_no_spread_decided_uses_the_fallback_spread() -> None:
    assert ladder().process(ctx(spread_bps=None)).desired == (bid(999_900), ask(1_000_100))


def test_levels_step_away_by_the_level_spacing() -> None:
    out = ladder(levels=3, level_spacing_bps=2.0).process(ctx())
    assert out.desired == (bid(999_950), bid(999_750), bid(999_550), ask(1_000_050), ask(1_000_250), ask(1_000_450))


def test_level_spacing_is_at_least_one_tick() -> None:
    out = ladder(TINY, levels=2, level_spacing_bps=0.01).process(
        ctx(mid_ticks=100.5, best_bid_ticks=100, best_ask_ticks=101, spread_bps=1.0))
    assert [q.price_ticks for q in out.desired] == [100, 99, 101, 102]


def test_a_reservation_beyond_the_spread_stops_one_tick_short_of_mid() -> None:
    out = ladder().process(ctx(reservation_ticks=MID - 1000))
    assert out.desired[-1] == ask(1_000_001)
    out = ladder().process(ctx(reservation_ticks=MID + 1000))
    assert out.desired[0] == bid(999_999)


def test_quotes_never_cross_the_touch() -> None:
    stale = ctx(best_bid_ticks=1_000_100, best_ask_ticks=1_000_120)  # mid lags far below the book
    assert ladder().process(stale).desired == (bid(999_950), ask(1_000_101))
    stale = ctx(best_bid_ticks=999_800, best_ask_ticks=999_900)
    assert ladder().process(stale).desired == (bid(999_899), ask(1_000_050))


def test_nudges_move_the_first_level_and_never_cross() -> None:
    out = ladder().process(ctx(spread_bps=0.02, bid_nudge_ticks=1, ask_nudge_ticks=1))  # half = 1 tick
    assert out.desired == (bid(999_999), ask(1_000_001))
    out = ladder().process(ctx(bid_nudge_ticks=-1, ask_nudge_ticks=-1))
    assert out.desired == (bid(999_949), ask(1_000_051))


def test_only_allowed_sides_are_quoted() -> None:
    assert ladder().process(ctx(allowed_sides=frozenset({Side.SELL}))).desired == (ask(1_000_050),)
    assert ladder().process(ctx(allowed_sides=frozenset())).desired == ()


def test_no_quote_on_a_side_within_the_fill_delay() -> None:
    stage = ladder(fill_delay_s=2.0)
    assert stage.process(ctx(now_s=100.0, last_fill_s={Side.BUY: 98.5})).desired == (ask(1_000_050),)
    assert stage.process(ctx(now_s=100.0, last_fill_s={Side.BUY: 98.0})).desired == (bid(999_950), ask(1_000_050))


def test_sizes_come_from_the_context_and_are_capped_at_the_symbol_maximum() -> None:
    out = ladder().process(ctx(bid_size_lots=70, ask_size_lots=5000))
    assert out.desired == (bid(999_950, 70), ask(1_000_050, 1000))


def test_zero_size_drops_the_side() -> None:
    assert ladder().process(ctx(bid_size_lots=0)).desired == (ask(1_000_050),)


def test_quotes_below_min_notional_are_dropped() -> None:
    out = ladder().process(ctx(bid_size_lots=1, ask_size_lots=1, mid_ticks=400_000.0,
                               best_bid_ticks=399_990, best_ask_ticks=400_010))  # 4,000 USDT * 0.001 = 4 < 5
    assert out.desired == ()


def test_bids_at_non_positive_prices_are_dropped() -> None:
    out = ladder(TINY, levels=3, level_spacing_bps=5000.0).process(  # spacing round(5.25) = 5 ticks
        ctx(mid_ticks=10.5, best_bid_ticks=10, best_ask_ticks=11))
    assert [q.price_ticks for q in out.desired] == [10, 5, 11, 16, 21]


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("mid_ticks", math.nan, "ladder:bad_mid"), ("mid_ticks", 0.0, "ladder:bad_mid"),
    ("spread_bps", math.inf, "ladder:bad_spread"), ("spread_bps", -1.0, "ladder:bad_spread"),
    ("reservation_ticks", math.nan, "ladder:bad_reservation"),
])
def test_non_finite_numbers_halt_rather_than_price(field: str, value: float, reason: str) -> None:
    out = ladder().process(ctx(**{field: value}))
    assert out.halted and out.halt_reasons == (reason,) and out.desired == ()


@pytest.mark.parametrize(("spread_bps", "reservation_ticks"), [
    (1e305, None),  # spread and mid finite, half = spread * mid / 2e4 is not
    (1e302, sys.float_info.max),  # half finite, r + half is not
])
def test_a_half_spread_that_overflows_halts_rather_than_raising(spread_bps: float,
                                                                reservation_ticks: float | None) -> None:
    out = ladder().process(ctx(spread_bps=spread_bps, reservation_ticks=reservation_ticks))
    assert out.halted and out.halt_reasons == ("ladder:bad_half_spread",) and out.desired == ()


def test_avellaneda_stoikov_at_extreme_volatility_halts_rather_than_raising() -> None:
    strategy = AvellanedaStoikovStrategy(AvellanedaStoikovConfig(), INFO, size_lots=100)
    out = strategy.decide(ctx(volatility_bps=1e150))  # spread finite, its half in ticks overflowed: OverflowError
    assert out.halted and out.desired == ()


# -- order-refresh tolerance --
def test_a_resting_order_within_the_tolerance_is_kept_with_its_price_and_qty() -> None:
    out = ladder(refresh_tolerance_ticks=3).process(ctx(resting=(resting(Side.BUY, 999_948),)))
    assert out.desired == (bid(999_948, 40), ask(1_000_050))


def test_a_resting_order_beyond_the_tolerance_is_replaced() -> None:
    out = ladder(refresh_tolerance_ticks=3).process(ctx(resting=(resting(Side.BUY, 999_946),)))
    assert out.desired == (bid(999_950), ask(1_000_050))


@pytest.mark.parametrize(("side", "behind", "ahead"), [
    (Side.BUY, 999_948, 999_952),  # desired bid 999,950: a lower bid is behind, a higher one ahead
    (Side.SELL, 1_000_052, 1_000_048),  # desired ask 1,000,050: a higher ask is behind
])
def test_behind_only_keeps_an_order_farther_from_the_touch_and_moves_one_nearer_it(
        side: Side, behind: int, ahead: int) -> None:
    stage = ladder(refresh_tolerance_ticks=3, refresh_tolerance_behind_only=True)
    kept = stage.process(ctx(resting=(resting(side, behind),))).desired
    assert behind in [q.price_ticks for q in kept if q.side is side]
    moved = stage.process(ctx(resting=(resting(side, ahead),))).desired
    assert [q.price_ticks for q in moved if q.side is side] == [999_950 if side is Side.BUY else 1_000_050]
    both_ways = ladder(refresh_tolerance_ticks=3, refresh_tolerance_behind_only=False).process(
        ctx(resting=(resting(side, ahead),))).desired
    assert ahead in [q.price_ticks for q in both_ways if q.side is side]


def test_an_order_as_old_as_max_order_age_is_not_kept() -> None:
    stage = ladder(refresh_tolerance_ticks=3, max_order_age_s=30.0)
    assert stage.process(ctx(resting=(resting(Side.SELL, 1_000_052, age_s=30.0),))).desired[-1] == ask(1_000_050)


def test_orders_as_old_as_max_order_age_are_listed_for_refresh_even_at_the_desired_price() -> None:
    stage = ladder(max_order_age_s=30.0)
    old_bid, young_ask = resting(Side.BUY, 999_950, age_s=30.0), resting(Side.SELL, 1_000_050, age_s=29.9)
    out = stage.process(ctx(resting=(old_bid, young_ask)))
    assert out.desired == (bid(999_950), ask(1_000_050, qty=40))  # the old bid is not kept; the young ask is
    assert out.refresh == (old_bid.client_order_id,)
    assert ladder(max_order_age_s=30.0).process(ctx(resting=(young_ask,))).refresh == ()


def test_a_resting_order_on_the_wrong_side_of_mid_is_not_kept() -> None:
    out = ladder(refresh_tolerance_ticks=100).process(
        ctx(spread_bps=0.02, resting=(resting(Side.BUY, 1_000_000),)))  # desired bid 999,999; mid 1,000,000
    assert out.desired[0] == bid(999_999)


def test_the_nearest_resting_order_is_kept_and_each_only_once() -> None:
    stage = ladder(levels=2, level_spacing_bps=0.02, refresh_tolerance_ticks=2,  # bids 999,950 and 999,948
                   refresh_tolerance_behind_only=False)
    out = stage.process(ctx(resting=(resting(Side.BUY, 999_951), resting(Side.BUY, 999_949, qty=30))))
    assert out.bids() == (bid(999_951, 40), bid(999_949, 30))


def test_keeping_never_puts_two_quotes_at_one_price() -> None:
    stage = ladder(levels=2, level_spacing_bps=0.02, refresh_tolerance_ticks=2)  # bids 999,950 and 999,948
    out = stage.process(ctx(resting=(resting(Side.BUY, 999_948),)))
    prices = [q.price_ticks for q in out.bids()]
    assert len(set(prices)) == len(prices) == 2


# -- band --
def band(**config: Any) -> BandStage:
    return BandStage(BandConfig(**config), INFO)


def test_band_converts_static_prices_to_ticks_inward() -> None:
    stage = band(price_floor=Decimal("9999.505"), price_ceiling=Decimal("10000.495"))
    assert (stage.floor_ticks, stage.ceiling_ticks) == (999_951, 1_000_049)


def test_band_drops_quotes_outside_the_static_floor_and_ceiling() -> None:
    quotes = (bid(999_950), ask(1_000_050))
    assert band(price_floor=Decimal("9999.51")).process(ctx(desired=quotes)).desired == (ask(1_000_050),)
    assert band(price_ceiling=Decimal("10000.49")).process(ctx(desired=quotes)).desired == (bid(999_950),)
    assert band(price_floor=Decimal("9999.50")).process(ctx(desired=quotes)).desired == quotes


def test_band_drops_quotes_too_far_from_the_reference() -> None:
    quotes = (bid(999_950), ask(1_000_050))
    stage = band(max_distance_bps=1.0)  # 100 ticks
    assert stage.process(ctx(desired=quotes, reference_ticks=1_000_100.0)).desired == (ask(1_000_050),)


def test_band_measures_distance_from_mid_without_a_reference() -> None:
    quotes = (bid(999_950), ask(1_000_050))
    assert band(max_distance_bps=0.5).process(ctx(desired=quotes)).desired == quotes
    assert band(max_distance_bps=0.49).process(ctx(desired=quotes)).desired == ()


def test_band_with_a_non_finite_reference_drops_everything() -> None:
    quotes = (bid(999_950), ask(1_000_050))
    assert band(max_distance_bps=1.0).process(ctx(desired=quotes, reference_ticks=math.nan)).desired == ()


def test_band_off_keeps_everything() -> None:
    quotes = (bid(1), ask(10**12))
    assert band().process(ctx(desired=quotes)).desired == quotes
