"""Time series of one bot session derived from its event log alone: mids, the bot's fills, PnL, inventory, quotes.

One streaming pass over the JSON-lines log (``exchange_sim.eventlog``) rebuilds each symbol's book from the
``book`` level records, samples the mid on a grid, and books the bot's fills from the public ``trade`` records
where the bot's account is maker or taker (fees as the engine charges them: the buyer pays in base, the seller
in quote). PnL is marked to the replayed mid, exactly like ``bot.execution.pnl.PnlTracker`` marks to its own
mid, so the curve's last point is close to, but not necessarily equal to, the summary's net PnL (the bot marks
at the mid its quoter last saw): the report prints the summary's numbers and the curve's end side by side.

The quoted spread is the bot's *resting* quotes: its best open ask minus its best open bid (orders it placed that
are not yet cancelled, expired or filled), in bps of the replayed mid, sampled on the same grid as the mid while
both sides rest. The bot's maker-only orders cannot cross its own book, so the series is never negative; a time
with one side resting has no point.

Also read when present: ``bot.guard`` records (level changes with a reason), ``bot.spread`` records and
``metrics.jsonl`` samples (spread and adaptive-spread scores; shape in ``reports/rundir.py``).

Memory is bounded by the sampling grid (``max_points`` per series), not by the length of the session: every
series covers the whole session, downsampled (the grid widens with the duration; the placed-quote markers are
thinned to every other one when they reach ``4 * max_points``), never cut off.
Errors: ``ValueError`` for a symbol the simulator does not know (prices cannot be scaled).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from exchange_sim.eventlog import open_events
from exchange_sim.market.symbols import DEFAULT_SYMBOLS

__all__ = ["Fill", "SessionSeries", "SymbolSeries", "derive_series", "iter_events"]

ATOMS = 1e8  # atoms per unit of any asset (exchange_sim.engine.types.ATOMS_PER_UNIT)
_OPEN = frozenset({"NEW", "PARTIALLY_FILLED"})  # order statuses that leave an order resting on the book


def iter_events(path: Path | str) -> Iterator[dict[str, Any]]:
    """Stream the records of a JSON-lines event log (never the whole file in memory)."""
    with open_events(path) as fh:  # plain or gzip
        for line in fh:
            if line.strip():
                yield orjson.loads(line)


@dataclass(frozen=True, slots=True)
class Fill:
    """One of the bot's fills, in the bot's terms: its side, price and size in units, maker or taker."""

    t_s: float
    symbol: str
    side: str  # BUY or SELL (the bot's side)
    price: float
    qty: float
    maker: bool
    fee_quote: float  # the fee valued in quote at the fill price
    mid: float | None  # replayed mid when the fill happened


@dataclass(slots=True)
class SymbolSeries:
    """Everything the report draws for one symbol, each series as parallel lists."""

    symbol: str
    mid_t: list[float] = field(default_factory=list)
    mid: list[float] = field(default_factory=list)
    market_spread_bps: list[float] = field(default_factory=list)
    pnl_t: list[float] = field(default_factory=list)
    pnl: list[float] = field(default_factory=list)
    inventory: list[float] = field(default_factory=list)
    quotes: dict[str, tuple[list[float], list[float]]] = field(
        default_factory=lambda: {"BUY": ([], []), "SELL": ([], [])})
    quoted_spread_t: list[float] = field(default_factory=list)
    quoted_spread_bps: list[float] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)


@dataclass(slots=True)
class SessionSeries:
    """The derived series of a session, per symbol, plus guards, spread scores and record counts."""

    account: str
    duration_s: float
    symbols: dict[str, SymbolSeries]
    guards: list[tuple[float, str, str]]  # (t_s, level, reason)
    spread_scores: list[dict[str, Any]]  # {"t_s", "symbol", "spread_bps", scores...}
    regimes: list[tuple[float, str]]
    counts: dict[str, int]


class _Book:
    """A replayed L2 book: level quantities per side with lazy-deletion heaps for the best prices."""

    __slots__ = ("ask_heap", "asks", "bid_heap", "bids")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.bid_heap: list[int] = []
        self.ask_heap: list[int] = []

    def update(self, side: str, price: int, qty: int) -> None:
        levels, heap, key = (self.bids, self.bid_heap, -price) if side == "BUY" else (self.asks, self.ask_heap, price)
        if qty > 0:
            if price not in levels:
                heapq.heappush(heap, key)
            levels[price] = qty
        else:
            levels.pop(price, None)

    def best(self) -> tuple[int | None, int | None]:
        while self.bid_heap and -self.bid_heap[0] not in self.bids:
            heapq.heappop(self.bid_heap)
        while self.ask_heap and self.ask_heap[0] not in self.asks:
            heapq.heappop(self.ask_heap)
        bid = -self.bid_heap[0] if self.bid_heap else None
        ask = self.ask_heap[0] if self.ask_heap else None
        return bid, ask


@dataclass(slots=True)
class _State:
    """Per-symbol replay state: book, position, cash and the next sample time."""

    tick: float
    lot: float
    book: _Book = field(default_factory=_Book)
    position: float = 0.0
    cash: float = 0.0
    next_sample_s: float = 0.0
    resting: dict[int, tuple[str, int]] = field(default_factory=dict)  # the bot's open orders: id -> (side, ticks)

    def quoted_spread_bps(self, mid: float) -> float | None:
        """Best resting ask minus best resting bid of the bot, bps of ``mid`` (None unless both sides rest)."""
        bids = [p for side, p in self.resting.values() if side == "BUY"]
        asks = [p for side, p in self.resting.values() if side == "SELL"]
        if not bids or not asks:
            return None
        return (min(asks) - max(bids)) * self.tick / mid * 1e4

    def mid(self) -> tuple[float | None, float | None]:
        bid, ask = self.book.best()
        if bid is None or ask is None:
            return None, None
        mid = (bid + ask) / 2 * self.tick
        return mid, (ask - bid) * self.tick / mid * 1e4


def _record_pnl(series: SymbolSeries, state: _State, t_s: float, mid: float) -> None:
    series.pnl_t.append(t_s)
    series.pnl.append(state.cash + state.position * mid)
    series.inventory.append(state.position)


def derive_series(
    events: Iterable[dict[str, Any]],
    *,
    account: str | None = None,
    symbols: Iterable[str] | None = None,
    duration_s: float | None = None,
    max_points: int = 4000,
    scales: Mapping[str, tuple[float, float]] | None = None,
) -> SessionSeries:
    """One pass over ``events``; ``account`` defaults to the first account seen in an ``order`` record.

    ``scales``: ``(tick, lot)`` per symbol in price and base units, overriding the simulator's catalogue (a
    replayed run's symbols carry the recording's filters)."""
    wanted = set(symbols) if symbols is not None else None
    grid_s = max(1.0, (duration_s or 0.0) / max_points)
    states: dict[str, _State] = {}
    out: dict[str, SymbolSeries] = {}
    guards: list[tuple[float, str, str]] = []
    scores: list[dict[str, Any]] = []
    regimes: list[tuple[float, str]] = []
    counts: dict[str, int] = {}
    last_t = 0.0

    def state_of(symbol: str) -> _State | None:
        if wanted is not None and symbol not in wanted:
            return None
        state = states.get(symbol)
        if state is None:
            market = DEFAULT_SYMBOLS.get(symbol)
            if scales is not None and symbol in scales:
                tick, lot = scales[symbol]
            elif market is not None:
                tick, lot = float(market.spec.tick_size), float(market.spec.step_size)
            else:
                raise ValueError(f"symbol {symbol!r} is not simulated: cannot scale its prices")
            state = states[symbol] = _State(tick=tick, lot=lot)
            out[symbol] = SymbolSeries(symbol)
        return state

    for rec in events:
        kind = rec["k"]
        counts[kind] = counts.get(kind, 0) + 1
        t_s = rec["t"] / 1e6
        last_t = max(last_t, t_s)
        if kind == "book":
            state = state_of(rec["s"])
            if state is None:
                continue
            state.book.update(rec["S"], rec["p"], rec["q"])
            if t_s >= state.next_sample_s:
                mid, spread_bps = state.mid()
                if mid is not None and spread_bps is not None:
                    series = out[rec["s"]]
                    series.mid_t.append(t_s)
                    series.mid.append(mid)
                    series.market_spread_bps.append(spread_bps)
                    _record_pnl(series, state, t_s, mid)
                    quoted = state.quoted_spread_bps(mid)
                    if quoted is not None:
                        series.quoted_spread_t.append(t_s)
                        series.quoted_spread_bps.append(quoted)
                    state.next_sample_s = t_s + grid_s
        elif kind == "trade":
            is_maker = rec["ma"] == account if account is not None else False
            is_taker = rec["ta"] == account if account is not None else False
            if not (is_maker or is_taker):
                continue
            state = state_of(rec["s"])
            if state is None:
                continue
            # a self-trade books both legs; the bot's side is the taker's side when it took, else the opposite
            for maker in ([True] if is_maker else []) + ([False] if is_taker else []):
                taker_side = rec["S"]
                side = taker_side if not maker else ("SELL" if taker_side == "BUY" else "BUY")
                price = rec["p"] * state.tick
                qty = rec["q"] * state.lot
                fee_atoms = rec["mf"] if maker else rec["tf"]
                sign = 1.0 if side == "BUY" else -1.0
                state.position += sign * qty
                state.cash -= sign * price * qty
                if side == "BUY":  # the buyer pays its fee in base, the seller in quote
                    state.position -= fee_atoms / ATOMS
                    fee_quote = fee_atoms / ATOMS * price
                else:
                    state.cash -= fee_atoms / ATOMS
                    fee_quote = fee_atoms / ATOMS
                mid, _ = state.mid()
                series = out[rec["s"]]
                series.fills.append(Fill(t_s, rec["s"], side, price, qty, maker, fee_quote, mid))
                _record_pnl(series, state, t_s, mid if mid is not None else price)
        elif kind == "order":
            if account is None:
                account = rec["a"]
            if rec["a"] != account:
                continue
            state = state_of(rec["s"])
            if state is None:
                continue
            if rec.get("X") not in _OPEN:  # cancelled, filled, expired or rejected: no longer resting
                state.resting.pop(rec["id"], None)
            elif rec.get("p") is not None:
                state.resting[rec["id"]] = (rec["S"], rec["p"])
            if rec["x"] != "NEW" or rec.get("p") is None:
                continue
            xs, ys = out[rec["s"]].quotes[rec["S"]]
            if len(xs) >= max_points * 4:  # thin out: keep every other quote from now on
                del xs[::2], ys[::2]
            xs.append(t_s)
            ys.append(rec["p"] * state.tick)
        elif kind == "bot.guard":
            guards.append((t_s, str(rec.get("level", "?")), str(rec.get("reason", ""))))
        elif kind == "bot.spread":
            scores.append({"t_s": t_s, **{k: v for k, v in rec.items() if k not in ("t", "k")}})
        elif kind == "regime":
            regimes.append((t_s, str(rec["regime"])))
        elif kind == "session" and duration_s is None and "duration_s" in rec:
            grid_s = max(1.0, float(rec["duration_s"]) / max_points)
    for symbol, state in states.items():  # close every PnL curve at the last replayed mid
        mid, _ = state.mid()
        if mid is not None:
            _record_pnl(out[symbol], state, last_t, mid)
    return SessionSeries(
        account=account or "", duration_s=duration_s if duration_s is not None else last_t,
        symbols=dict(sorted(out.items())), guards=guards, spread_scores=scores, regimes=regimes,
        counts=dict(sorted(counts.items())),
    )
