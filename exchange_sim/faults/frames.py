"""Stream-path fault effects, written once: what each active fault does to one feed message or one stream.

Both transports use these and only deliver the verdict their own way through an ``Outlet`` (the in-process
``streams.StreamFaults``: a venue ``Subscription``; the wire server's ``FeedGate``: the sockets of one feed).

* ``link_delay`` - the delay of one message on a link: the connection's own, plus every active ``latency`` draw,
  plus ``(ceil(message_bytes / average_size_bytes) - 1) * delay_us`` per ``slicer``, then queued behind the
  previous message at ``message_bytes * 8 / (rate_kbps * 1000)`` s per message for each ``bandwidth`` fault;
* ``frame_cut`` - ``truncated_frame``: the frame is cut and the stream closes (``frame_truncated``);
* ``FramePipe.push`` - per message, first matching rule wins: ``partition`` (both/downstream: lost; the first
  loss per fault and channel is logged ``stream_lost``), ``stale_feed`` (depth and trades: withheld, dropped or
  flushed at heal), ``feed_gap`` (depth diffs: dropped, duplicated, or held back until the next one),
  ``user_stream`` (a report missed, duplicated or ``delay_ms`` late: ``report_<mode>``), ``report_redelivered``
  (a report with a trade, then a copy under a NEW trade id); otherwise delivered;
* ``FramePipe.heal`` - a stale feed's withheld messages flushed (``on_heal=flush``) or dropped; held-back depth
  diffs released;
* ``ending`` / ``refused`` - ``reset_peer``, ``slow_close``, ``server_disconnect``: how a targeted stream ends
  (its effect name and the silence before the close); ``reset_peer`` with ``reconnect=refuse`` refuses new ones.

Channels: ``ws`` (depth diffs), ``trades`` (public trades; a fault's target ``ws`` covers them) and ``user``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from exchange_sim.faults.effects import latency_ms
from exchange_sim.faults.model import Fault, FaultKind
from exchange_sim.faults.timing import FaultTiming

MAX_WITHHELD = 100_000  # bound on messages a stale feed keeps for a late flush (older ones are dropped)
REDELIVERED_TRADE_ID_BASE = 10**15  # report_redelivered: made-up trade ids start above any real one
STREAM_ENDS = frozenset({FaultKind.RESET_PEER, FaultKind.SLOW_CLOSE, FaultKind.SERVER_DISCONNECT})


def target_channel(channel: str) -> str:
    """The fault target channel a stream channel falls under (``trades`` is a market stream: ``ws``)."""
    return "user" if channel == "user" else "ws"


class Outlet(Protocol):
    """How a transport delivers a verdict on one stream (one subscription, or one feed's sockets)."""

    @property
    def key(self) -> Hashable: ...  # identity of the stream (held-back messages are kept per stream)

    def deliver(self, message: Any) -> None: ...  # in order, after the link's delay

    def deliver_late(self, message: Any, delay_s: float) -> None: ...  # out of order, ``delay_s`` from now

    def with_trade_id(self, message: Any, trade_id: int) -> Any: ...  # a copy carrying another trade id

    def trade_id(self, message: Any) -> int | None: ...  # the report's trade id (None: no trade in it)

    def who(self, message: Any) -> dict[str, Any]: ...  # ``a``/``c`` of a user message for its hit record


def link_delay(timing: FaultTiming, channel: str, symbol: str | None,
               base_s: Callable[[], float]) -> Callable[[], float]:
    """The delay function of one link (module docstring); each link has its own bandwidth queue."""
    target = target_channel(channel)
    link_free_at = [0.0]

    def delay() -> float:
        base = base_s()
        now = timing.now_s()
        extra_ms = 0.0
        for index, fault in timing.active(FaultKind.LATENCY, target, symbol):
            extra_ms += latency_ms(fault, timing.rng(index))
        for _, fault in timing.active(FaultKind.SLICER, target, symbol):
            chunks = math.ceil(fault.num("message_bytes") / fault.num("average_size_bytes"))
            extra_ms += (chunks - 1) * fault.num("delay_us") / 1000.0
        arrival = now + base + extra_ms / 1000.0
        for index, fault in timing.active(FaultKind.BANDWIDTH, target, symbol):
            service_s = fault.num("message_bytes") * 8 / (fault.num("rate_kbps") * 1000.0)
            start = max(arrival, link_free_at[0])
            if start > arrival:
                timing.hit(index)
            link_free_at[0] = arrival = start + service_s
        return arrival - now

    return delay


def frame_cut(timing: FaultTiming, channel: str, symbol: str | None, who: Callable[[], dict[str, Any]]) -> bool:
    """Whether a truncated_frame fault cuts this frame (logged ``frame_truncated``): the stream must close."""
    for index, _ in timing.active(FaultKind.TRUNCATED_FRAME, target_channel(channel), symbol):
        if timing.toxic(index):
            timing.hit(index, "frame_truncated", ch=channel, **who())
            return True
    return False


def ending(fault: Fault) -> tuple[str, float]:
    """How a stream-ending fault ends a stream: its effect name and the silence before the close (0: at once)."""
    if fault.kind is FaultKind.RESET_PEER:
        return "stream_reset", 0.0
    if fault.kind is FaultKind.SLOW_CLOSE:
        return "slow_close", fault.num("close_s")
    reason = fault.text("reason")
    return reason, fault.num("grace_s") if reason == "server_shutdown" else 0.0


def refused(timing: FaultTiming, channel: str, symbol: str | None) -> bool:
    """Whether a new stream on ``channel`` is refused (reset_peer, reconnect=refuse), logged
    ``reconnect_refused``."""
    for index, fault in timing.active(FaultKind.RESET_PEER, target_channel(channel), symbol):
        if fault.text("reconnect") == "refuse":
            timing.hit(index, "reconnect_refused", ch=channel)
            return True
    return False


class FramePipe:
    """The per-message stream faults of one scenario, over every stream of a transport (module docstring)."""

    def __init__(self, timing: FaultTiming) -> None:
        self._timing = timing
        self._withheld: dict[int, list[tuple[Outlet, Any]]] = {}
        self._held_back: dict[Hashable, tuple[Outlet, Any]] = {}
        self._logged: set[tuple[int, str]] = set()  # (fault, channel) whose first loss was logged
        self.redelivered = 0  # report_redelivered: how many fresh trade ids were made up

    def push(self, outlet: Outlet, channel: str, symbol: str | None, message: Any) -> None:
        """One message published on ``outlet``'s stream: apply the first matching per-message fault."""
        timing = self._timing
        target = target_channel(channel)
        for index, fault in timing.active(FaultKind.PARTITION, target, symbol):
            if fault.text("direction") in ("both", "downstream") and timing.toxic(index):
                self._hit_once(index, "stream_lost", channel, outlet, message)
                return
        if target == "ws":
            for index, _ in timing.active(FaultKind.STALE_FEED, target, symbol):
                timing.hit(index)
                withheld = self._withheld.setdefault(index, [])
                if len(withheld) < MAX_WITHHELD:
                    withheld.append((outlet, message))
                return
        if channel == "ws":
            for index, fault in timing.active(FaultKind.FEED_GAP, target, symbol):
                if timing.toxic(index):
                    self._depth_fault(index, fault, outlet, message)
                    return
        if channel == "user":
            for index, fault in timing.active(FaultKind.USER_STREAM, target, symbol):
                if timing.toxic(index):
                    self._user_fault(index, fault, outlet, message)
                    return
            trade_id = outlet.trade_id(message)
            if trade_id is not None:
                for index, _ in timing.active(FaultKind.REPORT_REDELIVERED, target, symbol):
                    if timing.toxic(index):
                        self._redeliver(index, outlet, message, trade_id)
                        return
        self.deliver(outlet, message)

    def deliver(self, outlet: Outlet, message: Any) -> None:
        """Deliver ``message``, then the depth diff held back on that stream (a reorder), if any."""
        outlet.deliver(message)
        held = self._held_back.pop(outlet.key, None)
        if held is not None:
            held[0].deliver(held[1])

    def heal(self, index: int, fault: Fault) -> None:
        """stale_feed / feed_gap heal: flush or drop withheld messages, release held-back ones."""
        for outlet, message in self._withheld.pop(index, ()):
            if fault.kind is FaultKind.STALE_FEED and fault.text("on_heal") == "flush":
                outlet.deliver(message)
        if fault.kind is FaultKind.FEED_GAP:
            for key, (outlet, message) in list(self._held_back.items()):
                del self._held_back[key]
                outlet.deliver(message)

    def _hit_once(self, index: int, effect: str, channel: str, outlet: Outlet, message: Any) -> None:
        """Count a per-message hit; log a ``fault_hit`` only for the first one per fault and channel."""
        key = (index, channel)
        if key in self._logged:
            self._timing.hit(index)
            return
        self._logged.add(key)
        self._timing.hit(index, effect, ch=channel, **outlet.who(message))

    def _depth_fault(self, index: int, fault: Fault, outlet: Outlet, message: Any) -> None:
        timing = self._timing
        mode = fault.text("mode")
        if mode == "mixed":
            mode = timing.rng(index).choice(("drop", "duplicate", "reorder"))
        timing.hit(index)
        if mode == "drop":
            return
        if mode == "duplicate":
            self.deliver(outlet, message)
            outlet.deliver(message)
            return
        if outlet.key in self._held_back:  # already holding one back: deliver this one, then the held one
            self.deliver(outlet, message)
            return
        self._held_back[outlet.key] = (outlet, message)

    def _user_fault(self, index: int, fault: Fault, outlet: Outlet, message: Any) -> None:
        timing = self._timing
        mode = fault.text("mode")
        if mode == "mixed":
            mode = timing.rng(index).choice(("missed", "duplicated", "late"))
        timing.hit(index, f"report_{mode}", **outlet.who(message))
        if mode == "missed":
            return
        if mode == "duplicated":
            outlet.deliver(message)
            outlet.deliver(message)
            return
        outlet.deliver_late(message, fault.num("delay_ms") / 1000.0)

    def _redeliver(self, index: int, outlet: Outlet, message: Any, trade_id: int) -> None:
        """report_redelivered: deliver the report, then a copy whose trade carries a trade id never used."""
        self.redelivered += 1
        new_id = REDELIVERED_TRADE_ID_BASE + self.redelivered
        copy = outlet.with_trade_id(message, new_id)
        self._timing.hit(index, "report_redelivered", tid=trade_id, new_tid=new_id, **outlet.who(message))
        self.deliver(outlet, message)
        outlet.deliver(copy)
