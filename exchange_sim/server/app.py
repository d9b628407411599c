"""The wire server's aiohttp application: ``create_app(config)`` wires state, routes, middleware and lifecycle.

REST is the transport-neutral ``api`` module behind a thin adapter: the Binance middleware turns the
``web.Request`` into an ``api.ApiRequest`` (oversized bodies 413, non-UTF-8 bodies -1100), ``api.prepare``
parses parameters and charges the weight per IP (429/418), ``api.dispatch`` runs inside the transport faults
(``faults.py``) and any ``ApiError`` is rendered as ``{"code", "msg"}``; unexpected exceptions become HTTP 500
-1000 for that request only, so one bad request never affects the others. Every answer carries
``X-MBX-USED-WEIGHT-1M``; order endpoints add ``X-MBX-ORDER-COUNT-10S`` and ``-1D``. The REST paths are not
aiohttp routes: the middleware answers every non-WebSocket path (404/405 from ``api``).

Lifecycle (``cleanup_ctx``): on startup the market is warmed up and the real-time driver task starts; on
shutdown every WebSocket is closed (1001 going away), stream producers stop, the driver stops and the event log
is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import orjson
from aiohttp import WSCloseCode, web

from exchange_sim.server import api, errors, rest
from exchange_sim.server.api import ApiRequest, ApiResponse
from exchange_sim.server.clock import RealTimeDriver
from exchange_sim.server.config import ServerConfig
from exchange_sim.server.errors import ApiError
from exchange_sim.server.faults import HALF_REPLACE, ConnectionDropped
from exchange_sim.server.limits import ORDER_ENDPOINTS
from exchange_sim.server.rest import STATE
from exchange_sim.server.state import ServerState
from exchange_sim.server.ws_api import serve_ws_api
from exchange_sim.server.ws_streams import SOCKETS, StreamHub, serve_socket

log = logging.getLogger(__name__)
HUB: web.AppKey[StreamHub] = web.AppKey("hub", StreamHub)
USED_WEIGHT: web.RequestKey[int] = web.RequestKey("mbx_used_weight", int)
ORDER_COUNTS: web.RequestKey[tuple[int, int]] = web.RequestKey("mbx_order_counts")
WebHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_WS_PREFIXES = ("/ws", "/stream")


@web.middleware
async def binance_middleware(request: web.Request, handler: WebHandler) -> web.StreamResponse:
    """REST: the aiohttp adapter of ``api`` (parse and charge with ``api.prepare``, run ``api.dispatch``
    through the transport faults, render); WebSockets: the origin check, then the route's handler."""
    if request.path.startswith(_WS_PREFIXES):
        origin = request.headers.get("Origin")
        if not origin_allowed(origin):
            refused = ApiError(UNAUTHORIZED, f"WebSocket connections from origin {origin!r} are not allowed: "
                               "this simulator serves loopback clients only.", status=403)
            return web.Response(body=orjson.dumps(refused.to_json()), status=refused.status,
                                content_type="application/json")
        return await handler(request)
    state = request.app[STATE]
    api_request = _api_request(request, "")
    try:
        try:
            api_request.body = await _form_body(request)
        except ApiError:  # a malformed request still costs weight, and a ban stops it like any other
            state.weights.charge(api_request.remote, 1, state.faults.now_s())
            raise
        api.prepare(state, api_request)
        request[USED_WEIGHT] = api_request.used_weight or 0

        async def run() -> web.StreamResponse:
            api_request.half_replace = bool(request.get(HALF_REPLACE))
            try:
                payload = await api.dispatch(state, api_request)
            finally:
                if api_request.order_counts is not None:
                    request[ORDER_COUNTS] = api_request.order_counts
            return _web_response(api.render(state, api_request, payload))

        symbol = api_request.params.opt_text("symbol")
        return await state.faults.rest_call(request, run, symbol=symbol and symbol.upper(),
                                            write=(request.method, request.path) in rest.WRITES,
                                            weight=api_request.weight, account=_account(state, request))
    except ApiError as error:
        return _web_response(api.render_error(state, api_request, error))
    except ConnectionDropped:
        return web.Response(status=503)  # never reaches the client: the transport is gone
    except web.HTTPRequestEntityTooLarge:
        return _web_response(api.render_error(state, api_request, ApiError(errors.UNKNOWN,
                                                                           "Request body too large.", status=413)))
    except Exception:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return _web_response(api.render_error(state, api_request, api.internal_error()))


