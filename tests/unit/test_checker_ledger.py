"""Invariant 1: the bot's final position equals the venue's fills and the fills it booked."""

from __future__ import annotations

from tests.checker_support import S, bot, clean_session, invariants, violations


def test_a_final_position_that_differs_from_the_venue_fills_is_a_ledger_violation() -> None:
    events = [e for e in clean_session() if not (e["k"] == "bot.position" and e["final"])]
    events += [bot(3.0, "position", a="bot", s=S, lots=20, final=True)]
    assert invariants(events) == {"1.ledger", "17.restart_ledger"}  # 17: not the sum of the fills it booked


def test_only_the_final_position_is_compared() -> None:
    events = [*clean_session(), bot(1.5, "position", a="bot", s=S, lots=0, final=False)]
    assert violations(events) == []
