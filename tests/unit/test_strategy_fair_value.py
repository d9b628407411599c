"""FairValueStage: the reservation price leans with the public trade flow, clamped, and never crosses."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from bot.core.types import SymbolInfo
from bot.strategy import (
    STAGE_NAMES,
    FairValueConfig,
    FairValueStage,
    LadderConfig,
    LadderStage,
    QuoteContext,
    StrategyConfig,
    build_stage,
    symbol_sizes,
)

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("5"),
                  step_size=Decimal("0.00001"), min_notional=Decimal("5"))
MID = 12_000.5  # a one-tick market: bid 12000, ask 12001 (a tick is about 0.83 bps)
SIZES = symbol_sizes(StrategyConfig(), INFO, Decimal(60_000))


def ctx(**overrides: Any) -> QuoteContext:
    fields: dict[str, Any] = dict(symbol="BTCUSDT", info=INFO, now_s=100.0, best_bid_ticks=12_000,
                                  best_ask_ticks=12_001, best_bid_lots=500, best_ask_lots=500, mid_ticks=MID)
    fields.update(overrides)
    return QuoteContext(**fields)


STAGE = FairValueStage(FairValueConfig(flow_bps_per_unit=0.5, gain=2.0, max_shift_bps=4.0))


def test_no_flow_leaves_the_reservation_untouched() -> None:
    assert STAGE.process(ctx(trade_flow=0.0)).reservation_ticks is None


def test_buying_flow_raises_the_reservation_by_gain_times_slope() -> None:
    out = STAGE.process(ctx(trade_flow=1.5))  # 2 * 0.5 * 1.5 = 1.5 bps
    assert out.reservation_ticks == pytest.approx(MID + 1.5 * MID / 1e4)


def test_selling_flow_lowers_the_reservation() -> None:
    out = STAGE.process(ctx(trade_flow=-1.5))
    assert out.reservation_ticks == pytest.approx(MID - 1.5 * MID / 1e4)


def test_the_offset_is_clamped_at_max_shift() -> None:
    assert STAGE.offset_bps(1e9) == 4.0
    assert STAGE.offset_bps(-1e9) == -4.0


@pytest.mark.parametrize("flow", [math.nan, math.inf, -math.inf])
def test_a_non_finite_flow_gives_no_offset(flow: float) -> None:
    assert STAGE.offset_bps(flow) == 0.0
    assert STAGE.process(ctx(trade_flow=flow)).reservation_ticks is None


def test_the_offset_adds_to_an_earlier_reservation() -> None:
    out = STAGE.process(ctx(trade_flow=1.0, reservation_ticks=MID - 1.0))  # inventory skew already leaned down
    assert out.reservation_ticks == pytest.approx(MID - 1.0 + 1.0 * MID / 1e4)


def test_buying_flow_lifts_the_ask_off_the_touch_and_keeps_the_bid_there() -> None:
    ladder = LadderStage(LadderConfig(), INFO, fallback_spread_bps=1.0, size_lots=100)
    out = ladder.process(STAGE.process(ctx(trade_flow=2.0)))  # +2 bps: about 2.4 ticks
    (bid,), (ask,) = out.bids(), out.asks()
    assert bid.price_ticks == 12_000
    assert ask.price_ticks > 12_002


def test_selling_flow_lowers_the_bid_off_the_touch_and_keeps_the_ask_there() -> None:
    ladder = LadderStage(LadderConfig(), INFO, fallback_spread_bps=1.0, size_lots=100)
    out = ladder.process(STAGE.process(ctx(trade_flow=-2.0)))
    (bid,), (ask,) = out.bids(), out.asks()
    assert ask.price_ticks == 12_001
    assert bid.price_ticks < 11_999


def test_the_factory_builds_it_by_name_and_it_runs_after_the_inventory_skew() -> None:
    assert isinstance(build_stage("fair_value", StrategyConfig(), INFO, SIZES), FairValueStage)
    assert STAGE_NAMES.index("inventory_skew") < STAGE_NAMES.index("fair_value") < STAGE_NAMES.index("ladder")


@pytest.mark.parametrize("field", ["flow_bps_per_unit", "gain", "max_shift_bps"])
def test_config_rejects_negative_and_non_finite_values(field: str) -> None:
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValidationError):
            FairValueConfig(**{field: bad})
