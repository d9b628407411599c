"""Account operations of the wire protocol, shared by REST and the WebSocket API: params in, Binance JSON out.

Each function takes the server state, the signed request's account and its ``Params``; it parses Binance's
parameters into engine requests (Decimal -> ticks/lots/atoms, exact), calls the account's ``VenueClient``
(so the event log records the request and any reject) and renders the answer with ``wire``. Refusals raise
``ApiError``: parameter errors before the venue is asked, engine rejects (``EngineError``) mapped by code,
HTTP-level failures of the client (``VenueHttpError``: 429/418/503/403) with their status and Retry-After.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TypeVar

from exchange_sim.engine.matching import CancelReplaceMode, CancelReplaceResult
from exchange_sim.engine.types import (
    AccountId,
    ClientOrderId,
    EngineError,
    ErrorCode,
    Order,
    OrderId,
    OrderType,
    PlaceRequest,
    Side,
    StpMode,
    SymbolSpec,
    TimeInForce,
    TradeId,
    decimal_to_atoms,
)
from exchange_sim.faults.errors import VenueHttpError
from exchange_sim.server import errors, wire
from exchange_sim.server.errors import ApiError
from exchange_sim.server.params import Params
from exchange_sim.server.state import ServerState
from exchange_sim.venue import VenueClient

T = TypeVar("T")
Json = wire.Json
RESP_TYPES = ("ACK", "RESULT", "FULL")


async def venue_call(call: Callable[[], Awaitable[T]]) -> T:
    """Await a ``VenueClient`` call; its ``EngineError`` (``VenueHttpError`` included) becomes an ``ApiError``."""
    try:
        return await call()
    except EngineError as error:
        raise errors.from_engine(error) from None


def _client(state: ServerState, account: AccountId) -> VenueClient:
    state.driver.sync()
    return state.clients[account]


def _lots(spec: SymbolSpec, value: Decimal | None) -> int | None:
    if value is None:
        return None
    try:
        return spec.qty_to_lots(value)
    except EngineError as error:
        raise errors.from_engine(error) from None


def _ticks(spec: SymbolSpec, value: Decimal | None) -> int | None:
    if value is None:
        return None
    try:
        return spec.price_to_ticks(value)
    except EngineError as error:
        raise errors.from_engine(error) from None


def place_request(state: ServerState, account: AccountId, p: Params) -> tuple[PlaceRequest, str]:
    """Binance new-order params -> an engine request and the response type (ACK / RESULT / FULL)."""
    spec = state.spec(p.text("symbol"))
    side = p.enum("side", Side)
    order_type = p.enum("type", OrderType)
    tif = p.opt_enum("timeInForce", TimeInForce)
    if order_type is OrderType.LIMIT and tif is None:
        raise errors.missing("timeInForce")
    quote = p.opt_decimal("quoteOrderQty")
    try:
        quote_atoms = None if quote is None else decimal_to_atoms(quote)
    except ValueError:
        raise ApiError(int(ErrorCode.BAD_PRECISION), "Parameter 'quoteOrderQty' has too much precision.") from None
    resp_type = (p.opt_text("newOrderRespType") or wire.default_resp_type(order_type)).upper()
    if resp_type not in RESP_TYPES:
        raise errors.invalid_value("newOrderRespType")
    cid = p.opt_text("newClientOrderId")
    request = PlaceRequest(
        account=account, symbol=spec.symbol, side=side, type=order_type,
        qty_lots=_lots(spec, p.opt_decimal("quantity")), quote_qty_atoms=quote_atoms,
        price_ticks=_ticks(spec, p.opt_decimal("price")), time_in_force=tif or TimeInForce.GTC,
        client_order_id=None if cid is None else ClientOrderId(cid),
        stp_mode=p.opt_enum("selfTradePreventionMode", StpMode) or StpMode.EXPIRE_MAKER,
    )
    return request, resp_type


async def place(state: ServerState, account: AccountId, p: Params) -> Json:
    request, resp_type = place_request(state, account, p)
    spec = state.spec(request.symbol)
    result = await venue_call(lambda: _client(state, account).place(request))
    return wire.new_order(spec, result.order, result.trades, resp_type, state.ms)


def _order_ref(p: Params, id_name: str = "orderId", cid_name: str = "origClientOrderId") -> tuple[
        OrderId | None, ClientOrderId | None]:
    order_id = p.opt_integer(id_name)
    cid = p.opt_text(cid_name)
    if order_id is None and cid is None:
        raise ApiError(errors.MANDATORY_PARAM,
                       f"Param '{cid_name}' or '{id_name}' must be sent, but both were empty/null!")
    return (None if order_id is None else OrderId(order_id)), (None if cid is None else ClientOrderId(cid))


def _cancel_cid(state: ServerState, p: Params, name: str = "newClientOrderId") -> str:
    """The cancel request's own client id (``clientOrderId`` of a cancel answer): given, else generated."""
    return p.opt_text(name) or f"cancel{state.next_cancel_id()}"


async def cancel(state: ServerState, account: AccountId, p: Params) -> Json:
    spec = state.spec(p.text("symbol"))
    order_id, cid = _order_ref(p)
    order = await venue_call(lambda: _client(state, account).cancel(spec.symbol, order_id=order_id,
                                                                    client_order_id=cid))
    return wire.canceled(spec, order, _cancel_cid(state, p), state.ms)


