"""Engine values <-> Binance Spot JSON: every decimal as a string with 8 places, times in Unix milliseconds.

Pure functions only. ``ms`` arguments are callables mapping simulated µs (engine timestamps) to the server's
Unix milliseconds (``RealTimeDriver.epoch_ms_of``). Field names and order follow Binance Spot's REST and
WebSocket documentation (DESIGN section 5). Enum members are written by their ``_value_`` (the plain attribute
that ``.value`` reads through a descriptor: the same text, without two calls per field).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from exchange_sim.engine.types import (
    AccountId,
    Balance,
    ExecType,
    Order,
    OrderType,
    Side,
    SymbolSpec,
    Trade,
)
from exchange_sim.feeds import AccountUpdate, DepthDiff, ExecutionReport

Json = dict[str, Any]
ToMs = Callable[[int], int]
ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET")
STP_MODES = ("NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")
ZERO = "0.00000000"


E8 = 100_000_000


def fmt(value: Decimal) -> str:
    return f"{value:.8f}"


@functools.lru_cache(maxsize=256)
def _e8(step: Decimal) -> int:
    """``step`` in units of 1e-8 when that is a whole number (every real tick and lot size), else 0."""
    scaled = step * E8
    return int(scaled) if scaled > 0 and scaled == scaled.to_integral_value() else 0


def _steps(step: Decimal, count: int) -> str:
    """``fmt(step * count)`` in integer arithmetic when ``step`` is a whole number of 1e-8 (same text)."""
    unit = _e8(step)
    if not unit:
        return fmt(step * count)
    return _units_text(unit * count)


def price(spec: SymbolSpec, ticks: int | None) -> str:
    if ticks is None:
        return ZERO
    unit = _e8(spec.tick_size)
    return (_TEXT_MEMO.get(unit * ticks) or _units_text(unit * ticks)) if unit else fmt(spec.tick_size * ticks)


def qty(spec: SymbolSpec, lots: int) -> str:
    """``_steps(spec.step_size, lots)``, the remembered text looked up first."""
    unit = _e8(spec.step_size)
    return (_TEXT_MEMO.get(unit * lots) or _units_text(unit * lots)) if unit else fmt(spec.step_size * lots)


def atoms(value: int) -> str:
    """Atoms (1e-8) as 8-place decimal text: ``fmt(atoms_to_decimal(value))`` in integer arithmetic."""
    return _TEXT_MEMO.get(value) or _units_text(value)


def levels(spec: SymbolSpec, rows: Iterable[tuple[int, int]]) -> list[list[str]]:
    tick, lot = _e8(spec.tick_size), _e8(spec.step_size)
    if not (tick and lot):
        return [[price(spec, p), qty(spec, q)] for p, q in rows]
    memo, text = _TEXT_MEMO, _units_text
    return [[memo.get(tick * p) or text(tick * p), memo.get(lot * q) or text(lot * q)] for p, q in rows]


_TEXT_MEMO: dict[int, str] = {}  # units -> text: the same prices and sizes are written on every update
_TEXT_MEMO_MAX = 1 << 16  # emptied when full (a bound only: a remembered text never changes)


def _units_text(units: int) -> str:
    """A count of 1e-8 as Binance's 8-place decimal text (``fmt`` of the same value), remembered per count."""
    text = _TEXT_MEMO.get(units)
    if text is None:
        text = f"{units // E8}.{units % E8:08d}" if units >= 0 else f"-{-units // E8}.{-units % E8:08d}"
        if len(_TEXT_MEMO) >= _TEXT_MEMO_MAX:
            _TEXT_MEMO.clear()
        _TEXT_MEMO[units] = text
    return text


