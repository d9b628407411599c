"""Value types of the matching engine: ids, enums, symbol specs, orders, trades and requests.

Money is never a float here. Prices are integer *ticks* of a symbol's ``tick_size``; quantities are integer
*lots* of its ``step_size``; balances are integer *atoms* of an asset (1 atom = 10**-ASSET_DECIMALS units, the
8 decimals Binance reports). A symbol's spec converts between the three exactly (``Decimal`` at the edges only):

    notional_atoms = price_ticks * qty_lots * quote_atoms_per_tick_lot
    base_atoms     = qty_lots * base_atoms_per_lot

Fees are integer parts-per-million of the received amount, rounded up to whole atoms (the venue never
rounds in the trader's favour), so every balance change is an exact integer and exchange-wide balances are
conserved to the atom.

Errors: ``SymbolSpec`` raises ``ValueError`` at construction when its tick/step cannot be represented in atoms;
``EngineError`` carries a Binance error code and message for every rejected request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, Inexact, InvalidOperation, localcontext
from enum import IntEnum, StrEnum
from typing import NewType, Protocol

ASSET_DECIMALS = 8
ATOMS_PER_UNIT = 10**ASSET_DECIMALS
PPM = 1_000_000

AccountId = NewType("AccountId", str)
OrderId = NewType("OrderId", int)
ClientOrderId = NewType("ClientOrderId", str)
TradeId = NewType("TradeId", int)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return _OPPOSITE[self]  # a dict read: ``Side.SELL`` would cost an EnumType hook call (see crossing.py)


_OPPOSITE = {Side.BUY: Side.SELL, Side.SELL: Side.BUY}


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"  # post-only: rejected (-2010) if it would take
    MARKET = "MARKET"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXPIRED_IN_MATCH = "EXPIRED_IN_MATCH"  # expired by self-trade prevention

    @property
    def is_terminal(self) -> bool:
        return self not in _LIVE_STATUSES


_LIVE_STATUSES = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class ExecType(StrEnum):
    """Binance ``executionReport`` execution types."""

    NEW = "NEW"
    CANCELED = "CANCELED"
    REPLACED = "REPLACED"
    REJECTED = "REJECTED"
    TRADE = "TRADE"
    EXPIRED = "EXPIRED"
    TRADE_PREVENTION = "TRADE_PREVENTION"


class StpMode(StrEnum):
    """Self-trade prevention modes (Binance ``selfTradePreventionMode``)."""

    NONE = "NONE"
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class ErrorCode(IntEnum):
    """The Binance Spot error codes the simulated venue answers with."""

    UNKNOWN = -1000
    DISCONNECTED = -1001
    TOO_MANY_REQUESTS = -1003
    TIMEOUT = -1007  # backend timeout: execution status unknown
    TOO_MANY_ORDERS = -1015
    INVALID_TIMESTAMP = -1021
    INVALID_SIGNATURE = -1022
    ILLEGAL_CHARS = -1100
    TOO_MANY_PARAMETERS = -1101
    MANDATORY_PARAM_EMPTY_OR_MALFORMED = -1102
    UNKNOWN_PARAM = -1104
    PARAM_EMPTY = -1105
    PARAM_NOT_REQUIRED = -1106
    BAD_PRECISION = -1111
    INVALID_TIF = -1115
    INVALID_ORDER_TYPE = -1116
    INVALID_SIDE = -1117
    NEW_CLIENT_ORDER_ID_EMPTY = -1118
    BAD_SYMBOL = -1121
    INVALID_PARAMETER = -1130
    FILTER_FAILURE = -1013
    NEW_ORDER_REJECTED = -2010  # insufficient balance, would immediately match (post-only), duplicate id
    CANCEL_REJECTED = -2011  # unknown order on cancel
    CANCEL_REPLACE_FAILED = -2022
    CANCEL_REPLACE_PARTIAL = -2021
    NO_SUCH_ORDER = -2013
    BAD_API_KEY_FMT = -2014
    REJECTED_MBX_KEY = -2015


class EngineError(Exception):
    """A request the venue refuses, with Binance's code and message (``{"code": ..., "msg": ...}``)."""

    def __init__(self, code: ErrorCode, msg: str) -> None:
        super().__init__(f"{int(code)} {msg}")
        self.code = code
        self.msg = msg

    def to_json(self) -> dict[str, int | str]:
        return {"code": int(self.code), "msg": self.msg}


def _exact_int(value: Decimal, what: str) -> int:
    if value != value.to_integral_value() or value <= 0:
        raise ValueError(f"{what} must be a positive whole number of atoms, got {value}")
    return int(value)


_EXACT_DIGITS = 60  # more than any price or quantity a filter admits (maxPrice/maxQty have at most ~20 digits)