async def cancel_all(state: ServerState, account: AccountId, p: Params) -> list[Json]:
    spec = state.spec(p.text("symbol"))
    orders = await venue_call(lambda: _client(state, account).cancel_all(spec.symbol))
    if not orders:
        raise ApiError(int(ErrorCode.CANCEL_REJECTED), "Unknown order sent.")
    return [wire.canceled(spec, o, _cancel_cid(state, p), state.ms) for o in orders]


async def get_order(state: ServerState, account: AccountId, p: Params) -> Json:
    spec = state.spec(p.text("symbol"))
    order_id, cid = _order_ref(p)
    order = await venue_call(lambda: _client(state, account).get_order(spec.symbol, order_id=order_id,
                                                                    client_order_id=cid))
    return wire.order(spec, order, state.ms)


async def open_orders(state: ServerState, account: AccountId, p: Params) -> list[Json]:
    symbol = p.opt_text("symbol")
    spec = None if symbol is None else state.spec(symbol)
    orders = await venue_call(lambda: _client(state, account).open_orders(None if spec is None else spec.symbol))
    return [wire.order(state.spec(o.symbol), o, state.ms) for o in orders]


async def my_trades(state: ServerState, account: AccountId, p: Params) -> list[Json]:
    spec = state.spec(p.text("symbol"))
    from_id = p.opt_integer("fromId")
    limit = p.opt_integer("limit") or 500
    if not 1 <= limit <= 1000:
        raise errors.invalid_value("limit")
    trades = await venue_call(lambda: _client(state, account).my_trades(
        spec.symbol, from_id=None if from_id is None else TradeId(from_id), limit=limit))
    order_id = p.opt_integer("orderId")
    rows = [wire.my_trade(spec, t, account, state.ms) for t in trades]
    return rows if order_id is None else [r for r in rows if r["orderId"] == order_id]


async def account_info(state: ServerState, account: AccountId) -> Json:
    balances = await venue_call(lambda: _client(state, account).balances())
    maker, taker = state.fee_ppm[account]
    return wire.account(balances, maker, taker, account, state.driver.epoch_ms())


async def cancel_replace(state: ServerState, account: AccountId, p: Params, *, refuse_new: bool = False) -> Json:
    """POST order/cancelReplace: -2022 (400) when the cancel fails, -2021 (409) when one half fails.

    ``refuse_new`` (the ``cancel_replace_half`` fault): only the cancel is executed, the new order is refused."""
    mode = p.enum("cancelReplaceMode", CancelReplaceMode)
    spec = state.spec(p.text("symbol"))
    order_id, cid = _order_ref(p, "cancelOrderId", "cancelOrigClientOrderId")
    request, resp_type = place_request(state, account, p)
    client = _client(state, account)
    if refuse_new:
        try:
            cancelled: Order | EngineError = await client.cancel(spec.symbol, order_id=order_id, client_order_id=cid)
        except VenueHttpError as error:  # the request failed at the HTTP level: no cancel result to report
            raise errors.from_engine(error) from None
        except EngineError as error:
            cancelled = error
        refused = EngineError(ErrorCode.NEW_ORDER_REJECTED, "Order cancel-replace partially failed: the new order "
                              "was rejected.")
        result = CancelReplaceResult(cancelled, None if isinstance(cancelled, EngineError) else refused)
    else:
        result = await venue_call(lambda: client.cancel_replace(
            spec.symbol, request, mode=mode, cancel_order_id=order_id, cancel_client_order_id=cid))
    cancel_cid = _cancel_cid(state, p, "cancelNewClientOrderId")
    cancel_json: Json = (result.cancel.to_json() if isinstance(result.cancel, EngineError)
                         else wire.canceled(spec, result.cancel, cancel_cid, state.ms))
    new = result.new
    new_json: Json | None
    if new is None:
        new_json = None  # STOP_ON_FAILURE: not attempted
    elif isinstance(new, EngineError):
        new_json = new.to_json()
    else:
        new_json = wire.new_order(spec, new.order, new.trades, resp_type, state.ms)
    cancel_ok = not isinstance(result.cancel, EngineError)
    new_ok = new is not None and not isinstance(new, EngineError)
    body = {"cancelResult": "SUCCESS" if cancel_ok else "FAILURE",
            "newOrderResult": "SUCCESS" if new_ok else ("NOT_ATTEMPTED" if new is None else "FAILURE"),
            "cancelResponse": cancel_json, "newOrderResponse": new_json}
    if cancel_ok and new_ok:
        return body
    if not cancel_ok and not new_ok:
        raise ApiError(int(ErrorCode.CANCEL_REPLACE_FAILED), "Order cancel-replace failed.", status=400,
                       body={"code": -2022, "msg": "Order cancel-replace failed.", "data": body})
    raise ApiError(int(ErrorCode.CANCEL_REPLACE_PARTIAL), "Order cancel-replace partially failed.", status=409,
                   body={"code": -2021, "msg": "Order cancel-replace partially failed.", "data": body})
