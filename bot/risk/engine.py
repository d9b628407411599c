"""The risk engine: turns snapshots into the bot's current guard level, with latches, recovery, kill and history.

A HARD signal is either LATCHING or RECOVERABLE (``RiskConfig.latching_reasons``; ADR 0011)::

    latching:     the kill switch, an operator's HARD floor (MANUAL), and a HARD of a latching reason
                  (default: INVENTORY, DRAWDOWN): held until reset(), whatever the input does
    recoverable:  a HARD of any other reason (PNL_RATE, LATENCY, VENUE_HEALTH, STALE_DATA, CIRCUIT_OPEN): held until
                  its input has stayed below the SOFT threshold (no signal at all) for ``hard_recovery_s``
                  without a break (hysteresis: a value between soft and hard keeps it HARD)
    leaving HARD: whatever ends a HARD (a recovery, reset(), manual(OK)) leaves the engine HARD with a
                  RECONCILE signal until reconciled(epoch): the bot reads the venue before it quotes again

Lifecycle of the level::

    update(snapshot): raw = assess(snapshot); level = max(raw, latched, held, kill, manual, reconcile)
    kill(reason):      HARD with KILL_SWITCH until reset()     restore(text): a latch read back from a store
    manual(level):     an operator floor (MANUAL) until manual(GuardLevel.OK); reset() keeps it
    reset():           drops latches, held signals and the kill, then re-applies the last raw assessment
                       (so a guard that is still HARD leaves the engine HARD)

``latch`` names the latch in force ("" for none): "kill_switch", "operator", or the latching reason in lower
case ("inventory", "drawdown", "pnl_rate", ...). Bounded: the transition history keeps the newest
``history_max`` entries; held signals are keyed by (reason, symbol), both finite; the counter keys
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

__all__ = ["CounterKey", "RiskEngine", "Transition", "latch_kind"]

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


_LATCH_ORDER = ("kill_switch", "operator")  # the latch reported first when several hold at once


def latch_kind(text: str) -> str:
    """The latch kind a persisted latch text names: ``"inventory: INVENTORY[BTCUSDT] ..."`` -> ``"inventory"``;
    an older store's reason list (``"KILL_SWITCH"``, ``"DRAWDOWN,LATENCY"``) -> its first reason in lower case."""
    head = text.split(":", 1)[0].split(",", 1)[0].strip().lower()
    known = {*_LATCH_ORDER, *(r.lower() for r in GuardReason)}
    return head if head in known else "kill_switch"


