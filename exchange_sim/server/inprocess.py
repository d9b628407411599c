"""The in-process transport: BinanceConnector's requests and streams served by the wire server's own handlers in
virtual time, without sockets.

One job: be the ``bot.connectors.binance.transport.Transport`` of a simulated session. A REST request (method,
absolute URL with the signed query exactly as the connector encoded it, headers) becomes an ``api.ApiRequest``
handed to ``api.handle`` on a ``ServerState`` attached to the session's ``SimVenue``; the answer comes back as an
``HttpReply`` whose ``payload`` is the handler's JSON object (the connector skips ``json.loads``; its parsing of
fields - decimal strings to ticks, lots and atoms, enums, error codes - still runs). A WebSocket connection is a
``WsConnection`` whose frames are the server's own stream messages (``exchange_sim.server.wire``) for the streams
named in the URL, or the WebSocket API's answers and user-data events (``ws_api.WsApiSession``).

Where latency and faults come from: the requests reach the venue through this transport's ``VenueClient`` (the
``ApiRequest.client`` for reads, ``state.clients[account]`` for signed calls), which carries the session's
latency model and, when chaos runs, the in-process ``FaultInjector``: partitions, lost replies, 429/418/503/403
answers, rejects, races, truncated replies and stream faults act exactly where they act on the venue, and the
wire server's handlers turn them into Binance's HTTP answers. A request the injector swallows never answers: the
connector's own ``asyncio.timeout`` (virtual time) gives up, as it would on a socket.

Clock skew: the server's clock is ``VirtualServerClock`` (simulated µs since the session started, plus the
injector's active skew), and the server's ``auth`` checks every signed timestamp against it, so -1021 comes
from the same code as on the wire; the injector's own timestamp check is switched off for this client
(``VenueClient.check_timestamps``), and a -1021 answered while a clock-skew fault is active is recorded as that
fault's ``fault_hit`` (effect ``timestamp``), as the injector would.

Guard: a request leaves when ``check_before_send()`` passes (the duty of every transport), so an order decided
before a HARD guard is never sent after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from bot.connectors.binance.streams import Inbox
from bot.connectors.binance.transport import HttpReply, WsConnection, WsFrame
from bot.core.sending import check_before_send
from exchange_sim.engine.types import AccountId, ErrorCode
from exchange_sim.faults.model import FaultKind
from exchange_sim.feeds import Subscription
from exchange_sim.server import api, wire
from exchange_sim.server.faults import REST_OPS
from exchange_sim.server.state import ServerState
from exchange_sim.server.ws_api import WsApiSession
from exchange_sim.server.ws_streams import parse_stream
from exchange_sim.venue import VenueClient

__all__ = ["InProcessTransport"]

WS_API_PATH = "/ws-api/v3"
INVALID_TIMESTAMP = int(ErrorCode.INVALID_TIMESTAMP)
_CLOSED = WsFrame("closed")


class InProcessTransport:
    """One account's transport to an attached ``ServerState`` (module docstring). ``remote`` is the IP the
    server's weight limits see (one per process: a restarted instance keeps its predecessor's window)."""

    def __init__(self, state: ServerState, client: VenueClient, *, remote: str = "127.0.0.1",
                 on_timestamp_reject: Callable[[str], None] | None = None) -> None:
        self.state = state
        self.client = client
        self.remote = remote
        client.check_timestamps = False  # the server's auth checks the signed timestamp (module docstring)
        state.clients[client.account] = client  # signed calls and the user stream of this instance
        self._on_timestamp_reject = on_timestamp_reject
        self._sockets: set[_Socket] = set()
        self._shed = 0  # market messages dropped by the buffers of connections that have closed

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> HttpReply:
        check_before_send()
        path, query = _path_and_query(url)
        request = api.ApiRequest(method=method, path=path, raw_query=query, headers=headers,
                                 remote=self.remote, client=self.client)
        response = await api.handle(self.state, request)
        payload = response.payload
        if (response.status == 400 and self._on_timestamp_reject is not None and isinstance(payload, dict)
                and payload.get("code") == INVALID_TIMESTAMP):
            self._on_timestamp_reject(REST_OPS.get((method, path), path))
        return HttpReply(status=response.status, headers=response.headers, text="", payload=payload)

    async def ws_connect(self, url: str, *, heartbeat_s: float) -> WsConnection:
        parts = urlsplit(url)
        socket: _Socket
        if parts.path == WS_API_PATH:
            socket = _WsApiSocket(self.state)
        else:
            socket = _MarketSocket(self.state, self.client, _stream_names(parts.path, parts.query))
        self._sockets.add(socket)
        socket.on_close = self._forget
        return socket

    def _forget(self, socket: _Socket) -> None:
        self._sockets.discard(socket)
        self._shed += socket.dropped()

    def feed_shed(self) -> int:
        """Market messages dropped because a connection's reader fell ``maxsize`` messages behind."""
        return self._shed + sum(socket.dropped() for socket in self._sockets)

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close()


def _path_and_query(url: str) -> tuple[str, str]:
    """``http://host/api/v3/order?a=1`` -> ("/api/v3/order", "a=1"): the connector's own absolute URLs, split
    without ``urlsplit``'s generality (the query is kept byte for byte, as signed)."""
    base, _, query = url.partition("?")
    start = base.find("/", base.find("//") + 2)
    return (base[start:] if start >= 0 else "/"), query


def _stream_names(path: str, query: str) -> list[str]:
    """``/stream?streams=a/b`` (combined) or ``/ws/a/b`` (raw) -> the stream names."""
    if path.startswith("/ws"):
        return [s for s in path[len("/ws"):].split("/") if s]
    streams = dict(parse_qsl(query)).get("streams", "")
    return [s for s in streams.split("/") if s]


