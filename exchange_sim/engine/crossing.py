"""Crossing one incoming (taker) order against a symbol's resting book: dry-run walks and real matches.

Rules shared by ``walk`` (no side effects) and ``Crossing.cross`` (fills), so a walk predicts a match exactly:
take the best opposite level while it is within the taker's limit, its oldest order first; fill at the maker's
price ``min(taker remaining, maker remaining)`` lots, or for a quote budget as many whole lots as the budget
left buys at that price, stopping once the budget bound a fill or buys no lot at the next maker's price.
Self-trade prevention applies when the maker belongs to the taker's account and the taker's mode is not NONE:
EXPIRE_MAKER expires the maker and goes on, EXPIRE_TAKER stops the taker, EXPIRE_BOTH does both.

Settlement: every order pays from its locked balance (the engine locks a reserve for takers, market orders
included, before crossing); the buyer receives base, the seller quote; each pays ``fee_atoms`` on what it
receives to ``FEE_ACCOUNT`` (maker or taker fee of its account). A LIMIT buy taker filling below its limit
gets the price improvement unlocked at once.

Errors: ledger and book errors propagate (bugs); nothing here raises ``EngineError``.
"""

from __future__ import annotations

from enum import IntEnum

from exchange_sim.engine.accounts import AccountState
from exchange_sim.engine.book import OrderBook
from exchange_sim.engine.ledger import Ledger
from exchange_sim.engine.listener import EngineListener
from exchange_sim.engine.types import (
    AccountId,
    ExecType,
    NewOrder,
    Order,
    OrderStatus,
    OrderType,
    Side,
    StpMode,
    SymbolSpec,
    TimeInForce,
    Trade,
    TradeId,
    fee_atoms,
)

UNLIMITED_LOTS = 1 << 62


class Stop(IntEnum):
    """Why a walk or a match ended."""

    DONE = 0  # the taker's quantity is filled
    BOOK = 1  # no more liquidity within the limit
    STP = 2  # self-trade prevention stopped the taker
    QUOTE = 3  # the quote budget does not buy one more lot


# Enum members read per request, as module globals: in CPython 3.11 ``Side.BUY`` goes through EnumType's
# ``__getattr__`` hook, about three times the cost of a global read.
_BUY = Side.BUY
_SELL = Side.SELL
_MARKET = OrderType.MARKET
_FOK = TimeInForce.FOK
_STP_NONE = StpMode.NONE
_FILLED = OrderStatus.FILLED
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_X_TRADE_PREVENTION = ExecType.TRADE_PREVENTION
_X_TRADE = ExecType.TRADE
_STOP_BOOK = Stop.BOOK
_STOP_DONE = Stop.DONE
_STOP_QUOTE = Stop.QUOTE


def walk(
    book: OrderBook,
    side: Side,
    *,
    account: AccountId,
    stp_mode: StpMode,
    limit_ticks: int | None,
    qty_lots: int | None,
    quote_atoms: int | None,
    quote_atoms_per_tick_lot: int,
) -> tuple[int, int, Stop]:
    """Dry run: the lots and quote atoms a taker would fill, and why it would stop. Changes nothing."""
    remaining = UNLIMITED_LOTS if qty_lots is None else qty_lots
    lots = quote = 0
    is_buy = side is _BUY
    stp = stp_mode is not _STP_NONE
    for level in book.levels(side.opposite):
        price = level.price_ticks
        if limit_ticks is not None and (price > limit_ticks if is_buy else price < limit_ticks):
            return lots, quote, _STOP_BOOK
        lot_cost = price * quote_atoms_per_tick_lot
        for maker in level.orders.values():
            if stp and maker.account == account:
                if stp_mode is StpMode.EXPIRE_MAKER:
                    continue
                return lots, quote, Stop.STP
            n = min(remaining, maker.orig_qty_lots - maker.executed_qty_lots)
            fit = -1
            if quote_atoms is not None:
                fit = (quote_atoms - quote) // lot_cost
                if fit == 0:
                    return lots, quote, _STOP_QUOTE
                n = min(n, fit)
            lots += n
            quote += n * lot_cost
            remaining -= n
            if remaining == 0:
                return lots, quote, _STOP_DONE
            if n == fit:
                return lots, quote, _STOP_QUOTE
    return lots, quote, _STOP_BOOK


def locked_by(order: Order, spec: SymbolSpec) -> tuple[str, int]:
    """The asset and atoms a resting LIMIT order keeps locked for its remaining quantity."""
    remaining = order.orig_qty_lots - order.executed_qty_lots
    if order.side is _BUY:
        assert order.price_ticks is not None
        return spec.quote_asset, order.price_ticks * remaining * spec.quote_atoms_per_tick_lot
    return spec.base_asset, remaining * spec.base_atoms_per_lot