class RiskEngine:
    """Holds the current assessment; pure decisions come from ``assess``, this adds memory over time."""

    def __init__(self, config: RiskConfig, clock: Clock) -> None:
        self._config = config
        self._guards = Guards(config)
        self._clock = clock
        self._latching = frozenset(GuardReason(r) for r in config.latching_reasons) if config.hard_latches \
            else frozenset()
        self._recovery_s = config.hard_recovery_s
        self._raw = Assessment(GuardLevel.OK)
        self._current = Assessment(GuardLevel.OK)
        self._level_name = self._current.level.name  # level() and reasons() of _current, read every quote cycle
        self._reason_values: tuple[str, ...] = ()
        self._latched: dict[_Key, GuardSignal] = {}
        self._held: dict[_Key, GuardSignal] = {}  # recoverable HARD signals not yet healthy for long enough
        self._healthy_since: dict[_Key, float] = {}  # held key -> since when its input is below SOFT
        self._kill: GuardSignal | None = None
        self._kill_kind = ""
        self._manual: GuardSignal | None = None
        self._reconcile: GuardSignal | None = None
        self._epoch = 0  # counts RECONCILE gates armed; reconciled(epoch) ignores an older one
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
        """The current assessment, including latched, held, kill, manual and reconcile signals."""
        return self._current

    @property
    def latched(self) -> bool:
        """True while a HARD latch or the kill switch holds the engine HARD until ``reset()``."""
        return bool(self._latched) or self._kill is not None

    @property
    def latch(self) -> str:
        """The latch in force, "" for none: "kill_switch", "operator" (a MANUAL HARD floor), or a latching
        reason in lower case ("inventory", "drawdown", or another reason the config makes latching)."""
        if self._kill is not None:
            return self._kill_kind
        if self._manual is not None and self._manual.level is GuardLevel.HARD:
            return "operator"
        return next((reason.value.lower() for reason, _ in self._latched), "")

    @property
    def recoverable(self) -> bool:
        """True when no latch holds the level: a HARD clears by itself (after health and a reconcile)."""
        return self.latch == ""

    @property
    def reconcile_due(self) -> int | None:
        """The epoch of the RECONCILE gate in force (pass it to ``reconciled``), None when there is none."""
        return self._epoch if self._reconcile is not None else None

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
        """Assess ``snapshot``, latch or hold its HARD signals, release the recovered ones; the new assessment."""
        self._raw = raw = self._guards.assess(snapshot)
        if raw.signals or self._held:
            self._track(raw, self._clock.monotonic_s())
        return self._apply()

    def kill(self, reason: str) -> Assessment:
        """Go HARD with ``KILL_SWITCH`` (``reason`` kept as the signal's subject) until ``reset()``."""
        self._kill = GuardSignal(GuardReason.KILL_SWITCH, GuardLevel.HARD, 1.0, 1.0, reason)
        self._kill_kind = "kill_switch"
        return self._apply()

    def restore(self, text: str) -> Assessment:
        """Hold a latch an earlier instance persisted (``text``, see ``latch_kind``) until ``reset()``."""
        self._kill = GuardSignal(GuardReason.KILL_SWITCH, GuardLevel.HARD, 1.0, 1.0, f"restored: {text}")
        self._kill_kind = latch_kind(text)
        return self._apply()

    def manual(self, level: GuardLevel, note: str = "") -> Assessment:
        """Hold the level at least at ``level`` (MANUAL); ``GuardLevel.OK`` clears it."""
        self._manual = None if level is GuardLevel.OK else GuardSignal(GuardReason.MANUAL, level, 1.0, 1.0, note)
        return self._apply()

    def reset(self, cause: str = "reset") -> Assessment:
        """Drop HARD latches, held recoverable signals and the kill switch, then re-apply the last raw
        assessment (leaving HARD arms the RECONCILE gate, whose subject is ``after <cause>``)."""
        self._latched.clear()
        self._held.clear()
        self._healthy_since.clear()
        self._kill = None
        self._kill_kind = ""
        if self._raw.signals:  # a latching cause that still holds latches again at once (not one tick later)
            self._track(self._raw, self._clock.monotonic_s())
        return self._apply(cause=cause)

    def reconciled(self, epoch: int) -> Assessment:
        """The venue was reconciled after the RECONCILE gate ``epoch`` was armed: lift it (a newer gate stays)."""
        if self._reconcile is not None and epoch == self._epoch:
            self._reconcile = None
            return self._apply(gate=False)
        return self._current

    # --- internals --------------------------------------------------------------------------------------------
    def _track(self, raw: Assessment, now_s: float) -> None:
        """Latch or hold the HARD signals of ``raw``; release held signals healthy for ``hard_recovery_s``."""
        present: set[_Key] = set()
        for s in raw.signals:
            key = (s.reason, s.subject)
            present.add(key)
            if s.level is GuardLevel.HARD:
                if s.reason in self._latching:
                    self._latched[key] = s
                else:
                    self._held[key] = s
        for key in list(self._held):
            if key in present:  # still at or above its SOFT threshold: not healthy (hysteresis)
                self._healthy_since.pop(key, None)
            elif now_s - self._healthy_since.setdefault(key, now_s) >= self._recovery_s:
                del self._held[key], self._healthy_since[key]

    def _apply(self, *, gate: bool = True, cause: str = "") -> Assessment:
        raw = self._raw
        held = self._latched or self._held or self._kill is not None or self._manual is not None
        held = held or self._reconcile is not None
        new = self._combine(raw) if raw.signals or held else raw  # calm, nothing held: OK (the common case)
        current = self._current
        if gate and current.level is GuardLevel.HARD and new.level is not GuardLevel.HARD:
            cause = cause or ",".join(r.value for r in current.reasons if r is not GuardReason.RECONCILE) or "HARD"
            self._epoch += 1
            self._reconcile = GuardSignal(GuardReason.RECONCILE, GuardLevel.HARD, 1.0, 1.0, f"after {cause}")
            new = self._combine(raw)
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
        """``raw`` with the latched and held HARD signals, the kill switch, manual floor and reconcile gate."""
        combined: dict[_Key, GuardSignal] = {(s.reason, s.subject): s for s in raw.signals}
        for holding in (self._latched, self._held):
            for key, s in holding.items():
                if key not in combined or combined[key].level < GuardLevel.HARD:
                    combined[key] = s
        for extra in (self._kill, self._manual, self._reconcile):
            if extra is not None:
                combined[(extra.reason, extra.subject)] = extra
        return Assessment.of(tuple(combined.values()))

    def _count_rising_edges(self, old: Assessment, new: Assessment) -> None:
        before = {(s.reason, s.subject, s.level) for s in old.signals}
        for s in new.signals:
            if (s.reason, s.subject, s.level) not in before:
                key = (s.level.name, s.reason.value, s.threshold_breached)
                self._counters[key] = self._counters.get(key, 0) + 1
