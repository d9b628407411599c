"""REST handlers of ``/api/v3`` (DESIGN section 5): market data, account, orders, trades.

Handlers read the request's ``Params`` (query + form body, parsed once by the middleware in ``app.py``) and
the ``ServerState``; signed endpoints check the API key, signature and timestamp first (``auth``). Every
refusal is an ``ApiError`` rendered by the middleware as Binance's ``{"code", "msg"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from aiohttp import web

from exchange_sim.engine.types import AccountId
from exchange_sim.server import auth, errors, limits, trading, wire
from exchange_sim.server.errors import ApiError
from exchange_sim.server.faults import HALF_REPLACE
from exchange_sim.server.params import Params
from exchange_sim.server.state import ServerState

STATE: web.AppKey[ServerState] = web.AppKey("state", ServerState)
PARAMS: web.RequestKey[Params] = web.RequestKey("mbx_params", Params)
BODY: web.RequestKey[str] = web.RequestKey("mbx_body", str)
ORDER_COUNTS: web.RequestKey[tuple[int, int]] = web.RequestKey("mbx_order_counts")
MAX_DEPTH_LIMIT = 5000


def json_response(payload: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


def _params(request: web.Request) -> Params:
    return request[PARAMS]  # set by the Binance middleware before any handler runs


def _signed(request: web.Request) -> tuple[ServerState, AccountId, Params]:
    state = request.app[STATE]
    params = _params(request)
    payload = auth.rest_payload(request.rel_url.raw_query_string, request.get(BODY, ""))
    principal = state.keys.verify(request.headers.get("X-MBX-APIKEY"), params, payload, state.driver.epoch_ms())
    return state, principal.account, params


# -- general and market data --
async def ping(request: web.Request) -> web.Response:
    return json_response({})


async def server_time(request: web.Request) -> web.Response:
    return json_response({"serverTime": request.app[STATE].driver.epoch_ms()})


async def exchange_info(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = _params(request)
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
    return json_response(wire.exchange_info(specs, state.driver.epoch_ms(),
                                            limits.rate_limits_json(state.config.limits)))


async def depth(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = _params(request)
    spec = state.spec(params.text("symbol"))
    limit = params.opt_integer("limit")
    limit = 100 if limit is None else limit  # limit=0 is refused, not read as "default"
    if not 1 <= limit <= MAX_DEPTH_LIMIT:
        raise errors.invalid_value("limit")
    state.driver.sync()
    bids, asks, update_id = state.engine.depth(spec.symbol, limit)
    return json_response({"lastUpdateId": update_id, "bids": wire.levels(spec, bids), "asks": wire.levels(spec, asks)})


async def book_ticker(request: web.Request) -> web.Response:
    state = request.app[STATE]
    params = _params(request)
    state.driver.sync()
    engine = state.engine
    symbol = params.opt_text("symbol")
    if symbol is not None:
        spec = state.spec(symbol)
        return json_response(wire.book_ticker(spec, engine.best_bid(spec.symbol), engine.best_ask(spec.symbol)))
    return json_response([wire.book_ticker(state.spec(s), engine.best_bid(s), engine.best_ask(s))
                          for s in engine.symbols])


# -- account and orders (signed) --
async def account(request: web.Request) -> web.Response:
    state, account_id, _ = _signed(request)
    return json_response(await trading.account_info(state, account_id))


def _count_order(request: web.Request, state: ServerState, account_id: AccountId) -> None:
    request[ORDER_COUNTS] = state.orders.charge(account_id, state.faults.now_s())


async def new_order(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    _count_order(request, state, account_id)
    return json_response(await trading.place(state, account_id, params))


async def cancel_order(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    return json_response(await trading.cancel(state, account_id, params))


async def get_order(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    return json_response(await trading.get_order(state, account_id, params))


async def open_orders(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    return json_response(await trading.open_orders(state, account_id, params))


async def cancel_open_orders(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    return json_response(await trading.cancel_all(state, account_id, params))


async def my_trades(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    return json_response(await trading.my_trades(state, account_id, params))


async def cancel_replace(request: web.Request) -> web.Response:
    state, account_id, params = _signed(request)
    _count_order(request, state, account_id)
    return json_response(await trading.cancel_replace(state, account_id, params,
                                                      refuse_new=bool(request.get(HALF_REPLACE))))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
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


def error_response(error: ApiError) -> web.Response:
    response = json_response(error.to_json(), status=error.status)
    response.headers.update(error.headers)
    return response