def _exact_quotient(value: Decimal, step: Decimal) -> int | None:
    """``value / step`` as an int when it is exactly a whole number, else None.

    Computed exactly: the default 28-digit context would round ``100000005.00000000000000000001 / 0.01`` onto the
    grid and accept an off-grid price (Binance answers -1013). Inexact or non-finite quotients are None.
    """
    with localcontext(prec=_EXACT_DIGITS) as ctx:
        ctx.traps[Inexact] = ctx.traps[InvalidOperation] = True
        try:
            quotient = ctx.divide(value, step)
        except (Inexact, InvalidOperation):
            return None
        if not quotient.is_finite() or quotient != quotient.to_integral_value():
            return None
        return int(quotient)


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolSpec:
    """One tradable symbol: its assets, its filters and its default fees.

    ``tick_size * step_size`` must be a whole number of quote atoms and ``step_size`` a whole number of
    base atoms, so that every notional and every balance change is an exact integer.
    """

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_qty_lots: int = 1
    max_qty_lots: int = 10**12
    min_price_ticks: int = 1
    max_price_ticks: int = 10**12
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")  # NOTIONAL's maxNotional (limit orders; applyMaxToMarket false)
    maker_fee_ppm: int = 1000  # 0.10 %
    taker_fee_ppm: int = 1000  # 0.10 %
    quote_atoms_per_tick_lot: int = field(init=False)
    base_atoms_per_lot: int = field(init=False)
    min_notional_atoms: int = field(init=False)
    max_notional_atoms: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "quote_atoms_per_tick_lot",
            _exact_int(self.tick_size * self.step_size * ATOMS_PER_UNIT, f"{self.symbol} tick*step"),
        )
        object.__setattr__(
            self, "base_atoms_per_lot", _exact_int(self.step_size * ATOMS_PER_UNIT, f"{self.symbol} step")
        )
        object.__setattr__(self, "min_notional_atoms", int(self.min_notional * ATOMS_PER_UNIT))
        object.__setattr__(self, "max_notional_atoms", int(self.max_notional * ATOMS_PER_UNIT))

    # -- conversions (Decimal only at the edges: config, wire protocol) --
    def price_to_ticks(self, price: Decimal) -> int:
        """Exact price -> ticks; raises ``EngineError(-1013 PRICE_FILTER)`` if off the tick grid."""
        ticks = _exact_quotient(price, self.tick_size)
        if ticks is None:
            raise EngineError(ErrorCode.FILTER_FAILURE, "Filter failure: PRICE_FILTER")
        return ticks

    def qty_to_lots(self, qty: Decimal) -> int:
        """Exact quantity -> lots; raises ``EngineError(-1013 LOT_SIZE)`` if off the step grid."""
        lots = _exact_quotient(qty, self.step_size)
        if lots is None:
            raise EngineError(ErrorCode.FILTER_FAILURE, "Filter failure: LOT_SIZE")
        return lots

    def ticks_to_price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def lots_to_qty(self, lots: int) -> Decimal:
        return self.step_size * lots

    def notional_atoms(self, price_ticks: int, qty_lots: int) -> int:
        return price_ticks * qty_lots * self.quote_atoms_per_tick_lot

    def base_atoms(self, qty_lots: int) -> int:
        return qty_lots * self.base_atoms_per_lot


def atoms_to_decimal(atoms: int) -> Decimal:
    """Integer atoms -> Decimal units with exactly ``ASSET_DECIMALS`` places (Binance's balance format)."""
    return Decimal(atoms).scaleb(-ASSET_DECIMALS)


def decimal_to_atoms(amount: Decimal) -> int:
    """Decimal units -> atoms; raises ``ValueError`` if ``amount`` has more than 8 decimals."""
    atoms = amount.scaleb(ASSET_DECIMALS)
    if atoms != atoms.to_integral_value():
        raise ValueError(f"{amount} has more than {ASSET_DECIMALS} decimals")
    return int(atoms)


