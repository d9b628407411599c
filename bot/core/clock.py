"""The bot's clock: the running event loop's time (virtual in simulation, monotonic live)."""

from __future__ import annotations

import asyncio


class LoopClock:
    """``Clock`` over the running event loop. ``epoch_offset_ms`` maps loop time to venue timestamps."""

    def __init__(self, epoch_offset_ms: int = 0) -> None:
        self.epoch_offset_ms = epoch_offset_ms

    def monotonic_s(self) -> float:
        return asyncio.get_running_loop().time()

    def now_ms(self) -> int:
        return self.epoch_offset_ms + round(asyncio.get_running_loop().time() * 1000)
