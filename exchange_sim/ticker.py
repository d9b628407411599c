"""Ticker: a simpy process without a generator, for the simulated world's hottest loops.

A simpy process costs, per wake-up, a new ``Timeout`` event and a generator resume through
``Process._resume``. A ``Ticker`` is one reusable event whose callback is the loop body: ``schedule(delay)``
puts it on simpy's queue exactly as ``env.timeout(delay)`` would (same priority, one event id, the same place in
simpy's order), and when simpy processes it the callback runs. ``start()`` stands for ``env.process(...)``: its
first wake-up is urgent and at the current instant, like a process's ``Initialize`` event, so a ticker consumes
event ids where a process did and simpy's event order is unchanged.

A ticker must be scheduled at most once at a time (schedule it again from its callback, or after it fired;
``scheduled`` tells). An exception raised by the callback propagates out of ``env.step()`` (a crashed process does
too, one step later) and leaves the ticker unscheduled.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import NORMAL, URGENT


class Ticker(simpy.Event):
    """One reusable simpy event that calls ``callback(ticker)`` each time it is processed."""

    def __init__(self, env: simpy.Environment, callback: Callable[[simpy.Event], None]) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        self._callback = callback
        self.callbacks = None  # type: ignore[assignment]  # not queued: what simpy leaves on a processed event

    @property
    def scheduled(self) -> bool:
        """On simpy's queue: started or scheduled and not yet processed. simpy clears ``callbacks`` when it takes
        the event off its queue, before calling them, so a callback that raises before rescheduling leaves the
        ticker unscheduled, as a crashed process is no longer alive."""
        return self.callbacks is not None

    def start(self, first: Callable[[simpy.Event], None] | None = None) -> None:
        """First wake-up now, before any other event at this instant (what ``env.process`` schedules); it calls
        ``first`` if given (a process's code before its first ``yield``), else the callback."""
        self.callbacks = [self._callback if first is None else first]
        self.env.schedule(self, URGENT, 0)

    def schedule(self, delay: float) -> None:
        """Next wake-up after ``delay`` simulated seconds (what ``yield env.timeout(delay)`` schedules)."""
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.callbacks = [self._callback]
        self.env.schedule(self, NORMAL, delay)
