"""The real-time driver: the simpy market model and the matching engine advanced by the wall clock.

One job: keep ``env.now`` equal to the seconds elapsed since the server started. A background task advances
simpy every ``tick_s``; ``sync()`` advances it on demand, so a request is executed at the current instant.
The driver is the venue's ``VenueRuntime`` (``exchange_sim.venue``): ``now()``/``now_us()`` are simulated
seconds/µs since start (what the engine and the event log use); ``epoch_ms()`` is the server's Binance time,
the wall clock at start plus elapsed monotonic time plus any injected skew.

Invariant: ``env.now`` never goes backwards and never passes the real elapsed time. This is the only part of
exchange_sim that reads the wall clock; the clocks are injected so tests can replace them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import simpy


class RealTimeDriver:
    """Owns the simpy environment of a server and ties it to the running asyncio loop's clock."""

    def __init__(
        self,
        *,
        tick_s: float = 0.01,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], float] = lambda: time.time() * 1000.0,
    ) -> None:
        self.env = simpy.Environment()
        self.tick_s = tick_s
        self._monotonic = monotonic
        self._start = monotonic()
        self._epoch_start_ms = wall_ms()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.skew_ms: Callable[[float], float] = lambda _now_s: 0.0  # clock-skew faults plug in here

    # -- VenueRuntime --
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def now(self) -> float:
        return float(self.env.now)

    def now_us(self) -> int:
        return round(self.env.now * 1e6)

    # -- real time --
    def elapsed_s(self) -> float:
        return self._monotonic() - self._start

    def epoch_ms(self) -> int:
        """The server's time in Unix milliseconds (``serverTime``), skew faults included."""
        elapsed = self.elapsed_s()
        return int(self._epoch_start_ms + elapsed * 1000.0 + self.skew_ms(elapsed))

    def epoch_ms_of(self, sim_us: int) -> int:
        """Unix milliseconds of a simulated instant (engine and report timestamps)."""
        return int(self._epoch_start_ms + sim_us / 1000.0)

    def sync(self) -> None:
        """Run every simpy event due by now (the market catches up with the wall clock)."""
        target = self.elapsed_s()
        if target > self.env.now:
            self.env.run(until=target)

    async def run(self) -> None:
        """Advance the model every ``tick_s`` until cancelled."""
        self._loop = asyncio.get_running_loop()
        while True:
            self.sync()
            await asyncio.sleep(self.tick_s)
