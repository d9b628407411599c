"""Feed faults: what happens to market-data and user-stream messages between the venue and the client.

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
import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import simpy

from exchange_sim.faults.model import Fault, FaultKind
from exchange_sim.faults.requests import latency_ms
from exchange_sim.feeds import Subscription

if TYPE_CHECKING:
    from exchange_sim.faults.injector import FaultInjector

MAX_WITHHELD = 100_000  # bound on messages a stale feed keeps for a late flush (older ones are dropped)
FLOOD_BURST_S = 1.0  # memory_pressure: one burst per stream per second
REDELIVERED_TRADE_ID_BASE = 10**15  # report_redelivered: made-up trade ids start above any real one


def _target_channel(channel: str) -> str:
    return "user" if channel == "user" else "ws"


class StreamFaults:
    """The feed part of a ``FaultInjector``."""

    def __init__(self, injector: FaultInjector) -> None:
        self._inj = injector
        self._subs: list[tuple[str, str | None, Subscription[Any]]] = []
        self._withheld: dict[int, list[tuple[Subscription[Any], Any]]] = {}
        self._held_back: dict[int, tuple[Subscription[Any], Any]] = {}  # reorder: id(sub) -> message
        self._last_depth: dict[int, Any] = {}  # id(sub) -> the last depth update it carried (memory_pressure)
        self._flooded: dict[int, dict[int, tuple[Subscription[Any], int]]] = {}  # fault -> id(sub) -> (sub, dropped)
        self._closing: set[int] = set()  # id(sub) of streams silenced until their (slow) close lands
        self._redelivered = 0  # report_redelivered: how many fresh trade ids were made up
        self._logged: set[tuple[int, str]] = set()  # (fault, channel) whose first per-message hit was logged

    # -- delays --
    def feed_delay(self, channel: str, symbol: str | None, delay_s: Callable[[], float]) -> Callable[[], float]:
        inj = self._inj
        target = _target_channel(channel)
        link_free_at = [0.0]

        def delay() -> float:
            base = delay_s()
            now = inj.now_s()
            extra_ms = 0.0
            for index, fault in inj.active(FaultKind.LATENCY, target, symbol):
                extra_ms += latency_ms(fault, inj.rng(index))
            for _, fault in inj.active(FaultKind.SLICER, target, symbol):
                chunks = math.ceil(fault.num("message_bytes") / fault.num("average_size_bytes"))
                extra_ms += (chunks - 1) * fault.num("delay_us") / 1000.0
            arrival = now + base + extra_ms / 1000.0
            for index, fault in inj.active(FaultKind.BANDWIDTH, target, symbol):
                service_s = fault.num("message_bytes") * 8 / (fault.num("rate_kbps") * 1000.0)
                start = max(arrival, link_free_at[0])
                if start > arrival:
                    inj.hit(index)
                link_free_at[0] = arrival = start + service_s
            return arrival - now

        return delay

    # -- subscriptions --
    def on_subscribe(self, channel: str, symbol: str | None, sub: Subscription[Any]) -> None:
        self._subs = [entry for entry in self._subs if not entry[2].closed]
        live = {id(entry[2]) for entry in self._subs}  # a new stream may reuse a closed one's id: never its data
        self._last_depth = {key: message for key, message in self._last_depth.items() if key in live}
        self._subs.append((channel, symbol, sub))
        sub.intercept = lambda s, message: self._intercept(channel, symbol, s, message)
        for index, fault in self._inj.active(FaultKind.RESET_PEER, _target_channel(channel), symbol):
            if fault.text("reconnect") == "refuse":
                self._inj.hit(index, "reconnect_refused", ch=channel)
                _reset(sub)
                return

    def reset(self, index: int, fault: Fault) -> None:
        """reset_peer starts: close every open subscription it targets."""
        for channel, symbol, sub in self._subs:
            if not sub.closed and fault.hits(_target_channel(channel), symbol) and self._inj.toxic(index):
                self._inj.hit(index, "stream_reset", ch=channel)
                _reset(sub)
        self._subs = [entry for entry in self._subs if not entry[2].closed]

    def disconnect(self, index: int, fault: Fault) -> None:
        """slow_close / server_disconnect start: end every open stream the fault targets, at once (24h,
        missed_pong) or after a silence of ``close_s`` / ``grace_s`` (slow close, serverShutdown)."""
        if fault.kind is FaultKind.SLOW_CLOSE:
            effect, after_s = "slow_close", fault.num("close_s")
        else:
            effect = fault.text("reason")
            after_s = fault.num("grace_s") if effect == "server_shutdown" else 0.0
        loop = self._inj.venue.runtime.loop
        for channel, symbol, sub in self._subs:
            if sub.closed or id(sub) in self._closing or not fault.hits(_target_channel(channel), symbol):
                continue
            if not self._inj.toxic(index):
                continue
            self._inj.hit(index, effect, ch=channel, after_s=after_s)
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
        for sub, message in self._withheld.pop(index, ()):
            if fault.kind is FaultKind.STALE_FEED and fault.text("on_heal") == "flush":
                sub.enqueue(message)
        if fault.kind is FaultKind.FEED_GAP:
            for key, (sub, message) in list(self._held_back.items()):
                del self._held_back[key]
                sub.enqueue(message)

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
    def _intercept(self, channel: str, symbol: str | None, sub: Subscription[Any], message: Any) -> None:
        inj = self._inj
        target = _target_channel(channel)
        if channel == "ws":
            self._last_depth[id(sub)] = message
        if self._closing and id(sub) in self._closing:
            return  # closing: the venue sends nothing more on this stream
        for index, _ in inj.active(FaultKind.TRUNCATED_FRAME, target, symbol):
            if inj.toxic(index):
                inj.hit(index, "frame_truncated", ch=channel, **_account(message))
                _reset(sub, "frame truncated: connection closed mid-frame (fault injection)")
                return
        for index, fault in inj.active(FaultKind.PARTITION, target, symbol):
            if fault.text("direction") in ("both", "downstream") and inj.toxic(index):
                self._hit_once(index, "stream_lost", channel, message)
                return
        if target == "ws":
            for index, _ in inj.active(FaultKind.STALE_FEED, target, symbol):
                inj.hit(index)
                withheld = self._withheld.setdefault(index, [])
                if len(withheld) < MAX_WITHHELD:
                    withheld.append((sub, message))
                return
        if channel == "ws":
            for index, fault in inj.active(FaultKind.FEED_GAP, target, symbol):
                if inj.toxic(index):
                    self._depth_fault(index, fault, sub, message)
                    return
        if channel == "user":
            for index, fault in inj.active(FaultKind.USER_STREAM, target, symbol):
                if inj.toxic(index):
                    self._user_fault(index, fault, sub, message)
                    return
            if getattr(message, "trade", None) is not None:
                for index, _ in inj.active(FaultKind.REPORT_REDELIVERED, target, symbol):
                    if inj.toxic(index):
                        self._redeliver(index, sub, message)
                        return
        self._deliver(sub, message)

    def _hit_once(self, index: int, effect: str, channel: str, message: Any) -> None:
        """Count a per-message hit; log a ``fault_hit`` only for the first one per fault and channel (a stream
        carries many messages; the end record has the count)."""
        key = (index, channel)
        if key in self._logged:
            self._inj.hit(index)
            return
        self._logged.add(key)
        self._inj.hit(index, effect, ch=channel, **_account(message))

    def _deliver(self, sub: Subscription[Any], message: Any) -> None:
        sub.enqueue(message)
        held = self._held_back.pop(id(sub), None)
        if held is not None:
            held[0].enqueue(held[1])

    def _depth_fault(self, index: int, fault: Fault, sub: Subscription[Any], message: Any) -> None:
        inj = self._inj
        mode = fault.text("mode")
        if mode == "mixed":
            mode = inj.rng(index).choice(("drop", "duplicate", "reorder"))
        inj.hit(index)
        if mode == "drop":
            return
        if mode == "duplicate":
            self._deliver(sub, message)
            sub.enqueue(message)
            return
        if id(sub) in self._held_back:  # already holding one back: deliver this one, then the held one
            self._deliver(sub, message)
            return
        self._held_back[id(sub)] = (sub, message)

    def _user_fault(self, index: int, fault: Fault, sub: Subscription[Any], message: Any) -> None:
        inj = self._inj
        mode = fault.text("mode")
        if mode == "mixed":
            mode = inj.rng(index).choice(("missed", "duplicated", "late"))
        inj.hit(index, f"report_{mode}", **_account(message))
        if mode == "missed":
            return
        if mode == "duplicated":
            sub.enqueue(message)
            sub.enqueue(message)
            return
        loop = inj.venue.runtime.loop
        loop.call_at(loop.time() + fault.num("delay_ms") / 1000.0, sub.enqueue, message)


    def _redeliver(self, index: int, sub: Subscription[Any], message: Any) -> None:
        """report_redelivered: deliver the report, then a copy whose trade carries a trade id never used."""
        self._redelivered += 1
        trade = dataclasses.replace(message.trade, trade_id=REDELIVERED_TRADE_ID_BASE + self._redelivered)
        copy = dataclasses.replace(message, trade=trade)
        self._inj.hit(index, "report_redelivered", tid=message.trade.trade_id, new_tid=trade.trade_id,
                      **_account(message))
        self._deliver(sub, message)
        sub.enqueue(copy)


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
