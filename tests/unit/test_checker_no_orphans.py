"""Invariant 4: the venue's open orders equal the bot's after reconciliation and at the end."""

from __future__ import annotations

from tests.checker_support import bot, clean_session, invariants, venue_state, violations


def test_an_order_left_on_the_venue_at_the_end_is_an_orphan() -> None:
    assert invariants(clean_session(), venue_state(open_orders=frozenset({"c9"}))) == {"4.no_orphans",
                                                                                      "13.closed_at_end"}


def test_a_reconciled_view_missing_a_resting_order_is_a_violation() -> None:
    events = [*clean_session(), bot(1.5, "open_orders", a="bot", cids=[], pending=[], phase="reconciled")]
    found = violations(events)
    assert [(v.invariant, v.orders) for v in found] == [("4.no_orphans", ("c1",))]


def test_an_in_flight_order_is_not_an_orphan() -> None:
    events = [*clean_session(), bot(1.5, "open_orders", a="bot", cids=[], pending=["c1"], phase="reconciled")]
    assert violations(events) == []


def test_an_order_filled_after_the_listing_was_read_is_judged_by_neither_side() -> None:
    listing = {"t": 1_900_000, "k": "request", "a": "bot", "op": "openOrders", "s": None, "sent": 1_890_000}
    events = [*clean_session(), listing, bot(2.005, "open_orders", a="bot", cids=["c1"], pending=[],
                                             phase="reconciled")]  # c1 filled at 2.0, its report not yet in
    assert violations(events) == []


def test_an_order_that_was_gone_before_the_listing_is_still_an_orphan_of_the_bots_view() -> None:
    listing = {"t": 2_500_000, "k": "request", "a": "bot", "op": "openOrders", "s": None, "sent": 2_490_000}
    events = [*clean_session(), listing, bot(2.6, "open_orders", a="bot", cids=["c1"], pending=[],
                                             phase="reconciled")]
    # the claim also re-opens c1, which the bot had booked FILLED at 2.01 s (invariant 21)
    assert [(v.invariant, v.orders) for v in violations(events)] == [("21.terminal_stays", ("c1",)),
                                                                      ("4.no_orphans", ("c1",))]


def test_an_order_placed_and_filled_between_the_listing_and_the_record_is_judged_by_neither_side() -> None:
    # chaos seed 200: c1 is placed just after the listing (the bot learns it by query), then fills while the
    # record is being written; live at neither end, but it changed in between
    listing = {"t": 950_000, "k": "request", "a": "bot", "op": "openOrders", "s": None, "sent": 940_000}
    events = [*clean_session(), listing, bot(2.005, "open_orders", a="bot", cids=["c1"], pending=[],
                                             phase="reconciled")]
    assert violations(events) == []
