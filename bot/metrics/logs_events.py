"""Operator events of a run: guard changes, quote pulls, venue partitions and a periodic status line.

What an operator reads in a terminal or a CI log while ``mmbot run`` trades, one event per line, each stamped
with an ISO-8601 UTC time (``2026-12-07T19:49:17.123Z``, never epoch milliseconds) read from the injected
clock: the loop's clock offset to the epoch live, the virtual clock in a simulation (no wall-clock read here).

Events (``RunEvents``):

* ``guard``: the guard level changed (SOFT or HARD set, cleared, or changed), with ``level``, ``previous``,
  ``action`` (``set`` when the level rose, ``cleared`` when it fell, ``changed`` when only the latch or the
  reasons moved), ``reason``, ``latch`` and ``recoverable``. Fed by ``GuardTap``, a ``Recorder`` that passes
  every record on and hands the bot's ``bot.guard`` records (written on every change of level or latch by
  ``bot.app``) to ``RunEvents.guard``;
* ``quote_pull``: a symbol's quotes were pulled (bad market data), ``symbol``, ``reason``, ``count`` (pulls
  since the previous poll); fed by polling the quoters' pull counters (``RunEvents.pulls``);
* ``partition``: the venue became ``unreachable`` or ``reachable`` again (``state``; ``down_s`` on recovery),
  fed by polling the venue's health (``RunEvents.venue``: requests answered and books in sync), from the first
  time it was seen up; a blackhole shows once a request times out (``execution.request_timeout_s``);
* ``status``: every ``status_every_s``, per symbol: position (base units), net PnL (quote), open orders and
  guard state (``RunEvents.status``).

``EventWriter`` renders each event either as one JSON object (``{"ts": ..., "event": ..., ...fields}``, keys in
a fixed order) or as one plain line (``<ts> <event> key=value ...``) with no colour, cursor motion or width
limit, so it reads the same in a terminal and in a CI log. Invariant: emitting never raises into the bot (a
failed write is dropped) and keeps no history beyond the last observed state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TextIO

from bot.interfaces import Recorder

__all__ = ["EventWriter", "GuardTap", "RunEvents", "SymbolStatus", "iso_utc"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LEVELS = {"OK": 0, "SOFT": 1, "HARD": 2}


def iso_utc(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC with milliseconds: ``1700000000123 -> 2023-11-14T22:13:20.123Z``
    (integer arithmetic: no float rounding)."""
    stamp = _EPOCH + timedelta(milliseconds=ms)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolStatus:
    """One symbol's line of the status event."""

    symbol: str
    position_base: Decimal
    pnl_quote: float
    open_orders: int
    guard: str  # the level, with this symbol's guard reasons if any: "SOFT(INVENTORY)"

    def fields(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "position_base": f"{self.position_base:f}",  # 10, never 1E+1
                "pnl_quote": round(self.pnl_quote, 4), "open_orders": self.open_orders, "guard": self.guard}


class EventWriter:
    """Writes events to ``stream``: JSON lines when ``json_lines``, else plain ``key=value`` lines."""

    def __init__(self, stream: TextIO, *, json_lines: bool) -> None:
        self.stream = stream
        self.json_lines = json_lines

    def render(self, ts_ms: int, event: str, fields: Mapping[str, Any]) -> str:
        """One line (no newline) for the event."""
        if self.json_lines:
            return json.dumps({"ts": iso_utc(ts_ms), "event": event, **fields}, ensure_ascii=False, default=str)
        parts = [iso_utc(ts_ms), event]
        for key, value in fields.items():
            if key == "symbols" and isinstance(value, list):
                parts.extend(" ".join(_plain(k, v) for k, v in row.items()) + " |" for row in value)
                continue
            parts.append(_plain(key, value))
        return " ".join(parts).rstrip(" |")

    def write(self, ts_ms: int, event: str, fields: Mapping[str, Any]) -> None:
        try:
            self.stream.write(self.render(ts_ms, event, fields) + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stream must not stop the bot
            return


def _plain(key: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if text == "" or any(c.isspace() for c in text):
        text = json.dumps(text, ensure_ascii=False)
    return f"{key}={text}"


class RunEvents:
    """Turns observations of a running bot into events (module docstring); remembers only the last state."""

    def __init__(self, clock_ms: Callable[[], int], writer: EventWriter) -> None:
        self._clock_ms = clock_ms
        self.writer = writer
        self._level = "OK"
        self._pulls: dict[str, dict[str, int]] = {}
        self._venue_up: bool | None = None  # unknown until the venue is first seen up (start-up is no partition)
        self._down_since_ms = 0
        self.emitted = 0

    def emit(self, event: str, fields: Mapping[str, Any]) -> None:
        self.emitted += 1
        self.writer.write(self._clock_ms(), event, fields)

    def guard(self, record: Mapping[str, Any]) -> None:
        """A ``bot.guard`` record: ``{"level", "reason", "latch", "recoverable"}``."""
        level = str(record.get("level", "OK"))
        previous, self._level = self._level, level
        rise = _LEVELS.get(level, 0) - _LEVELS.get(previous, 0)
        action = "set" if rise > 0 else "cleared" if rise < 0 else "changed"
        self.emit("guard", {"action": action, "level": level, "previous": previous,
                            "reason": record.get("reason", ""), "latch": record.get("latch", ""),
                            "recoverable": record.get("recoverable", True)})

    def pulls(self, symbol: str, counts: Mapping[str, int]) -> None:
        """The symbol's cumulative pull counters by reason; one event per reason that grew since the last poll."""
        seen = self._pulls.setdefault(symbol, {})
        for reason, count in sorted(counts.items()):
            grew = count - seen.get(reason, 0)
            if grew > 0:
                self.emit("quote_pull", {"symbol": symbol, "reason": reason, "count": grew})
            seen[reason] = count

    def venue(self, up: bool, name: str) -> None:
        """The venue's health now; an event when it changed since the last poll, once it was first seen up (books
        that are not synced yet at start are not a partition)."""
        if up == self._venue_up or (self._venue_up is None and not up):
            return
        first, self._venue_up = self._venue_up is None, up
        if first:
            return
        now_ms = self._clock_ms()
        if not up:
            self._down_since_ms = now_ms
            self.emit("partition", {"venue": name, "state": "unreachable"})
        else:
            self.emit("partition", {"venue": name, "state": "reachable",
                                    "down_s": round((now_ms - self._down_since_ms) / 1000, 3)})

    def status(self, rows: list[SymbolStatus]) -> None:
        """The status line: every symbol's position, PnL, open orders and guard state."""
        self.emit("status", {"symbols": [row.fields() for row in rows]})


class GuardTap:
    """A ``Recorder`` that passes every record to ``inner`` and ``bot.guard`` records to ``on_guard`` too.

    ``enabled`` is the inner recorder's, so wrapping ``NULL_RECORDER`` makes the bot build no extra records
    (``bot.app`` writes ``bot.guard`` whether or not the recorder is enabled)."""

    def __init__(self, inner: Recorder, on_guard: Callable[[Mapping[str, Any]], None]) -> None:
        self.inner = inner
        self.enabled = inner.enabled
        self._on_guard = on_guard

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        self.inner.record(kind, fields)
        if kind == "bot.guard":
            self._on_guard(fields)
