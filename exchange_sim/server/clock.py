"""Server clocks: what the wire server's handlers read as time, in real time or in a world's virtual time.

``ServerClock`` is the protocol handlers, trading, limits and faults read (``state.driver``). Two clocks:

* ``RealTimeDriver``: the simpy market model and the matching engine advanced by the wall clock. One job:
  keep ``env.now`` equal to the seconds elapsed since the server started. A background task advances
simpy every ``tick_s``; ``sync()`` advances it on demand, so a request is executed at the current instant.
The driver is the venue's ``VenueRuntime`` (``exchange_sim.venue``): ``now()``/``now_us()`` are simulated
seconds/µs since start (what the engine and the event log use); ``epoch_ms()`` is the server's Binance time,
the wall clock at start plus elapsed monotonic time plus any injected skew.

  Invariant: ``env.now`` never goes backwards and never passes the real elapsed time. This is the only part
  of exchange_sim that reads the wall clock; the clocks are injected so tests can replace them.
* ``VirtualServerClock``: a world's virtual time (``SimRuntime``), for a ``ServerState`` attached to an
  existing venue (the in-process transport). ``epoch_ms() = epoch_start_ms + now_us // 1000 + skew_ms()``,
  ``epoch_ms_of(us) = epoch_start_ms + us // 1000``; ``sync()`` does nothing (the world's loop advances the
  model); it never reads the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

import simpy

from exchange_sim.venue import VenueRuntime


class ServerClock(Protocol):
    """The time a wire server's handlers, limiters and faults read (``ServerState.driver``)."""

    skew_ms: Callable[[float], float]  # injected clock skew in ms at ``elapsed_s`` (transport faults plug in)

    @property
    def env(self) -> simpy.Environment: ...

    def now(self) -> float: ...  # simulated seconds

    def now_us(self) -> int: ...  # simulated microseconds (event log, engine)

    def elapsed_s(self) -> float: ...  # seconds since the server started (limiter windows, fault windows)

    def epoch_ms(self) -> int: ...  # the server's Binance time in Unix ms, skew included

    def epoch_ms_of(self, sim_us: int) -> int: ...  # Unix ms of a simulated instant

    def sync(self) -> None: ...  # bring the model up to now before a request executes


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


class VirtualServerClock:
    """A ``ServerClock`` on a world's virtual time (module docstring); never reads the wall clock."""

    def __init__(self, runtime: VenueRuntime, *, epoch_start_ms: int = 0,
                 skew_ms: Callable[[], float] = lambda: 0.0) -> None:
        self.runtime = runtime
        self.epoch_start_ms = epoch_start_ms
        self._skew = skew_ms
        self.skew_ms: Callable[[float], float] = lambda _now_s: 0.0  # ServerFaults plugs in here

    @property
    def env(self) -> simpy.Environment:
        return self.runtime.env

    def now(self) -> float:
        return self.runtime.now()

    def now_us(self) -> int:
        return self.runtime.now_us()

    def elapsed_s(self) -> float:
        return self.runtime.now()

    def epoch_ms(self) -> int:
        """``epoch_start_ms + now_us // 1000 + skew_ms()`` (plus any fault skew)."""
        return int(self.epoch_start_ms + self.runtime.now_us() // 1000 + self._skew()
                   + self.skew_ms(self.elapsed_s()))

    def epoch_ms_of(self, sim_us: int) -> int:
        """``epoch_start_ms + sim_us // 1000``."""
        return self.epoch_start_ms + sim_us // 1000

    def sync(self) -> None:
        """Nothing to do: the world's loop advances the model in virtual time."""
