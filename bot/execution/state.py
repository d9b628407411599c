"""Restart-safe order state: every tracked order, every booked fill and the client-id counter, in SQLite.

Invariants: each write is one committed transaction before the call returns (a crash leaves the previous
state or the new one, never half of it); ``next_client_order_id`` never returns the same id twice for the
same file, across restarts; a fill is recorded at most once per ``(symbol, trade_id)`` (``record_fill``
returns False for a repeat). Nothing here reads the wall clock: times are passed in.

Errors: an unreadable file, a file that is not this schema, or a schema newer than this code raise
``BotError(STATE_INVALID)`` naming the file; refusing to start beats trading on state we cannot read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, Fill, OrderStatus, OrderType, Side, TradeId, VenueOrderId

SCHEMA_VERSION = 1
_TERMINAL = tuple(s.value for s in OrderStatus if s.is_terminal)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    client_order_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, symbol TEXT NOT NULL, side TEXT NOT NULL,
    type TEXT NOT NULL, price_ticks INTEGER, qty_lots INTEGER NOT NULL, status TEXT NOT NULL,
    venue_order_id INTEGER, filled_lots INTEGER NOT NULL, cum_quote_atoms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, unknown_queries INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS fills (
    symbol TEXT NOT NULL, trade_id INTEGER NOT NULL, order_id INTEGER NOT NULL, client_order_id TEXT NOT NULL,
    side TEXT NOT NULL, price_ticks INTEGER NOT NULL, qty_lots INTEGER NOT NULL, quote_atoms INTEGER NOT NULL,
    fee_atoms INTEGER NOT NULL, fee_asset TEXT NOT NULL, is_maker INTEGER NOT NULL, time_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, trade_id));
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """The bot's durable record of one order (see ``bot.core.types`` for the status lifecycle)."""

    client_order_id: ClientOrderId
    symbol: str
    side: Side
    type: OrderType
    price_ticks: int | None
    qty_lots: int
    status: OrderStatus
    venue_order_id: VenueOrderId | None = None
    filled_lots: int = 0
    cum_quote_atoms: int = 0
    created_ms: int
    updated_ms: int
    unknown_queries: int = 0


