"""ReplaySource: one or more recordings loaded as a replay tape - initial books, a timed event list, filters.

Loading reads every file once (streamed), rebuilds each symbol's book (``exchange_sim.replay.book``) and keeps
the applied diffs and the trades. Time: records are placed at their exchange time (diffs at ``E``, trades at
``T``), shifted so that simulated time 0 is ``t0``, the latest moment at which every symbol's book is synced
(the first applied diff's ``E``). Each symbol's book at ``t0`` (snapshot plus the diffs up to ``t0``) is the
initial book; diffs and trades at or before ``t0`` are folded into it or dropped. At equal times a trade comes
before a diff (a diff reports the book after the trades it covers). ``duration_s`` is the time of the last event.

Feed latency: by default the venue's feed delays follow the recording's own receive-minus-exchange delay
``d = recv - E``. The recorder's clock offset is unknown (in the bundled files ``d`` is about -1.27 s), so the
model keeps the shape of ``d - min(d)``: ``feed_floor_ms`` (config) plus a log-normal with the median of
``d - min(d)`` and ``sigma = (ln q84 - ln q16) / 2`` of it.

Filters: ``RECORDED_SYMBOLS`` holds Binance's real filters for the recorded symbols (BTCUSDT tick 0.01, lot
0.00001; ETHUSDT tick 0.01, lot 0.0001; min notional 5 USDT); other symbols take the simulator's catalogue.

Errors: ``RecordingError`` / ``ReplayGapError`` naming ``path:line``; ``RecordingError`` naming the file for a
symbol that never synced, a symbol recorded in two files, or a symbol without known filters.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from exchange_sim.engine.types import SymbolSpec
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.symbols import DEFAULT_SYMBOLS, SymbolMarket
from exchange_sim.replay.book import BookRebuild, LevelChange
from exchange_sim.replay.queue import QueueModelConfig
from exchange_sim.replay.records import DepthRecord, RecordingError, SnapshotRecord, TradeRecord, read_records

RECORDED_SYMBOLS: dict[str, SymbolSpec] = {
    "BTCUSDT": SymbolSpec(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                          step_size=Decimal("0.00001"), min_notional=Decimal("5")),
    "ETHUSDT": SymbolSpec(symbol="ETHUSDT", base_asset="ETH", quote_asset="USDT", tick_size=Decimal("0.01"),
                          step_size=Decimal("0.0001"), min_notional=Decimal("5")),
}

TRADE, DEPTH = 0, 1  # event kinds, in their order at equal times


class ReplayConfig(BaseModel):
    """What to replay and how. ``paths``: recordings (one or more symbols each, no symbol twice)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: tuple[str, ...] = Field(min_length=1, description="recording files (.gz or plain text)")
    queue: QueueModelConfig = Field(default_factory=QueueModelConfig, description="queue position model")
    recorded_feed_latency: bool = Field(
        True, description="feed delays from the recording's receive-minus-exchange delays (False: the world's)")
    feed_floor_ms: float = Field(1.0, ge=0, description="the one-way floor under the recorded delay jitter")

    @classmethod
    def parse(cls, spec: str, **kwargs: Any) -> ReplayConfig:
        """From the CLI form ``replay:PATH[,PATH...]``; ``ValueError`` for another form."""
        if not spec.startswith("replay:") or not spec[len("replay:"):].strip(","):
            raise ValueError(f"--market {spec!r}: expected replay:PATH[,PATH...]")
        return cls(paths=tuple(p for p in spec[len("replay:"):].split(",") if p), **kwargs)


@dataclass(slots=True)
class SymbolTape:
    """One symbol of a recording: its snapshot, applied diffs and trades (ticks and lots)."""

    symbol: str
    spec: SymbolSpec
    path: str
    snapshot: tuple[dict[int, int], dict[int, int]] = ({}, {})
    diffs: list[tuple[int, int, list[LevelChange]]] = field(default_factory=list)  # (E ms, line, changes)
    trades: list[tuple[int, int, int, int, bool]] = field(default_factory=list)  # (T ms, line, px, lots, m)
    sync_ms: int = 0


