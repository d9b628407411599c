"""Pure merge rules: reports arriving in any order never move an order's record backwards."""

from __future__ import annotations

import itertools
from dataclasses import fields, replace

from bot.core.types import ClientOrderId, OrderStatus, OrderType, Side, VenueOrder, VenueOrderId
from bot.execution.state import OrderRecord
from bot.execution.transitions import add_fill, mark_unknown_query, merge

CID = ClientOrderId("mmb-1")


def record(status: OrderStatus = OrderStatus.PENDING_NEW, filled: int = 0) -> OrderRecord:
    return OrderRecord(client_order_id=CID, symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT_MAKER,
                       price_ticks=100, qty_lots=10, status=status, filled_lots=filled, created_ms=0, updated_ms=0)


def report(status: OrderStatus, executed: int) -> VenueOrder:
    return VenueOrder(symbol="BTCUSDT", order_id=VenueOrderId(7), client_order_id=CID, side=Side.BUY,
                      type=OrderType.LIMIT_MAKER, status=status, price_ticks=100, orig_qty_lots=10,
                      executed_qty_lots=executed, cum_quote_atoms=executed * 100, time_ms=1)


def test_a_late_new_report_does_not_undo_a_partial_fill() -> None:
    partial = merge(record(), report(OrderStatus.PARTIALLY_FILLED, 4), 1)
    assert merge(partial, report(OrderStatus.NEW, 0), 2).status is OrderStatus.PARTIALLY_FILLED
    assert merge(partial, report(OrderStatus.NEW, 0), 2).filled_lots == 4


def test_terminal_records_never_change() -> None:
    done = merge(record(), report(OrderStatus.CANCELED, 3), 1)
    assert merge(done, report(OrderStatus.NEW, 0), 2) == done


def test_pending_cancel_waits_for_the_cancel_to_resolve() -> None:
    assert merge(record(OrderStatus.PENDING_CANCEL), report(OrderStatus.NEW, 0), 1).status is OrderStatus.PENDING_CANCEL


def test_merge_is_order_independent_for_any_sequence_of_reports() -> None:
    reports = [report(OrderStatus.NEW, 0), report(OrderStatus.PARTIALLY_FILLED, 4),
               report(OrderStatus.PARTIALLY_FILLED, 7), report(OrderStatus.FILLED, 10)]
    finals = set()
    for order in itertools.permutations(reports):
        r = record()
        for rep in order:
            r = merge(r, rep, 1)
        finals.add((r.status, r.filled_lots))
    assert finals == {(OrderStatus.FILLED, 10)}


def test_a_fill_after_its_report_is_not_counted_twice() -> None:
    seen = merge(record(), report(OrderStatus.PARTIALLY_FILLED, 5), 1)
    assert add_fill(seen, fills_lots=5, fills_quote_atoms=500, now_ms=2).filled_lots == 5


def test_late_fill_of_a_lost_order_revives_it() -> None:
    assert add_fill(record(OrderStatus.LOST), 10, 1000, 5).status is OrderStatus.FILLED


def test_unknown_answers_make_an_order_lost_then_expired() -> None:
    once = mark_unknown_query(record(OrderStatus.UNKNOWN), lost_after=2, expire_after_ms=1000, now_ms=10)
    assert once.status is OrderStatus.UNKNOWN
    twice = mark_unknown_query(once, lost_after=2, expire_after_ms=1000, now_ms=20)
    assert twice.status is OrderStatus.LOST
    assert mark_unknown_query(twice, lost_after=2, expire_after_ms=1000, now_ms=1000).status is OrderStatus.EXPIRED


def test_with_status_keeps_every_other_field_as_replace_would() -> None:
    record = OrderRecord(client_order_id=ClientOrderId("mmb-7"), symbol="BTCUSDT", side=Side.SELL,
                         type=OrderType.LIMIT_MAKER, price_ticks=101, qty_lots=9, status=OrderStatus.NEW,
                         venue_order_id=VenueOrderId(77), filled_lots=3, cum_quote_atoms=303, created_ms=5,
                         updated_ms=6, unknown_queries=2)
    assert record.with_status(OrderStatus.PENDING_CANCEL, 8) == replace(
        record, status=OrderStatus.PENDING_CANCEL, updated_ms=8)
    merged = merge(record, report(OrderStatus.PARTIALLY_FILLED, 4), 9)
    assert merged == replace(record, filled_lots=4, cum_quote_atoms=400, updated_ms=9, unknown_queries=0,
                             status=OrderStatus.PARTIALLY_FILLED)
    # every field is set from a non-default value above, so a field added later and not copied fails here
    defaults = {f.name: f.default for f in fields(OrderRecord)}
    assert all(getattr(record, name) != default for name, default in defaults.items())
