"""MemoryStateStore: the ``OrderStore`` of a simulation, in plain Python objects, with ``StateStore``'s semantics.

A simulated session runs every bot instance in one process; what must survive a crash fault is the store
*object*, which the session hands to each new instance (restore, reconcile, quote). Nothing here needs a file,
so the SQLite round trips (three small transactions per order) are pure cost in simulation: this store keeps the
same contract in dicts.

Invariants (the same as ``bot.execution.state.StateStore``'s, minus the file):

* ``next_client_order_id`` never returns the same id twice for the same store; ``advance_client_seq`` only
  moves the counter forward (past the number of an adopted order);
* a fill is booked at most once per ``(symbol, trade_id)`` (``record_fill`` returns False for a repeat);
* ``open_orders`` lists non-terminal orders in first-save order (a pruned and re-saved order counts as new);
* terminal orders are kept until ``prune_terminal`` drops them (only reconciled ones: no unbooked execution);
  a fill is dropped only once its order is gone, it is older than the bound and synced past (its lots stay in
  ``position_lots``, its trade id stays a duplicate);
* records are immutable (frozen dataclasses), so handing them out shares nothing mutable;
* nothing here reads the wall clock.

Errors: ``ValueError`` for a reserved meta key and ``BotError(CONFIG_INVALID)`` for a bad client id prefix or an
over-long id (nothing consumed), exactly like the SQLite store. Using a closed store raises ``BotError``
(``STATE_INVALID``), as a closed SQLite connection would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, Fill, TradeId
from bot.execution.state import (
    COUNTER_KEY,
    MAX_CLIENT_ORDER_ID_LEN,
    PREFIX_PATTERN,
    RESERVED_META_PREFIX,
    SCHEMA_VERSION,
    VERSION_KEY,
    OrderRecord,
    client_seq_of,
)

__all__ = ["MemoryStateStore"]


class MemoryStateStore:
    """In-process order and fill state (see module docstring). Lifecycle: created -> used -> ``close()``."""

    path = ":memory:"

    def __init__(self) -> None:
        self._meta: dict[str, str] = {VERSION_KEY: str(SCHEMA_VERSION)}
        self._seq = 0
        self._orders: dict[ClientOrderId, OrderRecord] = {}  # insertion order = first-save order
        self._orders_per_symbol: dict[str, int] = {}
        self._fills: dict[tuple[str, int], Fill] = {}
        self._fill_totals: dict[ClientOrderId, tuple[int, int]] = {}
        self._positions: dict[str, int] = {}
        self._last_trade: dict[str, int] = {}
        self._pruned_trade: dict[str, int] = {}  # symbol -> highest pruned trade id
        self._pruned_seq = 0  # the highest counter number of a pruned order
        self._closed = False
        self._checked_prefix: str | None = None  # the last prefix that passed ``PREFIX_PATTERN``

    def _check_open(self) -> None:
        if self._closed:
            raise BotError(ErrorCode.STATE_INVALID, "state store :memory: is closed")

    # -- meta and the client-id counter --
    def set_meta(self, key: str, value: str) -> None:
        """Store a string under ``key`` (keys starting with ``store.`` are the store's own: ``ValueError``)."""
        if key.startswith(RESERVED_META_PREFIX):
            raise ValueError(f"meta key {key!r} is reserved for the state store")
        self._check_open()
        self._meta[key] = value

    def get_meta(self, key: str) -> str | None:
        self._check_open()
        if key == COUNTER_KEY:
            return str(self._seq) if self._seq else None
        return self._meta.get(key)

    def next_client_order_id(self, prefix: str) -> ClientOrderId:
        """``f"{prefix}-{n}"`` with n from the store's counter (see ``StateStore.next_client_order_id``)."""
        if prefix != self._checked_prefix:  # a bot uses one prefix: checked once, not on every order
            if PREFIX_PATTERN.fullmatch(prefix) is None:
                raise BotError(ErrorCode.CONFIG_INVALID, f"client order id prefix {prefix!r} must be [A-Za-z0-9_-]+")
            self._checked_prefix = prefix
        self._check_open()
        cid = f"{prefix}-{self._seq + 1}"
        if len(cid) > MAX_CLIENT_ORDER_ID_LEN:
            raise BotError(
                ErrorCode.CONFIG_INVALID, f"client order id {cid!r} is longer than {MAX_CLIENT_ORDER_ID_LEN}"
            )
        self._seq += 1
        return ClientOrderId(cid)

    def advance_client_seq(self, at_least: int) -> None:
        """Make the counter at least ``at_least`` (see ``StateStore.advance_client_seq``)."""
        self._check_open()
        self._seq = max(self._seq, at_least)

    # -- orders --
    def save_order(self, record: OrderRecord) -> None:
        """Insert or replace ``record`` by client order id (its creation-order position is kept)."""
        self._check_open()
        cid = record.client_order_id
        old = self._orders.get(cid)
        if old is None:
            self._count_symbol(record.symbol, +1)
        elif old.symbol != record.symbol:
            self._count_symbol(old.symbol, -1)
            self._count_symbol(record.symbol, +1)
        self._orders[cid] = record

    def save_orders(self, records: Iterable[OrderRecord]) -> None:
        """Insert or replace ``records``: all of them or, if producing them fails, none."""
        for record in list(records):
            self.save_order(record)

    def order(self, cid: ClientOrderId) -> OrderRecord | None:
        self._check_open()
        return self._orders.get(cid)

    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]:
        """Non-terminal orders (incl. PENDING_*, UNKNOWN and LOST) in creation order (first save)."""
        self._check_open()
        return [r for r in self._orders.values()
                if not r.status.is_terminal and (symbol is None or r.symbol == symbol)]

    def prune_terminal(self, older_than_ms: int, synced_through: Mapping[str, int] | None = None) -> int:
        """Forget what nothing needs any more; returns how many orders were dropped (``StateStore.prune_terminal``)."""
        self._check_open()
        doomed = [cid for cid, r in self._orders.items() if r.status.is_terminal and r.updated_ms < older_than_ms
                  and r.filled_lots <= self._fill_totals.get(cid, (0, 0))[0]]
        for cid in doomed:
            self._count_symbol(self._orders.pop(cid).symbol, -1)
            self._pruned_seq = max(self._pruned_seq, client_seq_of(cid))
        through = synced_through or {}
        gone = [key for key, f in self._fills.items() if key[0] in through and key[1] <= through[key[0]]
                and f.time_ms < older_than_ms and f.client_order_id not in self._orders]
        for key in gone:
            fill = self._fills.pop(key)
            self._pruned_trade[key[0]] = max(self._pruned_trade.get(key[0], -1), key[1])
            lots, quote = self._fill_totals.pop(fill.client_order_id, (0, 0))
            if lots != fill.qty_lots:  # totals count kept fills only, as the SQLite store's sum does
                self._fill_totals[fill.client_order_id] = (lots - fill.qty_lots, quote - fill.quote_atoms)
        return len(doomed)

    def forgot(self, cid: ClientOrderId) -> bool:
        """Whether ``cid``'s order was pruned (``StateStore.forgot``)."""
        self._check_open()
        return cid not in self._orders and 0 < client_seq_of(cid) <= self._pruned_seq

    def has_orders(self, symbol: str) -> bool:
        """Whether any order of ``symbol`` is recorded (open or finished, not pruned)."""
        self._check_open()
        return self._orders_per_symbol.get(symbol, 0) > 0

    def _count_symbol(self, symbol: str, delta: int) -> None:
        self._orders_per_symbol[symbol] = self._orders_per_symbol.get(symbol, 0) + delta

    # -- fills --
    def record_fill(self, fill: Fill, *, order: OrderRecord | None = None) -> bool:
        """Book ``fill`` once; False (and nothing written) if ``(symbol, trade_id)`` is already booked.
        ``order``, if given, is saved too when the fill is new."""
        self._check_open()
        key = (fill.symbol, int(fill.trade_id))
        if key in self._fills or key[1] <= self._pruned_trade.get(fill.symbol, -1):
            return False
        self._fills[key] = fill
        lots, quote = self._fill_totals.get(fill.client_order_id, (0, 0))
        self._fill_totals[fill.client_order_id] = (lots + fill.qty_lots, quote + fill.quote_atoms)
        self._positions[fill.symbol] = self._positions.get(fill.symbol, 0) + fill.side.sign * fill.qty_lots
        self._last_trade[fill.symbol] = max(self._last_trade.get(fill.symbol, key[1]), key[1])
        if order is not None:
            self.save_order(order)
        return True

    def fills(self, symbol: str | None = None) -> list[Fill]:
        """Booked fills, by symbol then trade id."""
        self._check_open()
        return [self._fills[key] for key in sorted(self._fills) if symbol is None or key[0] == symbol]

    def fill_totals(self, client_order_id: ClientOrderId) -> tuple[int, int]:
        """(lots, quote atoms) of every booked fill of one order."""
        self._check_open()
        return self._fill_totals.get(client_order_id, (0, 0))

    def last_trade_id(self, symbol: str) -> TradeId | None:
        """The highest booked trade id of ``symbol`` (None before its first fill)."""
        self._check_open()
        last = self._last_trade.get(symbol)
        return None if last is None else TradeId(last)

    def position_lots(self, symbol: str) -> int:
        """Sum of signed booked fills of ``symbol``: buys minus sells."""
        self._check_open()
        return self._positions.get(symbol, 0)

    # -- lifecycle --
    def close(self) -> None:
        """Drop the store (idempotent); a closed store refuses every call."""
        self._closed = True

    def __enter__(self) -> MemoryStateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
