"""Invariant 10 (liveness, checked apart from safety): quoting resumes within the bound once faults heal."""

from __future__ import annotations

from exchange_sim.checker import SessionIndex, Violation, check_liveness, check_safety, heal_times
from tests.checker_support import S, bot, clean_session, config, invariants, order, trade, venue_state


def _fault(t: float, ph: str) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "fault", "id": 0, "f": "partition", "tg": "rest", "ph": ph}


def _intent(t: float, cid: str) -> dict[str, object]:
    return bot(t, "intent", a="bot", c=cid, s=S, S="BUY", o="LIMIT_MAKER", p=100, q=10, bb=99, ba=101)


def _tail(t: float) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "regime", "regime": "calm"}


def test_no_quote_after_the_faults_heal_is_a_liveness_violation() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == {"10.liveness"}
    assert check_safety(sorted(events, key=lambda e: e["t"]), venue_state(), config(liveness_bound_s=1.0)) == []


def test_a_new_quote_within_the_bound_is_live() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), _intent(2.9, "c2"),
              order(3.0, "c2", "NEW", "NEW", oid=2),
              order(3.2, "c2", "CANCELED", "CANCELED", oid=2), bot(3.3, "order_final", a="bot", c="c2", X="CANCELED"),
              _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == set()


def test_a_recoverable_hard_guard_at_the_bound_is_no_excuse() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"),
              bot(2.3, "guard", level="HARD", reason="LATENCY", latch="", recoverable=True), _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == {"10.liveness"}


def test_a_kill_switch_latch_the_operator_pulled_exempts_the_heal() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"),
              {"t": 2_250_000, "k": "harness.operator", "action": "kill_switch", "when": "time"},
              bot(2.3, "guard", level="HARD", reason="KILL_SWITCH", latch="kill_switch", recoverable=False),
              _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == set()


def test_a_kill_switch_latch_nobody_pulled_is_an_unexplained_halt() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"),
              bot(2.3, "guard", level="HARD", reason="KILL_SWITCH", latch="kill_switch", recoverable=False),
              _tail(10.0)]
    found = [v for v in _violations(events) if v.invariant == "10.liveness"]
    assert len(found) == 1 and "unexplained halt" in found[0].detail


def test_an_inventory_latch_the_venue_position_never_justified_is_a_violation() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"),
              bot(2.3, "guard", level="HARD", reason="INVENTORY", latch="inventory", recoverable=False), _tail(10.0)]
    found = [v for v in _violations(events, hard_limit_lots={S: 10_000}) if v.invariant == "10.liveness"]
    assert len(found) == 1 and "never reached the hard limit" in found[0].detail
    assert not [v for v in _violations(events, hard_limit_lots={S: 1}) if v.invariant == "10.liveness"]


def test_soft_with_a_flat_venue_position_has_nothing_to_quote() -> None:
    flat = [e for e in clean_session() if e["k"] not in ("trade",)]
    events = [*flat, _fault(2.2, "start"), _fault(2.5, "end"),
              bot(2.3, "guard", level="SOFT", reason="PNL_RATE", latch="", recoverable=True), _tail(10.0)]
    assert "10.liveness" not in invariants(events, config=config(liveness_bound_s=1.0))


def test_a_heal_that_new_faults_interrupt_within_the_bound_is_judged_at_the_next_heal() -> None:
    second = {"t": 2_800_000, "k": "fault", "id": 1, "f": "partition", "tg": "rest", "ph": "start"}
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), second,
              {**second, "t": 9_500_000, "ph": "end"}, _tail(10.0)]
    assert heal_times(SessionIndex.build(sorted(events, key=lambda e: e["t"]), "bot")) == [2_500_000, 9_500_000]
    assert "10.liveness" not in invariants(events, config=config(liveness_bound_s=1.0))  # 9.5 + 1 > the end


