"""Properties of the strategy and of the local book.

* The adaptive spread is within [min, max] whatever the four scores' inputs (NaN and infinities included).
* Every strategy (the reference pipeline checked after each of its stages, and the baselines) leaves quotes with
  every bid < mid < every ask, never crossing the touch, at distinct prices, with positive sizes, over random
  contexts and configs.
* Inventory skew is monotone in inventory, zero at target, bounded by max_skew_bps, and never makes a side cross.
* The trade-flow fair value is monotone in the flow, zero for no (or a non-finite) flow, bounded by max_shift_bps,
  and never makes a side cross, alone or on top of the inventory skew.
* The local book, fed any sequence of diffs (some lost, some duplicated) and resynced from snapshots when it
  detects a gap, is never crossed and always equals a book rebuilt from scratch at its update id.

Guard-level monotonicity and exact thresholds are in ``test_risk_properties.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from bot.core.types import BookLevel, BookSnapshot, DepthUpdate, Side, SymbolInfo
from bot.market.book import LocalBook
from bot.strategy import (
    AdaptiveSpreadConfig,
    AdaptiveSpreadStage,
    AvellanedaStoikovConfig,
    BandConfig,
    FairValueConfig,
    FairValueStage,
    FixedSpreadConfig,
    GLFTConfig,
    InventorySkewConfig,
    InventorySkewStage,
    LadderConfig,
    LadderStage,
    QuoteContext,
    QuotePipeline,
    Resting,
    SizeConfig,
    StrategyConfig,
    build_strategy,
)

pytestmark = pytest.mark.property

INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.00001"), min_notional=Decimal("0.0001"))
PRICE = Decimal(60_000)  # converts the notional sizes (the thin-book depth)

anything = st.floats(allow_nan=True, allow_infinity=True)
finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


# -- adaptive spread --
@st.composite
def spread_configs(draw: st.DrawFn) -> AdaptiveSpreadConfig:
    lo, hi = sorted(draw(st.lists(st.floats(0.01, 100), min_size=2, max_size=2)))
    lat_ok = draw(st.floats(0, 1000))
    return AdaptiveSpreadConfig(
        base_spread_bps=draw(st.floats(0.01, 100)), min_spread_bps=lo, max_spread_bps=hi,
        vol_sensitivity=draw(st.floats(0, 1e6)), liq_sensitivity=draw(st.floats(0, 1e6)),
        lat_sensitivity=draw(st.floats(0, 1e6)), pnl_sensitivity=draw(st.floats(0, 1e6)),
        lat_ok_ms=lat_ok, lat_bad_ms=lat_ok + draw(st.floats(0.001, 1000)),
    )


def base_ctx(mid: float = 1_000_000.5, bid: int = 1_000_000, ask: int = 1_000_001) -> QuoteContext:
    return QuoteContext(symbol="BTCUSDT", info=INFO, now_s=0.0, best_bid_ticks=bid, best_ask_ticks=ask,
                        best_bid_lots=10, best_ask_lots=10, mid_ticks=mid)


@given(config=spread_configs(), vol=anything, depth=st.integers(-10**12, 10**12), lat=anything, pnl=anything)
def test_spread_is_always_within_its_bounds(
    config: AdaptiveSpreadConfig, vol: float, depth: int, lat: float, pnl: float
) -> None:
    ctx = base_ctx()
    ctx.volatility_bps, ctx.touch_depth_lots, ctx.latency_ms, ctx.pnl_bps = vol, depth, lat, pnl
    out = AdaptiveSpreadStage(config, liq_full_depth_lots=50_000).process(ctx)
    assert all(0.0 <= s <= 1.0 for s in out.scores.values())
    assert out.spread_bps is not None
    assert config.min_spread_bps <= out.spread_bps <= config.max_spread_bps


# -- quotes never cross --
@st.composite
def contexts(draw: st.DrawFn) -> QuoteContext:
    bid = draw(st.integers(1, 10**8))
    ask = bid + draw(st.integers(1, 200))
    inside = draw(st.floats(0, 1))
    mid = draw(st.one_of(st.just(bid + inside * (ask - bid)),  # book mid or microprice ...
                         st.floats(max(1.0, bid - 500.0), ask + 500.0)))  # ... or a stale one
    sides = (Side.BUY, Side.SELL)
    resting = tuple(
        Resting(client_order_id=f"c{i}", side=draw(st.sampled_from(sides)),  # type: ignore[arg-type]
                price_ticks=max(1, round(mid) + draw(st.integers(-300, 300))), qty_lots=draw(st.integers(0, 500)),
                age_s=draw(st.floats(0, 100)), queue_ahead_lots=draw(st.integers(0, 100)))
        for i in range(draw(st.integers(0, 6)))
    )
    return QuoteContext(
        symbol="BTCUSDT", info=INFO, now_s=100.0, best_bid_ticks=bid, best_ask_ticks=ask,
        best_bid_lots=draw(st.integers(0, 1000)), best_ask_lots=draw(st.integers(0, 1000)), mid_ticks=mid,
        volatility_bps=draw(st.one_of(st.floats(0, 50), anything)), touch_depth_lots=draw(st.integers(0, 10**6)),
        latency_ms=draw(st.one_of(st.floats(0, 2000), anything)), pnl_bps=draw(st.one_of(finite, anything)),
        reference_ticks=draw(st.none() | st.floats(mid * 0.99, mid * 1.01)),
        trade_through=draw(st.booleans()), trade_flow=draw(st.one_of(st.floats(-100, 100), anything)),
        inventory_lots=draw(st.integers(-10**6, 10**6)),
        max_inventory_lots=draw(st.none() | st.integers(1, 10**6)),
        risk_level=draw(st.sampled_from(["OK", "OK", "SOFT", "HARD"])),
        taker_fills_remaining=draw(st.integers(0, 5)), resting=resting,
        last_fill_s={s: draw(st.floats(90, 100)) for s in draw(st.sets(st.sampled_from(sides)))},
        mid_at_last_quote_ticks=draw(st.none() | st.floats(mid * 0.999, mid * 1.001)),
    )


@st.composite
def strategy_configs(draw: st.DrawFn) -> StrategyConfig:
    lo, hi = sorted(draw(st.lists(st.floats(0.01, 50), min_size=2, max_size=2)))
    return StrategyConfig(
        adaptive_spread=AdaptiveSpreadConfig(min_spread_bps=lo, max_spread_bps=hi,
                                             base_spread_bps=draw(st.floats(0.01, 50))),
        inventory_skew=InventorySkewConfig(max_skew_bps=draw(st.floats(0, 500)), size_skew=draw(st.floats(0, 1))),
        sizes=SizeConfig(order_base={"BTCUSDT": draw(st.integers(1, 1000)) * INFO.step_size},
                         target_inventory_base={"BTCUSDT": draw(st.integers(-1000, 1000)) * INFO.step_size}),
        fair_value=FairValueConfig(flow_bps_per_unit=draw(st.floats(0, 100)), gain=draw(st.floats(0, 10)),
                                   max_shift_bps=draw(st.floats(0, 100))),
        ladder=LadderConfig(levels=draw(st.integers(1, 5)), level_spacing_bps=draw(st.floats(0.001, 50)),
                            refresh_tolerance_ticks=draw(st.integers(0, 20)), fill_delay_s=draw(st.floats(0, 20))),
        band=BandConfig(max_distance_bps=draw(st.none() | st.floats(0.1, 100))),
        fixed_spread=FixedSpreadConfig(half_spread_bps=draw(st.floats(0.001, 50))),
        avellaneda_stoikov=AvellanedaStoikovConfig(gamma=draw(st.floats(1e-4, 10)), k=draw(st.floats(1e-3, 10)),
                                                   horizon_s=draw(st.floats(0.1, 3600))),
        glft=GLFTConfig(gamma=draw(st.floats(1e-3, 10)), k=draw(st.floats(1e-2, 10)),
                        a_per_s=draw(st.floats(1e-2, 100))),
    )


def assert_maker_quotes(ctx: QuoteContext, where: str) -> None:
    mid = ctx.mid_ticks
    for q in ctx.desired:
        assert q.qty_lots > 0, where
        if q.side is Side.BUY:
            assert 0 < q.price_ticks < mid and q.price_ticks < ctx.best_ask_ticks, where
        else:
            assert mid < q.price_ticks and q.price_ticks > ctx.best_bid_ticks, where
    keys = [(q.side, q.price_ticks) for q in ctx.desired]
    assert len(set(keys)) == len(keys), where
    bids, asks = ctx.bids(), ctx.asks()
    if bids and asks:
        assert max(q.price_ticks for q in bids) < min(q.price_ticks for q in asks), where
    if ctx.halted:
        assert ctx.desired == (), where


@given(config=strategy_configs(), ctx=contexts())
def test_reference_pipeline_quotes_never_cross_after_any_stage(config: StrategyConfig, ctx: QuoteContext) -> None:
    pipeline = build_strategy(config, INFO, price=PRICE)
    assert isinstance(pipeline, QuotePipeline)
    for stage in pipeline.stages:
        ctx = stage.process(ctx)
        assert_maker_quotes(ctx, stage.name)
        if ctx.halted:
            break


@given(config=strategy_configs(), ctx=contexts(), kind=st.sampled_from(["fixed_spread", "avellaneda_stoikov",
                                                                        "glft"]))
def test_baseline_quotes_never_cross(config: StrategyConfig, ctx: QuoteContext, kind: str) -> None:
    strategy = build_strategy(config.model_copy(update={"kind": kind}), INFO, price=PRICE)
    out = strategy.decide(ctx)
    assert_maker_quotes(out, kind)
    if ctx.risk_level == "HARD":
        assert out.halted


# -- inventory skew --
@dataclass(frozen=True)
class Skew:
    """An inventory-skew stage's config, its target (lots) and the hard limit the context gives it (lots)."""

    config: InventorySkewConfig
    target: int
    limit: int

    def process(self, ctx: QuoteContext) -> QuoteContext:
        ctx.max_inventory_lots = self.limit
        return InventorySkewStage(self.config, 100, target_inventory_lots=self.target).process(ctx)


