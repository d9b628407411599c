"""RiskEngine: latching, reset, kill, manual floor, bounded history and rising-edge counters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.interfaces import RiskView
from bot.risk.config import RiskConfig
from bot.risk.engine import RiskEngine
from bot.risk.guards import GuardLevel, GuardReason, RiskSnapshot


class FakeClock:
    def __init__(self) -> None:
        self.t = 50.0

    def monotonic_s(self) -> float:
        return self.t

    def now_ms(self) -> int:
        return 1_700_000_000_000 + round(self.t * 1000)


CALM = RiskSnapshot()
SOFT_DD = RiskSnapshot(drawdown_quote=Decimal("60"))
HARD_DD = RiskSnapshot(drawdown_quote=Decimal("150"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(clock: FakeClock) -> RiskEngine:
    return RiskEngine(RiskConfig(), clock)


def test_new_engine_is_ok(engine: RiskEngine) -> None:
    assert engine.level() == "OK"
    assert engine.reasons() == []


def test_engine_is_a_risk_view(engine: RiskEngine) -> None:
    view: RiskView = engine
    assert view.level() == "OK"


def test_update_reports_the_assessed_level_and_reasons(engine: RiskEngine) -> None:
    result = engine.update(SOFT_DD)
    assert result.level is GuardLevel.SOFT
    assert engine.level() == "SOFT"
    assert engine.reasons() == ["DRAWDOWN"]


def test_soft_does_not_latch(engine: RiskEngine) -> None:
    engine.update(SOFT_DD)
    assert engine.update(CALM).level is GuardLevel.OK


def test_hard_latches_after_the_input_recovers(engine: RiskEngine) -> None:
    engine.update(HARD_DD)
    result = engine.update(CALM)
    assert result.level is GuardLevel.HARD
    assert engine.reasons() == ["DRAWDOWN"]
    assert engine.latched


def test_reset_clears_the_latch(engine: RiskEngine) -> None:
    engine.update(HARD_DD)
    engine.update(CALM)
    assert engine.reset().level is GuardLevel.OK
    assert not engine.latched


def test_reset_while_still_hard_stays_hard(engine: RiskEngine) -> None:
    engine.update(HARD_DD)
    assert engine.reset().level is GuardLevel.HARD


def test_without_hard_latches_hard_recovers_with_its_input(clock: FakeClock) -> None:
    engine = RiskEngine(RiskConfig(hard_latches=False), clock)
    engine.update(HARD_DD)
    assert engine.update(SOFT_DD).level is GuardLevel.SOFT


def test_kill_goes_hard_with_kill_switch(engine: RiskEngine) -> None:
    result = engine.kill("operator")
    assert result.level is GuardLevel.HARD
    assert engine.reasons() == ["KILL_SWITCH"]
    assert result.signals[0].subject == "operator"


def test_kill_holds_through_calm_updates_even_without_hard_latches(clock: FakeClock) -> None:
    engine = RiskEngine(RiskConfig(hard_latches=False), clock)
    engine.kill("operator")
    assert engine.update(CALM).level is GuardLevel.HARD


def test_reset_clears_the_kill(engine: RiskEngine) -> None:
    engine.kill("operator")
    assert engine.reset().level is GuardLevel.OK


def test_manual_floor_holds_until_cleared(engine: RiskEngine) -> None:
    engine.manual(GuardLevel.SOFT, "maintenance")
    assert engine.update(CALM).level is GuardLevel.SOFT
    assert engine.reset().level is GuardLevel.SOFT
    assert engine.manual(GuardLevel.OK).level is GuardLevel.OK


def test_history_records_each_level_change_with_times_and_reasons(engine: RiskEngine, clock: FakeClock) -> None:
    engine.update(SOFT_DD)
    engine.update(SOFT_DD)
    clock.t = 60.0
    engine.update(HARD_DD)
    assert [(t.at_s, t.from_level, t.to_level, t.reasons) for t in engine.history] == [
        (50.0, GuardLevel.OK, GuardLevel.SOFT, ("DRAWDOWN",)),
        (60.0, GuardLevel.SOFT, GuardLevel.HARD, ("DRAWDOWN",)),
    ]
    assert engine.history[-1].at_ms == 1_700_000_060_000


def test_history_is_bounded(clock: FakeClock) -> None:
    engine = RiskEngine(RiskConfig(history_max=4, hard_latches=False), clock)
    for _ in range(10):
        engine.update(SOFT_DD)
        engine.update(CALM)
    assert len(engine.history) == 4


def test_counters_count_rising_edges_by_level_reason_and_threshold(engine: RiskEngine) -> None:
    engine.update(SOFT_DD)
    engine.update(SOFT_DD)
    engine.update(CALM)
    engine.update(SOFT_DD)
    engine.update(HARD_DD)
    assert engine.counters == {
        ("SOFT", "DRAWDOWN", "drawdown.soft_quote"): 2,
        ("HARD", "DRAWDOWN", "drawdown.hard_quote"): 1,
    }


def test_cancel_deadline_starts_when_hard_is_entered(engine: RiskEngine, clock: FakeClock) -> None:
    assert engine.cancel_deadline_s() is None
    engine.update(HARD_DD)
    clock.t += 3.0
    engine.update(HARD_DD)
    assert engine.cancel_deadline_s() == 50.0 + RiskConfig().cancel_bound_s


def test_a_second_hard_reason_joins_the_latch(engine: RiskEngine) -> None:
    engine.update(HARD_DD)
    engine.update(RiskSnapshot(latency_p95_ms=5000.0))
    engine.update(CALM)
    assert set(engine.assessment.reasons) == {GuardReason.DRAWDOWN, GuardReason.LATENCY}