@dataclass(frozen=True, slots=True)
class ReplayEvent:
    """One timed event of the tape: ``kind`` TRADE (price, lots, buyer_is_maker) or DEPTH (level changes)."""

    t_us: int
    kind: int
    symbol: str
    line: int
    changes: tuple[LevelChange, ...] = ()
    price_ticks: int = 0
    qty_lots: int = 0
    buyer_is_maker: bool = False


def _spec_for(symbol: str, catalogue: Mapping[str, SymbolSpec], path: str) -> SymbolSpec:
    spec = catalogue.get(symbol) or RECORDED_SYMBOLS.get(symbol)
    if spec is None and symbol in DEFAULT_SYMBOLS:
        spec = DEFAULT_SYMBOLS[symbol].spec
    if spec is None:
        raise RecordingError(f"{path}: no filters known for {symbol} (add them to the catalogue)")
    return spec


def _load_file(path: str, catalogue: Mapping[str, SymbolSpec], delays_ms: list[float]) -> dict[str, SymbolTape]:
    tapes: dict[str, SymbolTape] = {}
    books: dict[str, BookRebuild] = {}

    def book_of(symbol: str) -> tuple[SymbolTape, BookRebuild]:
        if symbol not in books:
            spec = _spec_for(symbol, catalogue, path)
            tapes[symbol] = SymbolTape(symbol, spec, path)
            books[symbol] = BookRebuild(path, spec)
        return tapes[symbol], books[symbol]

    for record in read_records(path):
        if isinstance(record, DepthRecord):
            tape, book = book_of(record.symbol)
            delays_ms.append(record.recv_ns / 1e6 - record.event_ms)
            changes = book.on_depth(record)
            if changes is not None:
                tape.diffs.append((record.event_ms, record.line, changes))
        elif isinstance(record, TradeRecord):
            tape, book = book_of(record.symbol)
            delays_ms.append(record.recv_ns / 1e6 - record.event_ms)
            try:
                px, lots = book.grid.ticks(record.price), book.grid.lots(record.qty)
            except ValueError as error:
                raise RecordingError(f"{path}:{record.line}: trade off the symbol's grid: {error}") from None
            tape.trades.append((record.trade_ms, record.line, px, lots, record.buyer_is_maker))
        elif isinstance(record, SnapshotRecord):
            tape, book = book_of(record.symbol)
            tape.snapshot = _snapshot_levels(record, book)  # the diffs are replayed from the snapshot's levels
            for diff, changes in book.on_snapshot(record):
                tape.diffs.append((diff.event_ms, diff.line, changes))
    for symbol, book in books.items():
        if not book.synced or book.sync_ms is None:
            raise RecordingError(f"{path}: {symbol} never synced (no snapshot, or no depth update after it)")
        tapes[symbol].sync_ms = book.sync_ms
    return tapes


def _snapshot_levels(record: SnapshotRecord, book: BookRebuild) -> tuple[dict[int, int], dict[int, int]]:
    grid = book.grid
    bids = {grid.ticks(p): grid.lots(q) for p, q in record.bids if grid.lots(q)}
    asks = {grid.ticks(p): grid.lots(q) for p, q in record.asks if grid.lots(q)}
    return bids, asks


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))]


def fit_feed_latency(delays_ms: list[float], floor_ms: float) -> LatencyConfig:
    """The feed-latency model of the module docstring from receive-minus-exchange delays (ms)."""
    if len(delays_ms) < 10:
        return LatencyConfig(feed_floor_ms=floor_ms)
    ordered = sorted(delays_ms)
    jitter = [d - ordered[0] for d in ordered]
    median = _quantile(jitter, 0.5)
    q16, q84 = _quantile(jitter, 0.16), _quantile(jitter, 0.84)
    sigma = (math.log(q84) - math.log(q16)) / 2 if q16 > 0 and q84 > q16 else 0.0
    return LatencyConfig(feed_floor_ms=floor_ms, feed_median_ms=round(median, 3), feed_sigma=round(sigma, 3))


