"""WebSocket market streams: ``/ws/<stream>`` raw, ``/stream?streams=a/b`` combined, SUBSCRIBE/UNSUBSCRIBE.

Streams: ``<symbol>@depth@100ms`` (and ``@depth``) depthUpdate diffs straight from the venue's depth flusher,
whose ``U``/``u`` are the engine's book update ids, so a REST ``depth`` snapshot's ``lastUpdateId`` and the diffs
follow Binance's local-book procedure; ``<symbol>@bookTicker`` on every top-of-book change (``u`` = update id);
``<symbol>@trade`` public trades. Stream names are case-insensitive in the symbol; any syntactically valid name is
accepted (unknown symbols simply never send), as Binance does.

The ``StreamHub`` keeps one producer per stream while at least one socket listens (a venue ``Subscription`` or,
for bookTicker, a poll of the book every driver tick), encodes each message once, passes it through the stream's
``FeedGate`` (transport faults) and fans it out to the sockets' bounded queues; a socket that falls behind loses
market data (the sequence ids show it), never blocks the others. Sockets are pinged every ``ws_heartbeat_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from aiohttp import WSCloseCode, WSMsgType, web

from exchange_sim.server import wire
from exchange_sim.server.feed_gate import FeedGate
from exchange_sim.server.state import ServerState

RESET_CHECK_S = 0.25


def parse_stream(name: str) -> tuple[str, str] | None:
    """``btcusdt@depth@100ms`` -> ("BTCUSDT", "depth"); None when it is not a stream name we know."""
    parts = name.split("@")
    if len(parts) < 2 or not parts[0].isalnum():
        return None
    kind = "@".join(parts[1:])
    kinds = {"depth@100ms": "depth", "depth": "depth", "bookticker": "bookTicker", "trade": "trade"}
    found = kinds.get(kind.lower())
    return None if found is None else (parts[0].upper(), found)


def canonical(name: str) -> str:
    parsed = parse_stream(name)
    if parsed is None:
        return name
    symbol, kind = parsed
    suffix = name.split("@", 1)[1]
    return f"{symbol.lower()}@{'bookTicker' if kind == 'bookTicker' else suffix.lower()}"


class Connection:
    """One WebSocket: a bounded outbound queue drained by a writer, closed on faults or shutdown."""

    def __init__(self, state: ServerState, ws: web.WebSocketResponse, transport: asyncio.Transport | None, *,
                 channel: str, combined: bool = False, lossless: bool = False) -> None:
        self.state = state
        self.ws = ws
        self.transport = transport
        self.channel = channel
        self.combined = combined
        self.lossless = lossless
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=state.config.ws_queue_max)
        self.connected_s = state.faults.now_s()
        self.dropped = 0
        self.overflowed = False
        self._closer: asyncio.Task[Any] | None = None  # a close() in progress

    def send_json(self, payload: object) -> None:
        self.send_bytes(orjson.dumps(payload))

    def send_bytes(self, data: bytes) -> None:
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            if self.lossless:
                self.overflowed = True
            self.dropped += 1

    def send_stream(self, stream: str, data: bytes) -> None:
        if self.combined:
            data = b'{"stream":' + orjson.dumps(stream) + b',"data":' + data + b"}"
        self.send_bytes(data)

    async def writer(self) -> None:
        faults = self.state.faults
        closing_at: float | None = None  # a slow close or serverShutdown in progress: silent until then
        while not self.ws.closed:
            try:
                data = await asyncio.wait_for(self.queue.get(), RESET_CHECK_S)
            except TimeoutError:
                data = None
            if self.overflowed:
                await self.abort()
                return
            if faults.scenario:
                if closing_at is None:
                    closing_at = await self._stream_end()
                    if closing_at is not None and closing_at < 0:
                        return
                if closing_at is not None:
                    if faults.now_s() >= closing_at:
                        await self.ws.close(code=1001, message=b"going away (fault)")
                        return
                    continue
                if data is not None and faults.truncates(self.channel):
                    await self.ws.send_str(data[: len(data) // 2].decode(errors="ignore"))  # a frame cut short
                    await self.abort()
                    return
            if data is not None:
                await self.ws.send_str(data.decode())

    async def _stream_end(self) -> float | None:
        """Apply a stream-ending fault (``ServerFaults.stream_end``): -1 when the socket is gone now, the time
        its close is due when it closes later, None when no such fault applies."""
        faults = self.state.faults
        end = faults.stream_end(self.channel, self.connected_s)
        if end is None:
            return None
        index, effect, delay_s = end
        faults.record_stream_end(index, effect, self.channel)
        if effect == "reset":
            await self.abort()
            return -1.0
        if effect == "server_shutdown" and self.channel == "user":  # the WebSocket API says so first
            await self.ws.send_str(orjson.dumps({"event": {"e": "serverShutdown",
                                                           "E": self.state.driver.epoch_ms()}}).decode())
        if delay_s <= 0:
            await self.ws.close(code=1001, message=f"{effect} (fault)".encode())
            return -1.0
        return faults.now_s() + delay_s

    def close(self, code: int, reason: str) -> None:
        """Close the socket with ``code`` and ``reason`` (``Outbound``); 1006 aborts it as a reset peer would."""
        closing = self.abort() if code == 1006 else self.ws.close(code=code, message=reason.encode())
        self._closer = asyncio.get_running_loop().create_task(closing)

    async def abort(self) -> None:
        """Close as a reset peer would (no close handshake)."""
        if self.transport is not None:
            self.transport.abort()
        await self.ws.close()


class StreamHub:
    """Producers of market streams and the sockets listening to them (module docstring)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._listeners: dict[str, set[Connection]] = {}
        self._producers: dict[str, asyncio.Task[None]] = {}

    def subscribe(self, conn: Connection, stream: str) -> None:
        listeners = self._listeners.setdefault(stream, set())
        listeners.add(conn)
        if stream not in self._producers:
            producer = self._producer(stream)
            if producer is not None:
                self._producers[stream] = asyncio.get_running_loop().create_task(producer)

    def unsubscribe(self, conn: Connection, stream: str) -> None:
        listeners = self._listeners.get(stream)
        if listeners is None:
            return
        listeners.discard(conn)
        if not listeners:
            del self._listeners[stream]
            task = self._producers.pop(stream, None)
            if task is not None:
                task.cancel()

    def streams_of(self, conn: Connection) -> list[str]:
        return sorted(s for s, conns in self._listeners.items() if conn in conns)

    async def close(self) -> None:
        tasks = list(self._producers.values())
        self._producers.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _fan_out(self, stream: str) -> Callable[[Any], None]:
        def emit(data: bytes) -> None:
            for conn in list(self._listeners.get(stream, ())):
                conn.send_stream(stream, data)
        return emit

    def _producer(self, stream: str) -> Coroutine[Any, Any, None] | None:
        parsed = parse_stream(stream)
        if parsed is None or parsed[0] not in self.state.engine.symbols:
            return None
        symbol, kind = parsed
        gate = FeedGate(self.state.faults, "ws", symbol, self._fan_out(stream), depth=kind == "depth")
        if kind == "depth":
            return self._depth(symbol, gate)
        if kind == "trade":
            return self._trades(symbol, gate)
        return self._book_ticker(symbol, gate)

    async def _depth(self, symbol: str, gate: FeedGate) -> None:
        state = self.state
        spec = state.spec(symbol)
        sub = state.venue.subscribe_depth(symbol, lambda: 0.0, state.config.ws_queue_max)
        try:
            async for diff in sub:
                gate.push(orjson.dumps(wire.depth_update(spec, diff, state.ms)))
        finally:
            sub.close()

    async def _trades(self, symbol: str, gate: FeedGate) -> None:
        state = self.state
        spec = state.spec(symbol)
        sub = state.venue.subscribe_trades(symbol, lambda: 0.0, state.config.ws_queue_max)
        try:
            async for trade in sub:
                gate.push(orjson.dumps(wire.trade_event(spec, trade, state.ms)))
        finally:
            sub.close()

    async def _book_ticker(self, symbol: str, gate: FeedGate) -> None:
        state = self.state
        spec = state.spec(symbol)
        engine = state.engine
        last: tuple[object, object] | None = None
        while True:
            top = (engine.best_bid(symbol), engine.best_ask(symbol))
            if top != last:
                last = top
                gate.push(orjson.dumps(wire.book_ticker_event(spec, engine.update_id(symbol), *top)))
            await asyncio.sleep(state.config.tick_s)


SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")


class MessageRate:
    """Incoming messages of one connection in fixed one-second windows: ``allow`` is False past ``per_s``."""

    __slots__ = ("_count", "_window", "exceeded", "per_s")

    def __init__(self, per_s: int) -> None:
        self.per_s = per_s
        self._window = -1
        self._count = 0
        self.exceeded = False

    def allow(self, now_s: float) -> bool:
        window = int(now_s)
        if window != self._window:
            self._window, self._count = window, 0
        self._count += 1
        self.exceeded = self.exceeded or self._count > self.per_s
        return not self.exceeded


async def serve_socket(request: web.Request, state: ServerState, hub: StreamHub, streams: list[str],
                       combined: bool) -> web.WebSocketResponse:
    """Run one market-stream socket until the client leaves, a fault resets it, or the server shuts down."""
    ws = web.WebSocketResponse(heartbeat=state.config.ws_heartbeat_s, max_msg_size=64 * 1024)
    await ws.prepare(request)
    if state.faults.scenario and state.faults.refuse_connection("ws"):
        await ws.close(code=1011, message=b"connection refused (fault)")
        return ws
    request.app[SOCKETS].add(ws)
    conn = Connection(state, ws, request.transport, channel="ws", combined=combined)
    if len(streams) > state.config.ws_max_streams:
        await ws.close(code=WSCloseCode.POLICY_VIOLATION,
                       message=f"too many streams: at most {state.config.ws_max_streams} per connection".encode())
        return ws
    for stream in streams:
        hub.subscribe(conn, canonical(stream))
    writer = asyncio.get_running_loop().create_task(conn.writer())
    incoming = MessageRate(state.config.ws_messages_per_s)
    try:
        async for msg in ws:
            if not incoming.allow(state.faults.now_s()):  # Binance disconnects such a connection
                await _close_over_rate(ws, incoming.per_s)
                break
            if msg.type is WSMsgType.TEXT:
                reply = handle_method(hub, conn, msg.data)
                if reply is not None:
                    conn.send_json(reply)
            elif msg.type is WSMsgType.BINARY:
                conn.send_json({"error": {"code": 3, "msg": "Invalid JSON: binary frames are not accepted"},
                                "id": None})
    finally:
        for stream in hub.streams_of(conn):
            hub.unsubscribe(conn, stream)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):  # a send to a closing socket
            await writer
    return ws


