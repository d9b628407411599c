"""Recorders: where the bot writes its own facts (intents, terminal states, fills, guards, book) for a checker.

The bot never imports the simulator: it writes through the ``bot.interfaces.Recorder`` Protocol
(``record(kind, fields)``). In a simulated session the recorder appends to the session's event log at the
virtual time (``harness.session``); live, ``NULL_RECORDER`` drops everything. Record kinds and fields follow the
checker's contract (``exchange_sim.checker.records.BOT_RECORDS``).

Invariant: recording never changes what the bot does (no I/O on the event loop, no awaits, no exceptions).
"""

from __future__ import annotations

from typing import Any


class NullRecorder:
    """Drops every record (live trading, unit tests)."""

    __slots__ = ()

    enabled = False

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        return None


NULL_RECORDER = NullRecorder()
