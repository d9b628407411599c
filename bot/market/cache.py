"""SnapshotCache: a short-TTL cache in front of ``Venue.book`` so callers within the TTL share one REST call.

Per (symbol, limit) key, a snapshot is served from the cache while younger than ``ttl_ms`` on the injected
``Clock`` (age counted from when its request was *sent*, so a cached book is never older than it claims).
Concurrent callers of a key with no fresh entry await the same in-flight request: one REST call, one result.

Invariants:

* at most one request per key is in flight;
* errors are never cached: every caller waiting on a failed request gets its exception, the next call retries;
* a caller's cancellation does not cancel the shared request (other callers may be waiting on it);
* at most ``max_entries`` snapshots are kept (the least recently stored is evicted first).

Errors: whatever ``Venue.book`` raises (``BotError``), unchanged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.core.types import BookSnapshot
from bot.interfaces import Clock, Venue

DEFAULT_TTL_MS = 100  # seed audit REC 1: quotes within 100 ms share one snapshot
DEFAULT_MAX_ENTRIES = 256  # (symbol, limit) keys kept


@dataclass(frozen=True, slots=True)
class _Entry:
    snapshot: BookSnapshot
    sent_s: float  # Clock.monotonic_s() when the request was sent


class SnapshotCache:
    """Cache of ``venue.book(symbol, limit)`` answers, ``ttl_ms`` long on ``clock``."""

    def __init__(
        self, venue: Venue, clock: Clock, *, ttl_ms: int = DEFAULT_TTL_MS, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if ttl_ms < 0:
            raise ValueError(f"ttl_ms must be >= 0, got {ttl_ms!r}")
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries!r}")
        self._venue = venue
        self._clock = clock
        self._ttl_s = ttl_ms / 1000
        self._max_entries = max_entries
        self._entries: dict[tuple[str, int], _Entry] = {}
        self._in_flight: dict[tuple[str, int], asyncio.Task[BookSnapshot]] = {}
        self._requests = 0

    @property
    def requests(self) -> int:
        """REST calls made so far (cache misses that were sent)."""
        return self._requests

    @property
    def in_flight(self) -> int:
        """Requests currently awaited."""
        return len(self._in_flight)

    async def get(self, symbol: str, limit: int = 100) -> BookSnapshot:
        """A snapshot of ``symbol`` sent at most ``ttl_ms`` ago, fetched if there is none."""
        key = (symbol, limit)
        entry = self._entries.get(key)
        if entry is not None and self._clock.monotonic_s() - entry.sent_s < self._ttl_s:
            return entry.snapshot
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key, self._clock.monotonic_s()))
            self._in_flight[key] = task
            task.add_done_callback(_consume_exception)
        return await asyncio.shield(task)

    def invalidate(self, symbol: str | None = None) -> None:
        """Drop cached snapshots of ``symbol`` (all symbols if None); in-flight requests are unaffected."""
        for key in [k for k in self._entries if symbol is None or k[0] == symbol]:
            del self._entries[key]

    async def _fetch(self, key: tuple[str, int], sent_s: float) -> BookSnapshot:
        self._requests += 1
        try:
            snapshot = await self._venue.book(key[0], key[1])
        finally:
            del self._in_flight[key]
        self._entries.pop(key, None)
        if len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = _Entry(snapshot, sent_s)
        return snapshot


def _consume_exception(task: asyncio.Task[BookSnapshot]) -> None:
    """Mark a failed shared request's exception as retrieved when every waiter was cancelled."""
    if not task.cancelled():
        task.exception()
