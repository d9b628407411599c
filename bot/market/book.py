"""LocalBook: one symbol's L2 order book kept from a REST snapshot plus diff events, per Binance's procedure.

Lifecycle::

    UNSYNCED --apply_snapshot + continuous diffs--> SYNCED --gap | crossed--> UNSYNCED (needs_resync)
       ^ (diffs are buffered, bounded)                 |
       +--------------------- reset() -----------------+

Procedure (Binance "How to manage a local order book correctly"): diffs that arrive while unsynced are buffered
(at most ``max_buffered``, the oldest dropped first); ``apply_snapshot`` loads the levels and replays the buffer.
A diff with ``u <= last_update_id`` is stale or a duplicate and is ignored. The first diff applied after a
snapshot must satisfy ``U <= last_update_id + 1 <= u``; every later one ``U == previous u + 1``. Anything else is
a gap: ``gaps`` grows, the levels are dropped, the book needs a new snapshot. A level with qty 0 is removed.

Invariants:

* while ``is_synced`` the levels are exactly the venue's book as of update id ``last_update_id``;
* the book is never crossed (best bid < best ask): a diff or snapshot that would cross it is corruption, counted
  in ``crossings``, and the book resyncs;
* no level has qty <= 0.

Errors: reading levels while not synced raises ``BotError(SEQUENCE_GAP)`` (recoverable): callers check
``is_synced`` first. A snapshot or diff for another symbol raises ``ValueError`` (a wiring bug).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Iterable

from bot.core.errors import BotError, ErrorCode
from bot.core.types import BookLevel, BookSnapshot, DepthUpdate, Side

DEFAULT_MAX_BUFFERED = 10_000  # diffs kept while waiting for a snapshot (~16 min of 100 ms diffs)


class _Side:
    """One side's levels: a price -> qty map plus sorted keys, best first (bids are keyed by -price)."""

    __slots__ = ("_best", "_keys", "_qty", "_sign")

    def __init__(self, sign: int) -> None:
        self._sign = sign  # -1 for bids (highest first), +1 for asks (lowest first)
        self._qty: dict[int, int] = {}
        self._keys: list[int] = []
        self._best: BookLevel | None = None  # cached best level; None: recompute (or the side is empty)

    def clear(self) -> None:
        self._qty.clear()
        self._keys.clear()
        self._best = None

    def set(self, price: int, qty: int) -> None:
        keys = self._keys
        key = self._sign * price
        if not keys or key <= keys[0]:
            self._best = None  # the best level may change (a level behind it cannot change it)
        if qty > 0:
            if price not in self._qty:
                keys.insert(bisect_left(keys, key), key)
            self._qty[price] = qty
        elif price in self._qty:
            del self._qty[price]
            del keys[bisect_left(keys, key)]

    def best(self) -> BookLevel | None:
        best = self._best
        if best is None and self._keys:
            price = self._sign * self._keys[0]
            best = self._best = BookLevel(price, self._qty[price])
        return best

    def best_price(self) -> int | None:
        keys = self._keys
        return self._sign * keys[0] if keys else None

    def top(self, n: int) -> list[BookLevel]:
        return [BookLevel(self._sign * k, self._qty[self._sign * k]) for k in self._keys[:n]]

    def qty(self, price: int) -> int:
        return self._qty.get(price, 0)

    def __len__(self) -> int:
        return len(self._keys)


