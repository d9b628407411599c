"""The engine's outbound interface: everything that happens in the venue, in the order it happens.

The matching engine calls an ``EngineListener`` synchronously, inside the request that caused the change, so a
listener sees a causally ordered stream: the taker's NEW report, then for each match the book change, the trade
and both TRADE reports, then the taker's terminal report. Listeners must not call back into the engine.
"""

from __future__ import annotations

from typing import Protocol

from exchange_sim.engine.types import AccountId, ExecType, Order, Side, Trade


class EngineListener(Protocol):
    def on_execution(self, order: Order, exec_type: ExecType, trade: Trade | None, reason: str) -> None:
        """An execution report of a *tracked* account's order (untracked background accounts get none):
        ``order`` is a snapshot after the change; ``trade`` is set for TRADE."""

    def on_book_level(self, symbol: str, side: Side, price_ticks: int, level_qty_lots: int, update_id: int) -> None:
        """A price level's total resting quantity changed (0 = level removed); ``update_id`` is per symbol,
        +1 for every level change, like Binance's depth ``u``."""

    def on_trade(self, trade: Trade) -> None:
        """A public trade (also reported privately through ``on_execution``)."""

    def on_balance(self, account: AccountId, asset: str, free_atoms: int, locked_atoms: int) -> None:
        """An account's balance in one asset changed (only for accounts with balance reporting on)."""


class NullListener:
    """A listener that ignores everything (engine unit tests, benchmarks)."""

    def on_execution(self, order: Order, exec_type: ExecType, trade: Trade | None, reason: str) -> None:
        return None

    def on_book_level(self, symbol: str, side: Side, price_ticks: int, level_qty_lots: int, update_id: int) -> None:
        return None

    def on_trade(self, trade: Trade) -> None:
        return None

    def on_balance(self, account: AccountId, asset: str, free_atoms: int, locked_atoms: int) -> None:
        return None
