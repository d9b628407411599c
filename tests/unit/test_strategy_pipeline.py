"""QuotePipeline runs stages in order and stops at a halt; build_strategy builds every kind; baselines price."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal
from typing import Any

import pytest

from bot.core.types import Quote, Side, SymbolInfo
from bot.strategy import (
    STAGE_NAMES,
    AvellanedaStoikovConfig,
    AvellanedaStoikovStrategy,
    FixedSpreadConfig,
    FixedSpreadStrategy,
    GLFTConfig,
    GLFTStrategy,
    QuoteContext,
    QuotePipeline,
    QuoteStrategy,
    StrategyConfig,
    build_stage,
    build_strategy,
    symbol_sizes,
)

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.001"), min_notional=Decimal("5"))
MID = 1_000_000.0
PRICE = Decimal(10_000)  # MID ticks of 0.01; the default 60-quote order is 6 lots of 0.001


def ctx(**overrides: Any) -> QuoteContext:
    fields: dict[str, Any] = dict(symbol="BTCUSDT", info=INFO, now_s=100.0, best_bid_ticks=999_990,
                                  best_ask_ticks=1_000_010, best_bid_lots=50, best_ask_lots=50, mid_ticks=MID,
                                  touch_depth_lots=10**6, taker_fills_remaining=10)
    fields.update(overrides)
    return QuoteContext(**fields)


class Recorder:
    """A stage that appends its name to a shared log and optionally halts."""

    def __init__(self, name: str, log: list[str], halts: bool = False) -> None:
        self.name, self._log, self._halts = name, log, halts

    def process(self, ctx: QuoteContext) -> QuoteContext:
        self._log.append(self.name)
        return ctx.halt(f"{self.name}:stop") if self._halts else ctx


# -- pipeline --
def test_pipeline_runs_stages_in_order() -> None:
    log: list[str] = []
    QuotePipeline([Recorder("a", log), Recorder("b", log), Recorder("c", log)]).decide(ctx())
    assert log == ["a", "b", "c"]


def test_pipeline_stops_after_a_halt() -> None:
    log: list[str] = []
    out = QuotePipeline([Recorder("a", log), Recorder("b", log, halts=True), Recorder("c", log)]).decide(ctx())
    assert log == ["a", "b"]
    assert out.halted and out.halt_reasons == ("b:stop",)


def test_pipeline_runs_nothing_on_an_already_halted_context() -> None:
    log: list[str] = []
    QuotePipeline([Recorder("a", log)]).decide(ctx().halt("earlier"))
    assert log == []


def test_pipeline_records_nanoseconds_per_stage_with_a_timer() -> None:
    ticks = itertools.count(0, 250)
    log: list[str] = []
    out = QuotePipeline([Recorder("a", log), Recorder("b", log)], timer=lambda: next(ticks)).decide(ctx())
    assert out.timings_ns == {"a": 250, "b": 250}


def test_pipeline_without_a_timer_records_nothing() -> None:
    assert QuotePipeline([Recorder("a", [])]).decide(ctx()).timings_ns == {}


def test_pipeline_rejects_repeated_stage_names() -> None:
    with pytest.raises(ValueError, match="repeat"):
        QuotePipeline([Recorder("a", []), Recorder("a", [])])


# -- build_strategy --
def test_reference_pipeline_follows_the_configured_stage_order() -> None:
    strategy = build_strategy(StrategyConfig(), INFO, price=PRICE)
    assert isinstance(strategy, QuotePipeline)
    assert strategy.stage_names == STAGE_NAMES
    reordered = build_strategy(StrategyConfig(stages=("ladder", "guard")), INFO, price=PRICE)
    assert isinstance(reordered, QuotePipeline) and reordered.stage_names == ("ladder", "guard")


def test_reference_pipeline_quotes_a_calm_market() -> None:
    out = build_strategy(StrategyConfig(), INFO, price=PRICE).decide(ctx())
    assert not out.halted
    assert [q.side for q in out.desired] == [Side.BUY, Side.SELL]
    assert out.desired[0].price_ticks < MID < out.desired[1].price_ticks


def test_reference_pipeline_halts_on_hard_and_pulls_everything() -> None:
    out = build_strategy(StrategyConfig(), INFO, price=PRICE).decide(ctx(risk_level="HARD", risk_reasons=("kill",)))
    assert out.halted and out.desired == () and out.halt_reasons == ("guard:HARD", "kill")


def test_reference_pipeline_with_a_timer_times_every_stage() -> None:
    ticks = itertools.count()
    out = build_strategy(StrategyConfig(), INFO, timer=lambda: next(ticks), price=PRICE).decide(ctx())
    assert list(out.timings_ns) == list(STAGE_NAMES)


def test_build_stage_rejects_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown stage"):
        build_stage("nope", StrategyConfig(), INFO, symbol_sizes(StrategyConfig(), INFO, PRICE))


@pytest.mark.parametrize(("kind", "cls"), [("fixed_spread", FixedSpreadStrategy),
                                           ("avellaneda_stoikov", AvellanedaStoikovStrategy),
                                           ("glft", GLFTStrategy)])
def test_build_strategy_builds_each_baseline(kind: str, cls: type) -> None:
    strategy: QuoteStrategy = build_strategy(StrategyConfig(kind=kind), INFO, price=PRICE)  # type: ignore[arg-type]
    assert isinstance(strategy, cls) and strategy.name == kind


# -- baselines --
def test_fixed_spread_quotes_symmetrically_around_mid_whatever_the_inventory() -> None:
    strategy = FixedSpreadStrategy(FixedSpreadConfig(half_spread_bps=0.5), INFO, size_lots=7)
    expected = (Quote(side=Side.BUY, price_ticks=999_950, qty_lots=7),
                Quote(side=Side.SELL, price_ticks=1_000_050, qty_lots=7))
    assert strategy.decide(ctx()).desired == expected
    assert strategy.decide(ctx(inventory_lots=10**6)).desired == expected


@pytest.mark.parametrize("kind", ["fixed_spread", "avellaneda_stoikov", "glft"])
def test_baselines_obey_a_hard_halt(kind: str) -> None:
    strategy = build_strategy(StrategyConfig(kind=kind), INFO, price=PRICE)  # type: ignore[arg-type]
    out = strategy.decide(ctx(risk_level="HARD"))
    assert out.halted and out.desired == ()


AS = AvellanedaStoikovConfig(gamma=0.1, k=1.5, horizon_s=60.0, sigma_interval_s=1.0, q_unit_orders=10)  # 100 lots


def test_avellaneda_stoikov_spread_is_the_closed_form_when_flat() -> None:
    out = AvellanedaStoikovStrategy(AS, INFO, size_lots=10).decide(ctx(volatility_bps=0.01))  # sigma = 1 tick / sqrt(s)
    spread_ticks = 0.1 * 1.0 * 60 + (2 / 0.1) * math.log(1 + 0.1 / 1.5)
    assert out.reservation_ticks == MID
    assert out.spread_bps == pytest.approx(spread_ticks / MID * 1e4)
    assert [q.price_ticks for q in out.desired] == [math.floor(MID - spread_ticks / 2),
                                                     math.ceil(MID + spread_ticks / 2)]


def test_avellaneda_stoikov_reservation_moves_against_inventory() -> None:
    strategy = AvellanedaStoikovStrategy(AS, INFO, size_lots=10)
    out = strategy.decide(ctx(volatility_bps=0.01, inventory_lots=200))  # q = 2
    assert out.reservation_ticks == pytest.approx(MID - 2 * 0.1 * 1.0 * 60)


def test_avellaneda_stoikov_halts_on_an_infinite_volatility() -> None:
    out = AvellanedaStoikovStrategy(AS, INFO, size_lots=10).decide(ctx(volatility_bps=math.inf))
    assert out.halted and out.halt_reasons == ("avellaneda_stoikov:bad_input",)


def test_glft_half_spread_and_skew_follow_the_closed_form() -> None:
    config = GLFTConfig(gamma=0.1, k=1.5, a_per_s=2.0, q_unit_orders=10)  # q unit: 10 orders of 10 lots
    strategy = GLFTStrategy(config, INFO, size_lots=10)
    out = strategy.decide(ctx(volatility_bps=0.04, inventory_lots=-100))  # sigma 4, q = -1
    c1 = math.log(1 + 0.1 / 1.5) / 0.1
    c2 = math.sqrt(0.1 / (2 * 2.0 * 1.5) * (1 + 0.1 / 1.5) ** (1.5 / 0.1 + 1))
    assert out.reservation_ticks == pytest.approx(MID + 4 * c2)
    assert out.spread_bps == pytest.approx(2 * (c1 + 4 * c2 / 2) / MID * 1e4)
