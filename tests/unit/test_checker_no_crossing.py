"""Invariant 7: own quotes never cross, maker orders never cross their book, the local book is sane."""

from __future__ import annotations

from tests.checker_support import S, bot, clean_session, invariants, order, violations


def test_a_maker_bid_priced_at_the_ask_is_a_violation() -> None:
    events = [*clean_session(), bot(2.5, "intent", a="bot", c="c2", s=S, S="BUY", o="LIMIT_MAKER", p=101, q=1,
                                    bb=100, ba=101), bot(2.6, "order_final", a="bot", c="c2", X="REJECTED")]
    assert invariants(events) == {"7.no_crossing"}


def test_own_bid_at_or_above_own_ask_is_a_violation() -> None:
    events = [*clean_session(), order(2.5, "b", "NEW", "NEW", p=103, oid=3), order(2.5, "a", "NEW", "NEW", side="SELL",
              p=102, oid=4), order(2.7, "b", "CANCELED", "CANCELED", p=103, oid=3),
              order(2.7, "a", "CANCELED", "CANCELED", side="SELL", p=102, oid=4)]
    found = [v for v in violations(events) if v.invariant == "7.no_crossing"]
    assert [v.orders for v in found] == [("b", "a")]


def test_a_crossed_local_book_and_an_update_gap_are_violations() -> None:
    events = [*clean_session(), bot(1.5, "book", s=S, U=2, u=3, bb=101, ba=101, snap=False),
              bot(1.6, "book", s=S, U=9, u=9, bb=100, ba=101, snap=False)]
    assert [v.detail.split(":")[0] for v in violations(events)] == [f"{S} local book crossed",
                                                                    f"{S} local book applied update 9 after 3"]
