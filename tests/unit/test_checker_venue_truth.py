"""Invariants 13-17: the bot's claims about its orders and books against the venue's records."""

from __future__ import annotations

from typing import Any

from exchange_sim.checker import CheckConfig, check_report
from tests.checker_support import CONFIG, S, bot, clean_session, config, invariants, order, venue_state, violations

US = 1_000_000


def _intent(t: float, cid: str, *, side: str = "BUY", p: int = 100, q: int = 10) -> dict[str, Any]:
    return bot(t, "intent", a="bot", c=cid, s=S, S=side, o="LIMIT_MAKER", p=p, q=q, bb=100, ba=101)


def _request(t: float, op: str, sent: float, **fields: Any) -> dict[str, Any]:
    return {"t": round(t * US), "k": "request", "a": "bot", "op": op, "sent": round(sent * US), **fields}


def _cancelled(t: float, cid: str, oid: int, **kw: Any) -> list[dict[str, Any]]:
    return [_request(t - 0.01, "cancel", t - 0.02, s=S, c=cid, id=None),
            order(t, cid, "CANCELED", "CANCELED", oid=oid, **kw), bot(t + 0.01, "order_final", a="bot", c=cid,
                                                                      X="CANCELED")]


# 13. closed at end ---------------------------------------------------------------------------------------------

def _left_open() -> list[dict[str, Any]]:
    """c2 (a sell at 101) is placed at 2.5 s and never cancelled; the bot even says so at the end."""
    events = [e for e in clean_session() if e["k"] != "bot.open_orders"]
    return [*events, _intent(2.4, "c2", side="SELL", p=101), order(2.5, "c2", "NEW", "NEW", side="SELL", p=101, oid=2),
            bot(3.0, "open_orders", a="bot", cids=["c2"], pending=[], phase="final")]


def test_an_order_of_the_bot_open_on_the_venue_after_its_stop_is_a_violation() -> None:
    found = violations(_left_open(), venue_state(open_orders=frozenset({"c2"})))
    assert [(v.invariant, v.orders) for v in found] == [("13.closed_at_end", ("c2",))]


def test_an_order_left_open_while_the_venue_was_unreachable_at_the_end_is_allowed() -> None:
    partition = [{"t": round(2.8 * US), "k": "fault", "id": 3, "f": "partition", "tg": "rest", "ph": "start"},
                 {"t": round(2.9 * US), "k": "fault_hit", "id": 3, "f": "partition", "e": "request_lost", "a": "bot",
                  "op": "cancelAll", "sent": round(2.9 * US)}]
    assert "13.closed_at_end" not in invariants([*_left_open(), *partition],
                                                venue_state(open_orders=frozenset({"c2"})))


def test_without_the_venue_end_state_closed_at_end_is_skipped_not_passed() -> None:
    report = check_report(sorted(clean_session(), key=lambda e: e["t"]), None, CONFIG)
    assert report.skipped["13.closed_at_end"] == "no venue end state (VenueState) was given"
    assert "13.closed_at_end" in {v.invariant for v in report.failures()}
    assert "13.closed_at_end" not in {v.invariant for v in report.failures(frozenset({"13.closed_at_end",
                                                                                          "3.conservation"}))}


# 14. one live order per intent ---------------------------------------------------------------------------------

