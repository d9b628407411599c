"""Invariant 21 (terminal_stays): a record the bot booked terminal never re-opens, on hand-made event logs."""

from __future__ import annotations

from typing import Any

from exchange_sim.checker import check_report
from tests.checker_support import CONFIG, US, S, bot, clean_session, order, venue_state, violations

Event = dict[str, Any]


def _cancelled_c2(*extra: Event) -> list[Event]:
    """The clean session plus c2 (a bid at 99) placed at 2.2 s and cancelled at 2.4 s, booked CANCELED at 2.41 s."""
    return [*clean_session(),
            bot(2.2, "intent", a="bot", c="c2", s=S, S="BUY", o="LIMIT_MAKER", p=99, q=10, bb=100, ba=101),
            {"t": round(2.21 * US), "k": "request", "a": "bot", "op": "place", "c": "c2", "sent": round(2.2 * US)},
            order(2.21, "c2", "NEW", "NEW", p=99, oid=2),
            {"t": round(2.4 * US), "k": "request", "a": "bot", "op": "cancel", "s": S, "c": "c2", "id": None,
             "sent": round(2.39 * US)},
            order(2.4, "c2", "CANCELED", "CANCELED", p=99, oid=2),
            bot(2.41, "order_final", a="bot", c="c2", X="CANCELED"), *extra]


def _terminal(events: list[Event]) -> list[str]:
    return [f"{v.orders}: {v.detail}" for v in violations(events) if v.invariant == "21.terminal_stays"]


def test_an_order_booked_terminal_once_passes() -> None:
    assert violations(_cancelled_c2()) == []


def test_a_second_booking_of_a_terminal_order_is_a_violation() -> None:
    """A late NEW report re-opened c2; the stream's CANCELED closed it again 0.3 s later (the sabotage
    ``terminal_record_reopened``): nothing on the venue changed, but the bot believed c2 open for 0.3 s."""
    found = _terminal(_cancelled_c2(bot(2.71, "order_final", a="bot", c="c2", X="CANCELED")))
    assert found == ["('c2',): booked CANCELED again, 0.300s after it booked it CANCELED: the record left its "
                     "terminal state"]


def test_a_claim_that_a_terminal_order_rests_is_a_violation() -> None:
    reopened = bot(2.8, "open_orders", a="bot", cids=["c2"], pending=[], phase="reconciled")
    found = _terminal([e for e in _cancelled_c2(reopened) if not (e["k"] == "bot.open_orders" and e["t"] == 3 * US)])
    assert found == ["('c2',): claimed resting after it was booked CANCELED at 2.410s"]


def test_a_rebooking_is_a_violation_even_after_a_fault_lost_the_answer_to_its_request() -> None:
    """c2's place reply was cut before the stream's CANCELED: the place handler must leave the terminal record
    alone (no excuse since session 9), so marking it in doubt or booking it again is a violation."""
    lost = {"t": round(2.21 * US), "k": "fault_hit", "id": 4, "f": "truncated_frame", "e": "reply_truncated",
            "a": "bot", "op": "place", "c": "c2"}
    in_doubt = bot(5.0, "open_orders", a="bot", cids=[], pending=["c2"], phase="reconciled")
    assert _terminal(_cancelled_c2(lost, in_doubt)) == ["('c2',): claimed in doubt after it was booked CANCELED at "
                                                        "2.410s"]
    again = _terminal(_cancelled_c2(lost, bot(7.0, "order_final", a="bot", c="c2", X="CANCELED")))
    assert again == ["('c2',): booked CANCELED again, 4.590s after it booked it CANCELED: the record left its "
                     "terminal state"]


def test_a_cold_restart_starts_a_new_epoch_where_the_order_may_be_booked_again() -> None:
    restart = bot(2.6, "restart", a="bot", cold=True)
    assert _terminal(_cancelled_c2(restart, bot(2.9, "order_final", a="bot", c="c2", X="CANCELED"))) == []
    warm = bot(2.6, "restart", a="bot")
    assert len(_terminal(_cancelled_c2(warm, bot(2.9, "order_final", a="bot", c="c2", X="CANCELED")))) == 1


def test_without_order_final_records_while_orders_ended_terminal_stays_is_skipped() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.order_final"]
    report = check_report(sorted(events, key=lambda e: e["t"]), venue_state(), CONFIG)
    assert "21.terminal_stays" in report.skipped


def test_a_claim_that_the_terminal_order_rests_after_a_lost_answer_is_a_violation() -> None:
    lost = {"t": round(2.21 * US), "k": "fault_hit", "id": 4, "f": "truncated_frame", "e": "reply_truncated",
            "a": "bot", "op": "place", "c": "c2"}
    resting = bot(5.0, "open_orders", a="bot", cids=["c2"], pending=[], phase="reconciled")
    assert _terminal(_cancelled_c2(lost, resting)) == ["('c2',): claimed resting after it was booked CANCELED at "
                                                       "2.410s"]
