"""Invariant 16 judges a reconcile by the listings whose answer reached the bot (chaos seeds 151 and 744).

Two reconciles may overlap (the periodic one and the one after a user-stream gap). The checker used to take the
last trade listing sent before the reconcile's open-orders request as the one it read, even when that listing
belonged to the other reconcile and its answer never came: refused with a 429 (seed 744) or cut short by a
truncated frame (seed 151). A listing answered in time still counts, whichever reconcile sent it.
"""

from __future__ import annotations

from typing import Any

from exchange_sim.checker.index import SessionIndex
from exchange_sim.checker.venue_truth import answered_requests
from tests.checker_support import S, bot, clean_session, invariants, violations

US = 1_000_000


def _request(t: float, op: str, **fields: Any) -> dict[str, Any]:
    return {"t": round(t * US), "k": "request", "a": "bot", "op": op, "sent": round((t - 0.01) * US), **fields}


def _hit(t: float, op: str, effect: str) -> dict[str, Any]:
    return {"t": round(t * US), "k": "fault_hit", "id": 9, "f": "fault", "e": effect, "a": "bot", "op": op}


def _refused(t: float, op: str, **fields: Any) -> dict[str, Any]:
    return {"t": round(t * US), "k": "reject", "a": "bot", "op": op, "code": -1003, "m": "Too much request weight",
            "http": 429, "ra_ms": 1000, **fields}


def _overlapping(*other_listing: dict[str, Any]) -> list[dict[str, Any]]:
    """The bot fills 10 lots at 2.0 s and books it at 2.6 s (its stream lagged). Reconcile A read the trades at
    1.9 s, its open-orders listing was retried and answered at 2.4 s, then balances at 2.45 s; it reports the
    position 0 at 2.5 s. ``other_listing``: what a second reconcile's trade listing at 2.3 s became."""
    events = [{**e, "t": round(2.6 * US)} if e["k"] == "bot.fill_applied" else e for e in clean_session()]
    return [*events, _request(1.9, "myTrades", s=S, **{"from": 0}), _request(2.4, "openOrders", s=None),
            _request(2.45, "account"), bot(2.5, "position", a="bot", s=S, lots=0, final=False), *other_listing]


def test_a_trade_listing_refused_with_a_429_is_not_what_the_reconcile_read() -> None:
    refused = (_request(2.3, "myTrades", s=S, **{"from": 0}), _hit(2.3, "myTrades", "http_429"),
               _refused(2.3, "myTrades", s=S, **{"from": 0}))
    assert "16.reconciled_books" not in invariants(_overlapping(*refused))


def test_a_trade_listing_whose_reply_was_truncated_is_not_what_the_reconcile_read() -> None:
    cut = (_request(2.3, "myTrades", s=S, **{"from": 0}), _hit(2.3, "myTrades", "reply_truncated"))
    assert "16.reconciled_books" not in invariants(_overlapping(*cut))


def test_a_trade_listing_whose_reply_was_lost_on_the_way_back_is_not_what_the_reconcile_read() -> None:
    lost = (_request(2.3, "myTrades", s=S, **{"from": 0}), _hit(2.32, "myTrades", "reply_lost"))
    assert "16.reconciled_books" not in invariants(_overlapping(*lost))


def test_an_answered_listing_of_the_other_reconcile_still_counts() -> None:
    found = [v.detail for v in violations(_overlapping(_request(2.3, "myTrades", s=S, **{"from": 0})))
             if v.invariant == "16.reconciled_books"]
    assert found == ["BTCUSDT: bot position 0 lots after a reconcile, venue 10 (listed to 2.300s; venue fills not "
                     "booked: [7])"]


def test_balances_are_judged_against_the_last_answered_balance_listing() -> None:
    before_fill = {"BTC": 10_000, "USDT": 1_000_000}  # the opening balances: the 2.0 s fill not yet in them
    events = [*clean_session(), _request(1.95, "account"), bot(2.5, "balances", a="bot", atoms=before_fill)]
    refused = (_request(2.3, "account"), _hit(2.3, "account", "http_429"), _refused(2.3, "account"))
    assert "16.reconciled_books" not in invariants([*events, *refused])  # the 2.3 s listing never answered
    found = [v.detail for v in violations([*events, _request(2.3, "account")]) if v.invariant == "16.reconciled_books"]
    assert found == ["balances after a reconcile: BTC bot 10000 atoms, venue 20000, USDT bot 1000000 atoms, "
                     "venue 990000"]  # answered at 2.3 s, it showed the fill


def test_answered_requests_drop_exactly_the_requests_whose_answer_never_came() -> None:
    events = sorted([_request(1.0, "myTrades", s=S), _request(1.1, "openOrders"), _hit(1.1, "openOrders",
                     "reply_truncated"), _request(1.2, "account"), _request(1.3, "account"),
                     _hit(1.35, "account", "reply_lost"), _request(1.4, "myTrades", s=S),
                     _refused(1.4, "myTrades", s=S)], key=lambda e: e["t"])
    index = SessionIndex.build(events, "bot")
    assert [(r["op"], r["t"]) for r in answered_requests(index)] == [("myTrades", US), ("account", round(1.2 * US))]


def test_a_lost_refusal_takes_no_answered_request_with_it() -> None:
    events = [_request(1.2, "account"), _request(1.3, "account"), _refused(1.3, "account"),
              _hit(1.35, "account", "reply_lost")]  # the 429 itself was lost on the way back
    assert [r["t"] for r in answered_requests(SessionIndex.build(events, "bot"))] == [round(1.2 * US)]


def _believed_after_listing(*late_listing: dict[str, Any]) -> list[dict[str, Any]]:
    """c1 rests from 1.01 s and fills at 2.0 s; the reconcile's open-orders listing was answered at 1.5 s (c1
    open), its record at 2.5 s still shows c1 (the fill's report was on its way). ``late_listing``: what another
    open-orders request at 2.3 s became."""
    return [*clean_session(), _request(1.5, "openOrders", s=None),
            bot(2.5, "open_orders", a="bot", cids=["c1"], pending=[], phase="reconciled"), *late_listing]


def test_no_orphans_judges_a_reconcile_by_its_answered_open_orders_listing() -> None:
    refused = (_request(2.3, "openOrders", s=None), _hit(2.3, "openOrders", "http_429"),
               _refused(2.3, "openOrders", s=None))
    assert "4.no_orphans" not in invariants(_believed_after_listing(*refused))
    assert "4.no_orphans" not in invariants(_believed_after_listing(_request(2.3, "openOrders", s=None),
                                                                    _hit(2.3, "openOrders", "reply_truncated")))
    found = [(v.orders, v.detail) for v in violations(_believed_after_listing(_request(2.3, "openOrders", s=None)))
             if v.invariant == "4.no_orphans"]
    assert found == [(("c1",), "the bot believes it rests; the venue does not")]  # answered at 2.3 s: c1 was gone