skew_configs = st.builds(Skew, config=st.builds(InventorySkewConfig, max_skew_bps=st.floats(0, 1000),
                                                size_skew=st.floats(0, 1)),
                         target=st.integers(-10**4, 10**4), limit=st.integers(1, 10**5))


def _reservation(config: Skew, inventory: int, mid: float) -> float:
    ctx = base_ctx(mid=mid)
    ctx.inventory_lots = inventory
    out = config.process(ctx)
    assert out.reservation_ticks is not None
    return out.reservation_ticks


@given(config=skew_configs, a=st.integers(-10**6, 10**6), b=st.integers(-10**6, 10**6),
       mid=st.floats(1, 1e9))
def test_skew_is_monotone_non_increasing_in_inventory(config: Skew, a: int, b: int, mid: float) -> None:
    low, high = min(a, b), max(a, b)
    assert _reservation(config, high, mid) <= _reservation(config, low, mid)


@given(config=skew_configs, inventory=st.integers(-10**6, 10**6), mid=st.floats(1, 1e9))
def test_skew_is_zero_at_target_and_bounded(config: Skew, inventory: int, mid: float) -> None:
    assert _reservation(config, config.target, mid) == mid
    bound = config.config.max_skew_bps * mid / 1e4
    assert abs(_reservation(config, inventory, mid) - mid) <= bound * (1 + 1e-12) + 4 * math.ulp(mid)


