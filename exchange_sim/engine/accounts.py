"""Per-account order registry of the matching engine: open orders, fee overrides and (tracked) history.

Invariants: an account's open orders are exactly its resting orders plus the one being processed; a
``(symbol, client_order_id)`` pair names at most one open order; untracked accounts keep nothing once an order
is terminal (memory bounded by their open orders); tracked accounts keep at most ``history_limit`` terminal
orders and ``history_limit`` trades per symbol, dropping the oldest first.

Errors: closing an order that is not open, or opening one twice, raises ``KeyError``/``ValueError`` (bugs).
"""

from __future__ import annotations

from bisect import bisect_left

from exchange_sim.engine.types import AccountId, ClientOrderId, Order, OrderId, SymbolSpec, Trade

DEFAULT_HISTORY_LIMIT = 200_000


class AccountState:
    """One account's orders and fee schedule as the engine needs them."""

    __slots__ = (
        "_history",
        "_history_cids",
        "_trades",
        "account",
        "history_limit",
        "maker_fee_ppm",
        "open",
        "open_cids",
        "taker_fee_ppm",
        "tracked",
    )

    def __init__(
        self,
        account: AccountId,
        *,
        tracked: bool,
        maker_fee_ppm: int | None,
        taker_fee_ppm: int | None,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        if history_limit < 1:
            raise ValueError(f"history_limit must be positive, got {history_limit}")
        self.account = account
        self.tracked = tracked
        self.maker_fee_ppm = maker_fee_ppm
        self.taker_fee_ppm = taker_fee_ppm
        self.history_limit = history_limit
        self.open: dict[OrderId, Order] = {}  # insertion order == order id order
        self.open_cids: dict[tuple[str, ClientOrderId], Order] = {}
        self._history: dict[OrderId, Order] = {}
        self._history_cids: dict[tuple[str, ClientOrderId], OrderId] = {}
        self._trades: dict[str, list[Trade]] = {}

    def maker_fee(self, spec: SymbolSpec) -> int:
        return spec.maker_fee_ppm if self.maker_fee_ppm is None else self.maker_fee_ppm

    def taker_fee(self, spec: SymbolSpec) -> int:
        return spec.taker_fee_ppm if self.taker_fee_ppm is None else self.taker_fee_ppm

    # -- lifecycle --
    def add_open(self, order: Order) -> None:
        key = (order.symbol, order.client_order_id)
        if order.order_id in self.open or key in self.open_cids:
            raise ValueError(f"order {order.order_id} / {order.client_order_id!r} already open")
        self.open[order.order_id] = order
        self.open_cids[key] = order

    def close(self, order: Order) -> None:
        """``order`` became terminal: forget it (untracked) or move it to the bounded history (tracked)."""
        del self.open[order.order_id]
        del self.open_cids[(order.symbol, order.client_order_id)]
        if not self.tracked:
            return
        history = self._history
        history[order.order_id] = order
        self._history_cids[(order.symbol, order.client_order_id)] = order.order_id
        if len(history) > self.history_limit:
            oldest = history.pop(next(iter(history)))
            key = (oldest.symbol, oldest.client_order_id)
            if self._history_cids.get(key) == oldest.order_id:
                del self._history_cids[key]

    def record_trade(self, trade: Trade) -> None:
        """Keep a trade this (tracked) account took part in; ids arrive increasing."""
        trades = self._trades.get(trade.symbol)
        if trades is None:
            trades = self._trades[trade.symbol] = []
        trades.append(trade)
        if len(trades) >= 2 * self.history_limit:
            del trades[: len(trades) - self.history_limit]

    # -- queries --
    def sizes(self) -> dict[str, int]:
        """What this account holds: open orders, terminal orders in the history, kept trades (all symbols).
        Bounds: the history holds at most ``history_limit``, the trades fewer than ``2 * history_limit`` per
        symbol (trimmed in batches)."""
        return {"open": len(self.open), "history": len(self._history),
                "trades": sum(len(t) for t in self._trades.values())}

    def handed_back(self, order: Order) -> Order:
        """``order`` as a request returns it: a snapshot, unless the account has already forgotten it (terminal,
        untracked: no history), when nothing can change or reach it any more and a copy would be waste."""
        if self.tracked or order.order_id in self.open:
            return order.snapshot()
        return order

    def find_open(
        self, symbol: str, order_id: OrderId | None, client_order_id: ClientOrderId | None
    ) -> Order | None:
        """The open order named by id (checked against ``client_order_id`` if both given) or client id."""
        if order_id is not None:
            order = self.open.get(order_id)
            if order is None or order.symbol != symbol:
                return None
            if client_order_id is not None and order.client_order_id != client_order_id:
                return None
            return order
        if client_order_id is not None:
            return self.open_cids.get((symbol, client_order_id))
        return None

    def find(
        self, symbol: str, order_id: OrderId | None, client_order_id: ClientOrderId | None
    ) -> Order | None:
        """Like ``find_open``, then the history (latest order with that client id)."""
        order = self.find_open(symbol, order_id, client_order_id)
        if order is not None:
            return order
        if order_id is None and client_order_id is not None:
            hid = self._history_cids.get((symbol, client_order_id))
            order_id = hid
            client_order_id = None
        if order_id is None:
            return None
        order = self._history.get(order_id)
        if order is None or order.symbol != symbol:
            return None
        if client_order_id is not None and order.client_order_id != client_order_id:
            return None
        return order

    def trades(self, symbol: str, from_id: int | None, limit: int) -> list[Trade]:
        """Binance ``myTrades``: from ``from_id`` on (ascending), else the latest ``limit``."""
        trades = self._trades.get(symbol, [])
        if from_id is None:
            return trades[-limit:]
        start = bisect_left(trades, from_id, key=lambda t: t.trade_id)
        return trades[start : start + limit]

    def __repr__(self) -> str:
        return f"AccountState({self.account!r}, tracked={self.tracked}, open={len(self.open)})"
