"""The risk engine: turns snapshots into the bot's current guard level, with latching, kill and history.

Lifecycle of the level::

    update(snapshot): raw = assess(snapshot); level = max(raw, latched HARD signals, kill, manual)
    with hard_latches: once any HARD signal is seen it is kept (latched) until reset()
    kill(reason):      HARD with KILL_SWITCH, always latched until reset()
    manual(level):     an operator floor (MANUAL) until manual(GuardLevel.OK); reset() keeps it
    reset():           drops the latches and the kill, then re-applies the last raw assessment
                       (so a guard that is still HARD leaves the engine HARD)

Bounded: the transition history keeps the newest ``history_max`` entries; the counter keys
``(level, reason, threshold_breached)`` come from finite enums and config field names. A counter counts
rising edges: a signal (reason, subject, level) that was not active in the previous assessment.
Implements ``bot.interfaces.RiskView``. Time comes from the injected clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from bot.interfaces import Clock
from bot.risk.config import RiskConfig
from bot.risk.guards import Assessment, GuardLevel, GuardReason, Guards, GuardSignal, RiskSnapshot

__all__ = ["CounterKey", "RiskEngine", "Transition"]

CounterKey = tuple[str, str, str]  # (level, reason, threshold_breached)
_Key = tuple[GuardReason, str]  # (reason, subject)


@dataclass(frozen=True, slots=True)
class Transition:
    """One change of level: monotonic time, log timestamp, from, to, and the reasons active after it."""

    at_s: float
    at_ms: int
    from_level: GuardLevel
    to_level: GuardLevel
    reasons: tuple[str, ...]


class RiskEngine:
    """Holds the current assessment; pure decisions come from ``assess``, this adds memory over time."""

    def __init__(self, config: RiskConfig, clock: Clock) -> None:
        self._config = config
        self._guards = Guards(config)
        self._clock = clock
        self._raw = Assessment(GuardLevel.OK)
        self._current = Assessment(GuardLevel.OK)
        self._level_name = self._current.level.name  # level() and reasons() of _current, read every quote cycle
        self._reason_values: tuple[str, ...] = ()
        self._latched: dict[_Key, GuardSignal] = {}
        self._kill: GuardSignal | None = None
        self._manual: GuardSignal | None = None
        self._history: deque[Transition] = deque(maxlen=config.history_max)
        self._counters: dict[CounterKey, int] = {}
        self._hard_since_s: float | None = None

    # --- RiskView ---------------------------------------------------------------------------------------------
    def level(self) -> str:
        """"OK", "SOFT" or "HARD"."""
        return self._level_name

    def reasons(self) -> list[str]:
        """Distinct reasons of the current assessment, e.g. ``["INVENTORY", "LATENCY"]``."""
        return list(self._reason_values)

    # --- state ------------------------------------------------------------------------------------------------
    @property
    def guard_level(self) -> GuardLevel:
        return self._current.level

    @property
    def assessment(self) -> Assessment:
        """The current assessment, including latched, kill and manual signals."""
        return self._current

    @property
    def latched(self) -> bool:
        """True while a HARD latch or the kill switch holds the engine HARD until ``reset()``."""
        return bool(self._latched) or self._kill is not None

    @property
    def history(self) -> tuple[Transition, ...]:
        return tuple(self._history)

    @property
    def counters(self) -> Mapping[CounterKey, int]:
        """Rising-edge counts per ``(level, reason, threshold_breached)`` (a copy)."""
        return dict(self._counters)

    @property
    def hard_since_s(self) -> float | None:
        """Monotonic time the engine entered HARD, or None when not HARD."""
        return self._hard_since_s

    def cancel_deadline_s(self) -> float | None:
        """When every open order must be cancelled by: ``hard_since_s + cancel_bound_s`` (None unless HARD)."""
        if self._hard_since_s is None:
            return None
        return self._hard_since_s + self._config.cancel_bound_s

    # --- inputs -----------------------------------------------------------------------------------------------
    def update(self, snapshot: RiskSnapshot) -> Assessment:
        """Assess ``snapshot`` and apply latching; returns the new current assessment."""
        self._raw = self._guards.assess(snapshot)
        return self._apply()

    def kill(self, reason: str) -> Assessment:
        """Go HARD with ``KILL_SWITCH`` (``reason`` kept as the signal's subject) until ``reset()``."""
        self._kill = GuardSignal(GuardReason.KILL_SWITCH, GuardLevel.HARD, 1.0, 1.0, reason)
        return self._apply()

    def manual(self, level: GuardLevel, note: str = "") -> Assessment:
        """Hold the level at least at ``level`` (MANUAL); ``GuardLevel.OK`` clears it."""
        self._manual = None if level is GuardLevel.OK else GuardSignal(GuardReason.MANUAL, level, 1.0, 1.0, note)
        return self._apply()

    def reset(self) -> Assessment:
        """Drop HARD latches and the kill switch, then re-apply the last raw assessment."""
        self._latched.clear()
        self._kill = None
        return self._apply()

    # --- internals --------------------------------------------------------------------------------------------
    def _apply(self) -> Assessment:
        raw = self._raw
        if raw.signals or self._latched or self._kill is not None or self._manual is not None:
            new = self._combine(raw)
        else:
            new = raw  # calm, nothing held: OK without signals (the common case)
        current = self._current
        if new.signals:
            self._count_rising_edges(current, new)
        if new.level != current.level:
            now_s = self._clock.monotonic_s()
            reasons = tuple(r.value for r in new.reasons)
            self._history.append(Transition(now_s, self._clock.now_ms(), current.level, new.level, reasons))
            self._hard_since_s = now_s if new.level is GuardLevel.HARD else None
            self._level_name = new.level.name
        self._current = new
        self._reason_values = tuple(r.value for r in new.reasons) if new.signals else ()
        return new

    def _combine(self, raw: Assessment) -> Assessment:
        """``raw`` with the latched HARD signals, the kill switch and the manual floor applied."""
        combined: dict[_Key, GuardSignal] = {(s.reason, s.subject): s for s in raw.signals}
        if self._config.hard_latches:
            for s in raw.signals:
                if s.level is GuardLevel.HARD:
                    self._latched[(s.reason, s.subject)] = s
            for key, s in self._latched.items():
                if key not in combined or combined[key].level < GuardLevel.HARD:
                    combined[key] = s
        for extra in (self._kill, self._manual):
            if extra is not None:
                combined[(extra.reason, extra.subject)] = extra
        return Assessment.of(tuple(combined.values()))

    def _count_rising_edges(self, old: Assessment, new: Assessment) -> None:
        before = {(s.reason, s.subject, s.level) for s in old.signals}
        for s in new.signals:
            if (s.reason, s.subject, s.level) not in before:
                key = (s.level.name, s.reason.value, s.threshold_breached)
                self._counters[key] = self._counters.get(key, 0) + 1