class _Socket:
    """What both kinds of in-process WebSocket share: a closed flag and the transport's bookkeeping hook."""

    def __init__(self) -> None:
        self._closed = False
        self.on_close: Callable[[_Socket], None] = lambda _socket: None

    @property
    def closed(self) -> bool:
        return self._closed

    def _mark_closed(self) -> None:
        if not self._closed:
            self._closed = True
            self.on_close(self)

    async def close(self) -> None:
        self._mark_closed()

    def dropped(self) -> int:
        return 0


class _MarketSocket(_Socket):
    """A combined market-stream connection: one venue subscription per stream, each message framed as the
    server frames it (``{"stream", "data"}``). Unknown stream names send nothing, as on Binance."""

    def __init__(self, state: ServerState, client: VenueClient, names: list[str]) -> None:
        super().__init__()
        self._subs: list[tuple[Subscription[Any], Callable[[Any], WsFrame]]] = []
        for name in names:
            parsed = parse_stream(name)
            if parsed is None:
                continue
            symbol, kind = parsed
            try:
                spec = state.spec(symbol)
            except Exception:  # an unknown symbol: a valid name that never sends
                continue
            ms = state.driver.epoch_ms_of  # ``state.ms`` without its extra call per message
            if kind == "depth":
                self._subs.append((client.subscribe_depth(symbol), _framer(name, partial(wire.depth_update, spec),
                                                                           ms)))
            elif kind == "trade":
                self._subs.append((client.subscribe_trades(symbol), _framer(name, partial(wire.trade_event, spec),
                                                                            ms)))
        self._merged: asyncio.Queue[WsFrame] | None = None
        self._pumps: list[asyncio.Task[None]] = []
        if len(self._subs) > 1:
            self._merged = asyncio.Queue()
            loop = asyncio.get_running_loop()
            self._pumps = [loop.create_task(self._pump(sub, frame)) for sub, frame in self._subs]

    def dropped(self) -> int:
        return sum(sub.dropped for sub, _ in self._subs)

    async def send_json(self, obj: Any) -> None:
        """SUBSCRIBE and friends are not needed by the connector: the streams are named in the URL."""

    async def receive(self) -> WsFrame:
        if self._closed:
            return _CLOSED
        if self._merged is not None:
            return await self._merged.get()
        if not self._subs:  # nothing to send: the connection stays open and silent until closed
            await asyncio.get_running_loop().create_future()
        sub, frame = self._subs[0]
        try:
            return frame(await sub.get())
        except (ConnectionError, RuntimeError):  # closed by the venue or a fault, or overflowed
            await self.close()
            return _CLOSED

    async def _pump(self, sub: Subscription[Any], frame: Callable[[Any], WsFrame]) -> None:
        assert self._merged is not None
        try:
            async for message in sub:
                self._merged.put_nowait(frame(message))
        finally:
            self._merged.put_nowait(_CLOSED)  # one stream ended: the connection ends (the client resubscribes)

    async def close(self) -> None:
        for sub, _ in self._subs:
            sub.close()
        for task in self._pumps:
            task.cancel()
        self._mark_closed()


def _framer(name: str, encode: Callable[[Any, Callable[[int], int]], Any],
            ms: Callable[[int], int]) -> Callable[[Any], WsFrame]:
    """The combined-stream frame of one message: ``{"stream": name, "data": <the server's event>}`` as the
    payload of a text ``WsFrame``.

    The same message object sent again (a duplicate, a flood of copies) reuses its frame, as the wire server
    encodes a message once for every socket: the frame (frozen) and its payload are never mutated by a reader."""
    last: list[Any] = [None, None]  # [message, frame]

    def frame(message: Any) -> WsFrame:
        if message is last[0]:
            again: WsFrame = last[1]
            return again
        framed = WsFrame("text", payload={"stream": name, "data": encode(message, ms)})
        last[0], last[1] = message, framed
        return framed
    return frame


class _WsApiSocket(_Socket):
    """A WebSocket API connection: the connector's requests go to a ``WsApiSession``; its answers and the
    user-data events it pumps come back as frames."""

    def __init__(self, state: ServerState) -> None:
        super().__init__()
        self._frames: Inbox[WsFrame] = Inbox()
        self._session = WsApiSession(state, _Sink(self._frames, self._mark_closed))

    async def send_json(self, obj: Any) -> None:
        if self._closed:
            raise ConnectionResetError("WebSocket API connection closed")
        await self._session.on_text(orjson.dumps(obj).decode())

    async def receive(self) -> WsFrame:
        frames = self._frames.items
        if self._closed and not frames:
            return _CLOSED
        while not frames:  # one reader (``Inbox.waiter``)
            await self._frames.waiter()
        return frames.popleft()

    async def close(self) -> None:
        if not self._closed:
            self._session.close()
            self._frames.put(_CLOSED)
        self._mark_closed()


class _Sink:
    """The server side of an in-process WebSocket API connection (``ws_api.Outbound``)."""

    def __init__(self, frames: Inbox[WsFrame], closed: Callable[[], None]) -> None:
        self._frames = frames
        self._closed = closed

    def send_json(self, obj: Any) -> None:
        self._frames.put(WsFrame("text", payload=obj))

    def send_bytes(self, data: bytes) -> None:
        self._frames.put(WsFrame("text", data=data.decode()))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._frames.put(_CLOSED)
        self._closed()


def timestamp_hits(injector: Any, account: AccountId) -> Callable[[str], None]:
    """A ``on_timestamp_reject`` hook recording a -1021 as the active clock-skew fault's ``fault_hit``."""

    def record(op: str) -> None:
        for index, _ in injector.active(FaultKind.CLOCK_SKEW):
            injector.hit(index, "timestamp", a=account, op=op)
            break

    return record