class ReplaySource:
    """A loaded replay tape (see module docstring): ``events`` in time order, ``initial`` books at time 0."""

    def __init__(self, config: ReplayConfig, catalogue: Mapping[str, SymbolSpec] | None = None) -> None:
        self.config = config
        self._files: list[dict[str, str]] = []
        delays_ms: list[float] = []
        self.tapes: dict[str, SymbolTape] = {}
        for path in config.paths:
            for symbol, tape in _load_file(path, catalogue or {}, delays_ms).items():
                if symbol in self.tapes:
                    raise RecordingError(f"{path}: {symbol} is also recorded in {self.tapes[symbol].path}")
                self.tapes[symbol] = tape
        self.symbols: tuple[str, ...] = tuple(sorted(self.tapes))
        self.t0_ms = max(t.sync_ms for t in self.tapes.values())
        self.feed_latency = fit_feed_latency(delays_ms, config.feed_floor_ms)
        self.initial: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        events: list[ReplayEvent] = []
        for symbol in self.symbols:
            events.extend(self._cut(self.tapes[symbol]))
        events.sort(key=lambda e: (e.t_us, e.kind, e.symbol, e.line))
        self.events: tuple[ReplayEvent, ...] = tuple(events)
        self.duration_s = self.events[-1].t_us / 1e6 if self.events else 0.0

    def _cut(self, tape: SymbolTape) -> list[ReplayEvent]:
        """The initial book at t0 into ``initial``; the events after t0."""
        bids, asks = dict(tape.snapshot[0]), dict(tape.snapshot[1])
        out: list[ReplayEvent] = []
        t0 = self.t0_ms
        for event_ms, line, changes in tape.diffs:
            if event_ms <= t0:
                for is_bid, price, qty in changes:
                    side = bids if is_bid else asks
                    if qty:
                        side[price] = qty
                    else:
                        side.pop(price, None)
            else:
                out.append(ReplayEvent((event_ms - t0) * 1000, DEPTH, tape.symbol, line, tuple(changes)))
        self.initial[tape.symbol] = (bids, asks)
        out.extend(ReplayEvent((trade_ms - t0) * 1000, TRADE, tape.symbol, line, price_ticks=px, qty_lots=lots,
                               buyer_is_maker=m)
                   for trade_ms, line, px, lots, m in tape.trades if trade_ms > t0)
        return out

    def spec(self, symbol: str) -> SymbolSpec:
        return self.tapes[symbol].spec

    def markets(self) -> dict[str, SymbolMarket]:
        """Catalogue entries for the replayed symbols (their filters; initial price: the mid at time 0)."""
        out = {}
        for symbol in self.symbols:
            spec = self.spec(symbol)
            bids, asks = self.initial[symbol]
            mid_ticks = (max(bids) + min(asks)) // 2 if bids and asks else max(bids or asks or {1: 0})
            out[symbol] = SymbolMarket(spec, initial_price=spec.ticks_to_price(mid_ticks))
        return out

    def describe(self) -> dict[str, Any]:
        """What the session log records about the tape (file names and SHA-256, symbols, times, models)."""
        if not self._files:
            self._files = [{"name": Path(p).name, "sha256": hashlib.sha256(Path(p).read_bytes()).hexdigest()}
                           for p in self.config.paths]
        return {"files": list(self._files), "symbols": list(self.symbols), "t0_ms": self.t0_ms,
                "duration_s": self.duration_s,
                "events": len(self.events), "queue": self.config.queue.model_dump(mode="json"),
                "feed_latency": self.feed_latency.model_dump(mode="json")}


def load_replay(spec: str, *, queue: str = "risk_averse", queue_power: float = 2.0) -> ReplaySource:
    """The Python API behind ``--market replay:PATH[,PATH...]``: parse, validate and load the recordings.

    ``ValueError`` (a ``RecordingError`` names ``path:line``) for a bad spec, model or file."""
    config = ReplayConfig.parse(spec, queue=QueueModelConfig.model_validate({"kind": queue, "power": queue_power}))
    missing = [p for p in config.paths if not Path(p).is_file()]
    if missing:
        raise ValueError(f"no such recording: {', '.join(missing)}")
    return ReplaySource(config)
