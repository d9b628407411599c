"""The wire server's REST semantics without a transport: a Binance request in, a Binance answer out.

One job: turn an ``ApiRequest`` (method, path, raw query as sent, form body, headers, remote address and
optionally the ``VenueClient`` it arrives through) into an ``ApiResponse`` exactly as the loopback server
answers it, so the aiohttp middleware (``app.py``) and the in-process transport share one implementation of
parameters, weights, 429/418, signatures, error codes, filters and cancelReplace.

Steps: ``prepare`` parses the parameters (query + form body: -1100 malformed, -1101 duplicates, 413 for a body
over ``max_body_bytes``) and charges the request weight against ``remote`` (429 with ``Retry-After``, then 418;
a malformed request is still charged weight 1); ``dispatch`` routes (unknown path 404 -1020, known path with
another method 405 -1020) and runs the handler (``rest.ROUTES``), raising ``ApiError``; ``execute`` renders
that as an ``ApiResponse`` (``{"code", "msg"}`` with the error's status and headers; any other exception is
logged and answered 500 -1000, never raised); ``handle`` is ``prepare`` + ``execute`` with ``prepare``'s refusals
rendered too. Every answer carries ``X-MBX-USED-WEIGHT-1M``; order endpoints add ``X-MBX-ORDER-COUNT-10S`` and
``-1D``. No transport faults are applied here: in-process faults come from the ``VenueClient``'s injector,
loopback ones from ``faults.ServerFaults.rest_call`` around ``dispatch``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from exchange_sim.server import errors, rest
from exchange_sim.server.errors import ApiError
from exchange_sim.server.limits import ORDER_ENDPOINTS, request_weight
from exchange_sim.server.params import Params, parse_form
from exchange_sim.server.state import ServerState
from exchange_sim.venue import VenueClient

log = logging.getLogger(__name__)
_HANDLERS: dict[tuple[str, str], rest.Handler] = {(method, path): h for method, path, h in rest.ROUTES}
_PATHS = frozenset(path for _, path, _ in rest.ROUTES)


@dataclass(slots=True)
class ApiRequest:
    """One REST request as sent, and what handling it has found out so far.

    ``headers`` are looked up case-insensitively (any mapping is wrapped in a ``CIMultiDictProxy``).
    Filled while handling: ``params`` (by ``prepare``), ``weight`` and ``used_weight`` (the charge and the
    window's total after it), ``order_counts`` (10 s and day counts of an order endpoint), ``half_replace``
    (set by the loopback ``cancel_replace_half`` fault: the new order of a cancelReplace is refused).
    """

    method: str
    path: str
    raw_query: str  # as sent, percent-encoded (the signature covers these bytes)
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    remote: str = "127.0.0.1"
    client: VenueClient | None = None  # reads (time, exchangeInfo, depth) go through it when given
    params: Params = field(default_factory=lambda: Params(()))
    weight: int = 0
    used_weight: int | None = None
    order_counts: tuple[int, int] | None = None
    half_replace: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CIMultiDictProxy):
            self.headers = CIMultiDictProxy(CIMultiDict(self.headers))


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A Binance answer: HTTP ``status``, ``headers`` (weights, order counts, ``Retry-After`` on 429/418),
    ``body`` (JSON bytes) and ``payload`` (the same JSON as a Python object, for callers that skip decoding)."""

    status: int
    headers: dict[str, str]
    body: bytes
    payload: object


def prepare(state: ServerState, request: ApiRequest) -> None:
    """Parse ``request.params`` and charge the request's weight (module docstring). Raises ``ApiError``."""
    now_s = state.faults.now_s()
    if len(request.body.encode("utf-8", "surrogatepass")) > state.config.limits.max_body_bytes:
        raise ApiError(errors.UNKNOWN, "Request body too large.", status=413)
    try:
        params = Params(parse_form(request.raw_query) + parse_form(request.body))
    except ApiError:  # a malformed request still costs weight, and a ban stops it like any other
        state.weights.charge(request.remote, 1, now_s)
        raise
    request.params = params
    request.weight = request_weight(request.method, request.path, params)
    request.used_weight = state.weights.charge(request.remote, request.weight, now_s)


async def dispatch(state: ServerState, request: ApiRequest) -> object:
    """Route a prepared request and run its handler; the Binance payload, or ``ApiError`` (404/405, refusals)."""
    handler = _HANDLERS.get((request.method, request.path))
    if handler is None:
        if request.path in _PATHS:
            raise ApiError(errors.UNSUPPORTED_OPERATION, "Method not allowed.", status=405)
        raise ApiError(errors.UNSUPPORTED_OPERATION, "Unknown endpoint.", status=404)
    return await handler(state, request)


async def execute(state: ServerState, request: ApiRequest) -> ApiResponse:
    """``dispatch`` with every outcome rendered: the payload (200), an ``ApiError``, or 500 -1000 (logged)."""
    try:
        payload = await dispatch(state, request)
    except ApiError as error:
        return render_error(state, request, error)
    except Exception:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return render_error(state, request, internal_error())
    return render(state, request, payload)


async def handle(state: ServerState, request: ApiRequest) -> ApiResponse:
    """``prepare`` + ``execute``: what the in-process transport calls (never raises for a request's sake)."""
    try:
        prepare(state, request)
    except ApiError as error:
        return render_error(state, request, error)
    return await execute(state, request)


def internal_error() -> ApiError:
    return ApiError(errors.UNKNOWN, "An unknown error occurred while processing the request.", status=500)


def render(state: ServerState, request: ApiRequest, payload: object, status: int = 200,
           extra: Mapping[str, str] | None = None) -> ApiResponse:
    """An answer with ``payload`` as its JSON body and the weight headers of ``request``."""
    headers = dict(extra or {})
    headers.update(weight_headers(state, request))
    return ApiResponse(status=status, headers=headers, body=orjson.dumps(payload), payload=payload)


def render_error(state: ServerState, request: ApiRequest, error: ApiError) -> ApiResponse:
    """``error`` as Binance answers it: its status, ``{"code", "msg"}`` (or its full body), its headers."""
    return render(state, request, error.to_json(), error.status, error.headers)


def weight_headers(state: ServerState, request: ApiRequest) -> dict[str, str]:
    """``X-MBX-USED-WEIGHT-1M`` (the charge's total, else the remote's current window) and, on order
    endpoints, ``X-MBX-ORDER-COUNT-10S`` / ``-1D`` (0 when the order was not counted)."""
    used = request.used_weight
    if used is None:
        used = state.weights.used(request.remote, state.faults.now_s())
    headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
    counts = request.order_counts
    if counts is None and (request.method, request.path) in ORDER_ENDPOINTS:
        counts = (0, 0)
    if counts is not None:
        headers["X-MBX-ORDER-COUNT-10S"] = str(counts[0])
        headers["X-MBX-ORDER-COUNT-1D"] = str(counts[1])
    return headers