def plan_reserve(req: NewOrder, spec: SymbolSpec, book: OrderBook) -> tuple[str, int, int | None, bool]:
    """The reserve to lock (asset, atoms), the predicted fill of a quote-budget order that its budget
    ends (else None), and whether the order may cross at all (False: a FOK that cannot fill)."""
    k = spec.quote_atoms_per_tick_lot
    buy = req.side is _BUY
    if req.type is not _MARKET:
        assert req.price_ticks is not None and req.qty_lots is not None
        fillable = True
        if req.time_in_force is _FOK:
            lots, _, _ = walk(
                book,
                req.side,
                account=req.account,
                stp_mode=req.stp_mode,
                limit_ticks=req.price_ticks,
                qty_lots=req.qty_lots,
                quote_atoms=None,
                quote_atoms_per_tick_lot=k,
            )
            fillable = lots == req.qty_lots
        if buy:
            return spec.quote_asset, req.price_ticks * req.qty_lots * k, None, fillable
        return spec.base_asset, req.qty_lots * spec.base_atoms_per_lot, None, fillable
    if req.qty_lots is not None:
        if not buy:
            return spec.base_asset, spec.base_atoms(req.qty_lots), None, True
        _, cost, _ = walk(
            book,
            req.side,
            account=req.account,
            stp_mode=req.stp_mode,
            limit_ticks=None,
            qty_lots=req.qty_lots,
            quote_atoms=None,
            quote_atoms_per_tick_lot=k,
        )
        return spec.quote_asset, cost, None, True
    budget = req.quote_qty_atoms
    lots, _, stop = walk(
        book,
        req.side,
        account=req.account,
        stp_mode=req.stp_mode,
        limit_ticks=None,
        qty_lots=None,
        quote_atoms=budget,
        quote_atoms_per_tick_lot=k,
    )
    final_lots = lots if stop is _STOP_QUOTE and lots > 0 else None
    if buy:
        assert budget is not None
        return spec.quote_asset, budget, final_lots, True
    return spec.base_asset, spec.base_atoms(lots), final_lots, True


