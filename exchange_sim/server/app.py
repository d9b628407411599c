"""The wire server's aiohttp application: ``create_app(config)`` wires state, routes, middleware and lifecycle.

Request path (outermost first): the Binance middleware parses parameters once (query + form body; oversized
bodies 413, malformed -1100/-1101), charges the request weight per IP (429/418), runs the handler through the
transport faults (``faults.py``) and renders any ``ApiError`` as ``{"code", "msg"}``; unexpected exceptions
become HTTP 500 -1000 for that request only, so one bad request never affects the others. Every answer carries
``X-MBX-USED-WEIGHT-1M``; order endpoints add ``X-MBX-ORDER-COUNT-10S`` and ``-1D``.

Lifecycle (``cleanup_ctx``): on startup the market is warmed up and the real-time driver task starts; on
shutdown every WebSocket is closed (1001 going away), stream producers stop, the driver stops and the event log
is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, web

from exchange_sim.server import errors, rest
from exchange_sim.server.config import ServerConfig
from exchange_sim.server.errors import ApiError
from exchange_sim.server.faults import ConnectionDropped
from exchange_sim.server.limits import ORDER_ENDPOINTS, request_weight
from exchange_sim.server.params import Params, parse_form
from exchange_sim.server.rest import BODY, ORDER_COUNTS, PARAMS, STATE, error_response
from exchange_sim.server.state import ServerState
from exchange_sim.server.ws_api import serve_ws_api
from exchange_sim.server.ws_streams import SOCKETS, StreamHub, serve_socket

log = logging.getLogger(__name__)
HUB: web.AppKey[StreamHub] = web.AppKey("hub", StreamHub)
USED_WEIGHT: web.RequestKey[int] = web.RequestKey("mbx_used_weight", int)
_WS_PREFIXES = ("/ws", "/stream")


@web.middleware
async def binance_middleware(request: web.Request, handler: rest.Handler) -> web.StreamResponse:
    if request.path.startswith(_WS_PREFIXES):
        origin = request.headers.get("Origin")
        if not origin_allowed(origin):
            return error_response(ApiError(UNAUTHORIZED, f"WebSocket connections from origin {origin!r} are not "
                                           "allowed: this simulator serves loopback clients only.", status=403))
        return await handler(request)
    state = request.app[STATE]
    try:
        try:
            body = await _form_body(request)
            params = Params(parse_form(request.rel_url.raw_query_string) + parse_form(body))
        except ApiError:  # a malformed request still costs weight, and a ban stops it like any other
            state.weights.charge(request.remote or "?", 1, state.faults.now_s())
            raise
        request[BODY] = body
        request[PARAMS] = params
        weight = request_weight(request.method, request.path, params)
        request[USED_WEIGHT] = state.weights.charge(request.remote or "?", weight, state.faults.now_s())
        key = (request.method, request.path)
        symbol = params.opt_text("symbol")
        return await state.faults.rest_call(request, lambda: handler(request), symbol=symbol and symbol.upper(),
                                            write=key in rest.WRITES, weight=weight)
    except ApiError as error:
        return error_response(error)
    except ConnectionDropped:
        return web.Response(status=503)  # never reaches the client: the transport is gone
    except web.HTTPRequestEntityTooLarge:
        return error_response(ApiError(errors.UNKNOWN, "Request body too large.", status=413))
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(ApiError(errors.UNSUPPORTED_OPERATION, "Unknown endpoint.", status=404))
        if exc.status == 405:
            return error_response(ApiError(errors.UNSUPPORTED_OPERATION, "Method not allowed.", status=405))
        raise
    except Exception:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return error_response(ApiError(errors.UNKNOWN, "An unknown error occurred while processing the request.",
                                       status=500))


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
    if request.path.startswith(_WS_PREFIXES):
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
    driver = asyncio.get_running_loop().create_task(state.driver.run(), name="exchange_sim.server.driver")
    yield
    await app[HUB].close()
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
    for method, path, handler in rest.ROUTES:
        app.router.add_route(method, path, handler)
    app.router.add_get("/ws", _raw_stream)
    app.router.add_get("/ws/{tail:.*}", _raw_stream)
    app.router.add_get("/stream", _combined_stream)
    app.router.add_get("/ws-api/v3", _ws_api)
    app.cleanup_ctx.append(_lifecycle)
    app.on_shutdown.append(_close_sockets)
    app.on_response_prepare.append(_add_headers)
    return app
