"""WebSocket streams as async iterators of bot types: the market streams, and the machinery the user stream shares.

``WsStream`` lifecycle: it starts connecting when it is created (so a consumer can subscribe, then take a REST
snapshot, and miss nothing once ``ready`` is set); it is *live* while connected; it *ends* when the venue closes the
connection, a frame is malformed, the reader falls ``stream_queue_max`` messages behind (the stale backlog is
dropped and counted in ``shed``) or the connection cannot be opened in ``ws_connect_attempts`` tries. Messages
received before an end are still delivered; then iteration raises one recoverable ``BotError(NETWORK)``, and stops
after that. The consumer reconnects by asking the connector for a new stream: ``MarketData`` resubscribes and
resyncs its book from a snapshot, the order manager reconciles. ``aclose()`` ends it at once (idempotent).

Reconnect backoff (``ReconnectPolicy``): a connection that failed, or lived less than ``ws_stable_s``, makes the
next connection to the same stream wait ``backoff_base_s * 2**(n-1)`` (capped, jittered); a stable one resets it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from bot.connectors.binance.config import BinanceConfig
from bot.connectors.binance.transport import NOT_DECODED, ConnectFailed, ConnectionLost, WsConnection
from bot.connectors.binance.wire import WireError
from bot.core.errors import BotError, ErrorCode

log = logging.getLogger("bot.connectors.binance")

T = TypeVar("T")
Handler = Callable[[Any], Awaitable[Sequence[T]]]


class ReconnectPolicy:
    """Per-stream exponential reconnect backoff with jitter, reset by a connection that stayed up."""

    def __init__(self, config: BinanceConfig, rng: random.Random, monotonic_s: Callable[[], float]) -> None:
        self._config = config
        self._rng = rng
        self._monotonic_s = monotonic_s
        self._failures: dict[str, int] = {}

    def delay_s(self, key: str) -> float:
        failures = self._failures.get(key, 0)
        if failures == 0:
            return 0.0
        cfg = self._config
        return min(cfg.backoff_max_s, cfg.backoff_base_s * 2.0 ** min(failures - 1, 30)) * (0.5 + self._rng.random())

    def failed(self, key: str) -> None:
        self._failures[key] = self._failures.get(key, 0) + 1

    def ended(self, key: str, connected_at_s: float) -> None:
        if self._monotonic_s() - connected_at_s >= self._config.ws_stable_s:
            self._failures.pop(key, None)
        else:
            self.failed(key)


class Inbox(Generic[T]):
    """An unbounded FIFO for one reader: what ``asyncio.Queue`` does for a stream's single consumer, without its
    bookkeeping (no size bound, no task counting, no ``get`` coroutine), with the same wake-up order: each
    ``put`` resolves the oldest pending ``waiter`` future, so the reader resumes in the loop iteration where a
    ``Queue.get`` would have. The reader takes from ``items`` and, while it is empty, awaits ``waiter()``."""

    __slots__ = ("_waiters", "items")

    def __init__(self) -> None:
        self.items: deque[T] = deque()  # oldest first; the reader pops from the left
        self._waiters: deque[asyncio.Future[None]] = deque()

    def __len__(self) -> int:
        return len(self.items)

    def put(self, item: T) -> None:
        self.items.append(item)
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # a reader cancelled while waiting left its future cancelled: skip it
                waiter.set_result(None)
                break

    def clear(self) -> int:
        """Drop every item; how many there were."""
        count = len(self.items)
        self.items.clear()
        return count

    def waiter(self) -> asyncio.Future[None]:
        """A future the next ``put`` resolves (after the waiters before it), for the reader to await while
        ``items`` is empty."""
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return waiter


class _End:
    __slots__ = ("error",)

    def __init__(self, error: BotError | None) -> None:
        self.error = error


class WsStream(Generic[T]):
    """One WebSocket connection read by a background task into a bounded queue of bot types (module docstring)."""

    def __init__(
        self,
        *,
        key: str,
        open_ws: Callable[[], Awaitable[WsConnection]],
        handle: Handler[T],
        config: BinanceConfig,
        policy: ReconnectPolicy,
        monotonic_s: Callable[[], float],
        on_end: Callable[[WsStream[Any]], None] = lambda _: None,
    ) -> None:
        self.key = key
        self._open_ws = open_ws
        self._handle = handle
        self._config = config
        self._policy = policy
        self._monotonic_s = monotonic_s
        self._on_end = on_end
        self._queue: Inbox[T | _End] = Inbox()
        self._ws: WsConnection | None = None
        self.shed = 0  # messages dropped because the reader fell ``stream_queue_max`` behind
        self._finished = False  # the consumer saw the end
        self.ready = asyncio.Event()  # connected, or failed to
        self.connected = False
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"ws:{key}")

    @property
    def closed(self) -> bool:
        return self._task.done()

    def queued(self) -> int:
        """Messages received and not yet taken by the consumer."""
        return len(self._queue)

    def __aiter__(self) -> WsStream[T]:
        return self

    async def __anext__(self) -> T:
        if self._finished:
            raise StopAsyncIteration
        items = self._queue.items
        while not items:  # this stream's one reader waits on the inbox directly (``Inbox.waiter``)
            await self._queue.waiter()
        item = items.popleft()
        if isinstance(item, _End):
            self._finished = True
            if item.error is not None:
                raise item.error
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """End the stream now: the connection is closed, undelivered messages are discarded."""
        self._finished = True
        if not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # -- the reader task --
    async def _run(self) -> None:
        error: BotError | None = None
        try:
            await self._connect()
            connected_at_s = self._monotonic_s()
            try:
                error = await self._read()
            finally:
                self._policy.ended(self.key, connected_at_s)
        except BotError as failure:
            error = failure
        finally:
            self.ready.set()
            if self._ws is not None:
                await asyncio.shield(self._ws.close())
            self._queue.put(_End(error))
            self._on_end(self)
            if error is not None:
                log.warning("stream %s ended: %s", self.key, error.message, extra={"code": error.code.value})

    async def _connect(self) -> None:
        cfg = self._config
        for attempt in range(1, cfg.ws_connect_attempts + 1):
            await asyncio.sleep(self._policy.delay_s(self.key))
            try:
                async with asyncio.timeout(cfg.ws_connect_timeout_s):
                    self._ws = await self._open_ws()
            except BotError as error:
                if not error.recoverable:
                    raise
                self._policy.failed(self.key)
                log.info("stream %s: connection attempt %d failed: %s", self.key, attempt, error.message)
            except (ConnectFailed, ConnectionLost, TimeoutError) as error:
                self._policy.failed(self.key)
                log.info("stream %s: connection attempt %d failed (%s)", self.key, attempt, type(error).__name__)
            else:
                self.connected = True
                self.ready.set()
                return
        raise BotError(ErrorCode.NETWORK, f"stream {self.key}: no connection after {cfg.ws_connect_attempts} tries")

    async def _read(self) -> BotError:
        """Read until the connection ends; return why it ended."""
        assert self._ws is not None
        limit = self._config.stream_queue_max
        while True:
            frame = await self._ws.receive()
            if frame.kind != "text":
                if frame.kind == "binary":
                    return BotError(ErrorCode.NETWORK, f"stream {self.key}: unexpected binary frame")
                return BotError(ErrorCode.NETWORK, f"stream {self.key}: connection closed by the venue")
            payload = frame.payload  # decoded by an in-process transport, else parse the text
            try:
                items = await self._handle(payload if payload is not NOT_DECODED else frame.json())
            except (ValueError, KeyError, TypeError):
                return BotError(ErrorCode.NETWORK, f"stream {self.key}: malformed frame", recoverable=True)
            except WireError as error:
                return BotError(ErrorCode.NETWORK, f"stream {self.key}: {error.message}", recoverable=True)
            except BotError as error:
                return error
            if len(self._queue.items) + len(items) > limit:
                self.shed += self._queue.clear() + len(items)  # stale market data is shed, the consumer resyncs
                return BotError(ErrorCode.NETWORK, f"stream {self.key}: reader fell {limit} messages behind")
            for item in items:
                self._queue.put(item)


def combined_stream_url(stream_url: str, names: Sequence[str]) -> str:
    """The combined-stream endpoint for ``names`` (messages wrapped as ``{"stream", "data"}``)."""
    return f"{stream_url}/stream?streams={'/'.join(names)}"


def unwrap_market(message: Any) -> Any | None:
    """The event of a market stream message (combined or raw), or None for a control reply."""
    if not isinstance(message, dict):
        raise WireError("stream message is not an object")
    if "data" in message and "stream" in message:
        return message["data"]
    if "result" in message and "id" in message:
        return None  # a SUBSCRIBE/UNSUBSCRIBE answer
    return message