class Crossing:
    """The engine's matching step; owns the trade id sequence and reports fills to the listener."""

    __slots__ = ("accounts", "ledger", "listener", "next_trade_id", "notify")

    def __init__(
        self, ledger: Ledger, accounts: dict[AccountId, AccountState], listener: EngineListener, notify: bool
    ) -> None:
        self.ledger = ledger
        self.accounts = accounts
        self.listener = listener
        self.notify = notify
        self.next_trade_id = 1

    def take_off_book(
        self,
        order: Order,
        book: OrderBook,
        spec: SymbolSpec,
        *,
        status: OrderStatus,
        exec_type: ExecType,
        now: int,
    ) -> None:
        """Remove a resting order (cancel, STP expiry): level update, unlock, terminal report."""
        level_qty = book.remove(order)
        asset, atoms = locked_by(order, spec)
        self.ledger.unlock(order.account, asset, atoms)
        order.status = status
        order.updated_us = now
        acct = self.accounts[order.account]
        acct.close(order)
        if self.notify:
            assert order.price_ticks is not None
            self.listener.on_book_level(book.symbol, order.side, order.price_ticks, level_qty, book.update_id)
            if acct.tracked:
                self.listener.on_execution(order.snapshot(), exec_type, None, "")

    def cross(
        self,
        taker: Order,
        book: OrderBook,
        spec: SymbolSpec,
        *,
        now: int,
        quote_budget: int | None,
        final_lots: int | None,
    ) -> tuple[list[Trade], Stop]:
        """Match ``taker`` (already accepted, its reserve locked) until it stops; returns trades and why.

        ``quote_budget`` is set for MARKET-by-quote orders; ``final_lots`` (their predicted fill when the
        budget is what stops them) lets the last fill report FILLED."""
        trades: list[Trade] = []
        is_buy = taker.side is _BUY
        maker_side = _SELL if is_buy else _BUY
        limit = taker.price_ticks
        stp_mode = taker.stp_mode
        stp = stp_mode is not _STP_NONE
        account = taker.account
        taker_acct = self.accounts[account]
        taker_fee = taker_acct.taker_fee(spec)
        report_taker = self.notify and taker_acct.tracked
        k = spec.quote_atoms_per_tick_lot
        remaining = (
            UNLIMITED_LOTS if quote_budget is not None else taker.orig_qty_lots - taker.executed_qty_lots
        )
        quote_left = 0 if quote_budget is None else quote_budget
        while True:
            level = book.best_level(maker_side)
            if level is None:
                return trades, _STOP_BOOK
            price = level.price_ticks
            if limit is not None and (price > limit if is_buy else price < limit):
                return trades, _STOP_BOOK
            maker = level.first()
            if stp and maker.account == account:
                if stp_mode is not StpMode.EXPIRE_TAKER:
                    self.take_off_book(
                        maker,
                        book,
                        spec,
                        status=OrderStatus.EXPIRED_IN_MATCH,
                        exec_type=_X_TRADE_PREVENTION,
                        now=now,
                    )
                if stp_mode is StpMode.EXPIRE_MAKER:
                    continue
                return trades, Stop.STP
            lots = min(remaining, maker.orig_qty_lots - maker.executed_qty_lots)
            fit = -1
            if quote_budget is not None:
                fit = quote_left // (price * k)
                if fit == 0:
                    return trades, _STOP_QUOTE
                lots = min(lots, fit)
                quote_left -= price * lots * k
            trade = self._fill(taker, maker, price, lots, book, spec, taker_acct, taker_fee, now)
            trades.append(trade)
            if quote_budget is None:
                remaining -= lots
                if remaining == 0:
                    taker.status = _FILLED
            elif final_lots is not None and taker.executed_qty_lots == final_lots:
                taker.status = _FILLED
            if report_taker:
                self.listener.on_execution(taker.snapshot(), _X_TRADE, trade, "")
            if remaining == 0:
                return trades, _STOP_DONE
            if lots == fit:
                return trades, _STOP_QUOTE

    def _fill(
        self,
        taker: Order,
        maker: Order,
        price: int,
        lots: int,
        book: OrderBook,
        spec: SymbolSpec,
        taker_acct: AccountState,
        taker_fee_ppm: int,
        now: int,
    ) -> Trade:
        """Settle one match at ``price``; update both orders and the book; report all but the taker."""
        quote = price * lots * spec.quote_atoms_per_tick_lot
        base = lots * spec.base_atoms_per_lot
        maker_acct = self.accounts[maker.account]
        maker_fee_ppm = maker_acct.maker_fee(spec)
        if maker.side is _BUY:  # the maker buys: it receives base, the taker quote
            maker_fee_asset, taker_fee_asset = spec.base_asset, spec.quote_asset
            maker_fee, taker_fee = fee_atoms(base, maker_fee_ppm), fee_atoms(quote, taker_fee_ppm)
            self.ledger.settle(
                maker.account, taker.account, spec.base_asset, base, spec.quote_asset, quote, maker_fee, taker_fee
            )
        else:
            maker_fee_asset, taker_fee_asset = spec.quote_asset, spec.base_asset
            maker_fee, taker_fee = fee_atoms(quote, maker_fee_ppm), fee_atoms(base, taker_fee_ppm)
            if taker.price_ticks is not None and taker.price_ticks != price:  # LIMIT buy: price improvement
                improvement = (taker.price_ticks - price) * lots * spec.quote_atoms_per_tick_lot
                self.ledger.unlock(taker.account, spec.quote_asset, improvement)
            self.ledger.settle(
                taker.account, maker.account, spec.base_asset, base, spec.quote_asset, quote, taker_fee, maker_fee
            )

        maker.executed_qty_lots += lots
        maker.cum_quote_atoms += quote
        maker.updated_us = now
        filled = maker.executed_qty_lots == maker.orig_qty_lots
        maker.status = _FILLED if filled else _PARTIALLY_FILLED
        taker.executed_qty_lots += lots
        taker.cum_quote_atoms += quote
        taker.updated_us = now
        taker.status = _PARTIALLY_FILLED
        level_qty = book.reduce(maker, lots)
        if filled:
            maker_acct.close(maker)

        trade = Trade(
            trade_id=TradeId(self.next_trade_id),
            symbol=spec.symbol,
            price_ticks=price,
            qty_lots=lots,
            quote_atoms=quote,
            taker_side=taker.side,
            maker_order_id=maker.order_id,
            taker_order_id=taker.order_id,
            maker_account=maker.account,
            taker_account=taker.account,
            maker_fee_atoms=maker_fee,
            taker_fee_atoms=taker_fee,
            maker_fee_asset=maker_fee_asset,
            taker_fee_asset=taker_fee_asset,
            time_us=now,
        )
        self.next_trade_id += 1
        if maker_acct.tracked:
            maker_acct.record_trade(trade)
        if taker_acct.tracked and taker_acct is not maker_acct:
            taker_acct.record_trade(trade)
        if self.notify:
            self.listener.on_book_level(spec.symbol, maker.side, price, level_qty, book.update_id)
            self.listener.on_trade(trade)
            if maker_acct.tracked:
                self.listener.on_execution(maker.snapshot(), _X_TRADE, trade, "")
        return trade