async def _close_over_rate(ws: web.WebSocketResponse, per_s: int) -> None:
    with contextlib.suppress(ConnectionError):  # the client may be gone already
        await ws.close(code=WSCloseCode.POLICY_VIOLATION,
                       message=f"more than {per_s} incoming messages per second".encode())


def handle_method(hub: StreamHub, conn: Connection, text: str) -> dict[str, Any] | None:
    """SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS; malformed requests get Binance's error shapes."""
    try:
        request = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"error": {"code": 3, "msg": "Invalid JSON: expected value"}, "id": None}
    if not isinstance(request, dict):
        return {"error": {"code": 2, "msg": "Invalid request: expected an object"}, "id": None}
    req_id = request.get("id")
    if req_id is not None and (not isinstance(req_id, int) or isinstance(req_id, bool) or req_id < 0):
        return {"error": {"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"}, "id": None}
    method = request.get("method")
    params = request.get("params", [])
    if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            return {"error": {"code": 2, "msg": "Invalid request: params must be a list of stream names"},
                    "id": req_id}
        limit = conn.state.config.ws_max_streams
        if method == "SUBSCRIBE" and len(set(hub.streams_of(conn)) | {canonical(n) for n in params}) > limit:
            return {"error": {"code": 2, "msg": f"Invalid request: at most {limit} streams per connection"},
                    "id": req_id}
        for name in params:
            if method == "SUBSCRIBE":
                hub.subscribe(conn, canonical(name))
            else:
                hub.unsubscribe(conn, canonical(name))
        return {"result": None, "id": req_id}
    if method == "LIST_SUBSCRIPTIONS":
        return {"result": hub.streams_of(conn), "id": req_id}
    return {"error": {"code": 2, "msg": f"Invalid request: unknown variant {method!r}, expected one of SUBSCRIBE, "
                                        "UNSUBSCRIBE, LIST_SUBSCRIPTIONS"}, "id": req_id}
