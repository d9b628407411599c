"""Binance JSON <-> bot types. Pure functions: decimals as strings on the wire, ticks/lots/atoms in the bot.

Rules:

* prices become ticks and quantities lots of the symbol's ``SymbolInfo`` (exact on a conforming venue;
  off-grid values round down); money becomes atoms (1e-8, rounded down); outgoing decimals are written in
  plain notation (``format(d, "f")``, never ``1E+1``).
* an order's ``time_ms`` is its last update (``updateTime``, else ``transactTime``, else ``time``); a canceled
  order's client id is ``origClientOrderId`` (DELETE answers carry the cancel's own id in ``clientOrderId``),
  an execution report's is ``C`` when set (cancels), else ``c``.
* ``EXPIRED_IN_MATCH`` (self-trade prevention) is ``EXPIRED``; a price of zero (MARKET) is ``None``.
* ``LIMIT`` orders carry their time in force; ``LIMIT_MAKER`` and ``MARKET`` carry none.

Errors: ``WireError`` (a ``BotError(INTERNAL)``, not recoverable) for a message that lacks a field or has one
this bot does not understand (an order type it never sends, a malformed number). Numbers are read by
``decimals`` (re-exported here: ``dec``, ``num``, ``steps``, ``atoms``, ``plain``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.connectors.binance.decimals import (
    UNITS_MEMO,
    WireError,
    atoms,
    dec,
    e8,
    num,
    plain,
    plain_units,
    steps,
    units_of,
)
from bot.core.errors import BotError, ErrorCode
from bot.core.types import (
    ATOMS_PER_UNIT,
    Balance,
    BalanceUpdate,
    BookLevel,
    BookSnapshot,
    ClientOrderId,
    DepthUpdate,
    Fill,
    NewOrder,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PublicTrade,
    Side,
    SymbolInfo,
    TradeId,
    VenueOrder,
    VenueOrderId,
)

__all__ = [  # with the number readers of ``decimals`` it re-exports
    "Json", "WireError", "account_position", "atoms", "balances", "book", "dec", "depth_update", "execution_report",
    "field", "my_trade", "num", "order_params", "plain", "public_trade", "rate_limits", "steps", "symbol_info",
    "venue_order",
]

Json = Mapping[str, Any]

_STATUS: dict[str, OrderStatus] = {
    "PENDING_NEW": OrderStatus.PENDING_NEW,
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.PENDING_CANCEL,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
}


def field(obj: Json, key: str) -> Any:
    """``obj[key]``, or ``WireError`` when it is missing."""
    try:
        return obj[key]
    except (KeyError, TypeError):
        raise WireError(f"missing field {key!r}") from None


def _ticks_or_none(info: SymbolInfo, value: Any) -> int | None:
    """An order's price in ticks, ``None`` for a zero price (MARKET): ``to_ticks(dec(value))`` when nonzero,
    read as ``steps`` does (the same floor; a plain decimal in integer arithmetic)."""
    units = (UNITS_MEMO.get(value) or plain_units(value)) if type(value) is str else None
    if units is not None and e8(info.tick_size):
        return units // e8(info.tick_size) if units else None
    price = dec(value)
    return info.to_ticks(price) if price else None


def _lookup(table: Mapping[str, Any], value: Any, what: str) -> Any:
    """``table[value]`` (an enum by its wire name), or ``WireError``."""
    try:
        return table[value]
    except (KeyError, TypeError):
        raise WireError(f"unsupported {what}: {value!r}") from None


_SIDES: dict[str, Side] = {member.value: member for member in Side}
_TYPES: dict[str, OrderType] = {member.value: member for member in OrderType}


# -- exchange info --
def symbol_info(entry: Json) -> SymbolInfo:
    """One ``exchangeInfo.symbols[]`` entry (PRICE_FILTER, LOT_SIZE and NOTIONAL or MIN_NOTIONAL filters)."""
    filters = {f.get("filterType"): f for f in field(entry, "filters")}
    price, lot = filters.get("PRICE_FILTER"), filters.get("LOT_SIZE")
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL")
    if price is None or lot is None:
        raise WireError(f"{entry.get('symbol')!r}: no PRICE_FILTER or LOT_SIZE filter")
    step = dec(field(lot, "stepSize"))
    if step <= 0 or dec(field(price, "tickSize")) <= 0:
        raise WireError(f"{entry.get('symbol')!r}: tick size and step size must be positive")
    return SymbolInfo(
        symbol=field(entry, "symbol"),
        base_asset=field(entry, "baseAsset"),
        quote_asset=field(entry, "quoteAsset"),
        tick_size=dec(field(price, "tickSize")),
        step_size=step,
        min_notional=dec(notional.get("minNotional", "0")) if notional is not None else Decimal(0),
        min_qty_lots=max(1, int(dec(lot.get("minQty", "0")) // step)),
        max_qty_lots=int(dec(lot.get("maxQty", "0")) // step) or 10**12,
    )


def rate_limits(info: Json) -> tuple[int | None, int | None]:
    """(REQUEST_WEIGHT per minute, ORDERS per 10 s) from exchangeInfo's ``rateLimits``, None when absent."""
    weight = orders = None
    for limit in info.get("rateLimits", ()):
        seconds = {"SECOND": 1, "MINUTE": 60, "DAY": 86_400}.get(limit.get("interval"), 0) * limit.get("intervalNum", 1)
        if limit.get("rateLimitType") == "REQUEST_WEIGHT" and seconds == 60:
            weight = int(limit["limit"])
        elif limit.get("rateLimitType") == "ORDERS" and seconds == 10:
            orders = int(limit["limit"])
    return weight, orders


