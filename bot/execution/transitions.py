"""Pure rules for how what the venue reports changes the bot's record of an order.

Reports arrive out of order (a REST answer saying NEW can land after a stream report saying
PARTIALLY_FILLED; a cancel answer can race a fill), so a merge never moves backwards:

* a terminal record (FILLED, CANCELED, REJECTED, EXPIRED) never changes status again;
* the filled quantity only grows: ``filled = max(known, reported)``;
* a venue terminal status wins; otherwise the status follows the filled quantity (0 -> NEW, partial ->
  PARTIALLY_FILLED), except that a PENDING_CANCEL record stays PENDING_CANCEL until the cancel resolves;
* UNKNOWN and LOST records become whatever the venue says once it says anything.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.types import OrderStatus, VenueOrder
from bot.execution.state import OrderRecord


def merge(record: OrderRecord, report: VenueOrder, now_ms: int) -> OrderRecord:
    """``record`` updated by a venue ``report`` about the same order (see module docstring)."""
    if record.status.is_terminal:
        return record
    filled = max(record.filled_lots, report.executed_qty_lots)
    quote = max(record.cum_quote_atoms, report.cum_quote_atoms)
    if report.status.is_terminal:
        status = report.status
    elif record.status is OrderStatus.PENDING_CANCEL:
        status = OrderStatus.PENDING_CANCEL
    elif filled >= record.qty_lots > 0:
        status = OrderStatus.FILLED
    elif filled > 0:
        status = OrderStatus.PARTIALLY_FILLED
    else:
        status = OrderStatus.NEW
    return OrderRecord(  # built field by field: ``dataclasses.replace`` costs twice as much on this hot path
        client_order_id=record.client_order_id, symbol=record.symbol, side=record.side, type=record.type,
        price_ticks=record.price_ticks, qty_lots=record.qty_lots, status=status,
        venue_order_id=report.order_id if record.venue_order_id is None else record.venue_order_id,
        filled_lots=filled, cum_quote_atoms=quote, created_ms=record.created_ms, updated_ms=now_ms,
        unknown_queries=0,
    )


def add_fill(record: OrderRecord, fills_lots: int, fills_quote_atoms: int, now_ms: int) -> OrderRecord:
    """``record`` after a newly applied fill; ``fills_*`` are the totals of *all* fills applied to the order.

    Taking the max with what reports already said keeps the merge order-independent (a report saying 5
    executed followed by the 5-lot fill itself is still 5). A fill of a CANCELED/EXPIRED/LOST record still
    counts (a late fill is booked, not dropped); the status becomes FILLED when the whole quantity is done.
    Inventory is computed from fills alone, never from these records.
    """
    filled = max(record.filled_lots, fills_lots)
    status = record.status
    if filled >= record.qty_lots > 0:
        status = OrderStatus.FILLED
    elif status in (OrderStatus.NEW, OrderStatus.PENDING_NEW, OrderStatus.UNKNOWN, OrderStatus.LOST):
        status = OrderStatus.PARTIALLY_FILLED
    return replace(
        record, status=status, filled_lots=filled, cum_quote_atoms=max(record.cum_quote_atoms, fills_quote_atoms),
        updated_ms=now_ms,
    )


def mark_unknown_query(record: OrderRecord, lost_after: int, expire_after_ms: int, now_ms: int) -> OrderRecord:
    """The venue said it does not know the order: count it; after ``lost_after`` answers the order is LOST.

    A LOST order is polled until the venue knows it (a delayed request may still arrive) or until it is
    older than ``expire_after_ms``: by then the venue would refuse the request as outside its recvWindow,
    so the order can never exist and is final (EXPIRED). Every intent thus ends within a bound.
    """
    count = record.unknown_queries + 1
    status = OrderStatus.LOST if count >= lost_after else record.status
    if status is OrderStatus.LOST and now_ms - record.created_ms >= expire_after_ms:
        status = OrderStatus.EXPIRED
    return replace(record, unknown_queries=count, status=status, updated_ms=now_ms)
