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
this bot does not understand (an order type it never sends, a malformed number).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

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


class WireError(BotError):
    """A venue message the connector cannot translate."""

    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INTERNAL, message, recoverable=False)


def field(obj: Json, key: str) -> Any:
    """``obj[key]``, or ``WireError`` when it is missing."""
    try:
        return obj[key]
    except (KeyError, TypeError):
        raise WireError(f"missing field {key!r}") from None


def dec(value: Any) -> Decimal:
    """A wire decimal (string or int) as ``Decimal``, normalised without exponent above the units."""
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        raise WireError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise WireError(f"not a finite number: {value!r}")
    return number.quantize(Decimal(1)) if number.as_tuple().exponent > 0 else number  # type: ignore[operator]


def num(value: Any) -> Decimal:
    """A wire decimal as ``Decimal`` as it is (not normalised): for values only divided into ticks, lots or
    atoms, where ``dec``'s normalisation is wasted work on every price level of every depth update."""
    try:
        number = Decimal(value) if isinstance(value, str) else Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise WireError(f"not a finite number: {value!r}")
    return number


E8 = 100_000_000


@functools.lru_cache(maxsize=256)
def _e8(step: Decimal) -> int:
    """``step`` in units of 1e-8 when that is a whole number (every real tick and lot size), else 0."""
    scaled = step * E8
    return int(scaled) if scaled > 0 and scaled == scaled.to_integral_value() else 0


def steps(value: Any, step: Decimal) -> int:
    """``floor(value / step)``: a wire decimal in ticks or lots (``SymbolInfo.to_ticks``/``to_lots``).

    When ``step`` is a whole number of 1e-8 the value is read in integer arithmetic (``_units``), else through
    ``Decimal`` (same result)."""
    unit = _e8(step)
    if not unit:
        return int(num(value) // step)
    units = _UNITS_MEMO.get(value) if type(value) is str else None
    return (units if units is not None else _units(value, step)) // unit


def _ticks_or_none(info: SymbolInfo, value: Any) -> int | None:
    """An order's price in ticks, ``None`` for a zero price (MARKET): ``to_ticks(dec(value))`` when nonzero,
    read as ``steps`` does (the same floor; a plain decimal in integer arithmetic)."""
    units = (_UNITS_MEMO.get(value) or _plain_units(value)) if type(value) is str else None
    if units is not None and _e8(info.tick_size):
        return units // _e8(info.tick_size) if units else None
    price = dec(value)
    return info.to_ticks(price) if price else None


def plain(value: Decimal) -> str:
    """``value`` in plain notation for the wire."""
    return format(value, "f")


def atoms(value: Any) -> int:
    """A wire amount in atoms (1e-8), truncated: a plain decimal in integer arithmetic (exact), else ``Decimal``."""
    units = (_UNITS_MEMO.get(value) or _plain_units(value)) if type(value) is str else None
    return units if units is not None else int(num(value) * ATOMS_PER_UNIT)


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
    tick, lot = _e8(info.tick_size), _e8(info.step_size)
    if tick and lot:
        memo = _UNITS_MEMO
        out = []
        try:
            for price, qty in levels:
                p = memo.get(price)
                if p is None and (type(price) is not str or (p := _plain_units(price)) is None):
                    p = _units(price, info.tick_size)
                q = memo.get(qty)
                if q is None and (type(qty) is not str or (q := _plain_units(qty)) is None):
                    q = _units(qty, info.step_size)
                out.append(BookLevel(p // tick, q // lot))
            return tuple(out)
        except TypeError:  # an unhashable value: read it the general way below (and fail as it fails there)
            pass
    return tuple(BookLevel(steps(price, info.tick_size), steps(qty, info.step_size)) for price, qty in levels)


def _units(value: Any, step: Decimal) -> int:
    """A wire decimal in units of 1e-8, floored (for a step that is a whole number of 1e-8: see ``steps``).

    The plain form Binance sends is read in integer arithmetic (``_plain_units``); anything else goes through
    ``Decimal``."""
    units = _plain_units(value) if type(value) is str else None
    return units if units is not None else int(num(value) // step) * _e8(step)


_SCALE = tuple(10 ** (8 - n) for n in range(9))  # a fraction of n digits, in units of 1e-8
_UNITS_MEMO: dict[str, int] = {}  # plain decimal text -> its units: prices and sizes repeat on every update
_UNITS_MEMO_MAX = 1 << 16  # emptied when full (a bound, not an eviction policy: the value never changes)


def _plain_units(value: str) -> int | None:
    """``value`` in units of 1e-8 when it has Binance's plain form (``^[0-9]{1,20}(\\.[0-9]{1,8})?$``, ASCII
    digits only), else ``None``: split at the point and read with ``int``. A pure function of the text,
    remembered per text (``_UNITS_MEMO``), so a price seen before costs one dictionary lookup."""
    units = _UNITS_MEMO.get(value)
    if units is not None:
        return units
    whole, point, fraction = value.partition(".")
    if not (whole.isdigit() and whole.isascii() and len(whole) <= 20
            and (not point or (fraction.isdigit() and fraction.isascii() and len(fraction) <= 8))):
        return None
    units = int(whole) * E8 + (int(fraction) * _SCALE[len(fraction)] if point else 0)
    if len(_UNITS_MEMO) >= _UNITS_MEMO_MAX:
        _UNITS_MEMO.clear()
    _UNITS_MEMO[value] = units
    return units


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
