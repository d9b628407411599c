"""Invariants 11 (matching engine, recomputed from the log) and 12 (determinism of two logs)."""

from __future__ import annotations

from exchange_sim.checker import check_determinism
from tests.checker_support import book, clean_session, invariants, order, trade, violations


def test_a_crossed_book_is_a_violation() -> None:
    assert invariants([*clean_session(), book(2.5, "BUY", 102, 5)]) == {"11.matching"}


def test_a_trade_through_a_better_level_breaks_price_priority() -> None:
    events = clean_session()
    events.insert(events.index(next(e for e in events if e["k"] == "trade")), book(2.0, "BUY", 100, 50))
    events = [e if e["k"] != "trade" else trade(2.0, 7, p=99) for e in events]
    assert "11.matching" in invariants(events)


def test_executed_quantity_must_equal_the_trades() -> None:
    events = [e if not (e["k"] == "order" and e["x"] == "TRADE") else order(2.0, "c1", "TRADE", "FILLED", z=9)
              for e in clean_session()]
    assert "11.matching" in invariants(events)


def test_an_older_own_order_at_the_same_price_fills_first() -> None:
    events = [*clean_session(), order(2.2, "c2", "NEW", "NEW", oid=2), order(2.3, "c3", "NEW", "NEW", oid=3),
              order(2.4, "c3", "TRADE", "PARTIALLY_FILLED", z=0, oid=3),
              order(2.5, "c2", "CANCELED", "CANCELED", oid=2),
              order(2.5, "c3", "CANCELED", "CANCELED", oid=3)]
    assert [v.orders for v in violations(events) if v.invariant == "11.matching"] == [("c3", "c2")]


def test_two_equal_logs_are_deterministic_and_a_difference_is_reported() -> None:
    assert check_determinism(clean_session(), clean_session()) == []
    other = clean_session()
    other[3] = {**other[3], "per_hour": 49}
    [found] = check_determinism(clean_session(), other)
    assert found.invariant == "12.determinism" and "record 3" in found.detail
