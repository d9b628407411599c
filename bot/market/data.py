"""MarketData: one symbol's market state (local book, recent trades, volatility) kept live from a ``Venue``.

``run()`` subscribes to the diff and trade streams first, then takes a snapshot (diffs arriving meanwhile are
buffered by the ``LocalBook``), and keeps the book synced: on a gap or crossing it fetches a new snapshot (the
streams stay subscribed, the book buffers); on a stream end or stream error it re-subscribes both streams and
resyncs; when neither stream says anything for ``silence_resubscribe_s`` (a connection that died silently) it
subscribes both anew. Consecutive failures back off exponentially (``backoff_ms_initial`` doubling to
``backoff_ms_max``) and are bounded: past ``max_consecutive_failures`` ``run()`` raises
``BotError(SEQUENCE_GAP)``. The count resets when a diff applies and when ``run()`` starts again: a supervisor's
restart after a long outage gets the whole budget (carried over, the first gap after the heal ended the new run at
once, and the feed never came back: chaos seed 920).

Volatility (``volatility_bps``), in bps per sqrt(second), no annualisation. At each event (diff or trade) with a
mid ``m_i`` at event time ``t_i`` (ms), with ``r_i = ln(m_i / m_{i-1})`` and time constant ``tau = vol_tau_s``::

    S_i   = S_{i-1} * exp(-(t_i - t_{i-1}) / tau) + r_i**2        (decayed sum of squared log-returns)
    sigma = 1e4 * sqrt(S / (tau * (1 - exp(-T / tau))))          (T = time since the first sample)

Since ``E[S] = sigma_1s**2 * tau * (1 - exp(-T/tau))`` for a random walk of variance ``sigma_1s**2`` per second,
this is an unbiased-in-variance estimate that does not depend on how often events arrive, and same-millisecond
events (dt = 0) are harmless.

Invariants: nothing reads the wall clock (time is event timestamps; backoff sleeps on the running loop); the
recent-trade deque, the book's diff buffer and the retry loop are bounded; ``on_update`` callbacks run after each
applied diff or trade, in registration order, and their exceptions propagate (a bug ends ``run()``).

Errors: ``BotError(SEQUENCE_GAP)`` when resyncs keep failing; non-recoverable venue errors (``BotError`` with
``recoverable=False``, e.g. a bad symbol) propagate at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from bot.core.errors import BotError, ErrorCode
from bot.core.types import DepthUpdate, PublicTrade
from bot.interfaces import Venue
from bot.market.book import DEFAULT_MAX_BUFFERED, LocalBook

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketDataConfig:
    """How ``MarketData`` syncs and what it keeps. Every field has a documented default."""

    snapshot_limit: int = 5000  # levels per side in the REST snapshot (Binance's maximum)
    max_buffered_diffs: int = DEFAULT_MAX_BUFFERED  # diffs buffered while a snapshot is fetched
    recent_trades: int = 1000  # public trades kept (newest last)
    backoff_ms_initial: int = 100  # wait before the 1st retry after a failure; doubles each time
    backoff_ms_max: int = 5000  # cap of the wait
    max_consecutive_failures: int = 20  # gaps / failed snapshots / stream ends in a row before giving up
    vol_tau_s: float = 60.0  # time constant of the volatility EWMA
    silence_resubscribe_s: float = 60.0  # no message on either stream for this long: subscribe both anew (a
    # connection can die silently - no close, no error - and a stale book must not wait for a close that never comes)

    def __post_init__(self) -> None:
        if min(self.snapshot_limit, self.max_buffered_diffs, self.recent_trades, self.max_consecutive_failures) < 1:
            raise ValueError(f"MarketDataConfig limits must be >= 1: {self!r}")
        if not 0 <= self.backoff_ms_initial <= self.backoff_ms_max or self.vol_tau_s <= 0 \
                or self.silence_resubscribe_s <= 0:
            raise ValueError(f"bad MarketDataConfig backoff or vol_tau_s: {self!r}")


class MarketData:
    """Live market state of ``symbol`` on ``venue``. ``await run()`` (a task) keeps it; read it any time."""

    def __init__(self, venue: Venue, symbol: str, config: MarketDataConfig | None = None) -> None:
        self._venue = venue
        self.symbol = symbol
        self.config = config if config is not None else MarketDataConfig()
        self.book = LocalBook(symbol, max_buffered=self.config.max_buffered_diffs)
        self.trades: deque[PublicTrade] = deque(maxlen=self.config.recent_trades)
        self._callbacks: list[Callable[[], None]] = []
        self._diff_listeners: list[Callable[[DepthUpdate], None]] = []
        self._trade_listeners: list[Callable[[PublicTrade], None]] = []
        self._wake = asyncio.Event()
        self._failures = 0
        self._silences = 0  # re-subscriptions after silence_resubscribe_s without a message
        self._heard_s = 0.0  # loop time of the last message on either stream
        self._now_s: Callable[[], float] = lambda: 0.0  # the running loop's clock (bound in _session)
        self._snapshots = 0
        self._attempted = False  # a snapshot was attempted on the current subscription
        self._last_trade_ms: int | None = None
        # volatility state
        self._vol_sum = 0.0
        self._vol_first_ms: int | None = None
        self._vol_last_ms = 0
        self._vol_last_mid: float | None = None

    # -- reading --
    @property
    def gaps(self) -> int:
        """Sequence gaps the book detected."""
        return self.book.gaps

    @property
    def silences(self) -> int:
        """Times both streams were subscribed anew after a silence (``silence_resubscribe_s``)."""
        return self._silences

    @property
    def resyncs(self) -> int:
        """Snapshots applied after the first one."""
        return max(0, self._snapshots - 1)

    def mid_ticks(self) -> float | None:
        """Mid in ticks; None while unsynced or with an empty side."""
        return self.book.mid_ticks() if self.book.is_synced else None

    def spread_ticks(self) -> int | None:
        return self.book.spread_ticks() if self.book.is_synced else None

    def volatility_bps(self) -> float | None:
        """Mid volatility in bps per sqrt(second) (module docstring); None before two samples."""
        if self._vol_first_ms is None or self._vol_last_ms <= self._vol_first_ms:
            return None
        tau = self.config.vol_tau_s
        weight = tau * -math.expm1(-(self._vol_last_ms - self._vol_first_ms) / 1000 / tau)
        return 1e4 * math.sqrt(self._vol_sum / weight)

    def data_age_ms(self, now_ms: int) -> int | None:
        """``now_ms`` minus the newest event time (diff or trade); None if nothing arrived or while unsynced."""
        book_ms, trade_ms = self.book.last_event_ms, self._last_trade_ms
        newest = book_ms if trade_ms is None else trade_ms if book_ms is None else max(book_ms, trade_ms)
        if newest is None or not self.book.is_synced:
            return None
        return max(0, now_ms - newest)

    def on_diff(self, listener: Callable[[DepthUpdate], None]) -> None:
        """Call ``listener(diff)`` with every diff applied to the book (before ``on_update`` callbacks)."""
        self._diff_listeners.append(listener)

    def on_trade(self, listener: Callable[[PublicTrade], None]) -> None:
        """Call ``listener(trade)`` with every public trade received (before ``on_update`` callbacks)."""
        self._trade_listeners.append(listener)

    def on_update(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every applied diff or trade (e.g. to wake a quote loop)."""
        self._callbacks.append(callback)

    # -- running --
    async def run(self) -> None:
        """Keep the book synced until cancelled (module docstring: procedure, backoff, bounds)."""
        self._failures = 0  # a restarted run starts a new count of failures in a row
        while True:
            depth = self._venue.depth_updates(self.symbol)  # subscribe first ...
            trades = self._venue.public_trades(self.symbol)
            self.book.reset()
            self._attempted = False
            try:
                silent = await self._session(depth, trades)  # ... then snapshot; returns when a stream ends
            finally:
                await _aclose(depth)
                await _aclose(trades)
            if silent:
                self._silences += 1
                log.warning("%s: no market data for %.0f s: subscribing anew", self.symbol,
                            self.config.silence_resubscribe_s, extra={"code": "STREAM_SILENT"})
                continue
            await self._failed("stream ended")

    async def _session(self, depth: AsyncIterator[DepthUpdate], trades: AsyncIterator[PublicTrade]) -> bool:
        """Read both streams until one ends (False) or neither says anything for ``silence_resubscribe_s``
        (True)."""
        readers = [asyncio.ensure_future(self._read_depth(depth)), asyncio.ensure_future(self._read_trades(trades))]
        for reader in readers:
            reader.add_done_callback(lambda _: self._wake.set())
        loop = asyncio.get_running_loop()
        self._now_s = loop.time
        self._heard_s = loop.time()
        silent = False
        try:
            while not any(r.done() for r in readers):
                self._wake.clear()
                if self.book.needs_resync:
                    await self._resync()
                    continue
                quiet_until = self._heard_s + self.config.silence_resubscribe_s
                if loop.time() >= quiet_until:
                    silent = True
                    break
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(quiet_until):
                        await self._wake.wait()
        finally:
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        for reader in readers:
            error = None if reader.cancelled() else reader.exception()
            if error is not None and not (isinstance(error, BotError) and error.recoverable):
                raise error
        return silent

    async def _resync(self) -> None:
        """One snapshot attempt (after the backoff owed to earlier failures)."""
        if self._attempted:  # the previous snapshot failed, or a gap / crossing followed it
            await self._failed(f"resync after update {self.book.last_update_id}")
        self._attempted = True
        try:
            snapshot = await self._venue.book(self.symbol, self.config.snapshot_limit)
        except BotError as error:
            if not error.recoverable:
                raise
            return
        self._snapshots += 1
        self.book.apply_snapshot(snapshot)

    async def _failed(self, why: str) -> None:
        self._failures += 1
        if self._failures > self.config.max_consecutive_failures:
            raise BotError(ErrorCode.SEQUENCE_GAP, f"{self.symbol}: {self._failures} failures in a row ({why})")
        cfg = self.config
        delay_ms = min(cfg.backoff_ms_max, cfg.backoff_ms_initial * 2 ** min(self._failures - 1, 30))
        await asyncio.sleep(delay_ms / 1000)

    async def _read_depth(self, depth: AsyncIterator[DepthUpdate]) -> None:
        async for diff in depth:
            self._heard_s = self._now_s()
            if self.book.apply(diff):
                self._failures = 0
                self._sample(diff.time_ms)
                for listener in self._diff_listeners:
                    listener(diff)
                self._notify()
            elif self.book.needs_resync:
                self._wake.set()

    async def _read_trades(self, trades: AsyncIterator[PublicTrade]) -> None:
        async for trade in trades:
            self._heard_s = self._now_s()
            self.trades.append(trade)
            self._last_trade_ms = trade.time_ms
            if self.book.is_synced:
                self._sample(trade.time_ms)
            for listener in self._trade_listeners:
                listener(trade)
            self._notify()

    def _sample(self, time_ms: int) -> None:
        mid = self.book.mid_ticks()
        if mid is None or mid <= 0:
            return
        if self._vol_first_ms is None or self._vol_last_mid is None:
            self._vol_first_ms = self._vol_last_ms = time_ms
        else:
            dt_s = max(0, time_ms - self._vol_last_ms) / 1000
            decay = math.exp(-dt_s / self.config.vol_tau_s)
            self._vol_sum = self._vol_sum * decay + math.log(mid / self._vol_last_mid) ** 2
            self._vol_last_ms = max(self._vol_last_ms, time_ms)
        self._vol_last_mid = mid

    def _notify(self) -> None:
        for callback in self._callbacks:
            callback()


async def _aclose(stream: AsyncIterator[Any]) -> None:
    """Close a stream that supports ``aclose()`` (async generators, connector streams)."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