@given(config=skew_configs, inventory=st.integers(-10**6, 10**6), bid=st.integers(1, 10**8),
       width=st.integers(1, 50), spread_bps=st.floats(0.01, 100))
def test_skew_never_makes_a_side_cross(
    config: Skew, inventory: int, bid: int, width: int, spread_bps: float
) -> None:
    ctx = base_ctx(mid=bid + width / 2, bid=bid, ask=bid + width)
    ctx.inventory_lots, ctx.spread_bps = inventory, spread_bps
    ctx = config.process(ctx)
    ctx = LadderStage(LadderConfig(levels=3), INFO, fallback_spread_bps=1.0, size_lots=100).process(ctx)
    assert_maker_quotes(ctx, "skew+ladder")


# -- trade-flow fair value --
fair_value_configs = st.builds(FairValueConfig, flow_bps_per_unit=st.floats(0, 100), gain=st.floats(0, 10),
                               max_shift_bps=st.floats(0, 100))


def _fair_reservation(config: FairValueConfig, flow: float, mid: float) -> float:
    ctx = base_ctx(mid=mid)
    ctx.trade_flow = flow
    return FairValueStage(config).process(ctx).reservation_or_mid_ticks


@given(config=fair_value_configs, a=finite, b=finite, mid=st.floats(1, 1e9))
def test_fair_value_is_monotone_non_decreasing_in_the_flow(config: FairValueConfig, a: float, b: float,
                                                           mid: float) -> None:
    low, high = min(a, b), max(a, b)
    assert _fair_reservation(config, low, mid) <= _fair_reservation(config, high, mid)


