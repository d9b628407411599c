"""The connector's only way to the network: a ``Transport`` that carries signed requests and WebSocket frames.

Everything above this module (``RestClient``, ``WsStream``, ``open_user_ws``, ``BinanceConnector``) is venue
policy: signing, weights, retries, classification, time sync, stream recovery. A transport carries bytes and
nothing else, so the same policy runs over real sockets (``AiohttpTransport``: the loopback server, Binance) and
over an in-process transport in virtual time (the simulator hands the exact request to the wire server's
handlers, no sockets).

Duties of every transport:

* ``request`` sends ``url`` byte for byte (absolute, its query already encoded and signed: never re-encode or
  reorder it) with ``headers``, and returns the answer whatever its status (a 4xx/5xx is an ``HttpReply``, not an
  exception). It calls ``bot.core.sending.check_before_send()`` right before the request leaves (after any wait
  for a connection), letting its ``BotError`` propagate with nothing sent; ``AiohttpTransport`` does it in
  ``CheckedConnector.connect``.
* Failures: ``ConnectFailed`` when nothing was sent (connection refused, DNS), ``ConnectionLost`` when the request
  may have been sent (a drop mid-exchange). ``RestClient`` maps them to a recoverable ``NETWORK`` and to
  ``UNKNOWN_OUTCOME`` (mutation) / retried ``NETWORK`` (read). Timeouts are the caller's (``asyncio.timeout``).
* An in-process transport may set ``payload`` (the already-decoded JSON) so the client skips ``json.loads``; the
  parsing of fields (decimal strings, enums, error codes) still runs on it.
* ``ws_connect`` returns a connected ``WsConnection`` or raises ``ConnectFailed``/``ConnectionLost``; its
  ``receive`` reports the end as a ``closed`` or ``error`` frame, never by raising.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from bot.core.sending import check_before_send


class _NotDecoded:
    """The type of ``NOT_DECODED``: no decoded payload came with the reply (decode ``text``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_DECODED"


NOT_DECODED: Final = _NotDecoded()


class ConnectFailed(Exception):
    """The transport could not reach the venue: nothing was sent."""


class ConnectionLost(Exception):
    """The exchange broke after the request may have been sent: the venue may have acted on it."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    """One HTTP answer of any status. ``headers`` look up case-insensitively; ``payload`` is the decoded JSON body
    when the transport already has it (then ``text`` may be empty), else ``NOT_DECODED``."""

    status: int
    headers: Mapping[str, str]
    text: str
    payload: Any = NOT_DECODED

    def __post_init__(self) -> None:
        if not isinstance(self.headers, CIMultiDict | CIMultiDictProxy):
            object.__setattr__(self, "headers", CIMultiDict(self.headers))


@dataclass(frozen=True, slots=True)
class WsFrame:
    """One WebSocket event: a ``text`` or ``binary`` message, or the end of the connection (``closed`` by either
    side, or an ``error``)."""

    kind: Literal["text", "binary", "closed", "error"]
    data: str | bytes | None = None
    payload: Any = NOT_DECODED

    def json(self) -> Any:
        """The message's JSON (the decoded ``payload`` if the transport gave one); ``ValueError`` if malformed."""
        if self.payload is not NOT_DECODED:
            return self.payload
        if self.data is None:
            raise ValueError(f"a {self.kind} frame carries no JSON")
        return json.loads(self.data)


class WsConnection(Protocol):
    """One open WebSocket connection."""

    @property
    def closed(self) -> bool: ...

    async def send_json(self, obj: Any) -> None:
        """Send ``obj`` as one JSON text message (``ConnectionLost`` if the connection broke)."""
        ...

    async def receive(self) -> WsFrame:
        """The next frame; once the connection has ended, a ``closed`` (or ``error``) frame, every time."""
        ...

    async def close(self) -> None:
        """Close the connection (idempotent)."""
        ...


class Transport(Protocol):
    """How the connector reaches the venue (module docstring: the duties)."""

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> HttpReply:
        """Send ``method url`` exactly as given (after ``check_before_send()``) and return the answer."""
        ...

    async def ws_connect(self, url: str, *, heartbeat_s: float) -> WsConnection:
        """Open a WebSocket to ``url``, pinging every ``heartbeat_s`` (a dead peer ends it)."""
        ...

    async def close(self) -> None:
        """Release what the transport holds (idempotent); open ``WsConnection``s are their owners' to close."""
        ...


class CheckedConnector(aiohttp.TCPConnector):
    """A TCP connector that runs ``check_before_send`` once the request has its connection, right before aiohttp
    writes it: waiting for a pooled connection or connecting anew (connections dropped in a partition, a loaded
    event loop) can outlast a guard that fires meanwhile, and the check after the limiter would have passed
    (``tests/e2e/test_realtime.py``: ``8.hard_guard``, LATENCY). A refused request hands its connection back
    unused. Requests with no check installed (reads, cancels, streams) pass untouched."""

    async def connect(self, *args: Any, **kwargs: Any) -> aiohttp.connector.Connection:
        connection = await super().connect(*args, **kwargs)
        try:
            check_before_send()
        except BaseException:
            connection.release()
            raise
        return connection


_FRAME_KINDS: Final[dict[aiohttp.WSMsgType, Literal["text", "binary", "closed", "error"]]] = {
    aiohttp.WSMsgType.TEXT: "text",
    aiohttp.WSMsgType.BINARY: "binary",
    aiohttp.WSMsgType.CLOSE: "closed",
    aiohttp.WSMsgType.CLOSING: "closed",
    aiohttp.WSMsgType.CLOSED: "closed",
    aiohttp.WSMsgType.ERROR: "error",
}


class AiohttpWs:
    """An aiohttp ``ClientWebSocketResponse`` as a ``WsConnection`` (pings and pongs are answered by aiohttp)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    @property
    def closed(self) -> bool:
        return self._ws.closed

    async def send_json(self, obj: Any) -> None:
        try:
            await self._ws.send_json(obj)
        except (aiohttp.ClientError, OSError) as error:
            raise ConnectionLost(type(error).__name__) from None

    async def receive(self) -> WsFrame:
        while True:
            message = await self._ws.receive()
            kind = _FRAME_KINDS.get(message.type)
            if kind is None:
                continue  # PING/PONG/CONTINUATION: handled by aiohttp
            data = message.data if kind in ("text", "binary") else None
            return WsFrame(kind, data)

    async def close(self) -> None:
        await self._ws.close()


class AiohttpTransport:
    """``Transport`` over an aiohttp ``ClientSession``: owns one with a ``CheckedConnector`` (created lazily, made
    anew if closed) unless ``session`` is given, whose connector must then run ``check_before_send`` itself."""

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owns_session = session is None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(connector=CheckedConnector())
            self._owns_session = True
        return self._session

    async def request(self, method: str, url: str, headers: Mapping[str, str]) -> HttpReply:
        try:
            async with self.session().request(method, URL(url, encoded=True), headers=dict(headers)) as response:
                reply_headers = CIMultiDict(response.headers)
                return HttpReply(response.status, reply_headers, await response.text())
        except aiohttp.ClientConnectorError as error:
            raise ConnectFailed(type(error).__name__) from None
        except (aiohttp.ClientError, OSError) as error:
            raise ConnectionLost(type(error).__name__) from None

    async def ws_connect(self, url: str, *, heartbeat_s: float) -> WsConnection:
        try:
            return AiohttpWs(await self.session().ws_connect(url, heartbeat=heartbeat_s))
        except aiohttp.ClientConnectorError as error:
            raise ConnectFailed(type(error).__name__) from None
        except (aiohttp.ClientError, OSError) as error:
            raise ConnectionLost(type(error).__name__) from None

    async def close(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
