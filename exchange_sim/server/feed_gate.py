"""FeedGate: the stream faults of the wire server on one feed, between the producer and the sockets.

One gate per market stream (channel ``ws``, one symbol) or user-data subscription (channel ``user``) passes each
encoded message through the active faults of ``ServerFaults`` (see its module docstring for what each kind does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchange_sim.faults.model import FaultKind
from exchange_sim.faults.streams import REDELIVERED_TRADE_ID_BASE

if TYPE_CHECKING:
    from exchange_sim.server.faults import ServerFaults


class FeedGate:
    """Stream faults of one feed (``channel`` "ws" or "user", one symbol or None) between producer and sockets.

    ``push(message)`` forwards to ``emit`` zero, one or two times, now or later; ordering is kept except where a
    fault reorders on purpose.
    """

    def __init__(self, faults: ServerFaults, channel: str, symbol: str | None, emit: Callable[[Any], None],
                 *, depth: bool = False) -> None:
        self.faults = faults
        self.channel = channel
        self.symbol = symbol
        self.emit = emit
        self.depth = depth
        self._withheld: list[Any] = []
        self._stale_mode = "drop"
        self._held_back: Any = None
        self._last_due = 0.0

    def push(self, message: Any) -> None:
        faults = self.faults
        active = faults.active(self.channel, self.symbol) if faults.scenario else []
        stale = [(i, f) for i, f in active if f.kind is FaultKind.STALE_FEED]
        if stale:
            self._stale_mode = stale[0][1].text("on_heal")
            faults.hits[stale[0][0]] += 1
            self._withheld.append(message)
            return
        if self._withheld:
            withheld, self._withheld = self._withheld, []
            if self._stale_mode == "flush":
                for old in withheld:
                    self._send(old, 0.0)
        delay = 0.0
        for index, fault in active:
            kind = fault.kind
            if kind is FaultKind.PARTITION and faults.strikes(index, fault):
                return
            if kind is FaultKind.LATENCY and faults.strikes(index, fault):
                delay += faults.delay_s(index, fault)
            if kind is FaultKind.FEED_GAP and self.depth and faults.strikes(index, fault):
                mode = fault.text("mode")
                if mode == "mixed":
                    mode = faults.rng(index).choice(("drop", "duplicate", "reorder"))
                if mode == "drop":
                    return
                if mode == "duplicate":
                    self._send(message, delay)
                elif mode == "reorder" and self._held_back is None:
                    self._held_back = message
                    return
            if kind is FaultKind.REPORT_REDELIVERED and _is_trade(message) and faults.strikes(index, fault):
                self._send(message, delay)  # then the same execution again, under a trade id never used
                faults.redelivered += 1
                again = {**message, "t": REDELIVERED_TRADE_ID_BASE + faults.redelivered}
                faults.record_hit(index, fault, "report_redelivered", c=message.get("c"), tid=message.get("t"),
                                  new_tid=again["t"])
                message = again
            if kind is FaultKind.USER_STREAM and self.channel == "user" and faults.strikes(index, fault):
                mode = fault.text("mode")
                if mode == "mixed":
                    mode = faults.rng(index).choice(("missed", "duplicated", "late"))
                if mode == "missed":
                    return
                if mode == "duplicated":
                    self._send(message, delay)
                else:
                    asyncio.get_running_loop().call_later(fault.num("delay_ms") / 1000.0, self.emit, message)
                    return
        self._send(message, delay)
        if self._held_back is not None:
            held, self._held_back = self._held_back, None
            self._send(held, delay)

    def _send(self, message: Any, delay_s: float) -> None:
        if delay_s <= 0 and self._last_due <= 0:
            self.emit(message)
            return
        loop = asyncio.get_running_loop()
        due = max(loop.time() + delay_s, self._last_due)
        self._last_due = due
        loop.call_at(due, self.emit, message)


def _is_trade(message: Any) -> bool:
    return isinstance(message, dict) and message.get("e") == "executionReport" and message.get("x") == "TRADE"