class StateStore:
    """SQLite-backed order and fill state of one bot instance (``":memory:"`` for tests)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None)
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        except sqlite3.DatabaseError as error:
            raise BotError(ErrorCode.STATE_INVALID, f"state file {self.path} is unreadable: {error}") from error
        if row is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif int(row[0]) != SCHEMA_VERSION:
            raise BotError(
                ErrorCode.STATE_INVALID,
                f"state file {self.path} has schema version {row[0]}, this bot reads version {SCHEMA_VERSION}",
            )

    # -- meta and the client-id counter --
    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def next_client_order_id(self, prefix: str) -> ClientOrderId:
        """``{prefix}-{n}`` with n from a persistent counter, committed before it is returned."""
        with self._transaction():
            row = self._db.execute("SELECT value FROM meta WHERE key='client_seq'").fetchone()
            seq = (int(row[0]) if row is not None else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('client_seq', ?)", (str(seq),))
        cid = f"{prefix}-{seq}"
        if len(cid) > 36:
            raise BotError(ErrorCode.STATE_INVALID, f"client order id {cid!r} longer than 36 characters")
        return ClientOrderId(cid)

    # -- orders --
    def save_order(self, record: OrderRecord) -> None:
        self.save_orders((record,))

    def save_orders(self, records: Iterable[OrderRecord]) -> None:
        """Insert or replace ``records`` in one transaction (all or none)."""
        with self._transaction():
            for r in records:
                self._db.execute(
                    "INSERT INTO orders VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM orders), ?, ?, ?, ?, ?, ?,"
                    " ?, ?, ?, ?, ?, ?) ON CONFLICT (client_order_id) DO UPDATE SET status=excluded.status,"
                    " venue_order_id=excluded.venue_order_id, filled_lots=excluded.filled_lots,"
                    " cum_quote_atoms=excluded.cum_quote_atoms, updated_ms=excluded.updated_ms,"
                    " unknown_queries=excluded.unknown_queries",
                    (r.client_order_id, r.symbol, r.side.value, r.type.value, r.price_ticks, r.qty_lots,
                     r.status.value, r.venue_order_id, r.filled_lots, r.cum_quote_atoms, r.created_ms,
                     r.updated_ms, r.unknown_queries),
                )

    def order(self, client_order_id: ClientOrderId) -> OrderRecord | None:
        row = self._db.execute(
            "SELECT * FROM orders WHERE client_order_id=?", (client_order_id,)
        ).fetchone()
        return None if row is None else _order(row)

    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]:
        """Non-terminal orders (including PENDING_*, UNKNOWN and LOST), in creation order."""
        marks = ",".join("?" * len(_TERMINAL))
        query = f"SELECT * FROM orders WHERE status NOT IN ({marks})"
        args: tuple[object, ...] = _TERMINAL
        if symbol is not None:
            query += " AND symbol=?"
            args = (*args, symbol)
        return [_order(row) for row in self._db.execute(query + " ORDER BY seq", args)]

    def prune_terminal(self, older_than_ms: int) -> int:
        """Forget terminal orders last updated before ``older_than_ms``; open orders are never pruned."""
        marks = ",".join("?" * len(_TERMINAL))
        with self._transaction():
            cursor = self._db.execute(
                f"DELETE FROM orders WHERE status IN ({marks}) AND updated_ms < ?", (*_TERMINAL, older_than_ms)
            )
        return cursor.rowcount

    # -- fills --
    def record_fill(self, fill: Fill) -> bool:
        """Book ``fill`` once: False if ``(symbol, trade_id)`` was already recorded."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fill.symbol, fill.trade_id, fill.order_id, fill.client_order_id, fill.side.value, fill.price_ticks,
                 fill.qty_lots, fill.quote_atoms, fill.fee_atoms, fill.fee_asset, int(fill.is_maker), fill.time_ms),
            )
        return cursor.rowcount == 1

    def fills(self, symbol: str | None = None) -> list[Fill]:
        """Booked fills, by symbol then trade id."""
        query = "SELECT * FROM fills" + (" WHERE symbol=?" if symbol is not None else "")
        args: tuple[object, ...] = (symbol,) if symbol is not None else ()
        return [_fill(row) for row in self._db.execute(query + " ORDER BY symbol, trade_id", args)]

    def last_trade_id(self, symbol: str) -> TradeId | None:
        row = self._db.execute("SELECT MAX(trade_id) FROM fills WHERE symbol=?", (symbol,)).fetchone()
        return None if row[0] is None else TradeId(int(row[0]))

    def position_lots(self, symbol: str) -> int:
        """Sum of signed booked fills: buys minus sells."""
        row = self._db.execute(
            "SELECT COALESCE(SUM(CASE side WHEN 'BUY' THEN qty_lots ELSE -qty_lots END), 0) FROM fills WHERE symbol=?",
            (symbol,),
        ).fetchone()
        return int(row[0])

    # -- lifecycle --
    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raised."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._db.execute("ROLLBACK" if exc_type is not None else "COMMIT")


def _order(row: tuple[object, ...]) -> OrderRecord:
    (cid, _seq, symbol, side, otype, price, qty, status, vid, filled, quote, created, updated, unknown) = row
    return OrderRecord(
        client_order_id=ClientOrderId(str(cid)), symbol=str(symbol), side=Side(str(side)), type=OrderType(str(otype)),
        price_ticks=None if price is None else int(str(price)), qty_lots=int(str(qty)), status=OrderStatus(str(status)),
        venue_order_id=None if vid is None else VenueOrderId(int(str(vid))), filled_lots=int(str(filled)),
        cum_quote_atoms=int(str(quote)), created_ms=int(str(created)), updated_ms=int(str(updated)),
        unknown_queries=int(str(unknown)),
    )


def _fill(row: tuple[object, ...]) -> Fill:
    (symbol, tid, oid, cid, side, price, qty, quote, fee, fee_asset, maker, t) = row
    return Fill(
        symbol=str(symbol), trade_id=TradeId(int(str(tid))), order_id=VenueOrderId(int(str(oid))),
        client_order_id=ClientOrderId(str(cid)), side=Side(str(side)), price_ticks=int(str(price)),
        qty_lots=int(str(qty)),
        quote_atoms=int(str(quote)), fee_atoms=int(str(fee)), fee_asset=str(fee_asset), is_maker=bool(maker),
        time_ms=int(str(t)),
    )
