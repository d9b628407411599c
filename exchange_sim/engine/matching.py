"""The matching engine: Binance Spot order entry, cancels and queries over per-symbol books and one ledger.

Lifecycle of a request: validate (``EngineError``, nothing changed, no listener call) -> accept (order id,
reserve locked, NEW report) -> cross (fills, self-trade prevention) -> rest the remainder (GTC LIMIT and
LIMIT_MAKER) or end it (FILLED / EXPIRED / EXPIRED_IN_MATCH) -> balance reports of tracked accounts.

Invariants after every request: no book is crossed; order ids grow by one from 1 (accepted orders only),
trade ids likewise; every account's locked balance equals what its open orders need; every asset's total over
all accounts (fee account included) equals what was deposited. ``audit()`` rechecks all of these.

Errors: ``EngineError`` with Binance's code for every refused request (-1121 unknown symbol, -2010 duplicate
client id / insufficient balance / post-only would take, -2011 cancel of an unknown order, -2013 query of an
unknown order, -2015 unknown account, -1013 filters, -1102/-1106 parameters). Internal inconsistencies raise
``LedgerError``/``BookError``/``AssertionError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from exchange_sim.engine.accounts import DEFAULT_HISTORY_LIMIT, AccountState
from exchange_sim.engine.audit import audit
from exchange_sim.engine.book import OrderBook
from exchange_sim.engine.crossing import Crossing, Stop, plan_reserve
from exchange_sim.engine.ledger import FEE_ACCOUNT, Ledger
from exchange_sim.engine.listener import EngineListener, NullListener
from exchange_sim.engine.types import (
    PPM,
    AccountId,
    Balance,
    ClientOrderId,
    EngineError,
    ErrorCode,
    ExecType,
    NewOrder,
    Order,
    OrderId,
    OrderStatus,
    OrderType,
    PlaceRequest,
    PlaceResult,
    Side,
    SymbolSpec,
    TimeInForce,
    Trade,
    TradeId,
)
from exchange_sim.engine.validation import validate_place

# Enum members read per request, as module globals: in CPython 3.11 ``Side.BUY`` goes through EnumType's
# ``__getattr__`` hook, about three times the cost of a global read.
_LIMIT_MAKER = OrderType.LIMIT_MAKER
_MARKET = OrderType.MARKET
_GTC = TimeInForce.GTC
_STOP_BOOK = Stop.BOOK
_STOP_STP = Stop.STP
_FILLED = OrderStatus.FILLED
_CANCELED = OrderStatus.CANCELED
_EXPIRED_IN_MATCH = OrderStatus.EXPIRED_IN_MATCH
_EXPIRED = OrderStatus.EXPIRED
_X_NEW = ExecType.NEW
_X_CANCELED = ExecType.CANCELED
_X_EXPIRED = ExecType.EXPIRED
_X_TRADE_PREVENTION = ExecType.TRADE_PREVENTION
_SELL = Side.SELL

INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
WOULD_TAKE = "Order would immediately match and take."


class CancelReplaceMode(StrEnum):
    STOP_ON_FAILURE = "STOP_ON_FAILURE"  # a failed cancel means the new order is not attempted
    ALLOW_FAILURE = "ALLOW_FAILURE"  # the new order is attempted whatever the cancel did


@dataclass(frozen=True, slots=True)
class CancelReplaceResult:
    """Both halves of a cancel-replace: ``new`` is None when STOP_ON_FAILURE skipped it."""

    cancel: Order | EngineError
    new: PlaceResult | EngineError | None


def _bad_symbol() -> EngineError:
    return EngineError(ErrorCode.BAD_SYMBOL, "Invalid symbol.")


class MatchingEngine:
    """Price-time priority matching for a fixed set of symbols, with balances, fees and STP."""

    FEE_ACCOUNT: ClassVar[AccountId] = FEE_ACCOUNT

    def __init__(
        self,
        symbols: Iterable[SymbolSpec],
        *,
        clock_us: Callable[[], int],
        listener: EngineListener | None = None,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        self._specs: dict[str, SymbolSpec] = {}
        for spec in symbols:
            if spec.symbol in self._specs:
                raise ValueError(f"duplicate symbol {spec.symbol}")
            self._specs[spec.symbol] = spec
        self.symbols: tuple[str, ...] = tuple(sorted(self._specs))
        self._books = {s: OrderBook(s) for s in self.symbols}
        self._clock_us = clock_us
        self._listener: EngineListener = NullListener() if listener is None else listener
        self._notify = not isinstance(self._listener, NullListener)
        self._reports_balances = False  # set once an account with balance reports (tracked, notified) opens
        self._history_limit = history_limit
        self.ledger = Ledger()
        self._accounts: dict[AccountId, AccountState] = {}
        self._crossing = Crossing(self.ledger, self._accounts, self._listener, self._notify)
        self._next_order_id = 1

    # -- symbols and accounts --
    def spec(self, symbol: str) -> SymbolSpec:
        spec = self._specs.get(symbol)
        if spec is None:
            raise _bad_symbol()
        return spec

    def account_sizes(self, account: AccountId) -> dict[str, int]:
        """``AccountState.sizes`` of ``account``: open orders, kept history and trades (memory probes)."""
        return self._account(account).sizes()

    def _account(self, account: AccountId) -> AccountState:
        state = self._accounts.get(account)
        if state is None:
            raise EngineError(ErrorCode.REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.")
        return state

    def open_account(
        self,
        account: AccountId,
        balances: Mapping[str, int] | None = None,
        *,
        tracked: bool = True,
        maker_fee_ppm: int | None = None,
        taker_fee_ppm: int | None = None,
    ) -> None:
        """Open ``account`` with initial free ``balances`` (atoms). Fee overrides replace symbol defaults."""
        if account == FEE_ACCOUNT or account in self._accounts:
            raise ValueError(f"account {account!r} already exists")
        if maker_fee_ppm is not None and not -PPM <= maker_fee_ppm <= PPM:
            raise ValueError(f"maker_fee_ppm out of range: {maker_fee_ppm}")
        if taker_fee_ppm is not None and not 0 <= taker_fee_ppm <= PPM:
            raise ValueError(f"taker_fee_ppm out of range: {taker_fee_ppm}")
        self._accounts[account] = AccountState(
            account,
            tracked=tracked,
            maker_fee_ppm=maker_fee_ppm,
            taker_fee_ppm=taker_fee_ppm,
            history_limit=self._history_limit,
        )
        self.ledger.open_account(account, tracked=tracked and self._notify)
        self._reports_balances = self._reports_balances or (tracked and self._notify)
        for asset, atoms in (balances or {}).items():
            if atoms:
                self.ledger.deposit(account, asset, atoms)
        self._report_balances()

    def deposit(self, account: AccountId, asset: str, atoms: int) -> None:
        self._account(account)
        self.ledger.deposit(account, asset, atoms)
        self._report_balances()

    def balance(self, account: AccountId, asset: str) -> Balance:
        if account != FEE_ACCOUNT:
            self._account(account)
        return self.ledger.balance(account, asset)

    def balances(self, account: AccountId) -> dict[str, Balance]:
        if account != FEE_ACCOUNT:
            self._account(account)
        return self.ledger.balances(account)

    def total_supply(self, asset: str) -> int:
        return self.ledger.total(asset)

    def _report_balances(self) -> None:
        """Report every balance changed since the last report (only tracked accounts' changes are recorded)."""
        ledger = self.ledger
        for account, asset in ledger.drain_dirty():
            self._listener.on_balance(
                account, asset, ledger.free(account, asset), ledger.locked(account, asset)
            )

    # -- order entry --
    def place(self, req: PlaceRequest) -> PlaceResult:
        """Accept and process a new order, or raise ``EngineError`` having changed nothing."""
        order, acct, trades = self._place(req)
        return PlaceResult(acct.handed_back(order), tuple(trades))

    def submit(self, req: NewOrder) -> OrderId:
        """``place`` for a caller that needs only the new order's id (the background market, which reuses one
        ``NewOrder`` per agent): no result built, no snapshot taken."""
        return self._place(req)[0].order_id

    def _place(self, req: NewOrder) -> tuple[Order, AccountState, list[Trade]]:
        spec = self._specs.get(req.symbol)
        acct = self._accounts.get(req.account)
        if spec is None or acct is None:
            spec, acct = self.spec(req.symbol), self._account(req.account)  # raise the right error
        validate_place(req, spec)
        book = self._books[req.symbol]
        order_id = OrderId(self._next_order_id)
        cid = ClientOrderId(f"sim{order_id}") if req.client_order_id is None else req.client_order_id
        if (req.symbol, cid) in acct.open_cids:
            raise EngineError(ErrorCode.NEW_ORDER_REJECTED, "Duplicate order sent.")
        crosses = book.would_cross(req.side, req.price_ticks)  # if not, crossing would do nothing
        if crosses and req.type is _LIMIT_MAKER:
            raise EngineError(ErrorCode.NEW_ORDER_REJECTED, WOULD_TAKE)
        asset, reserve, final_lots, fillable = plan_reserve(req, spec, book)
        if not self.ledger.try_lock(req.account, asset, reserve):
            raise EngineError(ErrorCode.NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE)

        self._next_order_id += 1
        now = self._clock_us()
        order = Order.accepted(order_id, cid, req, now)
        acct.add_open(order)
        if self._notify and acct.tracked:
            self._listener.on_execution(order.snapshot(), _X_NEW, None, "")
        if fillable and crosses:
            trades, stop = self._crossing.cross(
                order, book, spec, now=now, quote_budget=req.quote_qty_atoms, final_lots=final_lots
            )
        else:
            trades, stop = [], _STOP_BOOK
        self._finish(order, acct, book, spec, asset, reserve, stop, now)
        if self._reports_balances and self.ledger.has_dirty():
            self._report_balances()
        return order, acct, trades

    def _finish(
        self,
        order: Order,
        acct: AccountState,
        book: OrderBook,
        spec: SymbolSpec,
        asset: str,
        reserve: int,
        stop: Stop,
        now: int,
    ) -> None:
        """After crossing: rest a GTC limit remainder, else end the order and unlock its unused reserve."""
        by_quote = order.quote_order_qty_atoms is not None
        if by_quote:
            order.orig_qty_lots = order.executed_qty_lots
        if stop is _STOP_STP:
            order.status, exec_type = _EXPIRED_IN_MATCH, _X_TRADE_PREVENTION
        elif order.status is _FILLED:
            exec_type = None
        elif (
            order.type is not _MARKET
            and order.time_in_force is _GTC
            and order.orig_qty_lots > order.executed_qty_lots
        ):
            level_qty = book.add(order)
            if self._notify:
                assert order.price_ticks is not None
                self._listener.on_book_level(
                    book.symbol, order.side, order.price_ticks, level_qty, book.update_id
                )
            return
        else:
            assert order.time_in_force is not TimeInForce.FOK or order.executed_qty_lots == 0, (
                "FOK part-filled"
            )
            order.status, exec_type = _EXPIRED, _X_EXPIRED
        if order.side is _SELL:
            spent = order.executed_qty_lots * spec.base_atoms_per_lot
        elif order.price_ticks is None:
            spent = order.cum_quote_atoms
        else:
            spent = order.price_ticks * order.executed_qty_lots * spec.quote_atoms_per_tick_lot
        self.ledger.unlock(order.account, asset, reserve - spent)
        order.updated_us = now
        acct.close(order)
        if exec_type is not None and self._notify and acct.tracked:
            self._listener.on_execution(order.snapshot(), exec_type, None, "")

    # -- cancels --
    def cancel(
        self,
        account: AccountId,
        symbol: str,
        *,
        order_id: OrderId | None = None,
        client_order_id: ClientOrderId | None = None,
    ) -> Order:
        """Cancel one open order (by id, client id, or both, which must agree); -2011 if there is none."""
        spec = self._specs.get(symbol)
        acct = self._accounts.get(account)
        if spec is None or acct is None:
            spec, acct = self.spec(symbol), self._account(account)  # raise the right error
        if order_id is None and client_order_id is None:
            raise EngineError(
                ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        order = acct.find_open(symbol, order_id, client_order_id)
        if order is None:
            raise EngineError(ErrorCode.CANCEL_REJECTED, "Unknown order sent.")
        self._crossing.take_off_book(
            order,
            self._books[symbol],
            spec,
            status=_CANCELED,
            exec_type=_X_CANCELED,
            now=self._clock_us(),
        )
        if self._reports_balances and self.ledger.has_dirty():
            self._report_balances()
        return acct.handed_back(order)

    def cancel_all(self, account: AccountId, symbol: str) -> list[Order]:
        """Cancel every open order of ``account`` on ``symbol``, oldest first (empty list if none)."""
        spec = self.spec(symbol)
        acct = self._account(account)
        book = self._books[symbol]
        now = self._clock_us()
        victims = [o for o in acct.open.values() if o.symbol == symbol]
        for order in victims:
            self._crossing.take_off_book(
                order, book, spec, status=_CANCELED, exec_type=_X_CANCELED, now=now
            )
        if self._reports_balances and self.ledger.has_dirty():
            self._report_balances()
        return [o.snapshot() for o in victims]

    def cancel_replace(
        self,
        account: AccountId,
        symbol: str,
        *,
        new: PlaceRequest,
        mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE,
        cancel_order_id: OrderId | None = None,
        cancel_client_order_id: ClientOrderId | None = None,
    ) -> CancelReplaceResult:
        """Cancel one order, then place ``new`` (skipped if the cancel failed under STOP_ON_FAILURE)."""
        self.spec(symbol)
        self._account(account)
        if new.account != account or new.symbol != symbol:
            raise EngineError(ErrorCode.INVALID_PARAMETER, "Invalid data sent for a parameter.")
        cancel: Order | EngineError
        try:
            cancel = self.cancel(
                account, symbol, order_id=cancel_order_id, client_order_id=cancel_client_order_id
            )
        except EngineError as err:
            cancel = err
            if mode is CancelReplaceMode.STOP_ON_FAILURE:
                return CancelReplaceResult(cancel, None)
        placed: PlaceResult | EngineError
        try:
            placed = self.place(new)
        except EngineError as err:
            placed = err
        return CancelReplaceResult(cancel, placed)

    # -- queries --
    def get_order(
        self,
        account: AccountId,
        symbol: str,
        *,
        order_id: OrderId | None = None,
        client_order_id: ClientOrderId | None = None,
    ) -> Order:
        """An open order, or a terminal one of a tracked account; -2013 otherwise."""
        self.spec(symbol)
        acct = self._account(account)
        if order_id is None and client_order_id is None:
            raise EngineError(
                ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        order = acct.find(symbol, order_id, client_order_id)
        if order is None:
            raise EngineError(ErrorCode.NO_SUCH_ORDER, "Order does not exist.")
        return order.snapshot()

    def open_orders(self, account: AccountId, symbol: str | None = None) -> list[Order]:
        """Open orders of ``account`` (on ``symbol`` if given), by order id."""
        if symbol is not None:
            self.spec(symbol)
        acct = self._account(account)
        return [o.snapshot() for o in acct.open.values() if symbol is None or o.symbol == symbol]

    def trades(
        self, account: AccountId, symbol: str, *, from_id: TradeId | None = None, limit: int = 500
    ) -> list[Trade]:
        """A tracked account's trades on ``symbol``: from ``from_id`` on, else the latest ``limit``."""
        self.spec(symbol)
        acct = self._account(account)
        if not 1 <= limit <= 1000:
            raise EngineError(ErrorCode.INVALID_PARAMETER, "Invalid data sent for a parameter.")
        return acct.trades(symbol, from_id, limit)

    def book(self, symbol: str) -> OrderBook:
        book = self._books.get(symbol)
        if book is None:
            raise _bad_symbol()
        return book

    def best_bid(self, symbol: str) -> tuple[int, int] | None:
        return self.book(symbol).best_bid()

    def best_ask(self, symbol: str) -> tuple[int, int] | None:
        return self.book(symbol).best_ask()

    def update_id(self, symbol: str) -> int:
        return self.book(symbol).update_id

    def depth(self, symbol: str, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]], int]:
        book = self.book(symbol)
        if limit < 1:
            raise EngineError(ErrorCode.INVALID_PARAMETER, "Invalid data sent for a parameter.")
        bids, asks = book.depth(limit)
        return bids, asks, book.update_id

    def audit(self) -> None:
        """Recheck every invariant from scratch (O(open orders)); raises ``EngineAuditError`` on a breach."""
        audit(self._books, self._accounts, self.ledger, self._specs)
