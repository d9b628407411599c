"""The bot's value types: symbols, orders as the bot tracks them, fills, balances, books, quotes.

The bot never depends on a particular venue's classes: connectors translate to and from these. Money is
integers as on the venue side (ADR 0003): prices in ticks of ``SymbolInfo.tick_size``, quantities in lots of
``step_size``, balances in atoms (1e-8). ``Decimal`` only at the edges (config, wire protocol, display).

Order lifecycle as the bot sees it (``OrderStatus``)::

    PENDING_NEW --ack--> NEW --fill--> PARTIALLY_FILLED --fill--> FILLED
        |  \\--reject--> REJECTED            |                      (terminal)
        |   \\--timeout/5xx--> UNKNOWN --query--> NEW | FILLED | ... | LOST --query--> ... (polled until known)
        NEW | PARTIALLY_FILLED --cancel sent--> PENDING_CANCEL --> CANCELED | FILLED | EXPIRED

An UNKNOWN outcome is never a failure: it is resolved by querying the venue by client order id.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NewType

ATOMS_PER_UNIT = 10**8

ClientOrderId = NewType("ClientOrderId", str)
VenueOrderId = NewType("VenueOrderId", int)
TradeId = NewType("TradeId", int)


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY (inventory grows), -1 for SELL."""
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    LIMIT_MAKER = "LIMIT_MAKER"
    MARKET = "MARKET"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    PENDING_NEW = "PENDING_NEW"  # sent, no answer yet
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    PENDING_CANCEL = "PENDING_CANCEL"  # cancel sent, no answer yet
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"  # the venue may or may not have it (timeout, 5xx, -1007): must be queried
    LOST = "LOST"  # queried repeatedly, venue says it does not know it: polled until its fate is known

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def is_open(self) -> bool:
        """May rest on the venue (and therefore may still fill)."""
        return not self.is_terminal


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolInfo:
    """A venue symbol's trading rules."""

    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    step_size: Decimal
    min_notional: Decimal
    min_qty_lots: int = 1
    max_qty_lots: int = 10**12

    @property
    def quote_atoms_per_tick_lot(self) -> int:
        return int(self.tick_size * self.step_size * ATOMS_PER_UNIT)

    @property
    def base_atoms_per_lot(self) -> int:
        return int(self.step_size * ATOMS_PER_UNIT)

    def notional_atoms(self, price_ticks: int, qty_lots: int) -> int:
        return price_ticks * qty_lots * self.quote_atoms_per_tick_lot

    def price(self, ticks: int) -> Decimal:
        return self.tick_size * ticks

    def qty(self, lots: int) -> Decimal:
        return self.step_size * lots

    def to_ticks(self, price: Decimal) -> int:
        """Nearest tick at or below ``price`` (bids round down; use ``-to_ticks(-p)`` to round up)."""
        return int(price // self.tick_size)

    def to_lots(self, qty: Decimal) -> int:
        return int(qty // self.step_size)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewOrder:
    """An order the bot wants to send. ``client_order_id`` is assigned by the order manager, never reused."""

    symbol: str
    side: Side
    type: OrderType
    qty_lots: int
    price_ticks: int | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """An order as the venue reports it (REST answer or execution report)."""

    symbol: str
    order_id: VenueOrderId
    client_order_id: ClientOrderId
    side: Side
    type: OrderType
    status: OrderStatus
    price_ticks: int | None
    orig_qty_lots: int
    executed_qty_lots: int
    cum_quote_atoms: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class CancelReplaceOutcome:
    """Both halves of a cancel-replace (STOP_ON_FAILURE): ``new`` is None when the failed cancel stopped it.

    Either half may be an exception (``BotError``) instead of the order: a half success is normal.
    """

    cancel: VenueOrder | Exception
    new: VenueOrder | Exception | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution of one of the bot's orders. Applied exactly once, keyed by ``(symbol, trade_id)``."""

    symbol: str
    trade_id: TradeId
    order_id: VenueOrderId
    client_order_id: ClientOrderId
    side: Side
    price_ticks: int
    qty_lots: int
    quote_atoms: int
    fee_atoms: int
    fee_asset: str
    is_maker: bool
    time_ms: int


@dataclass(frozen=True, slots=True)
class Balance:
    free_atoms: int
    locked_atoms: int

    @property
    def total_atoms(self) -> int:
        return self.free_atoms + self.locked_atoms


@dataclass(frozen=True, slots=True)
class BookLevel:
    price_ticks: int
    qty_lots: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BookSnapshot:
    symbol: str
    last_update_id: int
    bids: tuple[BookLevel, ...]  # best first
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DepthUpdate:
    """Changed levels with Binance's first/last update ids (qty 0 removes a level)."""

    symbol: str
    first_update_id: int
    last_update_id: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    time_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PublicTrade:
    symbol: str
    trade_id: int
    price_ticks: int
    qty_lots: int
    buyer_is_maker: bool
    time_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdate:
    """A user-stream execution report: the order after the change and, for a trade, the fill."""

    order: VenueOrder
    fill: Fill | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceUpdate:
    asset: str
    balance: Balance
    time_ms: int


UserEvent = OrderUpdate | BalanceUpdate


@dataclass(frozen=True, slots=True, kw_only=True)
class Quote:
    """One desired resting order (a level of a ladder)."""

    side: Side
    price_ticks: int
    qty_lots: int
