"""FeedGate: one wire-server feed as a ``frames.Outlet`` - the delivery of the shared stream-fault verdicts.

One gate per market stream (channel ``ws`` for depth diffs, ``trades`` for the other market streams, one symbol)
or user-data subscription (channel ``user``) passes each message through ``ServerFaults.pipe``
(``exchange_sim.faults.frames.FramePipe``: the same per-message effects as in process) and delivers what it lets
through to ``emit`` (the feed's sockets), in order, after the link's delay (``frames.link_delay``: latency, slicer,
bandwidth), or ``delay_s`` late for a late user report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exchange_sim.faults import frames

if TYPE_CHECKING:
    from exchange_sim.server.faults import ServerFaults


class FeedGate:
    """Stream faults of one feed (``channel`` "ws" or "user", one symbol or None) between producer and sockets.

    ``push(message)`` forwards to ``emit`` zero, one or two times, now or later; ordering is kept except where a
    fault reorders on purpose. ``depth`` marks a depth-diff feed (``feed_gap`` acts on those only).
    """

    def __init__(self, faults: ServerFaults, channel: str, symbol: str | None, emit: Callable[[Any], None],
                 *, depth: bool = False) -> None:
        self.faults = faults
        self.channel = "user" if channel == "user" else ("ws" if depth else "trades")
        self.symbol = symbol
        self.emit = emit
        self._delay = frames.link_delay(faults.timing, self.channel, symbol, lambda: 0.0)
        self._last_due = 0.0

    @property
    def key(self) -> int:
        return id(self)

    def push(self, message: Any) -> None:
        if not self.faults.scenario:
            self.emit(message)
            return
        self.faults.pipe.push(self, self.channel, self.symbol, message)

    # -- frames.Outlet --
    def deliver(self, message: Any) -> None:
        delay_s = self._delay()
        if delay_s <= 0 and self._last_due <= 0:
            self.emit(message)
            return
        loop = asyncio.get_running_loop()
        due = max(loop.time() + delay_s, self._last_due)
        self._last_due = due
        loop.call_at(due, self.emit, message)

    def deliver_late(self, message: Any, delay_s: float) -> None:
        asyncio.get_running_loop().call_later(delay_s, self.emit, message)

    def with_trade_id(self, message: Any, trade_id: int) -> Any:
        return {**message, "t": trade_id}

    def trade_id(self, message: Any) -> int | None:
        if isinstance(message, dict) and message.get("e") == "executionReport" and message.get("x") == "TRADE":
            return int(message["t"])
        return None

    def who(self, message: Any) -> dict[str, Any]:
        return {"c": message["c"]} if isinstance(message, dict) and "c" in message else {}
