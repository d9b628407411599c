"""RiskEngine: latching vs recoverable HARD, the reconcile gate, reset, kill, manual floor, history, counters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.interfaces import RiskView
from bot.risk.config import InventoryLimits, RiskConfig
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
    # the notional default (60000 quote) at a start price of 60000: a limit of 1 BTC
    return RiskEngine(RiskConfig(inventory=InventoryLimits(price_at_start_quote={"BTCUSDT": Decimal(60000)})), clock)


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


def test_reset_clears_the_latch_then_holds_hard_until_reconciled(engine: RiskEngine) -> None:
    engine.update(HARD_DD)
    engine.update(CALM)
    assert engine.reset().level is GuardLevel.HARD
    assert not engine.latched
    assert engine.reasons() == ["RECONCILE"]
    epoch = engine.reconcile_due
    assert epoch is not None
    assert engine.reconciled(epoch).level is GuardLevel.OK
    assert engine.reconcile_due is None


def test_reset_while_still_hard_stays_hard(engine: RiskEngine) -> None:
    engine.update(HARD_DD)
    assert engine.reset().level is GuardLevel.HARD


def test_without_hard_latches_a_latching_reason_recovers_like_a_recoverable_one(clock: FakeClock) -> None:
    engine = RiskEngine(RiskConfig(hard_latches=False, hard_recovery_s=0.0), clock)
    engine.update(HARD_DD)
    assert engine.update(SOFT_DD).level is GuardLevel.HARD  # hysteresis: below SOFT, not just below HARD
    assert engine.update(CALM).level is GuardLevel.HARD  # healed: RECONCILE until the venue is read
    assert engine.latch == ""
    due = engine.reconcile_due
    assert due is not None
    assert engine.reconciled(due).level is GuardLevel.OK


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
    assert engine.latch == "kill_switch"
    engine.reset()
    assert engine.latch == "" and engine.reasons() == ["RECONCILE"]
    due = engine.reconcile_due
    assert due is not None
    assert engine.reconciled(due).level is GuardLevel.OK


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


SLOW = RiskSnapshot(latency_p95_ms=5000.0)  # HARD latency (2,000 ms)
SLOWISH = RiskSnapshot(latency_p95_ms=1000.0)  # SOFT latency (500 ms): between soft and hard
RECOVERY_S = RiskConfig().hard_recovery_s


def test_a_recoverable_hard_clears_after_its_input_was_healthy_for_the_recovery_time(
    engine: RiskEngine, clock: FakeClock
) -> None:
    engine.update(SLOW)
    assert engine.latch == "" and engine.recoverable
    engine.update(CALM)
    clock.t += RECOVERY_S - 0.5
    assert engine.update(CALM).level is GuardLevel.HARD
    assert engine.reasons() == ["LATENCY"]
    clock.t += 0.5
    assert engine.update(CALM).level is GuardLevel.HARD
    assert engine.reasons() == ["RECONCILE"]
    assert engine.assessment.signals[0].subject == "after LATENCY"


def test_a_recoverable_hard_needs_its_input_below_soft_not_just_below_hard(
    engine: RiskEngine, clock: FakeClock
) -> None:
    engine.update(SLOW)
    for _ in range(3):
        clock.t += RECOVERY_S
        assert engine.update(SLOWISH).level is GuardLevel.HARD
    assert engine.reasons() == ["LATENCY"]
    assert engine.reconcile_due is None


def test_a_relapse_restarts_the_recovery_clock(engine: RiskEngine, clock: FakeClock) -> None:
    engine.update(SLOW)
    engine.update(CALM)
    clock.t += RECOVERY_S - 1
    engine.update(SLOWISH)  # unhealthy again for a moment
    clock.t += 1
    engine.update(CALM)
    clock.t += RECOVERY_S - 1
    assert engine.update(CALM).reasons == (GuardReason.LATENCY,)
    clock.t += 1
    assert engine.update(CALM).reasons == (GuardReason.RECONCILE,)


def test_the_reconcile_gate_lifts_only_for_its_own_epoch(engine: RiskEngine, clock: FakeClock) -> None:
    engine.update(SLOW)
    engine.update(CALM)
    clock.t += RECOVERY_S
    engine.update(CALM)
    first = engine.reconcile_due
    assert first is not None
    assert engine.reconciled(first - 1).level is GuardLevel.HARD  # a reconcile started before this heal
    assert engine.reconciled(first).level is GuardLevel.OK
    assert engine.reconciled(first).level is GuardLevel.OK  # idempotent


def test_a_new_hard_during_the_reconcile_keeps_the_engine_hard_after_it(engine: RiskEngine, clock: FakeClock) -> None:
    engine.update(SLOW)
    engine.update(CALM)
    clock.t += RECOVERY_S
    engine.update(CALM)
    due = engine.reconcile_due
    assert due is not None
    engine.update(RiskSnapshot(data_age_ms={"BTCUSDT": 60_000.0}))
    assert engine.reconciled(due).level is GuardLevel.HARD
    assert engine.reasons() == ["STALE_DATA"]


@pytest.mark.parametrize(("snapshot", "latch"), [
    (HARD_DD, "drawdown"),
    (RiskSnapshot(inventory_base={"BTCUSDT": Decimal("5")}), "inventory"),
])
def test_a_latching_reason_stays_hard_however_long_it_is_healthy(
    engine: RiskEngine, clock: FakeClock, snapshot: RiskSnapshot, latch: str
) -> None:
    engine.update(snapshot)
    for _ in range(5):
        clock.t += RECOVERY_S
        assert engine.update(CALM).level is GuardLevel.HARD
    assert engine.latch == latch and not engine.recoverable
    assert engine.reconcile_due is None


def test_latching_reasons_come_from_the_config(clock: FakeClock) -> None:
    engine = RiskEngine(RiskConfig(latching_reasons=("LATENCY",)), clock)
    engine.update(SLOW)
    engine.update(HARD_DD)
    engine.update(CALM)
    clock.t += RECOVERY_S
    engine.update(CALM)
    assert engine.latch == "latency"
    assert engine.reasons() == ["LATENCY"]  # the drawdown recovered; the latency latch holds


def test_an_operator_hard_floor_is_the_operator_latch(engine: RiskEngine) -> None:
    engine.manual(GuardLevel.HARD, "SIGINT")
    assert engine.latch == "operator"
    engine.manual(GuardLevel.SOFT)
    assert engine.latch == ""


def test_a_restored_latch_keeps_its_kind_and_holds_until_reset(engine: RiskEngine, clock: FakeClock) -> None:
    engine.restore("inventory: INVENTORY[BTCUSDT] HARD: 2 >= 1")
    clock.t += 10 * RECOVERY_S
    assert engine.update(CALM).level is GuardLevel.HARD
    assert engine.latch == "inventory"
    engine.restore("DRAWDOWN,LATENCY")  # what an older bot wrote
    assert engine.latch == "drawdown"
    engine.restore("something else")
    assert engine.latch == "kill_switch"


def test_a_loss_rate_hard_is_recoverable_the_drawdown_stop_loss_bounds_the_total(
    engine: RiskEngine, clock: FakeClock
) -> None:
    engine.update(RiskSnapshot(pnl_per_hour_quote=Decimal("-500")))
    assert engine.latch == "" and engine.level() == "HARD"
    engine.update(CALM)
    clock.t += RECOVERY_S
    engine.update(CALM)
    assert engine.reasons() == ["RECONCILE"]