def _account(state: ServerState, request: web.Request) -> str | None:
    """The account of the request's API key, or None (no key, or one no account has)."""
    try:
        return str(state.keys.principal(request.headers.get("X-MBX-APIKEY")).account)
    except ApiError:
        return None


def _api_request(request: web.Request, body: str) -> ApiRequest:
    return ApiRequest(method=request.method, path=request.path, raw_query=request.rel_url.raw_query_string,
                      body=body, headers=request.headers, remote=request.remote or "?")


def _web_response(response: ApiResponse) -> web.Response:
    return web.Response(body=response.body, status=response.status, headers=response.headers,
                        content_type="application/json")


UNAUTHORIZED = -1002  # Binance: "You are not authorized to execute this request."
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def origin_allowed(origin: str | None) -> bool:
    """Whether a WebSocket handshake's ``Origin`` may connect: none (a non-browser client) or a loopback page.
    A web page elsewhere must not drive a local simulator through its visitor's browser."""
    if origin is None:
        return True
    host = urlsplit(origin).hostname or ""
    return host in _LOOPBACK_HOSTS or host.startswith("127.")


async def _form_body(request: web.Request) -> str:
    """The request body as text. Binance reads UTF-8 form bodies; bytes that are not valid UTF-8 (or a charset
    Python does not know) are answered 400 -1100 like any illegal character, never a 500."""
    if not request.can_read_body:
        return ""
    raw = await request.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(errors.ILLEGAL_CHARS, "Illegal characters found in the request body; it must be UTF-8.") \
            from None


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The weight headers on answers ``api`` did not render (a transport fault's 503/403/429, say)."""
    if request.path.startswith(_WS_PREFIXES) or "X-MBX-USED-WEIGHT-1M" in response.headers:
        return
    state = request.app[STATE]
    used = request.get(USED_WEIGHT)
    if used is None:
        used = state.weights.used(request.remote or "?", state.faults.now_s())
    response.headers["X-MBX-USED-WEIGHT-1M"] = str(used)
    counts = request.get(ORDER_COUNTS)
    if counts is None and (request.method, request.path) in ORDER_ENDPOINTS:
        counts = (0, 0)
    if counts is not None:
        response.headers["X-MBX-ORDER-COUNT-10S"] = str(counts[0])
        response.headers["X-MBX-ORDER-COUNT-1D"] = str(counts[1])


async def _raw_stream(request: web.Request) -> web.StreamResponse:
    tail = request.match_info.get("tail", "")
    streams = [s for s in tail.split("/") if s]
    return await serve_socket(request, request.app[STATE], request.app[HUB], streams, combined=False)


async def _combined_stream(request: web.Request) -> web.StreamResponse:
    streams = [s for s in request.query.get("streams", "").split("/") if s]
    return await serve_socket(request, request.app[STATE], request.app[HUB], streams, combined=True)


async def _ws_api(request: web.Request) -> web.StreamResponse:
    return await serve_ws_api(request, request.app[STATE])


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    state = app[STATE]
    state.start()
    clock = state.driver
    driver = (asyncio.get_running_loop().create_task(clock.run(), name="exchange_sim.server.driver")
              if isinstance(clock, RealTimeDriver) else None)
    yield
    await app[HUB].close()
    if driver is not None:
        driver.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await driver
    state.close()


async def _close_sockets(app: web.Application) -> None:
    sockets = app[SOCKETS]
    for ws in tuple(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


def create_app(config: ServerConfig | None = None) -> web.Application:
    """The Binance-compatible simulator as an aiohttp application (serve it on 127.0.0.1 only)."""
    config = config if config is not None else ServerConfig()
    app = web.Application(middlewares=[binance_middleware], client_max_size=config.limits.max_body_bytes)
    state = ServerState(config)
    app[STATE] = state
    app[HUB] = StreamHub(state)
    sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
    app[SOCKETS] = sockets
    app.router.add_get("/ws", _raw_stream)
    app.router.add_get("/ws/{tail:.*}", _raw_stream)
    app.router.add_get("/stream", _combined_stream)
    app.router.add_get("/ws-api/v3", _ws_api)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_close_sockets)
    app.on_response_prepare.append(_add_headers)
    return app