def fee_atoms(amount_atoms: int, fee_ppm: int) -> int:
    """Fee on a received amount: ``ceil(amount * ppm / 1e6)`` for ppm >= 0, a rebate (negative) otherwise.

    Rebates round toward zero, charges round away from zero: the venue never rounds in the trader's favour.
    """
    if fee_ppm >= 0:
        return -((-amount_atoms * fee_ppm) // PPM)
    return -((amount_atoms * -fee_ppm) // PPM)


@dataclass(slots=True, kw_only=True)
class Order:
    """An order as the venue sees it. Mutable inside the engine; listeners receive ``snapshot()`` copies.

    Lifecycle: NEW -> (PARTIALLY_FILLED)* -> one terminal status (FILLED, CANCELED, EXPIRED,
    EXPIRED_IN_MATCH). REJECTED orders never rest and are never assigned to the book.
    """

    order_id: OrderId
    client_order_id: ClientOrderId
    account: AccountId
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    price_ticks: int | None  # None for MARKET
    orig_qty_lots: int  # for MARKET-by-quote: 0 until filled (executed_qty_lots tells the truth)
    quote_order_qty_atoms: int | None = None  # MARKET by quote amount
    executed_qty_lots: int = 0
    cum_quote_atoms: int = 0
    status: OrderStatus = OrderStatus.NEW
    stp_mode: StpMode = StpMode.EXPIRE_MAKER
    created_us: int = 0
    updated_us: int = 0

    @property
    def remaining_lots(self) -> int:
        return self.orig_qty_lots - self.executed_qty_lots

    @classmethod
    def accepted(cls, order_id: OrderId, client_order_id: ClientOrderId, req: NewOrder, now_us: int) -> Order:
        """The NEW order the engine makes of an accepted request, built like ``snapshot`` (one per request)."""
        order: Order = _new_instance(cls)
        order.order_id = order_id
        order.client_order_id = client_order_id
        order.account = req.account
        order.symbol = req.symbol
        order.side = req.side
        order.type = req.type
        order.time_in_force = req.time_in_force
        order.price_ticks = req.price_ticks
        order.orig_qty_lots = 0 if req.qty_lots is None else req.qty_lots
        order.quote_order_qty_atoms = req.quote_qty_atoms
        order.executed_qty_lots = 0
        order.cum_quote_atoms = 0
        order.status = OrderStatus.NEW
        order.stp_mode = req.stp_mode
        order.created_us = now_us
        order.updated_us = now_us
        return order

    def snapshot(self) -> Order:
        """A copy (every report and answer gets one). Field by field onto a bare instance: a quarter of what
        the keyword ``__init__`` costs, on the engine's hottest allocation. Lists every field: add new ones."""
        copy: Order = _new_instance(Order)
        copy.order_id = self.order_id
        copy.client_order_id = self.client_order_id
        copy.account = self.account
        copy.symbol = self.symbol
        copy.side = self.side
        copy.type = self.type
        copy.time_in_force = self.time_in_force
        copy.price_ticks = self.price_ticks
        copy.orig_qty_lots = self.orig_qty_lots
        copy.quote_order_qty_atoms = self.quote_order_qty_atoms
        copy.executed_qty_lots = self.executed_qty_lots
        copy.cum_quote_atoms = self.cum_quote_atoms
        copy.status = self.status
        copy.stp_mode = self.stp_mode
        copy.created_us = self.created_us
        copy.updated_us = self.updated_us
        return copy


_new_instance = object.__new__


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """One match between a resting (maker) order and an incoming (taker) order, at the maker's price.

    Fees are charged in the asset each side receives (buyer: base, seller: quote), as Binance does
    without BNB discounts.
    """

    trade_id: TradeId
    symbol: str
    price_ticks: int
    qty_lots: int
    quote_atoms: int
    taker_side: Side
    maker_order_id: OrderId
    taker_order_id: OrderId
    maker_account: AccountId
    taker_account: AccountId
    maker_fee_atoms: int
    taker_fee_atoms: int
    maker_fee_asset: str
    taker_fee_asset: str
    time_us: int

    @property
    def buyer_is_maker(self) -> bool:
        return self.taker_side is Side.SELL


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceRequest:
    """A new-order request. Exactly one of ``qty_lots`` / ``quote_qty_atoms`` (the latter MARKET only)."""

    account: AccountId
    symbol: str
    side: Side
    type: OrderType
    qty_lots: int | None = None
    quote_qty_atoms: int | None = None
    price_ticks: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: ClientOrderId | None = None
    stp_mode: StpMode = StpMode.EXPIRE_MAKER


class NewOrder(Protocol):
    """What the engine reads of a new-order request, during the request only: ``PlaceRequest``'s fields.

    ``PlaceRequest`` is the request type; ``MatchingEngine.submit`` also takes a look-alike that its caller
    reuses (the background market, whose orders would otherwise each build a frozen dataclass, the costliest
    step of an order that rests)."""

    @property
    def account(self) -> AccountId: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def type(self) -> OrderType: ...
    @property
    def qty_lots(self) -> int | None: ...
    @property
    def quote_qty_atoms(self) -> int | None: ...
    @property
    def price_ticks(self) -> int | None: ...
    @property
    def time_in_force(self) -> TimeInForce: ...
    @property
    def client_order_id(self) -> ClientOrderId | None: ...
    @property
    def stp_mode(self) -> StpMode: ...


@dataclass(frozen=True, slots=True)
class PlaceResult:
    """The order after the request was processed (possibly already terminal) and the trades it took."""

    order: Order
    trades: tuple[Trade, ...]


@dataclass(frozen=True, slots=True)
class Balance:
    free_atoms: int
    locked_atoms: int

    @property
    def total_atoms(self) -> int:
        return self.free_atoms + self.locked_atoms