@given(config=fair_value_configs, flow=anything, mid=st.floats(1, 1e9))
def test_fair_value_is_zero_without_flow_and_bounded(config: FairValueConfig, flow: float, mid: float) -> None:
    assert _fair_reservation(config, 0.0, mid) == mid
    if not math.isfinite(flow):
        assert _fair_reservation(config, flow, mid) == mid
    bound = config.max_shift_bps * mid / 1e4
    assert abs(_fair_reservation(config, flow, mid) - mid) <= bound * (1 + 1e-12) + 4 * math.ulp(mid)


@given(fair=fair_value_configs, skew=skew_configs, flow=anything, inventory=st.integers(-10**6, 10**6),
       bid=st.integers(1, 10**8), width=st.integers(1, 50), spread_bps=st.floats(0.01, 100))
def test_fair_value_never_makes_a_side_cross(
    fair: FairValueConfig, skew: Skew, flow: float, inventory: int, bid: int, width: int,
    spread_bps: float,
) -> None:
    ctx = base_ctx(mid=bid + width / 2, bid=bid, ask=bid + width)
    ctx.trade_flow, ctx.inventory_lots, ctx.spread_bps = flow, inventory, spread_bps
    ctx = skew.process(ctx)
    ctx = FairValueStage(fair).process(ctx)
    ctx = LadderStage(LadderConfig(levels=3), INFO, fallback_spread_bps=1.0, size_lots=100).process(ctx)
    assert_maker_quotes(ctx, "skew+fair_value+ladder")


