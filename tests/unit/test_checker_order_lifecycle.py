"""Invariant 5: ids never reused, one terminal state per intent within a bound, unknown outcomes never failures."""

from __future__ import annotations

from tests.checker_support import S, bot, clean_session, config, invariants, order


def test_a_reused_client_id_is_a_violation() -> None:
    events = [*clean_session(), bot(2.5, "intent", a="bot", c="c1", s=S, S="BUY", o="LIMIT_MAKER", p=90, q=1,
                                    bb=100, ba=101)]
    assert "5.order_lifecycle" in invariants(events)


def test_an_accepted_order_booked_as_rejected_is_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.order_final"]
    events += [bot(2.01, "order_final", a="bot", c="c1", X="REJECTED")]
    assert invariants(events) == {"5.order_lifecycle", "15.final_status"}


def test_an_intent_that_never_ends_is_a_violation() -> None:
    events = [*clean_session(), bot(1.2, "intent", a="bot", c="c2", s=S, S="SELL", o="LIMIT_MAKER", p=105, q=1,
                                    bb=100, ba=101)]
    assert invariants(events, config=config(terminal_bound_s=1.0)) == {"5.order_lifecycle"}


def test_a_terminal_state_learned_too_late_is_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.order_final"]
    events += [bot(2.9, "order_final", a="bot", c="c1", X="FILLED")]
    assert invariants(events, config=config(terminal_bound_s=0.5)) == {"5.order_lifecycle"}


def test_one_client_id_naming_two_venue_orders_is_a_violation() -> None:
    events = [*clean_session(), order(2.5, "c1", "NEW", "NEW", oid=2), order(2.6, "c1", "CANCELED", "CANCELED", oid=2)]
    assert "5.order_lifecycle" in invariants(events)