def _resent(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    """c1 (BUY 10 @ 100) rests from 1.01 s; c2, the same order, is sent at 1.5 s; c2 is cancelled at 2.5 s."""
    return [*clean_session(), _intent(1.5, "c2"), order(1.51, "c2", "NEW", "NEW", oid=2), *_cancelled(2.5, "c2", 2),
            *extra]


def test_the_same_order_sent_again_while_the_first_rests_is_a_duplicate() -> None:
    found = [v for v in violations(_resent()) if v.invariant == "14.one_per_intent"]
    assert [v.orders for v in found] == [("c1", "c2")]
    assert invariants(_resent()) == {"14.one_per_intent"}


def test_a_resend_after_a_cancel_of_the_first_was_sent_is_a_new_intent() -> None:
    assert invariants(_resent(_request(1.45, "cancel", 1.4, s=S, c="c1", id=None))) == set()


def test_a_resend_after_a_cancel_by_venue_order_id_was_sent_is_a_new_intent() -> None:
    assert invariants(_resent(_request(1.45, "cancel", 1.4, s=S, c=None, id=1))) == set()


def test_a_resend_after_the_first_ended_on_the_venue_is_a_new_intent() -> None:
    events = [*clean_session(), _intent(2.5, "c2"), order(2.51, "c2", "NEW", "NEW", oid=2), *_cancelled(2.8, "c2", 2)]
    assert invariants(events) == set()


def test_an_order_no_intent_announced_is_a_violation() -> None:
    events = [*clean_session(), order(2.5, "c3", "NEW", "NEW", side="SELL", p=105, oid=3), *_cancelled(2.8, "c3", 3)]
    found = [v for v in violations(events) if v.invariant == "14.one_per_intent"]
    assert [(v.orders, v.detail) for v in found] == [(("c3",), "on the venue, but no bot.intent announced it")]


# 15. terminal status as booked ---------------------------------------------------------------------------------

def _booked(status: str, cid: str = "c1") -> list[dict[str, Any]]:
    events = [e for e in clean_session() if e["k"] != "bot.order_final"]
    return [*events, bot(2.01, "order_final", a="bot", c=cid, X=status)]


def test_a_filled_order_booked_as_cancelled_is_a_violation() -> None:
    found = [v for v in violations(_booked("CANCELED")) if v.invariant == "15.final_status"]
    assert [(v.orders, v.detail) for v in found] == [(("c1",), "booked CANCELED; the venue's status is FILLED")]


def test_an_order_the_venue_never_saw_may_be_booked_rejected_not_cancelled() -> None:
    assert "15.final_status" not in invariants([*clean_session(), bot(2.5, "order_final", a="bot", c="c9",
                                                                        X="REJECTED")])
    assert "15.final_status" in invariants([*clean_session(), bot(2.5, "order_final", a="bot", c="c9",
                                                                    X="CANCELED")])


def test_expired_in_match_reads_as_expired() -> None:
    events = [*clean_session(), _intent(2.4, "c2", side="SELL", p=101),
              order(2.5, "c2", "NEW", "NEW", side="SELL", p=101, oid=2),
              order(2.6, "c2", "EXPIRED", "EXPIRED_IN_MATCH", side="SELL", p=101, oid=2),
              bot(2.7, "order_final", a="bot", c="c2", X="EXPIRED")]
    assert invariants(events) == set()


# 16. books after every reconcile -------------------------------------------------------------------------------

def _reconciled_at(t: float, lots: int, listed: float, booked_t: float = 2.01) -> list[dict[str, Any]]:
    """A reconcile that read the venue's trades at ``listed`` s and reported ``lots`` at ``t`` s; the bot booked
    the 10-lot fill of 2.0 s at ``booked_t`` s."""
    events = [{**e, "t": round(booked_t * US)} if e["k"] == "bot.fill_applied" else e for e in clean_session()]
    return [*events, _request(listed, "myTrades", listed - 0.01, s=S), _request(listed + 0.05, "openOrders",
                                                                                 listed + 0.04, s=None),
            _request(listed + 0.1, "account", listed + 0.09), bot(t, "position", a="bot", s=S, lots=lots, final=False)]


def test_a_position_after_a_reconcile_that_missed_a_listed_fill_is_a_violation() -> None:
    found = [v for v in violations(_reconciled_at(2.5, 0, listed=2.3, booked_t=2.6))
             if v.invariant == "16.reconciled_books"]
    assert len(found) == 1 and "bot position 0 lots after a reconcile, venue 10" in found[0].detail


def test_a_fill_the_listing_did_not_cover_and_the_stream_had_not_delivered_is_in_flight() -> None:
    assert invariants(_reconciled_at(2.5, 0, listed=1.9, booked_t=2.6)) == set()


def test_a_fill_after_the_listing_already_booked_from_the_stream_counts() -> None:
    assert invariants(_reconciled_at(2.5, 10, listed=1.9)) == set()
    assert "16.reconciled_books" in invariants(_reconciled_at(2.5, 0, listed=1.9))


def test_without_positions_after_reconciles_the_books_are_skipped() -> None:
    events = [e for e in clean_session() if not (e["k"] == "bot.position" and not e["final"])]
    found = [v.detail for v in violations(events) if v.invariant == "16.reconciled_books"]
    assert found == ["skipped: no bot.position record after a reconcile (only the final one, or none)"]


# 17. ledger across restarts ------------------------------------------------------------------------------------

def test_a_fill_booked_again_after_a_restart_is_a_violation() -> None:
    events = [*clean_session(), bot(2.2, "restart", a="bot"),
              bot(2.3, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10)]
    found = [v for v in violations(events) if v.invariant == "17.restart_ledger"]
    assert [v.detail for v in found] == ["trade 7 on BTCUSDT booked in life 0 and again in life 1 after a restart"]


def test_a_cold_restart_may_book_the_past_again_but_only_once() -> None:
    """A new instance without the state file learns the earlier fills again from the venue: a new ledger. Within
    it, a fill is still booked once (invariants 2 and 17)."""
    again = [*clean_session(), bot(2.2, "restart", a="bot", cold=True),
             bot(2.3, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10)]
    assert not {"2.fill_once", "17.restart_ledger"} & invariants(again)
    twice = [*again, bot(2.4, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10)]
    assert "2.fill_once" in invariants(twice)
    warm_after_cold = [*again, bot(2.6, "restart", a="bot"),
                       bot(2.7, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10)]
    assert "17.restart_ledger" in invariants(warm_after_cold)


def test_after_a_cold_restart_the_ledger_is_the_new_instances_bookings() -> None:
    """The cold instance re-books trade 7 from the venue: its ledger (10 lots) is the one compared at the end;
    counting both lives' bookings (20) would be a false alarm."""
    events = [e for e in clean_session() if not (e["k"] == "bot.position" and e.get("final"))]
    events += [bot(2.2, "restart", a="bot", cold=True),
               bot(2.3, "fill_applied", a="bot", s=S, tid=7, c="c1", S="BUY", q=10),
               bot(3.0, "position", a="bot", s=S, lots=10, final=True)]
    assert "1.ledger" not in invariants(events)
    wrong = [*events[:-1], bot(3.0, "position", a="bot", s=S, lots=0, final=True)]
    assert "1.ledger" in invariants(wrong)


def test_an_intent_a_cold_restart_forgot_need_not_be_booked_terminal() -> None:
    """c2 was placed, then the state file was lost; the venue filled it later: the new instance has no record."""
    base = [e for e in clean_session() if e["t"] < 3_000_000]
    c2 = [bot(2.5, "intent", a="bot", c="c2", s=S, S="BUY", o="LIMIT_MAKER", p=100, q=10, bb=100, ba=101),
          {"t": 2_510_000, "k": "request", "a": "bot", "op": "place", "c": "c2", "sent": 2_500_000},
          order(2.51, "c2", "NEW", "NEW", oid=2)]
    tail = [order(4.0, "c2", "CANCELED", "CANCELED", oid=2),
            bot(300.0, "open_orders", a="bot", cids=[], pending=[], phase="final"),
            bot(300.0, "position", a="bot", s=S, lots=10, final=True)]
    forgotten = [*base, *c2, bot(3.0, "restart", a="bot", cold=True), *tail]
    assert "5.order_lifecycle" not in invariants(forgotten)
    remembered = [*base, *c2, bot(3.0, "restart", a="bot"), *tail]
    assert "5.order_lifecycle" in invariants(remembered)


def test_a_double_booked_position_a_restart_rebuilt_is_still_caught() -> None:
    """Life 0 counted the fill twice (20 lots after a reconcile); life 1 rebuilt 10 from the store: the final
    ledger (invariant 1) agrees, the claims of every life do not."""
    events = [*clean_session(), bot(2.1, "position", a="bot", s=S, lots=20, final=False),
              bot(2.2, "restart", a="bot"), bot(2.5, "position", a="bot", s=S, lots=10, final=False)]
    found = invariants(events)
    assert "1.ledger" not in found
    assert found == {"16.reconciled_books", "17.restart_ledger"}


# CheckReport ---------------------------------------------------------------------------------------------------

def test_a_missing_record_is_reported_as_skipped_and_fails_unless_allowed() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.open_orders"]
    report = check_report(sorted(events, key=lambda e: e["t"]), venue_state(), CONFIG)
    assert report.violations == () and report.skipped == {"4.no_orphans": "no bot.open_orders record"}
    assert [v.detail for v in violations(events)] == ["skipped: no bot.open_orders record"]
    assert violations(events, config=config(allowed_skips=frozenset({"4.no_orphans"}))) == []


def test_a_default_check_config_has_no_limits_so_the_limit_invariants_are_skipped() -> None:
    report = check_report(sorted(clean_session(), key=lambda e: e["t"]), venue_state(), CheckConfig())
    assert set(report.skipped) == {"6.inventory_limit", "19.soft_reduce_only",
                                   "22.soft_reduces"}  # the clean session's bot took no liquidity


def _balances_at(t: float, listed: float, btc: int) -> list[dict[str, Any]]:
    return [*clean_session(), _request(listed, "account", listed - 0.01),
            bot(t, "balances", a="bot", atoms={"BTC": btc, "USDT": 1_000_000 - (100 * 10 * 10 if btc > 10_000 else 0)})]


def test_balances_after_a_reconcile_equal_the_venues_as_of_its_balance_listing() -> None:
    assert invariants(_balances_at(2.5, listed=2.3, btc=20_000)) == set()  # opening 10,000 + the 10-lot buy
    assert invariants(_balances_at(2.5, listed=1.9, btc=10_000)) == set()  # listed before the fill


def test_balances_after_a_reconcile_that_differ_from_the_venues_are_a_violation() -> None:
    found = [v.detail for v in violations(_balances_at(2.5, listed=2.3, btc=10_000))
             if v.invariant == "16.reconciled_books"]
    assert found == ["balances after a reconcile: BTC bot 10000 atoms, venue 20000, USDT bot 1000000 atoms, "
                     "venue 990000"]


def test_a_resend_while_the_first_was_still_on_its_way_is_a_duplicate_once_both_rest() -> None:
    """c1's place was slow (it reached the venue at 1.6 s); the bot re-sent it as c2 at 1.5 s: both rest from 1.6."""
    events = [{**e, "t": round(1.6 * US)} if e["k"] == "order" and e["c"] == "c1" and e["x"] == "NEW" else e
              for e in _resent()]
    found = [v for v in violations(events) if v.invariant == "14.one_per_intent"]
    assert [(v.orders, v.t_s) for v in found] == [(("c1", "c2"), 1.6)]


def test_identical_quotes_decided_at_one_instant_are_not_a_resend() -> None:
    events = [*clean_session(), _intent(1.0, "c2"), order(1.02, "c2", "NEW", "NEW", oid=2), *_cancelled(2.5, "c2", 2)]
    assert "14.one_per_intent" not in invariants(events)
