"""Server-time sync: the offset between the bot's clock and the venue's, so signed timestamps are accepted.

Each sample brackets one ``GET /api/v3/time``: sent at local ``t0``, answered at ``t1``; the server read its
clock at about the midpoint, so ``offset = server - (t0 + t1) / 2``, with an error under ``(t1 - t0) / 2``. A sync
takes a few samples and keeps the one with the shortest round trip. ``now_ms()`` is local time plus the offset.

Invariants: concurrent ``resync`` calls share one sync (a burst of -1021 answers costs one round of samples,
never a storm), and no sync starts within ``min_interval_s`` of the previous one; ``generation`` counts syncs, so
a caller that signed with an older offset knows a newer one exists.

Only the first sync blocks a request. An offset older than ``max_age_s`` is refreshed in the background while
requests keep signing with it: a periodic refresh must never hold back a cancel. Clock drift over ``max_age_s``
is tiny against ``recvWindow``, and a -1021 answer still resyncs and retries (chaos seed 383: after a 50 s pause
under 1.7 s of REST latency, three sequential samples of about 5 s each held the HARD sweep's cancel for 15 s).

Errors: whatever the fetch raises (``BotError``) propagates from ``resync`` and a first ``ensure``; a background
refresh that fails is logged and tried again at the next request; the previous offset is kept.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable

from bot.core.errors import BotError
from bot.interfaces import Clock

log = logging.getLogger("bot.connectors.binance.time_sync")


class TimeSync:
    """The venue's clock estimated from the local ``clock`` and ``fetch_server_ms`` round trips."""

    def __init__(
        self,
        clock: Clock,
        fetch_server_ms: Callable[[], Awaitable[int]],
        *,
        samples: int = 3,
        max_age_s: float = 300.0,
        min_interval_s: float = 1.0,
    ) -> None:
        self._clock = clock
        self._fetch = fetch_server_ms
        self._samples = samples
        self._max_age_s = max_age_s
        self._min_interval_s = min_interval_s
        self.offset_ms = 0
        self.rtt_ms: int | None = None
        self.generation = 0
        self._synced_at_s: float | None = None
        self._lock = asyncio.Lock()
        self._refresh: asyncio.Task[None] | None = None

    @property
    def synced(self) -> bool:
        return self._synced_at_s is not None

    def now_ms(self) -> int:
        """The venue's current time as estimated (the local clock until the first sync)."""
        return self._clock.now_ms() + self.offset_ms

    def stale(self) -> bool:
        """Never synced, or synced longer than ``max_age_s`` ago."""
        return self._synced_at_s is None or self._clock.monotonic_s() - self._synced_at_s > self._max_age_s

    async def ensure(self) -> int:
        """Sync first if never synced; refresh an offset older than ``max_age_s`` in the background (at most one
        refresh at a time) without waiting for it. Return the generation to pass to ``resync`` later."""
        if self._synced_at_s is None:
            await self.resync(self.generation)
        elif self.stale() and (self._refresh is None or self._refresh.done()):
            # in a context of its own: the caller's context may carry a send check (an order's guard recheck,
            # ``bot.core.sending``) that must not apply to this time request
            self._refresh = asyncio.get_running_loop().create_task(self._refresh_quietly(self.generation),
                                                                   context=contextvars.Context())
        return self.generation

    async def _refresh_quietly(self, seen_generation: int) -> None:
        try:
            await self.resync(seen_generation)
        except BotError as error:
            log.warning("background server-time refresh failed: %s", error, extra={"code": error.code.value})

    def close(self) -> None:
        """Cancel a background refresh still running (the connector is closing)."""
        if self._refresh is not None and not self._refresh.done():
            self._refresh.cancel()

    async def resync(self, seen_generation: int) -> None:
        """Sync unless a sync newer than ``seen_generation`` happened, or the last one is under ``min_interval_s``
        old (concurrent callers share one)."""
        async with self._lock:
            if self.generation > seen_generation:
                return
            if self._synced_at_s is not None and self._clock.monotonic_s() - self._synced_at_s < self._min_interval_s:
                return
            best: tuple[int, int] | None = None  # (rtt_ms, offset_ms)
            for _ in range(self._samples):
                t0 = self._clock.now_ms()
                server_ms = await self._fetch()
                t1 = self._clock.now_ms()
                sample = (t1 - t0, server_ms - (t0 + t1) // 2)
                if best is None or sample[0] < best[0]:
                    best = sample
            assert best is not None  # samples >= 1
            self.rtt_ms, self.offset_ms = best
            self.generation += 1
            self._synced_at_s = self._clock.monotonic_s()
