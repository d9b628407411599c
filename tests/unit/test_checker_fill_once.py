"""Invariant 2: each fill is booked exactly once, only real fills, none missing."""

from __future__ import annotations

from tests.checker_support import S, bot, clean_session, invariants, trade, violations


def test_a_fill_booked_twice_is_a_violation() -> None:
    events = [*clean_session(), bot(2.5, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10)]
    assert "2.fill_once" in invariants(events)


def test_a_fill_the_venue_never_made_is_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.fill_applied"]
    events += [bot(2.01, "fill_applied", a="bot", s=S, tid=8, c="c1", S="BUY", q=10)]
    assert "2.fill_once" in invariants(events)


def test_a_venue_fill_never_booked_is_a_violation() -> None:
    events = [*clean_session(), trade(2.5, 8, q=0, mo=1)]  # a second (zero-lot) fill of c1 the bot never booked
    found = [v for v in violations(events) if v.invariant == "2.fill_once"]
    assert [v.detail for v in found] == [f"venue trade 8 on {S} was never booked"]