# -- market data --
def symbol_info(spec: SymbolSpec) -> Json:
    return {
        "symbol": spec.symbol, "status": "TRADING", "baseAsset": spec.base_asset, "baseAssetPrecision": 8,
        "quoteAsset": spec.quote_asset, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8, "orderTypes": list(ORDER_TYPES),
        "icebergAllowed": False, "ocoAllowed": False, "otoAllowed": False, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False, "cancelReplaceAllowed": True, "amendAllowed": False,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": price(spec, spec.min_price_ticks),
             "maxPrice": price(spec, spec.max_price_ticks), "tickSize": fmt(spec.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": qty(spec, spec.min_qty_lots),
             "maxQty": qty(spec, spec.max_qty_lots), "stepSize": fmt(spec.step_size)},
            {"filterType": "NOTIONAL", "minNotional": fmt(spec.min_notional), "applyMinToMarket": True,
             "maxNotional": fmt(spec.max_notional), "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": list(STP_MODES),
    }


def exchange_info(specs: Sequence[SymbolSpec], server_ms: int, rate_limits: list[Json]) -> Json:
    return {"timezone": "UTC", "serverTime": server_ms, "rateLimits": rate_limits, "exchangeFilters": [],
            "symbols": [symbol_info(s) for s in specs]}


def book_ticker(spec: SymbolSpec, best_bid: tuple[int, int] | None, best_ask: tuple[int, int] | None) -> Json:
    bid_p, bid_q = best_bid if best_bid is not None else (0, 0)
    ask_p, ask_q = best_ask if best_ask is not None else (0, 0)
    return {"symbol": spec.symbol, "bidPrice": price(spec, bid_p), "bidQty": qty(spec, bid_q),
            "askPrice": price(spec, ask_p), "askQty": qty(spec, ask_q)}


def depth_update(spec: SymbolSpec, diff: DepthDiff, ms: ToMs) -> Json:
    return {"e": "depthUpdate", "E": ms(diff.event_time_us), "s": spec.symbol, "U": diff.first_update_id,
            "u": diff.last_update_id, "b": levels(spec, diff.bids), "a": levels(spec, diff.asks)}


def book_ticker_event(spec: SymbolSpec, update_id: int, best_bid: tuple[int, int] | None,
                      best_ask: tuple[int, int] | None) -> Json:
    bid_p, bid_q = best_bid if best_bid is not None else (0, 0)
    ask_p, ask_q = best_ask if best_ask is not None else (0, 0)
    return {"u": update_id, "s": spec.symbol, "b": price(spec, bid_p), "B": qty(spec, bid_q),
            "a": price(spec, ask_p), "A": qty(spec, ask_q)}


def trade_event(spec: SymbolSpec, trade: Trade, ms: ToMs) -> Json:
    t = ms(trade.time_us)
    return {"e": "trade", "E": t, "s": spec.symbol, "t": trade.trade_id, "p": price(spec, trade.price_ticks),
            "q": qty(spec, trade.qty_lots), "T": t, "m": trade.buyer_is_maker, "M": True}


# -- orders --
def _order_core(spec: SymbolSpec, order: Order) -> Json:
    return {"price": price(spec, order.price_ticks), "origQty": qty(spec, order.orig_qty_lots),
            "executedQty": qty(spec, order.executed_qty_lots),
            "origQuoteOrderQty": atoms(order.quote_order_qty_atoms or 0),
            "cummulativeQuoteQty": atoms(order.cum_quote_atoms), "status": order.status._value_,
            "timeInForce": order.time_in_force._value_, "type": order.type._value_, "side": order.side._value_}


def order(spec: SymbolSpec, o: Order, ms: ToMs) -> Json:
    """GET order / openOrders."""
    return {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
            **_order_core(spec, o), "stopPrice": ZERO, "icebergQty": ZERO, "time": (created := ms(o.created_us)),
            "updateTime": ms(o.updated_us), "isWorking": not o.status.is_terminal,
            "workingTime": created, "selfTradePreventionMode": o.stp_mode._value_}


def fill(spec: SymbolSpec, trade: Trade, account: AccountId) -> Json:
    maker = trade.maker_account == account and trade.taker_account != account
    fee, asset = (trade.maker_fee_atoms, trade.maker_fee_asset) if maker else (trade.taker_fee_atoms,
                                                                               trade.taker_fee_asset)
    return {"price": price(spec, trade.price_ticks), "qty": qty(spec, trade.qty_lots), "commission": atoms(fee),
            "commissionAsset": asset, "tradeId": trade.trade_id}


def new_order(spec: SymbolSpec, o: Order, trades: Sequence[Trade], resp_type: str, ms: ToMs) -> Json:
    """POST order in the ACK, RESULT or FULL form."""
    out: Json = {"symbol": o.symbol, "orderId": o.order_id, "orderListId": -1, "clientOrderId": o.client_order_id,
                 "transactTime": ms(o.created_us)}
    if resp_type == "ACK":
        return out
    out.update(_order_core(spec, o))
    out["workingTime"] = out["transactTime"]  # both ms(o.created_us)
    out["selfTradePreventionMode"] = o.stp_mode._value_
    if resp_type == "FULL":
        out["fills"] = [fill(spec, t, o.account) for t in trades]
    return out


def default_resp_type(order_type: OrderType) -> str:
    return "FULL" if order_type in (OrderType.MARKET, OrderType.LIMIT) else "ACK"


def canceled(spec: SymbolSpec, o: Order, cancel_cid: str, ms: ToMs) -> Json:
    """DELETE order: ``clientOrderId`` is the cancel's own id, ``origClientOrderId`` the order's."""
    return {"symbol": o.symbol, "origClientOrderId": o.client_order_id, "orderId": o.order_id, "orderListId": -1,
            "clientOrderId": cancel_cid, "transactTime": ms(o.updated_us), **_order_core(spec, o),
            "selfTradePreventionMode": o.stp_mode._value_}


def my_trade(spec: SymbolSpec, trade: Trade, account: AccountId, ms: ToMs) -> Json:
    maker = trade.maker_account == account and trade.taker_account != account
    own_side = trade.taker_side.opposite if maker else trade.taker_side
    f = fill(spec, trade, account)
    return {"symbol": trade.symbol, "id": trade.trade_id,
            "orderId": trade.maker_order_id if maker else trade.taker_order_id, "orderListId": -1,
            "price": f["price"], "qty": f["qty"], "quoteQty": atoms(trade.quote_atoms), "commission": f["commission"],
            "commissionAsset": f["commissionAsset"], "time": ms(trade.time_us), "isBuyer": own_side is Side.BUY,
            "isMaker": maker, "isBestMatch": True}


def account(balances: dict[str, Balance], maker_ppm: int, taker_ppm: int, account_id: AccountId,
            server_ms: int) -> Json:
    maker, taker = fmt(Decimal(maker_ppm) / 10**6), fmt(Decimal(taker_ppm) / 10**6)
    return {"makerCommission": maker_ppm // 100, "takerCommission": taker_ppm // 100, "buyerCommission": 0,
            "sellerCommission": 0, "commissionRates": {"maker": maker, "taker": taker, "buyer": ZERO, "seller": ZERO},
            "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
            "requireSelfTradePrevention": False, "preventSor": False, "updateTime": server_ms,
            "accountType": "SPOT", "uid": abs(hash(account_id)) % 10**9, "permissions": ["SPOT"],
            "balances": [{"asset": a, "free": atoms(b.free_atoms), "locked": atoms(b.locked_atoms)}
                         for a, b in sorted(balances.items())]}


# -- user data stream --
def execution_report(spec: SymbolSpec, report: ExecutionReport, ms: ToMs) -> Json:
    o, trade = report.order, report.trade
    last_qty = last_price = last_quote = commission = "0.00000000"
    commission_asset: str | None = None
    trade_id, maker = -1, False
    if trade is not None and report.exec_type is ExecType.TRADE:
        f = fill(spec, trade, o.account)
        maker = trade.maker_order_id == o.order_id
        last_qty, last_price, last_quote = f["qty"], f["price"], atoms(trade.quote_atoms)
        commission, commission_asset, trade_id = f["commission"], f["commissionAsset"], trade.trade_id
    canceled_ = report.exec_type is ExecType.CANCELED
    return {
        "e": "executionReport", "E": ms(report.event_time_us), "s": o.symbol, "c": o.client_order_id,
        "S": o.side._value_, "o": o.type._value_, "f": o.time_in_force._value_, "q": qty(spec, o.orig_qty_lots),
        "p": price(spec, o.price_ticks), "P": ZERO, "F": ZERO, "g": -1, "C": o.client_order_id if canceled_ else "",
        "x": report.exec_type._value_, "X": o.status._value_, "r": report.reason or "NONE", "i": o.order_id,
        "l": last_qty, "z": qty(spec, o.executed_qty_lots), "L": last_price, "n": commission, "N": commission_asset,
        "T": ms(o.updated_us), "t": trade_id, "v": 0, "I": 0, "w": not o.status.is_terminal, "m": maker,
        "M": False, "O": (created := ms(o.created_us)), "Z": atoms(o.cum_quote_atoms), "Y": last_quote,
        "Q": atoms(o.quote_order_qty_atoms or 0), "W": created, "V": o.stp_mode._value_,
    }


def account_position(updates: Sequence[AccountUpdate], ms: ToMs) -> Json:
    last = updates[-1]
    latest: dict[str, AccountUpdate] = {u.asset: u for u in updates}
    return {"e": "outboundAccountPosition", "E": ms(last.event_time_us), "u": ms(last.event_time_us),
            "B": [{"a": a, "f": atoms(u.free_atoms), "l": atoms(u.locked_atoms)} for a, u in sorted(latest.items())]}
