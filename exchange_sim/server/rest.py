"""REST handlers of ``/api/v3`` (DESIGN section 5): market data, account, orders, trades - transport-neutral.

A handler takes the ``ServerState`` and one ``api.ApiRequest`` whose ``params`` were parsed by ``api.prepare``
and returns the Binance JSON payload (a Python object); ``api.execute`` routes to it (``ROUTES``) and renders
the answer. Signed endpoints check the API key, signature and timestamp first (``auth``). Every refusal is an
``ApiError`` rendered as Binance's ``{"code", "msg"}``.

Reads of time, exchangeInfo and depth go through ``request.client`` when the request carries a ``VenueClient``
(the in-process transport: its latency and faults apply); without one they read the engine directly, now.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from exchange_sim.engine.types import AccountId
from exchange_sim.server import auth, errors, limits, trading, wire
from exchange_sim.server.params import Params
from exchange_sim.server.state import ServerState

if TYPE_CHECKING:
    from exchange_sim.server.api import ApiRequest

STATE: web.AppKey[ServerState] = web.AppKey("state", ServerState)  # the aiohttp app's state (``app.py``)
MAX_DEPTH_LIMIT = 5000


def _signed(state: ServerState, request: ApiRequest) -> tuple[AccountId, Params]:
    principal = state.keys.verify(request.headers.get("X-MBX-APIKEY"), request.params,
                                  auth.rest_payload(request.raw_query, request.body), state.driver.epoch_ms())
    return principal.account, request.params


# -- general and market data --
async def ping(state: ServerState, request: ApiRequest) -> object:
    return {}


async def server_time(state: ServerState, request: ApiRequest) -> object:
    client = request.client
    if client is None:
        return {"serverTime": state.driver.epoch_ms()}
    return {"serverTime": state.ms(await trading.venue_call(client.server_time_us))}


async def exchange_info(state: ServerState, request: ApiRequest) -> object:
    params = request.params
    names: list[str] = list(state.engine.symbols)
    one = params.opt_text("symbol")
    many = params.opt_text("symbols")
    if one is not None:
        names = [one]
    elif many is not None:
        try:
            parsed = orjson.loads(many)
        except orjson.JSONDecodeError:
            raise errors.invalid_value("symbols") from None
        if not isinstance(parsed, list) or not all(isinstance(s, str) for s in parsed):
            raise errors.invalid_value("symbols")
        names = parsed
    specs = [state.spec(s) for s in names]
    client = request.client
    if client is not None:
        listed = {spec.symbol: spec for spec in await trading.venue_call(client.exchange_info)}
        specs = [listed[spec.symbol] for spec in specs]
    return wire.exchange_info(specs, state.driver.epoch_ms(), limits.rate_limits_json(state.config.limits))


async def depth(state: ServerState, request: ApiRequest) -> object:
    params = request.params
    spec = state.spec(params.text("symbol"))
    limit = params.opt_integer("limit")
    limit = 100 if limit is None else limit  # limit=0 is refused, not read as "default"
    if not 1 <= limit <= MAX_DEPTH_LIMIT:
        raise errors.invalid_value("limit")
    client = request.client
    if client is not None:
        snapshot = await trading.venue_call(lambda: client.depth(spec.symbol, limit))
        bids, asks, update_id = list(snapshot.bids), list(snapshot.asks), snapshot.last_update_id
    else:
        state.driver.sync()
        bids, asks, update_id = state.engine.depth(spec.symbol, limit)
    return {"lastUpdateId": update_id, "bids": wire.levels(spec, bids), "asks": wire.levels(spec, asks)}


async def book_ticker(state: ServerState, request: ApiRequest) -> object:
    params = request.params
    state.driver.sync()
    engine = state.engine
    symbol = params.opt_text("symbol")
    if symbol is not None:
        spec = state.spec(symbol)
        return wire.book_ticker(spec, engine.best_bid(spec.symbol), engine.best_ask(spec.symbol))
    return [wire.book_ticker(state.spec(s), engine.best_bid(s), engine.best_ask(s)) for s in engine.symbols]


# -- account and orders (signed) --
async def account(state: ServerState, request: ApiRequest) -> object:
    account_id, _ = _signed(state, request)
    return await trading.account_info(state, account_id)


def _count_order(state: ServerState, request: ApiRequest, account_id: AccountId) -> None:
    request.order_counts = state.orders.charge(account_id, state.faults.now_s())


async def new_order(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    _count_order(state, request, account_id)
    return await trading.place(state, account_id, params)


async def cancel_order(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    return await trading.cancel(state, account_id, params)


async def get_order(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    return await trading.get_order(state, account_id, params)


async def open_orders(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    return await trading.open_orders(state, account_id, params)


async def cancel_open_orders(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    return await trading.cancel_all(state, account_id, params)


async def my_trades(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    return await trading.my_trades(state, account_id, params)


async def cancel_replace(state: ServerState, request: ApiRequest) -> object:
    account_id, params = _signed(state, request)
    _count_order(state, request, account_id)
    return await trading.cancel_replace(state, account_id, params, refuse_new=request.half_replace)


Handler = Callable[[ServerState, "ApiRequest"], Awaitable[object]]
ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/api/v3/ping", ping),
    ("GET", "/api/v3/time", server_time),
    ("GET", "/api/v3/exchangeInfo", exchange_info),
    ("GET", "/api/v3/depth", depth),
    ("GET", "/api/v3/ticker/bookTicker", book_ticker),
    ("GET", "/api/v3/account", account),
    ("POST", "/api/v3/order", new_order),
    ("DELETE", "/api/v3/order", cancel_order),
    ("GET", "/api/v3/order", get_order),
    ("GET", "/api/v3/openOrders", open_orders),
    ("DELETE", "/api/v3/openOrders", cancel_open_orders),
    ("GET", "/api/v3/myTrades", my_trades),
    ("POST", "/api/v3/order/cancelReplace", cancel_replace),
)
WRITES = frozenset({("POST", "/api/v3/order"), ("DELETE", "/api/v3/order"), ("DELETE", "/api/v3/openOrders"),
                    ("POST", "/api/v3/order/cancelReplace")})
