"""Invariant 4: the venue's open orders equal the bot's after reconciliation and at the end."""

from __future__ import annotations

from tests.checker_support import bot, clean_session, invariants, venue_state, violations


def test_an_order_left_on_the_venue_at_the_end_is_an_orphan() -> None:
    assert invariants(clean_session(), venue_state(open_orders=frozenset({"c9"}))) == {"4.no_orphans"}


def test_a_reconciled_view_missing_a_resting_order_is_a_violation() -> None:
    events = [*clean_session(), bot(1.5, "open_orders", a="bot", cids=[], pending=[], phase="reconciled")]
    found = violations(events)
    assert [(v.invariant, v.orders) for v in found] == [("4.no_orphans", ("c1",))]


def test_an_in_flight_order_is_not_an_orphan() -> None:
    events = [*clean_session(), bot(1.5, "open_orders", a="bot", cids=[], pending=["c1"], phase="reconciled")]
    assert violations(events) == []
