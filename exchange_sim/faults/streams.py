"""Feed faults in process: the delivery of ``frames``' verdicts to venue subscriptions, between venue and client.

The effects themselves (which message a fault hits and what becomes of it) are ``frames``' (shared with the wire
server); this module holds the in-process mechanics: a subscription's delay function, ``enqueue``, a closed
subscription, timers on the venue's virtual loop.

Delays (``feed_delay`` wraps a subscription's delay function, so order is kept): ``latency`` adds its delay,
``bandwidth`` queues messages behind each other at ``rate_kbps``, ``slicer`` adds one chunk delay per chunk.

Per message (the subscription's ``intercept``), first matching rule wins:

* ``partition`` (both/downstream) on the channel: the message is lost (a sequence gap, a missed report; the first
  loss per channel is logged as a ``fault_hit`` ``stream_lost``);
* ``truncated_frame``: the frame is cut, the message never arrives and the stream closes (``frame_truncated``);
* a stream being closed by ``slow_close`` / ``server_disconnect`` (``disconnect``) carries nothing more;
* ``stale_feed`` (depth and trades): withheld; on heal dropped (``on_heal=drop``: a gap) or flushed late;
* ``feed_gap`` (depth diffs only): dropped, duplicated, or held back and delivered after the next one;
* ``user_stream``: a report missed, duplicated, or delivered ``delay_ms`` late (after later reports), each logged
  (``report_missed`` / ``report_duplicated`` / ``report_late``, with the account);
* ``report_redelivered``: a report with a trade is delivered, then again with a made-up NEW trade id;
* otherwise delivered as usual.

``memory_pressure`` floods every open depth stream: once a second during the window, ``message_rate_per_s``
replays of the last depth update that stream carried arrive as one burst (stale data, as a backlog flushed
after a stall would be). The client's buffer is bounded, so a burst larger than it sheds the oldest messages;
the shed count goes into the fault's end record (``shed``). Order state (the user stream) is never flooded.

``reset_peer`` closes the target's subscriptions at its start (the reader's ``get`` raises
``ConnectionResetError``, a ``ConnectionError``); with ``reconnect=refuse`` new subscriptions are closed at once
until it heals. ``slow_close`` and ``server_disconnect`` close them too (at once, or after a silence: see the
catalogue). Every stream closed is logged (``stream_reset``, ``slow_close``, ``24h``, ``missed_pong``,
``server_shutdown``); other per-message effects only count as hits of their fault.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from exchange_sim.faults import frames
from exchange_sim.faults.frames import FramePipe, target_channel
from exchange_sim.faults.model import Fault
from exchange_sim.feeds import Subscription

if TYPE_CHECKING:
    from exchange_sim.faults.injector import FaultInjector

FLOOD_BURST_S = 1.0  # memory_pressure: one burst per stream per second


class _SubOutlet:
    """A venue subscription as a ``frames.Outlet``."""

    __slots__ = ("key", "loop", "sub")

    def __init__(self, sub: Subscription[Any], loop: Any) -> None:
        self.sub = sub
        self.key = id(sub)
        self.loop = loop

    def deliver(self, message: Any) -> None:
        self.sub.enqueue(message)

    def deliver_late(self, message: Any, delay_s: float) -> None:
        self.loop.call_at(self.loop.time() + delay_s, self.sub.enqueue, message)

    def with_trade_id(self, message: Any, trade_id: int) -> Any:
        return dataclasses.replace(message, trade=dataclasses.replace(message.trade, trade_id=trade_id))

    def trade_id(self, message: Any) -> int | None:
        trade = getattr(message, "trade", None)
        return None if trade is None else int(trade.trade_id)

    def who(self, message: Any) -> dict[str, Any]:
        return _account(message)


class StreamFaults:
    """The feed part of a ``FaultInjector``."""

    def __init__(self, injector: FaultInjector) -> None:
        self._inj = injector
        self._timing = injector.timing
        self.pipe = FramePipe(injector.timing)
        self._subs: list[tuple[str, str | None, Subscription[Any]]] = []
        self._last_depth: dict[int, Any] = {}  # id(sub) -> the last depth update it carried (memory_pressure)
        self._flooded: dict[int, dict[int, tuple[Subscription[Any], int]]] = {}  # fault -> id(sub) -> (sub, dropped)
        self._closing: set[int] = set()  # id(sub) of streams silenced until their (slow) close lands

    # -- delays --
    def feed_delay(self, channel: str, symbol: str | None, delay_s: Callable[[], float]) -> Callable[[], float]:
        return frames.link_delay(self._timing, channel, symbol, delay_s)

    # -- subscriptions --
    def on_subscribe(self, channel: str, symbol: str | None, sub: Subscription[Any]) -> None:
        self._subs = [entry for entry in self._subs if not entry[2].closed]
        live = {id(entry[2]) for entry in self._subs}  # a new stream may reuse a closed one's id: never its data
        self._last_depth = {key: message for key, message in self._last_depth.items() if key in live}
        self._subs.append((channel, symbol, sub))
        outlet = _SubOutlet(sub, self._inj.venue.runtime.loop)
        sub.intercept = lambda _s, message: self._intercept(channel, symbol, outlet, message)
        if frames.refused(self._timing, channel, symbol):
            _reset(sub)

    def reset(self, index: int, fault: Fault) -> None:
        """reset_peer starts: close every open subscription it targets."""
        for channel, symbol, sub in self._subs:
            if not sub.closed and fault.hits(target_channel(channel), symbol) and self._timing.toxic(index):
                self._timing.hit(index, "stream_reset", ch=channel)
                _reset(sub)
        self._subs = [entry for entry in self._subs if not entry[2].closed]

    def disconnect(self, index: int, fault: Fault) -> None:
        """slow_close / server_disconnect start: end every open stream the fault targets, at once (24h,
        missed_pong) or after a silence of ``close_s`` / ``grace_s`` (slow close, serverShutdown)."""
        effect, after_s = frames.ending(fault)
        loop = self._inj.venue.runtime.loop
        for channel, symbol, sub in self._subs:
            if sub.closed or id(sub) in self._closing or not fault.hits(target_channel(channel), symbol):
                continue
            if not self._timing.toxic(index):
                continue
            self._timing.hit(index, effect, ch=channel, after_s=after_s)
            if after_s <= 0:
                _reset(sub, f"{effect} (fault injection)")
                continue
            self._closing.add(id(sub))
            loop.call_at(loop.time() + after_s, self._close_late, sub, effect)

    def _close_late(self, sub: Subscription[Any], effect: str) -> None:
        self._closing.discard(id(sub))
        if not sub.closed:
            _reset(sub, f"{effect} (fault injection)")

    def heal(self, index: int, fault: Fault) -> None:
        """stale_feed / feed_gap heal: flush or drop withheld messages, release held-back ones."""
        self.pipe.heal(index, fault)

    def flood(self, index: int, fault: Fault) -> Generator[simpy.Event, Any, None]:
        """memory_pressure (module docstring): a burst per depth stream per second until the window ends."""
        inj = self._inj
        env = inj.venue.runtime.env
        burst = max(1, round(fault.num("message_rate_per_s") * FLOOD_BURST_S))
        flooded = self._flooded.setdefault(index, {})
        while env.now < fault.end_s:
            for channel, _symbol, sub in self._subs:
                last = self._last_depth.get(id(sub))
                if channel != "ws" or sub.closed or last is None or not inj.toxic(index):
                    continue
                inj.hit(index)
                flooded.setdefault(id(sub), (sub, sub.dropped))
                sub.enqueue_burst(last, burst)
            yield env.timeout(min(FLOOD_BURST_S, fault.end_s - env.now))

    def shed(self, index: int) -> int:
        """Messages the clients' bounded buffers dropped since fault ``index``'s flood first reached them."""
        return sum(sub.dropped - before for sub, before in self._flooded.pop(index, {}).values())

    # -- per message --
    def _intercept(self, channel: str, symbol: str | None, outlet: _SubOutlet, message: Any) -> None:
        if channel == "ws":
            self._last_depth[outlet.key] = message
        if self._closing and outlet.key in self._closing:
            return  # closing: the venue sends nothing more on this stream
        if frames.frame_cut(self._timing, channel, symbol, lambda: _account(message)):
            _reset(outlet.sub, "frame truncated: connection closed mid-frame (fault injection)")
            return
        self.pipe.push(outlet, channel, symbol, message)


def _account(message: Any) -> dict[str, Any]:
    """The ``a`` (account) and ``c`` (client order id) of a user-stream message, for its fault_hit record."""
    order = getattr(message, "order", None)
    if order is not None:
        return {"a": order.account, "c": order.client_order_id}
    account = getattr(message, "account", None)
    return {} if account is None else {"a": account}


def _reset(sub: Subscription[Any], why: str = "connection reset by peer (fault injection)") -> None:
    sub.error = ConnectionResetError(why)
    sub.close()