def test_a_loss_halt_excuses_only_when_the_venue_shows_a_loss() -> None:
    halt = bot(2.3, "guard", level="HARD", reason="DRAWDOWN,PNL_RATE", latch="", recoverable=True)
    market_falls = trade(2.4, 8, p=90, ma="mm", ta="other")  # the bot holds 10 lots bought at 100
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), halt, market_falls, _tail(10.0)]
    assert not [v for v in _violations(events) if v.invariant == "10.liveness"]
    market_rises = trade(2.4, 8, p=110, ma="mm", ta="other")
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), halt, market_rises, _tail(10.0)]
    found = [v for v in _violations(events) if v.invariant == "10.liveness"]
    assert len(found) == 1 and "show no loss" in found[0].detail



def test_a_loss_halt_is_judged_by_the_hard_reasons_not_every_reason_in_force() -> None:
    """Seed 88: HARD on PNL_RATE while the inventory is SOFT; the record's ``hard`` says what holds the bot."""
    falls = trade(2.4, 8, p=90, ma="mm", ta="other")
    loss_halt = bot(2.3, "guard", level="HARD", reason="INVENTORY,DRAWDOWN,PNL_RATE", hard="PNL_RATE", latch="",
                    recoverable=True)
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), loss_halt, falls, _tail(10.0)]
    assert not [v for v in _violations(events) if v.invariant == "10.liveness"]
    stuck = bot(2.3, "guard", level="HARD", reason="LATENCY,PNL_RATE", hard="LATENCY,PNL_RATE", latch="",
                recoverable=True)
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), stuck, falls, _tail(10.0)]
    assert [v.invariant for v in _violations(events)] == ["10.liveness"]


def _operator_latch(reset_t: float, *, pulled: bool = True) -> list[dict[str, object]]:
    """A kill switch (pulled by the operator at 2.25 s unless ``pulled`` is false) latched at 2.3 s, reset at
    ``reset_t``: the bot stays HARD (RECONCILE, no latch) until its reconcile."""
    pull = [{"t": 2_250_000, "k": "harness.operator", "action": "kill_switch", "when": "time"}] if pulled else []
    return [*pull, bot(2.3, "guard", level="HARD", reason="KILL_SWITCH", latch="kill_switch", recoverable=False),
            bot(reset_t, "guard", level="HARD", reason="operator reset: harness operator", hard="RECONCILE",
                latch="", recoverable=True)]


def _quote_at(t: float) -> list[dict[str, object]]:
    return [_intent(t - 0.05, "c2"), order(t, "c2", "NEW", "NEW", oid=2),
            order(t + 0.2, "c2", "CANCELED", "CANCELED", oid=2),
            bot(t + 0.3, "order_final", a="bot", c="c2", X="CANCELED")]


def test_a_latch_the_operator_lifts_inside_the_bound_restarts_it_from_the_lift() -> None:
    """Chaos seed 370: the operator reset a kill switch 89.75 s into the 90 s bound after a heal; the bot quoted
    0.46 s after the reset, 0.12 s past the heal's bound."""
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), *_operator_latch(3.4), *_quote_at(3.9),
              _tail(10.0)]
    assert not [v for v in _violations(events) if v.invariant == "10.liveness"]


def test_no_quote_within_the_bound_from_a_latch_lift_is_a_violation() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), *_operator_latch(3.4), *_quote_at(4.6),
              _tail(10.0)]
    found = [v for v in _violations(events) if v.invariant == "10.liveness"]
    assert [(v.t_s, "a latch lifted at 3.400s" in v.detail) for v in found] == [(4.4, True)]


def test_an_unexplained_latch_lifted_inside_the_bound_buys_no_time() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), *_operator_latch(3.4, pulled=False),
              *_quote_at(3.9), _tail(10.0)]
    assert [v.t_s for v in _violations(events) if v.invariant == "10.liveness"] == [3.5]


def _violations(events: list[dict[str, object]], **changes: object) -> list[Violation]:
    return check_liveness(SessionIndex.build(sorted(events, key=lambda e: e["t"]), "bot"),
                          config(liveness_bound_s=1.0, **changes), venue_state())
