"""Feed messages of the simulated venue and the subscription that delivers them late but in order.

A ``Subscription`` is one stream to one client (like one WebSocket). Messages are delivered after a seeded
delay, strictly in the order they were published (a later message never overtakes an earlier one, as on a
TCP stream): delivery time = max(publish time + delay, previous delivery time), and a single timer per
subscription moves due messages into the client's queue, so equal-time asyncio timers cannot reorder them.

The client-side buffer is bounded (``maxsize``): when the client falls behind, the oldest undelivered
market-data messages are dropped and counted in ``dropped`` (the sequence ids let the client see the gap and
resync). Subscriptions that carry order state (``lossless=True``) never drop: on overflow the stream is
closed and the reader's next ``get()`` raises ``SubscriptionOverflow`` (as Binance disconnects a slow
consumer), because silently losing an execution report is a correctness bug; the client must reconnect and
reconcile over REST.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import repeat
from typing import Generic, TypeVar

from exchange_sim.engine.types import AccountId, ExecType, Order, Trade

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DepthSnapshot:
    symbol: str
    last_update_id: int
    bids: tuple[tuple[int, int], ...]  # (price_ticks, qty_lots), best first
    asks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class DepthDiff:
    """Changed levels since the previous diff (qty 0 = level removed), Binance ``depthUpdate`` U..u."""

    symbol: str
    event_time_us: int
    first_update_id: int
    last_update_id: int
    bids: tuple[tuple[int, int], ...]
    asks: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """Binance ``executionReport``: the order after the change, and the trade for TRADE."""

    event_time_us: int
    order: Order
    exec_type: ExecType
    trade: Trade | None
    reason: str


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """Binance ``outboundAccountPosition`` for one asset."""

    event_time_us: int
    account: AccountId
    asset: str
    free_atoms: int
    locked_atoms: int


class SubscriptionOverflow(RuntimeError):
    """A lossless subscription's buffer is full: the client stopped reading its order stream."""


class Subscription(Generic[T]):
    """One delayed, ordered, bounded stream of messages to one client. Iterate it or ``await get()``."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        delay_s: Callable[[], float],
        *,
        maxsize: int = 10_000,
        lossless: bool = False,
        on_close: Callable[[Subscription[T]], None] | None = None,
    ) -> None:
        self._loop = loop
        self._delay_s = delay_s
        self._in_flight: deque[tuple[float, T]] = deque()
        self._ready: deque[T] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_delivery = 0.0
        self._maxsize = maxsize
        self._lossless = lossless
        self._on_close = on_close
        self.closed = False
        self.error: BaseException | None = None
        self.dropped = 0
        self.delivered = 0
        # a fault injector may take over publishing (drop, duplicate, delay); it calls ``enqueue`` itself
        self.intercept: Callable[[Subscription[T], T], None] | None = None

    def publish(self, message: T) -> None:
        """Send ``message``; it reaches the client after the connection's delay, in publish order."""
        if self.intercept is None:
            self.enqueue(message)  # does nothing once closed
        elif not self.closed:
            self.intercept(self, message)

    def enqueue(self, message: T) -> None:
        """Send ``message`` past any interceptor (what ``publish`` does when no fault injector is installed)."""
        if self.closed:
            return
        loop = self._loop
        when = max(loop.time() + self._delay_s(), self._last_delivery)
        self._last_delivery = when
        self._in_flight.append((when, message))
        if self._timer is None:
            self._timer = loop.call_at(when, self._deliver_due)

    def enqueue_burst(self, message: T, count: int) -> None:
        """Send ``count`` copies of ``message`` that arrive together (a flood; ``enqueue`` semantics otherwise)."""
        if self.closed or count <= 0:
            return
        now = self._loop.time()
        when = max(now + self._delay_s(), self._last_delivery)
        self._last_delivery = when
        self._in_flight.extend(repeat((when, message), count))
        if self._timer is None:
            self._timer = self._loop.call_at(when, self._deliver_due)

    def _deliver_due(self) -> None:
        self._timer = None
        loop = self._loop
        now = loop.time()
        in_flight = self._in_flight
        ready = self._ready
        while in_flight and in_flight[0][0] <= now:
            message = in_flight.popleft()[1]
            if len(ready) >= self._maxsize and not self._make_room():
                return
            ready.append(message)
            self.delivered += 1
        if in_flight:
            self._timer = loop.call_at(in_flight[0][0], self._deliver_due)
        waiter = self._waiter
        if waiter is not None and ready and not waiter.done():
            waiter.set_result(None)

    def _make_room(self) -> bool:
        """The client's buffer is full: drop its oldest message, or close a lossless stream (False)."""
        if self._lossless:
            self.error = SubscriptionOverflow(f"subscription buffer full ({self._maxsize} messages)")
            self.close()
            return False
        self._ready.popleft()
        self.dropped += 1
        return True

    def get_nowait(self) -> T | None:
        """The next delivered message, or None if none has arrived yet."""
        return self._ready.popleft() if self._ready else None

    def pending(self) -> int:
        """Messages delivered and not yet read."""
        return len(self._ready)

    def queued(self) -> int:
        """Messages held: in flight (not yet delivered) plus delivered and not yet read."""
        return len(self._in_flight) + len(self._ready)

    async def get(self) -> T:
        """Wait for the next message. Raises ``ConnectionError`` once the subscription is closed (its
        ``SubscriptionOverflow`` if it was closed for overflowing)."""
        while not self._ready:
            if self.error is not None:
                raise self.error
            if self.closed:
                raise ConnectionError("subscription closed")
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._ready.popleft()

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.get()
        except ConnectionError:
            raise StopAsyncIteration from None

    def close(self) -> None:
        """Stop the stream: undelivered messages are discarded and readers are woken."""
        if self.closed:
            return
        self.closed = True
        self._in_flight.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        if self._on_close is not None:
            self._on_close(self)
