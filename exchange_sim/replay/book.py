"""Rebuild one symbol's public order book from a recording, the way Binance documents a local book.

Binance's procedure (Spot "How to manage a local order book correctly"): buffer the depth diffs, take a REST
snapshot, drop every buffered diff with ``u <= lastUpdateId``; the first diff applied must straddle the snapshot
(``U <= lastUpdateId + 1 <= u``), and from then on each diff's ``U`` is the previous diff's ``u + 1``. A diff
sets each listed level to its quantity (0 removes it). ``BookRebuild`` follows it record by record and returns,
for every applied diff, the level changes in ticks and lots.

Invariants: nothing is returned before the book is synced; levels are whole ticks and lots of the symbol's
filters (recorded quantities finer than the lot are rounded to it, ``Grid.lots``).

Errors: ``ReplayGapError`` (a ``RecordingError``) naming ``path:line`` when a diff does not follow the
previous one or the first diff after the snapshot does not straddle it; ``RecordingError`` naming the line for
a price or quantity off the symbol's grid, or a second snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass

from exchange_sim.engine.types import SymbolSpec
from exchange_sim.replay.records import DepthRecord, Levels, RecordingError, SnapshotRecord, units

LevelChange = tuple[bool, int, int]  # (is_bid, price_ticks, qty_lots); qty 0 removes the level


class ReplayGapError(RecordingError):
    """Depth diffs do not follow each other: updates were lost, the book cannot be trusted from this line."""


@dataclass(frozen=True, slots=True)
class Grid:
    """A symbol's tick and lot in units of 1e-8 (the recording's 8 decimals), for exact conversion."""

    tick_units: int
    lot_units: int

    @classmethod
    def of(cls, spec: SymbolSpec) -> Grid:
        return cls(int(spec.tick_size * 10**8), int(spec.step_size * 10**8))

    def ticks(self, price: str) -> int:
        return units(price, self.tick_units)

    def lots(self, qty: str) -> int:
        """A recorded quantity in lots, rounded half up to the lot (never to 0 for a positive quantity):
        Binance's books hold quantities finer than today's lot (orders from before a filter change)."""
        scaled = units(qty, 1)
        lots, rest = divmod(scaled, self.lot_units)
        if 2 * rest >= self.lot_units or (lots == 0 and rest):
            lots += 1
        return lots


class BookRebuild:
    """The local book of one symbol: buffering -> (snapshot) -> synced. See the module docstring."""

    def __init__(self, path: str, spec: SymbolSpec) -> None:
        self.path = path
        self.symbol = spec.symbol
        self.grid = Grid.of(spec)
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.snapshot_id: int | None = None
        self.last_update_id: int | None = None  # u of the last applied diff (None: none applied yet)
        self.sync_ms: int | None = None  # E of the first applied diff
        self.dropped = 0  # diffs dropped as older than the snapshot
        self._buffer: list[DepthRecord] = []

    @property
    def synced(self) -> bool:
        return self.last_update_id is not None

    def _error(self, line: int, text: str, gap: bool = False) -> RecordingError:
        cls = ReplayGapError if gap else RecordingError
        return cls(f"{self.path}:{line}: {self.symbol} {text}")

    def _changes(self, line: int, bids: Levels, asks: Levels) -> list[LevelChange]:
        grid = self.grid
        try:
            return [(True, grid.ticks(p), grid.lots(q)) for p, q in bids] + [
                (False, grid.ticks(p), grid.lots(q)) for p, q in asks]
        except ValueError as error:
            raise self._error(line, f"level off the symbol's grid: {error}") from None

    def on_snapshot(self, record: SnapshotRecord) -> list[tuple[DepthRecord, list[LevelChange]]]:
        """Take the snapshot, then apply the buffered diffs that follow it; returns those applied."""
        if self.snapshot_id is not None:
            raise self._error(record.line, "a second depth snapshot (one per symbol and file)")
        self.snapshot_id = record.last_update_id
        for is_bid, price, qty in self._changes(record.line, record.bids, record.asks):
            if qty:
                (self.bids if is_bid else self.asks)[price] = qty
        buffered, self._buffer = self._buffer, []
        applied = []
        for diff in buffered:
            changes = self.on_depth(diff)
            if changes is not None:
                applied.append((diff, changes))
        return applied

    def on_depth(self, record: DepthRecord) -> list[LevelChange] | None:
        """Apply one diff; None while buffering (no snapshot yet) or for a diff older than the snapshot."""
        if self.snapshot_id is None:
            self._buffer.append(record)
            return None
        if record.last_update_id <= self.snapshot_id:
            self.dropped += 1
            return None
        if self.last_update_id is None:
            if not record.first_update_id <= self.snapshot_id + 1 <= record.last_update_id:
                raise self._error(record.line, f"first depth update U={record.first_update_id} "
                                  f"u={record.last_update_id} does not straddle the snapshot's lastUpdateId "
                                  f"{self.snapshot_id} (updates lost)", gap=True)
            self.sync_ms = record.event_ms
        elif record.first_update_id != self.last_update_id + 1:
            raise self._error(record.line, f"depth update U={record.first_update_id} does not follow "
                              f"u={self.last_update_id} (a gap: updates lost)", gap=True)
        self.last_update_id = record.last_update_id
        changes = self._changes(record.line, record.bids, record.asks)
        for is_bid, price, qty in changes:
            side = self.bids if is_bid else self.asks
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)
        return changes

    def best(self) -> tuple[int | None, int | None]:
        """Best bid and ask prices in ticks (None for an empty side)."""
        return (max(self.bids) if self.bids else None, min(self.asks) if self.asks else None)
