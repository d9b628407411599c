"""Whole-engine consistency check: books, open orders, locked balances and supply, recomputed from scratch.

Used by tests and by the end-of-session invariant checks (DESIGN.md section 4, items 3 and 11); it is O(open
orders + accounts x assets), so it is not meant to run after every request of a long simulation.

Errors: raises ``EngineAuditError`` (an ``AssertionError``) naming the first breach it finds.
"""

from __future__ import annotations

from collections.abc import Mapping

from exchange_sim.engine.accounts import AccountState
from exchange_sim.engine.book import OrderBook
from exchange_sim.engine.crossing import locked_by
from exchange_sim.engine.ledger import FEE_ACCOUNT, Ledger
from exchange_sim.engine.types import AccountId, Side, SymbolSpec


class EngineAuditError(AssertionError):
    """The engine's state breaks one of its invariants."""


def _check(ok: bool, what: str) -> None:
    if not ok:
        raise EngineAuditError(what)


def audit(
    books: Mapping[str, OrderBook],
    accounts: Mapping[AccountId, AccountState],
    ledger: Ledger,
    specs: Mapping[str, SymbolSpec],
) -> None:
    """Books uncrossed and consistent with open orders; locks exact; nothing negative; supply conserved."""
    required: dict[tuple[AccountId, str], int] = {}
    resting = 0
    for acct in accounts.values():
        for order in acct.open.values():
            _check(order.order_id in books[order.symbol], f"open order {order.order_id} is not resting")
            _check(
                order.remaining_lots > 0 and not order.status.is_terminal, f"order {order.order_id} is done"
            )
            asset, atoms = locked_by(order, specs[order.symbol])
            required[(acct.account, asset)] = required.get((acct.account, asset), 0) + atoms
            resting += 1
    _check(resting == sum(len(b) for b in books.values()), "book holds orders no account has open")
    for symbol, book in books.items():
        _check(not book.is_crossed(), f"{symbol} book is crossed")
        _check(book.index_ok(), f"{symbol} sorted level index is out of step with the levels")
        for side in (Side.BUY, Side.SELL):
            for level in book.levels(side):
                total = sum(o.remaining_lots for o in level.orders.values())
                _check(
                    level.qty_lots == total > 0, f"{symbol} {side} level {level.price_ticks} total is wrong"
                )
                _check(
                    all(o.price_ticks == level.price_ticks for o in level.orders.values()), "misplaced order"
                )
    for account in ledger.accounts():
        for asset, bal in ledger.balances(account).items():
            if account == FEE_ACCOUNT:
                _check(bal.locked_atoms == 0, f"fee account has locked {asset}")
                continue
            _check(bal.free_atoms >= 0, f"{account} free {asset} is negative")
            need = required.get((account, asset), 0)
            _check(
                bal.locked_atoms == need,
                f"{account} locks {bal.locked_atoms} {asset}, open orders need {need}",
            )
    for asset in ledger.assets():
        _check(ledger.total(asset) == ledger.deposited(asset), f"{asset} supply is not conserved")
