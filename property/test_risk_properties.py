"""Properties of the risk layer: guard monotonicity and exact thresholds, level = max of signals, the taker
cap over every sliding hour, and a circuit breaker that never lets a request through while OPEN."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.risk.circuit import CircuitBreaker, CircuitState
from bot.risk.config import (
    CircuitBreakerConfig,
    DrawdownLimits,
    InventoryLimits,
    LatencyLimits,
    PnlRateLimits,
    RiskConfig,
    StaleDataLimits,
    TakerCapConfig,
    VenueHealthLimits,
)
from bot.risk.guards import GuardLevel, RiskSnapshot, assess
from bot.risk.taker_cap import WINDOW_S, TakerCap

pytestmark = pytest.mark.property

SYMBOLS = ("BTCUSDT", "ETHUSDT")
CONFIG = RiskConfig(inventory=InventoryLimits(hard_max_base={"BTCUSDT": Decimal("2")},
                                              price_at_start_quote={"ETHUSDT": Decimal(3000)}))

decimals = st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False)
non_negative = st.floats(min_value=0, max_value=1e6, allow_nan=False)
rates = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def snapshots(draw: st.DrawFn) -> RiskSnapshot:
    return RiskSnapshot(
        inventory_base=draw(st.dictionaries(st.sampled_from(SYMBOLS), decimals | st.floats(-10, 10))),
        drawdown_quote=draw(decimals),
        pnl_per_hour_quote=draw(decimals),
        venue_error_rate=draw(rates),
        venue_requests=draw(st.integers(0, 100)),
        latency_p95_ms=draw(non_negative),
        data_age_ms=draw(st.dictionaries(st.sampled_from(SYMBOLS), non_negative)),
        circuit_open=draw(st.booleans()),
    )


def _grow(mapping: Any, delta: float) -> dict[str, Any]:
    return {k: (v + type(v)(delta)) if v >= 0 else (v - type(v)(delta)) for k, v in mapping.items()}


@st.composite
def worsened(draw: st.DrawFn) -> tuple[RiskSnapshot, RiskSnapshot]:
    """A snapshot and a copy with one input made worse (or equal)."""
    base = draw(snapshots())
    d = draw(st.decimals(min_value=0, max_value=1000, places=3))
    f = float(d)
    field = draw(st.sampled_from(
        ["inventory", "drawdown", "pnl", "error_rate", "requests", "latency", "age", "circuit", "new_symbol"]
    ))
    worse = {
        "inventory": lambda: replace(base, inventory_base=_grow(base.inventory_base, f)),
        "drawdown": lambda: replace(base, drawdown_quote=Decimal(base.drawdown_quote) + d),
        "pnl": lambda: replace(base, pnl_per_hour_quote=Decimal(base.pnl_per_hour_quote) - d),
        "error_rate": lambda: replace(base, venue_error_rate=min(1.0, base.venue_error_rate + f / 1000)),
        "requests": lambda: replace(base, venue_requests=base.venue_requests + int(f)),
        "latency": lambda: replace(base, latency_p95_ms=base.latency_p95_ms + f),
        "age": lambda: replace(base, data_age_ms={k: v + f for k, v in base.data_age_ms.items()}),
        "circuit": lambda: replace(base, circuit_open=True),
        "new_symbol": lambda: replace(base, data_age_ms={**base.data_age_ms, "NEWUSDT": f}),
    }[field]()
    return base, worse


@given(worsened())
def test_a_worse_input_never_lowers_the_level(pair: tuple[RiskSnapshot, RiskSnapshot]) -> None:
    base, worse = pair
    assert assess(worse, CONFIG).level >= assess(base, CONFIG).level


@given(snapshots())
def test_assessment_level_is_the_max_of_its_signal_levels(snapshot: RiskSnapshot) -> None:
    result = assess(snapshot, CONFIG)
    assert result.level == max((s.level for s in result.signals), default=GuardLevel.OK)


@given(snapshots())
def test_every_signal_fires_at_or_above_its_threshold(snapshot: RiskSnapshot) -> None:
    for signal in assess(snapshot, CONFIG).signals:
        assert signal.value >= signal.threshold


thresholds = st.decimals(min_value=1, max_value=1000, places=2)


@given(soft=thresholds, hard=thresholds, guard=st.sampled_from(["drawdown", "pnl", "latency", "age", "inventory"]),
       offset=st.sampled_from([Decimal("-0.01"), Decimal(0), Decimal("0.01")]), at_hard=st.booleans())
def test_a_guard_fires_exactly_when_value_reaches_its_threshold(
    soft: Decimal, hard: Decimal, guard: str, offset: Decimal, at_hard: bool
) -> None:
    soft, hard = min(soft, hard), max(soft, hard)
    value = (hard if at_hard else soft) + offset
    config = RiskConfig(
        drawdown=DrawdownLimits(soft_quote=soft, hard_quote=hard),
        pnl_rate=PnlRateLimits(soft_loss_per_hour_quote=soft, hard_loss_per_hour_quote=hard),
        latency=LatencyLimits(soft_p95_ms=float(soft), hard_p95_ms=float(hard)),
        stale_data=StaleDataLimits(soft_age_ms=float(soft), hard_age_ms=float(hard)),
        inventory=InventoryLimits(default_hard_max_base=hard, soft_fraction=float(soft / hard)),
    )
    snapshot = {
        "drawdown": lambda: RiskSnapshot(drawdown_quote=value),
        "pnl": lambda: RiskSnapshot(pnl_per_hour_quote=-value),
        "latency": lambda: RiskSnapshot(latency_p95_ms=float(value)),
        "age": lambda: RiskSnapshot(data_age_ms={"BTCUSDT": float(value)}),
        "inventory": lambda: RiskSnapshot(inventory_base={"BTCUSDT": value}),
    }[guard]()
    if guard == "inventory":  # soft = soft_fraction * hard, written back as the decimal of a float
        soft = Decimal(repr(config.inventory.soft_fraction)) * hard
    expected = GuardLevel.HARD if value >= hard else GuardLevel.SOFT if value >= soft else GuardLevel.OK
    assert assess(snapshot, config).level is expected


@given(rate=rates, requests=st.integers(0, 50), soft=rates, hard=rates, min_requests=st.integers(1, 40))
def test_venue_health_fires_exactly_at_thresholds_once_enough_requests(
    rate: float, requests: int, soft: float, hard: float, min_requests: int
) -> None:
    soft, hard = max(min(soft, hard), 1e-9), max(soft, hard, 1e-9)
    config = RiskConfig(venue_health=VenueHealthLimits(
        soft_error_rate=soft, hard_error_rate=hard, min_requests=min_requests
    ))
    level = assess(RiskSnapshot(venue_error_rate=rate, venue_requests=requests), config).level
    if requests < min_requests:
        assert level is GuardLevel.OK
    else:
        assert level is (GuardLevel.HARD if rate >= hard else GuardLevel.SOFT if rate >= soft else GuardLevel.OK)


taker_steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=900, allow_nan=False), st.floats(0, 40, allow_nan=False)), max_size=300
)
small_caps = st.tuples(st.integers(0, 8), st.integers(0, 8), st.integers(0, 8))


def _run_taker_cap(steps: list[tuple[float, float]], caps: tuple[int, int, int]) -> list[tuple[float, int]]:
    """Take every taker fill the cap allows; returns (time, cap in force when it was allowed) per fill."""
    cap = TakerCap(TakerCapConfig(calm_per_hour=caps[0], moderate_per_hour=caps[1], volatile_per_hour=caps[2]))
    now = 0.0
    fills: list[tuple[float, int]] = []
    for gap, vol in steps:
        now += gap
        if cap.allowed(now, vol):
            cap.record(now)
            fills.append((now, cap.cap_per_hour(vol)))
    return fills


@given(steps=taker_steps, caps=small_caps)
def test_taker_cap_never_exceeds_the_cap_in_force_over_the_hour_before_a_fill(
    steps: list[tuple[float, float]], caps: tuple[int, int, int]
) -> None:
    fills = _run_taker_cap(steps, caps)
    for i, (t, limit) in enumerate(fills):
        assert sum(1 for u, _ in fills[: i + 1] if u > t - WINDOW_S) <= limit


@given(steps=taker_steps, volatility_bps=st.floats(0, 40, allow_nan=False), cap_per_hour=st.integers(0, 8))
def test_taker_cap_at_fixed_volatility_never_allows_more_than_the_cap_in_any_hour(
    steps: list[tuple[float, float]], volatility_bps: float, cap_per_hour: int
) -> None:
    fills = _run_taker_cap([(gap, volatility_bps) for gap, _ in steps], (cap_per_hour,) * 3)
    times = [t for t, _ in fills]
    for start in times:  # every one-hour window [start, start + 1h) that begins at a fill
        assert sum(1 for u in times if start <= u < start + WINDOW_S) <= cap_per_hour


@given(
    ops=st.lists(
        st.one_of(
            st.tuples(st.just("wait"), st.floats(min_value=0, max_value=8, allow_nan=False)),
            st.tuples(st.just("record"), st.booleans()),
            st.tuples(st.just("allow"), st.none()),
        ),
        max_size=200,
    ),
    probes=st.integers(1, 3),
)
def test_circuit_breaker_never_allows_while_open_before_the_cooldown(ops: list[tuple[str, Any]], probes: int) -> None:
    class Clock:
        t = 0.0

        def monotonic_s(self) -> float:
            return self.t

        def now_ms(self) -> int:
            return round(self.t * 1000)

    clock = Clock()
    config = CircuitBreakerConfig(window_s=20, min_requests=3, max_error_rate=0.5, cooldown_s=10,
                                  half_open_probes=probes)
    breaker = CircuitBreaker(config, clock)
    opened_at: float | None = None
    granted_in_half_open = 0
    for op, arg in ops:
        if op == "wait":
            clock.t += arg
        elif op == "record":
            breaker.record(arg)
        else:
            was = breaker.state
            allowed = breaker.allow()
            if opened_at is not None and clock.t < opened_at + config.cooldown_s:
                assert not allowed
            if was is CircuitState.HALF_OPEN and allowed:
                granted_in_half_open += 1
                assert granted_in_half_open <= probes
        state = breaker.state
        if state is CircuitState.OPEN and opened_at is None:
            opened_at = clock.t
        elif state is not CircuitState.OPEN:
            opened_at = None
        if state is not CircuitState.HALF_OPEN:
            granted_in_half_open = 0
