"""The bot's clock: the running event loop's time (virtual in simulation, monotonic live).

Reading the loop through ``asyncio.get_running_loop()`` costs a ``getpid`` system call on CPython 3.11 (its
fork check), which a simulated session pays millions of times; a clock built with ``loop=`` reads that loop
directly. Such a clock must only be used while that loop runs (one simulated world, one loop).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LoopClock:
    """``Clock`` over the running event loop (or the given one). ``epoch_offset_ms`` maps loop time to venue
    timestamps."""

    __slots__ = ("_time", "epoch_offset_ms")

    def __init__(self, epoch_offset_ms: int = 0, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.epoch_offset_ms = epoch_offset_ms
        self._time: Callable[[], float] | None = loop.time if loop is not None else None  # bound once

    def monotonic_s(self) -> float:
        time = self._time
        return time() if time is not None else asyncio.get_running_loop().time()

    def now_ms(self) -> int:
        time = self._time
        return self.epoch_offset_ms + round((time() if time is not None else asyncio.get_running_loop().time()) * 1000)