class LocalBook:
    """An L2 book for ``symbol``. Starts unsynced; feed it diffs (``apply``) and snapshots (``apply_snapshot``)."""

    def __init__(self, symbol: str, *, max_buffered: int = DEFAULT_MAX_BUFFERED) -> None:
        if max_buffered < 1:
            raise ValueError(f"max_buffered must be >= 1, got {max_buffered!r}")
        self.symbol = symbol
        self._bids = _Side(-1)
        self._asks = _Side(+1)
        self._buffer: deque[DepthUpdate] = deque(maxlen=max_buffered)
        self._synced = False
        self._first_applied = False  # a diff has been applied since the last snapshot
        self._last_update_id = 0
        self._last_event_ms: int | None = None
        self._gaps = 0
        self._crossings = 0

    # -- state (one line each) --
    @property
    def is_synced(self) -> bool:
        """Levels are served: a snapshot was applied and no gap or crossing since."""
        return self._synced

    @property
    def needs_resync(self) -> bool:
        """A new snapshot is needed (never synced, gap, crossing or ``reset()``)."""
        return not self._synced

    @property
    def last_update_id(self) -> int:
        """Update id the levels reflect (the snapshot's, then each applied diff's ``u``)."""
        return self._last_update_id

    @property
    def gaps(self) -> int:
        """Sequence gaps detected so far."""
        return self._gaps

    @property
    def crossings(self) -> int:
        """Snapshots or diffs rejected because they would leave the book crossed."""
        return self._crossings

    @property
    def last_event_ms(self) -> int | None:
        """Event time of the last applied diff (None before any)."""
        return self._last_event_ms

    @property
    def buffered(self) -> int:
        """Diffs waiting for a snapshot."""
        return len(self._buffer)

    # -- feeding --
    def reset(self) -> None:
        """Forget levels and buffered diffs (e.g. the diff stream was re-subscribed); a snapshot is needed."""
        self._drop_levels()
        self._buffer.clear()

    def apply_snapshot(self, snap: BookSnapshot) -> None:
        """Load ``snap`` and replay buffered diffs. Afterwards ``is_synced`` tells whether it worked: a snapshot
        older than the buffered diffs (their first ``U > lastUpdateId + 1``) is a gap; fetch another one."""
        self._check_symbol(snap.symbol)
        self._drop_levels()
        self._load(self._bids, snap.bids)
        self._load(self._asks, snap.asks)
        self._last_update_id = snap.last_update_id
        self._first_applied = False
        self._synced = True
        if self._crossed():
            self._corrupt()
            return
        pending = list(self._buffer)
        self._buffer.clear()
        for i, diff in enumerate(pending):
            self.apply(diff)
            if not self._synced:  # gap (that diff is re-buffered) or crossing: keep the rest for the next snapshot
                self._buffer.extend(pending[i + 1 :])
                return

    def apply(self, diff: DepthUpdate) -> bool:
        """Apply one diff; True if it changed the book. Buffered (unsynced), stale or duplicate diffs return
        False; a gap or a crossing returns False and leaves the book needing a resync, the diff buffered."""
        self._check_symbol(diff.symbol)
        if not self._synced:
            self._buffer.append(diff)
            return False
        if diff.last_update_id <= self._last_update_id:
            return False  # older than the book: dropped by the procedure, or a duplicate
        expected = self._last_update_id + 1
        if diff.first_update_id > diff.last_update_id or (
            diff.first_update_id > expected if not self._first_applied else diff.first_update_id != expected
        ):
            self._gaps += 1
            self._drop_levels()
            self._buffer.append(diff)  # may continue the next snapshot
            return False
        for level in diff.bids:
            self._bids.set(level.price_ticks, level.qty_lots)
        for level in diff.asks:
            self._asks.set(level.price_ticks, level.qty_lots)
        self._last_update_id = diff.last_update_id
        self._first_applied = True
        self._last_event_ms = diff.time_ms
        if self._crossed():
            self._corrupt()
            return False
        return True

    # -- reading (synced only) --
    def best_bid(self) -> BookLevel | None:
        self._require_synced()
        return self._bids.best()

    def best_ask(self) -> BookLevel | None:
        self._require_synced()
        return self._asks.best()

    def mid_ticks(self) -> float | None:
        """(best bid + best ask) / 2 in ticks; None if a side is empty."""
        self._require_synced()
        bid, ask = self._bids.best_price(), self._asks.best_price()
        return None if bid is None or ask is None else (bid + ask) / 2

    def spread_ticks(self) -> int | None:
        self._require_synced()
        bid, ask = self._bids.best_price(), self._asks.best_price()
        return None if bid is None or ask is None else ask - bid

    def levels(self, side: Side, n: int) -> list[BookLevel]:
        """The best ``n`` levels of ``side`` (BUY = bids), best first."""
        self._require_synced()
        return (self._bids if side is Side.BUY else self._asks).top(max(n, 0))

    def qty_at(self, side: Side, price_ticks: int) -> int:
        """Displayed qty at ``price_ticks`` on ``side`` (0 if no level)."""
        self._require_synced()
        return (self._bids if side is Side.BUY else self._asks).qty(price_ticks)

    def depth(self, side: Side) -> int:
        """Number of levels on ``side``."""
        self._require_synced()
        return len(self._bids if side is Side.BUY else self._asks)

    def sizes(self) -> dict[str, int]:
        """Memory probe: price levels held (both sides) and diffs buffered before a sync (at most ``max_buffered``)."""
        return {"levels": len(self._bids._qty) + len(self._asks._qty), "buffered_diffs": len(self._buffer)}

    # -- internals --
    def _crossed(self) -> bool:
        bid, ask = self._bids.best_price(), self._asks.best_price()
        return bid is not None and ask is not None and bid >= ask

    def _corrupt(self) -> None:
        self._crossings += 1
        self._drop_levels()

    def _drop_levels(self) -> None:
        self._synced = False
        self._first_applied = False
        self._bids.clear()
        self._asks.clear()

    @staticmethod
    def _load(side: _Side, levels: Iterable[BookLevel]) -> None:
        for level in levels:
            side.set(level.price_ticks, level.qty_lots)

    def _check_symbol(self, symbol: str) -> None:
        if symbol != self.symbol:
            raise ValueError(f"LocalBook({self.symbol!r}) fed data for {symbol!r}")

    def _require_synced(self) -> None:
        if not self._synced:
            raise BotError(ErrorCode.SEQUENCE_GAP, f"{self.symbol} book needs a resync", recoverable=True)