# -- market data --
def _levels(info: SymbolInfo, levels: Any) -> tuple[BookLevel, ...]:
    tick, lot = e8(info.tick_size), e8(info.step_size)
    if tick and lot:
        memo = UNITS_MEMO
        out = []
        try:
            for price, qty in levels:
                p = memo.get(price)
                if p is None and (type(price) is not str or (p := plain_units(price)) is None):
                    p = units_of(price, info.tick_size)
                q = memo.get(qty)
                if q is None and (type(qty) is not str or (q := plain_units(qty)) is None):
                    q = units_of(qty, info.step_size)
                out.append(BookLevel(p // tick, q // lot))
            return tuple(out)
        except TypeError:  # an unhashable value: read it the general way below (and fail as it fails there)
            pass
    return tuple(BookLevel(steps(price, info.tick_size), steps(qty, info.step_size)) for price, qty in levels)


def book(info: SymbolInfo, snapshot: Json) -> BookSnapshot:
    """A REST ``depth`` answer."""
    return BookSnapshot(
        symbol=info.symbol,
        last_update_id=int(field(snapshot, "lastUpdateId")),
        bids=_levels(info, field(snapshot, "bids")),
        asks=_levels(info, field(snapshot, "asks")),
    )


_DEPTH_FIELDS = ("U", "u", "b", "a", "E")


def depth_update(info: SymbolInfo, event: Json) -> DepthUpdate:
    """A ``depthUpdate`` stream event (fields read directly; a missing one is ``field``'s ``WireError``)."""
    try:
        return DepthUpdate(
            symbol=info.symbol,
            first_update_id=int(event["U"]),
            last_update_id=int(event["u"]),
            bids=_levels(info, event["b"]),
            asks=_levels(info, event["a"]),
            time_ms=int(event["E"]),
        )
    except (KeyError, TypeError):
        _require(event, _DEPTH_FIELDS)
        raise


def _require(obj: Any, keys: tuple[str, ...]) -> None:
    """After a ``KeyError``/``TypeError`` while reading ``obj`` directly: ``field``'s ``WireError`` for the first
    of ``keys`` that is missing; when none is, the caller re-raises its own error (a malformed value)."""
    for key in keys:
        field(obj, key)


_TRADE_FIELDS = ("t", "p", "q", "m", "T")


def public_trade(info: SymbolInfo, event: Json) -> PublicTrade:
    """A ``trade`` stream event (fields read as in ``depth_update``)."""
    try:
        return PublicTrade(
            symbol=info.symbol,
            trade_id=int(event["t"]),
            price_ticks=steps(event["p"], info.tick_size),
            qty_lots=steps(event["q"], info.step_size),
            buyer_is_maker=bool(event["m"]),
            time_ms=int(event["T"]),
        )
    except (KeyError, TypeError):
        _require(event, _TRADE_FIELDS)
        raise


# -- orders --
def order_params(info: SymbolInfo, order: NewOrder) -> list[tuple[str, str]]:
    """``POST order`` parameters of ``order`` (answer type RESULT)."""
    params = [("symbol", order.symbol), ("side", order.side.value), ("type", order.type.value)]
    if order.type is OrderType.LIMIT:
        params.append(("timeInForce", order.time_in_force.value))
    params.append(("quantity", plain(info.qty(order.qty_lots))))
    if order.type is not OrderType.MARKET:
        if order.price_ticks is None:
            raise BotError(ErrorCode.BAD_REQUEST, f"{order.type.value} order {order.client_order_id} needs a price")
        params.append(("price", plain(info.price(order.price_ticks))))
    params += [("newClientOrderId", order.client_order_id), ("newOrderRespType", "RESULT")]
    return params


_ORDER_FIELDS = ("orderId", "clientOrderId", "side", "type", "status", "origQty", "executedQty")


def venue_order(info: SymbolInfo, answer: Json) -> VenueOrder:
    """An order as REST answers describe it (POST/GET/DELETE order, openOrders, cancelReplace halves); fields
    read as in ``depth_update``."""
    get = answer.get
    time_ms = get("updateTime") or get("transactTime") or get("time") or 0
    try:
        return VenueOrder(
            symbol=info.symbol,
            order_id=VenueOrderId(int(answer["orderId"])),
            client_order_id=ClientOrderId(get("origClientOrderId") or answer["clientOrderId"]),
            side=_lookup(_SIDES, answer["side"], "side"),
            type=_lookup(_TYPES, answer["type"], "order type"),
            status=_lookup(_STATUS, answer["status"], "order status"),
            price_ticks=_ticks_or_none(info, get("price", "0")),
            orig_qty_lots=steps(answer["origQty"], info.step_size),
            executed_qty_lots=steps(answer["executedQty"], info.step_size),
            cum_quote_atoms=atoms(get("cummulativeQuoteQty", "0")),
            time_ms=int(time_ms),
        )
    except (KeyError, TypeError):
        _require(answer, _ORDER_FIELDS)
        raise


def my_trade(info: SymbolInfo, trade: Json, client_order_id: ClientOrderId) -> Fill:
    """One ``myTrades`` entry (which names the order by id only: the caller supplies its client id)."""
    return Fill(
        symbol=info.symbol,
        trade_id=TradeId(int(field(trade, "id"))),
        order_id=VenueOrderId(int(field(trade, "orderId"))),
        client_order_id=client_order_id,
        side=Side.BUY if field(trade, "isBuyer") else Side.SELL,
        price_ticks=steps(field(trade, "price"), info.tick_size),
        qty_lots=steps(field(trade, "qty"), info.step_size),
        quote_atoms=atoms(field(trade, "quoteQty")),
        fee_atoms=atoms(trade.get("commission", "0")),
        fee_asset=trade.get("commissionAsset") or "",
        is_maker=bool(field(trade, "isMaker")),
        time_ms=int(field(trade, "time")),
    )


def balances(account: Json) -> dict[str, Balance]:
    """``GET account``'s balances."""
    return {
        b["asset"]: Balance(atoms(field(b, "free")), atoms(field(b, "locked"))) for b in field(account, "balances")
    }


# -- user data events --
_REPORT_FIELDS = ("c", "p", "i", "S", "o", "X", "q", "z", "Z", "E")


def execution_report(info: SymbolInfo, event: Json) -> OrderUpdate:
    """An ``executionReport``: the order after the change and, for ``x == TRADE``, the fill (the order's fields
    read as in ``depth_update``)."""
    get = event.get
    try:
        client_order_id = ClientOrderId(get("C") or event["c"])
        order = VenueOrder(
            symbol=info.symbol,
            order_id=VenueOrderId(int(event["i"])),
            client_order_id=client_order_id,
            side=_lookup(_SIDES, event["S"], "side"),
            type=_lookup(_TYPES, event["o"], "order type"),
            status=_lookup(_STATUS, event["X"], "order status"),
            price_ticks=_ticks_or_none(info, event["p"]),
            orig_qty_lots=steps(event["q"], info.step_size),
            executed_qty_lots=steps(event["z"], info.step_size),
            cum_quote_atoms=atoms(event["Z"]),
            time_ms=int(get("T") or event["E"]),
        )
    except (KeyError, TypeError):
        _require(event, _REPORT_FIELDS)
        raise
    fill = None
    if field(event, "x") == "TRADE":
        last_price, last_qty = dec(field(event, "L")), dec(field(event, "l"))
        fill = Fill(
            symbol=info.symbol,
            trade_id=TradeId(int(field(event, "t"))),
            order_id=order.order_id,
            client_order_id=client_order_id,
            side=order.side,
            price_ticks=info.to_ticks(last_price),
            qty_lots=info.to_lots(last_qty),
            quote_atoms=atoms(event["Y"]) if "Y" in event else int(last_price * last_qty * ATOMS_PER_UNIT),
            fee_atoms=atoms(event.get("n") or "0"),
            fee_asset=event.get("N") or "",
            is_maker=bool(field(event, "m")),
            time_ms=order.time_ms,
        )
    return OrderUpdate(order=order, fill=fill)


def account_position(event: Json) -> list[BalanceUpdate]:
    """An ``outboundAccountPosition``: one update per asset (fields read as in ``depth_update``)."""
    time_ms = int(event.get("u") or field(event, "E"))
    rows = field(event, "B")
    try:
        return [BalanceUpdate(asset=b["a"], balance=Balance(atoms(b["f"]), atoms(b["l"])), time_ms=time_ms)
                for b in rows]
    except (KeyError, TypeError):
        for b in rows:
            _require(b, ("a", "f", "l"))
        raise
