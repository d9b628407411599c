"""Request checks of the matching engine: parameters and symbol filters, before any state changes.

Each check raises ``EngineError`` with the code and message Binance Spot answers with: -1102 mandatory
parameter missing or malformed, -1106 parameter sent when not required, -1100/-1118 bad client order id,
-1013 ``Filter failure: PRICE_FILTER`` / ``LOT_SIZE`` / ``NOTIONAL``. Nothing here reads balances or the book.
"""

from __future__ import annotations

from exchange_sim.engine.types import (
    EngineError,
    ErrorCode,
    NewOrder,
    OrderType,
    StpMode,
    SymbolSpec,
    TimeInForce,
)

# Enum members read per request, as module globals: in CPython 3.11 ``Side.BUY`` goes through EnumType's
# ``__getattr__`` hook, about three times the cost of a global read.
_MARKET = OrderType.MARKET
_LIMIT_MAKER = OrderType.LIMIT_MAKER
_GTC = TimeInForce.GTC

MAX_CLIENT_ORDER_ID_LEN = 36
_LOT_SIZE = "Filter failure: LOT_SIZE"
_LIMIT_TYPES = (OrderType.LIMIT, _LIMIT_MAKER)
_CID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/")


def _missing(param: str) -> EngineError:
    return EngineError(
        ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed.",
    )


def _not_required(param: str) -> EngineError:
    return EngineError(ErrorCode.PARAM_NOT_REQUIRED, f"Parameter '{param}' sent when not required.")


def check_client_order_id(cid: str) -> None:
    if not cid:
        raise EngineError(ErrorCode.NEW_CLIENT_ORDER_ID_EMPTY, "New client order ID was empty.")
    if len(cid) > MAX_CLIENT_ORDER_ID_LEN or not _CID_CHARS.issuperset(cid):
        raise EngineError(
            ErrorCode.ILLEGAL_CHARS,
            "Illegal characters found in parameter 'newClientOrderId'; "
            "legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
        )


def validate_place(req: NewOrder, spec: SymbolSpec) -> None:
    """All stateless checks of a new order, in Binance's order: parameters first, then filters."""
    if req.client_order_id is not None:
        check_client_order_id(req.client_order_id)
    if not isinstance(req.stp_mode, StpMode):
        raise _missing("selfTradePreventionMode")
    if req.type is _MARKET:
        _validate_market(req, spec)
        return
    if req.type not in _LIMIT_TYPES:
        raise EngineError(ErrorCode.INVALID_ORDER_TYPE, "Invalid orderType.")
    if req.type is _LIMIT_MAKER and req.time_in_force is not _GTC:
        raise _not_required("timeInForce")
    if req.quote_qty_atoms is not None:
        raise _not_required("quoteOrderQty")
    if req.qty_lots is None:
        raise _missing("quantity")
    if req.price_ticks is None:
        raise _missing("price")
    if not spec.min_price_ticks <= req.price_ticks <= spec.max_price_ticks:
        raise EngineError(ErrorCode.FILTER_FAILURE, "Filter failure: PRICE_FILTER")
    if not spec.min_qty_lots <= req.qty_lots <= spec.max_qty_lots:
        raise EngineError(ErrorCode.FILTER_FAILURE, _LOT_SIZE)
    notional_atoms = req.price_ticks * req.qty_lots * spec.quote_atoms_per_tick_lot
    if not spec.min_notional_atoms <= notional_atoms <= spec.max_notional_atoms:
        raise EngineError(ErrorCode.FILTER_FAILURE, "Filter failure: NOTIONAL")


def _validate_market(req: NewOrder, spec: SymbolSpec) -> None:
    if req.price_ticks is not None:
        raise _not_required("price")
    if req.time_in_force is not _GTC:
        raise _not_required("timeInForce")
    if req.qty_lots is None and req.quote_qty_atoms is None:
        raise EngineError(
            ErrorCode.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
        )
    if req.qty_lots is not None and req.quote_qty_atoms is not None:
        raise _not_required("quoteOrderQty")
    if req.qty_lots is not None:
        _check_lots(req.qty_lots, spec)
    elif req.quote_qty_atoms is not None and req.quote_qty_atoms <= 0:
        raise _missing("quoteOrderQty")


def _check_lots(qty_lots: int, spec: SymbolSpec) -> None:
    if not spec.min_qty_lots <= qty_lots <= spec.max_qty_lots:
        raise EngineError(ErrorCode.FILTER_FAILURE, _LOT_SIZE)
