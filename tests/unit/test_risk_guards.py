"""Guards: each fires exactly when value >= threshold, SOFT below HARD, and the level is the max of signals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from bot.risk.config import InventoryLimits, RiskConfig
from bot.risk.guards import GuardLevel, GuardReason, GuardSignal, RiskSnapshot, assess

CONFIG = RiskConfig(inventory=InventoryLimits(hard_max_base={"BTCUSDT": Decimal("2")},
                                              price_at_start_quote={"ETHUSDT": Decimal(60000)}))

# guard -> (snapshot with the guard's measured value set to v, soft threshold, hard threshold)
GUARDS: dict[str, tuple[Callable[[Decimal], RiskSnapshot], Decimal, Decimal]] = {
    "inventory": (lambda v: RiskSnapshot(inventory_base={"BTCUSDT": v}), Decimal("1.4"), Decimal("2")),
    "drawdown": (lambda v: RiskSnapshot(drawdown_quote=v), Decimal("50"), Decimal("100")),
    "pnl_rate": (lambda v: RiskSnapshot(pnl_per_hour_quote=-v), Decimal("20"), Decimal("50")),
    "venue_health": (
        lambda v: RiskSnapshot(venue_error_rate=float(v), venue_requests=20), Decimal("0.1"), Decimal("0.3")
    ),
    "latency": (lambda v: RiskSnapshot(latency_p95_ms=float(v)), Decimal("500"), Decimal("2000")),
    "stale_data": (lambda v: RiskSnapshot(data_age_ms={"BTCUSDT": float(v)}), Decimal("2000"), Decimal("10000")),
}
REASONS = {
    "inventory": GuardReason.INVENTORY, "drawdown": GuardReason.DRAWDOWN, "pnl_rate": GuardReason.PNL_RATE,
    "venue_health": GuardReason.VENUE_HEALTH, "latency": GuardReason.LATENCY, "stale_data": GuardReason.STALE_DATA,
}
EPS = Decimal("0.001")


def _level(guard: str, value: Decimal) -> GuardLevel:
    build, _, _ = GUARDS[guard]
    return assess(build(value), CONFIG).level


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_is_ok_just_below_its_soft_threshold(guard: str) -> None:
    _, soft, _ = GUARDS[guard]
    assert _level(guard, soft - EPS) is GuardLevel.OK


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_is_soft_exactly_at_its_soft_threshold(guard: str) -> None:
    build, soft, _ = GUARDS[guard]
    result = assess(build(soft), CONFIG)
    assert result.level is GuardLevel.SOFT
    assert result.signals[0].reason is REASONS[guard]
    assert result.signals[0].threshold == pytest.approx(float(soft))


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_is_soft_between_its_thresholds(guard: str) -> None:
    _, soft, hard = GUARDS[guard]
    assert _level(guard, (soft + hard) / 2) is GuardLevel.SOFT


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_is_soft_just_below_its_hard_threshold(guard: str) -> None:
    _, _, hard = GUARDS[guard]
    assert _level(guard, hard - EPS) is GuardLevel.SOFT


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_is_hard_exactly_at_its_hard_threshold(guard: str) -> None:
    build, _, hard = GUARDS[guard]
    result = assess(build(hard), CONFIG)
    assert result.level is GuardLevel.HARD
    assert result.signals == (result.signals[0],)  # one signal per guard: the highest level only
    assert result.signals[0].threshold == pytest.approx(float(hard))


@pytest.mark.parametrize("guard", GUARDS)
def test_guard_is_hard_above_its_hard_threshold(guard: str) -> None:
    _, _, hard = GUARDS[guard]
    assert _level(guard, hard * 10) is GuardLevel.HARD


def test_empty_snapshot_is_ok_with_no_signals() -> None:
    result = assess(RiskSnapshot(), CONFIG)
    assert result.level is GuardLevel.OK
    assert result.signals == ()


def test_short_inventory_is_judged_by_its_magnitude() -> None:
    assert assess(RiskSnapshot(inventory_base={"BTCUSDT": Decimal("-2")}), CONFIG).level is GuardLevel.HARD


def test_inventory_of_an_unlisted_symbol_uses_the_default_limit() -> None:
    # the notional default 60000 at a start price of 60000 = 1 ETH: soft at 0.7
    result = assess(RiskSnapshot(inventory_base={"ETHUSDT": Decimal("0.7")}), CONFIG)
    assert result.level is GuardLevel.SOFT
    assert result.signals[0].subject == "ETHUSDT"


def test_inventory_accepts_float_units() -> None:
    assert assess(RiskSnapshot(inventory_base={"BTCUSDT": 2.5}), CONFIG).level is GuardLevel.HARD


def test_profit_never_fires_the_pnl_rate_guard() -> None:
    assert assess(RiskSnapshot(pnl_per_hour_quote=Decimal("1000")), CONFIG).level is GuardLevel.OK


def test_venue_health_is_ignored_below_min_requests() -> None:
    snapshot = RiskSnapshot(venue_error_rate=1.0, venue_requests=19)
    assert assess(snapshot, CONFIG).level is GuardLevel.OK


def test_open_circuit_is_soft() -> None:
    result = assess(RiskSnapshot(circuit_open=True), CONFIG)
    assert result.level is GuardLevel.SOFT
    assert result.reasons == (GuardReason.CIRCUIT_OPEN,)


def test_each_stale_symbol_gets_its_own_signal() -> None:
    result = assess(RiskSnapshot(data_age_ms={"BTCUSDT": 3000.0, "ETHUSDT": 20000.0}), CONFIG)
    assert [(s.subject, s.level) for s in result.signals] == [
        ("BTCUSDT", GuardLevel.SOFT), ("ETHUSDT", GuardLevel.HARD),
    ]


def test_level_is_the_max_of_all_signals() -> None:
    snapshot = RiskSnapshot(drawdown_quote=Decimal("60"), latency_p95_ms=5000.0)
    result = assess(snapshot, CONFIG)
    assert result.level is GuardLevel.HARD
    assert result.reasons == (GuardReason.DRAWDOWN, GuardReason.LATENCY)


def test_threshold_breached_names_the_config_field() -> None:
    assert GuardSignal(GuardReason.DRAWDOWN, GuardLevel.HARD, 120.0, 100.0).threshold_breached == "drawdown.hard_quote"
    assert GuardSignal(GuardReason.KILL_SWITCH, GuardLevel.HARD, 1.0, 1.0, "ops").threshold_breached == "kill_switch"


def test_nan_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="latency_p95_ms"):
        RiskSnapshot(latency_p95_ms=float("nan"))


def test_negative_request_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="venue_requests"):
        RiskSnapshot(venue_requests=-1)
