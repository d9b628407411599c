"""Circuit breaker on venue request outcomes: stop sending while the venue is failing, probe, then resume.

Lifecycle::

    CLOSED --(requests >= min_requests and errors / requests >= max_error_rate, over window_s)--> OPEN
    OPEN --(cooldown_s elapsed)--> HALF_OPEN          (lazily, when ``state``/``allow()`` is read)
    HALF_OPEN --(half_open_probes successes)--> CLOSED   (window cleared)
    HALF_OPEN --(a probe fails, or a probe is unanswered cooldown_s after the first grant)--> OPEN   (cooldown restarts)
    OPEN | HALF_OPEN --reset()--> CLOSED;   CLOSED | HALF_OPEN --trip()--> OPEN

Any other transition raises ``BotError(STATE_INVALID)`` (``trip()`` while OPEN, ``reset()`` while CLOSED).
Outcomes recorded while OPEN, or while HALF_OPEN with no probe in flight, are late answers to requests sent
before the trip and are ignored. Memory is bounded: the window keeps at most ``max_events`` outcomes.
Time comes from the injected clock's ``monotonic_s()``.
"""

from __future__ import annotations

from collections import deque
from enum import StrEnum

from bot.core.errors import BotError, ErrorCode
from bot.interfaces import Clock
from bot.risk.config import CircuitBreakerConfig

__all__ = ["CircuitBreaker", "CircuitState"]


class CircuitState(StrEnum):
    CLOSED = "CLOSED"  # requests flow; outcomes are counted
    OPEN = "OPEN"  # every request is refused until the cooldown ends
    HALF_OPEN = "HALF_OPEN"  # up to half_open_probes requests are let through to test the venue


_LEGAL: dict[CircuitState, frozenset[CircuitState]] = {
    CircuitState.CLOSED: frozenset({CircuitState.OPEN}),
    CircuitState.OPEN: frozenset({CircuitState.HALF_OPEN, CircuitState.CLOSED}),
    CircuitState.HALF_OPEN: frozenset({CircuitState.CLOSED, CircuitState.OPEN}),
}


class CircuitBreaker:
    """Counts outcomes in a sliding window and refuses requests while the error rate is too high."""

    def __init__(self, config: CircuitBreakerConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        self._state = CircuitState.CLOSED
        self._events: deque[tuple[float, bool]] = deque(maxlen=config.max_events)
        self._errors = 0  # failures among _events
        self._changed_at_s = clock.monotonic_s()
        self._probes_granted = 0
        self._probes_in_flight = 0
        self._probe_successes = 0
        self._first_probe_s = 0.0

    @property
    def state(self) -> CircuitState:
        """The current state, after applying any time-driven transition."""
        self._tick(self._clock.monotonic_s())
        return self._state

    @property
    def error_rate(self) -> float:
        """errors / requests over the window (0.0 with no requests); meaningful while CLOSED."""
        self._evict(self._clock.monotonic_s())
        return self._errors / len(self._events) if self._events else 0.0

    @property
    def requests(self) -> int:
        """Requests recorded in the window."""
        self._evict(self._clock.monotonic_s())
        return len(self._events)

    @property
    def retry_after_s(self) -> float:
        """Seconds until the cooldown ends while OPEN; 0.0 otherwise."""
        now = self._clock.monotonic_s()
        self._tick(now)
        if self._state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self._changed_at_s + self._config.cooldown_s - now)

    def allow(self) -> bool:
        """May a request be sent now? In HALF_OPEN each ``True`` grants one of the ``half_open_probes``."""
        self._tick(self._clock.monotonic_s())
        if self._state is CircuitState.CLOSED:
            return True
        if self._state is CircuitState.HALF_OPEN and self._probes_granted < self._config.half_open_probes:
            if self._probes_granted == 0:
                self._first_probe_s = self._clock.monotonic_s()
            self._probes_granted += 1
            self._probes_in_flight += 1
            return True
        return False

    def record(self, ok: bool) -> None:
        """Record one request's outcome (``ok=False`` for a failure that counts against the venue)."""
        now = self._clock.monotonic_s()
        self._tick(now)
        if self._state is CircuitState.CLOSED:
            self._evict(now)
            if len(self._events) == self._events.maxlen and not self._events[0][1]:
                self._errors -= 1  # the append below drops this failure
            self._events.append((now, ok))
            self._errors += 0 if ok else 1
            n = len(self._events)
            if n >= self._config.min_requests and self._errors / n >= self._config.max_error_rate:
                self._move(CircuitState.OPEN, now)
        elif self._state is CircuitState.HALF_OPEN and self._probes_in_flight > 0:
            self._probes_in_flight -= 1
            if not ok:
                self._move(CircuitState.OPEN, now)
            else:
                self._probe_successes += 1
                if self._probe_successes >= self._config.half_open_probes:
                    self._move(CircuitState.CLOSED, now)
        # else: a late answer to a request sent before the trip; ignored.

    def trip(self) -> None:
        """Force OPEN (e.g. on a venue ban); raises while already OPEN."""
        now = self._clock.monotonic_s()
        self._tick(now)
        self._move(CircuitState.OPEN, now)

    def reset(self) -> None:
        """Force CLOSED with an empty window (operator action); raises while already CLOSED."""
        now = self._clock.monotonic_s()
        self._tick(now)
        self._move(CircuitState.CLOSED, now)

    def _tick(self, now: float) -> None:
        cooldown = self._config.cooldown_s
        if self._state is CircuitState.OPEN and now >= self._changed_at_s + cooldown:
            self._move(CircuitState.HALF_OPEN, now)
        elif (
            self._state is CircuitState.HALF_OPEN
            and self._probes_in_flight > 0
            and now >= self._first_probe_s + cooldown
        ):
            self._move(CircuitState.OPEN, now)  # probes never answered: treat as failed

    def _evict(self, now: float) -> None:
        horizon = now - self._config.window_s
        while self._events and self._events[0][0] <= horizon:
            _, ok = self._events.popleft()
            self._errors -= 0 if ok else 1

    def _move(self, to: CircuitState, now: float) -> None:
        if to not in _LEGAL[self._state]:
            raise BotError(ErrorCode.STATE_INVALID, f"circuit breaker: illegal transition {self._state} -> {to}")
        self._state = to
        self._changed_at_s = now
        self._probes_granted = self._probes_in_flight = self._probe_successes = 0
        if to is CircuitState.CLOSED:
            self._events.clear()
            self._errors = 0
