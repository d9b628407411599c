"""The WebSocket API (``/ws-api/v3``): user data stream subscriptions and a few signed requests.

Requests ``{"id", "method", "params"}`` are answered ``{"id", "status": 200, "result", "rateLimits"}`` or
``{"id", "status": 4XX, "error": {"code", "msg"}}``. Methods: ``ping``, ``time``,
``userDataStream.subscribe.signature`` (params ``apiKey, timestamp, recvWindow, signature``; the signature covers
the other params sorted by name), ``userDataStream.unsubscribe``, and the signed ``order.place``,
``order.cancel``, ``order.status``, ``openOrders.status`` (same parameters as REST plus ``apiKey``).

``WsApiSession`` is the transport-neutral session (requests in as text, answers and events out through an
``Outbound``); ``serve_ws_api`` is its aiohttp adapter. Subscription ids count per ``ServerState``.

User data events arrive wrapped ``{"subscriptionId": N, "event": {...}}``: ``executionReport`` per order change
and ``outboundAccountPosition`` per balance change (changes of one instant grouped into one event). The stream
is lossless: a client that stops reading is disconnected, never silently skipped (it must reconcile over REST).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
from aiohttp import WSMsgType, web

from exchange_sim.engine.types import AccountId
from exchange_sim.feeds import AccountUpdate, ExecutionReport, SubscriptionOverflow
from exchange_sim.server import auth, errors, trading, wire
from exchange_sim.server.errors import ApiError
from exchange_sim.server.feed_gate import FeedGate
from exchange_sim.server.params import Params
from exchange_sim.server.state import ServerState
from exchange_sim.server.ws_streams import SOCKETS, Connection

Json = dict[str, Any]
ABNORMAL_CLOSURE = 1006  # WebSocket close code of a connection dropped without a close frame
SignedCall = Callable[[ServerState, AccountId, Params], Awaitable[object]]
_SIGNED: dict[str, SignedCall] = {
    "order.place": trading.place,
    "order.cancel": trading.cancel,
    "order.status": trading.get_order,
    "openOrders.status": trading.open_orders,
}


class Outbound(Protocol):
    """Where a WebSocket-API session's messages go: a socket (``ws_streams.Connection``) or an in-process sink."""

    def send_json(self, payload: object) -> None: ...

    def send_bytes(self, data: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...  # 1006: dropped without a close handshake


class WsApiSession:
    """One WebSocket-API connection's requests and user-data subscriptions, transport-neutral.

    Lifecycle: open (built with the state and its ``Outbound``) -> ``on_text`` per incoming text frame (the
    answer is sent to the outbound) -> ``close()`` (every user-data pump stopped; the session is done).
    A user-data subscription whose venue subscription ends (an injected disconnect, an overflow) closes the
    outbound with 1006, as a dropped socket.
    """

    def __init__(self, state: ServerState, outbound: Outbound, *, remote: str = "?") -> None:
        self.state = state
        self.outbound = outbound
        self.remote = remote
        self.tasks: dict[int, asyncio.Task[None]] = {}

    async def on_text(self, text: str) -> None:
        """Answer one request frame (``answer``) on the outbound."""
        self.outbound.send_json(await self.answer(text))

    async def answer(self, text: str) -> Json:
        """The answer to one request frame (``handle_request`` from this session's ``remote``)."""
        return await handle_request(self.state, self, text, ip=self.remote)

    def subscribe(self, account: AccountId) -> int:
        sub_id = self.state.next_subscription_id()
        self.tasks[sub_id] = asyncio.get_running_loop().create_task(self._pump(sub_id, account))
        return sub_id

    def unsubscribe(self, sub_id: int | None) -> None:
        ids = list(self.tasks) if sub_id is None else [sub_id]
        for i in ids:
            task = self.tasks.pop(i, None)
            if task is not None:
                task.cancel()

    async def _pump(self, sub_id: int, account: AccountId) -> None:
        """The account's user events, one instant's balance changes grouped, through the user ``FeedGate``."""
        state = self.state

        def emit(event: Json) -> None:
            self.outbound.send_json({"subscriptionId": sub_id, "event": event})

        gate = FeedGate(state.faults, "user", None, emit)
        sub = state.clients[account].subscribe_user()
        try:
            while True:
                batch = [await sub.get()]
                while (more := sub.get_nowait()) is not None:
                    batch.append(more)
                balances: list[AccountUpdate] = []
                for item in batch:
                    if isinstance(item, AccountUpdate):
                        balances.append(item)
                        continue
                    if balances:
                        gate.push(wire.account_position(balances, state.ms))
                        balances = []
                    assert isinstance(item, ExecutionReport)
                    gate.push(wire.execution_report(state.spec(item.order.symbol), item, state.ms))
                if balances:
                    gate.push(wire.account_position(balances, state.ms))
        except (ConnectionError, SubscriptionOverflow):  # ended by a fault, or the reader stopped reading
            self.outbound.close(ABNORMAL_CLOSURE, "user data stream closed")
        finally:
            sub.close()

    def close(self) -> None:
        """Stop every user-data pump (they end at their next suspension)."""
        self.unsubscribe(None)

    async def aclose(self) -> None:
        """``close()`` and wait until the pumps have ended."""
        tasks = list(self.tasks.values())
        self.close()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def serve_ws_api(request: web.Request, state: ServerState) -> web.WebSocketResponse:
    """The aiohttp adapter: one ``WsApiSession`` per socket, its outbound the socket's ``Connection``."""
    ws = web.WebSocketResponse(heartbeat=state.config.ws_heartbeat_s, max_msg_size=64 * 1024)
    await ws.prepare(request)
    if state.faults.scenario and state.faults.refuse_connection("user"):
        await ws.close(code=1011, message=b"connection refused (fault)")
        return ws
    request.app[SOCKETS].add(ws)
    conn = Connection(state, ws, request.transport, channel="user", lossless=True)
    session = WsApiSession(state, conn, remote=request.remote or "?")
    writer = asyncio.get_running_loop().create_task(conn.writer())
    try:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await session.on_text(msg.data)
    finally:
        await session.aclose()
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    return ws


async def handle_request(state: ServerState, session: WsApiSession, text: str, *, ip: str = "?") -> Json:
    """Answer one WebSocket-API request. Every request, malformed ones included, is charged its weight against
    ``ip``'s REST budget (one limiter per IP, as on Binance): over the budget it is answered 429, during a ban 418,
    with ``retryAfter`` (epoch ms) in the error's ``data``, and it is not executed."""
    req_id: object = None
    weight = 1
    try:
        try:
            request = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ApiError(errors.ILLEGAL_CHARS, "Malformed request: invalid JSON.") from None
        if not isinstance(request, dict):
            raise ApiError(errors.ILLEGAL_CHARS, "Malformed request: expected a JSON object.")
        req_id = request.get("id")
        method = request.get("method")
        raw = request.get("params") or {}
        if not isinstance(method, str) or not isinstance(raw, dict):
            raise ApiError(errors.MANDATORY_PARAM, "Malformed request: 'method' and 'params' are required.")
        weight, charged = 0, method_weight(method, raw)  # charged even when the limiter refuses it
        used = state.weights.charge(ip, charged, state.faults.now_s())
        result = await _dispatch(state, session, method, raw)
        return {"id": req_id, "status": 200, "result": result, "rateLimits": _rate_limits(state, used)}
    except ApiError as refused:
        return {"id": req_id, **_refusal(state, refused, ip, weight)}


def _refusal(state: ServerState, refused: ApiError, ip: str, uncharged_weight: int) -> Json:
    """The ``status`` and ``error`` of a refused request; one refused before its charge (malformed) is charged
    now, and a 429/418 from that charge takes precedence."""
    answer = refused
    if uncharged_weight:
        try:
            state.weights.charge(ip, uncharged_weight, state.faults.now_s())
        except ApiError as limited:
            answer = limited
    return {"status": answer.status, "error": _error_json(state, answer)}


_WS_WEIGHTS = {"order.status": 4, "userDataStream.subscribe.signature": 2}  # every other method: 1


def method_weight(method: str, params: dict[str, Any]) -> int:
    """A WebSocket-API method's request weight (Binance's: ``openOrders.status`` 6 with a symbol, 80 without)."""
    if method == "openOrders.status":
        return 6 if "symbol" in params else 80
    return _WS_WEIGHTS.get(method, 1)


def _rate_limits(state: ServerState, used: int) -> list[Json]:
    limits = state.config.limits
    return [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": limits.weight_per_minute, "count": used}]


def _error_json(state: ServerState, error: ApiError) -> Json:
    out: Json = {"code": error.code, "msg": error.msg}
    retry_after_s = error.headers.get("Retry-After")
    if retry_after_s is not None:
        out["data"] = {"retryAfter": state.driver.epoch_ms() + 1000 * int(retry_after_s)}
    return out


def _signed(state: ServerState, raw: dict[str, Any]) -> tuple[AccountId, Params]:
    params = Params.from_mapping(raw)
    principal = state.keys.verify(params.opt_text("apiKey"), params, auth.ws_payload(params.raw()),
                                  state.driver.epoch_ms())
    return principal.account, params


async def _dispatch(state: ServerState, session: WsApiSession, method: str, raw: dict[str, Any]) -> object:
    if method == "ping":
        return {}
    if method == "time":
        return {"serverTime": state.driver.epoch_ms()}
    if method == "userDataStream.subscribe.signature":
        account, _ = _signed(state, raw)
        return {"subscriptionId": session.subscribe(account)}
    if method == "userDataStream.unsubscribe":
        sub_id = raw.get("subscriptionId")
        if sub_id is not None and not isinstance(sub_id, int):
            raise errors.invalid_value("subscriptionId")
        session.unsubscribe(sub_id)
        return {}
    call = _SIGNED.get(method)
    if call is None:
        raise ApiError(errors.UNSUPPORTED_OPERATION, f"Unknown method '{method}'.")
    account, params = _signed(state, raw)
    if method == "order.place":
        state.orders.charge(account, state.faults.now_s())
    return await call(state, account, params)
