"""Invariant 6: inventory never exceeds the hard limit plus the orders in flight when it was last within it."""

from __future__ import annotations

from tests.checker_support import S, bot, clean_session, invariants


def test_a_fill_past_the_hard_limit_from_an_order_sent_after_the_breach_is_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.hard_limit"]
    events += [bot(0.5, "hard_limit", s=S, lots=5)]
    assert "6.inventory_limit" in invariants(events)


def test_a_fill_past_the_limit_from_an_order_already_in_flight_is_allowed() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.hard_limit"]
    events += [bot(0.5, "hard_limit", s=S, lots=10)]
    assert "6.inventory_limit" not in invariants(events)