# -- local book --
class LocalBookMachine(RuleBasedStateMachine):
    """The venue's book (a model) changes by diffs; some are lost or delivered twice; the local book must detect
    every gap and, once resynced, equal the model as of its own update id."""

    def __init__(self) -> None:
        super().__init__()
        self.bids: dict[int, int] = {100: 5}
        self.asks: dict[int, int] = {101: 5}
        self.update_id = 10
        self.history: dict[int, tuple[dict[int, int], dict[int, int]]] = {10: ({100: 5}, {101: 5})}
        self.last_diff: DepthUpdate | None = None
        self.lost = False  # a diff was lost since the book last synced
        self.book = LocalBook("BTCUSDT", max_buffered=50)
        self.book.apply_snapshot(self._snapshot())

    def _snapshot(self) -> BookSnapshot:
        return BookSnapshot(
            symbol="BTCUSDT", last_update_id=self.update_id,
            bids=tuple(BookLevel(p, q) for p, q in sorted(self.bids.items(), reverse=True)),
            asks=tuple(BookLevel(p, q) for p, q in sorted(self.asks.items())))

    def _change(self, changes: list[tuple[bool, int, int]], span: int) -> DepthUpdate:
        """Apply changes to the model, keeping it uncrossed (bids <= 100 < asks ... shifted by the draw)."""
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for is_bid, price, qty in changes:
            side, out = (self.bids, bids) if is_bid else (self.asks, asks)
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)
            out[price] = qty
        first = self.update_id + 1
        self.update_id += span
        self.history[self.update_id] = (dict(self.bids), dict(self.asks))
        return DepthUpdate(symbol="BTCUSDT", first_update_id=first, last_update_id=self.update_id,
                           bids=tuple(BookLevel(p, q) for p, q in bids.items()),
                           asks=tuple(BookLevel(p, q) for p, q in asks.items()), time_ms=self.update_id)

    changes = st.lists(
        st.one_of(st.tuples(st.just(True), st.integers(90, 100), st.integers(0, 9)),
                  st.tuples(st.just(False), st.integers(101, 111), st.integers(0, 9))),
        max_size=6,
    )

    @rule(changes=changes, span=st.integers(1, 3))
    def deliver(self, changes: list[tuple[bool, int, int]], span: int) -> None:
        self.last_diff = self._change(changes, span)
        self.book.apply(self.last_diff)

    @rule(changes=changes, span=st.integers(1, 3))
    def lose(self, changes: list[tuple[bool, int, int]], span: int) -> None:
        self._change(changes, span)
        self.lost = True

    @precondition(lambda self: self.last_diff is not None)
    @rule()
    def duplicate(self) -> None:
        assert self.last_diff is not None
        self.book.apply(self.last_diff)

    @precondition(lambda self: self.book.needs_resync)
    @rule()
    def resync(self) -> None:
        self.book.apply_snapshot(self._snapshot())
        if self.book.is_synced:
            self.lost = False

    @invariant()
    def synced_book_matches_a_rebuilt_one(self) -> None:
        if not self.book.is_synced:
            return
        bids, asks = self.history[self.book.last_update_id]
        assert self.book.levels(Side.BUY, 100) == [BookLevel(p, q) for p, q in sorted(bids.items(), reverse=True)]
        assert self.book.levels(Side.SELL, 100) == [BookLevel(p, q) for p, q in sorted(asks.items())]
        best_bid, best_ask = self.book.best_bid(), self.book.best_ask()
        if best_bid is not None and best_ask is not None:
            assert best_bid.price_ticks < best_ask.price_ticks

    @invariant()
    def a_synced_book_after_a_loss_is_behind_the_venue(self) -> None:
        if self.lost and self.book.is_synced:
            assert self.book.last_update_id < self.update_id


TestLocalBook = LocalBookMachine.TestCase


@given(mid=st.floats(1, 1e9), spread_bps=st.floats(1e-6, 1e4), reservation_shift=st.floats(-1e4, 1e4))
def test_ladder_rounding_alone_keeps_bid_below_mid_below_ask(
    mid: float, spread_bps: float, reservation_shift: float
) -> None:
    assume(math.isfinite(mid + reservation_shift))
    bid = max(1, math.floor(mid) - (1 if mid == math.floor(mid) else 0))
    ctx = base_ctx(mid=mid, bid=bid, ask=math.floor(mid) + 1)
    ctx.spread_bps, ctx.reservation_ticks = spread_bps, mid + reservation_shift
    ctx = LadderStage(LadderConfig(levels=2), INFO, fallback_spread_bps=1.0, size_lots=100).process(ctx)
    assert_maker_quotes(ctx, "ladder")
